//! SSE3: the moves' lane rules, then the instructions (results with
//! special operands, DAZ/FTZ, unmasked exceptions, availability,
//! alignment). Expected values are worked out from the SDM's definitions.

use super::super::super::tests::{asm, exec, exec_n, prot32};
use super::duplicated;
use crate::exception::Exception;
use crate::memory::FlatBus;
use crate::state::{cr0, cr4};
use crate::Cpu;
use iced_x86::code_asm::*;
use iced_x86::Mnemonic;

fn ps(v: [u32; 4]) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (i, x) in v.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
    b
}

fn pd(v: [u64; 2]) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&v[0].to_le_bytes());
    b[8..].copy_from_slice(&v[1].to_le_bytes());
    b
}

fn f(x: f32) -> u32 {
    x.to_bits()
}

fn d(x: f64) -> u64 {
    x.to_bits()
}

const QNAN: u32 = 0x7fc0_1234;
const SNAN: u32 = 0x7f80_0042;
/// The single-precision default NaN ("real indefinite").
const INDEFINITE: u32 = 0xffc0_0000;
const DEN: u32 = 0x0000_0003;

/// MXCSR bits: flags IE, DE, ZE, OE, UE, PE; DAZ, FTZ; the IE mask.
const IE: u32 = 1;
const DE: u32 = 2;
const UE: u32 = 0x10;
const PE: u32 = 0x20;
const DAZ: u32 = 0x40;
const FTZ: u32 = 0x8000;
const IM: u32 = 0x80;

/// A CPU in flat 32-bit protected mode with CR4.OSFXSR, XMM0 = `a`, XMM1
/// = `b`, MXCSR = `mxcsr`.
fn sse_cpu(code: &[u8], a: [u8; 16], b: [u8; 16], mxcsr: u32) -> (Cpu, FlatBus) {
    let (mut cpu, bus) = prot32(code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.fx.xmm[0] = a;
    cpu.state.fx.xmm[1] = b;
    cpu.state.fx.mxcsr = mxcsr;
    (cpu, bus)
}

#[test]
fn duplicating_moves() {
    let s = ps([0x11, 0x22, 0x33, 0x44]);
    assert_eq!(
        duplicated(Mnemonic::Movshdup, &s),
        ps([0x22, 0x22, 0x44, 0x44])
    );
    assert_eq!(
        duplicated(Mnemonic::Movsldup, &s),
        ps([0x11, 0x11, 0x33, 0x33])
    );
    assert_eq!(
        duplicated(Mnemonic::Movddup, &s),
        ps([0x11, 0x22, 0x11, 0x22])
    );
    assert_eq!(duplicated(Mnemonic::Lddqu, &s), s);
}

#[test]
fn lanes_of_addsub_and_horizontal_operations() {
    let a = ps([f(1.0), f(2.0), f(3.0), f(4.0)]);
    let b = ps([f(10.0), f(20.0), f(30.0), f(40.0)]);
    let cases = [
        (
            asm(32, |c| c.addsubps(xmm0, xmm1)),
            [-9.0, 22.0, -27.0, 44.0],
        ),
        (asm(32, |c| c.haddps(xmm0, xmm1)), [3.0, 7.0, 30.0, 70.0]),
        (
            asm(32, |c| c.hsubps(xmm0, xmm1)),
            [-1.0, -1.0, -10.0, -10.0],
        ),
    ];
    for (code, want) in cases {
        let (mut cpu, mut bus) = sse_cpu(&code, a, b, 0x1f80);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.fx.xmm[0], ps(want.map(f)));
        assert_eq!(cpu.state.fx.xmm[1], b, "source kept");
        assert_eq!(cpu.state.fx.mxcsr, 0x1f80, "exact: no flag");
    }
    let a = pd([d(1.5), d(-2.0)]);
    let b = pd([d(8.0), d(0.25)]);
    let cases = [
        (asm(32, |c| c.addsubpd(xmm0, xmm1)), [-6.5, -1.75]),
        (asm(32, |c| c.haddpd(xmm0, xmm1)), [-0.5, 8.25]),
        (asm(32, |c| c.hsubpd(xmm0, xmm1)), [3.5, 7.75]),
    ];
    for (code, want) in cases {
        let (mut cpu, mut bus) = sse_cpu(&code, a, b, 0x1f80);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.fx.xmm[0], pd(want.map(d)));
    }
}

#[test]
fn haddps_with_nan_infinity_and_denormal_operands() {
    let code = asm(32, |c| c.haddps(xmm0, xmm1));
    // Pairs: (QNaN, 1): the QNaN; (inf, -inf): invalid, the default NaN;
    // (SNaN, 1): the SNaN quieted, invalid; (denormal, 0): denormal
    // operand, the denormal itself (exact, so no underflow when masked).
    let a = ps([QNAN, f(1.0), f(f32::INFINITY), f(f32::NEG_INFINITY)]);
    let b = ps([SNAN, f(1.0), DEN, 0]);
    let (mut cpu, mut bus) = sse_cpu(&code, a, b, 0x1f80);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(
        cpu.state.fx.xmm[0],
        ps([QNAN, INDEFINITE, SNAN | 0x0040_0000, DEN])
    );
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80 | IE | DE);
    // inf + 1 is inf, exactly.
    let a = ps([f(f32::INFINITY), f(1.0), 0, 0]);
    let (mut cpu, mut bus) = sse_cpu(&code, a, a, 0x1f80);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(
        cpu.state.fx.xmm[0],
        ps([f(f32::INFINITY), 0, f(f32::INFINITY), 0])
    );
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80);
}

#[test]
fn denormals_are_zero_and_flush_to_zero() {
    let code = asm(32, |c| c.hsubps(xmm0, xmm1));
    // DAZ: the denormal operand reads as +0 (no DE): den - 0 = +0.
    let a = ps([DEN, 0, f(1.0), f(1.0)]);
    let (mut cpu, mut bus) = sse_cpu(&code, a, a, 0x1f80 | DAZ);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], ps([0, 0, 0, 0]));
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80 | DAZ);
    // Without DAZ: DE and the denormal.
    let (mut cpu, mut bus) = sse_cpu(&code, a, a, 0x1f80);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], ps([DEN, 0, DEN, 0]));
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80 | DE);
    // FTZ (underflow masked): a tiny result of normal operands is +0,
    // with UE and PE. 2^-126 - 1.5 * 2^-126 = -2^-127 becomes -0.
    let a = ps([0x0080_0000, 0x00c0_0000, f(2.0), f(1.0)]);
    let (mut cpu, mut bus) = sse_cpu(&code, a, a, 0x1f80 | FTZ);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(
        cpu.state.fx.xmm[0],
        ps([0x8000_0000, f(1.0), 0x8000_0000, f(1.0)])
    );
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80 | FTZ | UE | PE);
    // Without FTZ: the exact denormal, no flag.
    let (mut cpu, mut bus) = sse_cpu(&code, a, a, 0x1f80);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0][..4], 0x8040_0000u32.to_le_bytes());
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80);
}

#[test]
fn unmasked_exceptions_write_nothing() {
    // inf - inf in HADDPD's second pair with IE unmasked: #XM with
    // CR4.OSXMMEXCPT, #UD without; XMM0 as it was, IE set (and only the
    // pre-computation flag, though the first pair was inexact).
    let code = asm(32, |c| c.haddpd(xmm0, xmm1));
    let a = pd([d(1.0), d(1e-30)]);
    let b = pd([d(f64::INFINITY), d(f64::NEG_INFINITY)]);
    for (os, want) in [(cr4::OSXMMEXCPT, Exception::XM), (0, Exception::UD)] {
        let (mut cpu, mut bus) = sse_cpu(&code, a, b, 0x1f80 & !IM);
        cpu.state.cr4 |= os;
        assert_eq!(exec(&mut cpu, &mut bus), Err(want.into()));
        assert_eq!(cpu.state.fx.xmm[0], a, "destination unchanged");
        assert_eq!(cpu.state.fx.mxcsr, (0x1f80 & !IM) | IE);
    }
    // Masked: the default NaN, and PE from the first pair too.
    let (mut cpu, mut bus) = sse_cpu(&code, a, b, 0x1f80);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], pd([d(1.0), 0xfff8_0000_0000_0000]));
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80 | IE | PE);
    // An unmasked precision exception (ADDSUBPS: 1 - 2^-30 rounds).
    let code = asm(32, |c| c.addsubps(xmm0, xmm1));
    let a = ps([f(1.0); 4]);
    let b = ps([f(2f32.powi(-30)); 4]);
    let (mut cpu, mut bus) = sse_cpu(&code, a, b, 0x1f80 & !(PE << 7));
    cpu.state.cr4 |= cr4::OSXMMEXCPT;
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::XM.into()));
    assert_eq!(cpu.state.fx.xmm[0], a);
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, PE);
}

#[test]
fn moves_from_registers_and_memory() {
    let code = asm(32, |c| {
        c.movshdup(xmm2, xmm1)?;
        c.movsldup(xmm3, xmmword_ptr(0x3010))?;
        c.movddup(xmm4, xmm1)?;
        c.movddup(xmm5, qword_ptr(0x3003))?; // m64: no alignment rule
        c.lddqu(xmm6, xmmword_ptr(0x3001)) // unaligned
    });
    let mut src = [0u8; 16];
    for (i, x) in src.iter_mut().enumerate() {
        *x = 0xa0 + i as u8;
    }
    let (mut cpu, mut bus) = sse_cpu(&code, [0; 16], src, 0x1f80);
    for r in 2..7 {
        cpu.state.fx.xmm[r] = [0xee; 16];
    }
    let mem: Vec<u8> = (0..0x20u8).collect();
    bus.ram[0x3000..0x3020].copy_from_slice(&mem);
    exec_n(&mut cpu, &mut bus, 5);
    let x = |cpu: &Cpu, n: usize| u128::from_le_bytes(cpu.state.fx.xmm[n]);
    assert_eq!(x(&cpu, 2), 0xafaeadac_afaeadac_a7a6a5a4_a7a6a5a4);
    assert_eq!(x(&cpu, 3), 0x1b1a1918_1b1a1918_13121110_13121110);
    assert_eq!(x(&cpu, 4), 0xa7a6a5a4a3a2a1a0_a7a6a5a4a3a2a1a0);
    assert_eq!(x(&cpu, 5), 0x0a09080706050403_0a09080706050403);
    assert_eq!(x(&cpu, 6), 0x100f0e0d0c0b0a090807060504030201);
}

#[test]
fn availability_and_alignment() {
    let all = [
        asm(32, |c| c.addsubps(xmm0, xmm1)),
        asm(32, |c| c.haddpd(xmm0, xmm1)),
        asm(32, |c| c.movshdup(xmm0, xmm1)),
        asm(32, |c| c.movddup(xmm0, xmm1)),
        asm(32, |c| c.lddqu(xmm0, xmmword_ptr(0x3000))),
    ];
    for code in all {
        // #UD without CR4.OSFXSR, #UD with CR0.EM (before TS), #NM with
        // CR0.TS; XMM0 unchanged each time.
        for (c0, c4, want) in [
            (0, 0, Exception::UD),
            (cr0::EM | cr0::TS, cr4::OSFXSR, Exception::UD),
            (cr0::TS, cr4::OSFXSR, Exception::NM),
        ] {
            let (mut cpu, mut bus) = prot32(&code);
            cpu.state.cr0 |= c0;
            cpu.state.cr4 |= c4;
            cpu.state.fx.xmm[0] = [0x5a; 16];
            cpu.state.fx.xmm[1] = [0x11; 16];
            assert_eq!(exec(&mut cpu, &mut bus), Err(want.into()));
            assert_eq!(cpu.state.fx.xmm[0], [0x5a; 16]);
        }
    }
    // A misaligned m128: #GP(0) for the legacy packed forms.
    for code in [
        asm(32, |c| c.addsubpd(xmm0, xmmword_ptr(0x3008))),
        asm(32, |c| c.haddps(xmm0, xmmword_ptr(0x3004))),
        asm(32, |c| c.hsubpd(xmm0, xmmword_ptr(0x3001))),
        asm(32, |c| c.movshdup(xmm0, xmmword_ptr(0x3002))),
        asm(32, |c| c.movsldup(xmm0, xmmword_ptr(0x300c))),
    ] {
        let (mut cpu, mut bus) = sse_cpu(&code, [0; 16], [0; 16], 0x1f80);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    }
    // Not for LDDQU, MOVDDUP m64; and aligned is fine.
    for code in [
        asm(32, |c| c.lddqu(xmm0, xmmword_ptr(0x3009))),
        asm(32, |c| c.movddup(xmm0, qword_ptr(0x3001))),
        asm(32, |c| c.haddps(xmm0, xmmword_ptr(0x3010))),
        asm(32, |c| c.movshdup(xmm0, xmmword_ptr(0x3020))),
    ] {
        let (mut cpu, mut bus) = sse_cpu(&code, [0; 16], [0; 16], 0x1f80);
        exec(&mut cpu, &mut bus).unwrap();
    }
}

#[test]
fn monitor_and_mwait_stay_undefined() {
    // CPUID does not advertise MONITOR: both raise #UD.
    for code in [[0x0f, 0x01, 0xc8], [0x0f, 0x01, 0xc9]] {
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr4 |= cr4::OSFXSR;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    }
}

#[test]
fn alignment_checks_of_lddqu_and_movddup() {
    // With alignment checking (CR0.AM, RFLAGS.AC, CPL 3): #AC for LDDQU
    // not 8-byte aligned (the SDM's rule for unaligned 128-bit loads) and
    // for MOVDDUP's m64 not 8-byte aligned; none for the register form.
    for (code, want) in [
        (
            asm(32, |c| c.lddqu(xmm0, xmmword_ptr(0x3004))),
            Some(Exception::AC),
        ),
        (
            asm(32, |c| c.lddqu(xmm0, xmmword_ptr(0x3001))),
            Some(Exception::AC),
        ),
        (asm(32, |c| c.lddqu(xmm0, xmmword_ptr(0x3008))), None),
        (
            asm(32, |c| c.movddup(xmm0, qword_ptr(0x3004))),
            Some(Exception::AC),
        ),
        (asm(32, |c| c.movddup(xmm0, qword_ptr(0x3018))), None),
        (asm(32, |c| c.movddup(xmm0, xmm1)), None),
    ] {
        for checking in [false, true] {
            let (mut cpu, mut bus) = sse_cpu(&code, [0x77; 16], [0; 16], 0x1f80);
            cpu.state.cr0 |= cr0::AM;
            cpu.state.rflags |= crate::flags::AC;
            if checking {
                cpu.state.seg[crate::state::SegReg::Cs as usize].selector |= 3;
            }
            let got = exec(&mut cpu, &mut bus).err();
            let want = want.filter(|_| checking).map(crate::Fault::from);
            assert_eq!(got, want, "CPL 3: {checking}");
            if want.is_some() {
                assert_eq!(cpu.state.fx.xmm[0], [0x77; 16], "nothing written");
            }
        }
    }
}

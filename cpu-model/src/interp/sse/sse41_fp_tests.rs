//! SSE4.1 blends, dot products and rounding: selections worked out by
//! hand, rounding modes and imm8 bits, NaNs, DAZ, the SIMD exception rules
//! (masked: flags; unmasked: #XM or #UD, nothing written), alignment.

use super::super::super::tests::{asm, exec, exec_n, prot32};
use super::blended;
use crate::exception::Exception;
use crate::state::{cr0, cr4};
use iced_x86::code_asm::*;

fn ps(v: [f32; 4]) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (i, x) in v.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
    b
}

fn pd(v: [f64; 2]) -> [u8; 16] {
    let mut b = [0u8; 16];
    for (i, x) in v.iter().enumerate() {
        b[8 * i..8 * i + 8].copy_from_slice(&x.to_le_bytes());
    }
    b
}

/// A protected-mode CPU with CR4.OSFXSR, running `code`.
fn sse_cpu(code: &[u8]) -> (crate::Cpu, crate::memory::FlatBus) {
    let (mut cpu, bus) = prot32(code);
    cpu.state.cr4 |= cr4::OSFXSR;
    (cpu, bus)
}

const DEFAULT: u32 = 0x1f80;
const IE: u32 = 1;
const PE: u32 = 1 << 5;

#[test]
fn blend_selection() {
    let a = [0xaa; 16];
    let b: [u8; 16] = core::array::from_fn(|i| i as u8);
    let r = blended(&a, &b, 4, |i| i == 1 || i == 3);
    assert_eq!(&r[..8], &[0xaa, 0xaa, 0xaa, 0xaa, 4, 5, 6, 7]);
    assert_eq!(&r[8..], &[0xaa, 0xaa, 0xaa, 0xaa, 12, 13, 14, 15]);
}

#[test]
fn blends_by_imm8_and_by_xmm0() {
    let code = asm(32, |a| {
        a.blendps(xmm1, xmm2, 0xf5)?; // dwords 0, 2 (bits 7:4 ignored)
        a.blendpd(xmm3, xmmword_ptr(0x3000), 0xfe)?; // qword 1
        a.pblendw(xmm4, xmm2, 0x81)?; // words 0, 7
        a.blendvps(xmm5, xmm2)?;
        a.blendvpd(xmm6, xmm2)?;
        a.pblendvb(xmm7, xmm2)?;
        a.pblendvb(xmm0, xmm2) // XMM0 the mask and the destination
    });
    let (mut cpu, mut bus) = sse_cpu(&code);
    bus.ram[0x3000..0x3010].copy_from_slice(&[0xbb; 16]);
    let mask: [u8; 16] = [0x80, 0, 0, 0, 0, 0, 0, 0x80, 0x7f, 0, 0, 0, 0, 0, 0, 0x7f];
    let src: [u8; 16] = core::array::from_fn(|i| i as u8);
    cpu.state.fx.xmm[0] = mask;
    cpu.state.fx.xmm[2] = src;
    for x in [1, 3, 4, 5, 6, 7] {
        cpu.state.fx.xmm[x] = [0xee; 16];
    }
    exec_n(&mut cpu, &mut bus, 7);
    let s = &cpu.state.fx.xmm;
    let sel = |size: usize, pick: &[usize]| blended(&[0xee; 16], &src, size, |i| pick.contains(&i));
    assert_eq!(s[1], sel(4, &[0, 2]));
    let mut want = [0xee; 16];
    want[8..].fill(0xbb);
    assert_eq!(s[3], want);
    assert_eq!(s[4], sel(2, &[0, 7]));
    // Dword 1's top bit (byte 7) is set; byte 0's is the low dword's
    // bit 7, not its sign.
    assert_eq!(s[5], sel(4, &[1]));
    assert_eq!(s[6], sel(8, &[0]));
    assert_eq!(s[7], sel(1, &[0, 7]));
    let mut want = mask;
    want[0] = 0;
    want[7] = 7;
    assert_eq!(s[0], want);
}

#[test]
fn rounding_modes_imm8_bits_and_mxcsr_rc() {
    let code = asm(32, |a| {
        a.roundpd(xmm1, xmm0, 0)?; // nearest
        a.roundpd(xmm2, xmm0, 1)?; // down
        a.roundpd(xmm3, xmm0, 0xfa)?; // up, no PE (bits 7:4 ignored)
        a.roundpd(xmm4, xmm0, 3)?; // toward zero
        a.roundpd(xmm5, xmm0, 4) // MXCSR.RC: up
    });
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.fx.mxcsr = DEFAULT | 0x4000;
    cpu.state.fx.xmm[0] = pd([2.5, -1.5]);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, PE);
    cpu.state.fx.mxcsr &= !0x3f;
    exec_n(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, PE);
    cpu.state.fx.mxcsr &= !0x3f;
    exec_n(&mut cpu, &mut bus, 1);
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 0, "imm8[3]: no precision flag");
    exec_n(&mut cpu, &mut bus, 2);
    let s = &cpu.state.fx.xmm;
    assert_eq!(s[1], pd([2.0, -2.0]));
    assert_eq!(s[2], pd([2.0, -2.0]));
    assert_eq!(s[3], pd([3.0, -1.0]));
    assert_eq!(s[4], pd([2.0, -1.0]));
    assert_eq!(s[5], pd([3.0, -1.0]));
}

#[test]
fn round_scalar_forms_memory_and_daz() {
    let code = asm(32, |a| {
        a.roundss(xmm1, dword_ptr(0x3001), 2)?; // up; m32 unaligned
        a.roundsd(xmm2, qword_ptr(0x3009), 2) // a denormal, DAZ: +0
    });
    let (mut cpu, mut bus) = sse_cpu(&code);
    bus.ram[0x3001..0x3005].copy_from_slice(&0.25f32.to_le_bytes());
    bus.ram[0x3009..0x3011].copy_from_slice(&f64::from_bits(5).to_le_bytes());
    cpu.state.fx.mxcsr = DEFAULT | 0x40;
    cpu.state.fx.xmm[1] = [0x11; 16];
    cpu.state.fx.xmm[2] = [0x22; 16];
    exec_n(&mut cpu, &mut bus, 2);
    let mut want = [0x11; 16];
    want[..4].copy_from_slice(&1.0f32.to_le_bytes());
    assert_eq!(cpu.state.fx.xmm[1], want, "the rest kept");
    let mut want = [0x22; 16];
    want[..8].fill(0);
    assert_eq!(cpu.state.fx.xmm[2], want, "DAZ: the denormal is +0");
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, PE, "0.25 inexact; no DE");
}

#[test]
fn snan_is_invalid_masked_or_not() {
    let code = asm(32, |a| a.roundps(xmm1, xmm0, 0));
    let snan = f32::from_bits(0x7f80_0001);
    // Masked: the quiet NaN, IE.
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.fx.xmm[0] = ps([snan, 1.0, f32::from_bits(0x7fc0_0000), 0.5]);
    exec(&mut cpu, &mut bus).unwrap();
    let want = ps([
        f32::from_bits(0x7fc0_0001),
        1.0,
        f32::from_bits(0x7fc0_0000),
        0.0,
    ]);
    assert_eq!(cpu.state.fx.xmm[1], want);
    assert_eq!(cpu.state.fx.mxcsr, DEFAULT | IE | PE);
    // Unmasked: #XM with CR4.OSXMMEXCPT, #UD without; nothing written,
    // IE recorded.
    for (osxmmexcpt, want) in [(cr4::OSXMMEXCPT, Exception::XM), (0, Exception::UD)] {
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.cr4 |= osxmmexcpt;
        cpu.state.fx.mxcsr = DEFAULT & !(IE << 7);
        cpu.state.fx.xmm[0] = ps([snan, 1.0, 2.0, 3.0]);
        cpu.state.fx.xmm[1] = [0x77; 16];
        assert_eq!(exec(&mut cpu, &mut bus), Err(want.into()));
        assert_eq!(cpu.state.fx.xmm[1], [0x77; 16]);
        assert_eq!(cpu.state.fx.mxcsr & 0x3f, IE);
    }
    // An unmasked precision exception suppressed by imm8[3] raises
    // nothing.
    let code = asm(32, |a| a.roundps(xmm1, xmm0, 8));
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.cr4 |= cr4::OSXMMEXCPT;
    cpu.state.fx.mxcsr = DEFAULT & !(PE << 7);
    cpu.state.fx.xmm[0] = ps([0.5, 1.5, 2.5, 3.5]);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[1], ps([0.0, 2.0, 2.0, 4.0]));
    assert_eq!(cpu.state.fx.mxcsr, DEFAULT & !(PE << 7));
}

#[test]
fn dot_products() {
    let code = asm(32, |a| {
        a.dpps(xmm1, xmm0, 0xf1)?;
        a.dppd(xmm2, xmmword_ptr(0x3000), 0x33)
    });
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.fx.xmm[0] = ps([1.0, 2.0, 3.0, 4.0]);
    cpu.state.fx.xmm[1] = ps([5.0, 6.0, 7.0, 8.0]);
    cpu.state.fx.xmm[2] = pd([0.5, 3.0]);
    bus.ram[0x3000..0x3010].copy_from_slice(&pd([4.0, 2.0]));
    exec_n(&mut cpu, &mut bus, 2);
    assert_eq!(cpu.state.fx.xmm[1], ps([70.0, 0.0, 0.0, 0.0]));
    assert_eq!(cpu.state.fx.xmm[2], pd([8.0, 8.0]));
    assert_eq!(cpu.state.fx.mxcsr, DEFAULT);
}

#[test]
fn dot_product_overflow_masked_and_unmasked() {
    let code = asm(32, |a| a.dpps(xmm1, xmm0, 0x11));
    let big = ps([f32::MAX; 4]);
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.fx.xmm[0] = big;
    cpu.state.fx.xmm[1] = big;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[1], ps([f32::INFINITY, 0.0, 0.0, 0.0]));
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 0x28, "OE and PE");
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.cr4 |= cr4::OSXMMEXCPT;
    cpu.state.fx.mxcsr = DEFAULT & !(0x8 << 7);
    cpu.state.fx.xmm[0] = big;
    cpu.state.fx.xmm[1] = big;
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::XM.into()));
    assert_eq!(cpu.state.fx.xmm[1], big, "nothing written");
    // MAX * MAX = (2 - 2^-23)^2 * 2^254 needs more than 24 bits: inexact
    // with an unbounded exponent too (SDM Vol. 1 §11.5.3.2), as the host
    // reports it.
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 0x28, "OE and PE");
}

/// An earlier step's masked overflow stays reported when a later step
/// stops on an unmasked invalid operation (MAX * 2 and -MAX * 2, then
/// inf + -inf), as the host CPU reports it.
#[test]
fn dot_product_reports_earlier_steps_beside_a_later_invalid_operation() {
    let code = asm(32, |a| a.dppd(xmm1, xmm0, 0x33));
    let (mut cpu, mut bus) = sse_cpu(&code);
    cpu.state.cr4 |= cr4::OSXMMEXCPT;
    cpu.state.fx.mxcsr = DEFAULT & !(0x1 << 7);
    cpu.state.fx.xmm[1] = pd([f64::MAX, -f64::MAX]);
    cpu.state.fx.xmm[0] = pd([2.0, 2.0]);
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::XM.into()));
    assert_eq!(cpu.state.fx.mxcsr & 0x3f, 0x29, "IE, OE and PE");
}

#[test]
fn alignment_and_availability() {
    for code in [
        asm(32, |a| a.blendps(xmm1, xmmword_ptr(0x3004), 1)),
        asm(32, |a| a.blendvpd(xmm1, xmmword_ptr(0x3008))),
        asm(32, |a| a.dpps(xmm1, xmmword_ptr(0x3001), 0xff)),
        asm(32, |a| a.roundpd(xmm1, xmmword_ptr(0x3008), 0)),
    ] {
        let (mut cpu, mut bus) = sse_cpu(&code);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        let (mut cpu, mut bus) = prot32(&code);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        let (mut cpu, mut bus) = sse_cpu(&code);
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::NM.into()));
    }
}

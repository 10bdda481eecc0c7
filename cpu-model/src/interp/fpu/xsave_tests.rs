//! XSAVE/XRSTOR/XSAVEOPT, XGETBV/XSETBV and CR4.OSXSAVE: one test per rule
//! of SDM Vol. 1 ch. 13 and the Vol. 2 pages.

use super::super::super::tests::{asm, exec, long64, prot32};
use crate::exception::{Exception, Fault};
use crate::fxstate::{FxFormat, X87Reg};
use crate::memory::FlatBus;
use crate::state::{cr0, cr4, reg};
use crate::xstate::{XCR0_SSE, XCR0_X87};
use crate::{Cpu, CpuModel};
use iced_x86::code_asm::*;

const AREA: usize = 0x3000;

/// 64-bit mode with CR4.OSXSAVE, XCR0 = x87 | SSE, EDX:EAX = `rfbm`, the
/// area filled with 0xee.
fn setup(code: &[u8], rfbm: u64) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = long64(code);
    cpu.state.cr4 |= cr4::OSXSAVE | cr4::OSFXSR;
    cpu.state.xcr0 = XCR0_X87 | XCR0_SSE;
    cpu.state.gpr[reg::RAX] = rfbm & 0xffff_ffff;
    cpu.state.gpr[reg::RDX] = rfbm >> 32;
    bus.ram[AREA..AREA + 1024].fill(0xee);
    (cpu, bus)
}

/// A state with every component in use.
fn busy(cpu: &mut Cpu) {
    let fx = &mut cpu.state.fx;
    fx.fcw = 0x027f;
    fx.fsw = 0x3800;
    fx.ftw = 0x80;
    fx.fip = 0x1122_3344_5566_7788;
    fx.mxcsr = 0x1f00;
    fx.st[0] = X87Reg {
        signif: 0xc000_0000_0000_0000,
        sign_exp: 0x3fff,
        reserved: [0; 6],
    };
    for (i, x) in fx.xmm.iter_mut().enumerate() {
        *x = [i as u8 + 1; 16];
    }
}

fn header(bus: &FlatBus, at: usize) -> u64 {
    u64::from_le_bytes(bus.ram[AREA + at..AREA + at + 8].try_into().unwrap())
}

fn gp() -> Fault {
    Exception::GP(0).into()
}

#[test]
fn xsave64_writes_the_fxsave_image_and_xstate_bv() {
    let code = asm(64, |a| a.xsave64(ptr(AREA as u64)));
    let (mut cpu, mut bus) = setup(&code, u64::MAX);
    busy(&mut cpu);
    bus.ram[AREA + 512..AREA + 520].copy_from_slice(&(1u64 << 9).to_le_bytes());
    exec(&mut cpu, &mut bus).unwrap();
    let mut fx = [0u8; 416];
    cpu.state.fx.save(FxFormat::Wide, 0, 0, true, &mut fx);
    assert_eq!(&bus.ram[AREA..AREA + 416], &fx[..]);
    assert_eq!(
        bus.ram[AREA + 416..AREA + 512],
        [0xee; 96],
        "reserved bytes"
    );
    // Bits outside RFBM keep their value; the rest of the header is left.
    assert_eq!(header(&bus, 512), (1 << 9) | 3);
    assert_eq!(header(&bus, 520), 0xeeee_eeee_eeee_eeee);
}

#[test]
fn xsave_saves_only_the_requested_components() {
    // RFBM = x87: MXCSR and the XMM registers are not written and
    // XSTATE_BV[1] keeps its value.
    let code = asm(64, |a| a.xsave(ptr(AREA as u64)));
    let (mut cpu, mut bus) = setup(&code, 1);
    busy(&mut cpu);
    bus.ram[AREA + 512..AREA + 520].copy_from_slice(&2u64.to_le_bytes());
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(&bus.ram[AREA..AREA + 2], &[0x7f, 0x02]);
    assert_eq!(bus.ram[AREA + 24..AREA + 32], [0xee; 8]);
    assert_eq!(bus.ram[AREA + 160..AREA + 176], [0xee; 16]);
    assert_eq!(header(&bus, 512), 3);
    // RFBM = SSE with x87 in its initial state: MXCSR, MXCSR_MASK and
    // XMM0-15, XSTATE_BV[0] untouched even though XINUSE[0] = 0.
    let (mut cpu, mut bus) = setup(&code, 2);
    busy(&mut cpu);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(bus.ram[AREA..AREA + 24], [0xee; 24]);
    assert_eq!(
        &bus.ram[AREA + 24..AREA + 32],
        &[0, 0x1f, 0, 0, 0xff, 0xff, 0, 0]
    );
    assert_eq!(bus.ram[AREA + 400..AREA + 416], [16; 16]);
    assert_eq!(header(&bus, 512), 0xeeee_eeee_eeee_eeee & !1 | 2);
    // XCR0 limits RFBM.
    let (mut cpu, mut bus) = setup(&code, 3);
    cpu.state.xcr0 = XCR0_X87;
    busy(&mut cpu);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(bus.ram[AREA + 24..AREA + 32], [0xee; 8]);
}

#[test]
fn xsave_legacy_format_and_xmm0_7_outside_64_bit_mode() {
    let code = asm(32, |a| a.xsave(ptr(AREA as u32)));
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSXSAVE;
    cpu.state.xcr0 = 3;
    cpu.state.gpr[reg::RAX] = 3;
    bus.ram[AREA..AREA + 576].fill(0xee);
    busy(&mut cpu);
    cpu.state.fcs = 0x1b;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(
        &bus.ram[AREA + 8..AREA + 16],
        &[0x88, 0x77, 0x66, 0x55, 0x1b, 0, 0, 0]
    );
    assert_eq!(bus.ram[AREA + 272..AREA + 288], [8; 16]);
    assert_eq!(
        bus.ram[AREA + 288..AREA + 304],
        [0xee; 16],
        "XMM8 not stored"
    );
}

#[test]
fn xsaveopt_skips_components_in_their_initial_configuration() {
    let code = asm(64, |a| a.xsaveopt(ptr(AREA as u64)));
    let (mut cpu, mut bus) = setup(&code, 3);
    cpu.state.fx.fcw = 0x037f;
    cpu.state.fx.ftw = 0;
    cpu.state.fx.xmm[3] = [1; 16];
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(bus.ram[AREA..AREA + 24], [0xee; 24], "x87 not written");
    assert_eq!(
        &bus.ram[AREA + 24..AREA + 28],
        &[0x80, 0x1f, 0, 0],
        "MXCSR is"
    );
    assert_eq!(bus.ram[AREA + 208..AREA + 224], [1; 16]);
    assert_eq!(header(&bus, 512), 0xeeee_eeee_eeee_eeee & !3 | 2);
}

#[test]
fn xrstor_loads_or_initializes_each_component() {
    let code = asm(64, |a| {
        a.xsave64(ptr(AREA as u64))?;
        a.xrstor64(ptr(AREA as u64))
    });
    let (mut cpu, mut bus) = setup(&code, 3);
    busy(&mut cpu);
    // XSAVE writes only XSTATE_BV of the header: software zeroes the rest.
    bus.ram[AREA + 512..AREA + 576].fill(0);
    let saved = cpu.state.fx;
    exec(&mut cpu, &mut bus).unwrap();
    cpu.state.fx = Default::default();
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx, saved);

    // XSTATE_BV = 0: both components initialized, but MXCSR still loaded
    // from memory (RFBM[1] = 1).
    let code = asm(64, |a| a.xrstor(ptr(AREA as u64)));
    let (mut cpu, mut bus) = setup(&code, 3);
    busy(&mut cpu);
    bus.ram[AREA + 512..AREA + 576].fill(0);
    bus.ram[AREA + 24..AREA + 28].copy_from_slice(&0x7f80u32.to_le_bytes());
    exec(&mut cpu, &mut bus).unwrap();
    let fx = &cpu.state.fx;
    assert_eq!((fx.fcw, fx.fsw, fx.ftw, fx.fip), (0x037f, 0, 0, 0));
    assert_eq!(fx.st, [X87Reg::default(); 8]);
    assert_eq!(fx.xmm, [[0; 16]; 16]);
    assert_eq!(fx.mxcsr, 0x7f80);
    assert_eq!(super::xinuse(&cpu), 0);

    // RFBM = x87 only: SSE and MXCSR untouched.
    let (mut cpu, mut bus) = setup(&code, 1);
    busy(&mut cpu);
    bus.ram[AREA + 512..AREA + 576].fill(0);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.mxcsr, 0x1f00);
    assert_eq!(cpu.state.fx.xmm[15], [16; 16]);
    assert_eq!(cpu.state.fx.fcw, 0x037f);
}

#[test]
fn xrstor_header_and_mxcsr_checks() {
    let code = asm(64, |a| a.xrstor(ptr(AREA as u64)));
    let cases: [(usize, u64, Option<u32>); 6] = [
        (512, 4, None),          // XSTATE_BV bit 2: not in XCR0
        (512, 1 << 63, None),    // nor bit 63
        (520, 1 << 63, None),    // compacted form: XSAVEC not supported
        (520, 1, None),          // XCOMP_BV must be 0
        (528, 1 << 40, None),    // header bytes 16..23 must be 0
        (512, 0, Some(1 << 16)), // MXCSR reserved bit, RFBM[1] = 1
    ];
    for (at, v, mxcsr) in cases {
        let (mut cpu, mut bus) = setup(&code, 3);
        busy(&mut cpu);
        let before = cpu.state.clone();
        bus.ram[AREA..AREA + 576].fill(0);
        bus.ram[AREA + at..AREA + at + 8].copy_from_slice(&v.to_le_bytes());
        if let Some(m) = mxcsr {
            bus.ram[AREA + 24..AREA + 28].copy_from_slice(&m.to_le_bytes());
        }
        assert_eq!(exec(&mut cpu, &mut bus), Err(gp()), "{at} {v:#x}");
        assert_eq!(cpu.state, before, "nothing changed");
    }
    // XSTATE_BV[1] with XCR0 = x87 only: #GP, whatever RFBM.
    let (mut cpu, mut bus) = setup(&code, 1);
    cpu.state.xcr0 = 1;
    bus.ram[AREA..AREA + 576].fill(0);
    bus.ram[AREA + 512] = 2;
    assert_eq!(exec(&mut cpu, &mut bus), Err(gp()));
    // The MXCSR of the image is ignored when RFBM[1] = 0; header bytes
    // 24..63 are not checked in the standard form.
    let (mut cpu, mut bus) = setup(&code, 1);
    bus.ram[AREA..AREA + 576].fill(0);
    bus.ram[AREA + 24..AREA + 28].copy_from_slice(&u32::MAX.to_le_bytes());
    bus.ram[AREA + 540] = 0x55;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.mxcsr, 0x1f80);
}

#[test]
fn availability_and_alignment() {
    for (mnemonic, code) in [
        ("xsave", asm(64, |a| a.xsave(ptr(AREA as u64 + 0x20)))),
        ("xrstor", asm(64, |a| a.xrstor(ptr(AREA as u64 + 0x20)))),
        ("xsaveopt", asm(64, |a| a.xsaveopt(ptr(AREA as u64 + 0x20)))),
    ] {
        // #UD without CR4.OSXSAVE (before the #NM and #GP checks).
        let (mut cpu, mut bus) = setup(&code, 3);
        cpu.state.cr4 &= !cr4::OSXSAVE;
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Exception::UD.into()),
            "{mnemonic}"
        );
        // #NM with CR0.TS, before the alignment check.
        let (mut cpu, mut bus) = setup(&code, 3);
        cpu.state.cr0 |= cr0::TS;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Exception::NM.into()),
            "{mnemonic}"
        );
        // CR0.EM does not matter; 32-byte alignment is not enough.
        let (mut cpu, mut bus) = setup(&code, 3);
        cpu.state.cr0 |= cr0::EM;
        assert_eq!(exec(&mut cpu, &mut bus), Err(gp()), "{mnemonic}");
    }
    // XSAVEC, XSAVES and XRSTORS are not advertised: #UD, counted.
    let code = asm(64, |a| a.xsavec(ptr(AREA as u64)));
    let (mut cpu, mut bus) = setup(&code, 3);
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
}

#[test]
fn xgetbv_and_xsetbv() {
    let code = asm(64, |a| {
        a.xsetbv()?;
        a.xgetbv()
    });
    // 3 is valid; XGETBV reads it back.
    let (mut cpu, mut bus) = setup(&code, 3);
    cpu.state.xcr0 = 1;
    cpu.state.gpr[reg::RCX] = 0xffff_ffff_0000_0000; // only ECX counts
    exec(&mut cpu, &mut bus).unwrap();
    cpu.state.gpr[reg::RAX] = 0;
    cpu.state.gpr[reg::RDX] = 0x55;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!((cpu.state.gpr[reg::RAX], cpu.state.gpr[reg::RDX]), (3, 0));
    // Invalid XCR0 values and XCRs: #GP(0), XCR0 unchanged.
    for (value, xcr) in [(0u64, 0u64), (2, 0), (7, 0), (1 << 32 | 1, 0), (1, 1)] {
        let (mut cpu, mut bus) = setup(&code, value);
        cpu.state.xcr0 = 1;
        cpu.state.gpr[reg::RCX] = xcr;
        assert_eq!(exec(&mut cpu, &mut bus), Err(gp()), "{value:#x} {xcr}");
        assert_eq!(cpu.state.xcr0, 1);
    }
    // CPL 3: #GP(0) for XSETBV; XGETBV is allowed.
    let (mut cpu, mut bus) = setup(&code, 3);
    cpu.state.seg[1].selector |= 3;
    assert_eq!(exec(&mut cpu, &mut bus), Err(gp()));
    cpu.state.rip += 3;
    exec(&mut cpu, &mut bus).unwrap();
    // Without CR4.OSXSAVE: #UD for both.
    let (mut cpu, mut bus) = setup(&code, 3);
    cpu.state.cr4 &= !cr4::OSXSAVE;
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    cpu.state.rip += 3;
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    // XGETBV ECX = 1: CPUID.(0DH,1):EAX[2] is clear, so #GP(0).
    let (mut cpu, mut bus) = setup(&code[3..], 3);
    cpu.state.gpr[reg::RCX] = 1;
    assert_eq!(exec(&mut cpu, &mut bus), Err(gp()));
}

#[test]
fn cr4_osxsave_only_with_xsave_and_mirrored_in_cpuid() {
    let code = asm(64, |a| {
        a.mov(cr4, rax)?;
        a.cpuid()
    });
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.gpr[reg::RAX] = cpu.state.cr4 | cr4::OSXSAVE;
    exec(&mut cpu, &mut bus).unwrap();
    assert_ne!(cpu.state.cr4 & cr4::OSXSAVE, 0);
    cpu.state.gpr[reg::RAX] = 1;
    exec(&mut cpu, &mut bus).unwrap();
    assert_ne!(cpu.state.gpr[reg::RCX] & (1 << 27), 0);

    let (mut q, mut bus) = long64(&code);
    let state = q.state.clone();
    q = Cpu::with_model(CpuModel::by_name("qemu64").unwrap());
    q.state = state;
    q.state.gpr[reg::RAX] = q.state.cr4 | cr4::OSXSAVE;
    assert_eq!(exec(&mut q, &mut bus), Err(gp()));
}

#[test]
fn qemu64_has_no_xsave_and_reads_tzcnt_as_bsf() {
    let code = asm(64, |a| {
        a.xgetbv()?;
        a.tzcnt(eax, ebx)?;
        a.popcnt(eax, ebx)
    });
    let (c, mut bus) = long64(&code);
    let mut cpu = Cpu::with_model(CpuModel::by_name("qemu64").unwrap());
    cpu.state = c.state;
    cpu.state.cr4 |= cr4::OSXSAVE; // even if it were set
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    assert_eq!(cpu.stats.not_in_model.get("xgetbv"), Some(&1));
    // TZCNT of 0 is BSF of 0 there: ZF = 1, destination unchanged, CF kept.
    cpu.state.rip += 3;
    cpu.state.gpr[reg::RAX] = 0x1234;
    cpu.state.gpr[reg::RBX] = 0;
    cpu.state.rflags |= crate::flags::CF;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.gpr[reg::RAX], 0x1234);
    assert_ne!(cpu.state.rflags & crate::flags::ZF, 0);
    assert!(!cpu.stats.not_in_model.contains_key("tzcnt"));
    assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    assert_eq!(cpu.stats.not_in_model.get("popcnt"), Some(&1));
}

//! x87 control instructions and FXSAVE/FXRSTOR.

use super::super::tests::{asm, prot32};
use crate::exception::{Exception, Fault};
use crate::fxstate::{fsw, FCW_INIT, MXCSR_RESET};
use crate::state::{cr0, cr4};
use iced_x86::code_asm::*;

fn run_to_hlt(cpu: &mut crate::Cpu, bus: &mut crate::memory::FlatBus) -> Result<(), Fault> {
    for _ in 0..100 {
        if bus.ram[cpu.state.rip as usize] == 0xf4 {
            return Ok(());
        }
        cpu.execute(bus)?;
    }
    panic!("no HLT");
}

#[test]
fn fninit_fstcw_fldcw_fstsw() {
    let code = asm(32, |a| {
        a.fninit()?;
        a.fnstcw(word_ptr(0x3000))?;
        a.fldcw(word_ptr(0x3002))?;
        a.fnstcw(word_ptr(0x3004))?;
        a.mov(eax, 0xffff_ffffu32)?;
        a.fnstsw(ax)?;
        a.fnstsw(word_ptr(0x3006))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    bus.ram[0x3002..0x3004].copy_from_slice(&0x0c7fu16.to_le_bytes());
    cpu.state.fx.fsw = 0x3800 | fsw::C3;
    cpu.state.fx.fip = 0x1234;
    cpu.state.fcs = 8;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(&bus.ram[0x3000..0x3002], &FCW_INIT.to_le_bytes());
    assert_eq!(&bus.ram[0x3004..0x3006], &0x0c7fu16.to_le_bytes());
    assert_eq!(cpu.state.gpr[0], 0xffff_0000, "FNSTSW AX writes AX only");
    assert_eq!(&bus.ram[0x3006..0x3008], &[0, 0]);
    let fx = &cpu.state.fx;
    assert_eq!((fx.fsw, fx.ftw, fx.fip, cpu.state.fcs), (0, 0, 0, 0));
}

#[test]
fn unavailable_unit_raises_nm() {
    for bits in [cr0::EM, cr0::TS] {
        let code = asm(32, |a| {
            a.fninit()?;
            a.hlt()
        });
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.cr0 |= bits;
        assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::NM.into());
    }
    // FWAIT follows MP and TS only.
    let (mut cpu, mut bus) = prot32(&[0x9b, 0xf4]);
    cpu.state.cr0 |= cr0::TS;
    cpu.execute(&mut bus).unwrap();
    let (mut cpu, mut bus) = prot32(&[0x9b, 0xf4]);
    cpu.state.cr0 |= cr0::TS | cr0::MP;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::NM.into());
}

#[test]
fn pending_exception_is_reported_by_waiting_instructions_only() {
    // FLDCW unmasking a set IE flag makes it pending; FNSTCW ignores it,
    // FWAIT reports it as #MF with CR0.NE.
    let code = asm(32, |a| {
        a.fldcw(word_ptr(0x3000))?;
        a.fnstcw(word_ptr(0x3002))?;
        a.wait()?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr0 |= cr0::NE;
    cpu.state.fx.fsw = 1; // IE
    bus.ram[0x3000..0x3002].copy_from_slice(&0x037eu16.to_le_bytes());
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.state.fx.fsw, 1 | fsw::ES | fsw::B);
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::MF.into());
    // FNCLEX clears it.
    let (mut cpu, mut bus) = prot32(&asm(32, |a| {
        a.fnclex()?;
        a.wait()?;
        a.hlt()
    }));
    cpu.state.cr0 |= cr0::NE;
    cpu.state.fx.fsw = 1 | fsw::ES | fsw::B | fsw::C2;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.fsw, fsw::C2);
}

#[test]
fn fxsave_fxrstor_round_trip_and_checks() {
    let code = asm(32, |a| {
        a.fxsave(ptr(0x3000))?;
        a.fninit()?;
        a.fxrstor(ptr(0x3000))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.fx.fcw = 0x027f;
    cpu.state.fx.fsw = 0x2000;
    cpu.state.fx.ftw = 0x80;
    cpu.state.fx.st[0].signif = 0xc000_0000_0000_0000;
    cpu.state.fx.st[0].sign_exp = 0x3fff;
    cpu.state.fx.xmm[7] = [7; 16];
    cpu.state.fcs = 0x1b;
    bus.ram[0x3000 + 300] = 0xaa; // beyond XMM7: untouched
    let before = cpu.state.fx;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx, before);
    assert_eq!(cpu.state.fcs, 0x1b);
    assert_eq!(&bus.ram[0x3000..0x3004], &[0x7f, 0x02, 0x00, 0x20]);
    assert_eq!(
        &bus.ram[0x3018..0x3020],
        &[0x80, 0x1f, 0, 0, 0xff, 0xff, 0, 0]
    );
    assert_eq!(bus.ram[0x3000 + 300], 0xaa);

    // Misaligned: #GP(0); a reserved MXCSR bit: #GP(0); TS: #NM.
    let (mut cpu, mut bus) = prot32(&asm(32, |a| a.fxsave(ptr(0x3008))));
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::GP(0).into());
    let (mut cpu, mut bus) = prot32(&asm(32, |a| a.fxrstor(ptr(0x3000))));
    cpu.state.cr4 |= cr4::OSFXSR;
    bus.ram[0x3018..0x301c].copy_from_slice(&0x0001_1f80u32.to_le_bytes());
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::GP(0).into());
    assert_eq!(cpu.state.fx.mxcsr, MXCSR_RESET);
    let (mut cpu, mut bus) = prot32(&asm(32, |a| a.fxsave(ptr(0x3000))));
    cpu.state.cr0 |= cr0::TS;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::NM.into());
}

#[test]
fn fxsave_without_osfxsr_leaves_sse_bytes() {
    let (mut cpu, mut bus) = prot32(&asm(32, |a| a.fxsave(ptr(0x3000))));
    bus.ram[0x3000..0x3200].fill(0xcc);
    cpu.execute(&mut bus).unwrap();
    assert_eq!(&bus.ram[0x3018..0x3020], &[0xcc; 8]);
    assert_eq!(&bus.ram[0x30a0..0x30b0], &[0xcc; 16]);
    assert_eq!(&bus.ram[0x3000..0x3002], &0x0040u16.to_le_bytes());
}

#[test]
fn cr4_osfxsr_is_accepted() {
    let (mut cpu, mut bus) = prot32(&asm(32, |a| {
        a.mov(eax, cr4::OSFXSR as u32)?;
        a.mov(cr4, eax)
    }));
    cpu.execute(&mut bus).unwrap();
    cpu.execute(&mut bus).unwrap();
    assert_eq!(cpu.state.cr4, cr4::OSFXSR);
}

fn f64_at(bus: &crate::memory::FlatBus, at: usize) -> f64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bus.ram[at..at + 8]);
    f64::from_le_bytes(b)
}

#[test]
fn loads_arithmetic_and_stores() {
    let code = asm(32, |a| {
        a.fninit()?;
        a.fld1()?; // 1
        a.fld(dword_ptr(0x3000))?; // 2.5, 1
        a.fadd_2(st0, st1)?; // 3.5, 1
        a.fild(word_ptr(0x3004))?; // -4, 3.5, 1
        a.fmulp(st1, st0)?; // -14, 1
        a.fisubr(dword_ptr(0x3008))?; // 100 - -14 = 114, 1
        a.fdiv(qword_ptr(0x3010))?; // 114 / 4 = 28.5, 1
        a.fst(qword_ptr(0x3100))?;
        a.fistp(dword_ptr(0x3108))?; // 28 (round to even), stack: 1
        a.fldpi()?;
        a.fcomi(st0, st1)?; // pi > 1: CF = ZF = 0
        a.fstp(st0)?;
        a.fchs()?; // -1
        a.fxam()?;
        a.fnstsw(ax)?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    bus.ram[0x3000..0x3004].copy_from_slice(&2.5f32.to_le_bytes());
    bus.ram[0x3004..0x3006].copy_from_slice(&(-4i16).to_le_bytes());
    bus.ram[0x3008..0x300c].copy_from_slice(&100i32.to_le_bytes());
    bus.ram[0x3010..0x3018].copy_from_slice(&4.0f64.to_le_bytes());
    cpu.state.rflags |= crate::flags::CF | crate::flags::ZF;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    assert_eq!(f64_at(&bus, 0x3100), 28.5);
    assert_eq!(&bus.ram[0x3108..0x310c], &28i32.to_le_bytes());
    assert_eq!(cpu.state.rflags & (crate::flags::CF | crate::flags::ZF), 0);
    // FXAM of -1: normal (C3 C2 C0 = 010), C1 = sign.
    let sw = cpu.state.gpr[0] as u16;
    assert_eq!(
        sw & (fsw::C0 | fsw::C1 | fsw::C2 | fsw::C3),
        fsw::C1 | fsw::C2
    );
    assert_eq!(cpu.state.fx.top(), 7, "one value left");
    assert_eq!(cpu.state.fx.fop, 0x1e5, "FXAM is D9 E5");
    assert_eq!(sw & fsw::EXCEPTIONS, 0x20, "PE from FISTP 28.5");
}

#[test]
fn stack_overflow_and_underflow() {
    // Nine pushes: the ninth overflows (IE, SF, C1 = 1) and pushes the
    // indefinite over the full stack; then an FADD on an emptied stack
    // underflows (C1 = 0).
    let code = asm(32, |a| {
        a.fninit()?;
        for _ in 0..9 {
            a.fld1()?;
        }
        a.fnstsw(word_ptr(0x3000))?;
        a.fninit()?;
        a.fadd_2(st0, st1)?;
        a.fnstsw(word_ptr(0x3002))?;
        a.fstp(qword_ptr(0x3008))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let s1 = u16::from_le_bytes([bus.ram[0x3000], bus.ram[0x3001]]);
    assert_eq!(
        s1 & (fsw::EXCEPTIONS | fsw::SF | fsw::C1),
        1 | fsw::SF | fsw::C1
    );
    let s2 = u16::from_le_bytes([bus.ram[0x3002], bus.ram[0x3003]]);
    assert_eq!(s2 & (fsw::EXCEPTIONS | fsw::SF | fsw::C1), 1 | fsw::SF);
    assert_eq!(
        &bus.ram[0x3008..0x3010],
        &0xfff8_0000_0000_0000u64.to_le_bytes()
    );
}

#[test]
fn unmasked_invalid_operation_writes_nothing_and_waits_for_mf() {
    let code = asm(32, |a| {
        a.fninit()?;
        a.fldcw(word_ptr(0x3000))?; // IM = 0
        a.fld(dword_ptr(0x3004))?; // -1
        a.fsqrt()?; // invalid: ST(0) stays -1, ES set
        a.fnstsw(word_ptr(0x3010))?;
        a.fst(dword_ptr(0x3008))?; // waits: #MF
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr0 |= cr0::NE;
    bus.ram[0x3000..0x3002].copy_from_slice(&0x037eu16.to_le_bytes());
    bus.ram[0x3004..0x3008].copy_from_slice(&(-1.0f32).to_le_bytes());
    let r = run_to_hlt(&mut cpu, &mut bus);
    assert_eq!(r.unwrap_err(), Exception::MF.into());
    let s = u16::from_le_bytes([bus.ram[0x3010], bus.ram[0x3011]]);
    assert_eq!(s & (fsw::EXCEPTIONS | fsw::ES), 1 | fsw::ES);
    assert_eq!(cpu.state.fx.st[0].sign_exp, 0xbfff, "-1.0 kept");
    assert_eq!(&bus.ram[0x3008..0x300c], &[0; 4], "nothing stored");
}

/// Where the SDM is silent or terse, xlat does what Intel and AMD
/// processors and Bochs agree on: an unmasked exception of a compare still
/// sets the condition codes (and EFLAGS for FCOMI) but does not pop; an
/// unmasked denormal operand of an m32 load still pushes; FCMOVcc leaves
/// C1 alone unless the stack underflows.
#[test]
fn compares_loads_and_fcmov_under_unmasked_exceptions() {
    let code = asm(32, |a| {
        a.fninit()?;
        a.fldcw(word_ptr(0x3000))?; // IM = DM = 0
        a.fld(dword_ptr(0x3004))?; // a denormal: #D unmasked, still pushed
        a.fnstsw(word_ptr(0x3010))?;
        a.fnclex()?;
        a.fld(dword_ptr(0x3008))?; // QNaN: no exception on a load
        a.fcomp_2(st0, st1)?; // QNaN: #IA unmasked; unordered, no pop
        a.fnstsw(word_ptr(0x3012))?;
        a.fnclex()?;
        a.fucomip(st0, st1)?; // QNaN: no #IA (FUCOMI); ZF PF CF, popped
        a.fnstsw(word_ptr(0x3014))?;
        a.fld(dword_ptr(0x3008))?;
        a.fcomip(st0, st1)?; // #IA unmasked: ZF PF CF set, no pop
        a.fnstsw(word_ptr(0x3016))?;
        a.fnclex()?;
        a.fld1()?; // C1 := 0
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    bus.ram[0x3000..0x3002].copy_from_slice(&0x037cu16.to_le_bytes());
    bus.ram[0x3004..0x3008].copy_from_slice(&1u32.to_le_bytes());
    bus.ram[0x3008..0x300c].copy_from_slice(&0x7fc0_0000u32.to_le_bytes());
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let word = |at: usize| u16::from_le_bytes([bus.ram[at], bus.ram[at + 1]]);
    let top = |s: u16| (s >> 11) & 7;
    let cc = fsw::C0 | fsw::C1 | fsw::C2 | fsw::C3;
    let s = word(0x3010);
    assert_eq!(s & (fsw::EXCEPTIONS | fsw::ES), 2 | fsw::ES, "DE reported");
    assert_eq!(top(s), 7, "the denormal was pushed");
    let s = word(0x3012);
    assert_eq!(s & (fsw::EXCEPTIONS | fsw::ES), 1 | fsw::ES);
    assert_eq!(s & cc, fsw::C0 | fsw::C2 | fsw::C3, "unordered set");
    assert_eq!(top(s), 6, "not popped");
    assert_eq!(top(word(0x3014)), 7, "FUCOMIP popped");
    let s = word(0x3016);
    assert_eq!(s & (fsw::EXCEPTIONS | fsw::ES), 1 | fsw::ES);
    assert_eq!(top(s), 6, "FCOMIP not popped");
    let zpc = crate::flags::ZF | crate::flags::PF | crate::flags::CF;
    assert_eq!(cpu.state.rflags & zpc, zpc);

    // FCMOV keeps C1 (planted in FSW) and clears it only on underflow.
    let code = asm(32, |a| {
        a.fcmovb(st0, st1)?;
        a.fnstsw(word_ptr(0x3010))?;
        a.ffree(st1)?;
        a.fcmovb(st0, st1)?; // underflow (masked): C1 := 0
        a.fnstsw(word_ptr(0x3012))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.fx.fsw = fsw::C1 | (6 << fsw::TOP_SHIFT);
    cpu.state.fx.ftw = 0xc0;
    cpu.state.rflags |= crate::flags::CF;
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let word = |at: usize| u16::from_le_bytes([bus.ram[at], bus.ram[at + 1]]);
    assert_ne!(word(0x3010) & fsw::C1, 0, "kept");
    assert_eq!(word(0x3012) & (fsw::C1 | fsw::SF | 1), fsw::SF | 1);
}

#[test]
fn two_result_instructions() {
    let code = asm(32, |a| {
        a.fninit()?;
        a.fld(dword_ptr(0x3000))?; // 12
        a.fxtract()?; // 1.5, 3
        a.fstp(qword_ptr(0x3100))?;
        a.fstp(qword_ptr(0x3108))?;
        a.fldz()?;
        a.fsincos()?; // cos 0 = 1, sin 0 = 0
        a.fstp(qword_ptr(0x3110))?;
        a.fstp(qword_ptr(0x3118))?;
        a.fldz()?;
        a.fptan()?; // 1.0, tan 0 = 0
        a.fstp(qword_ptr(0x3120))?;
        a.fstp(qword_ptr(0x3128))?;
        a.hlt()
    });
    let (mut cpu, mut bus) = prot32(&code);
    bus.ram[0x3000..0x3004].copy_from_slice(&12.0f32.to_le_bytes());
    run_to_hlt(&mut cpu, &mut bus).unwrap();
    let got: Vec<f64> = (0..6).map(|i| f64_at(&bus, 0x3100 + 8 * i)).collect();
    assert_eq!(got, [1.5, 3.0, 1.0, 0.0, 1.0, 0.0]);
    assert_eq!(cpu.state.fx.ftw, 0, "stack empty again");
}

/// A bus that records the FERR# output and drives IGNNE#.
struct FerrBus {
    ram: crate::memory::FlatBus,
    ferr: Vec<bool>,
    ignne: bool,
}

impl crate::memory::Bus for FerrBus {
    fn read_phys(&mut self, a: crate::PhysAddr, buf: &mut [u8]) {
        self.ram.read_phys(a, buf)
    }
    fn write_phys(&mut self, a: crate::PhysAddr, data: &[u8]) {
        self.ram.write_phys(a, data)
    }
    fn io_in(&mut self, port: u16, size: u32) -> u32 {
        self.ram.io_in(port, size)
    }
    fn io_out(&mut self, port: u16, size: u32, value: u32) {
        self.ram.io_out(port, size, value)
    }
    fn set_ferr(&mut self, asserted: bool) {
        self.ferr.push(asserted);
    }
    fn ignne(&self) -> bool {
        self.ignne
    }
}

/// CR0.NE = 0 (SDM Vol. 1 §8.7, Appendix D.2): a waiting instruction that
/// meets a pending unmasked exception does not run; the processor asserts
/// FERR# and waits (halted, RIP on the instruction) unless IGNNE# is
/// asserted, in which case the error is ignored. FERR# falls with FSW.ES.
/// CR0.NE = 1 gives #MF and no FERR#.
#[test]
fn pending_error_with_ne_clear_freezes_on_ferr_or_passes_with_ignne() {
    // FWAIT; FNCLEX; FWAIT; HLT
    let code = [0x9b, 0xdb, 0xe2, 0x9b, 0xf4];
    let (mut cpu, ram) = prot32(&code);
    let mut bus = FerrBus {
        ram,
        ferr: Vec::new(),
        ignne: false,
    };
    cpu.state.cr0 &= !cr0::NE;
    cpu.state.fx.fsw = fsw::ES | fsw::B | 0x4; // ZE pending
    let start = cpu.state.rip;
    let out = cpu.step(&mut bus).unwrap();
    assert_eq!(out, crate::interp::StepOutcome::Halted);
    assert!(cpu.state.events.halted && cpu.state.events.ferr);
    assert_eq!((cpu.state.rip, cpu.state.icount), (start, 0));
    assert_eq!(bus.ferr, [true]);
    // Still frozen: FERR# is not told again.
    assert_eq!(
        cpu.step(&mut bus).unwrap(),
        crate::interp::StepOutcome::Halted
    );
    assert_eq!(bus.ferr, [true]);
    // IGNNE# (the IRQ 13 handler wrote port 0xF0): woken, the FWAIT runs.
    cpu.state.events.halted = false;
    bus.ignne = true;
    cpu.step(&mut bus).unwrap();
    assert_eq!(cpu.state.rip, start + 1);
    assert_eq!(bus.ferr, [true]);
    // FNCLEX clears ES: FERR# falls.
    cpu.step(&mut bus).unwrap();
    assert_eq!(bus.ferr, [true, false]);
    assert!(!cpu.state.events.ferr);
    // With CR0.NE = 1 the same error is #MF, FERR# untouched.
    let (mut cpu, ram) = prot32(&code);
    let mut bus = FerrBus {
        ram,
        ferr: Vec::new(),
        ignne: false,
    };
    cpu.state.cr0 |= cr0::NE;
    cpu.state.fx.fsw = fsw::ES | fsw::B | 0x4;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Exception::MF.into());
    assert!(bus.ferr.is_empty());
    // And with NE = 0 through `execute`: the fault an engine sees.
    cpu.state.cr0 &= !cr0::NE;
    assert_eq!(cpu.execute(&mut bus).unwrap_err(), Fault::FpuErrorWait);
}

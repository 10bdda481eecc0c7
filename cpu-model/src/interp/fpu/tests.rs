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

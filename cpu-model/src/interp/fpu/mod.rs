//! The x87 unit and the FXSAVE state (SDM Vol. 1 ch. 8 and §10.5).
//! State: `crate::fxstate` (the FXSAVE image in `CpuState::fx`).
//!
//! - `mod.rs`: the control instructions (FNINIT, FLDCW, FNSTCW, FNSTSW,
//!   FNCLEX and their waiting forms) and FXSAVE/FXRSTOR;
//! - `stack.rs`: the register stack, tags, flags, the responses to stack
//!   faults and unmasked exceptions, the last-instruction pointers;
//! - `arith.rs`: arithmetic, comparisons, FXAM and the functions;
//! - `ldst.rs`: loads, stores, constants and register moves;
//! - `env.rs`: FSTENV/FLDENV/FSAVE/FRSTOR;
//! - `xsave.rs`: XSAVE/XRSTOR/XSAVEOPT, XGETBV/XSETBV (XCR0).
//!
//! The values themselves are computed on the host's x87 (`hostfp`).

mod arith;
mod env;
mod ldst;
mod stack;
mod xsave;

use super::Table;
use crate::exception::{Exception, Fault};
use crate::fxstate::{fsw, FxFormat, FCW_INIT, MXCSR_MASK};
use crate::memory::Bus;
use crate::state::{cr0, cr4, CpuMode};
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    arith::register(t);
    env::register(t);
    ldst::register(t);
    xsave::register(t);
    t.set(Mnemonic::Fninit, fninit);
    t.set(Mnemonic::Finit, fninit);
    t.set(Mnemonic::Fldcw, fldcw);
    t.set(Mnemonic::Fnstcw, fnstcw);
    t.set(Mnemonic::Fstcw, fnstcw);
    t.set(Mnemonic::Fnstsw, fnstsw);
    t.set(Mnemonic::Fstsw, fnstsw);
    t.set(Mnemonic::Fnclex, fnclex);
    t.set(Mnemonic::Fclex, fnclex);
    t.set(Mnemonic::Fxsave, fxsave);
    t.set(Mnemonic::Fxsave64, fxsave);
    t.set(Mnemonic::Fxrstor, fxrstor);
    t.set(Mnemonic::Fxrstor64, fxrstor);
}

/// The device-not-available check of every x87 instruction: #NM when
/// CR0.EM or CR0.TS is set (SDM Vol. 3 Table 2-2; WAIT/FWAIT alone
/// follows MP instead, see `control::wait`).
fn check_available(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.state.cr0 & (cr0::EM | cr0::TS) != 0 {
        return Err(Exception::NM);
    }
    Ok(())
}

/// What a waiting x87 instruction (FWAIT, and the F* forms of the FN*
/// control instructions) does first with a pending unmasked exception
/// (FSW.ES), SDM Vol. 1 §8.7 and Appendix D: with CR0.NE = 1 it raises
/// #MF; with CR0.NE = 0 (the PC-compatible "MS-DOS" mode) it is ignored
/// while IGNNE# is asserted, and otherwise the instruction does not run:
/// the processor asserts FERR#, which the chipset turns into IRQ 13, and
/// waits for that interrupt ([`Fault::FpuErrorWait`]).
pub(super) fn check_pending(cpu: &Cpu, bus: &dyn Bus) -> Result<(), Fault> {
    if cpu.state.fx.fsw & fsw::ES == 0 {
        return Ok(());
    }
    if cpu.state.cr0 & cr0::NE != 0 {
        return Err(Exception::MF.into());
    }
    if bus.ignne() {
        return Ok(());
    }
    Err(Fault::FpuErrorWait)
}

/// What every non-control x87 instruction checks first: #NM, then a
/// pending unmasked exception (they are waiting instructions).
fn prologue(cpu: &Cpu, bus: &dyn Bus) -> Result<(), Fault> {
    check_available(cpu)?;
    check_pending(cpu, bus)
}

/// The waiting forms (FINIT, FSTCW, FSTSW, FCLEX) are the FN* forms after
/// an FWAIT.
fn waits(ins: &Instruction) -> bool {
    matches!(
        ins.mnemonic(),
        Mnemonic::Finit | Mnemonic::Fstcw | Mnemonic::Fstsw | Mnemonic::Fclex
    )
}

fn control_prologue(cpu: &Cpu, bus: &dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    if waits(ins) {
        check_pending(cpu, bus)?;
    }
    Ok(())
}

/// FNINIT/FINIT — SDM Vol. 2 "FINIT/FNINIT": FCW := 037FH, FSW := 0, every
/// register tagged empty, FIP/FDP/FOP and their selectors := 0; the data
/// registers keep their values.
fn fninit(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    control_prologue(cpu, bus, ins)?;
    let fx = &mut cpu.state.fx;
    // TOP := 0 keeps every physical register's contents: with the stack
    // kept in ST order, ST(i) becomes what was ST(i - TOP).
    let top = usize::from(fx.top());
    fx.st.rotate_right(top);
    fx.fcw = FCW_INIT;
    fx.fsw = 0;
    fx.ftw = 0;
    fx.fop = 0;
    fx.fip = 0;
    fx.fdp = 0;
    cpu.state.fcs = 0;
    cpu.state.fds = 0;
    Ok(())
}

/// FLDCW m16 — SDM Vol. 2 "FLDCW": FCW := m16. An exception left unmasked
/// by the new value whose flag is set becomes pending (FSW.ES and B), to
/// be reported by the next waiting instruction.
fn fldcw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    // Not one of the no-wait instructions (SDM Vol. 1 §8.6): a pending
    // unmasked exception is reported first.
    prologue(cpu, bus)?;
    let v = cpu.read_op(bus, ins, 0)? as u16;
    let fx = &mut cpu.state.fx;
    fx.fcw = crate::fxstate::fcw_loaded(v);
    update_summary(&mut fx.fsw, fx.fcw);
    Ok(())
}

/// FSW.ES and FSW.B follow the exception flags that FCW leaves unmasked.
fn update_summary(fsw: &mut u16, fcw: u16) {
    let unmasked = *fsw & fsw::EXCEPTIONS & !fcw;
    if unmasked != 0 {
        *fsw |= fsw::ES | fsw::B;
    } else {
        *fsw &= !(fsw::ES | fsw::B);
    }
}

/// FNSTCW/FSTCW m16 — SDM Vol. 2 "FSTCW/FNSTCW".
fn fnstcw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    control_prologue(cpu, bus, ins)?;
    let v = u64::from(cpu.state.fx.fcw);
    cpu.write_op(bus, ins, 0, v)?;
    Ok(())
}

/// FNSTSW/FSTSW m16 or AX — SDM Vol. 2 "FSTSW/FNSTSW".
fn fnstsw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    control_prologue(cpu, bus, ins)?;
    let v = u64::from(cpu.state.fx.fsw);
    if ins.op0_kind() == OpKind::Register && ins.op0_register() == Register::AX {
        cpu.set_reg(Register::AX, v);
    } else {
        cpu.write_op(bus, ins, 0, v)?;
    }
    Ok(())
}

/// FNCLEX/FCLEX — SDM Vol. 2 "FCLEX/FNCLEX": clears the exception flags,
/// SF, ES and B; C0-C3 are undefined (kept).
fn fnclex(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    control_prologue(cpu, bus, ins)?;
    cpu.state.fx.fsw &= !(fsw::EXCEPTIONS | fsw::SF | fsw::ES | fsw::B);
    Ok(())
}

/// The FXSAVE area: `seg:offset` of the operand, checked for 16-byte
/// alignment of its linear address (#GP(0) whatever the segment, SDM
/// Vol. 2 "FXSAVE"), #NM when CR0.TS or CR0.EM, and the format and
/// length the mode and REX.W select (XMM8-15 only in 64-bit mode).
fn fx_area(cpu: &Cpu, ins: &Instruction) -> Result<(u64, FxFormat, usize), Exception> {
    if cpu.state.cr0 & (cr0::EM | cr0::TS) != 0 {
        return Err(Exception::NM);
    }
    let offset = cpu.effective_address(ins);
    if cpu.mem_linear_unchecked(ins) & 0xf != 0 {
        return Err(Exception::GP(0));
    }
    let long = cpu.state.mode() == CpuMode::Long64;
    let format = if matches!(
        ins.code(),
        Code::Fxsave64_m512byte | Code::Fxrstor64_m512byte
    ) {
        FxFormat::Wide
    } else {
        FxFormat::Legacy
    };
    Ok((offset, format, if long { 416 } else { 288 }))
}

/// FXSAVE/FXSAVE64 m512 — SDM Vol. 2 "FXSAVE": the x87 state, and with
/// CR4.OSFXSR MXCSR and the XMM registers, into the 512-byte area; the
/// bytes after the XMM registers are left alone. Nothing is written
/// unless all of it can be.
fn fxsave(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (offset, format, len) = fx_area(cpu, ins)?;
    let seg = Cpu::mem_segment(ins);
    // The whole area must be within the segment (limit and type).
    cpu.probe_write_mem(bus, seg, offset, 512)?;
    let sse = cpu.state.cr4 & cr4::OSFXSR != 0;
    let mut img = [0u8; 416];
    let st = &cpu.state;
    st.fx.save(format, st.fcs, st.fds, sse, &mut img[..len]);
    if sse {
        cpu.write_mem_block(bus, seg, offset, &img[..len])?;
    } else {
        // Without CR4.OSFXSR, MXCSR, MXCSR_MASK (bytes 24-31) and the XMM
        // registers are not stored: their memory keeps its bytes.
        cpu.write_mem_block(bus, seg, offset, &img[..24])?;
        cpu.write_mem_block(bus, seg, offset.wrapping_add(32), &img[32..160])?;
    }
    Ok(())
}

/// FXRSTOR/FXRSTOR64 m512 — SDM Vol. 2 "FXRSTOR": the inverse of FXSAVE;
/// #GP(0) when CR4.OSFXSR is set and the image's MXCSR has a bit set that
/// MXCSR_MASK does not allow.
fn fxrstor(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (offset, format, len) = fx_area(cpu, ins)?;
    let seg = Cpu::mem_segment(ins);
    let mut img = [0u8; 512];
    cpu.read_mem_block(bus, seg, offset, &mut img)?;
    let sse = cpu.state.cr4 & cr4::OSFXSR != 0;
    let mxcsr = u32::from_le_bytes([img[24], img[25], img[26], img[27]]);
    if sse && mxcsr & !MXCSR_MASK != 0 {
        return Err(Exception::GP(0).into());
    }
    let (fcs, fds) = cpu.state.fx.restore(format, sse, &img[..len]);
    if format == FxFormat::Legacy {
        cpu.state.fcs = fcs;
        cpu.state.fds = fds;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

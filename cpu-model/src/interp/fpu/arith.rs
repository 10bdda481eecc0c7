//! x87 arithmetic, comparisons and the one-operand functions (SDM Vol. 2
//! under each mnemonic; Vol. 1 §8.3, §8.5). The values are computed on
//! the host's x87 (`hostfp`); operands, the stack, tags, condition codes
//! and the responses to the guest's unmasked exceptions are here.

use super::stack::{to_f80, Outcome, INDEFINITE};
use super::{prologue, Table};
use crate::exception::Fault;
use crate::flags;
use crate::fxstate::fsw;
use crate::memory::Bus;
use crate::Cpu;
use hostfp::{sw, Arith, BinOp, Operand, PopOp, PushOp, UnOp, F80};
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [
        Fadd, Faddp, Fiadd, Fsub, Fsubp, Fisub, Fsubr, Fsubrp, Fisubr, Fmul, Fmulp, Fimul, Fdiv,
        Fdivp, Fidiv, Fdivr, Fdivrp, Fidivr,
    ] {
        t.set(m, arith);
    }
    for m in [
        Fcom, Fcomp, Fcompp, Fucom, Fucomp, Fucompp, Ficom, Ficomp, Ftst,
    ] {
        t.set(m, fcom);
    }
    for m in [Fcomi, Fcomip, Fucomi, Fucomip] {
        t.set(m, fcomi);
    }
    t.set(Fxam, fxam);
    for m in [Fchs, Fabs, Fsqrt, Frndint, F2xm1, Fsin, Fcos] {
        t.set(m, unary);
    }
    for m in [Fscale, Fprem, Fprem1] {
        t.set(m, st0_st1);
    }
    for m in [Fyl2x, Fyl2xp1, Fpatan] {
        t.set(m, st1_pop);
    }
    for m in [Fptan, Fsincos, Fxtract] {
        t.set(m, two_results);
    }
}

/// ST(i) of a register operand.
pub(super) fn st_index(r: Register) -> usize {
    (r as usize).wrapping_sub(Register::ST0 as usize) & 7
}

fn has_memory(ins: &Instruction) -> bool {
    (0..ins.op_count()).any(|i| ins.op_kind(i) == OpKind::Memory)
}

/// The memory operand of an arithmetic or compare instruction, read in
/// its format.
pub(super) fn memory_operand(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
) -> Result<Operand, Fault> {
    let v = cpu.read_op(bus, ins, 0)?;
    Ok(match ins.memory_size() {
        MemorySize::Float32 => Operand::F32(v as u32),
        MemorySize::Float64 => Operand::F64(v),
        MemorySize::Int16 => Operand::I16(v as u16 as i16),
        _ => Operand::I32(v as u32 as i32),
    })
}

/// FADD/FADDP/FIADD, FSUB/FSUBP/FISUB, FSUBR/FSUBRP/FISUBR, FMUL/FMULP/
/// FIMUL, FDIV/FDIVP/FIDIV, FDIVR/FDIVRP/FIDIVR — SDM Vol. 2 under each.
/// ST(0) op m32fp/m64fp/m16int/m32int, ST(0) op ST(i) into ST(0), or
/// ST(i) op ST(0) into ST(i) (then pop for the P forms).
fn arith(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    let m = ins.mnemonic();
    let op = match m {
        Fadd | Faddp | Fiadd => Arith::Add,
        Fsub | Fsubp | Fisub => Arith::Sub,
        Fsubr | Fsubrp | Fisubr => Arith::SubR,
        Fmul | Fmulp | Fimul => Arith::Mul,
        Fdiv | Fdivp | Fidiv => Arith::Div,
        _ => Arith::DivR,
    };
    let pop = matches!(m, Faddp | Fsubp | Fsubrp | Fmulp | Fdivp | Fdivrp);
    // The destination, and the source: memory (read now, so a fault
    // changes nothing) or a register.
    let (dst, mem, src) = if has_memory(ins) {
        (0, Some(memory_operand(cpu, bus, ins)?), 0)
    } else {
        let src = st_index(ins.op1_register());
        (st_index(ins.op0_register()), None, src)
    };
    cpu.x87_pointers(bus, ins);
    if cpu.st_empty(dst) || (mem.is_none() && cpu.st_empty(src)) {
        if cpu.stack_fault(false) {
            cpu.set_st(dst, INDEFINITE);
            if pop {
                cpu.pop_st();
            }
        }
        return Ok(());
    }
    let b = mem.unwrap_or_else(|| Operand::Reg(cpu.st(src)));
    let (r, status) = hostfp::arith(op, cpu.st(dst), b, cpu.state.fx.fcw);
    if cpu.arith_flags(status) == Outcome::Write {
        cpu.set_st(dst, r);
        if pop {
            cpu.pop_st();
        }
    }
    Ok(())
}

/// C3, C2, C0 of a comparison (and C1 cleared).
fn set_condition(cpu: &mut Cpu, c: u16) {
    let f = &mut cpu.state.fx.fsw;
    *f = (*f & !(fsw::C0 | fsw::C1 | fsw::C2 | fsw::C3)) | (c & (fsw::C0 | fsw::C2 | fsw::C3));
}

/// The comparison's operand and how many pops follow.
fn compare_operand(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
) -> Result<(Option<Operand>, Option<usize>), Fault> {
    Ok(if ins.mnemonic() == Mnemonic::Ftst {
        (Some(Operand::Reg(F80::ZERO)), None)
    } else if has_memory(ins) {
        (Some(memory_operand(cpu, bus, ins)?), None)
    } else if ins.op_count() >= 2 {
        (None, Some(st_index(ins.op1_register())))
    } else {
        // FCOMPP, FUCOMPP: ST(1).
        (None, Some(1))
    })
}

/// FCOM/FCOMP/FCOMPP/FUCOM/FUCOMP/FUCOMPP/FICOM/FICOMP/FTST — SDM Vol. 2
/// "FCOM/FCOMP/FCOMPP", "FUCOM/…", "FICOM/FICOMP", "FTST": C3 C2 C0 :=
/// 000 (ST(0) greater), 001 (less), 100 (equal), 111 (unordered); C1 := 0.
/// The U forms raise IE only for an SNaN. With an unmasked invalid
/// operation (stack underflow included: unordered) or denormal the
/// condition codes are still set (the compare
/// has no destination to protect) but nothing is popped: what Intel and
/// AMD processors do and Bochs models (fpu_compare.cc sets the codes
/// before it checks for an unmasked exception).
fn fcom(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    let m = ins.mnemonic();
    let pops = match m {
        Fcomp | Fucomp | Ficomp => 1,
        Fcompp | Fucompp => 2,
        _ => 0,
    };
    let ordered = !matches!(m, Fucom | Fucomp | Fucompp);
    let (mem, src) = compare_operand(cpu, bus, ins)?;
    cpu.x87_pointers(bus, ins);
    let unordered = fsw::C0 | fsw::C2 | fsw::C3;
    let mut pops = pops;
    let status = if cpu.st_empty(0) || src.is_some_and(|s| cpu.st_empty(s)) {
        if !cpu.stack_fault(false) {
            pops = 0;
        }
        unordered
    } else {
        let b = mem.unwrap_or_else(|| Operand::Reg(cpu.st(src.unwrap_or(1))));
        let status = hostfp::compare_with(cpu.st(0), b, ordered);
        if cpu.arith_flags(status & fsw::EXCEPTIONS) == Outcome::Suppress {
            pops = 0;
        }
        status
    };
    set_condition(cpu, status);
    for _ in 0..pops {
        cpu.pop_st();
    }
    Ok(())
}

/// FCOMI/FCOMIP/FUCOMI/FUCOMIP — SDM Vol. 2 "FCOMI/FCOMIP/FUCOMI/FUCOMIP":
/// ZF, PF, CF as C3, C2, C0 of FCOM; OF, SF, AF := 0; C1 := 0. As with
/// FCOM, an unmasked invalid operation or denormal still sets ZF, PF and
/// CF and only suppresses the pop. (AMD processors leave C1 alone; the
/// SDM and Bochs clear it, and so does xlat.)
fn fcomi(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    let m = ins.mnemonic();
    let ordered = matches!(m, Fcomi | Fcomip);
    let pop = matches!(m, Fcomip | Fucomip);
    let src = st_index(ins.op1_register());
    cpu.x87_pointers(bus, ins);
    // OF, SF and AF are cleared whatever happens (SDM Vol. 2 "FCOMI/…":
    // "cleared regardless").
    cpu.state.rflags &= !(flags::OF | flags::SF | flags::AF);
    let unordered = fsw::C0 | fsw::C2 | fsw::C3;
    let mut pop = pop;
    let c = if cpu.st_empty(0) || cpu.st_empty(src) {
        if !cpu.stack_fault(false) {
            pop = false;
        }
        unordered
    } else {
        let status = hostfp::compare(cpu.st(0), cpu.st(src), ordered);
        if cpu.arith_flags(status & fsw::EXCEPTIONS) == Outcome::Suppress {
            pop = false;
        }
        status
    };
    cpu.set_c1(false);
    let mut f =
        cpu.state.rflags & !(flags::ZF | flags::PF | flags::CF | flags::OF | flags::SF | flags::AF);
    if c & fsw::C3 != 0 {
        f |= flags::ZF;
    }
    if c & fsw::C2 != 0 {
        f |= flags::PF;
    }
    if c & fsw::C0 != 0 {
        f |= flags::CF;
    }
    cpu.state.rflags = f;
    if pop {
        cpu.pop_st();
    }
    Ok(())
}

/// FXAM — SDM Vol. 2 "FXAM": the class of ST(0) in C3 C2 C0 (unsupported
/// 000, NaN 001, normal 010, infinity 011, zero 100, empty 101, denormal
/// 110) and its sign in C1. No exception, not even for an empty ST(0).
fn fxam(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let v = to_f80(cpu.state.fx.st[0]);
    let (c3, c2, c0) = if cpu.st_empty(0) {
        (1, 0, 1)
    } else {
        classify(v)
    };
    let c = (if c3 != 0 { fsw::C3 } else { 0 })
        | (if c2 != 0 { fsw::C2 } else { 0 })
        | (if c0 != 0 { fsw::C0 } else { 0 });
    set_condition(cpu, c);
    cpu.set_c1(v.negative());
    Ok(())
}

/// FXAM's class bits (C3, C2, C0) of a non-empty register.
fn classify(v: F80) -> (u8, u8, u8) {
    let exp = v.exponent();
    let integer = v.signif >> 63 != 0;
    let fraction = v.signif << 1;
    match (exp, integer) {
        (0, false) if v.signif == 0 => (1, 0, 0),     // zero
        (0, _) => (1, 1, 0),                          // denormal, pseudo-denormal
        (0x7fff, true) if fraction == 0 => (0, 1, 1), // infinity
        (0x7fff, true) => (0, 0, 1),                  // NaN
        (_, false) => (0, 0, 0),                      // unnormal, pseudo-NaN/inf
        _ => (0, 1, 0),                               // normal
    }
}

/// FCHS, FABS, FSQRT, FRNDINT, F2XM1, FSIN, FCOS — on ST(0). FSIN and
/// FCOS set C2 and leave ST(0) alone when |ST(0)| >= 2^63.
fn unary(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let m = ins.mnemonic();
    if matches!(m, Fsin | Fcos) {
        // C2 says "out of range" only when that is what happened.
        cpu.state.fx.fsw &= !fsw::C2;
    }
    if cpu.st_empty(0) {
        if cpu.stack_fault(false) {
            cpu.set_st(0, INDEFINITE);
        }
        return Ok(());
    }
    let v = cpu.st(0);
    let op = match m {
        Fchs | Fabs => {
            let sign_exp = if m == Fchs {
                v.sign_exp ^ 0x8000
            } else {
                v.sign_exp & 0x7fff
            };
            cpu.set_st(0, F80 { sign_exp, ..v });
            cpu.set_c1(false);
            return Ok(());
        }
        Fsqrt => UnOp::Sqrt,
        Frndint => UnOp::Rndint,
        F2xm1 => UnOp::F2xm1,
        Fsin => UnOp::Sin,
        _ => UnOp::Cos,
    };
    let (r, status) = hostfp::unary(op, v, cpu.state.fx.fcw);
    if matches!(op, UnOp::Sin | UnOp::Cos) {
        cpu.state.fx.fsw &= !fsw::C2;
        if status & sw::C2 != 0 {
            // Out of range: nothing computed, C1 cleared (as hardware and
            // Bochs do).
            cpu.state.fx.fsw |= fsw::C2;
            cpu.set_c1(false);
            return Ok(());
        }
    }
    if cpu.arith_flags(status) == Outcome::Write {
        cpu.set_st(0, r);
    }
    Ok(())
}

/// FSCALE, FPREM, FPREM1 — ST(0) := f(ST(0), ST(1)). FPREM/FPREM1 report
/// the low quotient bits in C0, C3, C1 and an incomplete reduction in C2.
fn st0_st1(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let m = ins.mnemonic();
    let prem = m != Mnemonic::Fscale;
    if prem {
        // Without a partial remainder (a fault, an invalid operand) C2 is
        // clear: the reduction is not incomplete. C0 and C3 are left.
        cpu.state.fx.fsw &= !fsw::C2;
    }
    if cpu.st_empty(0) || cpu.st_empty(1) {
        if cpu.stack_fault(false) {
            cpu.set_st(0, INDEFINITE);
        }
        return Ok(());
    }
    let op = match m {
        Mnemonic::Fscale => BinOp::Scale,
        Mnemonic::Fprem => BinOp::Prem,
        _ => BinOp::Prem1,
    };
    let (r, status) = hostfp::binary(op, cpu.st(0), cpu.st(1), cpu.state.fx.fcw);
    let outcome = cpu.arith_flags(status);
    // The quotient bits exist only when a reduction took place: not for
    // a NaN or an infinite dividend (C1 and C2 cleared, C0 and C3 left).
    // A finite dividend over an infinite divisor is a reduction with the
    // quotient 0 (the dividend is the remainder), as hardware and Bochs
    // (fprem.cc) report it.
    let divisor = cpu.st(1);
    let divisor_nan = divisor.exponent() == 0x7fff && divisor.signif << 1 != 0;
    let reduced = cpu.st(0).exponent() != 0x7fff && !divisor_nan;
    // An unmasked exception (a denormal operand) stops the reduction
    // before any quotient bits exist (hardware, and Bochs's fprem.cc).
    if op != BinOp::Scale && outcome == Outcome::Write && status & sw::IE == 0 && reduced {
        let q = fsw::C0 | fsw::C1 | fsw::C2 | fsw::C3;
        cpu.state.fx.fsw = (cpu.state.fx.fsw & !q) | (status & q);
    }
    if outcome == Outcome::Write {
        cpu.set_st(0, r);
    }
    Ok(())
}

/// FYL2X, FYL2XP1, FPATAN — ST(1) := f(ST(0), ST(1)), then pop.
fn st1_pop(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    if cpu.st_empty(0) || cpu.st_empty(1) {
        if cpu.stack_fault(false) {
            cpu.set_st(1, INDEFINITE);
            cpu.pop_st();
        }
        return Ok(());
    }
    let op = match ins.mnemonic() {
        Mnemonic::Fyl2x => PopOp::Yl2x,
        Mnemonic::Fyl2xp1 => PopOp::Yl2xp1,
        _ => PopOp::Patan,
    };
    let (r, status) = hostfp::binary_pop(op, cpu.st(0), cpu.st(1), cpu.state.fx.fcw);
    if cpu.arith_flags(status) == Outcome::Write {
        cpu.set_st(1, r);
        cpu.pop_st();
    }
    Ok(())
}

/// FPTAN (ST(0) := tan, push 1.0), FSINCOS (ST(0) := sin, push cos),
/// FXTRACT (ST(0) := exponent, push significand) — SDM Vol. 2 under each.
/// FPTAN and FSINCOS set C2 and change nothing when |ST(0)| >= 2^63. A
/// full stack (ST(7) in use) or an empty ST(0) is a stack fault whose
/// masked response leaves the indefinite in both places.
fn two_results(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let op = match ins.mnemonic() {
        Mnemonic::Fptan => PushOp::Ptan,
        Mnemonic::Fsincos => PushOp::Sincos,
        _ => PushOp::Xtract,
    };
    if op != PushOp::Xtract {
        cpu.state.fx.fsw &= !fsw::C2;
    }
    let empty = cpu.st_empty(0);
    if empty || !cpu.st_empty(7) {
        if cpu.stack_fault(!empty) {
            cpu.set_st(0, INDEFINITE);
            cpu.push_st(INDEFINITE);
        }
        return Ok(());
    }
    let (r, status) = hostfp::push_op(op, cpu.st(0), cpu.state.fx.fcw);
    if op != PushOp::Xtract {
        cpu.state.fx.fsw &= !fsw::C2;
    }
    let Some((top, below)) = r else {
        cpu.state.fx.fsw |= fsw::C2;
        cpu.set_c1(false);
        return Ok(());
    };
    if cpu.arith_flags(status) == Outcome::Write {
        cpu.set_st(0, below);
        cpu.push_st(top);
    }
    Ok(())
}

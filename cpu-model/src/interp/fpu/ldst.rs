//! x87 loads, stores and register moves (SDM Vol. 2 under each
//! mnemonic): FLD, FST/FSTP, FILD, FIST/FISTP/FISTTP, FBLD/FBSTP, the
//! constants, FXCH, FFREE, FINCSTP/FDECSTP, FNOP, FCMOVcc.

use super::arith::st_index;
use super::stack::{Outcome, INDEFINITE};
use super::{prologue, Table};
use crate::exception::Fault;
use crate::flags;
use crate::fxstate::fsw;
use crate::memory::Bus;
use crate::Cpu;
use hostfp::{sw, Constant, F80};
use iced_x86::{Instruction, MemorySize, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    t.set(Fld, fld);
    t.set(Fild, fild);
    t.set(Fbld, fbld);
    // FISTTP is SSE3's, which CPUID does not advertise yet; it works all
    // the same (as on QEMU's default CPU model, whose logs the conformance
    // ROMs record), until CPU models decide per model (issue #9 item 5).
    for m in [Fst, Fstp, Fist, Fistp, Fisttp, Fbstp] {
        t.set(m, fst);
    }
    for m in [Fld1, Fldl2t, Fldl2e, Fldpi, Fldlg2, Fldln2, Fldz] {
        t.set(m, fld_constant);
    }
    t.set(Fxch, fxch);
    t.set(Ffree, ffree);
    t.set(Fincstp, fincdecstp);
    t.set(Fdecstp, fincdecstp);
    t.set(Fnop, fnop);
    for m in [
        Fcmovb, Fcmove, Fcmovbe, Fcmovu, Fcmovnb, Fcmovne, Fcmovnbe, Fcmovnu,
    ] {
        t.set(m, fcmov);
    }
}

fn is_memory(ins: &Instruction) -> bool {
    ins.op_count() > 0 && ins.op0_kind() == OpKind::Memory
}

/// The bytes of the memory operand (up to 10).
fn read_bytes(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    n: usize,
) -> Result<[u8; 10], Fault> {
    let mut b = [0u8; 10];
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    cpu.read_mem_block(bus, seg, off, &mut b[..n])?;
    Ok(b)
}

fn write_bytes(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, b: &[u8]) -> Result<(), Fault> {
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    cpu.write_mem_block(bus, seg, off, b)?;
    Ok(())
}

fn f80_bytes(v: F80) -> [u8; 10] {
    let mut b = [0u8; 10];
    b[..8].copy_from_slice(&v.signif.to_le_bytes());
    b[8..].copy_from_slice(&v.sign_exp.to_le_bytes());
    b
}

fn f80_of(b: [u8; 10]) -> F80 {
    let mut s = [0u8; 8];
    s.copy_from_slice(&b[..8]);
    F80 {
        signif: u64::from_le_bytes(s),
        sign_exp: u16::from_le_bytes([b[8], b[9]]),
    }
}

/// Push `v` (the flags of producing it already applied): onto a full
/// stack, the stack-overflow response (IE, SF, C1 = 1; masked: the
/// indefinite is pushed).
fn push_checked(cpu: &mut Cpu, v: F80) {
    if !cpu.st_empty(7) {
        if cpu.stack_fault(true) {
            cpu.push_st(INDEFINITE);
        }
        return;
    }
    cpu.set_c1(false);
    cpu.push_st(v);
}

/// FLD m32fp/m64fp/m80fp/ST(i) — SDM Vol. 2 "FLD".
fn fld(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    let fcw = cpu.state.fx.fcw;
    let loaded = if is_memory(ins) {
        match ins.memory_size() {
            MemorySize::Float32 => Some(hostfp::load_f32(cpu.read_op(bus, ins, 0)? as u32, fcw)),
            MemorySize::Float64 => Some(hostfp::load_f64(cpu.read_op(bus, ins, 0)?, fcw)),
            _ => Some((f80_of(read_bytes(cpu, bus, ins, 10)?), 0)),
        }
    } else {
        None
    };
    cpu.x87_pointers(bus, ins);
    let (v, status) = match loaded {
        Some(x) => x,
        None => {
            let i = st_index(ins.op0_register());
            if cpu.st_empty(i) {
                // The underflow is what is reported (C1 = 0), even onto
                // a full stack; the masked response pushes the indefinite.
                if cpu.stack_fault(false) {
                    cpu.push_st(INDEFINITE);
                }
                return Ok(());
            }
            (cpu.st(i), 0)
        }
    };
    if !cpu.st_empty(7) {
        push_checked(cpu, v);
        return Ok(());
    }
    // Only an unmasked invalid operation (an SNaN) stops the push; an
    // unmasked denormal operand of an m32/m64 load is reported through #MF
    // with the value loaded, as Intel and AMD processors do and Bochs
    // models (fpu_load_store.cc, FLD_SINGLE_REAL).
    if cpu.arith_flags(status) == Outcome::Write || status & sw::IE == 0 {
        cpu.push_st(v);
    }
    Ok(())
}

/// FILD m16int/m32int/m64int — exact.
fn fild(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    let raw = cpu.read_op(bus, ins, 0)?;
    let v = match ins.memory_size() {
        MemorySize::Int16 => i64::from(raw as u16 as i16),
        MemorySize::Int32 => i64::from(raw as u32 as i32),
        _ => raw as i64,
    };
    cpu.x87_pointers(bus, ins);
    push_checked(cpu, hostfp::load_int(v));
    Ok(())
}

/// FBLD m80bcd.
fn fbld(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    let b = read_bytes(cpu, bus, ins, 10)?;
    cpu.x87_pointers(bus, ins);
    push_checked(cpu, hostfp::load_bcd(b));
    Ok(())
}

/// The value a masked invalid operation stores in a memory format: the
/// QNaN indefinite, or the integer indefinite (most negative value).
fn indefinite_bytes(size: MemorySize) -> ([u8; 10], usize) {
    let mut b = [0u8; 10];
    let n = match size {
        MemorySize::Float32 => {
            b[..4].copy_from_slice(&0xffc0_0000u32.to_le_bytes());
            4
        }
        MemorySize::Float64 => {
            b[..8].copy_from_slice(&0xfff8_0000_0000_0000u64.to_le_bytes());
            8
        }
        MemorySize::Int16 => {
            b[..2].copy_from_slice(&0x8000u16.to_le_bytes());
            2
        }
        MemorySize::Int32 => {
            b[..4].copy_from_slice(&0x8000_0000u32.to_le_bytes());
            4
        }
        MemorySize::Int64 => {
            b[..8].copy_from_slice(&0x8000_0000_0000_0000u64.to_le_bytes());
            8
        }
        MemorySize::Bcd => {
            // The packed-BCD indefinite: FFFF C000 0000 0000 0000.
            b[7] = 0xc0;
            b[8] = 0xff;
            b[9] = 0xff;
            10
        }
        _ => {
            b = f80_bytes(INDEFINITE);
            10
        }
    };
    (b, n)
}

/// FST/FSTP m32fp/m64fp/m80fp/ST(i), FIST/FISTP/FISTTP m16/m32/m64int,
/// FBSTP m80bcd — SDM Vol. 2 under each. An unmasked invalid operation,
/// overflow or underflow stores nothing and does not pop.
fn fst(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    let m = ins.mnemonic();
    let pop = matches!(m, Fstp | Fistp | Fisttp | Fbstp);
    if !is_memory(ins) {
        // FST/FSTP ST(i).
        cpu.x87_pointers(bus, ins);
        let i = st_index(ins.op0_register());
        if cpu.st_empty(0) {
            if !cpu.stack_fault(false) {
                return Ok(());
            }
            cpu.set_st(i, INDEFINITE);
        } else {
            let v = cpu.st(0);
            cpu.set_st(i, v);
            cpu.set_c1(false);
        }
        if pop {
            cpu.pop_st();
        }
        return Ok(());
    }
    let size = ins.memory_size();
    // The whole store must be possible before anything changes.
    let n = indefinite_bytes(size).1;
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    cpu.probe_write_mem(bus, seg, off, n as u32)?;
    cpu.x87_pointers(bus, ins);
    if cpu.st_empty(0) {
        if cpu.stack_fault(false) {
            let (b, n) = indefinite_bytes(size);
            write_bytes(cpu, bus, ins, &b[..n])?;
            if pop {
                cpu.pop_st();
            }
        }
        return Ok(());
    }
    let v = cpu.st(0);
    let fcw = cpu.state.fx.fcw;
    let trunc = m == Fisttp;
    let mut b = [0u8; 10];
    let status = match size {
        MemorySize::Float32 => put(&mut b, hostfp::store_f32(v, fcw)),
        MemorySize::Float64 => put(&mut b, hostfp::store_f64(v, fcw)),
        MemorySize::Int16 if trunc => put(&mut b, hostfp::store_i16_trunc(v, fcw)),
        MemorySize::Int16 => put(&mut b, hostfp::store_i16(v, fcw)),
        MemorySize::Int32 if trunc => put(&mut b, hostfp::store_i32_trunc(v, fcw)),
        MemorySize::Int32 => put(&mut b, hostfp::store_i32(v, fcw)),
        MemorySize::Int64 if trunc => put(&mut b, hostfp::store_i64_trunc(v, fcw)),
        MemorySize::Int64 => put(&mut b, hostfp::store_i64(v, fcw)),
        MemorySize::Bcd => {
            let (d, s) = hostfp::store_bcd(v, fcw);
            b = d;
            s
        }
        _ => {
            b = f80_bytes(v);
            0
        }
    };
    let unmasked = status & fsw::EXCEPTIONS & !fcw;
    if unmasked & (sw::IE | sw::OE | sw::UE) != 0 {
        cpu.set_c1(false);
        cpu.raise_x87(status & fsw::EXCEPTIONS);
        return Ok(());
    }
    cpu.arith_flags(status);
    write_bytes(cpu, bus, ins, &b[..n])?;
    if pop {
        cpu.pop_st();
    }
    Ok(())
}

/// Little-endian bytes of an integer result into `b`; returns the status.
fn put<T: Into<u64>>(b: &mut [u8; 10], (v, status): (T, u16)) -> u16 {
    b[..8].copy_from_slice(&v.into().to_le_bytes());
    status
}

/// FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ — SDM Vol. 2
/// "FLD1/FLDL2T/…": rounded as RC says.
fn fld_constant(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let k = match ins.mnemonic() {
        Fld1 => Constant::One,
        Fldl2t => Constant::L2t,
        Fldl2e => Constant::L2e,
        Fldpi => Constant::Pi,
        Fldlg2 => Constant::Lg2,
        Fldln2 => Constant::Ln2,
        _ => Constant::Zero,
    };
    let v = hostfp::constant(k, cpu.state.fx.fcw);
    push_checked(cpu, v);
    Ok(())
}

/// FXCH ST(i) — SDM Vol. 2 "FXCH": an empty register takes part as the
/// indefinite (masked stack underflow).
fn fxch(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let i = if ins.op_count() >= 2 {
        st_index(ins.op1_register())
    } else {
        1
    };
    if cpu.st_empty(0) || cpu.st_empty(i) {
        if !cpu.stack_fault(false) {
            return Ok(());
        }
        for k in [0, i] {
            if cpu.st_empty(k) {
                cpu.set_st(k, INDEFINITE);
            }
        }
    } else {
        cpu.set_c1(false);
    }
    let (a, b) = (cpu.st(0), cpu.st(i));
    cpu.set_st(0, b);
    cpu.set_st(i, a);
    Ok(())
}

/// FFREE ST(i): tagged empty.
fn ffree(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    cpu.free_st(st_index(ins.op0_register()));
    Ok(())
}

/// FINCSTP/FDECSTP: TOP ± 1, C1 := 0.
fn fincdecstp(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    cpu.rotate_top(ins.mnemonic() == Mnemonic::Fincstp);
    cpu.set_c1(false);
    Ok(())
}

/// FNOP.
fn fnop(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    Ok(())
}

/// FCMOVcc ST(0), ST(i) — SDM Vol. 2 "FCMOVcc" (B: CF, E: ZF, BE: CF or
/// ZF, U: PF, and their negations). C1 changes only on a stack underflow
/// (the SDM's "set to 0 if stack underflow occurred", unlike FLD's
/// "otherwise, set to 0"; hardware and Bochs leave it otherwise).
fn fcmov(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    prologue(cpu, bus)?;
    cpu.x87_pointers(bus, ins);
    let i = st_index(ins.op1_register());
    if cpu.st_empty(0) || cpu.st_empty(i) {
        if cpu.stack_fault(false) {
            cpu.set_st(0, INDEFINITE);
        }
        return Ok(());
    }
    let f = cpu.state.rflags;
    let (cf, zf, pf) = (f & flags::CF != 0, f & flags::ZF != 0, f & flags::PF != 0);
    let take = match ins.mnemonic() {
        Fcmovb => cf,
        Fcmove => zf,
        Fcmovbe => cf || zf,
        Fcmovu => pf,
        Fcmovnb => !cf,
        Fcmovne => !zf,
        Fcmovnbe => !cf && !zf,
        _ => !pf,
    };
    if take {
        let v = cpu.st(i);
        cpu.set_st(0, v);
    }
    Ok(())
}

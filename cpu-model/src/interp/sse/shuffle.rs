//! SSE/SSE2 data movement within and between XMM registers (SDM Vol. 2
//! under each mnemonic): MOVHPS/MOVLPS/MOVHPD/MOVLPD, MOVHLPS/MOVLHPS,
//! MOVMSKPS/MOVMSKPD, SHUFPS/SHUFPD, UNPCKLPS/UNPCKHPS/UNPCKLPD/UNPCKHPD,
//! the non-temporal stores MOVNTPS/MOVNTPD/MOVNTI, and the ordering and
//! cache hints LFENCE/SFENCE/MFENCE, CLFLUSH, PREFETCHh.

use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::interp::Table;
use crate::memory::Bus;
use crate::mmu::AccessKind;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [Movhps, Movlps, Movhpd, Movlpd, Movhlps, Movlhps] {
        t.set(m, half);
    }
    t.set(Movmskps, movmsk);
    t.set(Movmskpd, movmsk);
    t.set(Shufps, shufps);
    t.set(Shufpd, shufpd);
    for m in [Unpcklps, Unpckhps, Unpcklpd, Unpckhpd] {
        t.set(m, unpck);
    }
    t.set(Movntps, movnt);
    t.set(Movntpd, movnt);
    t.set(Movnti, movnti);
    for m in [Lfence, Sfence, Mfence] {
        t.set(m, fence);
    }
    t.set(Clflush, clflush);
    for m in [Prefetchnta, Prefetcht0, Prefetcht1, Prefetcht2] {
        t.set(m, prefetch);
    }
}

/// MOVHPS/MOVHPD/MOVLPS/MOVLPD (xmm <-> m64) and MOVHLPS/MOVLHPS (xmm,
/// xmm): one 64-bit half moves, the other is kept.
fn half(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let m = ins.mnemonic();
    let high = matches!(m, Movhps | Movhpd);
    if ins.op0_kind() == OpKind::Memory {
        let v = cpu.xmm(xmm_index(ins.op1_register()));
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(if high { &v[8..] } else { &v[..8] });
        return cpu.store_xmm_memory(bus, ins, out, Width::M64);
    }
    let dst = xmm_index(ins.op0_register());
    let mut d = cpu.xmm(dst);
    match m {
        // (The register forms of 0F 12 / 0F 16 decode as MOVHLPS/MOVLHPS.)
        Movhlps => {
            let s = cpu.xmm(xmm_index(ins.op1_register()));
            d[..8].copy_from_slice(&s[8..]);
        }
        Movlhps => {
            let s = cpu.xmm(xmm_index(ins.op1_register()));
            d[8..].copy_from_slice(&s[..8]);
        }
        _ => {
            let s = cpu.xmm_operand(bus, ins, 1, Width::M64)?;
            if high {
                d[8..].copy_from_slice(&s[..8]);
            } else {
                d[..8].copy_from_slice(&s[..8]);
            }
        }
    }
    cpu.set_xmm(dst, d);
    Ok(())
}

/// MOVMSKPS/MOVMSKPD r32/r64, xmm: the sign bits of the elements,
/// zero-extended.
fn movmsk(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let s = cpu.xmm(xmm_index(ins.op1_register()));
    let elem = if ins.mnemonic() == Mnemonic::Movmskps {
        4
    } else {
        8
    };
    let mask = (0..16 / elem).fold(0u64, |m, i| {
        m | (u64::from(s[i * elem + elem - 1] >> 7) << i)
    });
    cpu.set_reg(ins.op0_register(), mask);
    Ok(())
}

/// SHUFPS xmm1, xmm2/m128, imm8: the low two elements chosen from xmm1,
/// the high two from the source, two selector bits each.
fn shufps(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let a = cpu.xmm(dst);
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let imm = ins.immediate8();
    let mut r = [0u8; 16];
    for i in 0..4 {
        let sel = usize::from((imm >> (2 * i)) & 3);
        let from = if i < 2 { &a } else { &b };
        r[4 * i..4 * i + 4].copy_from_slice(&from[4 * sel..4 * sel + 4]);
    }
    cpu.set_xmm(dst, r);
    Ok(())
}

/// SHUFPD xmm1, xmm2/m128, imm8: low from xmm1 (bit 0), high from the
/// source (bit 1).
fn shufpd(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let a = cpu.xmm(dst);
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let imm = usize::from(ins.immediate8());
    let mut r = [0u8; 16];
    r[..8].copy_from_slice(&a[8 * (imm & 1)..8 * (imm & 1) + 8]);
    r[8..].copy_from_slice(&b[8 * ((imm >> 1) & 1)..8 * ((imm >> 1) & 1) + 8]);
    cpu.set_xmm(dst, r);
    Ok(())
}

/// UNPCKLPS/UNPCKHPS/UNPCKLPD/UNPCKHPD: interleave the low (high) halves
/// of the destination and the source.
fn unpck(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let m = ins.mnemonic();
    let dst = xmm_index(ins.op0_register());
    let a = cpu.xmm(dst);
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let elem = if matches!(m, Unpcklps | Unpckhps) {
        4
    } else {
        8
    };
    let base = if matches!(m, Unpckhps | Unpckhpd) {
        8
    } else {
        0
    };
    let mut r = [0u8; 16];
    for i in 0..8 / elem {
        let src = base + i * elem;
        r[2 * i * elem..2 * i * elem + elem].copy_from_slice(&a[src..src + elem]);
        r[(2 * i + 1) * elem..(2 * i + 2) * elem].copy_from_slice(&b[src..src + elem]);
    }
    cpu.set_xmm(dst, r);
    Ok(())
}

/// MOVNTPS/MOVNTPD m128, xmm: a store (the non-temporal hint has no
/// architectural effect here), 16-byte aligned.
fn movnt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let v = cpu.xmm(xmm_index(ins.op1_register()));
    cpu.store_xmm_memory(bus, ins, v, Width::Aligned128)
}

/// MOVNTI m32/m64, r32/r64 (SSE2; a general-register store, so no
/// SSE availability check beyond the instruction being SSE2's).
fn movnti(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let v = cpu.read_op(bus, ins, 1)?;
    cpu.write_op(bus, ins, 0, v)?;
    Ok(())
}

/// LFENCE/SFENCE/MFENCE: one processor and every access in order, so
/// ordering has nothing to do.
fn fence(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Ok(())
}

/// CLFLUSH m8: no cache to flush, but the access is checked as a read
/// (segment and paging faults as for a byte load; SDM Vol. 2 "CLFLUSH").
fn clflush(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    let lin = cpu.linearize(seg, off, 1, AccessKind::Read)?;
    let user = cpu.user_access();
    cpu.translate(bus, lin, crate::mmu::Access::read(user))?;
    Ok(())
}

/// PREFETCHNTA/T0/T1/T2: hints that never fault (SDM Vol. 2
/// "PREFETCHh"), and with no cache, nothing to do.
fn prefetch(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Ok(())
}

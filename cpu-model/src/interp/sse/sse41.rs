//! SSE4.1 packed integer operations, legacy (non-VEX) forms (SDM Vol. 1
//! §12.10 "SSE4.1 Instruction Set"; Vol. 2 under each mnemonic), written
//! over the lane helpers of `int.rs`:
//!
//! - PMAXSB, PMAXSD, PMAXUW, PMAXUD, PMINSB, PMINSD, PMINUW, PMINUD;
//! - PMULLD (low halves of the signed products), PMULDQ (dwords 0 and 2
//!   into signed quadword products), PCMPEQQ, PACKUSDW;
//! - PHMINPOSUW, MPSADBW;
//! - PMOVSX/PMOVZX (BW, BD, BQ, WD, WQ, DQ): the source's low lanes
//!   widened, from a register or an m64/m32/m16 that has no alignment
//!   rule;
//! - PTEST (ZF, CF; AF, OF, PF, SF cleared);
//! - MOVNTDQA (a 16-byte aligned load; the non-temporal hint means
//!   nothing here).
//!
//! Every m128 source is a legacy packed operand: #GP(0) unless 16-byte
//! aligned.

use super::int::{lane, map2, map2s, mask, pack, sat_unsigned, set_lane, signed, V};
use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::flags;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [
        Pmaxsb, Pmaxsd, Pmaxuw, Pmaxud, Pminsb, Pminsd, Pminuw, Pminud, Pmulld, Pmuldq, Pcmpeqq,
        Packusdw, Phminposuw,
    ] {
        t.set(m, packed);
    }
    t.set(Mpsadbw, mpsadbw);
    for m in [
        Pmovsxbw, Pmovsxbd, Pmovsxbq, Pmovsxwd, Pmovsxwq, Pmovsxdq, Pmovzxbw, Pmovzxbd, Pmovzxbq,
        Pmovzxwd, Pmovzxwq, Pmovzxdq,
    ] {
        t.set(m, pmovx);
    }
    t.set(Ptest, ptest);
    t.set(Movntdqa, movntdqa);
}

/// The two-operand operations on 16 bytes: `a` the destination's value,
/// `b` the source's.
pub(super) fn binary41(m: Mnemonic, a: &V, b: &V) -> V {
    use Mnemonic::*;
    match m {
        Pmaxsb => map2s(a, b, 16, 1, i64::max),
        Pmaxsd => map2s(a, b, 16, 4, i64::max),
        Pmaxuw => map2(a, b, 16, 2, u64::max),
        Pmaxud => map2(a, b, 16, 4, u64::max),
        Pminsb => map2s(a, b, 16, 1, i64::min),
        Pminsd => map2s(a, b, 16, 4, i64::min),
        Pminuw => map2(a, b, 16, 2, u64::min),
        Pminud => map2(a, b, 16, 4, u64::min),
        Pmulld => map2(a, b, 16, 4, u64::wrapping_mul),
        // The low doubleword of each quadword, sign-extended, multiplied
        // into the whole quadword.
        Pmuldq => map2(a, b, 16, 8, |x, y| {
            signed(x, 4).wrapping_mul(signed(y, 4)) as u64
        }),
        Pcmpeqq => map2(a, b, 16, 8, |x, y| mask(x == y)),
        Packusdw => pack(a, b, 16, 4, |x| sat_unsigned(signed(x, 4), 2)),
        _ => phminposuw(b), // PHMINPOSUW
    }
}

/// PHMINPOSUW: the least unsigned word of the source in bits 15:0, its
/// index (the lowest of equal ones) in bits 18:16, the rest 0.
fn phminposuw(b: &V) -> V {
    let (index, min) = (0..8)
        .map(|i| (i, lane(b, i, 2)))
        .min_by_key(|&(i, w)| (w, i))
        .unwrap_or((0, 0));
    let mut r = [0u8; 16];
    set_lane(&mut r, 0, 4, min | (index as u64) << 16);
    r
}

/// MPSADBW: eight sums of absolute differences of four unsigned bytes:
/// word i := sum over k < 4 of |dest byte (4 * imm8[2] + i + k) - source
/// byte (4 * imm8[1:0] + k)|.
pub(super) fn mpsadbw_of(a: &V, b: &V, imm: u8) -> V {
    let dst_off = 4 * usize::from(imm >> 2 & 1);
    let src_off = 4 * usize::from(imm & 3);
    let mut r = [0u8; 16];
    for i in 0..8 {
        let sum: u64 = (0..4)
            .map(|k| u64::from(a[dst_off + i + k].abs_diff(b[src_off + k])))
            .sum();
        set_lane(&mut r, i, 2, sum);
    }
    r
}

/// PMOVSX/PMOVZX: the width of the source lanes, of the result's lanes,
/// and whether the lanes are sign-extended.
fn widening(m: Mnemonic) -> (usize, usize, bool) {
    use Mnemonic::*;
    match m {
        Pmovsxbw => (1, 2, true),
        Pmovsxbd => (1, 4, true),
        Pmovsxbq => (1, 8, true),
        Pmovsxwd => (2, 4, true),
        Pmovsxwq => (2, 8, true),
        Pmovsxdq => (4, 8, true),
        Pmovzxbw => (1, 2, false),
        Pmovzxbd => (1, 4, false),
        Pmovzxbq => (1, 8, false),
        Pmovzxwd => (2, 4, false),
        Pmovzxwq => (2, 8, false),
        _ => (4, 8, false), // PMOVZXDQ
    }
}

/// The PMOVSX/PMOVZX result of source `b`.
pub(super) fn widened(m: Mnemonic, b: &V) -> V {
    let (from, to, sign) = widening(m);
    let mut r = [0u8; 16];
    for i in 0..16 / to {
        let x = lane(b, i, from);
        let x = if sign { signed(x, from) as u64 } else { x };
        set_lane(&mut r, i, to, x);
    }
    r
}

/// PMAX*/PMIN*/PMULLD/PMULDQ/PCMPEQQ/PACKUSDW/PHMINPOSUW xmm1,
/// xmm2/m128.
fn packed(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let r = binary41(ins.mnemonic(), &cpu.xmm(dst), &b);
    cpu.set_xmm(dst, r);
    Ok(())
}

/// MPSADBW xmm1, xmm2/m128, imm8.
fn mpsadbw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let dst = xmm_index(ins.op0_register());
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let r = mpsadbw_of(&cpu.xmm(dst), &b, ins.immediate8());
    cpu.set_xmm(dst, r);
    Ok(())
}

/// PMOVSX/PMOVZX xmm1, xmm2/m64, m32 or m16 (as many source bytes as the
/// result has lanes times their width; no alignment rule).
fn pmovx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let m = ins.mnemonic();
    let (from, to, _) = widening(m);
    let width = match 16 / to * from {
        8 => Width::M64,
        4 => Width::M32,
        _ => Width::M16,
    };
    let b = cpu.xmm_operand(bus, ins, 1, width)?;
    cpu.set_xmm(xmm_index(ins.op0_register()), widened(m, &b));
    Ok(())
}

/// PTEST xmm1, xmm2/m128: ZF := (xmm1 AND source) = 0, CF := (source AND
/// NOT xmm1) = 0; AF, OF, PF, SF := 0.
fn ptest(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let a = u128::from_le_bytes(cpu.xmm(xmm_index(ins.op0_register())));
    let b = u128::from_le_bytes(cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?);
    let mut f = 0;
    if a & b == 0 {
        f |= flags::ZF;
    }
    if b & !a == 0 {
        f |= flags::CF;
    }
    cpu.set_flags(flags::STATUS, f);
    Ok(())
}

/// MOVNTDQA xmm, m128: a load, 16-byte aligned.
fn movntdqa(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let v = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    cpu.set_xmm(xmm_index(ins.op0_register()), v);
    Ok(())
}

#[cfg(test)]
#[path = "sse41_tests.rs"]
mod tests;

//! SSE4.2's compares: PCMPESTRI, PCMPESTRM, PCMPISTRI, PCMPISTRM (SDM
//! Vol. 2 §4.1 "Imm8 Control Byte Operation for PCMPESTRI / PCMPESTRM /
//! PCMPISTRI / PCMPISTRM" and the four instructions in ch. 4) and PCMPGTQ
//! (SDM Vol. 2 "PCMPGTQ").
//!
//! The string compares are one computation in four steps, each chosen by
//! a field of imm8:
//!
//! 1. imm8[1:0], the source format: 16 unsigned or signed bytes, or 8
//!    words; each operand's valid elements are the first `len` of them,
//!    `len` coming from EAX/EDX (RAX/RDX with REX.W; its absolute value,
//!    saturated at 16 or 8) for the explicit-length forms, or from the
//!    first null element for the implicit-length forms;
//! 2. imm8[3:2], the aggregation of the element compares into IntRes1
//!    (equal any, ranges, equal each, equal ordered), invalid elements
//!    forcing the compare results of §4.1.4 Table 4-7;
//! 3. imm8[5:4], the polarity: IntRes2 is IntRes1, its complement, or its
//!    complement over the valid elements of the second operand only;
//! 4. imm8[6], the output: the least or most significant set bit of
//!    IntRes2 into ECX (the element count when none), or IntRes2 into
//!    XMM0 as a bit mask or expanded to a byte/word mask.
//!
//! The flags (§4.1.6 and each instruction's "Flags Affected"): CF =
//! IntRes2 ≠ 0, ZF = the second operand has an invalid element, SF = the
//! first operand has one, OF = IntRes2[0], AF = PF = 0. The m128 operand
//! has no alignment rule (unlike the other legacy SSE m128 operands).

use super::int::{map2s, mask, V};
use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::flags;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, Register};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [
        Pcmpestri,
        Pcmpestri64,
        Pcmpestrm,
        Pcmpestrm64,
        Pcmpistri,
        Pcmpistrm,
    ] {
        t.set(m, pcmpstr);
    }
    t.set(Pcmpgtq, pcmpgtq);
}

/// The source format of imm8[1:0].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Format {
    words: bool,
    signed: bool,
}

impl Format {
    fn of(imm: u8) -> Format {
        Format {
            words: imm & 1 != 0,
            signed: imm & 2 != 0,
        }
    }

    /// Elements in 128 bits: 16 bytes or 8 words.
    fn count(self) -> usize {
        if self.words {
            8
        } else {
            16
        }
    }

    /// Element `i` of `v`, sign- or zero-extended.
    fn element(self, v: &V, i: usize) -> i32 {
        match (self.words, self.signed) {
            (false, false) => i32::from(v[i]),
            (false, true) => i32::from(v[i] as i8),
            (true, false) => i32::from(u16::from_le_bytes([v[2 * i], v[2 * i + 1]])),
            (true, true) => i32::from(i16::from_le_bytes([v[2 * i], v[2 * i + 1]])),
        }
    }

    /// An explicit length (EAX/EDX, or RAX/RDX sign-extended from 64
    /// bits): its absolute value, saturated at the element count.
    fn explicit_len(self, reg: i64) -> usize {
        reg.unsigned_abs().min(self.count() as u64) as usize
    }

    /// An implicit length: the index of the first null element, else the
    /// element count.
    fn implicit_len(self, v: &V) -> usize {
        (0..self.count())
            .find(|&i| self.element(v, i) == 0)
            .unwrap_or(self.count())
    }
}

/// The two operands with their valid lengths: `a` is the first operand
/// (xmm1, lengths from EAX), `b` the second (xmm2/m128, from EDX).
#[derive(Clone, Copy, Debug)]
pub(super) struct Strings {
    pub a: V,
    pub len_a: usize,
    pub b: V,
    pub len_b: usize,
}

/// What a string compare produces: IntRes2 (one bit per element) and the
/// flags CF, ZF, SF, OF (AF and PF are 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Outcome {
    pub int_res2: u16,
    pub flags: u64,
}

/// Steps 2 and 3 with the flags, for operands whose lengths are already
/// known (saturated to the element count of imm8's format).
pub(super) fn compare(imm: u8, s: &Strings) -> Outcome {
    let f = Format::of(imm);
    let n = f.count();
    let all: u16 = if n == 16 { 0xffff } else { 0xff };
    let a = |i: usize| f.element(&s.a, i);
    let b = |j: usize| f.element(&s.b, j);
    let a_valid = |i: usize| i < s.len_a;
    let b_valid = |j: usize| j < s.len_b;
    // Bit j of IntRes1 is about element j of the second operand; the
    // overrides for invalid elements are Table 4-7's.
    let bit = |j: usize, on: bool| u16::from(on) << j;
    let int_res1: u16 = match (imm >> 2) & 3 {
        // Equal any: b[j] is one of a's valid elements.
        0 => (0..n)
            .map(|j| bit(j, b_valid(j) && (0..s.len_a).any(|i| a(i) == b(j))))
            .fold(0, |r, x| r | x),
        // Ranges: a[i] <= b[j] <= a[i + 1] for some pair (i even) of
        // valid elements of a (an odd element without its partner is no
        // range).
        1 => (0..n)
            .map(|j| {
                let in_range = (0..n / 2).any(|p| {
                    let (lo, hi) = (2 * p, 2 * p + 1);
                    a_valid(hi) && a(lo) <= b(j) && b(j) <= a(hi)
                });
                bit(j, b_valid(j) && in_range)
            })
            .fold(0, |r, x| r | x),
        // Equal each: a[j] = b[j]; both invalid compare true, one invalid
        // false.
        2 => (0..n)
            .map(|j| {
                let eq = match (a_valid(j), b_valid(j)) {
                    (true, true) => a(j) == b(j),
                    (false, false) => true,
                    _ => false,
                };
                bit(j, eq)
            })
            .fold(0, |r, x| r | x),
        // Equal ordered: the substring a (its valid elements) starts at
        // b[j]; an invalid a element matches anything, a valid one no
        // invalid b element. Only the n - j positions from j are looked
        // at, so a needle running past the end of b matches as far as it
        // goes.
        _ => (0..n)
            .map(|j| {
                let starts = (0..n - j).all(|i| {
                    let k = j + i;
                    !a_valid(i) || (b_valid(k) && a(i) == b(k))
                });
                bit(j, starts)
            })
            .fold(0, |r, x| r | x),
    };
    let valid_b: u16 = ((1u32 << s.len_b) - 1) as u16;
    let int_res2 = match (imm >> 4) & 3 {
        1 => !int_res1 & all,
        3 => int_res1 ^ valid_b,
        _ => int_res1,
    };
    let mut fl = 0;
    for (on, f) in [
        (int_res2 != 0, flags::CF),
        (s.len_b < n, flags::ZF),
        (s.len_a < n, flags::SF),
        (int_res2 & 1 != 0, flags::OF),
    ] {
        if on {
            fl |= f;
        }
    }
    Outcome {
        int_res2,
        flags: fl,
    }
}

/// PCMPxSTRI's index: the least (imm8[6] = 0) or most significant set bit
/// of IntRes2, the element count when it is 0.
pub(super) fn index(imm: u8, int_res2: u16) -> u32 {
    let n = Format::of(imm).count() as u32;
    if int_res2 == 0 {
        n
    } else if imm & 0x40 == 0 {
        int_res2.trailing_zeros()
    } else {
        15 - int_res2.leading_zeros()
    }
}

/// PCMPxSTRM's mask: IntRes2 zero-extended (imm8[6] = 0), or each bit
/// expanded to its element's bytes (imm8[6] = 1).
pub(super) fn mask_of(imm: u8, int_res2: u16) -> V {
    let mut r = [0u8; 16];
    if imm & 0x40 == 0 {
        r[..2].copy_from_slice(&int_res2.to_le_bytes());
        return r;
    }
    let size = if Format::of(imm).words { 2 } else { 1 };
    for (k, byte) in r.iter_mut().enumerate() {
        if int_res2 >> (k / size) & 1 != 0 {
            *byte = 0xff;
        }
    }
    r
}

/// PCMPESTRI/PCMPESTRM (and their REX.W forms) xmm1, xmm2/m128, imm8;
/// PCMPISTRI/PCMPISTRM xmm1, xmm2/m128, imm8.
fn pcmpstr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let b = cpu.xmm_operand(bus, ins, 1, Width::Unaligned128)?;
    let a = cpu.xmm(xmm_index(ins.op0_register()));
    let imm = ins.immediate8();
    let f = Format::of(imm);
    let m = ins.mnemonic();
    let (len_a, len_b) = match m {
        Pcmpestri64 | Pcmpestrm64 => (
            f.explicit_len(cpu.reg(Register::RAX) as i64),
            f.explicit_len(cpu.reg(Register::RDX) as i64),
        ),
        Pcmpestri | Pcmpestrm => (
            f.explicit_len(i64::from(cpu.reg(Register::EAX) as i32)),
            f.explicit_len(i64::from(cpu.reg(Register::EDX) as i32)),
        ),
        _ => (f.implicit_len(&a), f.implicit_len(&b)),
    };
    let out = compare(imm, &Strings { a, len_a, b, len_b });
    match m {
        Pcmpestri | Pcmpestri64 | Pcmpistri => {
            cpu.set_reg(Register::ECX, u64::from(index(imm, out.int_res2)));
        }
        _ => cpu.set_xmm(0, mask_of(imm, out.int_res2)),
    }
    cpu.set_flags(flags::STATUS, out.flags);
    Ok(())
}

/// PCMPGTQ xmm1, xmm2/m128 (m128 16-byte aligned): each signed quadword
/// of xmm1 greater than xmm2's becomes all ones, else 0.
fn pcmpgtq(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let b = cpu.xmm_operand(bus, ins, 1, Width::Aligned128)?;
    let dst = xmm_index(ins.op0_register());
    let r = greater_quadwords(&cpu.xmm(dst), &b);
    cpu.set_xmm(dst, r);
    Ok(())
}

/// PCMPGTQ's lanes.
pub(super) fn greater_quadwords(a: &V, b: &V) -> V {
    map2s(a, b, 16, 8, |x, y| mask(x > y) as i64)
}

#[cfg(test)]
#[path = "pcmpstr_tests.rs"]
mod tests;

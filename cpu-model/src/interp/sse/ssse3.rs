//! SSSE3 (SDM Vol. 1 §12.9; Vol. 2 under each mnemonic): PSHUFB,
//! PHADDW/PHADDD/PHADDSW, PHSUBW/PHSUBD/PHSUBSW, PMADDUBSW, PMULHRSW,
//! PSIGNB/W/D, PABSB/W/D and PALIGNR, each in its 64-bit form on MMX
//! registers (mm1, mm2/m64; the MMX state rules and availability of
//! `mmx.rs`, as the SDM's Table 22-8 gives them: no CR4.OSFXSR needed)
//! and its 128-bit form on XMM registers (xmm1, xmm2/m128, 16-byte
//! aligned as the legacy packed forms are; SSE availability). One
//! handler serves both: the operations are written over the lanes of the
//! low `n` bytes of a 16-byte value, with the lane helpers of `int.rs`.
//! No SIMD floating-point exception: these are integer operations.

use super::int::{lane, map2, map2s, sat_signed, set_lane, signed, V};
use super::mmx::File;
use super::Width;
use crate::exception::Fault;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [
        Pshufb, Phaddw, Phaddd, Phaddsw, Phsubw, Phsubd, Phsubsw, Pmaddubsw, Pmulhrsw, Psignb,
        Psignw, Psignd,
    ] {
        t.set(m, packed);
    }
    for m in [Pabsb, Pabsw, Pabsd] {
        t.set(m, pabs);
    }
    t.set(Palignr, palignr);
}

/// The two-operand operations: `a` the destination's value, `b` the
/// source's, `n` the register width in bytes (8 or 16). Bytes from `n` on
/// are 0.
pub(super) fn binary(m: Mnemonic, a: &V, b: &V, n: usize) -> V {
    use Mnemonic::*;
    let wrap = |x: i64, y: i64| x + y;
    let sat = |x: i64, y: i64| sat_signed(x + y, 2) as i64;
    let neg = |f: fn(i64, i64) -> i64| move |x: i64, y: i64| f(x, -y);
    match m {
        Pshufb => shuffle_bytes(a, b, n),
        Phaddw => horizontal(a, b, n, 2, wrap),
        Phaddd => horizontal(a, b, n, 4, wrap),
        Phaddsw => horizontal(a, b, n, 2, sat),
        Phsubw => horizontal(a, b, n, 2, neg(wrap)),
        Phsubd => horizontal(a, b, n, 4, neg(wrap)),
        Phsubsw => horizontal(a, b, n, 2, neg(sat)),
        // Unsigned bytes of the destination times signed bytes of the
        // source, adjacent products added with signed saturation.
        Pmaddubsw => map2(a, b, n, 2, |x, y| {
            let product = |k: u32| ((x >> (8 * k)) & 0xff) as i64 * signed(y >> (8 * k), 1);
            sat_signed(product(0) + product(1), 2)
        }),
        // Bits 16:1 of the 32-bit product rounded at bit 14: 8000H *
        // 8000H gives 8000H again (the one result that wraps).
        Pmulhrsw => map2s(a, b, n, 2, |x, y| (((x * y) >> 14) + 1) >> 1),
        Psignb => map2s(a, b, n, 1, sign),
        Psignw => map2s(a, b, n, 2, sign),
        _ => map2s(a, b, n, 4, sign), // PSIGND
    }
}

/// PSIGN: `x` negated where `y` is negative (the most negative value
/// stays itself, truncated), zeroed where `y` is 0, kept otherwise.
fn sign(x: i64, y: i64) -> i64 {
    match y.signum() {
        -1 => -x,
        0 => 0,
        _ => x,
    }
}

/// PSHUFB: byte `i` := 0 if bit 7 of source byte `i` is set, else the
/// destination's byte selected by its low 3 (MMX) or 4 (XMM) bits.
fn shuffle_bytes(a: &V, b: &V, n: usize) -> V {
    let mut r = [0u8; 16];
    for i in 0..n {
        if b[i] & 0x80 == 0 {
            r[i] = a[usize::from(b[i]) & (n - 1)];
        }
    }
    r
}

/// The horizontal operations: `f(even lane, odd lane)` of each adjacent
/// pair of signed `size`-byte lanes, those of `a` in the low half of the
/// result and those of `b` in the high half (truncated to the lane).
fn horizontal(a: &V, b: &V, n: usize, size: usize, f: impl Fn(i64, i64) -> i64) -> V {
    let mut r = [0u8; 16];
    let half = n / size / 2;
    for (src, first) in [(a, 0), (b, half)] {
        for i in 0..half {
            let x = signed(lane(src, 2 * i, size), size);
            let y = signed(lane(src, 2 * i + 1, size), size);
            set_lane(&mut r, first + i, size, f(x, y) as u64);
        }
    }
    r
}

/// PABSB/W/D: the unsigned absolute value of each signed lane of `s`
/// (80H, 8000H, 8000_0000H stay: as unsigned values they are right).
pub(super) fn absolute(m: Mnemonic, s: &V, n: usize) -> V {
    let size = match m {
        Mnemonic::Pabsb => 1,
        Mnemonic::Pabsw => 2,
        _ => 4,
    };
    map2s(s, &[0; 16], n, size, |x, _| x.abs())
}

/// PALIGNR: the destination `a` above the source `b` (a 2n-byte value),
/// shifted right by `imm` bytes, its low `n` bytes; a shift of 2n bytes
/// or more leaves 0.
pub(super) fn align_right(a: &V, b: &V, n: usize, imm: u8) -> V {
    let mut joined = [0u8; 32];
    joined[..n].copy_from_slice(&b[..n]);
    joined[n..2 * n].copy_from_slice(&a[..n]);
    let shift = usize::from(imm);
    let mut r = [0u8; 16];
    for (i, x) in r.iter_mut().take(n).enumerate() {
        if shift + i < 2 * n {
            *x = joined[shift + i];
        }
    }
    r
}

/// The source operand: a register, m64 (MMX form; no alignment rule
/// beyond #AC) or an aligned m128 (XMM form).
fn source(file: File, cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<V, Fault> {
    file.operand(cpu, bus, ins, 1, 8, Width::Aligned128)
}

/// PSHUFB..PSIGND mm, mm/m64 or xmm, xmm/m128.
fn packed(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let b = source(file, cpu, bus, ins)?;
    let dst = ins.op0_register();
    let a = file.get(cpu, dst);
    file.set(cpu, dst, binary(ins.mnemonic(), &a, &b, file.bytes()));
    Ok(())
}

/// PABSB/PABSW/PABSD mm, mm/m64 or xmm, xmm/m128.
fn pabs(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let s = source(file, cpu, bus, ins)?;
    let r = absolute(ins.mnemonic(), &s, file.bytes());
    file.set(cpu, ins.op0_register(), r);
    Ok(())
}

/// PALIGNR mm, mm/m64, imm8 or xmm, xmm/m128, imm8.
fn palignr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let b = source(file, cpu, bus, ins)?;
    let dst = ins.op0_register();
    let a = file.get(cpu, dst);
    let r = align_right(&a, &b, file.bytes(), ins.immediate8());
    file.set(cpu, dst, r);
    Ok(())
}

#[cfg(test)]
#[path = "ssse3_tests.rs"]
mod tests;

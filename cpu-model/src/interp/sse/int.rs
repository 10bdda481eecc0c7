//! Packed integer operations of MMX, SSE and SSE2 (SDM Vol. 2 under each
//! mnemonic; Vol. 1 ch. 9, §10.4.4, §11.4.3), one handler for the 64-bit
//! MMX form and the 128-bit XMM form of each: the operations are written
//! once over lanes of a 16-byte value of which the instruction uses the
//! low `n` bytes (8 for an MMX register, 16 for an XMM register).
//!
//! - arithmetic: PADD/PSUB (B, W, D, Q; signed and unsigned saturating
//!   B, W), PMULLW, PMULHW, PMULHUW, PMULUDQ, PMADDWD, PAVGB/W, PSADBW,
//!   PMAXSW, PMAXUB, PMINSW, PMINUB;
//! - logic and compares: PAND, PANDN, POR, PXOR, PCMPEQ/PCMPGT (B, W, D);
//! - shifts: PSLL/PSRL (W, D, Q), PSRA (W, D) by a register, memory or
//!   immediate count, PSLLDQ/PSRLDQ by bytes;
//! - packs and unpacks: PACKSSWB, PACKSSDW, PACKUSWB, PUNPCKL/H (BW, WD,
//!   DQ, QDQ);
//! - shuffles and extracts: PSHUFW, PSHUFD, PSHUFHW, PSHUFLW, PMOVMSKB,
//!   PEXTRW, PINSRW;
//! - stores: MASKMOVQ, MASKMOVDQU, MOVNTQ, MOVNTDQ.
//!
//! The MMX forms follow the MMX state rules and availability of `mmx.rs`;
//! the XMM forms SSE's (`check_available`), their m128 operands 16-byte
//! aligned (the legacy packed rule) unless noted.

use super::mmx::{low64, File};
use super::Width;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::interp::Table;
use crate::memory::Bus;
use crate::mmu::AccessKind;
use crate::state::cr0;
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [
        Paddb, Paddw, Paddd, Paddq, Paddsb, Paddsw, Paddusb, Paddusw, Psubb, Psubw, Psubd, Psubq,
        Psubsb, Psubsw, Psubusb, Psubusw, Pmullw, Pmulhw, Pmulhuw, Pmuludq, Pmaddwd, Pand, Pandn,
        Por, Pxor, Pcmpeqb, Pcmpeqw, Pcmpeqd, Pcmpgtb, Pcmpgtw, Pcmpgtd, Packsswb, Packssdw,
        Packuswb, Punpcklbw, Punpcklwd, Punpckldq, Punpckhbw, Punpckhwd, Punpckhdq, Punpcklqdq,
        Punpckhqdq, Pavgb, Pavgw, Pmaxsw, Pmaxub, Pminsw, Pminub, Psadbw,
    ] {
        t.set(m, packed);
    }
    for m in [Psllw, Pslld, Psllq, Psrlw, Psrld, Psrlq, Psraw, Psrad] {
        t.set(m, shift);
    }
    for m in [Pslldq, Psrldq] {
        t.set(m, shift_bytes);
    }
    for m in [Pshufw, Pshufd, Pshufhw, Pshuflw] {
        t.set(m, pshuf);
    }
    t.set(Pmovmskb, pmovmskb);
    // PEXTRW r/m16, xmm, imm8 (66 0F 3A 15) is SSE4.1's: `sse41_ins.rs`.
    for c in [
        Code::Pextrw_r32_mm_imm8,
        Code::Pextrw_r64_mm_imm8,
        Code::Pextrw_r32_xmm_imm8,
        Code::Pextrw_r64_xmm_imm8,
    ] {
        t.set_code(c, pextrw);
    }
    t.set(Pinsrw, pinsrw);
    t.set(Maskmovq, maskmov);
    t.set(Maskmovdqu, maskmov);
    t.set(Movntq, movnt);
    t.set(Movntdq, movnt);
}

/// A packed value: 16 bytes, little-endian lanes.
pub(super) type V = [u8; 16];

/// Lane `i` of `size` bytes (1, 2, 4, 8), zero-extended.
pub(super) fn lane(v: &V, i: usize, size: usize) -> u64 {
    let mut b = [0u8; 8];
    b[..size].copy_from_slice(&v[i * size..(i + 1) * size]);
    u64::from_le_bytes(b)
}

/// Lane `i` of `size` bytes := the low bytes of `x`.
pub(super) fn set_lane(v: &mut V, i: usize, size: usize, x: u64) {
    v[i * size..(i + 1) * size].copy_from_slice(&x.to_le_bytes()[..size]);
}

/// A `size`-byte lane value, sign-extended.
pub(super) fn signed(x: u64, size: usize) -> i64 {
    let sh = 64 - 8 * size as u32;
    ((x << sh) as i64) >> sh
}

/// `x` saturated to a signed `size`-byte integer.
pub(super) fn sat_signed(x: i64, size: usize) -> u64 {
    let bits = 8 * size as u32;
    let max = (1i64 << (bits - 1)) - 1;
    x.clamp(-max - 1, max) as u64
}

/// `x` saturated to an unsigned `size`-byte integer.
pub(super) fn sat_unsigned(x: i64, size: usize) -> u64 {
    let bits = 8 * size as u32;
    x.clamp(0, (1i64 << bits) - 1) as u64
}

/// All ones when `c`.
pub(super) fn mask(c: bool) -> u64 {
    if c {
        u64::MAX
    } else {
        0
    }
}

/// Every `size`-byte lane of the low `n` bytes: `f(a lane, b lane)`.
pub(super) fn map2(a: &V, b: &V, n: usize, size: usize, f: impl Fn(u64, u64) -> u64) -> V {
    let mut r = [0u8; 16];
    for i in 0..n / size {
        set_lane(&mut r, i, size, f(lane(a, i, size), lane(b, i, size)));
    }
    r
}

/// The same on sign-extended lanes.
pub(super) fn map2s(a: &V, b: &V, n: usize, size: usize, f: impl Fn(i64, i64) -> i64) -> V {
    map2(a, b, n, size, |x, y| {
        f(signed(x, size), signed(y, size)) as u64
    })
}

/// The two-operand operations: `a` the destination's value, `b` the
/// source's, `n` the register width in bytes. Bytes from `n` on are 0.
pub(super) fn binary(m: Mnemonic, a: &V, b: &V, n: usize) -> V {
    use Mnemonic::*;
    let ss = |size: usize, f: fn(i64, i64) -> i64| {
        map2s(a, b, n, size, |x, y| sat_signed(f(x, y), size) as i64)
    };
    let us = |size: usize, f: fn(i64, i64) -> i64| {
        map2(a, b, n, size, |x, y| {
            sat_unsigned(f(x as i64, y as i64), size)
        })
    };
    let add = |x: i64, y: i64| x + y;
    let sub = |x: i64, y: i64| x - y;
    match m {
        Paddb => map2(a, b, n, 1, u64::wrapping_add),
        Paddw => map2(a, b, n, 2, u64::wrapping_add),
        Paddd => map2(a, b, n, 4, u64::wrapping_add),
        Paddq => map2(a, b, n, 8, u64::wrapping_add),
        Psubb => map2(a, b, n, 1, u64::wrapping_sub),
        Psubw => map2(a, b, n, 2, u64::wrapping_sub),
        Psubd => map2(a, b, n, 4, u64::wrapping_sub),
        Psubq => map2(a, b, n, 8, u64::wrapping_sub),
        Paddsb => ss(1, add),
        Paddsw => ss(2, add),
        Psubsb => ss(1, sub),
        Psubsw => ss(2, sub),
        Paddusb => us(1, add),
        Paddusw => us(2, add),
        Psubusb => us(1, sub),
        Psubusw => us(2, sub),
        Pmullw => map2(a, b, n, 2, u64::wrapping_mul),
        Pmulhw => map2s(a, b, n, 2, |x, y| (x * y) >> 16),
        Pmulhuw => map2(a, b, n, 2, |x, y| (x * y) >> 16),
        Pmuludq => map2(a, b, n, 8, |x, y| (x & 0xffff_ffff) * (y & 0xffff_ffff)),
        Pmaddwd => map2(a, b, n, 4, |x, y| {
            let w = |v: u64, k: u32| signed(v >> (16 * k), 2);
            // 8000H * 8000H twice is 8000_0000H: the sum wraps.
            (w(x, 0) * w(y, 0) + w(x, 1) * w(y, 1)) as u64
        }),
        Pand => map2(a, b, n, 8, |x, y| x & y),
        Pandn => map2(a, b, n, 8, |x, y| !x & y),
        Por => map2(a, b, n, 8, |x, y| x | y),
        Pxor => map2(a, b, n, 8, |x, y| x ^ y),
        Pcmpeqb => map2(a, b, n, 1, |x, y| mask(x == y)),
        Pcmpeqw => map2(a, b, n, 2, |x, y| mask(x == y)),
        Pcmpeqd => map2(a, b, n, 4, |x, y| mask(x == y)),
        Pcmpgtb => map2s(a, b, n, 1, |x, y| mask(x > y) as i64),
        Pcmpgtw => map2s(a, b, n, 2, |x, y| mask(x > y) as i64),
        Pcmpgtd => map2s(a, b, n, 4, |x, y| mask(x > y) as i64),
        Pavgb => map2(a, b, n, 1, |x, y| (x + y + 1) >> 1),
        Pavgw => map2(a, b, n, 2, |x, y| (x + y + 1) >> 1),
        Pmaxsw => map2s(a, b, n, 2, i64::max),
        Pminsw => map2s(a, b, n, 2, i64::min),
        Pmaxub => map2(a, b, n, 1, u64::max),
        Pminub => map2(a, b, n, 1, u64::min),
        Psadbw => psadbw(a, b, n),
        Packsswb => pack(a, b, n, 2, |x| sat_signed(signed(x, 2), 1)),
        Packssdw => pack(a, b, n, 4, |x| sat_signed(signed(x, 4), 2)),
        Packuswb => pack(a, b, n, 2, |x| sat_unsigned(signed(x, 2), 1)),
        Punpcklbw => unpack(a, b, n, 1, false),
        Punpcklwd => unpack(a, b, n, 2, false),
        Punpckldq => unpack(a, b, n, 4, false),
        Punpcklqdq => unpack(a, b, n, 8, false),
        Punpckhbw => unpack(a, b, n, 1, true),
        Punpckhwd => unpack(a, b, n, 2, true),
        Punpckhdq => unpack(a, b, n, 4, true),
        _ => unpack(a, b, n, 8, true), // PUNPCKHQDQ
    }
}

/// PSADBW: for each quadword, the sum of the absolute differences of its
/// eight unsigned bytes into its low word, the rest of it 0.
fn psadbw(a: &V, b: &V, n: usize) -> V {
    let mut r = [0u8; 16];
    for q in 0..n / 8 {
        let sum: u64 = (8 * q..8 * q + 8)
            .map(|i| u64::from(a[i].abs_diff(b[i])))
            .sum();
        set_lane(&mut r, q, 8, sum);
    }
    r
}

/// The packs: each `size`-byte lane of `a`, then of `b`, narrowed by `f`
/// into a lane of half the size.
pub(super) fn pack(a: &V, b: &V, n: usize, size: usize, f: impl Fn(u64) -> u64) -> V {
    let mut r = [0u8; 16];
    let k = n / size;
    for i in 0..k {
        set_lane(&mut r, i, size / 2, f(lane(a, i, size)));
        set_lane(&mut r, k + i, size / 2, f(lane(b, i, size)));
    }
    r
}

/// The unpacks: the `size`-byte lanes of the low (or high) halves of `a`
/// and `b`, interleaved, `a`'s first.
fn unpack(a: &V, b: &V, n: usize, size: usize, high: bool) -> V {
    let mut r = [0u8; 16];
    let k = n / 2 / size;
    let from = if high { k } else { 0 };
    for i in 0..k {
        set_lane(&mut r, 2 * i, size, lane(a, from + i, size));
        set_lane(&mut r, 2 * i + 1, size, lane(b, from + i, size));
    }
    r
}

/// The shifts by `count` of each lane: logical left or right (a count
/// above the lane's bits - 1 gives 0), arithmetic right (such a count
/// fills the lane with its sign bit).
pub(super) fn shifted(m: Mnemonic, a: &V, count: u64, n: usize) -> V {
    use Mnemonic::*;
    let size = match m {
        Psllw | Psrlw | Psraw => 2,
        Pslld | Psrld | Psrad => 4,
        _ => 8,
    };
    let bits = 8 * size as u64;
    let zero = [0u8; 16];
    match m {
        Psllw | Pslld | Psllq if count < bits => map2(a, &zero, n, size, |x, _| x << count),
        Psrlw | Psrld | Psrlq if count < bits => map2(a, &zero, n, size, |x, _| x >> count),
        Psraw | Psrad => {
            let c = count.min(bits - 1);
            map2s(a, &zero, n, size, |x, _| x >> c)
        }
        _ => zero,
    }
}

/// PSLLDQ/PSRLDQ: the 128-bit value shifted by `count` bytes (above 15:
/// 0).
pub(super) fn shifted_bytes(left: bool, a: &V, count: u64) -> V {
    let c = count.min(16) as usize;
    let mut r = [0u8; 16];
    if left {
        r[c..].copy_from_slice(&a[..16 - c]);
    } else {
        r[..16 - c].copy_from_slice(&a[c..]);
    }
    r
}

/// PSHUFW (4 words of 8 bytes), PSHUFD (4 doublewords), PSHUFLW and
/// PSHUFHW (4 words of the low or high quadword, the other quadword
/// copied): lane `i` := source lane `imm[2i+1:2i]`.
pub(super) fn shuffled(m: Mnemonic, src: &V, imm: u8) -> V {
    let (size, base) = match m {
        Mnemonic::Pshufd => (4, 0),
        Mnemonic::Pshufhw => (2, 4),
        _ => (2, 0), // PSHUFW, PSHUFLW
    };
    let mut r = *src;
    if m == Mnemonic::Pshufw {
        r[8..].fill(0);
    }
    for i in 0..4 {
        let sel = usize::from(imm >> (2 * i)) & 3;
        set_lane(&mut r, base + i, size, lane(src, base + sel, size));
    }
    r
}

/// PMOVMSKB: the most significant bit of each of the `n` bytes.
pub(super) fn movemask(a: &V, n: usize) -> u64 {
    (0..n).fold(0, |m, i| m | u64::from(a[i] >> 7) << i)
}

/// PADD..PUNPCKHQDQ mm, mm/m64 (PUNPCKL* mm, mm/m32) or xmm, xmm/m128.
fn packed(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let m = ins.mnemonic();
    let mmx_mem = match m {
        Mnemonic::Punpcklbw | Mnemonic::Punpcklwd | Mnemonic::Punpckldq => 4,
        _ => 8,
    };
    let b = file.operand(cpu, bus, ins, 1, mmx_mem, Width::Aligned128)?;
    let dst = ins.op0_register();
    let a = file.get(cpu, dst);
    let r = binary(m, &a, &b, file.bytes());
    file.set(cpu, dst, r);
    Ok(())
}

/// PSLL/PSRL/PSRA mm, mm/m64 or imm8; xmm, xmm/m128 or imm8: the count
/// is the immediate or the source's low quadword.
fn shift(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let count = if ins.op1_kind() == OpKind::Immediate8 {
        u64::from(ins.immediate8())
    } else {
        low64(&file.operand(cpu, bus, ins, 1, 8, Width::Aligned128)?)
    };
    let dst = ins.op0_register();
    let r = shifted(ins.mnemonic(), &file.get(cpu, dst), count, file.bytes());
    file.set(cpu, dst, r);
    Ok(())
}

/// PSLLDQ/PSRLDQ xmm, imm8 (SSE2).
fn shift_bytes(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    File::Xmm.check(cpu, bus)?;
    let dst = ins.op0_register();
    let left = ins.mnemonic() == Mnemonic::Pslldq;
    let r = shifted_bytes(left, &File::Xmm.get(cpu, dst), u64::from(ins.immediate8()));
    File::Xmm.set(cpu, dst, r);
    Ok(())
}

/// PSHUFW mm, mm/m64, imm8 (SSE); PSHUFD/PSHUFHW/PSHUFLW xmm, xmm/m128,
/// imm8 (SSE2).
fn pshuf(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let src = file.operand(cpu, bus, ins, 1, 8, Width::Aligned128)?;
    let r = shuffled(ins.mnemonic(), &src, ins.immediate8());
    file.set(cpu, ins.op0_register(), r);
    Ok(())
}

/// PMOVMSKB r32/r64, mm or xmm (SSE, SSE2): zero-extended.
fn pmovmskb(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let v = movemask(&file.get(cpu, ins.op1_register()), file.bytes());
    cpu.set_reg(ins.op0_register(), v);
    file.done(cpu);
    Ok(())
}

/// PEXTRW r32/r64, mm, imm8 (word imm8[1:0]) or xmm, imm8 (imm8[2:0]),
/// zero-extended.
fn pextrw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let src = file.get(cpu, ins.op1_register());
    let sel = usize::from(ins.immediate8()) % (file.bytes() / 2);
    cpu.set_reg(ins.op0_register(), lane(&src, sel, 2));
    file.done(cpu);
    Ok(())
}

/// PINSRW mm or xmm, r32/r64/m16, imm8: the low word of the source into
/// word imm8[1:0] (MMX) or imm8[2:0] (XMM); m16 has no alignment rule.
fn pinsrw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let w = if ins.op1_kind() == OpKind::Register {
        cpu.reg(ins.op1_register())
    } else {
        let seg = Cpu::mem_segment(ins);
        let off = cpu.effective_address(ins);
        cpu.read_mem(bus, seg, off, 2)?
    };
    let dst = ins.op0_register();
    let mut r = file.get(cpu, dst);
    let sel = usize::from(ins.immediate8()) % (file.bytes() / 2);
    set_lane(&mut r, sel, 2, w);
    file.set(cpu, dst, r);
    Ok(())
}

/// MASKMOVQ mm1, mm2 (SSE) and MASKMOVDQU xmm1, xmm2 (SSE2): the bytes of
/// the first register whose byte in the second has its top bit set, to
/// DS:DI/EDI/RDI (the address size; a segment override applies), no
/// alignment rule. The whole 8 or 16 bytes are checked for writing first,
/// whatever the mask (the SDM lets exceptions be signalled even for an
/// all-zero mask, and the host this was compared with does so), then the
/// selected bytes are written one run at a time: a fault stores nothing.
/// #AC (with alignment checking at CPL 3) when the address is not 8-byte
/// aligned: MASKMOVQ's operand size; for MASKMOVDQU the 8-byte rule the
/// SDM gives the unaligned 128-bit accesses (Vol. 3 "Interrupt 17"),
/// which is also what an AMD host does.
fn maskmov(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let data = file.get(cpu, ins.op1_register());
    let sel = file.get(cpu, ins.op2_register());
    let n = file.bytes();
    let di = match ins.op0_kind() {
        OpKind::MemorySegDI => cpu.state.gpr[7] & 0xffff,
        OpKind::MemorySegEDI => cpu.state.gpr[7] & 0xffff_ffff,
        _ => cpu.state.gpr[7],
    };
    let seg = Cpu::mem_segment(ins);
    let lin = cpu.linearize(seg, di, n as u32, AccessKind::Write)?;
    let st = &cpu.state;
    let checks = st.cr0 & cr0::AM != 0 && st.rflags & flags::AC != 0 && st.cpl() == 3;
    if checks && lin & 7 != 0 {
        return Err(Exception::AC.into());
    }
    cpu.probe_write_mem(bus, seg, di, n as u32)?;
    let mut i = 0;
    while i < n {
        if sel[i] & 0x80 == 0 {
            i += 1;
            continue;
        }
        let end = (i..n).find(|&j| sel[j] & 0x80 == 0).unwrap_or(n);
        cpu.write_mem_block(bus, seg, di.wrapping_add(i as u64), &data[i..end])?;
        i = end;
    }
    file.done(cpu);
    Ok(())
}

/// MOVNTQ m64, mm (SSE) and MOVNTDQ m128, xmm (SSE2, 16-byte aligned):
/// stores; the non-temporal hint means nothing to xlat.
fn movnt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let file = File::of(ins);
    file.check(cpu, bus)?;
    let v = file.get(cpu, ins.op1_register());
    match file {
        File::Mmx => {
            let seg = Cpu::mem_segment(ins);
            let off = cpu.effective_address(ins);
            cpu.write_mem(bus, seg, off, 8, low64(&v))?;
        }
        File::Xmm => cpu.store_xmm_memory(bus, ins, v, Width::Aligned128)?,
    }
    file.done(cpu);
    Ok(())
}

#[cfg(test)]
#[path = "int_tests.rs"]
pub(super) mod tests;

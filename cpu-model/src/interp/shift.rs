//! Shifts and rotates: SHL/SAL SHR SAR ROL ROR RCL RCR SHLD SHRD.
//! SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD".
//!
//! Common rules (from the SDM pseudo-code):
//! - the count (imm8 or CL; the D0/D1 "by 1" forms arrive from iced-x86 as
//!   an immediate 1) is masked to 5 bits, 6 for 64-bit operands;
//! - a masked count of 0 changes no flags; the destination is still
//!   written back, so a 32-bit register destination has bits 63:32
//!   cleared, as on hardware; a memory destination is checked for writing
//!   but not written;
//! - OF is defined only for a count of 1. For other counts we apply the
//!   count-1 formula to the final values (the host oracle masks OF there);
//! - AF is undefined for every nonzero-count shift; hardware behaviour is
//!   not documented and we do not model a guess: AF is left unchanged.

use super::alu::read_rmw;
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, CF, OF, PF, SF, ZF};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Shl, shl);
    t.set(Mnemonic::Sal, shl);
    t.set(Mnemonic::Shr, shr);
    t.set(Mnemonic::Sar, sar);
    t.set(Mnemonic::Rol, rol);
    t.set(Mnemonic::Ror, ror);
    t.set(Mnemonic::Rcl, rcl);
    t.set(Mnemonic::Rcr, rcr);
    t.set(Mnemonic::Shld, shld);
    t.set(Mnemonic::Shrd, shrd);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Shl,
    Shr,
    Sar,
    Rol,
    Ror,
    Rcl,
    Rcr,
}

/// Flags written by shifts (AF left unchanged, see the module comment).
const SHIFT_FLAGS: u64 = CF | OF | SF | ZF | PF;
/// Flags written by rotates.
const ROTATE_FLAGS: u64 = CF | OF;

/// Count operand `i` masked to 5 bits (6 for a 64-bit operand).
fn masked_count(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    i: u32,
    size: u32,
) -> Result<u32, Exception> {
    let c = cpu.read_op(bus, ins, i)?;
    Ok((c & if size == 8 { 0x3f } else { 0x1f }) as u32)
}

/// Write back an unchanged destination after a zero count: registers only
/// (this zero-extends a 32-bit register); memory is left untouched.
fn write_back_zero_count(cpu: &mut Cpu, ins: &Instruction, v: u64) {
    if ins.op_kind(0) == OpKind::Register {
        cpu.set_reg(ins.op_register(0), v);
    }
}

/// Bit `n` of `v` as 0/1.
#[inline]
fn bit(v: u64, n: u32) -> u64 {
    (v >> n) & 1
}

/// Compute one shift or rotate of `v` (of `size` bytes) by the masked
/// count `c` (nonzero) with carry-in `cf_in`: (result, flags, flags mask).
fn compute(kind: Kind, v: u64, c: u32, cf_in: bool, size: u32) -> (u64, u64, u64) {
    let bits = size * 8;
    let m = flags::mask(size);
    let msb = |r: u64| bit(r, bits - 1);
    let (r, cf, of, mask) = match kind {
        Kind::Shl => {
            let r = if c < bits { (v << c) & m } else { 0 };
            // CF is undefined for counts > size (8/16-bit); hardware and
            // the SDM's "last bit shifted out" give 0 there.
            let cf = if c <= bits { bit(v, bits - c) } else { 0 };
            (r, cf, msb(r) ^ cf, SHIFT_FLAGS)
        }
        Kind::Shr => {
            let r = if c < bits { v >> c } else { 0 };
            let cf = if c <= bits { bit(v, c - 1) } else { 0 };
            // OF = MSB of the original operand (count-1 rule).
            (r, cf, msb(v), SHIFT_FLAGS)
        }
        Kind::Sar => {
            let sv = flags::sign_extend(v, size) as i64;
            let r = (sv >> c.min(63)) as u64 & m;
            let cf = ((sv >> (c - 1).min(63)) & 1) as u64;
            (r, cf, 0, SHIFT_FLAGS)
        }
        Kind::Rol => {
            let t = c % bits;
            let r = if t == 0 {
                v
            } else {
                ((v << t) | (v >> (bits - t))) & m
            };
            let cf = r & 1;
            (r, cf, msb(r) ^ cf, ROTATE_FLAGS)
        }
        Kind::Ror => {
            let t = c % bits;
            let r = if t == 0 {
                v
            } else {
                ((v >> t) | (v << (bits - t))) & m
            };
            (r, msb(r), msb(r) ^ bit(r, bits - 2), ROTATE_FLAGS)
        }
        Kind::Rcl | Kind::Rcr => {
            // Rotate the (bits + 1)-bit value CF:v. The count is taken
            // modulo 9 / 17 for 8/16-bit operands; 32/64-bit counts are
            // already below 33 / 65.
            let width = bits + 1;
            let t = c % width;
            let wmask = (1u128 << width) - 1;
            let x = (u128::from(cf_in) << bits) | u128::from(v);
            let y = match (t, kind) {
                (0, _) => x,
                (_, Kind::Rcl) => ((x << t) | (x >> (width - t))) & wmask,
                _ => ((x >> t) | (x << (width - t))) & wmask,
            };
            let r = (y as u64) & m;
            let cf = (y >> bits) as u64 & 1;
            let of = if kind == Kind::Rcl {
                // SDM: OF := MSB(DEST) XOR CF, after the rotate.
                msb(r) ^ cf
            } else {
                // SDM: OF := MSB(DEST) XOR CF before the rotate, which for
                // a count of 1 equals the top two result bits XORed.
                msb(r) ^ bit(r, bits - 2)
            };
            if t == 0 {
                // Count a multiple of 9/17: nothing rotates, CF keeps its
                // value and OF (undefined) is left unchanged.
                return (r, 0, 0);
            }
            (r, cf, of, ROTATE_FLAGS)
        }
    };
    let mut f = (cf * CF) | (of * OF);
    if mask == SHIFT_FLAGS {
        f |= flags::szp(r, size);
    }
    (r, f, mask)
}

fn shift(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, kind: Kind) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let v = read_rmw(cpu, bus, ins, 0)?;
    let c = masked_count(cpu, bus, ins, 1, size)?;
    if c == 0 {
        write_back_zero_count(cpu, ins, v);
        return Ok(());
    }
    let (r, f, mask) = compute(kind, v, c, cpu.flag(CF), size);
    cpu.write_op(bus, ins, 0, r)?;
    cpu.set_flags(mask, f);
    Ok(())
}

/// SHL / SAL: CF = last bit shifted out (0 for counts above the operand
/// size, where the SDM leaves it undefined); OF = MSB(result) XOR CF;
/// SF, ZF, PF from the result; AF unchanged (undefined).
/// SDM Vol. 2 "SAL/SAR/SHL/SHR".
fn shl(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Shl)
}

/// SHR: CF = last bit shifted out (0 beyond the operand size); OF = MSB of
/// the original operand; SF, ZF, PF from the result; AF unchanged.
/// SDM Vol. 2 "SAL/SAR/SHL/SHR".
fn shr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Shr)
}

/// SAR: arithmetic shift; CF = last bit shifted out (the sign bit for
/// counts at or beyond the operand size); OF = 0; SF, ZF, PF from the
/// result; AF unchanged. SDM Vol. 2 "SAL/SAR/SHL/SHR".
fn sar(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Sar)
}

/// ROL: rotate by count mod size; CF = LSB(result) whenever the masked
/// count is nonzero; OF = MSB(result) XOR CF; other flags unaffected.
/// SDM Vol. 2 "RCL/RCR/ROL/ROR".
fn rol(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Rol)
}

/// ROR: CF = MSB(result); OF = XOR of the two most significant result
/// bits. SDM Vol. 2 "RCL/RCR/ROL/ROR".
fn ror(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Ror)
}

/// RCL: rotate CF:dest left by count (mod 9 / mod 17 for 8/16-bit
/// operands); OF = MSB(result) XOR new CF. SDM Vol. 2 "RCL/RCR/ROL/ROR".
fn rcl(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Rcl)
}

/// RCR: rotate dest:CF right; OF = XOR of the two most significant result
/// bits (= the SDM's MSB(DEST) XOR CF before a 1-bit rotate).
/// SDM Vol. 2 "RCL/RCR/ROL/ROR".
fn rcr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shift(cpu, bus, ins, Kind::Rcr)
}

/// Double-precision shift of dest (`d`) with src (`s`) by masked count `c`
/// (nonzero): (result, CF).
///
/// 16-bit operands can have counts 17–31, where the SDM leaves the result
/// and flags undefined. We do what P6 and later Intel cores are documented
/// (by Bochs, which models them) to do: shift the 48-bit value
/// `dest:src:dest` and take the 16 bits that land in the destination; CF
/// is the last bit shifted out of that value. For counts up to 16 this is
/// exactly the SDM operation.
fn double_shift(left: bool, d: u64, s: u64, c: u32, size: u32) -> (u64, u64) {
    let bits = size * 8;
    let m = flags::mask(size);
    if size == 2 {
        let w = (d << 32) | (s << 16) | d;
        if left {
            ((w >> (32 - c)) & 0xffff, bit(w, 48 - c))
        } else {
            ((w >> c) & 0xffff, bit(w, c - 1))
        }
    } else if left {
        let x = (u128::from(d) << bits) | u128::from(s);
        ((x >> (bits - c)) as u64 & m, bit(d, bits - c))
    } else {
        let x = (u128::from(s) << bits) | u128::from(d);
        ((x >> c) as u64 & m, bit(d, c - 1))
    }
}

fn shxd(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, left: bool) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let bits = size * 8;
    let d = read_rmw(cpu, bus, ins, 0)?;
    let s = cpu.read_op(bus, ins, 1)?;
    let c = masked_count(cpu, bus, ins, 2, size)?;
    if c == 0 {
        write_back_zero_count(cpu, ins, d);
        return Ok(());
    }
    let (r, cf) = double_shift(left, d, s, c, size);
    // OF: sign change for a 1-bit shift, written here in forms that use
    // only the result and CF (equal for a count of 1).
    let of = if left {
        bit(r, bits - 1) ^ cf
    } else {
        bit(r, bits - 1) ^ bit(r, bits - 2)
    };
    cpu.write_op(bus, ins, 0, r)?;
    cpu.set_flags(SHIFT_FLAGS, (cf * CF) | (of * OF) | flags::szp(r, size));
    Ok(())
}

/// SHLD dest, src, count: shift dest left filling from the top of src.
/// CF = last bit out of dest; SF, ZF, PF from the result; OF = sign change
/// (for counts > 1: MSB(result) XOR CF); AF unchanged (undefined). 16-bit
/// counts above 16: see [`double_shift`]. SDM Vol. 2 "SHLD".
fn shld(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shxd(cpu, bus, ins, true)
}

/// SHRD dest, src, count: shift dest right filling from the bottom of src.
/// Flags as SHLD (OF for counts > 1: XOR of the two top result bits).
/// SDM Vol. 2 "SHRD".
fn shrd(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shxd(cpu, bus, ins, false)
}

#[cfg(test)]
mod tests {
    use super::super::alu::testutil::*;
    use crate::interp::tests::{long64, real_mode, run};
    use crate::state::reg;

    /// Run `f`'s code in 64-bit mode with RAX = `a`, RDX = `d`, RCX = `c`
    /// and status flags `fl`; return (RAX, status flags).
    fn sh(
        a: u64,
        d: u64,
        c: u64,
        fl: u64,
        f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    ) -> (u64, u64) {
        let (mut cpu, mut bus) = long64(&asm(64, f));
        cpu.state.gpr[reg::RAX] = a;
        cpu.state.gpr[reg::RDX] = d;
        cpu.state.gpr[reg::RCX] = c;
        cpu.state.rflags |= fl;
        exec_n(&mut cpu, &mut bus, 1);
        (cpu.state.gpr[reg::RAX], status(&cpu))
    }

    #[test]
    fn shl_counts() {
        // Count 1 (D0 /4): CF = old MSB, OF = MSB(r) ^ CF.
        assert_eq!(sh(0x81, 0, 0, 0, |a| a.shl(al, 1)), (0x02, CF | OF));
        assert_eq!(sh(0x40, 0, 0, 0, |a| a.shl(al, 1)), (0x80, SF | OF));
        assert_eq!(sh(0xc0, 0, 0, 0, |a| a.shl(al, 1)), (0x80, SF | CF));
        // Count 0 changes no flags; count masked to 5 bits (32 -> 0).
        let all = STATUS;
        assert_eq!(sh(0x81, 0, 32, all, |a| a.shl(al, cl)), (0x81, all));
        // Count = size: CF = bit 0, result 0.
        assert_eq!(sh(0x01, 0, 8, 0, |a| a.shl(al, cl)), (0, ZF | PF | CF | OF));
        // Count > size (8-bit, count 9): result 0, CF 0.
        assert_eq!(sh(0xff, 0, 9, CF, |a| a.shl(al, cl)), (0, ZF | PF));
        // AF is left as it was.
        assert_eq!(sh(1, 0, 4, AF, |a| a.shl(ax, cl)), (0x10, AF));
        assert_eq!(
            sh(0x8000_0001, 0, 31, 0, |a| a.shl(eax, cl)),
            (0x8000_0000, SF | PF | OF)
        );
        // 64-bit: count masked to 6 bits (65 -> 1).
        assert_eq!(
            sh(0x8000_0000_0000_0001, 0, 65, 0, |a| a.shl(rax, cl)),
            (2, CF | OF)
        );
        assert_eq!(sh(1, 0, 63, 0, |a| a.shl(rax, cl)), (1 << 63, SF | PF | OF));
    }

    #[test]
    fn sal_encoding_d0_6() {
        // D0 F0 = SAL al, 1 via the /6 alias.
        let (mut cpu, mut bus) = long64(&[0xd0, 0xf0]);
        cpu.state.gpr[reg::RAX] = 0x41;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x82);
        assert_eq!(status(&cpu), SF | OF | PF);
    }

    #[test]
    fn zero_count_zero_extends_32_bit_register() {
        assert_eq!(
            sh(0xffff_ffff_8000_0000, 0, 0, CF, |a| a.shl(eax, cl)),
            (0x8000_0000, CF)
        );
        assert_eq!(
            sh(0xffff_ffff_0000_0001, 0, 0, 0, |a| a.rol(eax, 0)),
            (1, 0)
        );
    }

    #[test]
    fn shr_and_sar() {
        assert_eq!(sh(0x81, 0, 0, 0, |a| a.shr(al, 1)), (0x40, CF | OF));
        assert_eq!(sh(0x02, 0, 0, 0, |a| a.shr(al, 1)), (0x01, 0));
        assert_eq!(
            sh(0x8000, 0, 16, 0, |a| a.shr(ax, cl)),
            (0, ZF | PF | CF | OF)
        );
        assert_eq!(sh(0xffff, 0, 17, CF, |a| a.shr(ax, cl)), (0, ZF | PF | OF));
        assert_eq!(sh(u64::MAX, 0, 63, 0, |a| a.shr(rax, cl)), (1, CF | OF));
        assert_eq!(sh(0x81, 0, 0, 0, |a| a.sar(al, 1)), (0xc0, SF | CF | PF));
        // SAR by more than the size fills with the sign; CF = sign.
        assert_eq!(sh(0x88, 0, 9, 0, |a| a.sar(al, cl)), (0xff, SF | PF | CF));
        assert_eq!(sh(0x7f, 0, 31, CF, |a| a.sar(al, cl)), (0, ZF | PF));
        assert_eq!(
            sh(0x8000_0000_0000_0000, 0, 63, 0, |a| a.sar(rax, cl)),
            (u64::MAX, SF | PF)
        );
        assert_eq!(
            sh(0xffff_fffe, 0, 0, 0, |a| a.sar(eax, 1)),
            (0xffff_ffff, SF | PF)
        );
    }

    #[test]
    fn rol_ror() {
        assert_eq!(sh(0x81, 0, 0, 0, |a| a.rol(al, 1)), (0x03, CF | OF));
        assert_eq!(sh(0x40, 0, 0, ZF, |a| a.rol(al, 1)), (0x80, OF | ZF));
        // Count 8 on a byte: no rotation, but CF = LSB, OF computed.
        assert_eq!(sh(0x81, 0, 8, 0, |a| a.rol(al, cl)), (0x81, CF));
        assert_eq!(sh(0x1234, 0, 4, 0, |a| a.rol(ax, cl)), (0x2341, CF | OF));
        assert_eq!(sh(0x01, 0, 0, 0, |a| a.ror(al, 1)), (0x80, CF | OF));
        assert_eq!(sh(0x02, 0, 0, 0, |a| a.ror(al, 1)), (0x01, 0));
        assert_eq!(
            sh(0x1234_5678, 0, 36, 0, |a| a.ror(eax, cl)),
            (0x8123_4567, CF | OF)
        );
        assert_eq!(
            sh(0x8000_0000_0000_0001, 0, 0, 0, |a| a.rol(rax, 4)),
            (0x18, 0)
        );
        assert_eq!(
            sh(1, 0, 64 + 1, 0, |a| a.ror(rax, cl)),
            (0x8000_0000_0000_0000, CF | OF)
        );
    }

    #[test]
    fn rcl_rcr() {
        assert_eq!(sh(0x80, 0, 0, 0, |a| a.rcl(al, 1)), (0x00, CF | OF));
        assert_eq!(sh(0x00, 0, 0, CF, |a| a.rcl(al, 1)), (0x01, 0));
        // 9-bit rotate: count 9 is a full turn, nothing changes.
        assert_eq!(sh(0x5a, 0, 9, CF | OF, |a| a.rcl(al, cl)), (0x5a, CF | OF));
        // Count 10 on a byte = count 1.
        assert_eq!(sh(0x80, 0, 10, 0, |a| a.rcl(al, cl)), (0x00, CF | OF));
        // 16-bit: count 17 is a full turn; 18 = 1.
        assert_eq!(sh(0x8001, 0, 17, 0, |a| a.rcl(ax, cl)), (0x8001, 0));
        assert_eq!(sh(0x8001, 0, 18, 0, |a| a.rcl(ax, cl)), (0x0002, CF | OF));
        assert_eq!(sh(0x01, 0, 0, 0, |a| a.rcr(al, 1)), (0x00, CF));
        assert_eq!(sh(0x01, 0, 0, CF, |a| a.rcr(al, 1)), (0x80, CF | OF));
        assert_eq!(sh(0, 0, 31, CF, |a| a.rcr(eax, cl)), (2, 0));
        assert_eq!(sh(1, 0, 63, 0, |a| a.rcl(rax, cl)), (1 << 63, OF));
        assert_eq!(sh(1, 0, 1, CF, |a| a.rcr(rax, cl)), (1 << 63, CF | OF));
        // Rotates leave SF, ZF, AF, PF alone.
        assert_eq!(
            sh(0, 0, 0, SF | AF | PF, |a| a.rcr(al, 1)),
            (0, SF | AF | PF)
        );
    }

    #[test]
    fn shld_shrd() {
        // EAX = dest, EDX = src, CL = count.
        assert_eq!(
            sh(0x1234_5678, 0x9abc_def0, 8, 0, |a| a.shld(eax, edx, cl)),
            (0x3456_789a, PF)
        );
        assert_eq!(
            sh(0x8000_0000, 0xffff_ffff, 1, 0, |a| a.shld(eax, edx, 1)),
            (0x0000_0001, CF | OF)
        );
        assert_eq!(
            sh(0x1234_5678, 0x9abc_def0, 8, 0, |a| a.shrd(eax, edx, cl)),
            (0xf012_3456, SF | PF)
        );
        assert_eq!(
            sh(0x0000_0001, 0x0000_0001, 1, 0, |a| a.shrd(eax, edx, cl)),
            (0x8000_0000, SF | PF | CF | OF)
        );
        // Count 0 (masked 32): flags unchanged, EAX zero-extended.
        assert_eq!(
            sh(0xffff_ffff_0000_0005, 7, 32, CF, |a| a.shld(eax, edx, cl)),
            (5, CF)
        );
        // 64-bit, count 63 and 64 (masked to 0).
        assert_eq!(
            sh(1, 0x8000_0000_0000_0000, 63, 0, |a| a.shld(rax, rdx, cl)),
            (0x8000_0000_0000_0000 | 0x4000_0000_0000_0000, SF | PF | OF)
        );
        assert_eq!(
            sh(3, u64::MAX, 1, 0, |a| a.shrd(rax, rdx, 1)),
            (0x8000_0000_0000_0001, SF | CF | OF)
        );
        // 16-bit, count 16: result = src, CF = bit 0 of dest.
        assert_eq!(
            sh(0x0001, 0xabcd, 16, 0, |a| a.shld(ax, dx, cl)),
            (0xabcd, SF | CF)
        );
        // 16-bit, count 20 > 16: the 48-bit dest:src:dest model.
        assert_eq!(
            sh(0x1234, 0xabcd, 20, 0, |a| a.shld(ax, dx, cl)),
            (0xbcd1, SF | OF | PF)
        );
        assert_eq!(
            sh(0x1234, 0xabcd, 20, 0, |a| a.shrd(ax, dx, cl)),
            (0x4abc, CF | OF)
        );
    }

    #[test]
    fn memory_forms() {
        let code = asm(64, |a| {
            a.shl(dword_ptr(rbx), 4)?;
            a.rcr(word_ptr(rbx + 8), cl)?;
            a.shrd(qword_ptr(rbx + 16), rdx, 4)?;
            a.sar(byte_ptr(rbx + 24), 0)
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RBX] = 0x3000;
        cpu.state.gpr[reg::RCX] = 1;
        cpu.state.gpr[reg::RDX] = 0xf;
        wr(&mut bus, 0x3000, 8, 0xaaaa_aaaa_1234_5678);
        wr(&mut bus, 0x3008, 2, 0x0003);
        wr(&mut bus, 0x3010, 8, 0x1234_5678_9abc_def0);
        wr(&mut bus, 0x3018, 1, 0x80);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3000, 8), 0xaaaa_aaaa_2345_6780);
        assert_eq!(status(&cpu), CF | OF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3008, 2), 0x8001);
        assert_eq!(status(&cpu), CF | OF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3010, 8), 0xf123_4567_89ab_cdef);
        assert_eq!(status(&cpu), SF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3018, 1), 0x80);
        assert_eq!(status(&cpu), SF);
    }

    #[test]
    fn real_mode_forms() {
        let code = asm(16, |a| {
            a.shl(ax, 1)?;
            a.shr(bh, cl)?;
            a.rol(dword_ptr(si), 8)
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[reg::RAX] = 0x4000;
        cpu.state.gpr[reg::RBX] = 0x8000;
        cpu.state.gpr[reg::RCX] = 7;
        cpu.state.gpr[reg::RSI] = 0x2000;
        wr(&mut bus, 0x2000, 4, 0x1122_3344);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x8000);
        assert_eq!(status(&cpu), SF | OF | PF);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RBX], 0x0100);
        assert_eq!(status(&cpu), OF);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x2000, 4), 0x2233_4411);
        assert_eq!(status(&cpu), CF | OF);
    }
}

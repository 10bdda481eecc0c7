//! Bit-manipulation extensions: BMI1 (ANDN BEXTR BLSI BLSMSK BLSR), BMI2
//! (BZHI MULX PDEP PEXT RORX SARX SHLX SHRX) and ADX (ADCX ADOX).
//! SDM Vol. 2 pages of those names. (TZCNT, also BMI1, is in bitops.rs.)
//!
//! BMI1/BMI2 are VEX-encoded, 32- or 64-bit only (VEX.W). VEX encodings
//! are #UD in real-address and virtual-8086 mode (SDM Vol. 2 §2.3.2.1);
//! iced-x86 rejects VEX.L = 1 and LOCK for these already. Operand order is
//! iced-x86's: operand 0 the destination, then the operands in Intel
//! syntax order (VEX.vvvv and ModRM.rm at the positions the SDM gives).

use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, CF, OF, SF, ZF};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Andn, andn);
    t.set(Mnemonic::Bextr, bextr);
    t.set(Mnemonic::Blsi, blsi);
    t.set(Mnemonic::Blsmsk, blsmsk);
    t.set(Mnemonic::Blsr, blsr);
    t.set(Mnemonic::Bzhi, bzhi);
    t.set(Mnemonic::Mulx, mulx);
    t.set(Mnemonic::Pdep, pdep);
    t.set(Mnemonic::Pext, pext);
    t.set(Mnemonic::Rorx, rorx);
    t.set(Mnemonic::Sarx, sarx);
    t.set(Mnemonic::Shlx, shlx);
    t.set(Mnemonic::Shrx, shrx);
    t.set(Mnemonic::Adcx, adcx);
    t.set(Mnemonic::Adox, adox);
}

/// VEX encodings need protected mode outside virtual-8086 mode.
fn vex_ok(cpu: &Cpu) -> Result<(), Fault> {
    if !cpu.state.protected() || cpu.state.v86() {
        return Err(Exception::UD.into());
    }
    Ok(())
}

/// Operand size in bytes and its mask.
fn size_of(ins: &Instruction) -> (u32, u64) {
    let size = Cpu::op_size(ins, 0);
    (size, flags::mask(size))
}

/// Set SF and ZF from `r`, CF as given, OF = 0 (the common BMI1 pattern);
/// AF and PF are undefined and left unchanged.
fn set_sz_cf(cpu: &mut Cpu, r: u64, size: u32, cf: bool) {
    let f = (flags::szp(r, size) & (SF | ZF)) | if cf { CF } else { 0 };
    cpu.set_flags(CF | OF | SF | ZF, f);
}

/// ANDN dest, src1, src2: dest = !src1 & src2. SF, ZF from the result;
/// CF = OF = 0; AF, PF undefined, left unchanged. SDM Vol. 2 "ANDN".
fn andn(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let a = cpu.read_op(bus, ins, 1)?;
    let b = cpu.read_op(bus, ins, 2)?;
    let r = !a & b & m;
    cpu.write_op(bus, ins, 0, r)?;
    set_sz_cf(cpu, r, size, false);
    Ok(())
}

/// BEXTR dest, src, control: extract control[15:8] bits of src starting
/// at bit control[7:0] (bits beyond the operand read as 0). ZF from the
/// result; CF = OF = 0; AF, SF, PF undefined, left unchanged. The AMD TBM
/// form with an immediate control (XOP) is not advertised: #UD.
/// SDM Vol. 2 "BEXTR".
fn bextr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if matches!(
        ins.code(),
        Code::XOP_Bextr_r32_rm32_imm32 | Code::XOP_Bextr_r64_rm64_imm32
    ) {
        return Err(Exception::UD.into());
    }
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let bits = size * 8;
    let src = cpu.read_op(bus, ins, 1)? & m;
    let ctl = cpu.read_op(bus, ins, 2)?;
    let start = (ctl & 0xff) as u32;
    let len = ((ctl >> 8) & 0xff) as u32;
    let r = if start >= bits {
        0
    } else {
        let x = src >> start;
        if len >= 64 {
            x
        } else {
            x & ((1u64 << len) - 1)
        }
    };
    cpu.write_op(bus, ins, 0, r)?;
    cpu.set_flags(CF | OF | ZF, if r == 0 { ZF } else { 0 });
    Ok(())
}

/// BLSI dest, src: isolate the lowest set bit (src & -src). SF, ZF from
/// the result; CF = (src != 0); OF = 0; AF, PF undefined, left unchanged.
/// SDM Vol. 2 "BLSI".
fn blsi(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let r = src & src.wrapping_neg() & m;
    cpu.write_op(bus, ins, 0, r)?;
    set_sz_cf(cpu, r, size, src != 0);
    Ok(())
}

/// BLSMSK dest, src: mask up to the lowest set bit ((src - 1) ^ src). SF
/// from the result; ZF = 0; CF = (src == 0); OF = 0; AF, PF undefined,
/// left unchanged. SDM Vol. 2 "BLSMSK".
fn blsmsk(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let r = (src.wrapping_sub(1) ^ src) & m;
    cpu.write_op(bus, ins, 0, r)?;
    // r is never 0, so ZF comes out 0 as the SDM specifies.
    set_sz_cf(cpu, r, size, src == 0);
    Ok(())
}

/// BLSR dest, src: clear the lowest set bit ((src - 1) & src). SF, ZF
/// from the result; CF = (src == 0); OF = 0; AF, PF undefined, left
/// unchanged. SDM Vol. 2 "BLSR".
fn blsr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let r = src.wrapping_sub(1) & src & m;
    cpu.write_op(bus, ins, 0, r)?;
    set_sz_cf(cpu, r, size, src == 0);
    Ok(())
}

/// BZHI dest, src, index: clear the bits of src from index[7:0] up. If
/// the index is at least the operand size, dest = src and CF = 1, else
/// CF = 0. SF, ZF from the result; OF = 0; AF, PF undefined, left
/// unchanged. SDM Vol. 2 "BZHI".
fn bzhi(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let n = (cpu.read_op(bus, ins, 2)? & 0xff) as u32;
    let big = n >= size * 8;
    let r = if big { src } else { src & ((1u64 << n) - 1) };
    cpu.write_op(bus, ins, 0, r)?;
    set_sz_cf(cpu, r, size, big);
    Ok(())
}

/// MULX hi, lo, src: unsigned EDX/RDX * src; the low half goes to the
/// second operand, then the high half to the first (so if both name the
/// same register it holds the high half). Flags unaffected.
/// SDM Vol. 2 "MULX".
fn mulx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 2)? & m;
    let d = cpu.reg(if size == 8 {
        Register::RDX
    } else {
        Register::EDX
    });
    let p = u128::from(d) * u128::from(src);
    cpu.write_op(bus, ins, 1, (p as u64) & m)?;
    cpu.write_op(bus, ins, 0, ((p >> (size * 8)) as u64) & m)?;
    Ok(())
}

/// PDEP dest, src, mask: deposit the low bits of src at the set bit
/// positions of mask. Flags unaffected. SDM Vol. 2 "PDEP".
fn pdep(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (_, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let mut mask = cpu.read_op(bus, ins, 2)? & m;
    let mut r = 0u64;
    let mut k = 0;
    while mask != 0 {
        let low = mask & mask.wrapping_neg();
        if (src >> k) & 1 != 0 {
            r |= low;
        }
        k += 1;
        mask &= mask - 1;
    }
    cpu.write_op(bus, ins, 0, r)?;
    Ok(())
}

/// PEXT dest, src, mask: gather the bits of src at the set bit positions
/// of mask into the low bits of dest. Flags unaffected. SDM Vol. 2 "PEXT".
fn pext(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (_, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let mut mask = cpu.read_op(bus, ins, 2)? & m;
    let mut r = 0u64;
    let mut k = 0;
    while mask != 0 {
        let low = mask & mask.wrapping_neg();
        if src & low != 0 {
            r |= 1 << k;
        }
        k += 1;
        mask &= mask - 1;
    }
    cpu.write_op(bus, ins, 0, r)?;
    Ok(())
}

/// RORX dest, src, imm8: rotate right by imm8 masked to 5 (6 for 64-bit)
/// bits. Flags unaffected. SDM Vol. 2 "RORX".
fn rorx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let bits = size * 8;
    let src = cpu.read_op(bus, ins, 1)? & m;
    let c = (cpu.read_op(bus, ins, 2)? as u32) & (bits - 1);
    let r = if c == 0 {
        src
    } else {
        ((src >> c) | (src << (bits - c))) & m
    };
    cpu.write_op(bus, ins, 0, r)?;
    Ok(())
}

/// SARX / SHLX / SHRX dest, src, count: shift by count masked to 5 (6 for
/// 64-bit) bits. Flags unaffected. SDM Vol. 2 "SARX/SHLX/SHRX".
fn shiftx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    vex_ok(cpu)?;
    let (size, m) = size_of(ins);
    let src = cpu.read_op(bus, ins, 1)? & m;
    let c = (cpu.read_op(bus, ins, 2)? as u32) & (size * 8 - 1);
    let r = match ins.mnemonic() {
        Mnemonic::Sarx => ((flags::sign_extend(src, size) as i64) >> c) as u64,
        Mnemonic::Shlx => src << c,
        _ => src >> c,
    } & m;
    cpu.write_op(bus, ins, 0, r)?;
    Ok(())
}

/// SARX: arithmetic shift right. See [`shiftx`].
fn sarx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shiftx(cpu, bus, ins)
}

/// SHLX: shift left. See [`shiftx`].
fn shlx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shiftx(cpu, bus, ins)
}

/// SHRX: logical shift right. See [`shiftx`].
fn shrx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    shiftx(cpu, bus, ins)
}

/// ADCX / ADOX: unsigned add with carry through `flag` (CF or OF); only
/// that flag is written. Legacy-encoded (66/F3 0F 38 F6), so valid in
/// every mode. SDM Vol. 2 "ADCX", "ADOX".
fn add_carry(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, flag: u64) -> Result<(), Fault> {
    let (size, m) = size_of(ins);
    let a = cpu.read_op(bus, ins, 0)? & m;
    let b = cpu.read_op(bus, ins, 1)? & m;
    let (r, f) = flags::add(a, b, cpu.flag(flag), size);
    cpu.write_op(bus, ins, 0, r)?;
    cpu.set_flags(flag, if f & CF != 0 { flag } else { 0 });
    Ok(())
}

/// ADCX: dest += src + CF; CF = carry out; other flags unaffected.
fn adcx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    add_carry(cpu, bus, ins, CF)
}

/// ADOX: dest += src + OF; OF = carry out; other flags unaffected.
fn adox(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    add_carry(cpu, bus, ins, OF)
}

#[cfg(test)]
mod tests {
    use super::super::alu::testutil::*;
    use crate::exception::{Exception, Fault};
    use crate::interp::tests::{long64, prot32, real_mode};
    use crate::state::reg;

    /// Run `f` in 64-bit mode with RBX = `b`, RCX = `c`, RDX = `d` and
    /// flags `fl`, RAX = 0x5555; return (RAX, status flags).
    fn bm(
        b: u64,
        c: u64,
        d: u64,
        fl: u64,
        f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    ) -> (u64, u64) {
        let (mut cpu, mut bus) = long64(&asm(64, f));
        cpu.state.gpr[reg::RAX] = 0x5555;
        cpu.state.gpr[reg::RBX] = b;
        cpu.state.gpr[reg::RCX] = c;
        cpu.state.gpr[reg::RDX] = d;
        cpu.state.rflags |= fl;
        exec_n(&mut cpu, &mut bus, 1);
        (cpu.state.gpr[reg::RAX], status(&cpu))
    }

    #[test]
    fn andn_blsx() {
        let keep = AF | PF;
        assert_eq!(
            bm(0xff00, 0x0ff0, 0, CF | OF | keep, |a| a.andn(eax, ebx, ecx)),
            (0x00f0, keep)
        );
        assert_eq!(
            bm(u64::MAX, 0x1234, 0, 0, |a| a.andn(rax, rbx, rcx)),
            (0, ZF)
        );
        assert_eq!(
            bm(0, 1 << 63, 0, 0, |a| a.andn(rax, rbx, rcx)),
            (1 << 63, SF)
        );
        assert_eq!(
            bm(0b1011_0000, 0, 0, 0, |a| a.blsi(eax, ebx)),
            (0b1_0000, CF)
        );
        assert_eq!(bm(0, 0, 0, CF | OF, |a| a.blsi(rax, rbx)), (0, ZF));
        assert_eq!(
            bm(1 << 63, 0, 0, 0, |a| a.blsi(rax, rbx)),
            (1 << 63, SF | CF)
        );
        assert_eq!(
            bm(0b1011_0000, 0, 0, ZF, |a| a.blsmsk(eax, ebx)),
            (0b1_1111, 0)
        );
        assert_eq!(
            bm(0, 0, 0, 0, |a| a.blsmsk(eax, ebx)),
            (0xffff_ffff, SF | CF)
        );
        assert_eq!(bm(0, 0, 0, 0, |a| a.blsmsk(rax, rbx)), (u64::MAX, SF | CF));
        assert_eq!(
            bm(0b1011_0000, 0, 0, 0, |a| a.blsr(eax, ebx)),
            (0b1010_0000, 0)
        );
        assert_eq!(bm(0, 0, 0, 0, |a| a.blsr(rax, rbx)), (0, ZF | CF));
        assert_eq!(
            bm(0x8000_0001, 0, 0, 0, |a| a.blsr(eax, ebx)),
            (0x8000_0000, SF)
        );
    }

    #[test]
    fn bextr_bzhi() {
        // start 4, length 8.
        assert_eq!(
            bm(0x1234_5678, 0x0804, 0, CF | OF, |a| a.bextr(eax, ebx, ecx)),
            (0x67, 0)
        );
        // length beyond the operand: everything above start.
        assert_eq!(
            bm(0xf000_0000, 0xff1c, 0, 0, |a| a.bextr(eax, ebx, ecx)),
            (0xf, 0)
        );
        // start beyond the operand: 0.
        assert_eq!(
            bm(u64::MAX, 0x0840, 0, 0, |a| a.bextr(rax, rbx, rcx)),
            (0, ZF)
        );
        assert_eq!(
            bm(u64::MAX, 0x4000, 0, 0, |a| a.bextr(rax, rbx, rcx)),
            (u64::MAX, 0)
        );
        assert_eq!(
            bm(u64::MAX, 0x0000, 0, 0, |a| a.bextr(rax, rbx, rcx)),
            (0, ZF)
        );
        // Only control bits 15:0 count.
        assert_eq!(
            bm(0xff, 0xffff_ff04, 0, 0, |a| a.bextr(eax, ebx, ecx)),
            (0xf, 0)
        );
        assert_eq!(bm(u64::MAX, 8, 0, 0, |a| a.bzhi(eax, ebx, ecx)), (0xff, 0));
        assert_eq!(bm(u64::MAX, 0, 0, 0, |a| a.bzhi(eax, ebx, ecx)), (0, ZF));
        assert_eq!(
            bm(0x8000_0000, 32, 0, 0, |a| a.bzhi(eax, ebx, ecx)),
            (0x8000_0000, SF | CF)
        );
        assert_eq!(
            bm(u64::MAX, 0x13f, 0, 0, |a| a.bzhi(rax, rbx, rcx)),
            (u64::MAX >> 1, 0)
        );
        assert_eq!(
            bm(u64::MAX, 0xff, 0, 0, |a| a.bzhi(rax, rbx, rcx)),
            (u64::MAX, SF | CF)
        );
    }

    #[test]
    fn mulx_pdep_pext() {
        let code = asm(64, |a| {
            a.mulx(rax, rcx, rbx)?;
            a.mulx(r8d, r8d, ebx)?;
            a.pdep(r9, rsi, rdi)?;
            a.pext(r10d, esi, edi)
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RDX] = u64::MAX;
        cpu.state.gpr[reg::RBX] = 3;
        cpu.state.gpr[reg::RSI] = 0b1011;
        cpu.state.gpr[reg::RDI] = 0xf0f0_0000_0000_f0f0;
        cpu.state.gpr[8] = 0xdead_beef_dead_beef;
        cpu.state.rflags |= CF | ZF;
        exec_n(&mut cpu, &mut bus, 4);
        // MAX * 3 = 2 * 2^64 + (2^64 - 3).
        assert_eq!(cpu.state.gpr[reg::RAX], 2);
        assert_eq!(cpu.state.gpr[reg::RCX], u64::MAX - 2);
        // Same destination twice: the high half wins (EDX * 3 -> hi 2).
        assert_eq!(cpu.state.gpr[8], 2);
        // PDEP 1011 into the set bits of 0xf0f0..: bits 4,5,7.
        assert_eq!(cpu.state.gpr[9], 0b1011_0000);
        // PEXT the bits of 1011 at the mask positions 4..7, 12..15: 0.
        assert_eq!(cpu.state.gpr[10], 0);
        assert_eq!(status(&cpu), CF | ZF);
        assert_eq!(
            bm(0x1234_5678, 0, 0, 0, |a| a.pext(
                eax,
                ebx,
                dword_ptr(0x3000)
            )),
            (0, 0)
        );
    }

    #[test]
    fn pdep_pext_values() {
        assert_eq!(
            bm(0x1234_5678, 0xff00_ff00, 0, 0, |a| a.pext(eax, ebx, ecx)),
            (0x1256, 0)
        );
        assert_eq!(
            bm(0x1256, 0xff00_ff00, 0, 0, |a| a.pdep(eax, ebx, ecx)),
            (0x1200_5600, 0)
        );
        assert_eq!(
            bm(u64::MAX, 1 << 63 | 1, 0, 0, |a| a.pext(rax, rbx, rcx)),
            (3, 0)
        );
        assert_eq!(
            bm(3, 1 << 63 | 1, 0, 0, |a| a.pdep(rax, rbx, rcx)),
            (1 << 63 | 1, 0)
        );
    }

    #[test]
    fn rorx_and_shifts_without_flags() {
        let all = STATUS;
        assert_eq!(
            bm(0x1234_5678, 0, 0, all, |a| a.rorx(eax, ebx, 8)),
            (0x7812_3456, all)
        );
        assert_eq!(
            bm(0x1234_5678, 0, 0, 0, |a| a.rorx(eax, ebx, 40)),
            (0x7812_3456, 0)
        );
        assert_eq!(bm(1, 0, 0, 0, |a| a.rorx(rax, rbx, 1)), (1 << 63, 0));
        assert_eq!(bm(5, 0, 0, 0, |a| a.rorx(rax, rbx, 64)), (5, 0));
        assert_eq!(
            bm(0x8000_0000, 4, 0, 0, |a| a.sarx(eax, ebx, ecx)),
            (0xf800_0000, 0)
        );
        assert_eq!(
            bm(0x8000_0000, 36, 0, 0, |a| a.shrx(eax, ebx, ecx)),
            (0x0800_0000, 0)
        );
        assert_eq!(bm(1, 63, 0, 0, |a| a.shlx(rax, rbx, rcx)), (1 << 63, 0));
        assert_eq!(bm(1, 64, 0, 0, |a| a.shlx(rax, rbx, rcx)), (1, 0));
        assert_eq!(
            bm(1 << 63, 63, 0, CF, |a| a.sarx(rax, rbx, rcx)),
            (u64::MAX, CF)
        );
    }

    #[test]
    fn adcx_adox() {
        let code = asm(64, |a| {
            a.adcx(rax, rbx)?;
            a.adox(ecx, edx)?;
            a.adcx(eax, dword_ptr(0x3000))
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RAX] = u64::MAX;
        cpu.state.gpr[reg::RBX] = 1;
        cpu.state.gpr[reg::RCX] = 0xffff_ffff_ffff_fffe;
        cpu.state.gpr[reg::RDX] = 1;
        cpu.state.rflags |= OF | SF;
        wr(&mut bus, 0x3000, 4, 0xffff_ffff);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0);
        assert_eq!(status(&cpu), CF | OF | SF);
        exec_n(&mut cpu, &mut bus, 1);
        // 0xfffffffe + 1 + OF(1) = 2^32: ECX = 0, OF = 1, CF untouched.
        assert_eq!(cpu.state.gpr[reg::RCX], 0);
        assert_eq!(status(&cpu), CF | OF | SF);
        exec_n(&mut cpu, &mut bus, 1);
        // 0 + 0xffffffff + CF(1) = 2^32.
        assert_eq!(cpu.state.gpr[reg::RAX], 0);
        assert_eq!(status(&cpu), CF | OF | SF);
    }

    #[test]
    fn vex_forms_need_protected_mode() {
        // ANDN eax, ebx, ecx: C4 E2 60 F2 C1 — in 32-bit protected mode it
        // works; in real mode it is #UD.
        let code = asm(32, |a| a.andn(eax, ebx, ecx));
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.gpr[reg::RCX] = 3;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 3);
        let (mut cpu, mut bus) = real_mode(&code);
        let r = exec(&mut cpu, &mut bus);
        assert_eq!(r, Err(Fault::Exception(Exception::UD)));
        // ADCX is legacy-encoded and fine in real mode.
        let code = asm(16, |a| a.adcx(eax, ebx));
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[reg::RBX] = 7;
        cpu.state.rflags |= CF;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 8);
    }

    #[test]
    fn xop_bextr_is_not_supported() {
        // XOP BEXTR eax, ebx, imm32 (AMD TBM): 8F EA 78 10 C3 imm32.
        let (mut cpu, mut bus) = long64(&[0x8f, 0xea, 0x78, 0x10, 0xc3, 0x04, 0x08, 0x00, 0x00]);
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::UD))
        );
    }
}

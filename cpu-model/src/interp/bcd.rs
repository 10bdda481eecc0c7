//! Decimal adjust instructions (DAA DAS AAA AAS AAM AAD) and BOUND.
//! SDM Vol. 2 pages of those names.
//!
//! All of them are invalid in 64-bit mode; iced-x86 already decodes their
//! opcodes there as invalid (or, for 62h, as an EVEX prefix), so the
//! handlers only re-check the mode defensively.

use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, AF, CF, PF, SF, ZF};
use crate::memory::Bus;
use crate::state::CpuMode;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Daa, daa);
    t.set(Mnemonic::Das, das);
    t.set(Mnemonic::Aaa, aaa);
    t.set(Mnemonic::Aas, aas);
    t.set(Mnemonic::Aam, aam);
    t.set(Mnemonic::Aad, aad);
    t.set(Mnemonic::Bound, bound);
}

fn not_in_64(cpu: &Cpu) -> Result<(), Fault> {
    if cpu.state.mode() == CpuMode::Long64 {
        return Err(Exception::UD.into());
    }
    Ok(())
}

/// DAA: decimal adjust AL after addition. CF and AF as in the SDM
/// pseudo-code; SF, ZF, PF from the new AL; OF is undefined and left
/// unchanged. SDM Vol. 2 "DAA".
fn daa(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    let old_al = cpu.reg(Register::AL);
    let old_cf = cpu.flag(CF);
    let mut al = old_al;
    let mut f = 0;
    if old_al & 0x0f > 9 || cpu.flag(AF) {
        al = (al + 6) & 0xff;
        f |= AF;
    }
    if old_al > 0x99 || old_cf {
        al = (al + 0x60) & 0xff;
        f |= CF;
    }
    cpu.set_reg(Register::AL, al);
    cpu.set_flags(CF | AF | SF | ZF | PF, f | flags::szp(al, 1));
    Ok(())
}

/// DAS: decimal adjust AL after subtraction. CF and AF as in the SDM
/// pseudo-code; SF, ZF, PF from the new AL; OF undefined, left unchanged.
/// SDM Vol. 2 "DAS".
fn das(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    let old_al = cpu.reg(Register::AL);
    let old_cf = cpu.flag(CF);
    let mut al = old_al;
    let mut f = 0;
    if old_al & 0x0f > 9 || cpu.flag(AF) {
        al = al.wrapping_sub(6) & 0xff;
        f |= AF;
        if old_cf || old_al < 6 {
            f |= CF;
        }
    }
    if old_al > 0x99 || old_cf {
        al = al.wrapping_sub(0x60) & 0xff;
        f |= CF;
    }
    cpu.set_reg(Register::AL, al);
    cpu.set_flags(CF | AF | SF | ZF | PF, f | flags::szp(al, 1));
    Ok(())
}

/// AAA: ASCII adjust after addition. If AL's low nibble > 9 or AF:
/// AX += 106h (the current SDM text: the carry out of AL propagates into
/// AH), AF = CF = 1; else AF = CF = 0. Then AL &= 0Fh. OF, SF, ZF, PF are
/// undefined and left unchanged. SDM Vol. 2 "AAA".
fn aaa(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    let mut ax = cpu.reg(Register::AX);
    let adjust = ax & 0x0f > 9 || cpu.flag(AF);
    if adjust {
        ax = ax.wrapping_add(0x106);
    }
    cpu.set_reg(Register::AX, ax & 0xff0f);
    cpu.set_flags(CF | AF, if adjust { CF | AF } else { 0 });
    Ok(())
}

/// AAS: ASCII adjust after subtraction. If AL's low nibble > 9 or AF:
/// AX -= 6, AH -= 1, AF = CF = 1; else AF = CF = 0. Then AL &= 0Fh.
/// OF, SF, ZF, PF undefined, left unchanged. SDM Vol. 2 "AAS".
fn aas(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    let mut ax = cpu.reg(Register::AX);
    let adjust = ax & 0x0f > 9 || cpu.flag(AF);
    if adjust {
        ax = ax.wrapping_sub(6).wrapping_sub(0x100);
    }
    cpu.set_reg(Register::AX, ax & 0xff0f);
    cpu.set_flags(CF | AF, if adjust { CF | AF } else { 0 });
    Ok(())
}

/// AAM imm8 (D4 ib; imm8 = 10 for the mnemonic without operand):
/// AH = AL / imm8, AL = AL mod imm8; #DE if imm8 = 0. SF, ZF, PF from AL;
/// OF, AF, CF undefined, left unchanged. SDM Vol. 2 "AAM".
fn aam(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    let base = u64::from(ins.immediate8());
    if base == 0 {
        return Err(Exception::DE.into());
    }
    let al = cpu.reg(Register::AL);
    let (q, r) = (al / base, al % base);
    cpu.set_reg(Register::AX, (q << 8) | r);
    cpu.set_flags(SF | ZF | PF, flags::szp(r, 1));
    Ok(())
}

/// AAD imm8 (D5 ib): AL = (AL + AH * imm8) & FFh, AH = 0. SF, ZF, PF from
/// AL; OF, AF, CF undefined, left unchanged. SDM Vol. 2 "AAD".
fn aad(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    let base = u64::from(ins.immediate8());
    let al = cpu.reg(Register::AL);
    let ah = cpu.reg(Register::AH);
    let r = al.wrapping_add(ah.wrapping_mul(base)) & 0xff;
    cpu.set_reg(Register::AX, r);
    cpu.set_flags(SF | ZF | PF, flags::szp(r, 1));
    Ok(())
}

/// BOUND r16/r32, m16&16 / m32&32: #BR (a fault) if the signed index is
/// below the lower bound (at m) or above the upper bound (at m + size).
/// A register second operand is #UD. Flags unaffected. SDM Vol. 2 "BOUND".
fn bound(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    not_in_64(cpu)?;
    if ins.op_kind(1) != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    let size = Cpu::op_size(ins, 0);
    let index = flags::sign_extend(cpu.read_op(bus, ins, 0)?, size) as i64;
    let seg = Cpu::mem_segment(ins);
    let ea = cpu.effective_address(ins);
    let upper_ea = ea.wrapping_add(u64::from(size)) & flags::mask(Cpu::addr_size(ins));
    let lower = flags::sign_extend(cpu.read_mem(bus, seg, ea, size)?, size) as i64;
    let upper = flags::sign_extend(cpu.read_mem(bus, seg, upper_ea, size)?, size) as i64;
    if index < lower || index > upper {
        return Err(Exception::BR.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::alu::testutil::*;
    use crate::exception::{Exception, Fault};
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use crate::state::reg;

    /// Run one instruction in 32-bit protected mode with AX = `v` and
    /// status flags `fl`; return (AX, status flags).
    fn adj(
        v: u64,
        fl: u64,
        f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    ) -> (u64, u64) {
        let (mut cpu, mut bus) = prot32(&asm(32, f));
        cpu.state.gpr[reg::RAX] = 0xabcd_0000 | v;
        cpu.state.rflags |= fl;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX] >> 16, 0xabcd, "upper EAX kept");
        (cpu.state.gpr[reg::RAX] & 0xffff, status(&cpu))
    }

    #[test]
    fn daa_cases() {
        // 0x19 + 0x28 = 0x41 with AF -> 0x47.
        assert_eq!(adj(0x41, AF, |a| a.daa()), (0x47, AF | PF));
        // 0x79 + 0x35 = 0xae -> 0x14 carry.
        assert_eq!(adj(0xae, 0, |a| a.daa()), (0x14, CF | AF | PF));
        // 0x99 + 0x01 = 0x9a -> 0x00 carry.
        assert_eq!(adj(0x9a, 0, |a| a.daa()), (0x00, CF | AF | ZF | PF));
        // Already valid BCD, no adjustment; flags from AL; OF kept.
        assert_eq!(adj(0x12, CF | AF | OF, |a| a.daa()).1, CF | AF | OF | PF);
        assert_eq!(adj(0x12, OF, |a| a.daa()), (0x12, OF | PF));
        // 0x90 + 0x90 = 0x20 carry: high adjust only.
        assert_eq!(adj(0x20, CF, |a| a.daa()), (0x80, CF | SF));
    }

    #[test]
    fn das_cases() {
        // 0x47 - 0x28 = 0x1f (AF) -> 0x19.
        assert_eq!(adj(0x1f, AF, |a| a.das()), (0x19, AF));
        // 0x12 - 0x21 = 0xf1 (CF) -> 0x91.
        assert_eq!(adj(0xf1, CF, |a| a.das()), (0x91, CF | SF));
        // 0x00 - 0x01 = 0xff (CF, AF) -> 0x99.
        assert_eq!(adj(0xff, CF | AF, |a| a.das()), (0x99, CF | AF | SF | PF));
        // AL = 0x03 with AF: the borrow from AL - 6 sets CF, but the high
        // adjustment depends only on the old AL and old CF.
        assert_eq!(adj(0x03, AF, |a| a.das()), (0xfd, CF | AF | SF));
        assert_eq!(adj(0x55, 0, |a| a.das()), (0x55, PF));
    }

    #[test]
    fn aaa_aas_cases() {
        // '9' + '5' = 0x6e -> AX 0x0104.
        assert_eq!(adj(0x006e, 0, |a| a.aaa()), (0x0104, CF | AF));
        // AL = 0xff: AX + 0x106 carries into AH.
        assert_eq!(adj(0x00ff, 0, |a| a.aaa()), (0x0205, CF | AF));
        assert_eq!(adj(0x0235, ZF | CF, |a| a.aaa()), (0x0205, ZF));
        assert_eq!(adj(0xff0a, 0, |a| a.aaa()), (0x0000, CF | AF));
        // '3' - '5' = 0xfe -> AX = 0xff08 with borrow.
        assert_eq!(adj(0x00fe, 0, |a| a.aas()), (0xff08, CF | AF));
        assert_eq!(adj(0x0102, AF, |a| a.aas()), (0xff0c, CF | AF));
        assert_eq!(adj(0x0537, SF | CF, |a| a.aas()), (0x0507, SF));
    }

    #[test]
    fn aam_aad_cases() {
        assert_eq!(adj(0x003f, 0, |a| a.aam(10)), (0x0603, PF));
        assert_eq!(
            adj(0x0000, CF | OF | AF, |a| a.aam(10)),
            (0x0000, ZF | PF | CF | OF | AF)
        );
        assert_eq!(adj(0x00ff, 0, |a| a.aam(16)), (0x0f0f, PF));
        assert_eq!(adj(0x0603, 0, |a| a.aad(10)), (0x003f, PF));
        assert_eq!(adj(0x0f0f, 0, |a| a.aad(16)), (0x00ff, SF | PF));
        // 0xff * 10 + 0xff wraps to 8 bits.
        assert_eq!(adj(0xffff, 0, |a| a.aad(10)), (0x00f5, SF | PF));
    }

    #[test]
    fn aam_zero_is_divide_error() {
        let (mut cpu, mut bus) = prot32(&[0xd4, 0x00]);
        cpu.state.gpr[reg::RAX] = 0x1234;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::DE))
        );
        assert_eq!(cpu.state.gpr[reg::RAX], 0x1234);
        // Delivered in real mode as a fault at the AAM.
        let (mut cpu, mut bus) = real_mode(&[0xd4, 0x00]);
        bus.ram[0..4].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x3000);
        assert_eq!(rd(&bus, 0x7ffa, 2), 0x1000);
    }

    #[test]
    fn invalid_in_64_bit_mode() {
        for code in [
            [0x27u8, 0x90],
            [0x2f, 0x90],
            [0x37, 0x90],
            [0x3f, 0x90],
            [0xd4, 0x0a],
            [0xd5, 0x0a],
        ] {
            let (mut cpu, mut bus) = long64(&code);
            assert_eq!(
                exec(&mut cpu, &mut bus),
                Err(Fault::Exception(Exception::UD)),
                "{code:x?}"
            );
            // Rejected by the decoder, not by a missing handler.
            assert!(cpu.stats.unimplemented.is_empty(), "{code:x?}");
        }
        // 62 /r with a memory operand is an EVEX prefix in 64-bit mode.
        let (mut cpu, mut bus) = long64(&[0x62, 0x03, 0x00, 0x00]);
        assert!(exec(&mut cpu, &mut bus).is_err());
    }

    #[test]
    fn bound_32_and_16() {
        let code = asm(32, |a| {
            a.bound(eax, qword_ptr(ebx))?;
            a.bound(ecx, qword_ptr(ebx))?;
            a.bound(dx, dword_ptr(ebx + 8))
        });
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.gpr[reg::RBX] = 0x2000;
        wr(&mut bus, 0x2000, 4, (-5i32) as u32 as u64);
        wr(&mut bus, 0x2004, 4, 5);
        wr(&mut bus, 0x2008, 2, 0x8000);
        wr(&mut bus, 0x200a, 2, 0xffff);
        // Bounds are inclusive and signed.
        cpu.state.gpr[reg::RAX] = (-5i32) as u32 as u64;
        cpu.state.gpr[reg::RCX] = 6;
        cpu.state.gpr[reg::RDX] = 0xffff;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::BR))
        );
        cpu.state.gpr[reg::RCX] = 5;
        cpu.state.rip = 0x1002;
        exec_n(&mut cpu, &mut bus, 2);
        cpu.state.gpr[reg::RDX] = 0;
        cpu.state.rip -= 4;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::BR))
        );
    }

    #[test]
    fn bound_fault_delivered_in_real_mode() {
        let code = asm(16, |a| a.bound(ax, dword_ptr(si)));
        let (mut cpu, mut bus) = real_mode(&code);
        bus.ram[5 * 4..5 * 4 + 4].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        cpu.state.gpr[reg::RSI] = 0x2000;
        wr(&mut bus, 0x2000, 2, 10);
        wr(&mut bus, 0x2002, 2, 20);
        cpu.state.gpr[reg::RAX] = 20;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x1000 + code.len() as u64);
        cpu.state.rip = 0x1000;
        cpu.state.gpr[reg::RAX] = 9;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x3000);
        assert_eq!(cpu.stats.exceptions[5], 1);
        assert_eq!(rd(&bus, 0x7ffa, 2), 0x1000);
    }
}

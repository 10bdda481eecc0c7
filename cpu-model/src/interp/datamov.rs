//! Data movement: MOV (GPR, memory, immediate, moffs, segment-register
//! forms; control/debug-register forms are forwarded to `control`), MOVZX,
//! MOVSX, MOVSXD, LEA, XLAT, CBW/CWDE/CDQE, CWD/CDQ/CQO, SETcc, CMOVcc,
//! the flag instructions (LAHF SAHF CLC STC CMC CLD STD) and the NOP/UD
//! family. The exchange family (XCHG, CMPXCHG*, XADD, BSWAP, MOVBE) lives
//! in `xchg.rs`. SDM Vol. 2 instruction pages as cited per handler.

use super::operand::seg_of;
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, mask, sign_extend};
use crate::memory::Bus;
use crate::state::SegReg;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Mov, mov);
    t.set(Mnemonic::Movzx, movzx);
    t.set(Mnemonic::Movsx, movsx);
    t.set(Mnemonic::Movsxd, movsx);
    t.set(Mnemonic::Lea, lea);
    t.set(Mnemonic::Xlatb, xlat);
    for m in [Mnemonic::Cbw, Mnemonic::Cwde, Mnemonic::Cdqe] {
        t.set(m, cbw);
    }
    for m in [Mnemonic::Cwd, Mnemonic::Cdq, Mnemonic::Cqo] {
        t.set(m, cwd);
    }
    t.set(Mnemonic::Lahf, lahf);
    t.set(Mnemonic::Sahf, sahf);
    t.set(Mnemonic::Clc, clc);
    t.set(Mnemonic::Stc, stc);
    t.set(Mnemonic::Cmc, cmc);
    t.set(Mnemonic::Cld, cld);
    t.set(Mnemonic::Std, std_);
    for m in SETCC {
        t.set(m, setcc);
    }
    for m in CMOVCC {
        t.set(m, cmovcc);
    }
    for m in [
        Mnemonic::Nop,
        Mnemonic::Reservednop,
        Mnemonic::Pause,
        Mnemonic::Endbr32,
        Mnemonic::Endbr64,
    ] {
        t.set(m, nop);
    }
    for m in [Mnemonic::Ud0, Mnemonic::Ud1, Mnemonic::Ud2] {
        t.set(m, ud);
    }
}

/// SETcc, in condition-code order (both engines use this list).
pub const SETCC: [Mnemonic; 16] = [
    Mnemonic::Seto,
    Mnemonic::Setno,
    Mnemonic::Setb,
    Mnemonic::Setae,
    Mnemonic::Sete,
    Mnemonic::Setne,
    Mnemonic::Setbe,
    Mnemonic::Seta,
    Mnemonic::Sets,
    Mnemonic::Setns,
    Mnemonic::Setp,
    Mnemonic::Setnp,
    Mnemonic::Setl,
    Mnemonic::Setge,
    Mnemonic::Setle,
    Mnemonic::Setg,
];

/// CMOVcc, in condition-code order (both engines use this list).
pub const CMOVCC: [Mnemonic; 16] = [
    Mnemonic::Cmovo,
    Mnemonic::Cmovno,
    Mnemonic::Cmovb,
    Mnemonic::Cmovae,
    Mnemonic::Cmove,
    Mnemonic::Cmovne,
    Mnemonic::Cmovbe,
    Mnemonic::Cmova,
    Mnemonic::Cmovs,
    Mnemonic::Cmovns,
    Mnemonic::Cmovp,
    Mnemonic::Cmovnp,
    Mnemonic::Cmovl,
    Mnemonic::Cmovge,
    Mnemonic::Cmovle,
    Mnemonic::Cmovg,
];

/// Does the condition of a Jcc/SETcc/CMOVcc/LOOPcc-style instruction hold?
/// (iced's `ConditionCode` is the opcode's low nibble plus one.)
pub(super) fn condition_holds(cpu: &Cpu, ins: &Instruction) -> bool {
    let cc = (ins.condition_code() as u8).wrapping_sub(1);
    flags::condition(cpu.state.rflags, cc)
}

fn reg_op(ins: &Instruction, i: u32) -> Option<Register> {
    (ins.op_kind(i) == OpKind::Register).then(|| ins.op_register(i))
}

/// MOV — SDM Vol. 2 "MOV—Move", "MOV—Move to/from Control Registers",
/// "MOV—Move to/from Debug Registers". No flags are affected.
///
/// Forms whose operand is CRn/DRn go to `control::mov_cr_dr`; the
/// 386/486 test-register forms do not exist on this CPU (#UD). MOV to a
/// segment register loads it through `Cpu::load_segment` (MOV CS is #UD;
/// MOV SS inhibits interrupts and debug traps until the next instruction
/// retires). MOV from a segment register stores 16 bits to memory and
/// zero-extends into a 32/64-bit register (P6 and later behaviour); a
/// 16-bit register destination keeps its other bits.
fn mov(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let r0 = reg_op(ins, 0);
    let r1 = reg_op(ins, 1);
    for r in [r0, r1].into_iter().flatten() {
        if r.is_cr() || r.is_dr() {
            return super::control::mov_cr_dr(cpu, bus, ins);
        }
        if r.is_tr() {
            return Err(Exception::UD.into());
        }
    }
    if let Some(seg) = r0.and_then(seg_of) {
        if seg == SegReg::Cs {
            return Err(Exception::UD.into());
        }
        let sel = match ins.op1_kind() {
            OpKind::Memory => {
                let ea = cpu.effective_address(ins);
                cpu.read_mem(bus, Cpu::mem_segment(ins), ea, 2)?
            }
            _ => cpu.read_op(bus, ins, 1)?,
        };
        cpu.load_segment(bus, seg, sel as u16)?;
        if seg == SegReg::Ss {
            cpu.state.events.interrupt_shadow = true;
        }
        return Ok(());
    }
    if let Some(sreg) = r1.filter(|r| r.is_segment_register()) {
        let sel = cpu.reg(sreg) & 0xffff;
        match r0 {
            Some(r) => cpu.set_reg(r, sel),
            None => {
                let ea = cpu.effective_address(ins);
                cpu.write_mem(bus, Cpu::mem_segment(ins), ea, 2, sel)?;
            }
        }
        return Ok(());
    }
    let v = cpu.read_op(bus, ins, 1)?;
    cpu.write_op(bus, ins, 0, v & mask(Cpu::op_size(ins, 0)))?;
    Ok(())
}

/// MOVZX — SDM Vol. 2 "MOVZX—Move With Zero-Extend". No flags affected.
fn movzx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let v = cpu.read_op(bus, ins, 1)?;
    cpu.write_op(bus, ins, 0, v)?;
    Ok(())
}

/// MOVSX / MOVSXD — SDM Vol. 2 "MOVSX/MOVSXD—Move With Sign-Extension".
/// MOVSXD without REX.W (r16 ← r/m16, r32 ← r/m32) is a plain move of the
/// operand size. No flags affected.
fn movsx(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let src_size = Cpu::op_size(ins, 1);
    let v = sign_extend(cpu.read_op(bus, ins, 1)?, src_size);
    cpu.write_op(bus, ins, 0, v & mask(Cpu::op_size(ins, 0)))?;
    Ok(())
}

/// LEA — SDM Vol. 2 "LEA—Load Effective Address". The address is computed
/// at the address size (so it wraps there) and then truncated or
/// zero-extended to the operand size (Table 3-54). No memory access, no flags.
fn lea(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.op1_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    let ea = cpu.effective_address(ins);
    cpu.set_reg(ins.op0_register(), ea);
    Ok(())
}

/// XLAT/XLATB — SDM Vol. 2 "XLAT/XLATB—Table Look-up Translation":
/// AL ← [seg:rBX + zero-extended AL] at the address size (iced models the
/// operand as base rBX + index AL; a segment override applies).
fn xlat(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let v = cpu.read_op(bus, ins, 0)?;
    cpu.set_reg(Register::AL, v);
    Ok(())
}

/// CBW / CWDE / CDQE — SDM Vol. 2 "CBW/CWDE/CDQE—Convert Byte to Word/...":
/// sign-extend the low half of the accumulator into all of it. No flags.
fn cbw(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (dst, half) = match ins.mnemonic() {
        Mnemonic::Cbw => (Register::AX, 1),
        Mnemonic::Cwde => (Register::EAX, 2),
        _ => (Register::RAX, 4),
    };
    let v = sign_extend(cpu.state.gpr[0], half);
    cpu.set_reg(dst, v);
    Ok(())
}

/// CWD / CDQ / CQO — SDM Vol. 2 "CWD/CDQ/CQO—Convert Word to Doubleword/...":
/// fill rDX with the sign of rAX. No flags. (CDQ zero-extends into RDX.)
fn cwd(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (dst, size) = match ins.mnemonic() {
        Mnemonic::Cwd => (Register::DX, 2),
        Mnemonic::Cdq => (Register::EDX, 4),
        _ => (Register::RDX, 8),
    };
    let neg = cpu.state.gpr[0] & flags::sign_bit(size) != 0;
    cpu.set_reg(dst, if neg { u64::MAX } else { 0 });
    Ok(())
}

const LAHF_FLAGS: u64 = flags::SF | flags::ZF | flags::AF | flags::PF | flags::CF;

/// LAHF — SDM Vol. 2 "LAHF—Load Status Flags Into AH Register":
/// AH ← SF:ZF:0:AF:0:PF:1:CF. Valid in 64-bit mode (CPUID LAHF_LM is set).
fn lahf(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let v = (cpu.state.rflags & LAHF_FLAGS) | flags::FIXED;
    cpu.set_reg(Register::AH, v);
    Ok(())
}

/// SAHF — SDM Vol. 2 "SAHF—Store AH Into Flags": SF ZF AF PF CF ← AH
/// bits 7, 6, 4, 2, 0; OF and the other bits unchanged.
fn sahf(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let ah = cpu.reg(Register::AH);
    cpu.set_flags(LAHF_FLAGS, ah);
    Ok(())
}

/// CLC — SDM Vol. 2 "CLC—Clear Carry Flag".
fn clc(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.state.rflags &= !flags::CF;
    Ok(())
}

/// STC — SDM Vol. 2 "STC—Set Carry Flag".
fn stc(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.state.rflags |= flags::CF;
    Ok(())
}

/// CMC — SDM Vol. 2 "CMC—Complement Carry Flag".
fn cmc(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.state.rflags ^= flags::CF;
    Ok(())
}

/// CLD — SDM Vol. 2 "CLD—Clear Direction Flag".
fn cld(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.state.rflags &= !flags::DF;
    Ok(())
}

/// STD — SDM Vol. 2 "STD—Set Direction Flag".
fn std_(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.state.rflags |= flags::DF;
    Ok(())
}

/// SETcc — SDM Vol. 2 "SETcc—Set Byte on Condition": r/m8 ← 1 or 0.
fn setcc(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let v = u64::from(condition_holds(cpu, ins));
    cpu.write_op(bus, ins, 0, v)?;
    Ok(())
}

/// CMOVcc — SDM Vol. 2 "CMOVcc—Conditional Move". The source is read (and
/// may fault) whatever the condition; with a 32-bit operand the destination
/// is zero-extended to 64 bits even when the condition is false.
fn cmovcc(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let v = cpu.read_op(bus, ins, 1)?;
    let dst = ins.op0_register();
    if condition_holds(cpu, ins) {
        cpu.set_reg(dst, v);
    } else if dst.size() == 4 {
        let old = cpu.reg(dst);
        cpu.set_reg(dst, old);
    }
    Ok(())
}

/// NOP (90, 0F 1F /0 with any operand), the reserved-NOP hint space
/// (0F 0D, 0F 18–0F 1F forms iced reports as RESERVEDNOP), PAUSE (F3 90),
/// and ENDBR32/ENDBR64 (hint NOPs on a processor without CET). SDM Vol. 2
/// "NOP", "PAUSE", "ENDBR32", "ENDBR64". The memory operand of a multi-byte
/// NOP is never accessed.
fn nop(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Ok(())
}

/// UD0 / UD1 / UD2 — SDM Vol. 2 "UD—Undefined Instruction": raise #UD
/// on purpose (registered so they are not counted as unimplemented).
fn ud(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Err(Exception::UD.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use iced_x86::code_asm::*;

    use crate::interp::tests::asm;

    /// Run one instruction with `step`'s rollback but without exception
    /// delivery (protected-mode delivery is another family's): returns the
    /// exception the instruction raised, if any.
    pub(crate) use crate::interp::tests::exec;

    use crate::interp::tests::exec_n;

    #[test]
    fn mov_gpr_mem_imm_forms() {
        let code = asm(64, |a| {
            a.mov(rax, 0x1122_3344_5566_7788u64)?;
            a.mov(ebx, eax)?; // zero-extends
            a.mov(ch, 0xab)?;
            a.mov(qword_ptr(0x3000), rax)?;
            a.mov(dword_ptr(0x3008), -2)?;
            a.mov(qword_ptr(0x3010), -2)?; // imm32 sign-extended
            a.mov(dx, word_ptr(0x3002))?;
            a.mov(r9b, byte_ptr(0x3007))?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[1] = 0xffff_ffff_ffff_ffff;
        cpu.state.gpr[2] = 0xaaaa_aaaa_aaaa_aaaa;
        exec_n(&mut cpu, &mut bus, 8);
        assert_eq!(cpu.state.gpr[0], 0x1122_3344_5566_7788);
        assert_eq!(cpu.state.gpr[3], 0x5566_7788);
        assert_eq!(cpu.state.gpr[1], 0xffff_ffff_ffff_abff);
        assert_eq!(
            &bus.ram[0x3000..0x3008],
            &0x1122_3344_5566_7788u64.to_le_bytes()
        );
        assert_eq!(
            &bus.ram[0x3008..0x3010],
            &[0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0]
        );
        assert_eq!(
            &bus.ram[0x3010..0x3018],
            &[0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        assert_eq!(cpu.state.gpr[2], 0xaaaa_aaaa_aaaa_5566);
        assert_eq!(cpu.state.gpr[9], 0x11);
        assert_eq!(cpu.state.rflags, flags::FIXED);
    }

    #[test]
    fn mov_moffs() {
        // 64-bit moffs: A1 with an 8-byte address; A3 store.
        let mut code = vec![0x48, 0xa1];
        code.extend_from_slice(&0x3000u64.to_le_bytes());
        code.push(0xa2); // mov [moffs64], al
        code.extend_from_slice(&0x3100u64.to_le_bytes());
        let (mut cpu, mut bus) = long64(&code);
        bus.ram[0x3000..0x3008].copy_from_slice(&0x0102_0304_0506_0708u64.to_le_bytes());
        exec_n(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.gpr[0], 0x0102_0304_0506_0708);
        assert_eq!(bus.ram[0x3100], 0x08);
        assert_eq!(bus.ram[0x3101], 0);
        // 16-bit moffs with DS base: mov ax, [0x10] with DS = 0x200.
        let (mut cpu, mut bus) = real_mode(&[0xa1, 0x10, 0x00]);
        cpu.state.load_segment_real(SegReg::Ds, 0x200);
        bus.ram[0x2010] = 0x34;
        bus.ram[0x2011] = 0x12;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x1234);
    }

    #[test]
    fn mov_segment_registers() {
        let code = asm(16, |a| {
            a.mov(ds, ax)?;
            a.mov(bx, ds)?;
            a.mov(word_ptr(0x100), es)?;
            a.mov(ecx, ds)?;
            a.mov(ss, dx)?;
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[0] = 0x1234;
        cpu.state.gpr[1] = 0xffff_ffff;
        cpu.state.gpr[3] = 0xdead_0000;
        cpu.state.gpr[2] = 0x0700;
        cpu.state.load_segment_real(SegReg::Es, 0xbeef);
        bus.ram[0x12340 + 0x102] = 0x77;
        run(&mut cpu, &mut bus, 4);
        assert_eq!(cpu.state.segment(SegReg::Ds).selector, 0x1234);
        assert_eq!(cpu.state.segment(SegReg::Ds).base, 0x12340);
        assert_eq!(cpu.state.gpr[3], 0xdead_1234, "16-bit destination merges");
        // Stored through the new DS, exactly 2 bytes.
        assert_eq!(&bus.ram[0x12440..0x12443], &[0xef, 0xbe, 0x77]);
        assert_eq!(cpu.state.gpr[1], 0x1234, "32-bit destination zero-extends");
        assert!(!cpu.state.events.interrupt_shadow);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.segment(SegReg::Ss).base, 0x7000);
        assert!(
            cpu.state.events.interrupt_shadow,
            "MOV SS blocks interrupts"
        );
    }

    #[test]
    fn mov_cs_is_ud_and_cr_forms_are_forwarded() {
        // 8E C8 = mov cs, ax: iced reports it invalid, which is #UD too.
        let (mut cpu, mut bus) = real_mode(&[0x8e, 0xc8]);
        bus.ram[6 * 4..6 * 4 + 4].copy_from_slice(&[0x00, 0x20, 0x00, 0x00]);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x2000);
        assert_eq!(cpu.state.segment(SegReg::Cs).selector, 0);
        // mov eax, cr0: handled by the control family, never "unimplemented".
        let code = asm(32, |a| a.mov(eax, cr0));
        let (mut cpu, mut bus) = prot32(&code);
        let _ = exec(&mut cpu, &mut bus);
        assert!(cpu.stats.unimplemented.is_empty());
    }

    #[test]
    fn movzx_movsx_movsxd() {
        let code = asm(64, |a| {
            a.movzx(eax, bl)?;
            a.movsx(rcx, bl)?;
            a.movsx(dx, bl)?;
            a.movzx(rsi, word_ptr(0x3000))?;
            a.movsx(edi, word_ptr(0x3000))?;
            a.movsxd(r8, dword_ptr(0x3000))?;
            a.movsxd(r9d, dword_ptr(0x3000))?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = u64::MAX;
        cpu.state.gpr[3] = 0x80;
        cpu.state.gpr[2] = 0xffff_ffff_0000_0000;
        cpu.state.gpr[9] = u64::MAX;
        bus.ram[0x3000..0x3004].copy_from_slice(&[0xfe, 0xff, 0xff, 0x80]);
        exec_n(&mut cpu, &mut bus, 7);
        assert_eq!(cpu.state.gpr[0], 0x80);
        assert_eq!(cpu.state.gpr[1], 0xffff_ffff_ffff_ff80);
        assert_eq!(cpu.state.gpr[2], 0xffff_ffff_0000_ff80);
        assert_eq!(cpu.state.gpr[6], 0xfffe);
        assert_eq!(cpu.state.gpr[7], 0xffff_fffe);
        assert_eq!(cpu.state.gpr[8], 0xffff_ffff_80ff_fffe);
        assert_eq!(cpu.state.gpr[9], 0x80ff_fffe);
    }

    #[test]
    fn lea_size_rules() {
        let code = asm(64, |a| {
            a.lea(rax, qword_ptr(rbx + rcx * 4 + 0x10))?;
            a.lea(eax, qword_ptr(rbx + rcx * 4 + 0x10))?;
            a.lea(ax, qword_ptr(rbx + 0x10))?;
            a.lea(rdx, qword_ptr(ebx + 0x10))?; // 32-bit address, zero-extended
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[3] = 0x1_ffff_fff8;
        cpu.state.gpr[1] = 1;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x2_0000_000c);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0xc);
        cpu.state.gpr[0] = 0x5555_0000;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x5555_0008);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[2], 0x8);
        // 16-bit addressing wraps at 64 KiB: lea ax, [bx+si+2].
        let code = asm(16, |a| a.lea(eax, word_ptr(bx + si + 2)));
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[3] = 0xffff;
        cpu.state.gpr[6] = 0xffff;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0);
    }

    #[test]
    fn xlat_uses_bx_plus_al_and_override() {
        let code = asm(16, |a| {
            a.xlatb()?;
            a.db(&[0x26, 0xd7])?; // es xlatb
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[3] = 0x2000;
        cpu.state.gpr[0] = 0xff05;
        bus.ram[0x2005] = 0x42;
        cpu.state.load_segment_real(SegReg::Es, 0x100);
        bus.ram[0x1000 + 0x2042] = 0x99;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0xff42);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0xff99);
    }

    #[test]
    fn accumulator_extensions() {
        let code = asm(64, |a| {
            a.cbw()?;
            a.cwde()?;
            a.cdqe()?;
            a.cqo()?;
            a.cdq()?;
            a.cwd()?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 0x1234_5678_9abc_de80;
        cpu.state.gpr[2] = 0x1111_2222_3333_4444;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x1234_5678_9abc_ff80);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0xffff_ff80);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], u64::MAX - 0x7f);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[2], u64::MAX);
        cpu.state.gpr[0] = 0x8000_7fff;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[2], 0xffff_ffff, "CDQ zero-extends RDX");
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[2], 0xffff_0000);
    }

    #[test]
    fn flag_instructions() {
        let code = asm(64, |a| {
            a.lahf()?;
            a.sahf()?;
            a.stc()?;
            a.cmc()?;
            a.cmc()?;
            a.clc()?;
            a.std()?;
            a.cld()?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.rflags = flags::FIXED | flags::SF | flags::PF | flags::CF | flags::OF;
        cpu.state.gpr[0] = 0xffff;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x87ff);
        cpu.state.gpr[0] = 0x5a00; // ZF AF (and bits 1, 3 that SAHF ignores)
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(
            cpu.state.rflags,
            flags::FIXED | flags::ZF | flags::AF | flags::OF
        );
        let mut seen = vec![];
        for _ in 0..6 {
            exec_n(&mut cpu, &mut bus, 1);
            seen.push(cpu.state.rflags & (flags::CF | flags::DF));
        }
        let (cf, df) = (flags::CF, flags::DF);
        assert_eq!(seen, vec![cf, 0, cf, 0, df, 0]);
    }

    /// Condition truth table from SDM Vol. 1 Table B-1, with flags given as
    /// (CF, ZF, SF, OF, PF).
    fn expected(cc: usize, f: u64) -> bool {
        let b = |m| f & m != 0;
        let (c, z, s, o, p) = (
            b(flags::CF),
            b(flags::ZF),
            b(flags::SF),
            b(flags::OF),
            b(flags::PF),
        );
        [
            o,
            !o,
            c,
            !c,
            z,
            !z,
            c || z,
            !c && !z,
            s,
            !s,
            p,
            !p,
            s != o,
            s == o,
            z || s != o,
            !z && s == o,
        ][cc]
    }

    #[test]
    fn setcc_and_cmovcc_all_conditions() {
        let samples = [
            0,
            flags::CF,
            flags::ZF,
            flags::SF,
            flags::OF,
            flags::PF,
            flags::SF | flags::OF,
            flags::ZF | flags::SF,
            flags::CF | flags::ZF | flags::OF,
        ];
        for cc in 0..16u8 {
            // SETcc byte [rbx]; CMOVcc ecx, edx; CMOVcc rsi, [rbx+8]
            let code = [
                0x0f,
                0x90 + cc,
                0x03,
                0x0f,
                0x40 + cc,
                0xca,
                0x48,
                0x0f,
                0x40 + cc,
                0x73,
                0x08,
            ];
            for &f in &samples {
                let (mut cpu, mut bus) = long64(&code);
                cpu.state.rflags = flags::FIXED | f;
                cpu.state.gpr[3] = 0x3000;
                bus.ram[0x3000] = 0x55;
                bus.ram[0x3008..0x3010].copy_from_slice(&7u64.to_le_bytes());
                cpu.state.gpr[1] = 0xffff_ffff_0000_0001;
                cpu.state.gpr[2] = 0x2222_2222_0000_0002;
                cpu.state.gpr[6] = 0x6666;
                exec_n(&mut cpu, &mut bus, 3);
                let want = expected(cc as usize, f);
                assert_eq!(bus.ram[0x3000], u8::from(want), "set cc={cc} f={f:#x}");
                let (w_ecx, w_rsi) = if want { (2, 7) } else { (1, 0x6666) };
                assert_eq!(
                    cpu.state.gpr[1], w_ecx,
                    "cmov32 zero-extends: cc={cc} f={f:#x}"
                );
                assert_eq!(cpu.state.gpr[6], w_rsi, "cmov64 cc={cc} f={f:#x}");
                assert_eq!(cpu.state.rflags, flags::FIXED | f);
            }
        }
    }

    #[test]
    fn cmov_reads_memory_even_when_false() {
        // cmovo eax, [256 GiB] (not mapped: only the first 1 GiB is) faults.
        let code = asm(64, |a| a.cmovo(eax, dword_ptr(rbx)));
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[3] = 0x40_0000_0000;
        let r = exec(&mut cpu, &mut bus);
        assert!(
            matches!(r, Err(Fault::Exception(Exception::PF { .. }))),
            "{r:?}"
        );
        assert_eq!(cpu.state.rip, 0x1000);
    }

    #[test]
    fn nops_and_ud() {
        let code = asm(64, |a| {
            a.nop()?;
            a.db(&[0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00])?; // nopl [rax+rax+0]
            a.db(&[0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00])?;
            a.pause()?;
            a.db(&[0xf3, 0x0f, 0x1e, 0xfa])?; // endbr64
            a.db(&[0xf3, 0x0f, 0x1e, 0xfb])?; // endbr32
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 0x7fff_ffff_ffff_0000; // the NOP operand is never accessed
        let before = cpu.state.clone();
        exec_n(&mut cpu, &mut bus, 6);
        assert_eq!(cpu.state.rip, 0x1000 + code.len() as u64);
        assert_eq!(cpu.state.gpr, before.gpr);
        assert_eq!(cpu.state.rflags, before.rflags);
        for bytes in [&[0x0f, 0x0b][..], &[0x0f, 0xb9, 0xc0], &[0x0f, 0xff, 0xc0]] {
            let (mut cpu, mut bus) = long64(bytes);
            assert_eq!(
                exec(&mut cpu, &mut bus),
                Err(Fault::Exception(Exception::UD))
            );
            assert_eq!(cpu.state.rip, 0x1000);
            assert!(cpu.stats.unimplemented.is_empty(), "{bytes:?}");
        }
    }
}

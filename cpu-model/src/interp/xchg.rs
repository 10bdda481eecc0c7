//! The exchange family of data movement: XCHG, CMPXCHG, CMPXCHG8B,
//! CMPXCHG16B, XADD, BSWAP, MOVBE. SDM Vol. 2 instruction pages as cited.
//!
//! The interpreter executes one instruction at a time, so the LOCK
//! semantics (XCHG with memory is always locked) need nothing more than
//! doing the read and the write in the same handler.

use super::alu::read_rmw;
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::AccessKind;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Xchg, xchg);
    t.set(Mnemonic::Cmpxchg, cmpxchg);
    t.set(Mnemonic::Cmpxchg8b, cmpxchg8b);
    t.set(Mnemonic::Cmpxchg16b, cmpxchg16b);
    t.set(Mnemonic::Xadd, xadd);
    t.set(Mnemonic::Bswap, bswap);
    t.set(Mnemonic::Movbe, movbe);
}

fn accumulator(size: u32) -> Register {
    match size {
        1 => Register::AL,
        2 => Register::AX,
        4 => Register::EAX,
        _ => Register::RAX,
    }
}

/// XCHG — SDM Vol. 2 "XCHG—Exchange Register/Memory With Register". With a
/// memory operand the bus is locked (nothing extra to do here). 32-bit
/// register forms zero-extend both registers (87 C0 `xchg eax, eax` clears
/// RAX[63:32]; the one-byte 90 is NOP and decodes as such). No flags.
fn xchg(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    // The memory operand is written: checked for writing before it is read.
    let a = read_rmw(cpu, bus, ins, 0)?;
    let b = read_rmw(cpu, bus, ins, 1)?;
    if ins.op0_kind() == OpKind::Memory {
        cpu.write_op(bus, ins, 0, b)?;
        cpu.set_reg(ins.op1_register(), a);
    } else if ins.op1_kind() == OpKind::Memory {
        cpu.write_op(bus, ins, 1, a)?;
        cpu.set_reg(ins.op0_register(), b);
    } else {
        cpu.set_reg(ins.op0_register(), b);
        cpu.set_reg(ins.op1_register(), a);
    }
    Ok(())
}

/// CMPXCHG — SDM Vol. 2 "CMPXCHG—Compare and Exchange". Flags as CMP
/// accumulator, destination. Equal: destination ← source, the accumulator
/// is not written. Not equal: accumulator ← destination, and a memory
/// destination is written back with its own value (the processor always
/// writes it); a register destination is not written at all, so its upper
/// half is not cleared by a 32-bit form (as on Intel hardware).
fn cmpxchg(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let acc = accumulator(size);
    // A memory destination is always written: checked for writing first.
    let dest = read_rmw(cpu, bus, ins, 0)?;
    let src = cpu.read_op(bus, ins, 1)?;
    let a = cpu.reg(acc);
    let (_, f) = flags::sub(a, dest, false, size);
    cpu.set_flags(flags::STATUS, f);
    if a == dest {
        cpu.write_op(bus, ins, 0, src)?;
    } else {
        if ins.op0_kind() == OpKind::Memory {
            cpu.write_op(bus, ins, 0, dest)?;
        }
        cpu.set_reg(acc, dest);
    }
    Ok(())
}

/// CMPXCHG8B m64 — SDM Vol. 2 "CMPXCHG8B/CMPXCHG16B—Compare and Exchange
/// Bytes". Compare EDX:EAX with m64: equal → ZF = 1, m64 ← ECX:EBX;
/// otherwise ZF = 0, m64 is written back unchanged and EDX:EAX ← m64
/// (zero-extending RDX/RAX in 64-bit mode). Only ZF changes.
fn cmpxchg8b(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.op0_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    let seg = Cpu::mem_segment(ins);
    let ea = cpu.effective_address(ins);
    let m = cpu.read_mem(bus, seg, ea, 8)?;
    let g = cpu.state.gpr;
    let expect = (g[2] << 32) | (g[0] & 0xffff_ffff);
    if m == expect {
        let new = (g[1] << 32) | (g[3] & 0xffff_ffff);
        cpu.write_mem(bus, seg, ea, 8, new)?;
        cpu.state.rflags |= flags::ZF;
    } else {
        cpu.write_mem(bus, seg, ea, 8, m)?;
        cpu.set_reg(Register::EAX, m);
        cpu.set_reg(Register::EDX, m >> 32);
        cpu.state.rflags &= !flags::ZF;
    }
    Ok(())
}

/// CMPXCHG16B m128 — SDM Vol. 2 "CMPXCHG8B/CMPXCHG16B": as CMPXCHG8B with
/// RDX:RAX / RCX:RBX. The operand must be 16-byte aligned (linear address)
/// or #GP(0). On failure the memory is written back with its own value.
fn cmpxchg16b(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.op0_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    let seg = Cpu::mem_segment(ins);
    let ea = cpu.effective_address(ins);
    let lin = cpu.linearize(seg, ea, 16, AccessKind::Write)?;
    if lin & 15 != 0 {
        return Err(Exception::GP(0).into());
    }
    let m = cpu.read_mem128(bus, seg, ea)?;
    let g = cpu.state.gpr;
    let expect = (u128::from(g[2]) << 64) | u128::from(g[0]);
    if m == expect {
        let new = (u128::from(g[1]) << 64) | u128::from(g[3]);
        cpu.write_mem128(bus, seg, ea, new)?;
        cpu.state.rflags |= flags::ZF;
    } else {
        cpu.write_mem128(bus, seg, ea, m)?;
        cpu.state.gpr[0] = m as u64;
        cpu.state.gpr[2] = (m >> 64) as u64;
        cpu.state.rflags &= !flags::ZF;
    }
    Ok(())
}

/// XADD — SDM Vol. 2 "XADD—Exchange and Add": TEMP ← SRC + DEST;
/// SRC ← DEST; DEST ← TEMP. Flags as ADD. With both operands the same
/// register the sum wins (the destination is written last).
fn xadd(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    // Checked for writing first: writing CS:[m] is #GP even when the
    // access is also misaligned under alignment checking (#AC).
    let dest = read_rmw(cpu, bus, ins, 0)?;
    let src = cpu.read_op(bus, ins, 1)?;
    let (sum, f) = flags::add(dest, src, false, size);
    if ins.op0_kind() == OpKind::Memory {
        cpu.write_op(bus, ins, 0, sum)?;
        cpu.set_reg(ins.op1_register(), dest);
    } else {
        cpu.set_reg(ins.op1_register(), dest);
        cpu.set_reg(ins.op0_register(), sum);
    }
    cpu.set_flags(flags::STATUS, f);
    Ok(())
}

/// BSWAP — SDM Vol. 2 "BSWAP—Byte Swap". The 16-bit form (66 0F C8+r) is
/// undefined by the SDM; Intel and AMD processors clear the low word, which
/// is what we produce (bits 63:16 are kept). No flags.
fn bswap(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let r = ins.op0_register();
    let v = cpu.reg(r);
    let swapped = match r.size() {
        2 => 0,
        4 => u64::from((v as u32).swap_bytes()),
        _ => v.swap_bytes(),
    };
    cpu.set_reg(r, swapped);
    Ok(())
}

/// MOVBE — SDM Vol. 2 "MOVBE—Move Data After Swapping Bytes": load or
/// store with the byte order reversed (16/32/64-bit; the register-register
/// encoding is invalid and decodes as such). No flags.
fn movbe(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let v = cpu.read_op(bus, ins, 1)?;
    let swapped = match size {
        2 => u64::from((v as u16).swap_bytes()),
        4 => u64::from((v as u32).swap_bytes()),
        _ => v.swap_bytes(),
    };
    cpu.write_op(bus, ins, 0, swapped)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::tests::{long64, prot32};
    use crate::memory::FlatBus;
    use iced_x86::code_asm::*;

    use crate::interp::tests::asm;

    use crate::interp::tests::exec;

    use crate::interp::tests::exec_n;

    fn q(bus: &FlatBus, a: usize) -> u64 {
        u64::from_le_bytes(bus.ram[a..a + 8].try_into().unwrap())
    }

    #[test]
    fn xchg_forms() {
        let code = asm(64, |a| {
            a.xchg(rax, rbx)?;
            a.xchg(ecx, ecx)?;
            a.xchg(qword_ptr(0x3000), rdx)?;
            a.xchg(word_ptr(0x3010), si)?;
            a.xchg(ah, al)?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 1;
        cpu.state.gpr[3] = 2;
        cpu.state.gpr[1] = 0xffff_ffff_1234_5678;
        cpu.state.gpr[2] = 0xdddd;
        cpu.state.gpr[6] = 0xffff_0000_0000_5555;
        bus.ram[0x3000..0x3008].copy_from_slice(&0x1111u64.to_le_bytes());
        bus.ram[0x3010..0x3012].copy_from_slice(&[0x34, 0x12]);
        for _ in 0..4 {
            exec_n(&mut cpu, &mut bus, 1);
        }
        assert_eq!((cpu.state.gpr[0], cpu.state.gpr[3]), (2, 1));
        assert_eq!(cpu.state.gpr[1], 0x1234_5678, "xchg ecx, ecx zero-extends");
        assert_eq!(cpu.state.gpr[2], 0x1111);
        assert_eq!(q(&bus, 0x3000), 0xdddd);
        assert_eq!(cpu.state.gpr[6], 0xffff_0000_0000_1234);
        assert_eq!(&bus.ram[0x3010..0x3012], &[0x55, 0x55]);
        cpu.state.gpr[0] = 0xab12;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x12ab);
        assert_eq!(cpu.state.rflags, flags::FIXED);
    }

    #[test]
    fn cmpxchg_success_and_failure() {
        // Register destination, 32-bit, in 64-bit mode.
        let code = asm(64, |a| {
            a.cmpxchg(ebx, ecx)?;
            a.cmpxchg(ebx, ecx)?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 0xaaaa_aaaa_0000_0005;
        cpu.state.gpr[3] = 0xbbbb_bbbb_0000_0005;
        cpu.state.gpr[1] = 0xcccc_cccc_0000_0009;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[3], 9, "destination written, zero-extended");
        assert_eq!(
            cpu.state.gpr[0], 0xaaaa_aaaa_0000_0005,
            "accumulator untouched"
        );
        assert_eq!(cpu.state.rflags & flags::STATUS, flags::ZF | flags::PF);
        cpu.state.gpr[3] = 0xbbbb_bbbb_0000_0007;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 7, "accumulator loaded, zero-extended");
        assert_eq!(
            cpu.state.gpr[3], 0xbbbb_bbbb_0000_0007,
            "destination untouched"
        );
        // CMP 5, 7 = 0xffff_fffe: borrow, negative, odd parity, AF.
        assert_eq!(
            cpu.state.rflags & flags::STATUS,
            flags::CF | flags::SF | flags::AF
        );
        // Memory destination, byte.
        let code = asm(32, |a| {
            a.cmpxchg(byte_ptr(0x3000), dl)?;
            a.cmpxchg(byte_ptr(0x3000), dl)?;
            Ok(())
        });
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.gpr[0] = 0x1180;
        cpu.state.gpr[2] = 0x42;
        bus.ram[0x3000] = 0x80;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(bus.ram[0x3000], 0x42);
        assert!(cpu.flag(flags::ZF));
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x1142);
        assert!(!cpu.flag(flags::ZF));
    }

    #[test]
    fn cmpxchg_failure_writes_memory_back() {
        // A read-only data segment makes even a failing CMPXCHG fault.
        let code = asm(32, |a| a.cmpxchg(dword_ptr(0x3000), ecx));
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.seg[crate::state::SegReg::Ds as usize].attrs &= !crate::state::attr::RW;
        cpu.state.gpr[0] = 1;
        bus.ram[0x3000] = 2;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        assert_eq!(cpu.state.gpr[0], 1);
        assert_eq!(cpu.state.rip, 0x1000);
    }

    #[test]
    fn cmpxchg8b_and_16b() {
        let code = asm(64, |a| {
            a.cmpxchg8b(qword_ptr(0x3000))?;
            a.cmpxchg8b(qword_ptr(0x3000))?;
            a.cmpxchg16b(xmmword_ptr(0x3010))?;
            a.cmpxchg16b(xmmword_ptr(0x3010))?;
            a.cmpxchg16b(xmmword_ptr(0x3018))?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        bus.ram[0x3000..0x3008].copy_from_slice(&0x1111_2222_3333_4444u64.to_le_bytes());
        cpu.state.gpr[0] = 0xffff_ffff_3333_4444;
        cpu.state.gpr[2] = 0xffff_ffff_1111_2222;
        cpu.state.gpr[1] = 0x5555_6666;
        cpu.state.gpr[3] = 0x7777_8888;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(q(&bus, 0x3000), 0x5555_6666_7777_8888);
        assert!(cpu.flag(flags::ZF));
        assert_eq!(
            cpu.state.gpr[0], 0xffff_ffff_3333_4444,
            "EAX untouched on success"
        );
        exec_n(&mut cpu, &mut bus, 1);
        assert!(!cpu.flag(flags::ZF));
        assert_eq!(cpu.state.gpr[0], 0x7777_8888);
        assert_eq!(cpu.state.gpr[2], 0x5555_6666);
        // 16B: memory = (hi 2, lo 1).
        bus.ram[0x3010..0x3018].copy_from_slice(&1u64.to_le_bytes());
        bus.ram[0x3018..0x3020].copy_from_slice(&2u64.to_le_bytes());
        cpu.state.gpr[0] = 1;
        cpu.state.gpr[2] = 2;
        cpu.state.gpr[3] = 0xb0;
        cpu.state.gpr[1] = 0xc0;
        cpu.state.rflags |= flags::CF;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!((q(&bus, 0x3010), q(&bus, 0x3018)), (0xb0, 0xc0));
        assert_eq!(cpu.state.rflags & flags::STATUS, flags::ZF | flags::CF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!((cpu.state.gpr[0], cpu.state.gpr[2]), (0xb0, 0xc0));
        assert!(!cpu.flag(flags::ZF));
        // Misaligned: #GP(0), nothing changes.
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        assert_eq!((cpu.state.gpr[0], cpu.state.gpr[2]), (0xb0, 0xc0));
    }

    #[test]
    fn xadd_forms() {
        let code = asm(64, |a| {
            a.xadd(eax, ebx)?;
            a.xadd(byte_ptr(0x3000), cl)?;
            a.xadd(rdx, rdx)?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 0xffff_ffff;
        cpu.state.gpr[3] = 0x1_0000_0001;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0);
        assert_eq!(cpu.state.gpr[3], 0xffff_ffff);
        assert_eq!(
            cpu.state.rflags & flags::STATUS,
            flags::ZF | flags::CF | flags::AF | flags::PF
        );
        bus.ram[0x3000] = 0x7f;
        cpu.state.gpr[1] = 0x101;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(bus.ram[0x3000], 0x80);
        assert_eq!(cpu.state.gpr[1], 0x17f);
        assert_eq!(
            cpu.state.rflags & flags::STATUS,
            flags::SF | flags::OF | flags::AF
        );
        cpu.state.gpr[2] = 21;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[2], 42);
    }

    #[test]
    fn bswap_and_movbe() {
        let code = asm(64, |a| {
            a.bswap(eax)?;
            a.bswap(rbx)?;
            a.db(&[0x66, 0x0f, 0xc9])?; // bswap cx
            a.movbe(edx, dword_ptr(0x3000))?;
            a.movbe(word_ptr(0x3008), si)?;
            a.movbe(rdi, qword_ptr(0x3000))?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 0xffff_ffff_1122_3344;
        cpu.state.gpr[3] = 0x0102_0304_0506_0708;
        cpu.state.gpr[1] = 0x1234_5678_9abc_def0;
        cpu.state.gpr[2] = u64::MAX;
        cpu.state.gpr[6] = 0xaabb;
        bus.ram[0x3000..0x3008].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8]);
        for _ in 0..6 {
            exec_n(&mut cpu, &mut bus, 1);
        }
        assert_eq!(cpu.state.gpr[0], 0x4433_2211);
        assert_eq!(cpu.state.gpr[3], 0x0807_0605_0403_0201);
        assert_eq!(cpu.state.gpr[1], 0x1234_5678_9abc_0000);
        assert_eq!(cpu.state.gpr[2], 0x0102_0304);
        assert_eq!(&bus.ram[0x3008..0x300a], &[0xaa, 0xbb]);
        assert_eq!(cpu.state.gpr[7], 0x0102_0304_0506_0708);
        assert_eq!(cpu.state.rflags, flags::FIXED);
    }

    /// A read-modify-write memory operand is checked for writing before
    /// it is read: XADD/XCHG/CMPXCHG into a code segment at CPL 3 with
    /// alignment checking on and a misaligned address raise #GP(0) (the
    /// write check), not #AC (found by the host-CPU oracle).
    #[test]
    fn rmw_operands_are_checked_for_writing_before_alignment() {
        for which in 0..3 {
            let code = asm(32, |a| match which {
                0 => a.xadd(word_ptr(0x2001).cs(), ax),
                1 => a.xchg(word_ptr(0x2001).cs(), ax),
                _ => a.cmpxchg(word_ptr(0x2001).cs(), cx),
            });
            let (mut cpu, mut bus) = prot32(&code);
            let code_seg = cpu.state.segment_mut(crate::state::SegReg::Cs);
            code_seg.selector |= 3;
            code_seg.attrs |= 3 << crate::state::attr::DPL_SHIFT;
            cpu.state.cr0 |= crate::state::cr0::AM;
            cpu.state.rflags |= flags::AC;
            assert_eq!(
                exec(&mut cpu, &mut bus),
                Err(Fault::Exception(Exception::GP(0))),
                "form {which}"
            );
        }
    }
}

//! Stack instructions: PUSH/POP/PUSHA/POPA/PUSHF/POPF/ENTER/LEAVE, and the
//! push/pop primitives every other family uses. SDM Vol. 1 §6.2–6.5,
//! Vol. 2 "PUSH", "POP".

use super::operand::seg_of;
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, mask};
use crate::memory::Bus;
use crate::state::{reg, SegReg};
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Push, push_op);
    t.set(Mnemonic::Pop, pop_op);
    t.set(Mnemonic::Pusha, pusha);
    t.set(Mnemonic::Pushad, pusha);
    t.set(Mnemonic::Popa, popa);
    t.set(Mnemonic::Popad, popa);
    for m in [Mnemonic::Pushf, Mnemonic::Pushfd, Mnemonic::Pushfq] {
        t.set(m, pushf);
    }
    for m in [Mnemonic::Popf, Mnemonic::Popfd, Mnemonic::Popfq] {
        t.set(m, popf);
    }
    t.set(Mnemonic::Enter, enter);
    t.set(Mnemonic::Leave, leave);
}

impl Cpu {
    /// Stack pointer masked to the stack width (SS.B / 64-bit mode).
    fn stack_mask(&self) -> u64 {
        crate::flags::mask(self.state.stack_size())
    }

    /// Write the stack pointer, touching only the bits of the stack width.
    pub fn set_sp(&mut self, sp: u64) {
        let m = self.stack_mask();
        let r = &mut self.state.gpr[reg::RSP];
        *r = if m == u64::MAX {
            sp
        } else {
            (*r & !m) | (sp & m)
        };
    }

    /// Offset of the top of the stack after pushing `size` more bytes
    /// beyond `depth` bytes already pushed.
    pub fn stack_offset(&self, depth: u64) -> u64 {
        self.state.gpr[reg::RSP].wrapping_sub(depth) & self.stack_mask()
    }

    /// Push `size` bytes (2, 4, 8). Faults leave RSP unchanged.
    pub fn push(&mut self, bus: &mut dyn Bus, size: u32, v: u64) -> Result<(), Exception> {
        let sp = self.stack_offset(u64::from(size));
        self.write_mem(bus, SegReg::Ss, sp, size, v)?;
        self.set_sp(sp);
        Ok(())
    }

    /// Pop `size` bytes (2, 4, 8). Faults leave RSP unchanged.
    pub fn pop(&mut self, bus: &mut dyn Bus, size: u32) -> Result<u64, Exception> {
        let sp = self.state.gpr[reg::RSP] & self.stack_mask();
        let v = self.read_mem(bus, SegReg::Ss, sp, size)?;
        self.set_sp(sp.wrapping_add(u64::from(size)));
        Ok(v)
    }

    /// Read `size` bytes at `depth` bytes above the top of the stack,
    /// without popping (far RET, IRET read their frame before committing).
    pub fn peek(&mut self, bus: &mut dyn Bus, depth: u64, size: u32) -> Result<u64, Exception> {
        let sp = self.state.gpr[reg::RSP].wrapping_add(depth) & self.stack_mask();
        self.read_mem(bus, SegReg::Ss, sp, size)
    }
}

/// Bytes moved by a PUSH/POP-style instruction (its operand size), from
/// iced's stack-pointer increment.
fn stack_operand_size(ins: &Instruction) -> Result<u32, Exception> {
    match ins.stack_pointer_increment().unsigned_abs() {
        n @ (2 | 4 | 8) => Ok(n),
        _ => Err(Exception::UD),
    }
}

/// PUSH — SDM Vol. 2 "PUSH—Push Word, Doubleword, or Quadword Onto the
/// Stack". Immediates come sign-extended to the operand size; PUSH rSP
/// pushes the value before the decrement; a memory operand addressed
/// through rSP uses the value before the decrement. PUSH Sreg with a 32/64-bit
/// operand size decrements rSP by 4/8 but writes only the 16-bit selector,
/// leaving the upper bytes of the slot unchanged (the SDM allows this or a
/// zero-extended push; recent Intel processors do the 16-bit write). The
/// whole slot is checked first. No flags.
fn push_op(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = stack_operand_size(ins)?;
    if ins.op0_kind() == OpKind::Register && ins.op0_register().is_segment_register() {
        let sel = cpu.reg(ins.op0_register());
        let sp = cpu.stack_offset(u64::from(size));
        cpu.probe_write_mem(bus, SegReg::Ss, sp, size)?;
        cpu.write_mem(bus, SegReg::Ss, sp, 2, sel)?;
        cpu.set_sp(sp);
        return Ok(());
    }
    let v = cpu.read_op(bus, ins, 0)?;
    cpu.push(bus, size, v)?;
    Ok(())
}

/// POP — SDM Vol. 2 "POP—Pop a Value From the Stack". POP rSP loads the
/// popped value (the increment is overwritten). A memory destination that
/// uses rSP in its address sees rSP after the increment. POP Sreg loads
/// the segment through `Cpu::load_segment` before rSP moves (nothing
/// changes if it faults); POP SS inhibits interrupts for one instruction;
/// POP CS does not exist (#UD). No flags.
fn pop_op(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = stack_operand_size(ins)?;
    let next_sp = cpu.state.gpr[reg::RSP].wrapping_add(u64::from(size));
    match ins.op0_kind() {
        OpKind::Register => {
            let r = ins.op0_register();
            if let Some(seg) = seg_of(r) {
                if seg == SegReg::Cs {
                    return Err(Exception::UD.into());
                }
                let v = cpu.peek(bus, 0, size)?;
                cpu.load_segment(bus, seg, v as u16)?;
                cpu.set_sp(next_sp);
                if seg == SegReg::Ss {
                    cpu.state.events.interrupt_shadow = true;
                }
            } else {
                let v = cpu.pop(bus, size)?;
                cpu.set_reg(r, v);
            }
        }
        OpKind::Memory => {
            let v = cpu.peek(bus, 0, size)?;
            cpu.set_sp(next_sp);
            let ea = cpu.effective_address(ins);
            cpu.write_mem(bus, Cpu::mem_segment(ins), ea, size, v)?;
        }
        _ => return Err(Exception::UD.into()),
    }
    Ok(())
}

fn gprs(size: u32) -> [Register; 8] {
    if size == 2 {
        use Register::*;
        [AX, CX, DX, BX, SP, BP, SI, DI]
    } else {
        use Register::*;
        [EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI]
    }
}

/// PUSHA / PUSHAD — SDM Vol. 2 "PUSHA/PUSHAD—Push All General-Purpose
/// Registers": AX CX DX BX (original) SP BP SI DI. All eight slots are
/// checked before anything is written. Invalid in 64-bit mode (iced
/// decodes it as invalid there). No flags.
fn pusha(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = if ins.mnemonic() == Mnemonic::Pusha {
        2
    } else {
        4
    };
    let values = gprs(size).map(|r| cpu.reg(r));
    let step = u64::from(size);
    for k in 1..=8 {
        let sp = cpu.stack_offset(k * step);
        cpu.probe_write_mem(bus, SegReg::Ss, sp, size)?;
    }
    for (k, v) in (1..=8).zip(values) {
        let sp = cpu.stack_offset(k * step);
        cpu.write_mem(bus, SegReg::Ss, sp, size, v)?;
    }
    let sp = cpu.stack_offset(8 * step);
    cpu.set_sp(sp);
    Ok(())
}

/// POPA / POPAD — SDM Vol. 2 "POPA/POPAD—Pop All General-Purpose
/// Registers": DI SI BP (skip SP) BX DX CX AX; rSP advances by 8 slots.
/// Invalid in 64-bit mode. No flags.
fn popa(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = if ins.mnemonic() == Mnemonic::Popa {
        2
    } else {
        4
    };
    let regs = gprs(size);
    let step = u64::from(size);
    let mut values = [0u64; 8];
    for (k, v) in (0..8u64).zip(values.iter_mut()) {
        *v = cpu.peek(bus, k * step, size)?;
    }
    for (k, v) in values.into_iter().enumerate() {
        // Slot 0 is DI (register 7), slot 7 is AX (register 0).
        let r = regs[7 - k];
        if r != Register::SP && r != Register::ESP {
            cpu.set_reg(r, v);
        }
    }
    let sp = cpu.state.gpr[reg::RSP].wrapping_add(8 * step);
    cpu.set_sp(sp);
    Ok(())
}

/// PUSHF / PUSHFD / PUSHFQ — SDM Vol. 2 "PUSHF/PUSHFD/PUSHFQ—Push EFLAGS
/// Register Onto the Stack". The image has VM and RF cleared (AND
/// 00FCFFFFH); in virtual-8086 mode with IOPL < 3 it is #GP(0) (CR4.VME
/// is not supported).
fn pushf(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = stack_operand_size(ins)?;
    if cpu.state.v86() && cpu.state.iopl() < 3 {
        return Err(Exception::GP(0).into());
    }
    let image = cpu.state.rflags & !(flags::VM | flags::RF) & mask(size);
    cpu.push(bus, size, image)?;
    Ok(())
}

/// The RFLAGS bits POPF/IRET may change at the current privilege, for an
/// operand of `size` bytes. SDM Vol. 2 "POPF/POPFD/POPFQ" (Table 4-15):
/// VIP, VIF, VM and RF never change through POPF (RF is cleared instead);
/// IOPL only at CPL 0 (or in real mode); IF only when CPL ≤ IOPL. A 16-bit
/// POPF changes only bits 15:0.
fn popf_changeable(cpu: &Cpu, size: u32) -> u64 {
    let mut m =
        flags::IMPLEMENTED & !(flags::FIXED | flags::VIP | flags::VIF | flags::VM | flags::RF);
    m &= mask(size);
    let st = &cpu.state;
    if st.protected() && st.cpl() > 0 {
        m &= !flags::IOPL;
    }
    if st.protected() && st.cpl() > st.iopl() {
        m &= !flags::IF;
    }
    m
}

/// POPF / POPFD / POPFQ — SDM Vol. 2 "POPF/POPFD/POPFQ—Pop Stack Into the
/// EFLAGS Register", with the privilege rules of [`popf_changeable`]. In
/// virtual-8086 mode with IOPL < 3 it is #GP(0) (CR4.VME is not
/// supported); with IOPL = 3 IOPL itself is kept (CPL is 3). Clearing or
/// setting IF here does not create an interrupt shadow.
fn popf(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = stack_operand_size(ins)?;
    if cpu.state.v86() && cpu.state.iopl() < 3 {
        return Err(Exception::GP(0).into());
    }
    let v = cpu.pop(bus, size)?;
    let m = popf_changeable(cpu, size);
    let mut f = (cpu.state.rflags & !m) | (v & m) | flags::FIXED;
    if size > 2 {
        f &= !flags::RF;
    }
    cpu.state.rflags = f;
    Ok(())
}

fn frame_pointer(size: u32) -> Register {
    match size {
        2 => Register::BP,
        4 => Register::EBP,
        _ => Register::RBP,
    }
}

/// ENTER imm16, imm8 — SDM Vol. 2 "ENTER—Make Stack Frame for Procedure
/// Parameters". The nesting level is taken mod 32. Push rBP; for a level
/// L > 0, push L−1 frame pointers copied from [rBP − k·size] (addressed at
/// the stack width, in SS) and then the new frame pointer; rBP ← the frame
/// pointer; rSP −= imm16 (stack width). Every slot written, and (as the SDM
/// exception list says) a write at the final rSP, are checked before
/// anything is written.
fn enter(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = match ins.code() {
        Code::Enterw_imm16_imm8 => 2,
        Code::Enterd_imm16_imm8 => 4,
        _ => 8,
    };
    let step = u64::from(size);
    let alloc = u64::from(ins.immediate16());
    let level = u64::from(ins.immediate8_2nd() % 32);
    let smask = mask(cpu.state.stack_size());
    let pushes = if level == 0 { 1 } else { level + 1 };
    for k in 1..=pushes {
        let sp = cpu.stack_offset(k * step);
        cpu.probe_write_mem(bus, SegReg::Ss, sp, size)?;
    }
    let final_sp = cpu.stack_offset(pushes * step).wrapping_sub(alloc) & smask;
    cpu.probe_write_mem(bus, SegReg::Ss, final_sp, size)?;

    let rbp = cpu.state.gpr[reg::RBP];
    cpu.push(bus, size, rbp)?;
    let frame_temp = cpu.state.gpr[reg::RSP] & mask(size);
    if level > 0 {
        let mut bp = rbp;
        for _ in 1..level {
            bp = bp.wrapping_sub(step);
            let v = cpu.read_mem(bus, SegReg::Ss, bp & smask, size)?;
            cpu.push(bus, size, v)?;
        }
        cpu.push(bus, size, frame_temp)?;
    }
    cpu.set_reg(frame_pointer(size), frame_temp);
    let sp = cpu.state.gpr[reg::RSP].wrapping_sub(alloc);
    cpu.set_sp(sp);
    Ok(())
}

/// LEAVE — SDM Vol. 2 "LEAVE—High Level Procedure Exit": rSP ← rBP (at
/// the stack width), then pop rBP (operand size). A faulting pop leaves
/// both registers unchanged (rolled back). No flags.
fn leave(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = match ins.code() {
        Code::Leavew => 2,
        Code::Leaved => 4,
        _ => 8,
    };
    let bp = cpu.state.gpr[reg::RBP];
    cpu.set_sp(bp);
    let v = cpu.pop(bus, size)?;
    cpu.set_reg(frame_pointer(size), v);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::descriptor::Descriptor;
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use crate::memory::FlatBus;
    use iced_x86::code_asm::*;

    use crate::interp::tests::asm;

    use crate::interp::tests::exec;

    use crate::interp::tests::exec_n as ok;

    fn d(bus: &FlatBus, a: usize) -> u32 {
        u32::from_le_bytes(bus.ram[a..a + 4].try_into().unwrap())
    }

    fn w(bus: &FlatBus, a: usize) -> u16 {
        u16::from_le_bytes(bus.ram[a..a + 2].try_into().unwrap())
    }

    const SP: usize = reg::RSP;

    #[test]
    fn push_pop_forms_32() {
        let code = asm(32, |a| {
            a.push(eax)?;
            a.push(-2)?; // push imm8, sign-extended
            a.push(0x1234_5678)?;
            a.push(dword_ptr(0x3000))?;
            a.push(esp)?;
            a.pop(ebx)?;
            a.pop(dword_ptr(esp + 4))?; // address after the increment
            a.pop(esp)?;
            Ok(())
        });
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.gpr[SP] = 0x9000;
        cpu.state.gpr[0] = 0xaabb_ccdd;
        bus.ram[0x3000..0x3004].copy_from_slice(&0x0bad_f00du32.to_le_bytes());
        ok(&mut cpu, &mut bus, 5);
        assert_eq!(cpu.state.gpr[SP], 0x9000 - 20);
        assert_eq!(d(&bus, 0x8ffc), 0xaabb_ccdd);
        assert_eq!(d(&bus, 0x8ff8), 0xffff_fffe);
        assert_eq!(d(&bus, 0x8ff4), 0x1234_5678);
        assert_eq!(d(&bus, 0x8ff0), 0x0bad_f00d);
        assert_eq!(d(&bus, 0x8fec), 0x8ff0, "PUSH ESP pushes the old value");
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[3], 0x8ff0);
        // pop [esp+4]: value from 0x8ff0, ESP becomes 0x8ff4, stored at 0x8ff8.
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SP], 0x8ff4);
        assert_eq!(d(&bus, 0x8ff8), 0x0bad_f00d);
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(
            cpu.state.gpr[SP], 0x1234_5678,
            "POP ESP loads the popped value"
        );
    }

    #[test]
    fn push_pop_64_and_16_bit_operands() {
        let code = asm(64, |a| {
            a.push(-1)?; // pushq imm8 → 8 bytes of 0xff
            a.push(0x7fff_ffff)?;
            a.push(r12w)?;
            a.pop(r13w)?;
            a.pop(r14)?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[SP] = 0x9000;
        cpu.state.gpr[12] = 0x1111_2222_3333_4444;
        cpu.state.gpr[13] = 0x5555_5555_5555_5555;
        ok(&mut cpu, &mut bus, 3);
        assert_eq!(cpu.state.gpr[SP], 0x9000 - 18);
        assert_eq!(&bus.ram[0x8ff8..0x9000], &[0xff; 8]);
        assert_eq!(d(&bus, 0x8ff0), 0x7fff_ffff);
        assert_eq!(d(&bus, 0x8ff4), 0);
        assert_eq!(w(&bus, 0x8fee), 0x4444);
        ok(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.gpr[13], 0x5555_5555_5555_4444);
        assert_eq!(cpu.state.gpr[14], 0x7fff_ffff);
        assert_eq!(cpu.state.gpr[SP], 0x8ff8);
    }

    #[test]
    fn sixteen_bit_stack_wraps() {
        let code = asm(16, |a| {
            a.push(ax)?;
            a.pop(bx)?;
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.load_segment_real(SegReg::Ss, 0x2000);
        cpu.state.gpr[SP] = 0xdead_0000;
        cpu.state.gpr[0] = 0x1234;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SP], 0xdead_fffe, "only SP moves");
        assert_eq!(w(&bus, 0x2fffe), 0x1234);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SP], 0xdead_0000);
        assert_eq!(cpu.state.gpr[3], 0x1234);
    }

    #[test]
    fn push_pop_segment_registers() {
        let code = asm(32, |a| {
            a.push(ds)?;
            a.push(fs)?;
            Ok(())
        });
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.gpr[SP] = 0x9000;
        bus.ram[0x8ff8..0x9000].fill(0xee);
        cpu.state.seg[SegReg::Fs as usize].selector = 0x2b;
        ok(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.gpr[SP], 0x8ff8);
        assert_eq!(
            &bus.ram[0x8ffc..0x9000],
            &[0x10, 0, 0xee, 0xee],
            "16-bit write"
        );
        assert_eq!(&bus.ram[0x8ff8..0x8ffc], &[0x2b, 0, 0xee, 0xee]);
        // Real mode: POP DS / POP SS (with the interrupt shadow).
        let code = asm(16, |a| {
            a.pop(ds)?;
            a.pop(ss)?;
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        bus.ram[0x8000..0x8004].copy_from_slice(&[0x34, 0x12, 0x00, 0x07]);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.segment(SegReg::Ds).base, 0x12340);
        assert_eq!(cpu.state.gpr[SP], 0x8002);
        assert!(!cpu.state.events.interrupt_shadow);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.segment(SegReg::Ss).selector, 0x0700);
        assert_eq!(cpu.state.gpr[SP], 0x8004);
        assert!(cpu.state.events.interrupt_shadow);
    }

    #[test]
    fn pusha_popa() {
        let code = asm(16, |a| {
            a.pusha()?;
            a.popa()?;
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        for i in 0..8 {
            if i != SP {
                cpu.state.gpr[i] = 0xabcd_0000 | (0x1111 * (i as u64 + 1));
            }
        }
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SP], 0x8000 - 16);
        let want = [
            0x1111u16, 0x2222, 0x3333, 0x4444, 0x8000, 0x6666, 0x7777, 0x8888,
        ];
        for (k, v) in want.iter().enumerate() {
            assert_eq!(w(&bus, 0x8000 - 2 * (k + 1)), *v, "slot {k}");
        }
        // POPA ignores the stored SP.
        bus.ram[0x8000 - 10] = 0x55;
        cpu.state.gpr[0] = 0xffff_0000;
        cpu.state.gpr[7] = 0;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SP], 0x8000);
        assert_eq!(cpu.state.gpr[0], 0xffff_1111, "16-bit loads merge");
        assert_eq!(cpu.state.gpr[7], 0x8888);
        assert_eq!(cpu.state.gpr[3], 0xabcd_4444);
    }

    /// Flat 32-bit protected mode with an expand-down stack segment whose
    /// valid offsets are 0x8000..=0xffff_ffff.
    fn expand_down_stack(code: &[u8]) -> (Cpu, FlatBus) {
        let (mut cpu, bus) = prot32(code);
        // Type 7 (data, expand-down, RW, accessed), B = 1, limit 0x7fff.
        cpu.state.seg[SegReg::Ss as usize] = Descriptor(0x0040_9700_0000_7fff).to_segment(0x10);
        (cpu, bus)
    }

    #[test]
    fn pusha_checks_all_slots_first() {
        let code = asm(32, |a| a.pushad());
        let (mut cpu, mut bus) = expand_down_stack(&code);
        cpu.state.gpr[SP] = 0x8010; // room for 4 of the 8 dwords
        cpu.state.gpr[0] = 0x1234;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::SS(0)))
        );
        assert_eq!(cpu.state.gpr[SP], 0x8010);
        assert!(
            bus.ram[0x7ff0..0x8010].iter().all(|&b| b == 0),
            "nothing written"
        );
        cpu.state.gpr[SP] = 0x8020;
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SP], 0x8000);
        assert_eq!(d(&bus, 0x801c), 0x1234);
    }

    #[test]
    fn pushf_image_and_popf_real_mode() {
        // pushfd; popfd; popf (16-bit code).
        let (mut cpu, mut bus) = real_mode(&[0x66, 0x9c, 0x66, 0x9d, 0x9d]);
        cpu.state.rflags = flags::FIXED | flags::RF | flags::AC | flags::CF | flags::VIP;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(
            d(&bus, 0x7ffc) as u64,
            flags::FIXED | flags::AC | flags::CF | flags::VIP
        );
        // POPFD at CPL 0 / real mode: everything but VM/VIF/VIP/RF changes.
        let image =
            flags::IOPL | flags::NT | flags::IF | flags::ID | flags::VM | flags::VIF | flags::ZF;
        bus.ram[0x7ffc..0x8000].copy_from_slice(&(image as u32).to_le_bytes());
        run(&mut cpu, &mut bus, 1);
        assert_eq!(
            cpu.state.rflags,
            flags::FIXED | flags::IOPL | flags::NT | flags::IF | flags::ID | flags::ZF | flags::VIP
        );
        // 16-bit POPF changes bits 15:0 only (here: everything there cleared).
        bus.ram[0x8000..0x8002].copy_from_slice(&[0, 0]);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rflags, flags::FIXED | flags::ID | flags::VIP);
        assert_eq!(cpu.state.gpr[SP], 0x8002);
    }

    #[test]
    fn popf_privilege_rules() {
        let all = flags::IOPL | flags::IF | flags::CF | flags::DF | flags::AC;
        let cases = [
            // (CPL, IOPL, expected bits out of `all` after POPFD with all set)
            (0u16, 0u64, all),
            (3, 0, flags::CF | flags::DF | flags::AC),
            (
                1,
                1,
                flags::IF | flags::CF | flags::DF | flags::AC | (1 << 12),
            ),
            (3, 3, all),
        ];
        for (cpl, iopl, want) in cases {
            let code = asm(32, |a| a.popfd());
            let (mut cpu, mut bus) = prot32(&code);
            cpu.state.seg[SegReg::Cs as usize].selector |= cpl;
            cpu.state.rflags = flags::FIXED | (iopl << 12);
            cpu.state.gpr[SP] = 0x9000;
            bus.ram[0x9000..0x9004]
                .copy_from_slice(&((all | flags::VM | flags::RF) as u32).to_le_bytes());
            ok(&mut cpu, &mut bus, 1);
            assert_eq!(
                cpu.state.rflags,
                flags::FIXED | want,
                "cpl {cpl} iopl {iopl}"
            );
        }
        // CPL 3 > IOPL 0 with IF already set: IF stays set even if popped 0.
        let code = asm(32, |a| a.popfd());
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        cpu.state.rflags = flags::FIXED | flags::IF;
        cpu.state.gpr[SP] = 0x9000;
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rflags, flags::FIXED | flags::IF);
    }

    #[test]
    fn pushf_popf_virtual_8086() {
        // A virtual-8086 task: PE = 1, VM = 1, CS:IP = 0000:1000.
        let (mut cpu, mut bus) = real_mode(&[0x9c, 0x9d]);
        cpu.state.cr0 |= crate::state::cr0::PE;
        cpu.state.rflags = flags::FIXED | flags::VM | flags::CF;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        cpu.state.rflags |= flags::IOPL;
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(
            w(&bus, 0x7ffe) as u64,
            flags::FIXED | flags::IOPL | flags::CF
        );
        // POPF at IOPL 3 may change IF but not IOPL.
        bus.ram[0x7ffe..0x8000].copy_from_slice(&((flags::IF | flags::ZF) as u16).to_le_bytes());
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(
            cpu.state.rflags,
            flags::FIXED | flags::VM | flags::IOPL | flags::IF | flags::ZF
        );
        cpu.state.rip = 0x1001;
        cpu.state.rflags &= !flags::IOPL;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
    }

    #[test]
    fn pushfq_popfq() {
        let code = asm(64, |a| {
            a.pushfq()?;
            a.popfq()?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[SP] = 0x9000;
        cpu.state.rflags = flags::FIXED | flags::RF | flags::SF;
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(
            &bus.ram[0x8ff8..0x9000],
            &(flags::FIXED | flags::SF).to_le_bytes()
        );
        bus.ram[0x8ff8..0x9000].copy_from_slice(&(u64::MAX).to_le_bytes());
        ok(&mut cpu, &mut bus, 1);
        let want = flags::IMPLEMENTED & !(flags::VM | flags::VIF | flags::VIP | flags::RF);
        assert_eq!(cpu.state.rflags, want);
    }

    #[test]
    fn enter_and_leave() {
        // 16-bit: enter 6, 0 then leave.
        let code = asm(16, |a| {
            a.enter(6, 0)?;
            a.leave()?;
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[reg::RBP] = 0xabcd_4321;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(w(&bus, 0x7ffe), 0x4321);
        assert_eq!(cpu.state.gpr[reg::RBP], 0xabcd_7ffe);
        assert_eq!(cpu.state.gpr[SP], 0x7ffe - 6);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RBP], 0xabcd_4321);
        assert_eq!(cpu.state.gpr[SP], 0x8000);
    }

    #[test]
    fn enter_with_nesting() {
        // enter 8, 3 (32-bit): push EBP; push [EBP-4]; push [EBP-8]; push
        // frame; EBP = frame; ESP -= 8. Level 35 behaves as 3.
        for level in [3u32, 35] {
            let code = asm(32, |a| a.enter(8, level));
            let (mut cpu, mut bus) = prot32(&code);
            cpu.state.gpr[SP] = 0x9000;
            cpu.state.gpr[reg::RBP] = 0xa000;
            bus.ram[0x9ffc..0xa000].copy_from_slice(&0x1111u32.to_le_bytes());
            bus.ram[0x9ff8..0x9ffc].copy_from_slice(&0x2222u32.to_le_bytes());
            ok(&mut cpu, &mut bus, 1);
            assert_eq!(d(&bus, 0x8ffc), 0xa000);
            assert_eq!(d(&bus, 0x8ff8), 0x1111);
            assert_eq!(d(&bus, 0x8ff4), 0x2222);
            assert_eq!(d(&bus, 0x8ff0), 0x8ffc);
            assert_eq!(cpu.state.gpr[reg::RBP], 0x8ffc);
            assert_eq!(cpu.state.gpr[SP], 0x8ff0 - 8);
        }
        // Level 1: push EBP, push the frame pointer.
        let code = asm(64, |a| a.enter(0x10, 1));
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[SP] = 0x9000;
        cpu.state.gpr[reg::RBP] = 0x1_2345_6789;
        ok(&mut cpu, &mut bus, 1);
        assert_eq!(&bus.ram[0x8ff8..0x9000], &0x1_2345_6789u64.to_le_bytes());
        assert_eq!(&bus.ram[0x8ff0..0x8ff8], &0x8ff8u64.to_le_bytes());
        assert_eq!(cpu.state.gpr[reg::RBP], 0x8ff8);
        assert_eq!(cpu.state.gpr[SP], 0x8ff0 - 0x10);
    }

    #[test]
    fn enter_checks_final_stack_pointer_first() {
        let code = asm(32, |a| a.enter(0x20, 0));
        let (mut cpu, mut bus) = expand_down_stack(&code);
        cpu.state.gpr[SP] = 0x8010;
        cpu.state.gpr[reg::RBP] = 0x5555;
        // 0x8010 - 4 - 0x20 = 0x7fec is below the expand-down limit.
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::SS(0)))
        );
        assert_eq!(cpu.state.gpr[reg::RBP], 0x5555);
        assert_eq!(d(&bus, 0x800c), 0, "nothing written");
    }

    #[test]
    fn leave_fault_leaves_registers() {
        let code = asm(32, |a| a.leave());
        let (mut cpu, mut bus) = expand_down_stack(&code);
        cpu.state.gpr[SP] = 0x9000;
        cpu.state.gpr[reg::RBP] = 0x7000; // below the expand-down limit
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::SS(0)))
        );
        assert_eq!(cpu.state.gpr[SP], 0x9000);
        assert_eq!(cpu.state.gpr[reg::RBP], 0x7000);
    }
}

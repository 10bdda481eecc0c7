//! Operand access shared by every handler: registers of every width,
//! effective addresses (SDM Vol. 2 §2.1.5, §2.2.1.6 RIP-relative), memory
//! operands through segmentation, and immediates.

use crate::exception::Exception;
use crate::memory::Bus;
use crate::state::CpuMode;
use crate::state::SegReg;
use crate::Cpu;
use iced_x86::{Instruction, OpKind, Register};

/// Map an iced segment register to ours.
pub fn seg_of(r: Register) -> Option<SegReg> {
    Some(match r {
        Register::ES => SegReg::Es,
        Register::CS => SegReg::Cs,
        Register::SS => SegReg::Ss,
        Register::DS => SegReg::Ds,
        Register::FS => SegReg::Fs,
        Register::GS => SegReg::Gs,
        _ => return None,
    })
}

/// GPR index and access shape of an iced general-purpose register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gpr {
    /// Low `size` bytes of register `idx`.
    Low(usize, u32),
    /// AH, CH, DH, BH: bits 8..16 of register `idx`.
    High(usize),
}

fn gpr(r: Register) -> Option<Gpr> {
    let n = r as u32;
    let al = Register::AL as u32;
    let ax = Register::AX as u32;
    let eax = Register::EAX as u32;
    let rax = Register::RAX as u32;
    Some(if (al..al + 4).contains(&n) {
        Gpr::Low((n - al) as usize, 1)
    } else if (al + 4..al + 8).contains(&n) {
        Gpr::High((n - al - 4) as usize)
    } else if (al + 8..al + 20).contains(&n) {
        // SPL, BPL, SIL, DIL, R8L..R15L
        Gpr::Low((n - al - 4) as usize, 1)
    } else if (ax..ax + 16).contains(&n) {
        Gpr::Low((n - ax) as usize, 2)
    } else if (eax..eax + 16).contains(&n) {
        Gpr::Low((n - eax) as usize, 4)
    } else if (rax..rax + 16).contains(&n) {
        Gpr::Low((n - rax) as usize, 8)
    } else {
        return None;
    })
}

impl Cpu {
    /// Read a general-purpose or segment register (segment: its selector).
    /// Any other register reads as 0; handlers for CR/DR use their own paths.
    pub fn reg(&self, r: Register) -> u64 {
        match gpr(r) {
            Some(Gpr::Low(i, size)) => self.state.gpr[i] & crate::flags::mask(size),
            Some(Gpr::High(i)) => (self.state.gpr[i] >> 8) & 0xff,
            None => match seg_of(r) {
                Some(s) => u64::from(self.state.segment(s).selector),
                None => 0,
            },
        }
    }

    /// Write a general-purpose register with x86-64 merge rules: 8- and
    /// 16-bit writes keep the other bits, 32-bit writes zero bits 32..64.
    pub fn set_reg(&mut self, r: Register, v: u64) {
        match gpr(r) {
            Some(Gpr::Low(i, 1)) => self.state.gpr[i] = (self.state.gpr[i] & !0xff) | (v & 0xff),
            Some(Gpr::Low(i, 2)) => {
                self.state.gpr[i] = (self.state.gpr[i] & !0xffff) | (v & 0xffff)
            }
            Some(Gpr::Low(i, 4)) => self.state.gpr[i] = v & 0xffff_ffff,
            Some(Gpr::Low(i, _)) => self.state.gpr[i] = v,
            Some(Gpr::High(i)) => {
                self.state.gpr[i] = (self.state.gpr[i] & !0xff00) | ((v & 0xff) << 8)
            }
            None => debug_assert!(false, "set_reg on non-GPR {r:?}"),
        }
    }

    /// Address size in bytes (2, 4, 8) of the `OpKind::Memory` operand of
    /// `ins`: the width of its base or index register, else of its
    /// displacement, else the code size (the rule iced-x86 itself applies).
    pub fn addr_size(ins: &Instruction) -> u32 {
        for r in [ins.memory_base(), ins.memory_index()] {
            if r != Register::None {
                return r.size() as u32;
            }
        }
        match ins.memory_displ_size() {
            2 => 2,
            4 => 4,
            8 => 8,
            _ => Self::code_bytes(ins),
        }
    }

    /// Code size of `ins` in bytes (2, 4, 8).
    pub fn code_bytes(ins: &Instruction) -> u32 {
        match ins.code_size() {
            iced_x86::CodeSize::Code16 => 2,
            iced_x86::CodeSize::Code32 => 4,
            _ => 8,
        }
    }

    /// Effective address (offset within the segment) of the memory operand,
    /// truncated to the address size.
    pub fn effective_address(&self, ins: &Instruction) -> u64 {
        let mut ea = ins.memory_displacement64();
        let base = ins.memory_base();
        if base != Register::None && base != Register::RIP && base != Register::EIP {
            ea = ea.wrapping_add(self.reg(base));
        }
        let index = ins.memory_index();
        if index != Register::None {
            ea = ea.wrapping_add(
                self.reg(index)
                    .wrapping_mul(u64::from(ins.memory_index_scale())),
            );
        }
        match Self::addr_size(ins) {
            2 => ea & 0xffff,
            4 => ea & 0xffff_ffff,
            _ => ea,
        }
    }

    /// Segment of the memory operand (after any override).
    pub fn mem_segment(ins: &Instruction) -> SegReg {
        seg_of(ins.memory_segment()).unwrap_or(SegReg::Ds)
    }

    /// The linear address of the memory operand without its segment
    /// checks, for the alignment rules that look at it (FXSAVE, XSAVE,
    /// the aligned SSE forms): in 64-bit mode only FS and GS have a base.
    pub(crate) fn mem_linear_unchecked(&self, ins: &Instruction) -> u64 {
        let seg = Cpu::mem_segment(ins);
        let base =
            if self.state.mode() == CpuMode::Long64 && !matches!(seg, SegReg::Fs | SegReg::Gs) {
                0
            } else {
                self.state.segment(seg).base
            };
        base.wrapping_add(self.effective_address(ins))
    }

    /// Size in bytes of operand `i`.
    pub fn op_size(ins: &Instruction, i: u32) -> u32 {
        match ins.op_kind(i) {
            OpKind::Register => ins.op_register(i).size() as u32,
            OpKind::Memory => ins.memory_size().size() as u32,
            OpKind::Immediate8 | OpKind::Immediate8_2nd => 1,
            OpKind::Immediate16 => 2,
            OpKind::Immediate32 => 4,
            OpKind::Immediate64 => 8,
            OpKind::Immediate8to16 => 2,
            OpKind::Immediate8to32 => 4,
            OpKind::Immediate8to64 | OpKind::Immediate32to64 => 8,
            _ => 0,
        }
    }

    /// Read operand `i` (register, memory or immediate), zero-extended from
    /// its size (immediates come sign-extended to the operand size, as
    /// iced-x86 reports them).
    pub fn read_op(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
    ) -> Result<u64, Exception> {
        match ins.op_kind(i) {
            OpKind::Register => Ok(self.reg(ins.op_register(i))),
            OpKind::Memory => {
                let size = Self::op_size(ins, i);
                let ea = self.effective_address(ins);
                self.read_mem(bus, Self::mem_segment(ins), ea, size)
            }
            _ => Ok(ins.immediate(i)),
        }
    }

    /// Write operand `i` (register or memory) of `size` bytes.
    pub fn write_op(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
        v: u64,
    ) -> Result<(), Exception> {
        match ins.op_kind(i) {
            OpKind::Register => {
                self.set_reg(ins.op_register(i), v);
                Ok(())
            }
            OpKind::Memory => {
                let size = Self::op_size(ins, i);
                let ea = self.effective_address(ins);
                self.write_mem(bus, Self::mem_segment(ins), ea, size, v)
            }
            _ => Err(Exception::UD),
        }
    }

    /// Set the status flags selected by `mask` to `value`'s bits.
    #[inline]
    pub fn set_flags(&mut self, mask: u64, value: u64) {
        self.state.rflags = (self.state.rflags & !mask) | (value & mask);
    }

    #[inline]
    pub fn flag(&self, f: u64) -> bool {
        self.state.rflags & f != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_merging() {
        let mut cpu = Cpu::new();
        cpu.state.gpr[0] = 0x1122_3344_5566_7788;
        cpu.set_reg(Register::AH, 0xaa);
        assert_eq!(cpu.state.gpr[0], 0x1122_3344_5566_aa88);
        cpu.set_reg(Register::AX, 0xbbcc);
        assert_eq!(cpu.state.gpr[0], 0x1122_3344_5566_bbcc);
        cpu.set_reg(Register::EAX, 0xdead_beef);
        assert_eq!(cpu.state.gpr[0], 0xdead_beef);
        cpu.set_reg(Register::SIL, 0x12);
        assert_eq!(cpu.state.gpr[6] & 0xff, 0x12);
        cpu.set_reg(Register::R15L, 0x34);
        assert_eq!(cpu.reg(Register::R15L), 0x34);
        assert_eq!(cpu.reg(Register::BH), 0);
    }
}

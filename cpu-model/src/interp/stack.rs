//! Stack instructions: PUSH/POP/PUSHA/POPA/PUSHF/POPF/ENTER/LEAVE, and the
//! push/pop primitives every other family uses. SDM Vol. 1 §6.2–6.5,
//! Vol. 2 "PUSH", "POP".

use super::Table;
use crate::exception::Exception;
use crate::memory::Bus;
use crate::state::{reg, SegReg};
use crate::Cpu;

pub(super) fn register(_t: &mut Table) {}

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

//! Segmentation: logical (segment:offset) → linear, with the limit, type
//! and canonical checks of every data access. SDM Vol. 3 §3.4, §5.3–5.6;
//! 64-bit rules §3.4.4 and §5.3.1.
//!
//! Also the logical-address accesses every instruction handler uses
//! (`read_mem` / `write_mem`), which add alignment checking (#AC) and data
//! breakpoints (DR0–DR3) on top of [`Cpu::read_linear`].

use super::{paging, Access, AccessKind};
use crate::exception::Exception;
use crate::flags;
use crate::memory::Bus;
use crate::state::{attr, cr0, CpuMode, SegReg};
use crate::Cpu;

fn seg_fault(seg: SegReg) -> Exception {
    if seg == SegReg::Ss {
        Exception::SS(0)
    } else {
        Exception::GP(0)
    }
}

impl Cpu {
    /// Turn `seg:offset` into a linear address for an access of `size`
    /// bytes, applying the checks of the current mode. `offset` must already
    /// be truncated to the address size.
    pub fn linearize(
        &self,
        seg: SegReg,
        offset: u64,
        size: u32,
        kind: AccessKind,
    ) -> Result<u64, Exception> {
        let s = self.state.segment(seg);
        if self.state.mode() == CpuMode::Long64 {
            let base = match seg {
                SegReg::Fs | SegReg::Gs => s.base,
                _ => 0,
            };
            let lin = base.wrapping_add(offset);
            let last = lin.wrapping_add(u64::from(size) - 1);
            if !paging::is_canonical(lin) || !paging::is_canonical(last) {
                return Err(seg_fault(seg));
            }
            return Ok(lin);
        }
        let checks_types = self.state.protected() && !self.state.v86();
        if checks_types {
            if s.unusable() {
                return Err(seg_fault(seg));
            }
            let code = s.attrs & attr::CODE != 0;
            let rw = s.attrs & attr::RW != 0;
            let denied = match kind {
                AccessKind::Write => code || !rw,
                AccessKind::Read => code && !rw,
                AccessKind::Execute => !code,
            };
            if denied {
                return Err(seg_fault(seg));
            }
        }
        let last = offset.wrapping_add(u64::from(size) - 1);
        let expand_down = s.attrs & (attr::CODE | attr::DC) == attr::DC;
        let ok = if expand_down {
            let upper: u64 = if s.big() { 0xffff_ffff } else { 0xffff };
            offset > u64::from(s.limit) && last <= upper && last >= offset
        } else {
            last <= u64::from(s.limit) && last >= offset
        };
        if !ok {
            return Err(seg_fault(seg));
        }
        Ok(s.base.wrapping_add(offset) & 0xffff_ffff)
    }

    /// A user-mode access for paging purposes.
    #[inline]
    pub fn user_access(&self) -> bool {
        self.state.cpl() == 3
    }

    fn alignment_check(&self, lin: u64, size: u32) -> Result<(), Exception> {
        if size > 1
            && lin & u64::from(size - 1) != 0
            && self.state.cr0 & cr0::AM != 0
            && self.state.rflags & flags::AC != 0
            && self.state.cpl() == 3
        {
            return Err(Exception::AC);
        }
        Ok(())
    }

    /// Record a data-breakpoint hit (DR0–DR3 with R/W = 01 or 11) for an
    /// access of `size` bytes at `lin`. The #DB trap is taken once the
    /// instruction retires. SDM Vol. 3 §18.2.4, §18.3.1.2.
    fn data_breakpoints(&mut self, lin: u64, size: u32, write: bool) {
        let dr7 = self.state.dr[7];
        if dr7 & 0xff == 0 {
            return;
        }
        for i in 0..4 {
            if dr7 & (3 << (i * 2)) == 0 {
                continue;
            }
            let rw = (dr7 >> (16 + i * 4)) & 3;
            let hit_kind = match rw {
                1 => write,
                3 => true,
                _ => false,
            };
            if !hit_kind {
                continue;
            }
            let len = match (dr7 >> (18 + i * 4)) & 3 {
                0 => 1,
                1 => 2,
                2 => 8,
                _ => 4,
            };
            let bp = self.state.dr[i] & !(len - 1);
            let end = lin.wrapping_add(u64::from(size));
            if lin < bp + len && end > bp {
                self.state.events.pending_db |= 1 << i;
            }
        }
    }

    /// Read `size` (1, 2, 4, 8) bytes at `seg:offset`, little-endian.
    pub fn read_mem(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        size: u32,
    ) -> Result<u64, Exception> {
        let lin = self.linearize(seg, offset, size, AccessKind::Read)?;
        self.alignment_check(lin, size)?;
        let mut b = [0u8; 8];
        let user = self.user_access();
        self.read_linear(bus, lin, &mut b[..size as usize], Access::read(user))?;
        self.data_breakpoints(lin, size, false);
        Ok(u64::from_le_bytes(b))
    }

    /// Write the low `size` bytes of `value` at `seg:offset`.
    pub fn write_mem(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        size: u32,
        value: u64,
    ) -> Result<(), Exception> {
        let lin = self.linearize(seg, offset, size, AccessKind::Write)?;
        self.alignment_check(lin, size)?;
        let user = self.user_access();
        self.write_linear(
            bus,
            lin,
            &value.to_le_bytes()[..size as usize],
            Access::write(user),
        )?;
        self.data_breakpoints(lin, size, true);
        Ok(())
    }

    /// Read 16 bytes (CMPXCHG16B, descriptor pairs) at `seg:offset`.
    pub fn read_mem128(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
    ) -> Result<u128, Exception> {
        let lin = self.linearize(seg, offset, 16, AccessKind::Read)?;
        let mut b = [0u8; 16];
        let user = self.user_access();
        self.read_linear(bus, lin, &mut b, Access::read(user))?;
        self.data_breakpoints(lin, 16, false);
        Ok(u128::from_le_bytes(b))
    }

    pub fn write_mem128(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        value: u128,
    ) -> Result<(), Exception> {
        let lin = self.linearize(seg, offset, 16, AccessKind::Write)?;
        let user = self.user_access();
        self.write_linear(bus, lin, &value.to_le_bytes(), Access::write(user))?;
        self.data_breakpoints(lin, 16, true);
        Ok(())
    }

    /// Read `buf.len()` bytes (up to a page: FXRSTOR's 512, descriptor
    /// images) at `seg:offset`; the segment is checked for the whole
    /// range, both pages of a page-crossing range are translated first.
    pub fn read_mem_block(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), Exception> {
        let size = buf.len() as u32;
        let lin = self.linearize(seg, offset, size, AccessKind::Read)?;
        let user = self.user_access();
        self.read_linear(bus, lin, buf, Access::read(user))?;
        self.data_breakpoints(lin, size, false);
        Ok(())
    }

    /// Write `data` (up to a page) at `seg:offset`, as `read_mem_block`
    /// reads: nothing is written unless all of it can be.
    pub fn write_mem_block(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        data: &[u8],
    ) -> Result<(), Exception> {
        let size = data.len() as u32;
        let lin = self.linearize(seg, offset, size, AccessKind::Write)?;
        let user = self.user_access();
        self.write_linear(bus, lin, data, Access::write(user))?;
        self.data_breakpoints(lin, size, true);
        Ok(())
    }

    /// Check that a write of `size` bytes at `seg:offset` would succeed
    /// (segment checks and paging), without writing.
    pub fn probe_write_mem(
        &mut self,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        size: u32,
    ) -> Result<(), Exception> {
        let lin = self.linearize(seg, offset, size, AccessKind::Write)?;
        let user = self.user_access();
        self.probe_write(bus, lin, u64::from(size), user)
    }

    /// Supervisor (implicit) read of system structures at a linear address:
    /// GDT, LDT, IDT, TSS. Such reads are never user accesses.
    pub fn read_system(
        &mut self,
        bus: &mut dyn Bus,
        lin: u64,
        size: u32,
    ) -> Result<u64, Exception> {
        let mut b = [0u8; 8];
        let lin = self.wrap_linear(lin);
        self.read_linear(bus, lin, &mut b[..size as usize], Access::read(false))?;
        Ok(u64::from_le_bytes(b))
    }

    /// Supervisor write of system structures (descriptor accessed/busy bits, TSS).
    pub fn write_system(
        &mut self,
        bus: &mut dyn Bus,
        lin: u64,
        size: u32,
        value: u64,
    ) -> Result<(), Exception> {
        let lin = self.wrap_linear(lin);
        self.write_linear(
            bus,
            lin,
            &value.to_le_bytes()[..size as usize],
            Access::write(false),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Segment;

    #[test]
    fn real_mode_limit() {
        let cpu = Cpu::new();
        assert_eq!(
            cpu.linearize(SegReg::Ds, 0xfffe, 2, AccessKind::Read),
            Ok(0xfffe)
        );
        assert_eq!(
            cpu.linearize(SegReg::Ds, 0xffff, 2, AccessKind::Read),
            Err(Exception::GP(0))
        );
        assert_eq!(
            cpu.linearize(SegReg::Ss, 0xffff, 2, AccessKind::Write),
            Err(Exception::SS(0))
        );
    }

    #[test]
    fn protected_mode_types_and_expand_down() {
        let mut cpu = Cpu::new();
        cpu.state.cr0 |= cr0::PE;
        cpu.state.seg[SegReg::Cs as usize].attrs |= attr::DB;
        // Read-only data: write faults.
        cpu.state.seg[SegReg::Ds as usize] = Segment {
            base: 0x1000,
            limit: 0xfff,
            selector: 0x10,
            attrs: attr::P | attr::S,
        };
        assert_eq!(
            cpu.linearize(SegReg::Ds, 0, 4, AccessKind::Read),
            Ok(0x1000)
        );
        assert_eq!(
            cpu.linearize(SegReg::Ds, 0, 4, AccessKind::Write),
            Err(Exception::GP(0))
        );
        // Expand-down: valid offsets are limit+1 ..= 0xffff (B = 0).
        cpu.state.seg[SegReg::Es as usize] = Segment {
            base: 0,
            limit: 0x0fff,
            selector: 0x18,
            attrs: attr::P | attr::S | attr::RW | attr::DC,
        };
        assert!(cpu
            .linearize(SegReg::Es, 0x0fff, 1, AccessKind::Read)
            .is_err());
        assert!(cpu
            .linearize(SegReg::Es, 0x1000, 2, AccessKind::Read)
            .is_ok());
        assert!(cpu
            .linearize(SegReg::Es, 0xffff, 2, AccessKind::Read)
            .is_err());
    }
}

//! The memory-management unit: segmentation (logical → linear), paging
//! (linear → physical) through the software TLB, and the byte-level linear
//! accesses every instruction uses.

pub mod paging;
pub mod segment;
pub mod tlb;

use crate::exception::Exception;
use crate::memory::{Bus, PhysAddr};
use crate::Cpu;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccessKind {
    Read,
    Write,
    Execute,
}

/// One memory access as the paging unit judges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub kind: AccessKind,
    /// A user-mode access: CPL 3 and not an implicit supervisor access
    /// (descriptor tables, TSS and IDT reads are supervisor accesses).
    pub user: bool,
}

impl Access {
    pub fn read(user: bool) -> Access {
        Access {
            kind: AccessKind::Read,
            user,
        }
    }
    pub fn write(user: bool) -> Access {
        Access {
            kind: AccessKind::Write,
            user,
        }
    }
    pub fn exec(user: bool) -> Access {
        Access {
            kind: AccessKind::Execute,
            user,
        }
    }
}

impl Cpu {
    /// Translate a linear address to a physical one, through the TLB.
    pub fn translate(
        &mut self,
        bus: &mut dyn Bus,
        lin: u64,
        access: Access,
    ) -> Result<PhysAddr, Exception> {
        if !self.state.paging() {
            return Ok(PhysAddr(lin & 0xffff_ffff));
        }
        let lin = if self.state.long_mode_active() {
            lin
        } else {
            lin & 0xffff_ffff
        };
        if let Some(e) = self.tlb.lookup(lin) {
            match paging::check_cached(&self.state, e, access) {
                Some(true) => return Ok(PhysAddr(e.frame | (lin & 0xfff))),
                // Permission denied from the cache: walk again, since the
                // tables may have changed without an INVLPG being needed
                // (the SDM lets a fault re-walk), and the walk yields the
                // exact error code.
                Some(false) | None => {}
            }
        }
        let e = paging::walk(&self.state, bus, lin, access)?;
        self.tlb.insert(lin, e);
        Ok(PhysAddr(e.frame | (lin & 0xfff)))
    }

    /// Read `buf.len()` (at most 16) bytes at a linear address; the access
    /// may cross a page boundary, in which case both pages are translated
    /// before any byte is read.
    pub fn read_linear(
        &mut self,
        bus: &mut dyn Bus,
        lin: u64,
        buf: &mut [u8],
        access: Access,
    ) -> Result<(), Exception> {
        let len = buf.len() as u64;
        let first = (0x1000 - (lin & 0xfff)).min(len);
        let p0 = self.translate(bus, lin, access)?;
        if first < len {
            let lin2 = self.wrap_linear(lin.wrapping_add(first));
            let p1 = self.translate(bus, lin2, access)?;
            let (a, b) = buf.split_at_mut(first as usize);
            bus.read_phys(p0, a);
            bus.read_phys(p1, b);
        } else {
            bus.read_phys(p0, buf);
        }
        Ok(())
    }

    /// Write `data` at a linear address; both pages of a page-crossing write
    /// are translated (and checked) before any byte is written.
    pub fn write_linear(
        &mut self,
        bus: &mut dyn Bus,
        lin: u64,
        data: &[u8],
        access: Access,
    ) -> Result<(), Exception> {
        let len = data.len() as u64;
        let first = (0x1000 - (lin & 0xfff)).min(len);
        let p0 = self.translate(bus, lin, access)?;
        if first < len {
            let lin2 = self.wrap_linear(lin.wrapping_add(first));
            let p1 = self.translate(bus, lin2, access)?;
            let (a, b) = data.split_at(first as usize);
            bus.write_phys(p0, a);
            bus.write_phys(p1, b);
        } else {
            bus.write_phys(p0, data);
        }
        Ok(())
    }

    /// Check that `len` bytes at `lin` could be written, without writing.
    /// Used by instructions that write several places and must not leave a
    /// partial result behind (PUSHA, ENTER, far CALL, interrupt frames).
    pub fn probe_write(
        &mut self,
        bus: &mut dyn Bus,
        lin: u64,
        len: u64,
        user: bool,
    ) -> Result<(), Exception> {
        let mut off = 0;
        while off < len {
            let a = self.wrap_linear(lin.wrapping_add(off));
            self.translate(bus, a, Access::write(user))?;
            off += 0x1000 - (a & 0xfff);
        }
        Ok(())
    }

    /// Linear addresses wrap at 4 GiB outside long mode.
    #[inline]
    pub fn wrap_linear(&self, lin: u64) -> u64 {
        if self.state.long_mode_active() {
            lin
        } else {
            lin & 0xffff_ffff
        }
    }
}

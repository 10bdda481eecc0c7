//! Page walks: 32-bit, PAE and 4-level paging. SDM Vol. 3 Chapter 4.
//!
//! Accessed bits of non-leaf entries are set as the walk passes them; the
//! leaf's accessed and dirty bits only once the access is known to be
//! permitted (the order QEMU follows; the SDM allows either).

use super::tlb::{self, TlbEntry};
use super::{Access, AccessKind};
use crate::exception::Exception;
use crate::memory::{Bus, PhysAddr};
use crate::state::{cr0, cr4, efer, CpuState};

/// Physical-address width reported by CPUID 0x8000_0008.
pub const MAX_PHYS_BITS: u32 = 40;
/// Linear-address width (4-level paging).
pub const MAX_LINEAR_BITS: u32 = 48;

const P: u64 = 1 << 0;
const RW: u64 = 1 << 1;
const US: u64 = 1 << 2;
const ACCESSED: u64 = 1 << 5;
const DIRTY: u64 = 1 << 6;
const PS: u64 = 1 << 7;
const G: u64 = 1 << 8;
const XD: u64 = 1 << 63;

/// Page-fault error-code bits. SDM Vol. 3 §4.7.
pub mod pf {
    pub const PRESENT: u32 = 1 << 0;
    pub const WRITE: u32 = 1 << 1;
    pub const USER: u32 = 1 << 2;
    pub const RSVD: u32 = 1 << 3;
    pub const FETCH: u32 = 1 << 4;
}

const PHYS_MASK: u64 = ((1u64 << MAX_PHYS_BITS) - 1) & !0xfff;

/// Canonical check for 48-bit linear addresses.
pub fn is_canonical(lin: u64) -> bool {
    let shift = 64 - MAX_LINEAR_BITS;
    ((lin << shift) as i64 >> shift) as u64 == lin
}

struct Walker<'a> {
    state: &'a CpuState,
    bus: &'a mut dyn Bus,
    lin: u64,
    access: Access,
}

impl Walker<'_> {
    fn fault(&self, code: u32) -> Exception {
        let mut code = code;
        if self.access.kind == AccessKind::Write {
            code |= pf::WRITE;
        }
        if self.access.user {
            code |= pf::USER;
        }
        let nx_active = self.state.cr4 & cr4::PAE != 0 && self.state.efer & efer::NXE != 0;
        if self.access.kind == AccessKind::Execute && (nx_active || self.state.cr4 & cr4::SMEP != 0)
        {
            code |= pf::FETCH;
        }
        Exception::PF {
            addr: self.lin,
            code,
        }
    }

    fn read_entry(&mut self, addr: u64, wide: bool) -> u64 {
        if wide {
            let mut b = [0u8; 8];
            self.bus.read_phys(PhysAddr(addr), &mut b);
            u64::from_le_bytes(b)
        } else {
            let mut b = [0u8; 4];
            self.bus.read_phys(PhysAddr(addr), &mut b);
            u64::from(u32::from_le_bytes(b))
        }
    }

    fn set_bits(&mut self, addr: u64, entry: u64, bits: u64, wide: bool) {
        if entry & bits != bits {
            let v = entry | bits;
            if wide {
                self.bus.write_phys(PhysAddr(addr), &v.to_le_bytes());
            } else {
                self.bus
                    .write_phys(PhysAddr(addr), &(v as u32).to_le_bytes());
            }
        }
    }

    /// Check the combined permissions of a translation. SDM Vol. 3 §4.6.
    fn check(&self, writable: bool, user: bool, no_exec: bool) -> Result<(), Exception> {
        let ok = match self.access.kind {
            AccessKind::Read => !self.access.user || user,
            AccessKind::Write => {
                if self.access.user {
                    user && writable
                } else {
                    writable || self.state.cr0 & cr0::WP == 0
                }
            }
            AccessKind::Execute => !no_exec && (!self.access.user || user),
        };
        if ok {
            Ok(())
        } else {
            Err(self.fault(pf::PRESENT))
        }
    }

    /// Walk 4-level (`levels` = 4) or PAE (`levels` = 3) tables.
    fn walk_wide(&mut self, levels: u32) -> Result<TlbEntry, Exception> {
        let nxe = self.state.efer & efer::NXE != 0;
        let rsvd_hi = !(PHYS_MASK | 0xfff) & !XD | if nxe { 0 } else { XD };
        let (mut table, mut level) = if levels == 4 {
            (self.state.cr3 & PHYS_MASK, 4u32)
        } else {
            // PAE: a 4-entry PDPT at CR3[31:5].
            let pdpt = self.state.cr3 & 0xffff_ffe0;
            let addr = pdpt + ((self.lin >> 30) & 3) * 8;
            let pdpte = self.read_entry(addr, true);
            if pdpte & P == 0 {
                return Err(self.fault(0));
            }
            // PDPTE reserved bits: 1,2,5-8, above MAXPHYADDR, XD.
            if pdpte & (0x1e6 | !(PHYS_MASK | 0xfff)) != 0 {
                return Err(self.fault(pf::PRESENT | pf::RSVD));
            }
            (pdpte & PHYS_MASK, 2u32)
        };
        let (mut writable, mut user, mut no_exec) = (true, true, false);
        loop {
            let shift = 12 + 9 * (level - 1);
            let addr = table + ((self.lin >> shift) & 0x1ff) * 8;
            let e = self.read_entry(addr, true);
            if e & P == 0 {
                return Err(self.fault(0));
            }
            let mut rsvd = e & rsvd_hi;
            if level == 4 && e & PS != 0 {
                rsvd |= PS;
            }
            let leaf = level == 1 || (e & PS != 0 && level <= 3);
            if leaf && level > 1 {
                // Large page: bits 12 .. shift-1 except PAT (bit 12) are reserved.
                rsvd |= e & ((1u64 << shift) - 1) & !0x1fff;
            }
            if rsvd != 0 {
                return Err(self.fault(pf::PRESENT | pf::RSVD));
            }
            writable &= e & RW != 0;
            user &= e & US != 0;
            no_exec |= nxe && e & XD != 0;
            if !leaf {
                self.set_bits(addr, e, ACCESSED, true);
                table = e & PHYS_MASK;
                level -= 1;
                continue;
            }
            self.check(writable, user, no_exec)?;
            let write = self.access.kind == AccessKind::Write;
            self.set_bits(addr, e, ACCESSED | if write { DIRTY } else { 0 }, true);
            let page_mask = (1u64 << shift) - 1;
            let frame = ((e & PHYS_MASK & !page_mask) | (self.lin & page_mask)) & !0xfff;
            return Ok(entry(
                frame,
                page_mask,
                writable,
                user,
                no_exec,
                write || e & DIRTY != 0,
                e & G != 0,
            ));
        }
    }

    /// Walk 32-bit paging tables (4 KiB pages, 4 MiB pages with CR4.PSE and PSE-36).
    fn walk_legacy(&mut self) -> Result<TlbEntry, Exception> {
        let lin = self.lin & 0xffff_ffff;
        let pde_addr = (self.state.cr3 & 0xffff_f000) + ((lin >> 22) & 0x3ff) * 4;
        let pde = self.read_entry(pde_addr, false);
        if pde & P == 0 {
            return Err(self.fault(0));
        }
        let write = self.access.kind == AccessKind::Write;
        if pde & PS != 0 && self.state.cr4 & cr4::PSE != 0 {
            if pde & (1 << 21) != 0 {
                return Err(self.fault(pf::PRESENT | pf::RSVD));
            }
            let (w, u) = (pde & RW != 0, pde & US != 0);
            self.check(w, u, false)?;
            self.set_bits(
                pde_addr,
                pde,
                ACCESSED | if write { DIRTY } else { 0 },
                false,
            );
            let hi = ((pde >> 13) & 0xff) << 32;
            let frame = hi | (pde & 0xffc0_0000) | (lin & 0x3f_f000);
            return Ok(entry(
                frame,
                0x3f_ffff,
                w,
                u,
                false,
                write || pde & DIRTY != 0,
                pde & G != 0,
            ));
        }
        self.set_bits(pde_addr, pde, ACCESSED, false);
        let pte_addr = (pde & 0xffff_f000) + ((lin >> 12) & 0x3ff) * 4;
        let pte = self.read_entry(pte_addr, false);
        if pte & P == 0 {
            return Err(self.fault(0));
        }
        let w = pde & RW != 0 && pte & RW != 0;
        let u = pde & US != 0 && pte & US != 0;
        self.check(w, u, false)?;
        self.set_bits(
            pte_addr,
            pte,
            ACCESSED | if write { DIRTY } else { 0 },
            false,
        );
        Ok(entry(
            pte & 0xffff_f000,
            0xfff,
            w,
            u,
            false,
            write || pte & DIRTY != 0,
            pte & G != 0,
        ))
    }
}

fn entry(
    frame: u64,
    page_mask: u64,
    writable: bool,
    user: bool,
    no_exec: bool,
    dirty: bool,
    global: bool,
) -> TlbEntry {
    let mut flags = 0;
    for (on, bit) in [
        (writable, tlb::WRITABLE),
        (user, tlb::USER),
        (no_exec, tlb::NO_EXEC),
        (dirty, tlb::DIRTY),
        (global, tlb::GLOBAL),
    ] {
        if on {
            flags |= bit;
        }
    }
    TlbEntry {
        tag: 0,
        frame,
        page_mask,
        flags,
    }
}

/// Translate `lin` by walking the paging structures of the current mode.
/// Paging must be enabled (CR0.PG = 1).
pub fn walk(
    state: &CpuState,
    bus: &mut dyn Bus,
    lin: u64,
    access: Access,
) -> Result<TlbEntry, Exception> {
    let mut w = Walker {
        state,
        bus,
        lin,
        access,
    };
    if state.efer & efer::LMA != 0 {
        w.walk_wide(4)
    } else if state.cr4 & cr4::PAE != 0 {
        w.walk_wide(3)
    } else {
        w.walk_legacy()
    }
}

/// Check a cached translation against an access; `Ok(false)` means the
/// entry cannot serve a write yet (dirty bit not set) and a walk is needed.
pub fn check_cached(state: &CpuState, e: &TlbEntry, access: Access) -> Option<bool> {
    let writable = e.flags & tlb::WRITABLE != 0;
    let user = e.flags & tlb::USER != 0;
    let ok = match access.kind {
        AccessKind::Read => !access.user || user,
        AccessKind::Write => {
            if access.user {
                user && writable
            } else {
                writable || state.cr0 & cr0::WP == 0
            }
        }
        AccessKind::Execute => e.flags & tlb::NO_EXEC == 0 && (!access.user || user),
    };
    if !ok {
        return None;
    }
    Some(access.kind != AccessKind::Write || e.flags & tlb::DIRTY != 0)
}

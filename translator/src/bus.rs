//! The bus wrapper through which every guest access made while the JIT
//! runs passes: it notices writes to physical pages that hold translated
//! code (self-modifying code) and records them for invalidation.

use cpu_model::{Bus, PhysAddr};
use std::collections::HashSet;

/// Wraps the machine's bus for the duration of [`crate::Jit::run`].
pub struct JitBus<'a> {
    inner: &'a mut dyn Bus,
    /// Physical page numbers (address >> 12) holding translated code.
    pub code_pages: HashSet<u64>,
    /// Code pages written since the last check, in order (may repeat).
    pub dirty: Vec<u64>,
}

impl std::fmt::Debug for JitBus<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JitBus")
            .field("code_pages", &self.code_pages.len())
            .field("dirty", &self.dirty)
            .finish()
    }
}

impl<'a> JitBus<'a> {
    pub fn new(inner: &'a mut dyn Bus, code_pages: HashSet<u64>) -> JitBus<'a> {
        JitBus {
            inner,
            code_pages,
            dirty: Vec::new(),
        }
    }
    pub fn into_pages(self) -> HashSet<u64> {
        self.code_pages
    }
}

impl Bus for JitBus<'_> {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        self.inner.read_phys(addr, buf);
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        // A write never crosses a 4 KiB page (Bus contract).
        let page = addr.0 >> 12;
        if self.code_pages.contains(&page) {
            self.dirty.push(page);
        }
        self.inner.write_phys(addr, data);
    }
    fn io_in(&mut self, port: u16, size: u32) -> u32 {
        self.inner.io_in(port, size)
    }
    fn io_out(&mut self, port: u16, size: u32, value: u32) {
        self.inner.io_out(port, size, value);
    }
    fn set_instruction_count(&mut self, icount: u64) {
        self.inner.set_instruction_count(icount);
    }
    fn interrupt_pending(&self) -> bool {
        self.inner.interrupt_pending()
    }
    fn stop_requested(&self) -> bool {
        self.inner.stop_requested()
    }
    /// Never a writable address for a page holding translated code: every
    /// write to it must pass `write_phys`, which notices self-modifying
    /// code.
    fn host_page(&mut self, page: PhysAddr, write: bool) -> Option<std::ptr::NonNull<u8>> {
        if write && self.code_pages.contains(&(page.0 >> 12)) {
            return None;
        }
        self.inner.host_page(page, write)
    }
    fn acknowledge_interrupt(&mut self) -> Option<u8> {
        self.inner.acknowledge_interrupt()
    }
    fn set_ferr(&mut self, asserted: bool) {
        self.inner.set_ferr(asserted);
    }
    fn apic_base(&mut self) -> Option<u64> {
        self.inner.apic_base()
    }
    fn set_apic_base(&mut self, value: u64) -> Option<bool> {
        self.inner.set_apic_base(value)
    }
    fn cr8(&mut self) -> Option<u64> {
        self.inner.cr8()
    }
    fn set_cr8(&mut self, value: u64) -> bool {
        self.inner.set_cr8(value)
    }
    fn ignne(&self) -> bool {
        self.inner.ignne()
    }
}

//! Typed addresses and the narrow interface through which the CPU reaches
//! the platform: physical memory and port I/O.
//!
//! The CPU never sees devices; the machine implements [`Bus`] and routes
//! physical addresses to RAM, ROM or MMIO and ports to port devices.

use core::fmt;
use core::ptr::NonNull;
use guestmem::GuardedRegion;

/// A linear (virtual) address: segment base + offset, before paging.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinearAddr(pub u64);

/// A physical address: after paging.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PhysAddr(pub u64);

impl fmt::Display for LinearAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl fmt::Display for PhysAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl PhysAddr {
    pub fn offset(self, by: u64) -> PhysAddr {
        PhysAddr(self.0.wrapping_add(by))
    }
}

/// The platform as the CPU sees it.
///
/// Accesses never fail: unclaimed physical addresses read as all-ones and
/// ignore writes, as on a PC; unclaimed ports likewise.
pub trait Bus {
    /// Read `buf.len()` bytes starting at `addr`. The range never crosses a
    /// 4 KiB page boundary.
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]);
    /// Write `data` starting at `addr`. The range never crosses a 4 KiB page
    /// boundary.
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]);
    /// Port input of `size` bytes (1, 2 or 4).
    fn io_in(&mut self, port: u16, size: u32) -> u32;
    /// Port output of `size` bytes (1, 2 or 4).
    fn io_out(&mut self, port: u16, size: u32, value: u32);
    /// The instructions retired before the current step
    /// (`CpuState::icount`), told before the step can touch the bus, so
    /// that devices on the machine's virtual clock see the same time at the
    /// same instruction under either engine. The default ignores it.
    fn set_instruction_count(&mut self, icount: u64) {
        let _ = icount;
    }
    /// An external maskable interrupt is being requested (INTR line).
    fn interrupt_pending(&self) -> bool {
        false
    }
    /// Acknowledge the pending interrupt and return its vector (INTA cycle).
    fn acknowledge_interrupt(&mut self) -> Option<u8> {
        None
    }
    /// IA32_APIC_BASE of the platform's local APIC of this processor
    /// (SDM Vol. 3 §11.4.4), or `None` when the platform has none: the MSR
    /// is then a plain register in `CpuState`.
    fn apic_base(&mut self) -> Option<u64> {
        None
    }
    /// WRMSR IA32_APIC_BASE to the local APIC: `Some(false)` when it
    /// refuses the value (#GP(0)); `None` when there is no local APIC.
    fn set_apic_base(&mut self, value: u64) -> Option<bool> {
        let _ = value;
        None
    }
    /// MOV from CR8: the local APIC's TPR[7:4] (SDM Vol. 3 §11.8.6), or
    /// `None` without a local APIC (CR8 is then a register of its own).
    fn cr8(&mut self) -> Option<u64> {
        None
    }
    /// MOV to CR8 (bits 3:0, already checked): TPR := value << 4; false
    /// without a local APIC.
    fn set_cr8(&mut self, value: u64) -> bool {
        let _ = value;
        false
    }
    /// The processor's FERR# output (an unmasked x87 exception is pending
    /// and a waiting instruction met it with CR0.NE = 0): the PC chipset
    /// raises IRQ 13 on its assertion. Told on every change.
    fn set_ferr(&mut self, asserted: bool) {
        let _ = asserted;
    }
    /// The processor's IGNNE# input: while asserted, waiting x87
    /// instructions ignore a pending unmasked exception when CR0.NE = 0.
    /// (The PC chipset asserts it when the IRQ 13 handler writes port
    /// 0xF0 while FERR# is asserted, until FERR# falls.)
    fn ignne(&self) -> bool {
        false
    }
    /// A device asked the machine to stop (e.g. the debug-exit port): an
    /// engine returns to the run loop after the current instruction.
    fn stop_requested(&self) -> bool {
        false
    }
    /// Direct access for generated code: the host address of the 4 KiB
    /// physical page at `page` (page-aligned) if all of it is ordinary
    /// memory whose reads (and, with `write`, writes) do nothing but read
    /// (write) these host bytes: RAM, or ROM for reads only. `None` (the
    /// default) for devices, unclaimed space and anything else, which
    /// keeps every access on `read_phys` / `write_phys`.
    ///
    /// The address stays valid, with the same meaning, until the bus is
    /// next borrowed mutably for anything but an access (a translator
    /// drops such addresses at the start of every run); when `write` is
    /// false it must only be read through. It should lie in a
    /// `guestmem` guarded region (as `FlatBus`'s and the machine's RAM
    /// and ROM do), so that a stray access near it faults instead of
    /// reaching other host memory.
    fn host_page(&mut self, page: PhysAddr, write: bool) -> Option<NonNull<u8>> {
        let _ = (page, write);
        None
    }
}

/// A flat RAM-only bus for tests and the differential oracle.
///
/// Its RAM is a guarded region (inaccessible guard pages on either side),
/// as the machine's is, since `host_page` hands it to generated code.
#[derive(Debug, Clone)]
pub struct FlatBus {
    pub ram: GuardedRegion,
    pub io_log: Vec<(u16, u32, u32)>,
}

impl FlatBus {
    /// `size` bytes of zeroed RAM. Panics, like `vec!`, if the host
    /// cannot provide them.
    pub fn new(size: usize) -> FlatBus {
        let ram = match GuardedRegion::new(size) {
            Ok(r) => r,
            Err(e) => panic!("FlatBus: {e}"),
        };
        FlatBus {
            ram,
            io_log: Vec::new(),
        }
    }
}

impl Bus for FlatBus {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        for (i, b) in buf.iter_mut().enumerate() {
            let a = addr.0.wrapping_add(i as u64);
            *b = usize::try_from(a)
                .ok()
                .and_then(|a| self.ram.get(a).copied())
                .unwrap_or(0xff);
        }
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        for (i, b) in data.iter().enumerate() {
            let a = addr.0.wrapping_add(i as u64);
            if let Some(slot) = usize::try_from(a).ok().and_then(|a| self.ram.get_mut(a)) {
                *slot = *b;
            }
        }
    }
    fn io_in(&mut self, _port: u16, size: u32) -> u32 {
        (crate::flags::mask(size)) as u32
    }
    fn io_out(&mut self, port: u16, size: u32, value: u32) {
        self.io_log.push((port, size, value));
    }
    fn host_page(&mut self, page: PhysAddr, _write: bool) -> Option<NonNull<u8>> {
        let start = usize::try_from(page.0).ok()?;
        let bytes = self.ram.get_mut(start..start.checked_add(0x1000)?)?;
        NonNull::new(bytes.as_mut_ptr())
    }
}

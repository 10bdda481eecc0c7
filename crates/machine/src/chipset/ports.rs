//! The port adapters of the chipset's devices: each access reaches the
//! device at the clock's time and then samples the interrupt lines again.

use super::{lock, IsaDevices, Shared};
use crate::clock::Clock;
use crate::pio::PortDevice;
use std::sync::atomic::Ordering;
use std::sync::Arc;

const PM_LEN: u16 = crate::devices::acpi_pm::PM_BLOCK_LEN;
const GPE_LEN: u16 = crate::devices::acpi_pm::GPE0_LEN;

/// Port 0xF0.
pub(super) struct FpuErrorPort {
    pub(super) shared: Arc<Shared>,
}

impl PortDevice for FpuErrorPort {
    fn name(&self) -> &str {
        "fpu-error"
    }
    fn read(&mut self, _offset: u16, _size: u32) -> u32 {
        0xffff_ffff
    }
    fn write(&mut self, _offset: u16, _size: u32, _value: u32) {
        self.shared.set_fpu_irq(false);
        if self.shared.ferr.load(Ordering::Relaxed) {
            self.shared.ignne.store(true, Ordering::Relaxed);
        }
        self.shared.reschedule.store(true, Ordering::Relaxed);
    }
}

/// Which device an `IsaPorts` adapter reaches.
#[derive(Clone, Copy, Debug)]
pub(super) enum Which {
    Rtc,
    Com(usize),
    /// The 8042 at this port (0x60 or 0x64).
    Kbc(u16),
    Port92,
    ResetControl,
    /// The PM block (PM1 event and control, PM timer).
    PmBlock,
    Gpe0,
}

/// The ports of the RTC (0x70, 0x71) or of a COM port (base..base + 8):
/// byte accesses (a wider access split as the ISA bus splits it); after
/// each, the lines are sampled again, and a raised INTR or a moved next
/// event asks for a new schedule.
pub(super) struct IsaPorts {
    pub(super) which: Which,
    pub(super) shared: Arc<Shared>,
    pub(super) clock: Clock,
}

impl IsaPorts {
    fn access<R>(&mut self, f: impl FnOnce(&mut IsaDevices, u64) -> R) -> R {
        let now = self.clock.now_ns();
        let (r, moved, reset) = {
            let mut isa = lock(&self.shared.isa);
            let before = isa.next_event(now);
            let r = f(&mut isa, now);
            let stop = isa.reset_requested() || isa.pm.poweroff_requested();
            (r, isa.next_event(now) != before, stop)
        };
        let was = self.shared.intr.load(Ordering::Relaxed);
        self.shared.refresh_lines(now);
        if moved || reset || (!was && self.shared.intr.load(Ordering::Relaxed)) {
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
        r
    }
}

impl PortDevice for IsaPorts {
    fn name(&self) -> &str {
        match self.which {
            Which::Rtc => "rtc",
            Which::Com(0) => "com1",
            Which::Com(_) => "com2",
            Which::Kbc(_) => "i8042",
            Which::Port92 => "port92",
            Which::ResetControl => "reset-control",
            Which::PmBlock => "acpi-pm",
            Which::Gpe0 => "acpi-gpe0",
        }
    }

    fn read(&mut self, offset: u16, size: u32) -> u32 {
        let which = self.which;
        self.access(|isa, now| match which {
            Which::Rtc => crate::pio::read_bytes(offset, size, 2, |o| {
                isa.rtc.read(crate::devices::rtc::INDEX_PORT + o, now)
            }),
            Which::Com(i) => crate::pio::read_bytes(offset, size, 8, |o| isa.com[i].read(o, now)),
            Which::Kbc(port) => {
                crate::pio::read_bytes(offset, size, 1, |_| isa.kbc.read(port, now))
            }
            Which::Port92 => crate::pio::read_bytes(offset, size, 1, |_| isa.port92.read()),
            Which::ResetControl => crate::pio::read_bytes(offset, size, 1, |_| isa.cf9.read()),
            Which::PmBlock => crate::pio::read_bytes(offset, size, PM_LEN, |o| isa.pm.read(o, now)),
            Which::Gpe0 => crate::pio::read_bytes(offset, size, GPE_LEN, |o| isa.pm.read_gpe0(o)),
        })
    }

    fn write(&mut self, offset: u16, size: u32, value: u32) {
        let which = self.which;
        self.access(|isa, now| match which {
            Which::Rtc => crate::pio::write_bytes(offset, size, 2, value, |o, b| {
                isa.rtc.write(crate::devices::rtc::INDEX_PORT + o, b, now)
            }),
            Which::Com(i) => {
                crate::pio::write_bytes(offset, size, 8, value, |o, b| isa.com[i].write(o, b, now))
            }
            Which::Kbc(port) => {
                crate::pio::write_bytes(offset, size, 1, value, |_, b| isa.kbc.write(port, b, now))
            }
            Which::Port92 => {
                crate::pio::write_bytes(offset, size, 1, value, |_, b| isa.port92.write(b))
            }
            Which::ResetControl => {
                crate::pio::write_bytes(offset, size, 1, value, |_, b| isa.cf9.write(b))
            }
            Which::PmBlock => {
                crate::pio::write_bytes(offset, size, PM_LEN, value, |o, b| isa.pm.write(o, b, now))
            }
            Which::Gpe0 => crate::pio::write_bytes(offset, size, GPE_LEN, value, |o, b| {
                isa.pm.write_gpe0(o, b)
            }),
        })
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.which {
            Which::Com(i) => lock(&self.shared.isa).com[i].flush(),
            _ => Ok(()),
        }
    }
}

/// A port adapter that asks for a new schedule after every write.
pub(super) struct Rescheduling<D> {
    pub(super) inner: D,
    pub(super) shared: Arc<Shared>,
}

impl<D: PortDevice> PortDevice for Rescheduling<D> {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn read(&mut self, offset: u16, size: u32) -> u32 {
        self.inner.read(offset, size)
    }
    fn write(&mut self, offset: u16, size: u32, value: u32) {
        self.inner.write(offset, size, value);
        self.shared.reschedule.store(true, Ordering::Relaxed);
    }
}

/// Two ports of the PIC (master, slave or ELCR); byte accesses of
/// consecutive ports for a wider access, as the ISA bus splits them.
pub(super) struct PicPorts {
    pub(super) base: u16,
    pub(super) shared: Arc<Shared>,
}

impl PortDevice for PicPorts {
    fn name(&self) -> &str {
        match self.base {
            0x20 => "pic-master",
            0xa0 => "pic-slave",
            _ => "elcr",
        }
    }

    fn read(&mut self, offset: u16, size: u32) -> u32 {
        let mut pic = lock(&self.shared.pic);
        let v = crate::pio::read_bytes(offset, size, 2, |o| pic.read(self.base + o));
        // (A poll read acknowledges.)
        self.shared.refresh_intr(&pic);
        v
    }

    fn write(&mut self, offset: u16, size: u32, value: u32) {
        let mut pic = lock(&self.shared.pic);
        crate::pio::write_bytes(offset, size, 2, value, |o, b| pic.write(self.base + o, b));
        self.shared.refresh_intr(&pic);
        self.shared.reschedule.store(true, Ordering::Relaxed);
    }
}

/// PCI configuration mechanism #1: CONFIG_ADDRESS (0xCF8, claimed alone
/// so that 0xCF9 stays the reset control register's) and CONFIG_DATA
/// (0xCFC..0xCFF). What a write changes (BARs, PAM shadowing, the PM
/// block's base) is not applied yet: the machine has no PCI device with
/// BARs, no shadow RAM and no PM block so far (`ConfigWriteEffect`).
pub(super) struct PciPorts {
    /// 0xCF8 or 0xCFC.
    pub(super) base: u16,
    pub(super) shared: Arc<Shared>,
}

impl PortDevice for PciPorts {
    fn name(&self) -> &str {
        if self.base == 0xcf8 {
            "pci-address"
        } else {
            "pci-data"
        }
    }
    fn read(&mut self, offset: u16, size: u32) -> u32 {
        lock(&self.shared.pci).read(self.base + offset, size)
    }
    fn write(&mut self, offset: u16, size: u32, value: u32) {
        let _effect = lock(&self.shared.pci).write(self.base + offset, size, value);
    }
}

//! The local APIC's and the I/O APIC's register pages on the MMIO bus.

use super::{lock, Shared};
use crate::clock::Clock;
use crate::devices::lapic::BusMessage;
use crate::devices::Lapic;
use crate::mmio::MmioDevice;
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// The local APIC's register page on the MMIO bus. An access brings the
/// unit to the current time first; a write that raises the processor's
/// INTR or moves the timer's next event ends the slice.
pub(super) struct LapicMmio {
    pub(super) shared: Arc<Shared>,
    pub(super) clock: Clock,
}

impl LapicMmio {
    fn access<R>(&mut self, f: impl FnOnce(&mut Lapic, u64) -> R) -> R {
        let now = self.clock.now_ns();
        let mut lapic = lock(&self.shared.lapic);
        lapic.update(now);
        let before = lapic.next_event(now);
        let was = self.shared.intr.load(Ordering::Relaxed);
        let r = f(&mut lapic, now);
        self.shared.refresh_core(&lapic);
        if lapic.next_event(now) != before || (!was && self.shared.intr.load(Ordering::Relaxed)) {
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
        r
    }
}

impl MmioDevice for LapicMmio {
    fn name(&self) -> &str {
        "lapic"
    }
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        self.access(|l, now| l.read(offset, data, now));
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let message = self.access(|l, now| l.write(offset, data, now));
        match message {
            Some(BusMessage::Eoi(vector)) => self.shared.broadcast_eoi(vector),
            // No other processor.
            Some(BusMessage::Ipi(_)) | None => {}
        }
    }
}

/// The I/O APIC's registers on the MMIO bus. A write can send messages
/// (an unmasked asserted level pin, say): they go to the local APIC at
/// once, and a raised INTR ends the slice.
pub(super) struct IoApicMmio {
    pub(super) shared: Arc<Shared>,
}

impl MmioDevice for IoApicMmio {
    fn name(&self) -> &str {
        "ioapic"
    }
    fn read(&mut self, offset: u64, data: &mut [u8]) {
        lock(&self.shared.ioapic).read(offset, data);
    }
    fn write(&mut self, offset: u64, data: &[u8]) {
        let was = self.shared.intr.load(Ordering::Relaxed);
        let mut io = lock(&self.shared.ioapic);
        io.write(offset, data);
        self.shared.route(&mut io);
        if !was && self.shared.intr.load(Ordering::Relaxed) {
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
    }
}

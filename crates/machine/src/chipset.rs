//! The interrupt wiring of the PC's chipset: the 8254's OUT 0 on IRQ 0 of
//! the 8259A pair, whose INT output is the processor's INTR line.
//!
//! Time only moves between the machine's slices as far as interrupts are
//! concerned: before a slice the machine asks for the next time a line
//! can change ([`Chipset::next_event`]) and makes the slice end there;
//! after it, [`Chipset::update`] samples the lines at the new time. Both
//! happen at the same instruction count under either engine, so interrupts
//! land on the same instruction. Programming the PIT or the PIC from the
//! guest can move the next event or raise INTR at once: such a port write
//! asks the engines to end the slice after the instruction
//! ([`Chipset::reschedule_requested`], seen through
//! `Bus::stop_requested`), and the machine looks again.
//!
//! The processor's FERR# output (a pending x87 error met with CR0.NE = 0)
//! is latched onto IRQ 13 as the PIIX3 does ("Coprocessor Error", port
//! 0xF0): the latch sets when FERR# is asserted and clears on any write to
//! port 0xF0; that write also asserts IGNNE# if FERR# is still asserted,
//! and IGNNE# falls with FERR#, so the IRQ 13 handler's `out 0xf0, al`
//! lets the frozen instruction go on if the handler leaves the error
//! pending, while its FNCLEX ends both.
//!
//! The CPU side reads INTR from an atomic mirror of the PIC's output,
//! refreshed after every change, so the check an engine makes before every
//! instruction takes no lock.

use crate::clock::Clock;
use crate::devices::pic::{ELCR_PORTS, MASTER_PORTS, SLAVE_PORTS};
use crate::devices::{Pic, Pit, PitPorts};
use crate::pio::{PioError, PortBus, PortDevice};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// Shared between the port adapters and the machine.
#[derive(Debug)]
struct Shared {
    pic: Mutex<Pic>,
    pit: Arc<Mutex<Pit>>,
    /// The PIC's INT output as of its last change.
    intr: AtomicBool,
    /// A port write changed what the machine scheduled for this slice.
    reschedule: AtomicBool,
    /// The processor's FERR# output.
    ferr: AtomicBool,
    /// The processor's IGNNE# input.
    ignne: AtomicBool,
}

/// (No device code panics while holding a lock; a poisoned one still
/// holds a consistent device.)
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn refresh_intr(&self, pic: &Pic) {
        self.intr.store(pic.intr(), Ordering::Relaxed);
    }
}

/// The PIT and the PIC, wired.
#[derive(Clone, Debug)]
pub struct Chipset {
    shared: Arc<Shared>,
    clock: Clock,
}

impl Chipset {
    /// A chipset at power-on whose devices read `clock`, its ports
    /// inserted into `ports`: the PIT at 0x40..=0x43 and 0x61, the PIC at
    /// 0x20, 0x21, 0xA0, 0xA1 and its ELCR at 0x4D0, 0x4D1.
    pub fn new(clock: Clock, ports: &mut PortBus) -> Result<Chipset, PioError> {
        let pit = Arc::new(Mutex::new(Pit::new()));
        let shared = Arc::new(Shared {
            pic: Mutex::new(Pic::new()),
            pit: pit.clone(),
            intr: AtomicBool::new(false),
            reschedule: AtomicBool::new(false),
            ferr: AtomicBool::new(false),
            ignne: AtomicBool::new(false),
        });
        let chipset = Chipset { shared, clock };
        ports.insert(
            crate::devices::pit::PORT_BASE,
            4,
            Box::new(Rescheduling {
                inner: PitPorts::counters(pit.clone(), chipset.clock.clone()),
                shared: chipset.shared.clone(),
            }),
        )?;
        ports.insert(
            crate::devices::pit::PORT_61,
            1,
            Box::new(PitPorts::port_b(pit, chipset.clock.clone())),
        )?;
        for base in [MASTER_PORTS[0], SLAVE_PORTS[0], ELCR_PORTS[0]] {
            ports.insert(
                base,
                2,
                Box::new(PicPorts {
                    base,
                    shared: chipset.shared.clone(),
                }),
            )?;
        }
        ports.insert(
            FPU_ERROR_PORT,
            1,
            Box::new(FpuErrorPort {
                shared: chipset.shared.clone(),
            }),
        )?;
        // Power-on: the wires are at their levels before the PIC's reset,
        // which latches nothing (the PIT's OUT 0 starts high in its mode 3:
        // its first request is the edge a full period later, as on QEMU).
        {
            let out0 = lock(&chipset.shared.pit).out(0, chipset.clock.now_ns());
            let mut pic = lock(&chipset.shared.pic);
            pic.set_irq(0, out0);
            pic.reset();
        }
        chipset.update();
        Ok(chipset)
    }

    /// INTR: the PIC asks the processor for an interrupt.
    pub fn intr(&self) -> bool {
        self.shared.intr.load(Ordering::Relaxed)
    }

    /// The processor's INTA cycle: the vector.
    pub fn acknowledge(&self) -> u8 {
        let mut pic = lock(&self.shared.pic);
        let v = pic.acknowledge();
        self.shared.refresh_intr(&pic);
        v
    }

    /// The first time (ns) after now at which an interrupt line can
    /// change, if any.
    pub fn next_event(&self) -> Option<u64> {
        lock(&self.shared.pit).next_out0_change(self.clock.now_ns())
    }

    /// Bring the lines up to the clock's time: IRQ 0 follows the PIT's
    /// OUT 0.
    pub fn update(&self) {
        let now = self.clock.now_ns();
        let out0 = lock(&self.shared.pit).out(0, now);
        let mut pic = lock(&self.shared.pic);
        pic.set_irq(0, out0);
        self.shared.refresh_intr(&pic);
    }

    /// Can a future event of the timer interrupt the processor: is IRQ 0
    /// unmasked at the master? (A halted processor with IF = 1 then waits
    /// for it; otherwise nothing can wake it.)
    pub fn timer_can_interrupt(&self) -> bool {
        lock(&self.shared.pic).state().master.imr & 1 == 0
    }

    /// The processor's FERR# output changed. Its assertion latches IRQ 13
    /// (and asks the engines to end the slice, so the interrupt is seen at
    /// once); its fall deasserts IGNNE#.
    pub fn set_ferr(&self, asserted: bool) {
        let was = self.shared.ferr.swap(asserted, Ordering::Relaxed);
        if asserted && !was {
            let mut pic = lock(&self.shared.pic);
            pic.set_irq(FPU_IRQ, true);
            self.shared.refresh_intr(&pic);
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
        if !asserted {
            self.shared.ignne.store(false, Ordering::Relaxed);
        }
    }

    /// The processor's IGNNE# input.
    pub fn ignne(&self) -> bool {
        self.shared.ignne.load(Ordering::Relaxed)
    }

    /// Did the guest reprogram the PIT or the PIC since the last
    /// `take_reschedule`? (Engines see it as a stop request and end the
    /// slice after the instruction.)
    pub fn reschedule_requested(&self) -> bool {
        self.shared.reschedule.load(Ordering::Relaxed)
    }

    /// Clear the request (the machine is about to schedule again).
    pub fn take_reschedule(&self) -> bool {
        self.shared.reschedule.swap(false, Ordering::Relaxed)
    }
}

/// The IRQ the FERR# latch drives.
pub const FPU_IRQ: u8 = 13;
/// Writing any value clears the FERR# latch (PIIX3 "Coprocessor Error
/// Register"); reads are not decoded (QEMU: the floating bus).
pub const FPU_ERROR_PORT: u16 = 0xf0;

/// Port 0xF0.
struct FpuErrorPort {
    shared: Arc<Shared>,
}

impl PortDevice for FpuErrorPort {
    fn name(&self) -> &str {
        "fpu-error"
    }
    fn read(&mut self, _offset: u16, _size: u32) -> u32 {
        0xffff_ffff
    }
    fn write(&mut self, _offset: u16, _size: u32, _value: u32) {
        let mut pic = lock(&self.shared.pic);
        pic.set_irq(FPU_IRQ, false);
        self.shared.refresh_intr(&pic);
        if self.shared.ferr.load(Ordering::Relaxed) {
            self.shared.ignne.store(true, Ordering::Relaxed);
        }
        self.shared.reschedule.store(true, Ordering::Relaxed);
    }
}

/// A port adapter that asks for a new schedule after every write.
struct Rescheduling<D> {
    inner: D,
    shared: Arc<Shared>,
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
struct PicPorts {
    base: u16,
    shared: Arc<Shared>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn chipset() -> (Chipset, Clock, PortBus) {
        let clock = Clock::new();
        let mut ports = PortBus::new();
        let c = Chipset::new(clock.clone(), &mut ports).unwrap();
        (c, clock, ports)
    }

    /// The BIOS-style PIC setup, then the PIT at 1 kHz in mode 2: IRQ 0's
    /// vector arrives at each OUT 0 rising edge, the next event is exact,
    /// and an unacknowledged edge stays pending until the EOI.
    #[test]
    fn pit_interrupts_reach_intr_through_the_pic() {
        let (c, clock, mut ports) = chipset();
        for (port, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
            ports.write(port, 1, v);
        }
        for (port, v) in [(0xa0, 0x11), (0xa1, 0x70), (0xa1, 0x02), (0xa1, 0x01)] {
            ports.write(port, 1, v);
        }
        ports.write(0x21, 1, 0xfe); // only IRQ 0
        assert!(c.take_reschedule());
        ports.write(0x43, 1, 0x34); // channel 0, lobyte/hibyte, mode 2
        ports.write(0x40, 1, 1193 & 0xff);
        ports.write(0x40, 1, 1193 >> 8);
        assert!(c.reschedule_requested());
        c.update();
        assert!(!c.intr());
        let mut t = 0;
        for n in 0..3 {
            // Mode 2: OUT 0 falls for one clock, then rises: the rise is
            // IRQ 0's edge.
            let fall = c.next_event().unwrap();
            assert!(fall > t);
            clock.set_instruction_count(fall);
            c.update();
            assert!(!c.intr(), "pass {n}: not yet");
            let rise = c.next_event().unwrap();
            clock.set_instruction_count(rise);
            c.update();
            assert!(c.intr(), "pass {n}: IRQ 0 at {rise}");
            assert_eq!(c.acknowledge(), 0x08);
            assert!(!c.intr());
            ports.write(0x20, 1, 0x20); // EOI
            t = rise;
        }
        // About 1 ms apart (1193 clocks).
        let period = crate::devices::pit::clock_time(1193).unwrap();
        assert!(t.abs_diff(3 * period) < 3 * 1000, "{t}");
    }

    /// FERR# latches IRQ 13 (vector 0x75 with the BIOS's slave base);
    /// port 0xF0 clears the latch and asserts IGNNE# while FERR# is
    /// asserted; IGNNE# falls with FERR#; a write with FERR# deasserted
    /// asserts nothing.
    #[test]
    fn ferr_latches_irq13_and_port_f0_asserts_ignne() {
        let (c, _clock, mut ports) = chipset();
        for (port, v) in [(0x20, 0x11), (0x21, 0x08), (0x21, 0x04), (0x21, 0x01)] {
            ports.write(port, 1, v);
        }
        for (port, v) in [(0xa0, 0x11), (0xa1, 0x70), (0xa1, 0x02), (0xa1, 0x01)] {
            ports.write(port, 1, v);
        }
        ports.write(0x21, 1, 0xfb);
        ports.write(0xa1, 1, 0xdf);
        c.take_reschedule();
        c.set_ferr(true);
        assert!(c.intr() && c.reschedule_requested() && !c.ignne());
        // The level stays latched while nobody writes 0xF0, even when
        // FERR# falls.
        c.set_ferr(false);
        c.set_ferr(true);
        assert_eq!(c.acknowledge(), 0x75);
        ports.write(0xa0, 1, 0x20);
        ports.write(0x20, 1, 0x20);
        assert!(!c.intr());
        ports.write(FPU_ERROR_PORT, 1, 0);
        assert!(c.ignne());
        // No new request: the latch was cleared before the EOI let one in.
        assert!(!c.intr());
        c.set_ferr(false);
        assert!(!c.ignne());
        ports.write(FPU_ERROR_PORT, 1, 0);
        assert!(!c.ignne());
        // A new assertion interrupts again.
        c.set_ferr(true);
        assert!(c.intr());
    }
}

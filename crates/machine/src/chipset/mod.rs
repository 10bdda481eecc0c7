//! The interrupt wiring of the PC's chipset: the 8254's OUT 0 on IRQ 0 of
//! the 8259A pair, whose INT output is the processor's INTR line; the
//! MC146818A RTC on IRQ 8, COM1 (0x3F8) on IRQ 4 and COM2 (0x2F8) on IRQ 3,
//! the 8042 on IRQ 1 and 12, as on QEMU's `pc`; every ISA line also goes
//! to the I/O APIC (IRQ n on pin n, IRQ 0 on pin 2, as QEMU wires it and
//! its MADT says), whose messages go to the local APIC, whose EOIs come
//! back. The PIC's INT is the local APIC's LINT0; the processor's INTR is
//! the local APIC's output. The 8042's output port, port 0x92 and the
//! PIIX3's reset control register (0xCF9) can ask for a system reset.
//!
//! Device interrupt outputs are levels the chipset samples
//! ([`Chipset::update`], and after every access to one of these devices,
//! since a read can lower a line and a write raise it within one slice);
//! the PIC latches their rising edges. An access that raises INTR or moves
//! a device's next event asks the engines to end the slice, so the
//! interrupt lands at the same instruction under either engine.
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
use crate::devices::acpi_pm;
use crate::devices::ioapic::{self, IoApic};
use crate::devices::lapic::Pending;
use crate::devices::lapic::{self as lapic_dev, Destination};
use crate::devices::pic::{ELCR_PORTS, MASTER_PORTS, SLAVE_PORTS};
use crate::devices::{
    AcpiPm, AcpiPmConfig, Lapic, LapicConfig, Pic, Pit, PitPorts, ResetControl, Rtc,
    SystemControlA, Uart, I8042,
};
use crate::mmio::{MmioBus, MmioError};
use crate::pio::{PioError, PortBus};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The devices on the ISA side besides the PIT and the PIC.
struct IsaDevices {
    rtc: Rtc,
    /// COM1, COM2.
    com: [Uart; 2],
    /// The keyboard controller with its keyboard and mouse.
    kbc: I8042,
    /// Port 0x92, "system control port A" (fast A20, fast reset).
    port92: SystemControlA,
    /// 0xCF9, the PIIX3's reset control register.
    cf9: ResetControl,
    /// The PIIX4 power-management block (PM1, the PM timer, GPE0) at
    /// QEMU's addresses; its SCI on IRQ 9.
    pm: AcpiPm,
}

impl std::fmt::Debug for IsaDevices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsaDevices").finish_non_exhaustive()
    }
}

impl IsaDevices {
    /// The earliest next event of these devices after `now`.
    fn next_event(&self, now: u64) -> Option<u64> {
        [
            self.rtc.next_event(now),
            self.com[0].next_event(now),
            self.com[1].next_event(now),
            self.kbc.next_event(now),
            self.pm.next_event(now),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Did the guest ask for a system reset (8042 output port bit 0 or a
    /// pulse command, port 0x92 bit 0, 0xCF9)?
    fn reset_requested(&self) -> bool {
        self.kbc.reset_requested()
            || self.port92.reset_requested()
            || self.cf9.reset_requested().is_some()
    }
}

/// Did the PIT's OUT 0 rise in (`since`, `now`]? (Looks at the first
/// few changes only: two changes always include a rise.)
fn rose_between(pit: &Pit, since: u64, now: u64) -> bool {
    let mut t = since;
    for _ in 0..2 {
        match pit.next_out0_change(t) {
            Some(c) if c <= now => {
                if pit.out(0, c) {
                    return true;
                }
                t = c;
            }
            _ => return false,
        }
    }
    false
}

/// The I/O APIC pin of ISA IRQ `irq` (QEMU's `pc`; the MADT's interrupt
/// source override says the same for IRQ 0).
pub fn ioapic_pin(irq: u8) -> u8 {
    if irq == 0 {
        2
    } else {
        irq
    }
}

/// What the chipset's devices are built with.
pub struct ChipsetConfig {
    /// The wall-clock time at virtual time 0, as Unix seconds (the RTC).
    pub rtc_base: i64,
    /// The CMOS RAM contents (`devices::cmos_image`).
    pub cmos: [u8; crate::devices::rtc::CMOS_SIZE],
    /// Where COM1's and COM2's output goes.
    pub com: [Box<dyn std::io::Write + Send>; 2],
}

impl std::fmt::Debug for ChipsetConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChipsetConfig")
            .field("rtc_base", &self.rtc_base)
            .finish_non_exhaustive()
    }
}

/// COM1's and COM2's base ports and IRQs.
pub const COM_PORTS: [(u16, u8); 2] = [(0x3f8, 4), (0x2f8, 3)];

/// Shared between the port adapters and the machine.
#[derive(Debug)]
struct Shared {
    pic: Mutex<Pic>,
    isa: Mutex<IsaDevices>,
    /// The processor's local APIC: the PIC's INT is its LINT0.
    lapic: Mutex<Lapic>,
    ioapic: Mutex<IoApic>,
    /// PCI configuration space (0xCF8, 0xCFC..0xCFF).
    pci: Mutex<crate::devices::pci::PciHost>,
    pit: Arc<Mutex<Pit>>,
    /// The PIC's INT output as of its last change.
    intr: AtomicBool,
    /// A port write changed what the machine scheduled for this slice.
    reschedule: AtomicBool,
    /// The processor's FERR# output.
    ferr: AtomicBool,
    /// When the PIT's OUT 0 was last sampled.
    pit_sampled: AtomicU64,
    /// The processor's IGNNE# input.
    ignne: AtomicBool,
}

/// (No device code panics while holding a lock; a poisoned one still
/// holds a consistent device.)
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    /// The PIC's INT output changed (or may have): it drives LINT0.
    fn refresh_intr(&self, pic: &Pic) {
        let mut lapic = lock(&self.lapic);
        lapic.set_lint(0, pic.intr());
        self.refresh_core(&lapic);
    }

    /// The processor's INTR input: the local APIC has a maskable interrupt
    /// for it (a fixed vector, or ExtINT: the PIC's, through LINT0).
    fn refresh_core(&self, lapic: &Lapic) {
        let want = matches!(lapic.pending(), Some(Pending::ExtInt | Pending::Fixed(_)));
        self.intr.store(want, Ordering::Relaxed);
    }

    /// Sample every device line at `now` into the PIC and the I/O APIC
    /// (IRQ 13 is the FERR# latch's, set apart).
    fn refresh_lines(&self, now: u64) {
        let (out0, rose) = {
            let pit = lock(&self.pit);
            let since = self.pit_sampled.swap(now, Ordering::Relaxed);
            (pit.out(0, now), rose_between(&pit, since, now))
        };
        if rose && out0 {
            // OUT 0 rose since the last sample, which saw it high before
            // it fell (a mode 2 pulse is one 838 ns clock wide; under the
            // host clock slices do not end at events): the PIC must still
            // latch that edge.
            lock(&self.pic).set_irq(0, false);
        }
        let levels = {
            let isa = lock(&self.isa);
            [
                (0, out0),
                (1, isa.kbc.irq1(now)),
                (COM_PORTS[1].1, isa.com[1].irq(now)),
                (COM_PORTS[0].1, isa.com[0].irq(now)),
                (crate::devices::rtc::IRQ, isa.rtc.irq(now)),
                (acpi_pm::SCI_IRQ, isa.pm.sci(now)),
                (12, isa.kbc.irq12(now)),
            ]
        };
        {
            let mut pic = lock(&self.pic);
            for (irq, level) in levels {
                pic.set_irq(irq, level);
            }
            self.refresh_intr(&pic);
        }
        let mut io = lock(&self.ioapic);
        for (irq, level) in levels {
            io.set_irq(ioapic_pin(irq), level);
        }
        self.route(&mut io);
    }

    /// Hand the I/O APIC's messages to the local APIC (the one processor
    /// takes those addressed to it).
    fn route(&self, io: &mut IoApic) {
        if !io.has_delivery() {
            return;
        }
        let mut lapic = lock(&self.lapic);
        while let Some(d) = io.take_delivery() {
            let dest = match d.dest_mode {
                ioapic::DestMode::Physical => Destination::Physical(d.dest),
                ioapic::DestMode::Logical => Destination::Logical(d.dest),
            };
            if !lapic.matches(dest) {
                continue;
            }
            let mode = match d.mode {
                ioapic::DeliveryMode::Fixed => lapic_dev::DeliveryMode::Fixed,
                ioapic::DeliveryMode::LowestPriority => lapic_dev::DeliveryMode::LowestPriority,
                ioapic::DeliveryMode::Smi => lapic_dev::DeliveryMode::Smi,
                ioapic::DeliveryMode::Nmi => lapic_dev::DeliveryMode::Nmi,
                ioapic::DeliveryMode::Init => lapic_dev::DeliveryMode::Init,
                ioapic::DeliveryMode::ExtInt => lapic_dev::DeliveryMode::ExtInt,
            };
            let trigger = match d.trigger {
                ioapic::Trigger::Edge => lapic_dev::Trigger::Edge,
                ioapic::Trigger::Level => lapic_dev::Trigger::Level,
            };
            lapic.deliver(mode, d.vector, trigger);
        }
        self.refresh_core(&lapic);
    }

    /// The FERR# latch's IRQ 13, on the PIC and the I/O APIC.
    fn set_fpu_irq(&self, level: bool) {
        {
            let mut pic = lock(&self.pic);
            pic.set_irq(FPU_IRQ, level);
            self.refresh_intr(&pic);
        }
        let mut io = lock(&self.ioapic);
        io.set_irq(ioapic_pin(FPU_IRQ), level);
        self.route(&mut io);
    }

    /// A level-triggered vector's EOI, broadcast by the local APIC.
    fn broadcast_eoi(&self, vector: u8) {
        let mut io = lock(&self.ioapic);
        io.eoi(vector);
        self.route(&mut io);
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
    pub fn new(
        clock: Clock,
        ports: &mut PortBus,
        mmio: &mut MmioBus,
        config: ChipsetConfig,
    ) -> Result<Chipset, ChipsetError> {
        let pit = Arc::new(Mutex::new(Pit::new()));
        let mut rtc = Rtc::new(config.rtc_base);
        rtc.load_ram(&config.cmos);
        let [com1, com2] = config.com;
        let shared = Arc::new(Shared {
            pic: Mutex::new(Pic::new()),
            isa: Mutex::new(IsaDevices {
                rtc,
                com: [Uart::new(com1), Uart::new(com2)],
                kbc: I8042::new(),
                port92: SystemControlA::new(),
                cf9: ResetControl::new(),
                pm: AcpiPm::new(AcpiPmConfig::default()),
            }),
            lapic: Mutex::new(Lapic::new(LapicConfig::default())),
            ioapic: Mutex::new(IoApic::new()),
            pci: Mutex::new(crate::devices::pci::PciHost::new()),
            pit: pit.clone(),
            intr: AtomicBool::new(false),
            reschedule: AtomicBool::new(false),
            ferr: AtomicBool::new(false),
            pit_sampled: AtomicU64::new(0),
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
            crate::devices::rtc::INDEX_PORT,
            2,
            Box::new(IsaPorts {
                which: Which::Rtc,
                shared: chipset.shared.clone(),
                clock: chipset.clock.clone(),
            }),
        )?;
        for (i, (base, _)) in COM_PORTS.into_iter().enumerate() {
            ports.insert(
                base,
                8,
                Box::new(IsaPorts {
                    which: Which::Com(i),
                    shared: chipset.shared.clone(),
                    clock: chipset.clock.clone(),
                }),
            )?;
        }
        mmio.insert(
            LAPIC_BASE,
            0x1000,
            Box::new(LapicMmio {
                shared: chipset.shared.clone(),
                clock: chipset.clock.clone(),
            }),
        )?;
        mmio.insert(
            IOAPIC_BASE,
            0x1000,
            Box::new(IoApicMmio {
                shared: chipset.shared.clone(),
            }),
        )?;
        for (port, len) in [(0xcf8, 1), (0xcfc, 4)] {
            ports.insert(
                port,
                len,
                Box::new(PciPorts {
                    base: port,
                    shared: chipset.shared.clone(),
                }),
            )?;
        }
        for (port, len, which) in [
            (0x60, 1, Which::Kbc(0x60)),
            (0x64, 1, Which::Kbc(0x64)),
            (0x92, 1, Which::Port92),
            (0xcf9, 1, Which::ResetControl),
            (acpi_pm::QEMU_PM_BASE, acpi_pm::PM_BLOCK_LEN, Which::PmBlock),
            (acpi_pm::QEMU_GPE0_BASE, acpi_pm::GPE0_LEN, Which::Gpe0),
        ] {
            ports.insert(
                port,
                u32::from(len),
                Box::new(IsaPorts {
                    which,
                    shared: chipset.shared.clone(),
                    clock: chipset.clock.clone(),
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

    /// INTR: the local APIC asks the processor for a maskable interrupt.
    pub fn intr(&self) -> bool {
        self.shared.intr.load(Ordering::Relaxed)
    }

    /// The processor takes the maskable interrupt: the local APIC's fixed
    /// vector (into its ISR), or for ExtINT the PIC's INTA cycle.
    pub fn acknowledge(&self) -> u8 {
        let pending = lock(&self.shared.lapic).pending();
        if let Some(Pending::Fixed(_)) = pending {
            let mut lapic = lock(&self.shared.lapic);
            let v = lapic.acknowledge();
            self.shared.refresh_core(&lapic);
            return v;
        }
        // ExtINT (or, if the request went away, the PIC's answer all the
        // same: its spurious IR7).
        let v = {
            let mut pic = lock(&self.shared.pic);
            let v = pic.acknowledge();
            self.shared.refresh_intr(&pic);
            v
        };
        let mut lapic = lock(&self.shared.lapic);
        lapic.acknowledge_extint();
        self.shared.refresh_core(&lapic);
        v
    }

    /// IA32_APIC_BASE.
    pub fn apic_base(&self) -> u64 {
        lock(&self.shared.lapic).apic_base()
    }

    /// WRMSR IA32_APIC_BASE: false for #GP(0). The register page follows
    /// the base (`mmio` is remapped; the engines end the slice, so no host
    /// page of the old mapping stays in use).
    pub fn set_apic_base(&self, value: u64, mmio: &mut MmioBus) -> bool {
        let now = self.clock.now_ns();
        let (old, update) = {
            let mut lapic = lock(&self.shared.lapic);
            let old = lapic.window();
            let Ok(update) = lapic.set_apic_base(value, now) else {
                return false;
            };
            self.shared.refresh_core(&lapic);
            (old, update)
        };
        if update.moved {
            let device = old.and_then(|b| mmio.remove(b)).unwrap_or_else(|| {
                Box::new(LapicMmio {
                    shared: self.shared.clone(),
                    clock: self.clock.clone(),
                })
            });
            // (A base over another device's range leaves the page
            // undecoded, as two agents answering would be undefined.)
            if let Some(base) = update.window {
                let _ = mmio.insert(base, 0x1000, device);
            }
        }
        self.shared.reschedule.store(true, Ordering::Relaxed);
        true
    }

    /// CR8: the TPR's priority class.
    pub fn cr8(&self) -> u64 {
        lock(&self.shared.lapic).cr8()
    }

    /// MOV to CR8.
    pub fn set_cr8(&self, value: u64) {
        let mut lapic = lock(&self.shared.lapic);
        lapic.set_cr8(value);
        let was = self.shared.intr.load(Ordering::Relaxed);
        self.shared.refresh_core(&lapic);
        if !was && self.shared.intr.load(Ordering::Relaxed) {
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
    }

    /// The first time (ns) after now at which an interrupt line can
    /// change, if any.
    pub fn next_event(&self) -> Option<u64> {
        let now = self.clock.now_ns();
        let pit = lock(&self.shared.pit).next_out0_change(now);
        let isa = lock(&self.shared.isa).next_event(now);
        let lapic = lock(&self.shared.lapic).next_event(now);
        pit.into_iter().chain(isa).chain(lapic).min()
    }

    /// Bring the lines and the local APIC's timer up to the clock's time.
    pub fn update(&self) {
        let now = self.clock.now_ns();
        lock(&self.shared.lapic).update(now);
        self.shared.refresh_lines(now);
    }

    /// Can a future device event interrupt the processor: the local
    /// APIC's timer, or a line with timed events (IRQ 0, 1, 3, 4, 8, 12)
    /// unmasked at the PIC (a slave line also needs the cascade input) or
    /// at its I/O APIC pin? (A halted processor with IF = 1 then waits for
    /// the next event; otherwise nothing can wake it.)
    pub fn timer_can_interrupt(&self) -> bool {
        if lock(&self.shared.lapic)
            .next_event(self.clock.now_ns())
            .is_some()
        {
            return true;
        }
        [
            0,
            1,
            COM_PORTS[1].1,
            COM_PORTS[0].1,
            crate::devices::rtc::IRQ,
            12,
        ]
        .into_iter()
        .any(|irq| self.irq_open(irq))
    }

    /// Could host input for COM1 interrupt the processor: its received
    /// data interrupt enabled, OUT2 set, IRQ 4 unmasked at the PIC or the
    /// I/O APIC?
    pub fn serial_can_interrupt(&self) -> bool {
        let s = lock(&self.shared.isa).com[0].state();
        s.ier & 1 != 0 && s.mcr & 0x08 != 0 && self.irq_open(COM_PORTS[0].1)
    }

    /// Is ISA IRQ `irq` unmasked at the PIC (a slave line also needs the
    /// cascade input) or at its I/O APIC pin?
    fn irq_open(&self, irq: u8) -> bool {
        let s = lock(&self.shared.pic).state();
        let (m, sl) = (s.master.imr, s.slave.imr);
        let pic = if irq < 8 {
            m & (1 << irq) == 0
        } else {
            m & (1 << crate::devices::pic::CASCADE_IR) == 0 && sl & (1 << (irq - 8)) == 0
        };
        let pin = usize::from(ioapic_pin(irq));
        pic || lock(&self.shared.ioapic)
            .state()
            .redirection
            .get(pin)
            .is_some_and(|e| e & IOAPIC_MASKED == 0)
    }

    /// Host input for COM port `i` (0 = COM1) at the current time: the
    /// bytes it took (at most its FIFO's free space; the rest is the
    /// caller's to offer again).
    pub fn serial_input(&self, i: usize, bytes: &[u8]) -> usize {
        let now = self.clock.now_ns();
        let n = match lock(&self.shared.isa).com.get_mut(i) {
            Some(u) => u.receive(bytes, now),
            None => 0,
        };
        if n > 0 {
            self.shared.refresh_lines(now);
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
        n
    }

    /// Push buffered serial output to its sinks; the first error.
    pub fn flush(&self) -> std::io::Result<()> {
        let mut isa = lock(&self.shared.isa);
        let mut first = Ok(());
        for u in &mut isa.com {
            if let Err(e) = u.flush() {
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }

    /// The processor's FERR# output changed. Its assertion latches IRQ 13
    /// (and asks the engines to end the slice, so the interrupt is seen at
    /// once); its fall deasserts IGNNE#.
    pub fn set_ferr(&self, asserted: bool) {
        let was = self.shared.ferr.swap(asserted, Ordering::Relaxed);
        if asserted && !was {
            self.shared.set_fpu_irq(true);
            self.shared.reschedule.store(true, Ordering::Relaxed);
        }
        if !asserted {
            self.shared.ignne.store(false, Ordering::Relaxed);
        }
    }

    /// Did the guest ask for a system reset (the 8042, port 0x92,
    /// 0xCF9)?
    pub fn reset_requested(&self) -> bool {
        lock(&self.shared.isa).reset_requested()
    }

    /// Did the guest power the machine off (PM1_CNT.SLP_EN with the
    /// \_S5 sleep type)?
    pub fn poweroff_requested(&self) -> bool {
        lock(&self.shared.isa).pm.poweroff_requested()
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

/// Where the local APIC's register page is after reset (IA32_APIC_BASE).
pub const LAPIC_BASE: u64 = 0xfee0_0000;
/// The I/O APIC's registers (QEMU's `pc`, and its MADT).
pub const IOAPIC_BASE: u64 = 0xfec0_0000;
/// A redirection entry's mask bit.
const IOAPIC_MASKED: u64 = 1 << 16;

#[derive(Debug, thiserror::Error)]
pub enum ChipsetError {
    #[error(transparent)]
    Ports(#[from] PioError),
    #[error(transparent)]
    Mmio(#[from] MmioError),
}

mod apic;
mod ports;

use apic::{IoApicMmio, LapicMmio};
use ports::{FpuErrorPort, IsaPorts, PciPorts, PicPorts, Rescheduling, Which};

#[cfg(test)]
mod tests;

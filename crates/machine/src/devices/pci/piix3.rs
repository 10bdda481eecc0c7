//! The PIIX3 PCI-to-ISA bridge, function 00:01.0 (Intel 82371SB PIIX3,
//! datasheet 290550: "PCI to ISA Bridge Configuration Registers",
//! PIRQRCA..PIRQRCD at 60h–63h), and the INTx routing it does.
//!
//! PIRQRC: bit 7 IRQROUTEN (1 = the PIRQ is not routed to the ISA side),
//! bits 6:4 reserved (read 0 here; QEMU stores them), bits 3:0 the ISA
//! IRQ. Values 0–2, 8 and 13 are reserved: the datasheet offers only IRQs
//! 3–7, 9–12, 14 and 15. QEMU routes any value below 16, reserved ones
//! included; Bochs (`iodev/pci2isa.cc`) refuses the reserved ones, as
//! here ([`Piix3::pirq_route`] says None), since routing a level-triggered
//! PCI line onto the timer, the keyboard, the cascade, the RTC or the FPU
//! error input breaks those devices.
//!
//! The other device-specific registers (40h–FFh) are plain bytes with
//! QEMU's reset values (`hw/isa/piix.c`, `piix_reset`), writable as in
//! QEMU; the machine does not act on them.
//!
//! Slot swizzle: a function in slot S drives pin P (INTA# = 1 .. INTD# =
//! 4) onto PIRQ (S + P - 2) mod 4 (A = 0): slot 1's INTA# on PIRQA, slot
//! 2's on PIRQB, slot 3's on PIRQC. That is QEMU's `pc`
//! (`pci_slot_get_pirq`: `(intx + slot - 1) & 3`), and SeaBIOS builds its
//! $PIR and MP tables and QEMU its ACPI `_PRT` with the same formula, so
//! firmware and the guest agree with the wiring only with this one. (Bochs
//! uses `(slot + pin - offset) & 3` with an offset per chipset, and
//! builds its own tables to match.) Written with the pin counted from 0
//! (INTA# = 0) the formula is the familiar `(slot + pin - 1) mod 4`.
//!
//! I/O APIC side: PIRQA..D are also [`pirq_gsi`] 16..19, the I/O APIC pins
//! a PIIX3/PIIX4 board with an 82093AA wires them to and where Bochs
//! delivers them. QEMU's `pc` has no such wires: there a PCI interrupt
//! reaches the I/O APIC only through the ISA IRQ its PIRQRC selects (pin
//! = IRQ), which is what its ACPI tables describe. The machine chooses
//! one and tells the guest the same in its ACPI `_PRT`/MP table.

use super::config::{ConfigSpace, ConfigWriteEffect, PciDevice, PciIds};
use super::{QEMU_SUBSYSTEM, QEMU_SUBSYSTEM_VENDOR};

/// PIRQRCA's offset; PIRQRCB, C and D follow.
pub const PIRQRC: u8 = 0x60;
/// IRQROUTEN: set = not routed.
pub const PIRQ_DISABLED: u8 = 0x80;
/// The writable bits of a PIRQRC register.
pub const PIRQRC_WRITABLE: u8 = 0x8f;
/// The ISA IRQs a PIRQ can be routed to (bit n = IRQ n): 3–7, 9–12, 14, 15.
pub const PIRQ_ROUTABLE_IRQS: u16 = 0xdef8;
/// The first I/O APIC input of the PIRQs on boards that wire them.
pub const PIRQ_GSI_BASE: u32 = 16;

/// One of the four PCI interrupt request lines the PIIX3 routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pirq {
    A,
    B,
    C,
    D,
}

impl Pirq {
    pub const ALL: [Pirq; 4] = [Pirq::A, Pirq::B, Pirq::C, Pirq::D];

    /// 0..=3 for A..D.
    pub fn index(self) -> usize {
        self as usize
    }

    fn from_index(i: usize) -> Pirq {
        Pirq::ALL[i % 4]
    }
}

/// The PIRQ that INTx pin `pin` (1 = INTA# .. 4 = INTD#) of a function in
/// slot `device` (0..=31) drives; None for a pin value no pin has.
pub fn slot_pirq(device: u8, pin: u8) -> Option<Pirq> {
    if !(1..=4).contains(&pin) {
        return None;
    }
    // (slot - 1 + pin - 1) mod 4, kept non-negative for slot 0.
    let index = (usize::from(device % 32) + usize::from(pin) + 2) % 4;
    Some(Pirq::from_index(index))
}

/// The I/O APIC input of a PIRQ on a board that wires PIRQA..D to pins
/// 16..19 (see the module notes: not QEMU's `pc`).
pub fn pirq_gsi(pirq: Pirq) -> u32 {
    PIRQ_GSI_BASE + pirq.index() as u32
}

/// The 82371SB's PCI-to-ISA bridge function.
#[derive(Clone, Debug)]
pub struct Piix3 {
    config: ConfigSpace,
}

impl Default for Piix3 {
    fn default() -> Piix3 {
        Piix3::new()
    }
}

impl Piix3 {
    pub const VENDOR: u16 = 0x8086;
    pub const DEVICE: u16 = 0x7000;

    /// Power-on, as QEMU's `pc` presents it: revision 00h, ISA bridge
    /// class 060100h, header type 80h (function 0 of a multi-function
    /// device), subsystem 1AF4:1100, command 0007h, status 0200h (DEVSEL#
    /// medium), every PIRQ disabled (80h), and QEMU's reset values of the
    /// other registers.
    pub fn new() -> Piix3 {
        let mut config = ConfigSpace::new(PciIds {
            vendor: Piix3::VENDOR,
            device: Piix3::DEVICE,
            revision: 0x00,
            class: 0x06_01_00,
            header_type: super::config::HEADER_MULTI_FUNCTION,
            subsystem_vendor: QEMU_SUBSYSTEM_VENDOR,
            subsystem: QEMU_SUBSYSTEM,
        });
        let command = super::config::COMMAND_WRITABLE.to_le_bytes();
        config.init_register(super::config::COMMAND, &[0x07, 0x00], &command);
        config.init_register(super::config::STATUS, &[0x00, 0x02], &[0, 0]);
        // The device-specific registers: plain bytes, as QEMU.
        for offset in 0x40..=0xffu8 {
            config.init_register(offset, &[0], &[0xff]);
        }
        for (offset, value) in [
            (0x4c, 0x4d),
            (0x4e, 0x03),
            (0x69, 0x02),
            (0x70, 0x80),
            (0x76, 0x0c),
            (0x77, 0x0c),
            (0x78, 0x02),
            (0xa0, 0x08),
            (0xa8, 0x0f),
        ] {
            config.init_register(offset, &[value], &[0xff]);
        }
        for i in 0..4 {
            config.init_register(PIRQRC + i, &[PIRQ_DISABLED], &[PIRQRC_WRITABLE]);
        }
        Piix3 { config }
    }

    /// The four PIRQRC registers as stored.
    pub fn pirq_registers(&self) -> [u8; 4] {
        std::array::from_fn(|i| self.config.byte(PIRQRC + i as u8))
    }

    /// The ISA IRQ `pirq` is routed to, or None if routing is disabled
    /// (IRQROUTEN) or the register names a reserved IRQ.
    pub fn pirq_route(&self, pirq: Pirq) -> Option<u8> {
        let reg = self.config.byte(PIRQRC + pirq.index() as u8);
        let irq = reg & 0x0f;
        (reg & PIRQ_DISABLED == 0 && PIRQ_ROUTABLE_IRQS & (1 << irq) != 0).then_some(irq)
    }

    /// The ISA IRQ lines the PCI interrupts drive, bit n for IRQ n, given
    /// the levels of PIRQA..D (high = asserted; the wire is active-low,
    /// shared and level-triggered, so several PIRQs on one IRQ are ORed
    /// and the IRQ's ELCR bit must say level).
    pub fn isa_irq_levels(&self, pirqs: [bool; 4]) -> u16 {
        Pirq::ALL
            .into_iter()
            .filter(|p| pirqs[p.index()])
            .filter_map(|p| self.pirq_route(p))
            .fold(0, |levels, irq| levels | 1 << irq)
    }
}

impl PciDevice for Piix3 {
    fn config(&self) -> &ConfigSpace {
        &self.config
    }

    fn config_mut(&mut self) -> &mut ConfigSpace {
        &mut self.config
    }

    fn write_config(&mut self, offset: u8, data: &[u8]) -> ConfigWriteEffect {
        let routes = self.pirq_registers();
        let effect = self.config.write(offset, data);
        if self.pirq_registers() != routes {
            ConfigWriteEffect::PirqRoutesChanged
        } else {
            effect
        }
    }
}

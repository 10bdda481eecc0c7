//! The I/O APIC (Intel 82093AA datasheet 290566, "I/O Advanced Programmable
//! Interrupt Controller") as QEMU's `pc` machine has it (`hw/intc/ioapic.c`):
//! version 0x20, 24 input pins, at physical 0xFEC00000. Each pin's
//! redirection table entry turns its input into an interrupt message for the
//! local APICs; the messages are handed to the caller as [`Delivery`]
//! values ([`IoApic::take_delivery`]), because the machine routes them: the
//! I/O APIC knows nothing about processors. The device has no timed
//! behaviour, so no call takes the time.
//!
//! Register interface: MMIO offsets from the base (section 3.1), IOREGSEL
//! at 0x00 selects a register that IOWIN at 0x10 reads and writes
//! (section 3.2: 0x00 ID, 0x01 version, 0x02 arbitration, 0x10..=0x3F the
//! redirection table, two dwords per entry, low first). Version 0x20 adds
//! the EOI register at 0x40 (not in the 82093AA, which is version 0x11;
//! it comes from the chipset I/O APICs, e.g. Intel ICH9 datasheet 319973,
//! "EOIR—EOI Register"): a write of a vector clears the remote IRR of
//! every level entry with that vector, as a broadcast EOI message does.
//!
//! Pins are the I/O APIC's inputs; which device drives which is the
//! machine's wiring (on QEMU's pc, ISA IRQ n on pin n but IRQ 0 on pin 2,
//! as the MADT's interrupt source override says, and PCI INTx on 16..=23).
//!
//! Choices where the datasheet leaves a gap or QEMU and Bochs
//! (`iodev/ioapic.cc`) differ:
//!
//! * Decoding: the registers repeat every 256 bytes of the 4 KiB range (QEMU
//!   looks at address bits 7:0 only); offsets other than 0x00, 0x10 and
//!   0x40 read 0 and ignore writes. An access is taken as byte lanes of
//!   aligned dwords (an access wider than 4 bytes is one access per dword,
//!   as QEMU splits it). IOREGSEL takes any size: byte lane 0 holds the
//!   8-bit index, the other lanes are reserved (read 0). IOWIN and the EOI
//!   register act only on a whole aligned dword (the datasheet allows only
//!   dword accesses; QEMU ignores other sizes, and so does this: a partial
//!   IOWIN read returns 0).
//! * Register indexes 0x03..=0x0F and 0x40..=0xFF read 0 and ignore writes
//!   (QEMU; the datasheet only calls them reserved).
//! * ID: bits 27:24, 0 after reset (QEMU and Bochs). The arbitration
//!   register reads the same value: the datasheet loads it from the ID at
//!   each ID write, and a version 0x20 I/O APIC delivers on the system bus,
//!   where no APIC bus arbitration rotates it (QEMU).
//! * The EOI register compares its byte lane 0 (the vector field; bits
//!   31:8 are reserved in the chipset datasheets). QEMU compares the whole
//!   dword, so there a value above 0xFF matches nothing.
//! * Polarity: [`IoApic::set_irq`] takes the wire's level and the entry's
//!   polarity bit inverts it (datasheet), so an active-low PCI line is
//!   given as the wire carries it. QEMU ignores the polarity bit: its
//!   inputs are already "asserted" levels.
//! * Edge pins: an asserting transition of the input (after the polarity
//!   inverter) sends a message if the entry is unmasked; one that arrives
//!   while masked is lost (datasheet, QEMU). Rewriting the polarity or the
//!   trigger mode is not an input transition and sends nothing for an edge
//!   entry.
//! * Level pins send while the input is asserted, the entry unmasked and
//!   remote IRR clear; sending sets remote IRR, the EOI clears it and the
//!   pin sends again if still asserted. Unmasking, or switching to level,
//!   a pin that is asserted sends (QEMU). QEMU's interrupt-storm brake (a
//!   10 ms pause after 10000 EOIs that each re-send at once) is not
//!   modelled: hardware has none, and nothing here has a timer.
//! * Writing an entry that acts as edge-triggered clears its remote IRR
//!   (QEMU, for Linux's edge-then-level EOI trick on I/O APICs without
//!   an EOI register; the datasheet calls the bit undefined for edge).
//! * Delivery status (bit 12) reads 1 while the message waits for the
//!   caller to take it; the machine takes messages after every access,
//!   so the guest normally reads 0, as on QEMU (always 0). A message that
//!   has not been taken when its entry is masked, or its level input
//!   falls, is withdrawn.
//! * Delivery modes: SMI, NMI, INIT and ExtINT act as edge-triggered
//!   whatever the trigger bit says (section 3.2.4's delivery modes: NMI
//!   and INIT are "treated as edge triggered even if programmed as
//!   level", SMI and ExtINT require edge); QEMU honours the trigger bit
//!   and sets remote IRR. The reserved modes 011 and 110 send nothing
//!   and set no remote IRR: the entry acts as masked (the datasheet
//!   defines no behaviour; on QEMU the local APIC drops such a message,
//!   and a level entry is then stuck with remote IRR set until an EOI of
//!   its vector).
//! * Reserved bits 55:17 of an entry are kept as written (QEMU; chipset
//!   I/O APICs use bits 55:48 as an extended destination or the remapping
//!   format) and mean nothing here. The destination is reported as the
//!   whole byte 63:56; the local APICs interpret it.
//! * When several messages wait, the lowest pin goes first (QEMU's scan
//!   order; the datasheet gives the APIC bus no pin priority).

mod entry;

pub use entry::{Delivery, DeliveryMode, DestMode, Trigger};

use entry::Entry;

/// Where the PC maps the I/O APIC, and the size of its range.
pub const MMIO_BASE: u64 = 0xfec0_0000;
pub const MMIO_LEN: u64 = 0x1000;
/// The register select, window and EOI registers (offsets).
pub const IOREGSEL: u64 = 0x00;
pub const IOWIN: u64 = 0x10;
pub const EOI: u64 = 0x40;
/// The registers IOREGSEL selects.
pub const REG_ID: u8 = 0x00;
pub const REG_VERSION: u8 = 0x01;
pub const REG_ARBITRATION: u8 = 0x02;
pub const REG_REDIRECTION: u8 = 0x10;
/// Input pins (redirection entries).
pub const PINS: usize = 24;
/// The version register: version 0x20, maximum redirection entry 23.
pub const VERSION: u32 = 0x20 | ((PINS as u32 - 1) << 16);
/// The writable ID bits (27:24) within the ID register.
pub const ID_SHIFT: u32 = 24;
pub const ID_MASK: u8 = 0x0f;

const PIN_MASK: u32 = (1 << PINS) - 1;

/// Everything needed to resume the I/O APIC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoApicState {
    /// The APIC ID (4 bits).
    pub id: u8,
    /// IOREGSEL.
    pub ioregsel: u8,
    /// The redirection table; bit 12 (delivery status) is not stored but
    /// read from `pending`.
    pub redirection: [u64; PINS],
    /// The wire levels on the input pins, bit per pin, before polarity.
    pub lines: u32,
    /// Pins whose message waits for [`IoApic::take_delivery`].
    pub pending: u32,
}

#[derive(Debug)]
pub struct IoApic {
    state: IoApicState,
}

impl Default for IoApic {
    fn default() -> IoApic {
        IoApic::new()
    }
}

impl IoApic {
    /// The power-on state: the reset state with every input wire low.
    pub fn new() -> IoApic {
        IoApic {
            state: IoApicState {
                id: 0,
                ioregsel: 0,
                redirection: [entry::RESET; PINS],
                lines: 0,
                pending: 0,
            },
        }
    }

    /// The system reset (the RST# pin): ID 0, IOREGSEL 0, every entry
    /// masked with its other fields 0, nothing waiting. The input wires
    /// keep the levels the devices drive.
    pub fn reset(&mut self) {
        let lines = self.state.lines;
        *self = IoApic::new();
        self.state.lines = lines;
    }

    /// An MMIO read of `data.len()` bytes at `offset` in the range.
    pub fn read(&mut self, offset: u64, data: &mut [u8]) {
        let mut i = 0;
        while i < data.len() {
            let addr = offset.wrapping_add(i as u64);
            let lane = (addr & 3) as usize;
            let n = (4 - lane).min(data.len() - i);
            let value = self.read_dword(addr & 0xfc, lane == 0 && n == 4);
            for (k, byte) in data[i..i + n].iter_mut().enumerate() {
                *byte = (value >> (8 * (lane + k))) as u8;
            }
            i += n;
        }
    }

    /// An MMIO write of `data` at `offset` in the range.
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let mut i = 0;
        while i < data.len() {
            let addr = offset.wrapping_add(i as u64);
            let lane = (addr & 3) as usize;
            let n = (4 - lane).min(data.len() - i);
            let mut value = 0u32;
            for (k, &byte) in data[i..i + n].iter().enumerate() {
                value |= u32::from(byte) << (8 * (lane + k));
            }
            self.write_dword(addr & 0xfc, lane, value, lane == 0 && n == 4);
            i += n;
        }
    }

    /// A read of the dword at `reg` (offset bits 7:0, aligned); `whole`
    /// if all four byte lanes are read.
    fn read_dword(&self, reg: u64, whole: bool) -> u32 {
        match reg {
            IOREGSEL => u32::from(self.state.ioregsel),
            IOWIN if whole => self.read_register(self.state.ioregsel),
            _ => 0,
        }
    }

    /// A write of the dword at `reg` starting at byte lane `first_lane`.
    fn write_dword(&mut self, reg: u64, first_lane: usize, value: u32, whole: bool) {
        match reg {
            IOREGSEL if first_lane == 0 => self.state.ioregsel = value as u8,
            IOWIN if whole => self.write_register(self.state.ioregsel, value),
            EOI if whole => self.eoi(value as u8),
            _ => {}
        }
    }

    /// The register IOREGSEL value `sel` selects, as IOWIN reads it.
    fn read_register(&self, sel: u8) -> u32 {
        match sel {
            REG_ID | REG_ARBITRATION => u32::from(self.state.id) << ID_SHIFT,
            REG_VERSION => VERSION,
            _ => match redirection_index(sel) {
                Some((pin, high)) => {
                    let mut e = self.state.redirection[pin];
                    if self.state.pending >> pin & 1 != 0 {
                        e |= entry::DELIVERY_STATUS;
                    }
                    if high {
                        (e >> 32) as u32
                    } else {
                        e as u32
                    }
                }
                None => 0,
            },
        }
    }

    fn write_register(&mut self, sel: u8, value: u32) {
        match sel {
            REG_ID => self.state.id = (value >> ID_SHIFT) as u8 & ID_MASK,
            _ => {
                let Some((pin, high)) = redirection_index(sel) else {
                    return;
                };
                let old = self.state.redirection[pin];
                let (shift, half) = if high {
                    (32, !0u64 << 32)
                } else {
                    (0, 0xffff_ffff)
                };
                let mut new = (old & !half) | (u64::from(value) << shift);
                // The read-only bits keep their values; delivery status
                // is never stored.
                new = (new & !entry::READ_ONLY) | (old & entry::REMOTE_IRR);
                if Entry(new).trigger() == Trigger::Edge {
                    new &= !entry::REMOTE_IRR;
                }
                self.state.redirection[pin] = new;
                self.service();
            }
        }
    }

    /// Drive input pin `pin` (0..=23; others are ignored) to wire level
    /// `level` (high = true). An edge entry latches a message on the
    /// asserting transition; a level entry follows the level.
    pub fn set_irq(&mut self, pin: u8, level: bool) {
        let pin = usize::from(pin);
        if pin >= PINS {
            return;
        }
        let bit = 1u32 << pin;
        let e = Entry(self.state.redirection[pin]);
        let was = self.asserted(pin);
        if level {
            self.state.lines |= bit;
        } else {
            self.state.lines &= !bit;
        }
        if e.trigger() == Trigger::Edge && !was && self.asserted(pin) && e.enabled() {
            self.state.pending |= bit;
        }
        self.service();
    }

    /// The EOI for `vector` (an EOI message broadcast by a local APIC, or
    /// a write of the EOI register): every level entry with that vector
    /// clears its remote IRR, and sends again if its input is still
    /// asserted.
    pub fn eoi(&mut self, vector: u8) {
        for e in &mut self.state.redirection {
            let entry = Entry(*e);
            if entry.vector() == vector && entry.trigger() == Trigger::Level {
                *e &= !entry::REMOTE_IRR;
            }
        }
        self.service();
    }

    /// Is a message waiting for [`IoApic::take_delivery`]? This is the
    /// I/O APIC's output the machine polls after every access and line
    /// change (a level: it stays true until the messages are taken).
    pub fn has_delivery(&self) -> bool {
        self.state.pending != 0
    }

    /// Send the next waiting message (lowest pin first): a level entry
    /// sets its remote IRR, an edge entry forgets the request.
    pub fn take_delivery(&mut self) -> Option<Delivery> {
        while self.state.pending != 0 {
            let pin = self.state.pending.trailing_zeros() as usize;
            self.state.pending &= !(1 << pin);
            let e = Entry(self.state.redirection[pin]);
            // (Only enabled entries wait, so this always sends.)
            if let Some(d) = e.delivery(pin as u8) {
                if d.trigger == Trigger::Level {
                    self.state.redirection[pin] |= entry::REMOTE_IRR;
                }
                return Some(d);
            }
        }
        None
    }

    /// Is input `pin` asserted: its wire level through the polarity
    /// inverter?
    fn asserted(&self, pin: usize) -> bool {
        let wire = self.state.lines >> pin & 1 != 0;
        wire != Entry(self.state.redirection[pin]).active_low()
    }

    /// Bring the waiting set up to date after a change: a level entry
    /// waits while asserted with remote IRR clear, an edge entry keeps a
    /// latched request; neither waits while masked or in a reserved mode.
    fn service(&mut self) {
        for pin in 0..PINS {
            let e = Entry(self.state.redirection[pin]);
            let bit = 1u32 << pin;
            let waits = if !e.enabled() {
                false
            } else if e.trigger() == Trigger::Level {
                self.asserted(pin) && !e.remote_irr()
            } else {
                self.state.pending & bit != 0
            };
            if waits {
                self.state.pending |= bit;
            } else {
                self.state.pending &= !bit;
            }
        }
    }

    pub fn state(&self) -> IoApicState {
        self.state.clone()
    }

    /// Resume from `s`. Values no I/O APIC can hold are brought into range:
    /// the ID to 4 bits, lines and waiting messages to the 24 pins, no
    /// stored delivery status, no remote IRR on an edge entry, and only
    /// messages the entries can send waiting.
    pub fn restore(&mut self, s: &IoApicState) {
        self.state = s.clone();
        let st = &mut self.state;
        st.id &= ID_MASK;
        st.lines &= PIN_MASK;
        st.pending &= PIN_MASK;
        for e in &mut st.redirection {
            *e &= !entry::DELIVERY_STATUS;
            if Entry(*e).trigger() == Trigger::Edge {
                *e &= !entry::REMOTE_IRR;
            }
        }
        self.service();
    }
}

/// The pin and half (high dword?) of redirection register index `sel`.
fn redirection_index(sel: u8) -> Option<(usize, bool)> {
    let i = usize::from(sel.checked_sub(REG_REDIRECTION)?);
    (i < 2 * PINS).then_some((i / 2, i & 1 != 0))
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_random;

//! One redirection table entry of the I/O APIC (82093AA datasheet 290566,
//! section 3.2.4 "IOREDTBL[23:0]—I/O Redirection Table Registers"): the
//! 64-bit register's fields, and the interrupt message an entry sends.

/// Bits 7:0: the vector.
pub const VECTOR: u64 = 0xff;
/// Bits 10:8: the delivery mode.
pub const DELIVERY_MODE_SHIFT: u32 = 8;
/// Bit 11: logical (1) or physical (0) destination.
pub const DEST_MODE_LOGICAL: u64 = 1 << 11;
/// Bit 12 (read-only): a message is waiting to be sent.
pub const DELIVERY_STATUS: u64 = 1 << 12;
/// Bit 13: the input is active low.
pub const POLARITY_LOW: u64 = 1 << 13;
/// Bit 14 (read-only): a level interrupt was accepted and awaits its EOI.
pub const REMOTE_IRR: u64 = 1 << 14;
/// Bit 15: level (1) or edge (0) triggered.
pub const TRIGGER_LEVEL: u64 = 1 << 15;
/// Bit 16: masked.
pub const MASKED: u64 = 1 << 16;
/// Bits 63:56: the destination (an APIC ID in bits 59:56 in physical mode
/// on the 82093AA's serial bus; the whole byte in logical mode and for
/// xAPIC IDs).
pub const DEST_SHIFT: u32 = 56;
/// The bits software cannot write.
pub const READ_ONLY: u64 = DELIVERY_STATUS | REMOTE_IRR;
/// The power-on and reset value: masked, everything else 0 (the datasheet
/// leaves the other fields undefined; QEMU and Bochs clear them).
pub const RESET: u64 = MASKED;

/// How the message is delivered (bits 10:8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryMode {
    /// 000: to every destination processor, at the vector.
    Fixed,
    /// 001: to the destination processor of lowest priority.
    LowestPriority,
    /// 010: an SMI (the vector is ignored).
    Smi,
    /// 100: an NMI (the vector is ignored).
    Nmi,
    /// 101: an INIT (the vector is ignored).
    Init,
    /// 111: as from an external 8259A: the processor acknowledges the
    /// PIC for the vector.
    ExtInt,
}

impl DeliveryMode {
    /// The mode of field value `bits` (0..=7); None for the reserved 011
    /// and 110.
    pub fn from_bits(bits: u8) -> Option<DeliveryMode> {
        match bits & 7 {
            0 => Some(DeliveryMode::Fixed),
            1 => Some(DeliveryMode::LowestPriority),
            2 => Some(DeliveryMode::Smi),
            4 => Some(DeliveryMode::Nmi),
            5 => Some(DeliveryMode::Init),
            7 => Some(DeliveryMode::ExtInt),
            _ => None,
        }
    }

    /// SMI, NMI, INIT and ExtINT are edge-triggered whatever the entry's
    /// trigger mode says (the datasheet's delivery mode table: "treated
    /// as an edge triggered interrupt even if it is programmed as level",
    /// "requires an edge trigger mode").
    pub fn forces_edge(self) -> bool {
        !matches!(self, DeliveryMode::Fixed | DeliveryMode::LowestPriority)
    }
}

/// How `dest` names the destination (bit 11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DestMode {
    Physical,
    Logical,
}

/// How the destination acknowledges: a level interrupt's EOI comes back
/// to the I/O APIC ([`super::IoApic::eoi`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Edge,
    Level,
}

/// An interrupt message for the local APIC(s), as the I/O APIC sends it
/// (on the system bus for version 0x20). The machine routes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The input pin that sent it (for tracing).
    pub pin: u8,
    /// Meaningful for Fixed and LowestPriority only.
    pub vector: u8,
    pub mode: DeliveryMode,
    pub dest_mode: DestMode,
    /// The destination field, bits 63:56.
    pub dest: u8,
    /// The trigger the entry acts with (Edge for the modes that force it).
    pub trigger: Trigger,
}

/// The fields of one entry, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Entry(pub u64);

impl Entry {
    pub fn vector(self) -> u8 {
        (self.0 & VECTOR) as u8
    }

    pub fn mode(self) -> Option<DeliveryMode> {
        DeliveryMode::from_bits((self.0 >> DELIVERY_MODE_SHIFT) as u8)
    }

    pub fn masked(self) -> bool {
        self.0 & MASKED != 0
    }

    pub fn active_low(self) -> bool {
        self.0 & POLARITY_LOW != 0
    }

    pub fn remote_irr(self) -> bool {
        self.0 & REMOTE_IRR != 0
    }

    /// The trigger the pin acts with: the entry's, unless its delivery
    /// mode forces edge. (A reserved mode acts as programmed; it never
    /// sends anything.)
    pub fn trigger(self) -> Trigger {
        if self.0 & TRIGGER_LEVEL == 0 || self.mode().is_some_and(DeliveryMode::forces_edge) {
            Trigger::Edge
        } else {
            Trigger::Level
        }
    }

    /// Can this entry send now: unmasked with a defined delivery mode?
    pub fn enabled(self) -> bool {
        !self.masked() && self.mode().is_some()
    }

    /// The message this entry sends for `pin`, if it can send one.
    pub fn delivery(self, pin: u8) -> Option<Delivery> {
        Some(Delivery {
            pin,
            vector: self.vector(),
            mode: self.mode()?,
            dest_mode: if self.0 & DEST_MODE_LOGICAL != 0 {
                DestMode::Logical
            } else {
                DestMode::Physical
            },
            dest: (self.0 >> DEST_SHIFT) as u8,
            trigger: self.trigger(),
        })
    }
}

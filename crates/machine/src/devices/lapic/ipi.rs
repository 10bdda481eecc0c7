//! Interprocessor interrupts (SDM 11.6): the ICR (Figure 11-12), the
//! destination shorthands, physical and logical destinations with the
//! flat and cluster models of the DFR (11.6.2), and the messages the
//! machine routes between local APICs.

use super::{
    BusMessage, Lapic, Trigger, ESR_SEND_ILLEGAL_VECTOR, ICR_HIGH_WRITABLE, ICR_LOW_WRITABLE,
};

/// The delivery mode of a bus message (ICR bits 10:8; IOAPIC redirection
/// entries and MSIs use the same encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryMode {
    Fixed,
    /// On a uniprocessor the one destination is the lowest-priority one.
    LowestPriority,
    Smi,
    Nmi,
    Init,
    Startup,
    /// From an IOAPIC or MSI only (ICR 111 is reserved).
    ExtInt,
}

impl DeliveryMode {
    /// Decode bits 2:0 of a delivery mode field; None for the reserved 011
    /// (and for 111, which `ext_int` allows as ExtINT).
    pub fn from_bits(bits: u32, ext_int: bool) -> Option<DeliveryMode> {
        Some(match bits & 7 {
            0 => DeliveryMode::Fixed,
            1 => DeliveryMode::LowestPriority,
            2 => DeliveryMode::Smi,
            4 => DeliveryMode::Nmi,
            5 => DeliveryMode::Init,
            6 => DeliveryMode::Startup,
            7 if ext_int => DeliveryMode::ExtInt,
            _ => return None,
        })
    }
}

/// Who a message is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// The unit with this APIC ID; 0xFF is every unit.
    Physical(u8),
    /// The units whose logical destination matches this MDA.
    Logical(u8),
    /// Every unit (the "all" shorthands).
    All,
}

/// An IPI as it leaves the sender for the other local APICs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipi {
    pub mode: DeliveryMode,
    pub vector: u8,
    pub destination: Destination,
}

const ICR_LOGICAL: u32 = 1 << 11;
const ICR_LEVEL_ASSERT: u32 = 1 << 14;
const ICR_LEVEL_TRIGGER: u32 = 1 << 15;

impl Lapic {
    /// Is this unit one of `destination`'s?
    pub fn matches(&self, destination: Destination) -> bool {
        let s = &self.state;
        match destination {
            Destination::All => true,
            Destination::Physical(id) => id == 0xff || id == s.id,
            Destination::Logical(mda) => match s.dfr_model {
                0xf => mda & s.ldr != 0,
                0x0 => {
                    let cluster = mda >> 4;
                    (cluster == 0xf || cluster == s.ldr >> 4) && mda & s.ldr & 0xf != 0
                }
                _ => false,
            },
        }
    }

    /// An IPI from another unit, received off the bus.
    pub fn receive_ipi(&mut self, ipi: &Ipi) {
        if self.matches(ipi.destination) {
            self.deliver(ipi.mode, ipi.vector, Trigger::Edge);
        }
    }

    pub(super) fn write_icr_high(&mut self, value: u32) {
        self.state.icr_high = value & ICR_HIGH_WRITABLE;
    }

    /// A write of the ICR's low dword sends the IPI it describes. This
    /// unit takes its own part at once; what other units may take comes
    /// back as a message.
    pub(super) fn write_icr_low(&mut self, value: u32) -> Option<BusMessage> {
        let low = value & ICR_LOW_WRITABLE;
        self.state.icr_low = low;
        let vector = (low & 0xff) as u8;
        let mode = DeliveryMode::from_bits(low >> 8, false)?;
        if mode == DeliveryMode::Init
            && low & (ICR_LEVEL_ASSERT | ICR_LEVEL_TRIGGER) == ICR_LEVEL_TRIGGER
        {
            // INIT level de-assert: not supported by the xAPIC.
            return None;
        }
        if matches!(mode, DeliveryMode::Fixed | DeliveryMode::LowestPriority) && vector < 16 {
            self.raise_error(ESR_SEND_ILLEGAL_VECTOR);
        }
        let dest = (self.state.icr_high >> 24) as u8;
        let (to_self, to_others) = match low >> 18 & 3 {
            0 => {
                let d = if low & ICR_LOGICAL != 0 {
                    Destination::Logical(dest)
                } else {
                    Destination::Physical(dest)
                };
                (self.matches(d), Some(d))
            }
            1 => (true, None),
            2 => (true, Some(Destination::All)),
            _ => (false, Some(Destination::All)),
        };
        if to_self {
            self.deliver(mode, vector, Trigger::Edge);
        }
        to_others.map(|destination| {
            BusMessage::Ipi(Ipi {
                mode,
                vector,
                destination,
            })
        })
    }
}

//! Memory-mapped I/O: ranges of the physical address space mapped to
//! devices (the local APIC at 0xFEE00000, the IOAPIC, PCI BARs), as the
//! port bus maps ports. Ranges never overlap one another; over RAM or ROM
//! a range wins (a device decodes its addresses before memory does), and
//! no page that touches one is ever handed to generated code
//! (`SystemBus::host_page`), so every access to it reaches the device.
//!
//! An access is split at range boundaries: each device sees only the
//! bytes inside its range, at offsets from its base, and the rest goes to
//! memory. (Devices that care about access sizes, as the APIC's 32-bit
//! registers do, see the size they were accessed with whenever the guest
//! stays inside one register.)

use std::fmt;
use thiserror::Error;

/// A device on the MMIO bus. `offset` is relative to the base of its
/// range; `data` is 1 to 8 bytes (never crossing the range's end), in
/// guest byte order (little-endian).
pub trait MmioDevice: Send {
    /// A short name for diagnostics.
    fn name(&self) -> &str;
    fn read(&mut self, offset: u64, data: &mut [u8]);
    fn write(&mut self, offset: u64, data: &[u8]);
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MmioError {
    #[error("MMIO range {base:#x}+{len:#x} of {name} is empty or wraps past 2^64")]
    BadRange { name: String, base: u64, len: u64 },
    #[error("MMIO range {base:#x}+{len:#x} of {name} overlaps {other} at {other_base:#x}+{other_len:#x}")]
    Overlap {
        name: String,
        base: u64,
        len: u64,
        other: String,
        other_base: u64,
        other_len: u64,
    },
}

struct Slot {
    base: u64,
    /// Exclusive; `base < end`.
    end: u64,
    device: Box<dyn MmioDevice>,
}

/// MMIO ranges → devices, sorted by base.
#[derive(Default)]
pub struct MmioBus {
    slots: Vec<Slot>,
}

impl fmt::Debug for MmioBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for s in &self.slots {
            l.entry(&format_args!(
                "{:#x}..{:#x} {}",
                s.base,
                s.end,
                s.device.name()
            ));
        }
        l.finish()
    }
}

/// Where an access at some address goes first.
pub(crate) enum Claim<'a> {
    /// `len` bytes at `offset` of this device.
    Device {
        device: &'a mut dyn MmioDevice,
        offset: u64,
        len: u64,
    },
    /// No device for `len` bytes (up to the next range; `u64::MAX`-ish if
    /// none follows): memory's.
    Memory { len: u64 },
}

impl MmioBus {
    pub fn new() -> MmioBus {
        MmioBus::default()
    }

    /// Map `device` at physical `base..base + len`.
    pub fn insert(
        &mut self,
        base: u64,
        len: u64,
        device: Box<dyn MmioDevice>,
    ) -> Result<(), MmioError> {
        let Some(end) = base.checked_add(len).filter(|_| len > 0) else {
            return Err(MmioError::BadRange {
                name: device.name().to_string(),
                base,
                len,
            });
        };
        if let Some(o) = self.slots.iter().find(|s| base < s.end && s.base < end) {
            return Err(MmioError::Overlap {
                name: device.name().to_string(),
                base,
                len,
                other: o.device.name().to_string(),
                other_base: o.base,
                other_len: o.end - o.base,
            });
        }
        let at = self.slots.partition_point(|s| s.base < base);
        self.slots.insert(at, Slot { base, end, device });
        Ok(())
    }

    /// Unmap the range that starts at `base`; its device.
    pub fn remove(&mut self, base: u64) -> Option<Box<dyn MmioDevice>> {
        let i = self.slots.iter().position(|s| s.base == base)?;
        Some(self.slots.remove(i).device)
    }

    /// Does any range touch `start..end`?
    pub fn claims_any(&self, start: u64, end: u64) -> bool {
        self.slots.iter().any(|s| start < s.end && s.base < end)
    }

    /// Who answers at `addr`, and for how many bytes.
    pub(crate) fn claim(&mut self, addr: u64) -> Claim<'_> {
        let i = self.slots.partition_point(|s| s.base <= addr);
        if let Some(s) = i.checked_sub(1).map(|k| &self.slots[k]) {
            if addr < s.end {
                let s = &mut self.slots[i - 1];
                return Claim::Device {
                    offset: addr - s.base,
                    len: s.end - addr,
                    device: s.device.as_mut(),
                };
            }
        }
        let next = self.slots.get(i).map_or(u64::MAX, |s| s.base);
        Claim::Memory {
            len: (next - addr).max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    type Log = Arc<Mutex<Vec<(char, u64, Vec<u8>)>>>;

    /// Records accesses; a read returns offset + i for byte i.
    struct Probe {
        name: &'static str,
        log: Log,
    }

    impl MmioDevice for Probe {
        fn name(&self) -> &str {
            self.name
        }
        fn read(&mut self, offset: u64, data: &mut [u8]) {
            for (i, b) in data.iter_mut().enumerate() {
                *b = (offset as u8).wrapping_add(i as u8);
            }
            self.log.lock().unwrap().push(('r', offset, data.to_vec()));
        }
        fn write(&mut self, offset: u64, data: &[u8]) {
            self.log.lock().unwrap().push(('w', offset, data.to_vec()));
        }
    }

    fn probe(name: &'static str) -> (Box<Probe>, Log) {
        let log = Arc::new(Mutex::new(Vec::new()));
        (
            Box::new(Probe {
                name,
                log: log.clone(),
            }),
            log,
        )
    }

    #[test]
    fn claims_route_by_range() {
        let mut bus = MmioBus::new();
        bus.insert(0xfee0_0000, 0x1000, probe("apic").0).unwrap();
        bus.insert(0xfed0_0000, 0x400, probe("hpet").0).unwrap();
        match bus.claim(0xfee0_0020) {
            Claim::Device {
                device,
                offset,
                len,
            } => {
                assert_eq!(device.name(), "apic");
                assert_eq!((offset, len), (0x20, 0xfe0));
            }
            Claim::Memory { .. } => panic!("apic not found"),
        }
        assert!(matches!(bus.claim(0xfed0_0400), Claim::Memory { len } if len == 0xf_fc00));
        assert!(
            matches!(bus.claim(0xfee0_1000), Claim::Memory { len } if len == u64::MAX - 0xfee0_1000)
        );
        assert!(matches!(bus.claim(0), Claim::Memory { len } if len == 0xfed0_0000));
        assert!(bus.claims_any(0xfed0_0000, 0xfed0_1000));
        assert!(bus.claims_any(0xfee0_0fff, 0xfee0_1000));
        assert!(!bus.claims_any(0xfee0_1000, 0xfee0_2000));
        assert!(!bus.claims_any(0xfecf_f000, 0xfed0_0000));
    }

    #[test]
    fn rejects_overlaps_and_bad_ranges() {
        let mut bus = MmioBus::new();
        bus.insert(0x1000, 0x100, probe("a").0).unwrap();
        for (base, len) in [(0x1000, 1), (0xfff, 2), (0x10ff, 1), (0x800, 0x1000)] {
            let e = bus.insert(base, len, probe("x").0).unwrap_err();
            assert!(matches!(e, MmioError::Overlap { .. }), "{base:#x}+{len:#x}");
            assert!(e.to_string().contains(" a "), "{e}");
        }
        bus.insert(0x1100, 1, probe("after").0).unwrap();
        bus.insert(0xfff, 1, probe("before").0).unwrap();
        assert!(matches!(
            bus.insert(0x2000, 0, probe("x").0),
            Err(MmioError::BadRange { .. })
        ));
        assert!(matches!(
            bus.insert(u64::MAX, 2, probe("x").0),
            Err(MmioError::BadRange { .. })
        ));
    }
}

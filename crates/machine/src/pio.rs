//! The port I/O bus: port ranges mapped to devices (after Firecracker's
//! `bus.rs`). Ranges never overlap; an access goes to the device whose range
//! holds its first port, with the offset of that port in the range. Ports
//! nothing claims read as all-ones (masked to the access size) and ignore
//! writes, as on a PC's ISA bus.

use std::fmt;
use thiserror::Error;

/// A device on the port I/O bus. `offset` is relative to the base of the
/// range the device was inserted at; `size` is 1, 2 or 4 bytes. Values are
/// zero-extended; a device returns only the low `size` bytes (the bus masks).
pub trait PortDevice: Send {
    /// A short name for diagnostics.
    fn name(&self) -> &str;
    fn read(&mut self, offset: u16, size: u32) -> u32;
    fn write(&mut self, offset: u16, size: u32, value: u32);
    /// Push buffered output to its sink (at the end of a run).
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum PioError {
    #[error("port range {base:#x}+{len} of {name} is empty or wraps past 0xffff")]
    BadRange { name: String, base: u16, len: u32 },
    #[error(
        "port range {base:#x}+{len} of {name} overlaps {other} at {other_base:#x}+{other_len}"
    )]
    Overlap {
        name: String,
        base: u16,
        len: u32,
        other: String,
        other_base: u16,
        other_len: u32,
    },
}

struct Slot {
    base: u16,
    /// Number of ports, 1..=0x10000.
    len: u32,
    device: Box<dyn PortDevice>,
}

impl Slot {
    fn end(&self) -> u32 {
        u32::from(self.base) + self.len
    }
}

/// Port ranges → devices, sorted by base.
#[derive(Default)]
pub struct PortBus {
    slots: Vec<Slot>,
}

impl fmt::Debug for PortBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut l = f.debug_list();
        for s in &self.slots {
            l.entry(&format_args!(
                "{:#x}..{:#x} {}",
                s.base,
                s.end(),
                s.device.name()
            ));
        }
        l.finish()
    }
}

fn mask(size: u32) -> u32 {
    match size {
        1 => 0xff,
        2 => 0xffff,
        _ => 0xffff_ffff,
    }
}

/// A read of `size` bytes at `offset` of an 8-bit device with `len`
/// ports, split as the ISA bus splits it: byte `i` from port `offset + i`
/// (`read(port offset)`), all-ones past the device's last port.
pub fn read_bytes(offset: u16, size: u32, len: u16, mut read: impl FnMut(u16) -> u8) -> u32 {
    (0..size.min(4) as u16).fold(0u32, |v, i| {
        let byte = match offset.checked_add(i).filter(|&o| o < len) {
            Some(o) => read(o),
            None => 0xff,
        };
        v | u32::from(byte) << (8 * i)
    })
}

/// A write of the `size` low bytes of `value` at `offset`, split as
/// `read_bytes` splits a read; bytes past the last port go nowhere.
pub fn write_bytes(offset: u16, size: u32, len: u16, value: u32, mut write: impl FnMut(u16, u8)) {
    for i in 0..size.min(4) as u16 {
        if let Some(o) = offset.checked_add(i).filter(|&o| o < len) {
            write(o, (value >> (8 * i)) as u8);
        }
    }
}

impl PortBus {
    pub fn new() -> PortBus {
        PortBus::default()
    }

    /// Map `device` at ports `base..base + len`.
    pub fn insert(
        &mut self,
        base: u16,
        len: u32,
        device: Box<dyn PortDevice>,
    ) -> Result<(), PioError> {
        let end = u32::from(base) + len;
        if len == 0 || end > 0x1_0000 {
            return Err(PioError::BadRange {
                name: device.name().to_string(),
                base,
                len,
            });
        }
        if let Some(o) = self
            .slots
            .iter()
            .find(|s| u32::from(base) < s.end() && u32::from(s.base) < end)
        {
            return Err(PioError::Overlap {
                name: device.name().to_string(),
                base,
                len,
                other: o.device.name().to_string(),
                other_base: o.base,
                other_len: o.len,
            });
        }
        let at = self.slots.partition_point(|s| s.base < base);
        self.slots.insert(at, Slot { base, len, device });
        Ok(())
    }

    fn slot(&mut self, port: u16) -> Option<&mut Slot> {
        let i = self.slots.partition_point(|s| s.base <= port);
        let s = self.slots.get_mut(i.checked_sub(1)?)?;
        (u32::from(port) < s.end()).then_some(s)
    }

    /// Port input of `size` bytes.
    pub fn read(&mut self, port: u16, size: u32) -> u32 {
        match self.slot(port) {
            Some(s) => s.device.read(port - s.base, size) & mask(size),
            None => mask(size),
        }
    }

    /// Port output of `size` bytes.
    pub fn write(&mut self, port: u16, size: u32, value: u32) {
        if let Some(s) = self.slot(port) {
            s.device.write(port - s.base, size, value & mask(size));
        }
    }

    /// Flush every device's output; returns the first error.
    pub fn flush(&mut self) -> std::io::Result<()> {
        let mut first = Ok(());
        for s in &mut self.slots {
            let r = s.device.flush();
            if first.is_ok() {
                first = r;
            }
        }
        first
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// (direction, offset, size, value) of each access.
    type Log = Arc<Mutex<Vec<(char, u16, u32, u32)>>>;

    /// Records accesses; reads return 0x12345678 + offset.
    struct Probe {
        name: &'static str,
        log: Log,
    }

    impl PortDevice for Probe {
        fn name(&self) -> &str {
            self.name
        }
        fn read(&mut self, offset: u16, size: u32) -> u32 {
            self.log.lock().unwrap().push(('r', offset, size, 0));
            0x1234_5678 + u32::from(offset)
        }
        fn write(&mut self, offset: u16, size: u32, value: u32) {
            self.log.lock().unwrap().push(('w', offset, size, value));
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
    fn routes_and_masks() {
        let mut bus = PortBus::new();
        let (a, alog) = probe("a");
        let (b, blog) = probe("b");
        bus.insert(0x3f8, 8, a).unwrap();
        bus.insert(0x80, 1, b).unwrap();
        assert_eq!(bus.read(0x3f8, 1), 0x78);
        assert_eq!(bus.read(0x3fa, 2), 0x567a);
        assert_eq!(bus.read(0x3ff, 4), 0x1234_567f);
        bus.write(0x3f9, 2, 0xabcd);
        bus.write(0x80, 1, 0x42);
        assert_eq!(
            *alog.lock().unwrap(),
            vec![
                ('r', 0, 1, 0),
                ('r', 2, 2, 0),
                ('r', 7, 4, 0),
                ('w', 1, 2, 0xabcd)
            ]
        );
        assert_eq!(*blog.lock().unwrap(), vec![('w', 0, 1, 0x42)]);
        // Unclaimed: all-ones, writes ignored.
        assert_eq!(bus.read(0x400, 1), 0xff);
        assert_eq!(bus.read(0x3f7, 2), 0xffff);
        assert_eq!(bus.read(0x81, 4), 0xffff_ffff);
        assert_eq!(bus.read(0, 1), 0xff);
        assert_eq!(bus.read(0xffff, 1), 0xff);
        bus.write(0x81, 1, 0);
        assert_eq!(blog.lock().unwrap().len(), 1);
    }

    /// A wide access to an 8-bit device: consecutive ports, all-ones past
    /// its last one, and nothing written there.
    #[test]
    fn byte_splitting_of_wide_accesses() {
        let regs = [0x11u8, 0x22];
        assert_eq!(read_bytes(0, 2, 2, |o| regs[usize::from(o)]), 0x2211);
        assert_eq!(read_bytes(1, 4, 2, |o| regs[usize::from(o)]), 0xffff_ff22);
        let mut got = Vec::new();
        write_bytes(1, 2, 2, 0xbbaa, |o, b| got.push((o, b)));
        assert_eq!(got, vec![(1, 0xaa)]);
    }

    #[test]
    fn rejects_overlaps_and_bad_ranges() {
        let mut bus = PortBus::new();
        bus.insert(0x60, 4, probe("kbd").0).unwrap();
        for (base, len) in [(0x60, 1), (0x5f, 2), (0x63, 1), (0x50, 0x20), (0x61, 1)] {
            let e = bus.insert(base, len, probe("x").0).unwrap_err();
            assert!(matches!(e, PioError::Overlap { .. }), "{base:#x}+{len}");
            assert!(e.to_string().contains("kbd"));
        }
        bus.insert(0x5f, 1, probe("below").0).unwrap();
        bus.insert(0x64, 1, probe("above").0).unwrap();
        assert!(matches!(
            bus.insert(0x100, 0, probe("x").0),
            Err(PioError::BadRange { .. })
        ));
        assert!(matches!(
            bus.insert(0xffff, 2, probe("x").0),
            Err(PioError::BadRange { .. })
        ));
        bus.insert(0xffff, 1, probe("top").0).unwrap();
        assert_eq!(bus.read(0xffff, 1), 0x78);
    }
}

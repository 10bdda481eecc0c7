//! The guest's physical memory as the loaders see it, and the bookkeeping
//! that keeps what they place inside usable RAM and apart.
//!
//! The memory map is the one a PC BIOS reports through INT 15h, E820h
//! (ACPI 6.5 §15, "System Address Map Interfaces"), here for the machine
//! xlat builds: RAM from physical 0 up to the RAM size (below 4 GiB), of
//! which 0x9FC00..0x100000 is not usable (the extended BIOS data area's
//! last KiB, the VGA window and the BIOS ROM area, as QEMU's `pc` with
//! SeaBIOS reports it), and the caller's ACPI tables, which are reported as
//! ACPI reclaimable memory (type 3) where they lie in RAM. The Linux
//! loaders put this map into `boot_params.e820_table`, the Multiboot loader
//! into its `mmap` buffer.

use std::ops::Range;
use thiserror::Error;

/// Start of the area below 1 MiB that is not usable RAM: the last KiB of
/// conventional memory (the EBDA on a PC), then the VGA window and the
/// BIOS ROM area up to 1 MiB.
pub const LOW_RESERVED_START: u64 = 0x9_fc00;
/// End of that area: 1 MiB, where "high" (extended) memory starts.
pub const HIGH_MEMORY_START: u64 = 0x10_0000;
/// RAM the loaders accept at most: everything they place must be reachable
/// with 32-bit physical addresses (the boot protocols' fields are 32-bit).
pub const MAX_RAM: u64 = 1 << 32;

/// Address range types of the E820 map (ACPI 6.5 Table 15.312); the
/// Multiboot `mmap` uses the same numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum E820Kind {
    /// AddressRangeMemory: usable RAM.
    Ram = 1,
    /// AddressRangeReserved: not for the OS.
    Reserved = 2,
    /// AddressRangeACPI: the ACPI tables; reclaimable once read.
    Acpi = 3,
}

/// One entry of the memory map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct E820Entry {
    pub addr: u64,
    pub size: u64,
    pub kind: E820Kind,
}

impl E820Entry {
    pub fn end(&self) -> u64 {
        self.addr + self.size
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LayoutError {
    #[error("guest RAM of {0:#x} bytes is too small to boot a kernel (more than 1 MiB is needed)")]
    RamTooSmall(u64),
    #[error("guest RAM of {0:#x} bytes is more than the 4 GiB the boot loaders address")]
    RamTooLarge(u64),
    #[error("the ACPI tables' range {start:#x}..{end:#x} is empty or not inside guest RAM (RAM ends at {ram_end:#x})")]
    BadAcpiRange { start: u64, end: u64, ram_end: u64 },
    #[error("{what} ({len:#x} bytes at {start:#x}) does not fit in usable guest RAM (RAM ends at {ram_end:#x}; 0x9fc00..0x100000 and the ACPI tables are reserved)")]
    OutsideRam {
        what: String,
        start: u64,
        len: u64,
        ram_end: u64,
    },
    #[error("{what} ({start:#x}..{end:#x}) overlaps {other} ({other_start:#x}..{other_end:#x})")]
    Overlap {
        what: String,
        start: u64,
        end: u64,
        other: String,
        other_start: u64,
        other_end: u64,
    },
    #[error("no room for {what} ({len:#x} bytes) in guest RAM below {limit:#x} and above 1 MiB, apart from what is already placed")]
    NoRoom { what: String, len: u64, limit: u64 },
}

/// The machine's RAM size and where its ACPI tables are: the parameters of
/// every loader.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemoryLayout {
    ram_size: u64,
    acpi_tables: Option<Range<u64>>,
}

impl MemoryLayout {
    /// `ram_size`: bytes of RAM from physical 0 (more than 1 MiB, at most
    /// 4 GiB). `acpi_tables`: the range the ACPI builder fills, which must
    /// lie in RAM; `None` when the machine has none.
    pub fn new(ram_size: u64, acpi_tables: Option<Range<u64>>) -> Result<Self, LayoutError> {
        if ram_size <= HIGH_MEMORY_START {
            return Err(LayoutError::RamTooSmall(ram_size));
        }
        if ram_size > MAX_RAM {
            return Err(LayoutError::RamTooLarge(ram_size));
        }
        if let Some(r) = &acpi_tables {
            if r.start >= r.end || r.end > ram_size {
                return Err(LayoutError::BadAcpiRange {
                    start: r.start,
                    end: r.end,
                    ram_end: ram_size,
                });
            }
        }
        Ok(MemoryLayout {
            ram_size,
            acpi_tables,
        })
    }

    pub fn ram_size(&self) -> u64 {
        self.ram_size
    }

    /// The memory map, sorted, without gaps from 0 to the end of RAM, with
    /// neighbours of the same kind merged.
    pub fn e820(&self) -> Vec<E820Entry> {
        let base = [
            (0, LOW_RESERVED_START, E820Kind::Ram),
            (LOW_RESERVED_START, HIGH_MEMORY_START, E820Kind::Reserved),
            (HIGH_MEMORY_START, self.ram_size, E820Kind::Ram),
        ];
        let mut pieces: Vec<(u64, u64, E820Kind)> = Vec::new();
        for (start, end, kind) in base {
            let Some(acpi) = &self.acpi_tables else {
                pieces.push((start, end, kind));
                continue;
            };
            // Split [start, end) at the ACPI range: the part inside it is
            // ACPI memory where it was RAM (reserved stays reserved).
            let cut_start = acpi.start.clamp(start, end);
            let cut_end = acpi.end.clamp(start, end);
            let inside = if kind == E820Kind::Ram {
                E820Kind::Acpi
            } else {
                kind
            };
            pieces.push((start, cut_start, kind));
            pieces.push((cut_start, cut_end, inside));
            pieces.push((cut_end, end, kind));
        }
        let mut map: Vec<E820Entry> = Vec::new();
        for (start, end, kind) in pieces {
            if start >= end {
                continue;
            }
            match map.last_mut() {
                Some(last) if last.kind == kind && last.end() == start => last.size += end - start,
                _ => map.push(E820Entry {
                    addr: start,
                    size: end - start,
                    kind,
                }),
            }
        }
        map
    }
}

/// What the loaders have placed so far: every new range must lie inside one
/// usable-RAM entry of the map and overlap nothing placed before.
#[derive(Debug)]
pub(crate) struct Placer {
    ram_size: u64,
    map: Vec<E820Entry>,
    taken: Vec<(Range<u64>, String)>,
}

impl Placer {
    pub(crate) fn new(layout: &MemoryLayout) -> Placer {
        Placer {
            ram_size: layout.ram_size,
            map: layout.e820(),
            taken: Vec::new(),
        }
    }

    /// Reserves `len` bytes at `start` for `what`.
    pub(crate) fn claim(&mut self, what: &str, start: u64, len: u64) -> Result<(), LayoutError> {
        let outside = || LayoutError::OutsideRam {
            what: what.to_string(),
            start,
            len,
            ram_end: self.ram_size,
        };
        let end = start.checked_add(len).ok_or_else(outside)?;
        if len == 0 {
            return Ok(());
        }
        let in_ram = self
            .map
            .iter()
            .any(|e| e.kind == E820Kind::Ram && e.addr <= start && end <= e.end());
        if !in_ram {
            return Err(outside());
        }
        if let Some((other, name)) = self
            .taken
            .iter()
            .find(|(r, _)| r.start < end && start < r.end)
        {
            return Err(LayoutError::Overlap {
                what: what.to_string(),
                start,
                end,
                other: name.clone(),
                other_start: other.start,
                other_end: other.end,
            });
        }
        self.taken.push((start..end, what.to_string()));
        Ok(())
    }

    /// Reserves `len` bytes for `what` as high as possible: the highest
    /// start aligned to `align` (a power of two) with the range ending at
    /// or below `limit`, at or above 1 MiB, in usable RAM and clear of
    /// everything placed. Returns the start.
    pub(crate) fn place_high(
        &mut self,
        what: &str,
        len: u64,
        limit: u64,
        align: u64,
    ) -> Result<u64, LayoutError> {
        debug_assert!(align.is_power_of_two());
        let no_room = || LayoutError::NoRoom {
            what: what.to_string(),
            len,
            limit,
        };
        let limit = limit.min(self.ram_size);
        let mut start = limit.checked_sub(len).ok_or_else(no_room)? & !(align - 1);
        // Every obstacle moves the candidate below its start, so this loop
        // ends: each pass either succeeds or lowers `start`.
        loop {
            if start < HIGH_MEMORY_START {
                return Err(no_room());
            }
            let end = start + len;
            let obstacle = self
                .map
                .iter()
                .filter(|e| e.kind != E820Kind::Ram)
                .map(|e| e.addr..e.end())
                .chain(self.taken.iter().map(|(r, _)| r.clone()))
                .filter(|r| r.start < end && start < r.end)
                .map(|r| r.start)
                .min();
            match obstacle {
                None => break,
                Some(obstacle_start) => {
                    start = obstacle_start.checked_sub(len).ok_or_else(no_room)? & !(align - 1);
                }
            }
        }
        self.claim(what, start, len)?;
        Ok(start)
    }

    /// The first address at or above `from` aligned to `align` (a power of
    /// two) where `len` bytes fit in usable RAM clear of everything placed,
    /// reserved for `what`.
    pub(crate) fn place_low(
        &mut self,
        what: &str,
        len: u64,
        from: u64,
        align: u64,
    ) -> Result<u64, LayoutError> {
        debug_assert!(align.is_power_of_two());
        let no_room = || LayoutError::NoRoom {
            what: what.to_string(),
            len,
            limit: self.ram_size,
        };
        let align_up = |a: u64| a.checked_add(align - 1).map(|a| a & !(align - 1));
        let mut start = align_up(from.max(HIGH_MEMORY_START)).ok_or_else(no_room)?;
        loop {
            let end = start.checked_add(len).ok_or_else(no_room)?;
            if end > self.ram_size {
                return Err(no_room());
            }
            let obstacle = self
                .map
                .iter()
                .filter(|e| e.kind != E820Kind::Ram)
                .map(|e| e.addr..e.end())
                .chain(self.taken.iter().map(|(r, _)| r.clone()))
                .filter(|r| r.start < end && start < r.end)
                .map(|r| r.end)
                .max();
            match obstacle {
                None => break,
                Some(obstacle_end) => start = align_up(obstacle_end).ok_or_else(no_room)?,
            }
        }
        self.claim(what, start, len)?;
        Ok(start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e820_without_acpi() {
        let map = MemoryLayout::new(128 << 20, None).unwrap().e820();
        assert_eq!(
            map,
            vec![
                E820Entry {
                    addr: 0,
                    size: 0x9fc00,
                    kind: E820Kind::Ram
                },
                E820Entry {
                    addr: 0x9fc00,
                    size: 0x60400,
                    kind: E820Kind::Reserved
                },
                E820Entry {
                    addr: 0x100000,
                    size: (128 << 20) - 0x100000,
                    kind: E820Kind::Ram
                },
            ]
        );
    }

    #[test]
    fn acpi_tables_in_the_bios_area_stay_reserved() {
        let map = MemoryLayout::new(64 << 20, Some(0xe0000..0xf0000))
            .unwrap()
            .e820();
        assert_eq!(map.len(), 3);
        assert_eq!(
            map[1],
            E820Entry {
                addr: 0x9fc00,
                size: 0x60400,
                kind: E820Kind::Reserved
            }
        );
    }

    #[test]
    fn acpi_tables_in_high_ram_are_carved_out() {
        let ram = 64 << 20;
        let map = MemoryLayout::new(ram, Some(ram - 0x20000..ram))
            .unwrap()
            .e820();
        assert_eq!(
            map[2],
            E820Entry {
                addr: 0x100000,
                size: ram - 0x20000 - 0x100000,
                kind: E820Kind::Ram
            }
        );
        assert_eq!(
            map[3],
            E820Entry {
                addr: ram - 0x20000,
                size: 0x20000,
                kind: E820Kind::Acpi
            }
        );
        assert_eq!(map.len(), 4);
        // Across the 1 MiB line: the reserved part stays reserved.
        let map = MemoryLayout::new(ram, Some(0xf0000..0x110000))
            .unwrap()
            .e820();
        assert_eq!(
            map[1],
            E820Entry {
                addr: 0x9fc00,
                size: 0x60400,
                kind: E820Kind::Reserved
            }
        );
        assert_eq!(
            map[2],
            E820Entry {
                addr: 0x100000,
                size: 0x10000,
                kind: E820Kind::Acpi
            }
        );
        assert_eq!(map[3].addr, 0x110000);
    }

    #[test]
    fn bad_layouts() {
        assert_eq!(
            MemoryLayout::new(1 << 20, None),
            Err(LayoutError::RamTooSmall(1 << 20))
        );
        assert_eq!(
            MemoryLayout::new((4 << 30) + 4096, None),
            Err(LayoutError::RamTooLarge((4 << 30) + 4096))
        );
        assert!(matches!(
            MemoryLayout::new(16 << 20, Some(0x100..0x100)),
            Err(LayoutError::BadAcpiRange { .. })
        ));
        assert!(matches!(
            MemoryLayout::new(16 << 20, Some(0xfff000..0x1001000)),
            Err(LayoutError::BadAcpiRange { .. })
        ));
    }

    #[test]
    fn placer_checks_ram_and_overlaps() {
        let layout = MemoryLayout::new(16 << 20, Some(0x800000..0x810000)).unwrap();
        let mut p = Placer::new(&layout);
        p.claim("a", 0x100000, 0x1000).unwrap();
        assert!(matches!(
            p.claim("b", 0x100800, 0x1000),
            Err(LayoutError::Overlap { .. })
        ));
        assert!(matches!(
            p.claim("c", 0x9f000, 0x1000),
            Err(LayoutError::OutsideRam { .. })
        ));
        assert!(matches!(
            p.claim("d", 0x80f000, 0x2000),
            Err(LayoutError::OutsideRam { .. })
        ));
        assert!(matches!(
            p.claim("e", 0xfff000, 0x2000),
            Err(LayoutError::OutsideRam { .. })
        ));
        assert!(matches!(
            p.claim("f", u64::MAX - 1, 4),
            Err(LayoutError::OutsideRam { .. })
        ));
        // Highest fit below the limit, then below the ACPI carve-out.
        assert_eq!(p.place_high("g", 0x7ef000, 16 << 20, 0x1000), Ok(0x811000));
        assert_eq!(p.place_high("h", 0x2000, 16 << 20, 0x1000), Ok(0x7fe000));
        assert!(matches!(
            p.place_high("i", 0x800000, 16 << 20, 0x1000),
            Err(LayoutError::NoRoom { .. })
        ));
        assert_eq!(p.place_low("j", 0x1000, 0, 0x1000), Ok(0x101000));
    }
}

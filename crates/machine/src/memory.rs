//! The physical address space: guest RAM, the BIOS ROM and its legacy alias
//! below 1 MiB.
//!
//! Layout (a PC with no chipset programming):
//!
//! * RAM covers physical `0..size`, one `guestmem::GuardedRegion`;
//! * the BIOS image ends at physical `0xFFFF_FFFF`;
//! * the last 128 KiB of the BIOS image (the whole image if smaller) is
//!   aliased so that it ends at `0xF_FFFF` (`0xE0000..=0xFFFFF` for a
//!   128 KiB image, `0xF0000..=0xFFFFF` for 64 KiB). Where the alias
//!   overlaps RAM, the BIOS wins.
//!
//! ROM is read-only: writes to it are ignored. Addresses nothing claims read
//! as all-ones and ignore writes.
//!
//! RAM and the BIOS image each sit between two inaccessible guard regions
//! (`guestmem`), and the image's mapping is read-only, so every host
//! address [`PhysMemory::host_page`] hands out lies inside a guarded
//! reservation.

use guestmem::{GuardedRegion, GuestMemError, ReadOnlyRegion};
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
use thiserror::Error;

/// Largest guest RAM accepted for now: RAM must stay below the 32-bit
/// device/ROM hole (no RAM remapping above 4 GiB yet).
pub const MAX_RAM: u64 = 0xE000_0000; // 3.5 GiB
/// Guest RAM granularity.
pub const RAM_ALIGN: u64 = 4096;
/// BIOS images are a multiple of this size.
pub const BIOS_ALIGN: u64 = 2048;
/// Largest BIOS image accepted.
pub const MAX_BIOS: u64 = 16 << 20;
/// Size of the legacy BIOS window below 1 MiB (at most).
pub const BIOS_ALIAS_MAX: u64 = 128 << 10;
/// End (exclusive) of the legacy BIOS window.
pub const BIOS_ALIAS_END: u64 = 0x10_0000;
/// End (exclusive) of the 32-bit physical address space, where the BIOS ends.
pub const BIOS_END: u64 = 0x1_0000_0000;

#[derive(Debug, Error)]
pub enum MemoryError {
    #[error("invalid memory size {text:?}: {why}")]
    BadSize { text: String, why: &'static str },
    #[error("cannot allocate {size} bytes of guest RAM: {source}")]
    Alloc {
        size: u64,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read BIOS image {}: {source}", path.display())]
    BiosRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "BIOS image {name} is {size} bytes: the size must be a multiple of 2 KiB \
         between 2 KiB and 16 MiB"
    )]
    BiosSize { name: String, size: u64 },
    /// A stream (a device, a FIFO) that went on past [`MAX_BIOS`] bytes:
    /// reading stopped there.
    #[error(
        "BIOS image {name} is more than {MAX_BIOS} bytes: the size must be a multiple \
         of 2 KiB between 2 KiB and 16 MiB"
    )]
    BiosTooLong { name: String },
}

/// A guest RAM size in bytes: a non-zero multiple of 4 KiB, at most 3.5 GiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MemorySize(u64);

impl MemorySize {
    /// The default, 128 MiB (QEMU's default too).
    pub const DEFAULT: MemorySize = MemorySize(128 << 20);

    /// A size in bytes, checked.
    pub fn new(bytes: u64) -> Result<MemorySize, &'static str> {
        if bytes == 0 {
            Err("the size must not be zero")
        } else if bytes % RAM_ALIGN != 0 {
            Err("the size must be a multiple of 4 KiB")
        } else if bytes > MAX_RAM {
            Err("sizes above 3.5 GiB are not supported yet")
        } else {
            Ok(MemorySize(bytes))
        }
    }

    /// Parse `SIZE` as `-m` takes it: a decimal number with an optional
    /// suffix K, M or G (powers of 1024, either case, optionally followed by
    /// `B` or `iB`). A plain number means MiB, as in QEMU's `-m`.
    pub fn parse(text: &str) -> Result<MemorySize, MemoryError> {
        let bad = |why| MemoryError::BadSize {
            text: text.to_string(),
            why,
        };
        let bytes = parse_size(text).map_err(|why| match why {
            SIZE_OVERFLOW => bad("sizes above 3.5 GiB are not supported yet"),
            why => bad(why),
        })?;
        MemorySize::new(bytes).map_err(bad)
    }

    pub fn bytes(self) -> u64 {
        self.0
    }
}

impl Default for MemorySize {
    fn default() -> Self {
        MemorySize::DEFAULT
    }
}

impl fmt::Display for MemorySize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        if b % (1 << 30) == 0 {
            write!(f, "{}G", b >> 30)
        } else if b % (1 << 20) == 0 {
            write!(f, "{}M", b >> 20)
        } else {
            write!(f, "{}K", b >> 10)
        }
    }
}

const SIZE_OVERFLOW: &str = "number too large";

/// A byte count as `-m` (and `--tcache-size`) take it: a decimal number
/// with an optional suffix K, M or G (powers of 1024, either case,
/// optionally followed by `B` or `iB`); a plain number means MiB, as in
/// QEMU's `-m`. Errors say why, for a message.
pub fn parse_size(text: &str) -> Result<u64, &'static str> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(digits_end);
    if num.is_empty() {
        return Err("expected a number with an optional K, M or G suffix");
    }
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "m" | "mb" | "mib" => 20,
        "k" | "kb" | "kib" => 10,
        "g" | "gb" | "gib" => 30,
        _ => return Err("unknown suffix (use K, M or G)"),
    };
    let n: u64 = num.parse().map_err(|_| SIZE_OVERFLOW)?;
    n.checked_mul(1 << shift).ok_or(SIZE_OVERFLOW)
}

impl std::str::FromStr for MemorySize {
    type Err = MemoryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MemorySize::parse(s)
    }
}

/// A BIOS image, held in a read-only guarded mapping.
pub struct Bios {
    rom: ReadOnlyRegion,
}

impl fmt::Debug for Bios {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Bios")
            .field("len", &self.rom.len())
            .finish()
    }
}

impl Bios {
    /// Check and copy an image. `name` is used in the error message.
    pub fn from_bytes(name: &str, image: &[u8]) -> Result<Bios, MemoryError> {
        let size = image.len() as u64;
        if size == 0 || size % BIOS_ALIGN != 0 || size > MAX_BIOS {
            return Err(MemoryError::BiosSize {
                name: name.to_string(),
                size,
            });
        }
        let alloc = |e: GuestMemError| MemoryError::Alloc {
            size,
            source: e.into(),
        };
        let mut m = GuardedRegion::new(image.len()).map_err(alloc)?;
        m.copy_from_slice(image);
        let rom = m.make_read_only().map_err(alloc)?;
        Ok(Bios { rom })
    }

    /// Read and check an image file. At most [`MAX_BIOS`]` + 1` bytes are
    /// read, so an endless stream (`/dev/zero`, a FIFO) or a huge file is
    /// refused at once; a regular file's size is checked before reading.
    pub fn load(path: &Path) -> Result<Bios, MemoryError> {
        let read_error = |source| MemoryError::BiosRead {
            path: path.to_path_buf(),
            source,
        };
        let name = path.display().to_string();
        let file = std::fs::File::open(path).map_err(read_error)?;
        let meta = file.metadata().map_err(read_error)?;
        if meta.is_file() && meta.len() > MAX_BIOS {
            return Err(MemoryError::BiosSize {
                name,
                size: meta.len(),
            });
        }
        let mut image = Vec::new();
        if meta.is_file() {
            image.reserve_exact(meta.len() as usize);
        }
        file.take(MAX_BIOS + 1)
            .read_to_end(&mut image)
            .map_err(read_error)?;
        if image.len() as u64 > MAX_BIOS {
            return Err(MemoryError::BiosTooLong { name });
        }
        Bios::from_bytes(&name, &image)
    }

    pub fn len(&self) -> u64 {
        self.rom.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.rom.is_empty()
    }

    pub fn bytes(&self) -> &[u8] {
        &self.rom
    }
}

/// What a region of the physical address space is backed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Backing {
    /// RAM at this offset of the RAM mapping.
    Ram(u64),
    /// ROM at this offset of the BIOS image.
    Rom(u64),
}

/// One contiguous, non-overlapping piece of the physical address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Region {
    start: u64,
    /// Exclusive.
    end: u64,
    backing: Backing,
}

/// Where a physical address leads.
enum Target {
    /// `len` bytes of RAM starting at this offset of the mapping.
    Ram { offset: usize, len: usize },
    /// `len` bytes of ROM starting at this offset of the image.
    Rom { offset: usize, len: usize },
    /// Nothing for `len` bytes (`u64::MAX`-ish if nothing follows).
    Unclaimed { len: u64 },
}

/// The physical address space: RAM and ROM regions, sorted and disjoint.
pub struct PhysMemory {
    ram: GuardedRegion,
    bios: Bios,
    regions: Vec<Region>,
}

impl fmt::Debug for PhysMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PhysMemory")
            .field("ram_len", &self.ram.len())
            .field("bios", &self.bios)
            .field("regions", &self.regions)
            .finish()
    }
}

impl PhysMemory {
    /// Allocate `ram` bytes of zeroed RAM and map `bios`.
    pub fn new(ram: MemorySize, bios: Bios) -> Result<PhysMemory, MemoryError> {
        let size = ram.bytes();
        let len = usize::try_from(size).map_err(|_| MemoryError::BadSize {
            text: ram.to_string(),
            why: "larger than the host address space",
        })?;
        let ram_map = GuardedRegion::new(len).map_err(|e| MemoryError::Alloc {
            size,
            source: e.into(),
        })?;
        let regions = layout(size, bios.len());
        Ok(PhysMemory {
            ram: ram_map,
            bios,
            regions,
        })
    }

    /// Guest RAM, for loaders and tests.
    pub fn ram(&self) -> &[u8] {
        &self.ram
    }

    /// Guest RAM, for loaders and tests.
    pub fn ram_mut(&mut self) -> &mut [u8] {
        &mut self.ram
    }

    pub fn bios(&self) -> &Bios {
        &self.bios
    }

    fn target(&self, addr: u64) -> Target {
        let mut next = u64::MAX;
        for r in &self.regions {
            if addr < r.start {
                next = r.start;
                break;
            }
            if addr < r.end {
                let len = usize::try_from(r.end - addr).unwrap_or(usize::MAX);
                let within = addr - r.start;
                return match r.backing {
                    Backing::Ram(base) => Target::Ram {
                        offset: (base + within) as usize,
                        len,
                    },
                    Backing::Rom(base) => Target::Rom {
                        offset: (base + within) as usize,
                        len,
                    },
                };
            }
        }
        Target::Unclaimed {
            len: next.saturating_sub(addr).max(1),
        }
    }

    /// Host address of the 4 KiB page at physical `page` (aligned) when
    /// the whole page is RAM, or ROM and `write` is false (see
    /// `Bus::host_page`). ROM bytes must only be read through it.
    pub fn host_page(&mut self, page: u64, write: bool) -> Option<NonNull<u8>> {
        if page & 0xfff != 0 {
            return None;
        }
        match self.target(page) {
            Target::Ram { offset, len } if len >= 0x1000 => {
                let bytes = self.ram.get_mut(offset..offset.checked_add(0x1000)?)?;
                NonNull::new(bytes.as_mut_ptr())
            }
            Target::Rom { offset, len } if len >= 0x1000 && !write => {
                let bytes = self.bios.bytes().get(offset..offset.checked_add(0x1000)?)?;
                NonNull::new(bytes.as_ptr().cast_mut())
            }
            _ => None,
        }
    }

    /// Bytes of RAM (from physical 0).
    pub fn ram_size(&self) -> u64 {
        self.ram.len() as u64
    }

    /// Read `buf.len()` bytes at physical `addr`.
    pub fn read(&self, addr: u64, buf: &mut [u8]) {
        let mut done = 0usize;
        while done < buf.len() {
            let a = addr.wrapping_add(done as u64);
            let rest = &mut buf[done..];
            let n = match self.target(a) {
                Target::Ram { offset, len } => copy_out(&self.ram, offset, len, rest),
                Target::Rom { offset, len } => copy_out(self.bios.bytes(), offset, len, rest),
                Target::Unclaimed { len } => {
                    let n = clamp(len, rest.len());
                    rest[..n].fill(0xff);
                    n
                }
            };
            done += n;
        }
    }

    /// Write `data` at physical `addr`. ROM and unclaimed bytes ignore it.
    pub fn write(&mut self, addr: u64, data: &[u8]) {
        let mut done = 0usize;
        while done < data.len() {
            let a = addr.wrapping_add(done as u64);
            let rest = &data[done..];
            let n = match self.target(a) {
                Target::Ram { offset, len } => {
                    let n = len.min(rest.len());
                    if let Some(dst) = self.ram.get_mut(offset..offset + n) {
                        dst.copy_from_slice(&rest[..n]);
                    }
                    n
                }
                Target::Rom { len, .. } => len.min(rest.len()),
                Target::Unclaimed { len } => clamp(len, rest.len()),
            };
            done += n;
        }
    }
}

fn clamp(len: u64, max: usize) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX).min(max)
}

/// Copy up to `len` bytes of `src` at `offset` into `dst`; returns the count.
fn copy_out(src: &[u8], offset: usize, len: usize, dst: &mut [u8]) -> usize {
    let n = len.min(dst.len());
    match src.get(offset..offset + n) {
        Some(s) => dst[..n].copy_from_slice(s),
        None => dst[..n].fill(0xff),
    }
    n
}

/// The regions of a machine with `ram` bytes of RAM and a `bios`-byte image.
fn layout(ram: u64, bios: u64) -> Vec<Region> {
    let alias_len = bios.min(BIOS_ALIAS_MAX);
    let alias = Region {
        start: BIOS_ALIAS_END - alias_len,
        end: BIOS_ALIAS_END,
        backing: Backing::Rom(bios - alias_len),
    };
    let high = Region {
        start: BIOS_END - bios,
        end: BIOS_END,
        backing: Backing::Rom(0),
    };
    let mut regions = Vec::new();
    // RAM, carved around the ROM regions (which win where they overlap).
    let mut cursor = 0;
    for rom in [alias, high] {
        if cursor >= ram {
            break;
        }
        if rom.start > cursor {
            let end = rom.start.min(ram);
            regions.push(Region {
                start: cursor,
                end,
                backing: Backing::Ram(cursor),
            });
        }
        cursor = cursor.max(rom.end);
    }
    if cursor < ram {
        regions.push(Region {
            start: cursor,
            end: ram,
            backing: Backing::Ram(cursor),
        });
    }
    regions.push(alias);
    regions.push(high);
    regions.sort_by_key(|r| r.start);
    regions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i / 2048) as u8 ^ (i as u8)).collect()
    }

    fn mem(ram: u64, bios_len: usize) -> PhysMemory {
        let bios = Bios::from_bytes("test", &image(bios_len)).unwrap();
        PhysMemory::new(MemorySize::new(ram).unwrap(), bios).unwrap()
    }

    #[test]
    fn parse_sizes() {
        assert_eq!(MemorySize::parse("128M").unwrap().bytes(), 128 << 20);
        assert_eq!(MemorySize::parse("128").unwrap().bytes(), 128 << 20);
        assert_eq!(MemorySize::parse("64k").unwrap().bytes(), 64 << 10);
        assert_eq!(MemorySize::parse("1G").unwrap().bytes(), 1 << 30);
        assert_eq!(MemorySize::parse("3584M").unwrap().bytes(), 0xE000_0000);
        assert_eq!(MemorySize::parse("2MiB").unwrap().bytes(), 2 << 20);
        for bad in [
            "0",
            "0M",
            "6K",
            "4097K",
            "3585M",
            "4G",
            "",
            "M",
            "12X",
            "-1M",
            "99999999999999999999G",
        ] {
            assert!(MemorySize::parse(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(MemorySize::DEFAULT.to_string(), "128M");
    }

    #[test]
    fn bios_sizes() {
        assert!(Bios::from_bytes("x", &[]).is_err());
        assert!(Bios::from_bytes("x", &[0; 1024]).is_err());
        assert!(Bios::from_bytes("x", &[0; 3072]).is_err());
        assert!(Bios::from_bytes("x", &vec![0; (16 << 20) + 2048]).is_err());
        assert!(Bios::from_bytes("x", &[0; 2048]).is_ok());
        assert!(Bios::from_bytes("x", &vec![0; 16 << 20]).is_ok());
        let e = Bios::from_bytes("rom.bin", &[0; 100])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("rom.bin") && e.contains("100 bytes") && e.contains("2 KiB"),
            "{e}"
        );
    }

    /// `Bios::load` reads at most `MAX_BIOS + 1` bytes: an endless device
    /// is refused (this would exhaust memory if it read to the end), files
    /// are checked by size.
    #[test]
    fn bios_load_reads_a_bounded_amount() {
        let e = Bios::load(Path::new("/dev/zero")).unwrap_err();
        assert!(matches!(e, MemoryError::BiosTooLong { .. }), "{e}");
        assert!(e.to_string().contains("more than 16777216 bytes"), "{e}");

        let dir = std::env::temp_dir().join(format!("xlat-bios-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("rom.bin");
        std::fs::write(&p, vec![0x90; MAX_BIOS as usize]).unwrap();
        assert_eq!(Bios::load(&p).unwrap().len(), MAX_BIOS);
        std::fs::File::create(&p)
            .unwrap()
            .set_len(MAX_BIOS + 2048)
            .unwrap();
        let e = Bios::load(&p).unwrap_err().to_string();
        assert!(e.contains("is 16779264 bytes"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bios_at_top_and_alias_below_1m() {
        let img = image(64 << 10);
        let mut m = mem(1 << 20, 64 << 10);
        let mut b = [0u8; 16];
        m.read(0xffff_fff0, &mut b);
        assert_eq!(&b[..], &img[0xfff0..]);
        m.read(0xffff_0000, &mut b);
        assert_eq!(&b[..], &img[..16]);
        m.read(0xf_fff0, &mut b);
        assert_eq!(&b[..], &img[0xfff0..]);
        m.read(0xf_0000, &mut b);
        assert_eq!(&b[..], &img[..16]);
        // Just below the alias: RAM (zeroed).
        m.read(0xe_fff8, &mut b[..8]);
        assert_eq!(&b[..8], &[0; 8]);
        // ROM ignores writes.
        m.write(0xf_0000, &[0xaa; 4]);
        m.write(0xffff_0000, &[0xaa; 4]);
        m.read(0xf_0000, &mut b[..4]);
        assert_eq!(&b[..4], &img[..4]);
        m.read(0xffff_0000, &mut b[..4]);
        assert_eq!(&b[..4], &img[..4]);
    }

    #[test]
    fn large_bios_alias_is_last_128k() {
        let img = image(256 << 10);
        let m = mem(128 << 20, 256 << 10);
        let mut b = [0u8; 8];
        m.read(0xe_0000, &mut b);
        assert_eq!(&b[..], &img[(128 << 10)..(128 << 10) + 8]);
        m.read(0xfffc_0000, &mut b);
        assert_eq!(&b[..], &img[..8]);
        // Below the alias is RAM.
        m.read(0xd_fff8, &mut b);
        assert_eq!(b, [0; 8]);
    }

    #[test]
    fn small_bios_alias() {
        let img = image(2048);
        let m = mem(1 << 20, 2048);
        let mut b = [0u8; 4];
        m.read(0xf_f800, &mut b);
        assert_eq!(&b[..], &img[..4]);
        m.read(0xffff_f800, &mut b);
        assert_eq!(&b[..], &img[..4]);
    }

    #[test]
    fn host_pages_are_whole_ram_or_rom_pages() {
        let mut m = mem(1 << 20, 0x10000);
        let p = m.host_page(0x3000, true).expect("RAM page");
        assert_eq!(
            p.as_ptr().cast_const(),
            m.ram().as_ptr().wrapping_add(0x3000)
        );
        assert!(m.host_page(0x3004, false).is_none(), "unaligned");
        // The BIOS alias below 1 MiB: readable, never writable.
        let rom = m.host_page(0xf0000, false).expect("ROM page");
        assert!(m.host_page(0xf0000, true).is_none());
        // Both inside guarded reservations, a guard's width from the edge.
        for (page, at) in [(p, 0x3000), (rom, 0)] {
            let a = page.as_ptr() as u64;
            let (start, end) = guestmem::fault::reservation_at(a).expect("guarded");
            assert!(a - at >= start + guestmem::GUARD as u64);
            assert!(a + 0x1000 <= end - guestmem::GUARD as u64);
        }
        // Unclaimed space.
        assert!(m.host_page(0x1000_0000, false).is_none());
    }

    #[test]
    fn ram_and_unclaimed() {
        let mut m = mem(8 << 20, 64 << 10);
        m.write(0x1000, &[1, 2, 3, 4]);
        let mut b = [0u8; 4];
        m.read(0x1000, &mut b);
        assert_eq!(b, [1, 2, 3, 4]);
        assert_eq!(&m.ram()[0x1000..0x1004], &[1, 2, 3, 4]);
        // Last RAM bytes, then unclaimed.
        m.write((8 << 20) - 2, &[9, 9]);
        let mut b = [0u8; 4];
        m.read((8 << 20) - 2, &mut b);
        assert_eq!(b, [9, 9, 0xff, 0xff]);
        m.write(8 << 20, &[1]);
        m.read(8 << 20, &mut b);
        assert_eq!(b, [0xff; 4]);
        // Above 4 GiB: unclaimed.
        m.read(0x1_0000_0000, &mut b);
        assert_eq!(b, [0xff; 4]);
        m.read(u64::MAX - 1, &mut b[..2]);
        assert_eq!(&b[..2], &[0xff; 2]);
    }

    #[test]
    fn ram_under_the_bios_alias_is_hidden() {
        let mut m = mem(2 << 20, 64 << 10);
        m.ram_mut()[0xf_0000] = 0x55;
        let mut b = [0u8; 1];
        m.read(0xf_0000, &mut b);
        assert_eq!(b[0], image(64 << 10)[0]);
        // RAM above 1 MiB is back.
        m.write(0x10_0000, &[7]);
        m.read(0x10_0000, &mut b);
        assert_eq!(b[0], 7);
    }

    #[test]
    fn access_spanning_rom_start() {
        // A 6 KiB BIOS starts at 0xFFFF_E800, in the middle of a page.
        let img = image(6 << 10);
        let m = mem(1 << 20, 6 << 10);
        let mut b = [0u8; 8];
        m.read(0xffff_e7fc, &mut b);
        assert_eq!(&b[..4], &[0xff; 4]);
        assert_eq!(&b[4..], &img[..4]);
    }
}

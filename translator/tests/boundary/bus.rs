//! Physical memory: the layout of RAM, ROM and unbacked pages, and
//! `TestBus`, which backs them with host bytes between guard bytes.

use cpu_model::{Bus, PhysAddr};
use std::fmt;
use std::ptr::NonNull;
use std::sync::OnceLock;

pub(super) const PAGE: u64 = 0x1000;

/// What a physical page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Phys {
    Ram,
    /// Reads give the ROM bytes, writes are dropped; a host page for
    /// reads only.
    Rom,
    /// Nothing there: reads all-ones, writes dropped, no host page.
    Unbacked,
    // MMIO (a later issue) goes here: a device page, no host page, reads
    // and writes logged by the bus, with its own strip position and
    // far page below.
}

/// Low RAM: code at `CODE`, page tables in `TABLES..TABLES_END`, then
/// RAM pages for non-neighbouring mappings (`far_a`, `far_b`).
const LOW_RAM: u64 = 0x1_6000;
pub(super) const CODE: u64 = 0x1000;
pub(super) const TABLES: u64 = 0x4000;
pub(super) const TABLES_END: u64 = 0x1_0000;

/// Physically neighbouring pages of every ordered pair of kinds: page
/// `i` and `i + 1` of the strip (real mode uses them as they are).
pub(super) const STRIP: u64 = 0x8_0000;
pub(super) const STRIP_KINDS: [Phys; 10] = {
    use Phys::*;
    [
        Ram, Ram, Unbacked, Unbacked, Rom, Rom, Ram, Rom, Unbacked, Ram,
    ]
};

/// The page A (`far_a`) and B (`far_b`) of a non-neighbouring mapping
/// are mapped to: never A + 4 KiB, and B's physical predecessor holds
/// other bytes than A.
pub(super) fn far_a(p: Phys) -> u64 {
    match p {
        Phys::Ram => 0x1_4000,
        Phys::Rom => STRIP + 7 * PAGE,
        Phys::Unbacked => 0x10_0000,
    }
}
pub(super) fn far_b(p: Phys) -> u64 {
    match p {
        Phys::Ram => 0x1_1000,
        Phys::Rom => STRIP + 4 * PAGE,
        Phys::Unbacked => 0x20_0000,
    }
}

/// Bytes of host memory before and after every region, filled with
/// `CANARY`: an access that lands outside a region's host pages changes
/// or reads them.
const GUARD: usize = 0x1000;
const CANARY: u8 = 0xcc;

/// A contiguous physical range of one kind, backed by contiguous host
/// bytes at `host` in `TestBus::mem`.
#[derive(Clone, Copy, Debug)]
struct Region {
    start: u64,
    len: u64,
    rom: bool,
    host: usize,
}

/// RAM, ROM and unbacked space (see `Phys`), with a host page for RAM
/// (read and write) and ROM (read only). Self-contained: its own bytes.
#[derive(Clone)]
pub(super) struct TestBus {
    pub(super) mem: Vec<u8>,
    regions: Vec<Region>,
}

impl fmt::Debug for TestBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestBus")
            .field("regions", &self.regions)
            .finish()
    }
}

impl TestBus {
    /// The layout above, RAM and ROM filled with pseudo-random bytes (the
    /// same every time), guards with `CANARY`.
    pub(super) fn new() -> TestBus {
        static TEMPLATE: OnceLock<TestBus> = OnceLock::new();
        TEMPLATE.get_or_init(TestBus::build).clone()
    }

    fn build() -> TestBus {
        let mut ranges = vec![(0, LOW_RAM, false)];
        let mut i = 0;
        while i < STRIP_KINDS.len() {
            let k = STRIP_KINDS[i];
            let mut j = i;
            while j < STRIP_KINDS.len() && STRIP_KINDS[j] == k {
                j += 1;
            }
            if k != Phys::Unbacked {
                let start = STRIP + i as u64 * PAGE;
                ranges.push((start, (j - i) as u64 * PAGE, k == Phys::Rom));
            }
            i = j;
        }
        let mut regions = Vec::new();
        let mut host = GUARD;
        for (start, len, rom) in ranges {
            regions.push(Region {
                start,
                len,
                rom,
                host,
            });
            host += len as usize + GUARD;
        }
        let mut mem = vec![CANARY; host];
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for r in &regions {
            for b in &mut mem[r.host..r.host + r.len as usize] {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = (x >> 24) as u8;
            }
        }
        TestBus { mem, regions }
    }

    fn region(&self, addr: u64) -> Option<&Region> {
        self.regions
            .iter()
            .find(|r| addr >= r.start && addr - r.start < r.len)
    }

    /// The host bytes of `len` bytes of RAM at `addr` (for setting up).
    pub(super) fn ram(&mut self, addr: u64, len: usize) -> &mut [u8] {
        let r = *self.region(addr).filter(|r| !r.rom).expect("RAM");
        let at = r.host + (addr - r.start) as usize;
        &mut self.mem[at..at + len]
    }

    pub(super) fn write_entry(&mut self, addr: u64, value: u64, width: usize) {
        self.ram(addr, width)
            .copy_from_slice(&value.to_le_bytes()[..width]);
    }

    /// Where host byte `i` of `mem` is, for messages.
    pub(super) fn describe(&self, i: usize) -> String {
        for r in &self.regions {
            let kind = if r.rom { "ROM" } else { "RAM" };
            if i >= r.host && i < r.host + r.len as usize {
                let phys = r.start + (i - r.host) as u64;
                let what = match phys {
                    _ if (CODE..CODE + PAGE).contains(&phys) => ", the code",
                    _ if (TABLES..TABLES_END).contains(&phys) => ", a page table",
                    _ => "",
                };
                return format!("phys {phys:#x} ({kind}{what})");
            }
            if i < r.host {
                return format!(
                    "host guard, {} bytes before the host page of {kind} phys {:#x}",
                    r.host - i,
                    r.start
                );
            }
        }
        "host guard after the last region".into()
    }
}

impl Default for TestBus {
    fn default() -> Self {
        Self::new()
    }
}

impl Bus for TestBus {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        match self.region(addr.0) {
            Some(r) => {
                let at = r.host + (addr.0 - r.start) as usize;
                buf.copy_from_slice(&self.mem[at..at + buf.len()]);
            }
            None => buf.fill(0xff),
        }
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        if let Some(r) = self.region(addr.0).filter(|r| !r.rom) {
            let at = r.host + (addr.0 - r.start) as usize;
            self.mem[at..at + data.len()].copy_from_slice(data);
        }
    }
    fn io_in(&mut self, _port: u16, size: u32) -> u32 {
        cpu_model::flags::mask(size) as u32
    }
    fn io_out(&mut self, _port: u16, _size: u32, _value: u32) {}
    fn host_page(&mut self, page: PhysAddr, write: bool) -> Option<NonNull<u8>> {
        let r = *self.region(page.0)?;
        if r.rom && write {
            return None;
        }
        let at = r.host + (page.0 - r.start) as usize;
        NonNull::new(self.mem[at..at + PAGE as usize].as_mut_ptr())
    }
}

//! The software TLB: a direct-mapped array of 4 KiB translations.
//!
//! An entry caches the result of one page walk (large pages are entered per
//! 4 KiB piece, with their size kept so INVLPG drops every piece). The
//! permission bits are the combined ones of every level of the walk, so a
//! hit is checked against the current access without walking again.

/// Entry flag: writable at every level.
pub const WRITABLE: u8 = 1 << 0;
/// Entry flag: user-accessible at every level.
pub const USER: u8 = 1 << 1;
/// Entry flag: execute-disable at some level (with EFER.NXE).
pub const NO_EXEC: u8 = 1 << 2;
/// Entry flag: the dirty bit is already set in the leaf entry.
pub const DIRTY: u8 = 1 << 3;
/// Entry flag: global page (kept across CR3 writes when CR4.PGE = 1).
pub const GLOBAL: u8 = 1 << 4;

pub const ENTRIES: usize = 256;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct TlbEntry {
    /// Virtual page number + 1 (0 means empty).
    pub tag: u64,
    /// Physical address of the 4 KiB frame.
    pub frame: u64,
    /// Size of the mapping page minus one (0xfff, 0x1f_ffff, 0x3f_ffff, 0x3fff_ffff).
    pub page_mask: u64,
    pub flags: u8,
}

#[derive(Clone, Debug)]
pub struct Tlb {
    entries: Box<[TlbEntry; ENTRIES]>,
    /// Bumped whenever entries are dropped (never by `insert`), so caches
    /// derived from this TLB (the translator's host-address TLB) know when
    /// a translation they hold may no longer be valid.
    generation: u64,
}

impl Default for Tlb {
    fn default() -> Self {
        Self::new()
    }
}

impl Tlb {
    pub fn new() -> Tlb {
        Tlb {
            entries: Box::new([TlbEntry::default(); ENTRIES]),
            generation: 0,
        }
    }

    /// Changes whenever a flush drops translations (see the field).
    #[inline]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    #[inline]
    fn slot(vpn: u64) -> usize {
        (vpn as usize) & (ENTRIES - 1)
    }

    /// The cached translation of the page holding `lin`, if any.
    #[inline]
    pub fn lookup(&self, lin: u64) -> Option<&TlbEntry> {
        let vpn = lin >> 12;
        let e = &self.entries[Self::slot(vpn)];
        (e.tag == vpn + 1).then_some(e)
    }

    pub fn insert(&mut self, lin: u64, mut entry: TlbEntry) {
        let vpn = lin >> 12;
        entry.tag = vpn + 1;
        self.entries[Self::slot(vpn)] = entry;
    }

    /// Drop everything (CR0/CR4 paging-mode changes, EFER.NXE changes).
    pub fn flush_all(&mut self) {
        self.generation += 1;
        self.entries.fill(TlbEntry::default());
    }

    /// Drop everything but global entries (CR3 writes).
    pub fn flush_nonglobal(&mut self, pge: bool) {
        self.generation += 1;
        for e in self.entries.iter_mut() {
            if !(pge && e.flags & GLOBAL != 0) {
                *e = TlbEntry::default();
            }
        }
    }

    /// Drop every entry that maps the page holding `lin`, whatever the page
    /// size (INVLPG). Global entries are dropped too.
    pub fn flush_page(&mut self, lin: u64) {
        self.generation += 1;
        for e in self.entries.iter_mut() {
            if e.tag != 0 {
                let vbase = (e.tag - 1) << 12;
                if vbase & !e.page_mask == lin & !e.page_mask {
                    *e = TlbEntry::default();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_lookup_flush() {
        let mut t = Tlb::new();
        let e = TlbEntry {
            frame: 0x5000,
            page_mask: 0x1f_ffff,
            flags: GLOBAL,
            ..Default::default()
        };
        t.insert(0x20_1000, e);
        t.insert(0x20_3000, TlbEntry { flags: 0, ..e });
        assert_eq!(t.lookup(0x20_1abc).unwrap().frame, 0x5000);
        assert!(t.lookup(0x20_2000).is_none());
        let g = t.generation();
        t.flush_nonglobal(true);
        assert_ne!(t.generation(), g);
        assert!(t.lookup(0x20_1000).is_some());
        assert!(t.lookup(0x20_3000).is_none());
        t.flush_page(0x3f_ffff); // same 2 MiB page
        assert!(t.lookup(0x20_1000).is_none());
    }
}

//! Fixed tables of host address ranges that a signal handler can read:
//! one `AtomicU64` per range, no locks, no allocation.
//!
//! A range is a run of whole host pages, packed into one word so that a
//! reader never sees half of an update: the first page number in the high
//! 36 bits (addresses below 2^48), the page count (1 to 2^28 - 1, i.e.
//! up to 1 TiB) in the low 28 bits. Zero is a free slot.

use crate::PAGE;
use std::sync::atomic::{AtomicU64, Ordering};

const PAGE_SHIFT: u32 = PAGE.trailing_zeros();
const COUNT_BITS: u32 = 28;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const PAGE_NUMBER_LIMIT: u64 = 1 << (64 - COUNT_BITS);

/// The whole pages holding `[start, start + len)`, packed; None if empty
/// or not representable.
fn pack(start: u64, len: u64) -> Option<u64> {
    if len == 0 {
        return None;
    }
    let first = start >> PAGE_SHIFT;
    let last = start.checked_add(len - 1)? >> PAGE_SHIFT;
    let count = last - first + 1;
    if first >= PAGE_NUMBER_LIMIT || count > COUNT_MASK {
        return None;
    }
    Some((first << COUNT_BITS) | count)
}

/// `(start, end)` of a packed range, `end` exclusive.
fn unpack(v: u64) -> (u64, u64) {
    let start = (v >> COUNT_BITS) << PAGE_SHIFT;
    (start, start + ((v & COUNT_MASK) << PAGE_SHIFT))
}

/// A set of disjoint page ranges of at most `N` entries.
pub(crate) struct RangeTable<const N: usize> {
    slots: [AtomicU64; N],
}

impl<const N: usize> RangeTable<N> {
    pub(crate) const fn new() -> Self {
        RangeTable {
            slots: [const { AtomicU64::new(0) }; N],
        }
    }

    /// Add the pages holding `[start, start + len)`. False if the range is
    /// empty, not representable or the table is full (it is then simply
    /// not known to the fault handler).
    pub(crate) fn insert(&self, start: u64, len: u64) -> bool {
        let Some(v) = pack(start, len) else {
            return false;
        };
        self.slots.iter().any(|s| {
            s.compare_exchange(0, v, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        })
    }

    /// Remove the range whose first page holds `start`; returns it.
    pub(crate) fn remove(&self, start: u64) -> Option<(u64, u64)> {
        let page = start >> PAGE_SHIFT;
        for s in &self.slots {
            let v = s.load(Ordering::Acquire);
            if v != 0
                && v >> COUNT_BITS == page
                && s.compare_exchange(v, 0, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
            {
                return Some(unpack(v));
            }
        }
        None
    }

    /// The range holding `addr`, as `(start, end)`. Async-signal-safe.
    pub(crate) fn find(&self, addr: u64) -> Option<(u64, u64)> {
        self.slots.iter().find_map(|s| {
            let v = s.load(Ordering::Acquire);
            let (start, end) = unpack(v);
            (v != 0 && (start..end).contains(&addr)).then_some((start, end))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_covers_whole_pages() {
        assert_eq!(unpack(pack(0x1000, 0x1000).unwrap()), (0x1000, 0x2000));
        assert_eq!(unpack(pack(0x1fff, 2).unwrap()), (0x1000, 0x3000));
        assert_eq!(
            unpack(pack(0x7fff_f000_0000, 5 << 30).unwrap()),
            (0x7fff_f000_0000, 0x8001_3000_0000)
        );
        assert_eq!(pack(0x1000, 0), None);
        assert_eq!(pack(1 << 48, 0x1000), None);
        assert_eq!(pack(0, 1 << 40), None);
        assert_eq!(pack(u64::MAX, 2), None);
    }

    #[test]
    fn insert_find_remove() {
        let t = RangeTable::<2>::new();
        assert!(t.insert(0x10_0000, 0x3000));
        assert!(t.insert(0x20_0000, 0x1000));
        assert!(!t.insert(0x30_0000, 0x1000), "full");
        assert_eq!(t.find(0x10_0000), Some((0x10_0000, 0x10_3000)));
        assert_eq!(t.find(0x10_2fff), Some((0x10_0000, 0x10_3000)));
        assert_eq!(t.find(0x10_3000), None);
        assert_eq!(t.find(0xf_ffff), None);
        assert_eq!(t.find(0), None);
        assert_eq!(t.remove(0x30_0000), None);
        assert_eq!(t.remove(0x10_0000), Some((0x10_0000, 0x10_3000)));
        assert_eq!(t.find(0x10_1000), None);
        assert!(t.insert(0x30_0000, 0x1000), "slot reused");
        assert_eq!(t.find(0x30_0fff), Some((0x30_0000, 0x30_1000)));
        assert_eq!(t.find(0x20_0000), Some((0x20_0000, 0x20_1000)));
    }
}

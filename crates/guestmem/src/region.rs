//! Guarded host reservations for guest memory.
//!
//! ```text
//! base                base + GUARD          + mapped           + GUARD
//! | PROT_NONE guard   | guest memory        | PROT_NONE guard  |
//! ```
//!
//! One `mmap(PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)` of
//! the whole extent, then `mprotect` of the middle (`len` rounded up to
//! whole pages; the bytes past `len` in the last page are zero and never
//! handed out). The whole extent is registered with the fault reporter
//! before the middle becomes accessible and unregistered before it is
//! unmapped.

use crate::{fault, GuestMemError, GUARD, PAGE};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// One reservation; owns its mapping.
struct Reservation {
    /// First byte of the leading guard.
    base: NonNull<u8>,
    /// Bytes of guest memory handed out.
    len: usize,
    /// `len` rounded up to whole pages: the accessible middle.
    mapped: usize,
}

// SAFETY: a `Reservation` owns its mapping exclusively, as a `Vec` owns
// its buffer; nothing in it is tied to a thread.
unsafe impl Send for Reservation {}
// SAFETY: through `&Reservation` the memory is only read (`bytes`);
// writing needs `&mut` (`bytes_mut`) or the `mprotect` of `protect`,
// which changes no bytes.
unsafe impl Sync for Reservation {}

impl Reservation {
    fn new(len: usize) -> Result<Reservation, GuestMemError> {
        let too_large = || GuestMemError::TooLarge { len };
        let mapped = len.checked_next_multiple_of(PAGE).ok_or_else(too_large)?;
        let total = mapped.checked_add(2 * GUARD).ok_or_else(too_large)?;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE;
        // SAFETY: a new private anonymous mapping at an address of the
        // kernel's choosing; no existing memory is affected.
        let p = unsafe { libc::mmap(std::ptr::null_mut(), total, libc::PROT_NONE, flags, -1, 0) };
        if p == libc::MAP_FAILED {
            return Err(GuestMemError::Reserve {
                len: total,
                source: std::io::Error::last_os_error(),
            });
        }
        let Some(base) = NonNull::new(p.cast::<u8>()) else {
            // Not reachable without MAP_FIXED; the page at 0 is no place
            // for guest memory anyway.
            // SAFETY: unmaps the mapping just made, which nothing uses.
            unsafe { libc::munmap(p, total) };
            return Err(GuestMemError::TooLarge { len });
        };
        let r = Reservation { base, len, mapped };
        fault::register_reservation(r.start(), total);
        // On failure `r` is dropped: unregistered and unmapped.
        r.protect(libc::PROT_READ | libc::PROT_WRITE)?;
        Ok(r)
    }

    fn start(&self) -> u64 {
        self.base.as_ptr() as u64
    }

    fn total(&self) -> usize {
        self.mapped + 2 * GUARD
    }

    /// First byte of guest memory.
    fn data(&self) -> *mut u8 {
        self.base.as_ptr().wrapping_add(GUARD)
    }

    /// Give the guest-memory pages protection `prot`. Removing write
    /// access is only done by `GuardedRegion::make_read_only`, which
    /// consumes the region and so ends every `&mut` borrow of it.
    fn protect(&self, prot: libc::c_int) -> Result<(), GuestMemError> {
        if self.mapped == 0 {
            return Ok(());
        }
        // SAFETY: `[data, data + mapped)` is page-aligned and part of this
        // reservation's mapping; changing its protection touches no other
        // memory, and no reference into it relies on a protection being
        // removed here (see above).
        let r = unsafe { libc::mprotect(self.data().cast(), self.mapped, prot) };
        if r != 0 {
            return Err(GuestMemError::Protect {
                source: std::io::Error::last_os_error(),
            });
        }
        Ok(())
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: `[data, data + len)` is mapped at least readable for as
        // long as `self` lives (the kernel zero-fills it, so it is
        // initialised) and is written only through `bytes_mut`, which
        // needs `&mut self`.
        unsafe { std::slice::from_raw_parts(self.data(), self.len) }
    }

    /// Only for reservations mapped read+write (`GuardedRegion`).
    fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`, and the mapping is writable: only
        // `GuardedRegion`, which never removes write access while it
        // exists, calls this; `&mut self` makes the borrow unique.
        unsafe { std::slice::from_raw_parts_mut(self.data(), self.len) }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        fault::unregister_reservation(self.start());
        // SAFETY: the whole extent was mapped by `new` and is unmapped
        // exactly once, here; no borrow of it outlives `self`.
        unsafe { libc::munmap(self.base.as_ptr().cast(), self.total()) };
    }
}

impl fmt::Debug for Reservation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reservation")
            .field("len", &self.len)
            .field("at", &format_args!("{:#x}", self.data() as u64))
            .finish()
    }
}

/// Zero-filled, readable and writable guest memory between two guard
/// regions of [`GUARD`] inaccessible bytes.
///
/// Derefs to `[u8]`. Cloning makes a new reservation with the same bytes
/// (and panics, like `Vec`, if the host has no address space left).
#[derive(Debug)]
pub struct GuardedRegion {
    res: Reservation,
}

impl GuardedRegion {
    /// `len` bytes of zeroed guest memory (the accessible mapping is
    /// rounded up to whole 4 KiB pages; the guard starts at the next page
    /// boundary).
    pub fn new(len: usize) -> Result<GuardedRegion, GuestMemError> {
        Ok(GuardedRegion {
            res: Reservation::new(len)?,
        })
    }

    pub fn len(&self) -> usize {
        self.res.len
    }

    pub fn is_empty(&self) -> bool {
        self.res.len == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        self.res.bytes()
    }

    pub fn as_mut_slice(&mut self) -> &mut [u8] {
        self.res.bytes_mut()
    }

    /// Host address of the first byte.
    pub fn as_ptr(&self) -> *const u8 {
        self.res.data()
    }

    /// Host address of the first byte, for writing through.
    pub fn as_mut_ptr(&mut self) -> *mut u8 {
        self.res.data()
    }

    /// Map the memory read-only (for ROM, once its image is in place).
    /// Reads through the result (or a raw pointer) keep working; a write
    /// through a raw pointer faults, and there is no safe way to write.
    pub fn make_read_only(self) -> Result<ReadOnlyRegion, GuestMemError> {
        self.res.protect(libc::PROT_READ)?;
        Ok(ReadOnlyRegion { res: self.res })
    }
}

impl Deref for GuardedRegion {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl DerefMut for GuardedRegion {
    fn deref_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl AsRef<[u8]> for GuardedRegion {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsMut<[u8]> for GuardedRegion {
    fn as_mut(&mut self) -> &mut [u8] {
        self.as_mut_slice()
    }
}

impl Clone for GuardedRegion {
    fn clone(&self) -> GuardedRegion {
        let mut copy = match GuardedRegion::new(self.len()) {
            Ok(r) => r,
            Err(e) => panic!("cannot copy guest memory: {e}"),
        };
        copy.copy_from_slice(self);
        copy
    }
}

impl PartialEq for GuardedRegion {
    fn eq(&self, other: &GuardedRegion) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for GuardedRegion {}

/// Guest memory mapped read-only between two guard regions: ROM. Made
/// by [`GuardedRegion::make_read_only`]; hands out no `&mut [u8]`.
#[derive(Debug)]
pub struct ReadOnlyRegion {
    res: Reservation,
}

impl ReadOnlyRegion {
    pub fn len(&self) -> usize {
        self.res.len
    }

    pub fn is_empty(&self) -> bool {
        self.res.len == 0
    }

    pub fn as_slice(&self) -> &[u8] {
        self.res.bytes()
    }

    /// Host address of the first byte (only to be read through).
    pub fn as_ptr(&self) -> *const u8 {
        self.res.data()
    }
}

impl Deref for ReadOnlyRegion {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for ReadOnlyRegion {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Clone for ReadOnlyRegion {
    fn clone(&self) -> ReadOnlyRegion {
        let mut copy = match GuardedRegion::new(self.len()) {
            Ok(r) => r,
            Err(e) => panic!("cannot copy guest memory: {e}"),
        };
        copy.copy_from_slice(self);
        match copy.make_read_only() {
            Ok(r) => r,
            Err(e) => panic!("cannot copy guest memory: {e}"),
        }
    }
}

impl PartialEq for ReadOnlyRegion {
    fn eq(&self, other: &ReadOnlyRegion) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for ReadOnlyRegion {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeroed_writable_and_registered_with_guards() {
        let mut r = GuardedRegion::new(3 * PAGE + 5).unwrap();
        assert_eq!(r.len(), 3 * PAGE + 5);
        assert!(r.iter().all(|&b| b == 0));
        r[0] = 1;
        r[3 * PAGE + 4] = 2;
        assert_eq!((r.as_slice()[0], r.as_slice()[3 * PAGE + 4]), (1, 2));
        let data = r.as_ptr() as u64;
        assert_eq!(data % PAGE as u64, 0);
        let whole = (data - GUARD as u64, data + (4 * PAGE + GUARD) as u64);
        for a in [whole.0, data - 1, data, data + 4 * PAGE as u64, whole.1 - 1] {
            assert_eq!(fault::reservation_at(a), Some(whole), "{a:#x}");
        }
        // The end is exclusive (the next mapping, maybe another test's
        // region, may start right there).
        assert_ne!(fault::reservation_at(whole.1), Some(whole));
        drop(r);
        // (Other tests may map a region at the same place at once, but
        // none of this size.)
        assert_ne!(fault::reservation_at(data), Some(whole), "unregistered");
    }

    #[test]
    fn clones_are_equal_and_independent() {
        let mut a = GuardedRegion::new(2 * PAGE).unwrap();
        a[100] = 7;
        let mut b = a.clone();
        assert!(a == b);
        assert_ne!(a.as_ptr(), b.as_ptr());
        b[100] = 8;
        assert!(a != b);
        assert_eq!(a[100], 7);
    }

    #[test]
    fn read_only_keeps_its_bytes() {
        let mut a = GuardedRegion::new(PAGE).unwrap();
        a[..4].copy_from_slice(&[1, 2, 3, 4]);
        let p = a.as_ptr();
        let rom = a.make_read_only().unwrap();
        assert_eq!(rom.as_ptr(), p);
        assert_eq!(&rom[..4], &[1, 2, 3, 4]);
        let copy = rom.clone();
        assert!(copy == rom);
        assert_eq!(copy.len(), PAGE);
    }

    #[test]
    fn empty_and_huge() {
        let e = GuardedRegion::new(0).unwrap();
        assert!(e.is_empty());
        assert_eq!(e.as_slice(), &[] as &[u8]);
        assert!(matches!(
            GuardedRegion::new(usize::MAX - 10),
            Err(GuestMemError::TooLarge { .. })
        ));
        let e = GuardedRegion::new(1 << 62).unwrap_err();
        assert!(matches!(e, GuestMemError::Reserve { .. }), "{e}");
        let io: std::io::Error = e.into();
        assert!(io.raw_os_error().is_some());
    }
}

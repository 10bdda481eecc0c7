//! Guest memory that cannot lead to host memory, and the reporter for the
//! host faults that would show a mistake in that respect.
//!
//! Translated code forms host pointers as `guest linear address + addend`.
//! Checks in the generated code keep such an access inside one 4 KiB guest
//! page; this crate is the second line of defence behind those checks:
//!
//! * [`GuardedRegion`]: guest memory (RAM, ROM, test buses) lives in the
//!   middle of one host reservation, `GUARD` bytes of inaccessible address
//!   space on either side. An access that strays past either edge of guest
//!   memory by less than [`GUARD`] bytes faults instead of reaching host
//!   data. [`ReadOnlyRegion`] (ROM) is mapped read-only, so a stray write
//!   faults too.
//! * [`fault`]: a SIGSEGV/SIGBUS handler that recognises such faults (a
//!   data address inside a registered reservation) and any fault of
//!   registered translated code (by the host PC), prints one line naming
//!   the block and ends the process with [`fault::INTERNAL_ERROR_STATUS`];
//!   every other fault is passed on to the handler that was there before.
//!
//! Every reservation registers its whole extent (guards included) in a
//! fixed, lock-free table the signal handler reads; the translator
//! registers its code-heap chunks and blocks (`fault::register_code`,
//! `fault::register_block`).
//!
//! Linux on x86-64 only (as the translator).

pub mod fault;
mod region;
mod table;

pub use region::{GuardedRegion, ReadOnlyRegion};
use thiserror::Error;

/// Bytes of inaccessible address space before and after every region.
///
/// Far wider than any single access a guest instruction can make (the
/// widest are FXSAVE/FXRSTOR's 512 bytes and XSAVE areas of a few KiB)
/// and than a whole page plus 16 bytes, so an access computed from the
/// wrong page next to the edge, or one that crosses the edge, lands in
/// the guard.
pub const GUARD: usize = 1 << 20;

/// Host page size the reservations are made of.
pub const PAGE: usize = 4096;

/// Why a region could not be made.
#[derive(Debug, Error)]
pub enum GuestMemError {
    #[error("{len} bytes of guest memory do not fit in the host address space")]
    TooLarge { len: usize },
    #[error("cannot reserve {len} bytes of host address space: {source}")]
    Reserve {
        len: usize,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot change the protection of guest memory: {source}")]
    Protect {
        #[source]
        source: std::io::Error,
    },
}

impl From<GuestMemError> for std::io::Error {
    /// The operating system's error where there is one (so a caller's
    /// message keeps reading "Cannot allocate memory" and the like).
    fn from(e: GuestMemError) -> std::io::Error {
        match e {
            GuestMemError::Reserve { source, .. } | GuestMemError::Protect { source } => source,
            e @ GuestMemError::TooLarge { .. } => {
                std::io::Error::new(std::io::ErrorKind::OutOfMemory, e)
            }
        }
    }
}

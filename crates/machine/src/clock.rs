//! The machine's virtual clock. Time is derived from the processor's
//! retired-instruction count, one nanosecond per instruction (a 1 GHz
//! virtual processor, like the TSC, which counts the same instructions),
//! so a run is repeatable instruction for instruction under either engine:
//! the CPU tells the bus its count before every step that can reach a
//! device (`Bus::set_instruction_count`), and devices read the time from a
//! [`Clock`] handle.
//!
//! While the processor is halted waiting for an interrupt no instruction
//! retires: the machine skips the clock ahead to the next device event
//! ([`Clock::skip_to`]).
//!
//! The host-clock mode ([`Clock::host`], `--clock host`) is for
//! interactive guests: the time is the host's monotonic time since the
//! machine was built, a halted processor really waits, and a guest's
//! `sleep 1` takes a second. Runs are then not repeatable.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// A shared view of the machine's clock; clones see the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    icount: Arc<AtomicU64>,
    /// Nanoseconds skipped while halted.
    skipped: Arc<AtomicU64>,
    /// The host-clock mode's origin.
    host: Option<Instant>,
}

impl Clock {
    /// The virtual clock at 0.
    pub fn new() -> Clock {
        Clock::default()
    }

    /// The host clock, at 0 now.
    pub fn host() -> Clock {
        Clock {
            host: Some(Instant::now()),
            ..Clock::default()
        }
    }

    /// Does time follow the host's clock?
    pub fn is_host(&self) -> bool {
        self.host.is_some()
    }

    /// The processor has retired `icount` instructions.
    pub fn set_instruction_count(&self, icount: u64) {
        // (One thread runs the machine: the atomic only makes the handle
        // shareable with the devices that read it.)
        self.icount.store(icount, Ordering::Relaxed);
    }

    /// The time in nanoseconds.
    pub fn now_ns(&self) -> u64 {
        if let Some(start) = self.host {
            return u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        }
        self.icount
            .load(Ordering::Relaxed)
            .wrapping_add(self.skipped.load(Ordering::Relaxed))
    }

    /// Move the time ahead to `t` (a halted processor waits for an event
    /// at `t`); returns the nanoseconds skipped (0 if `t` is not ahead).
    /// (The host clock does not skip: the machine waits instead.)
    pub fn skip_to(&self, t: u64) -> u64 {
        if self.is_host() {
            return 0;
        }
        let d = t.saturating_sub(self.now_ns());
        self.skipped.fetch_add(d, Ordering::Relaxed);
        d
    }
}

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
//! ([`Clock::skip_to`]). (A host-clock mode is still to come.)

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A shared view of the virtual clock; clones see the same time.
#[derive(Clone, Debug, Default)]
pub struct Clock {
    icount: Arc<AtomicU64>,
    /// Nanoseconds skipped while halted.
    skipped: Arc<AtomicU64>,
}

impl Clock {
    pub fn new() -> Clock {
        Clock::default()
    }

    /// The processor has retired `icount` instructions.
    pub fn set_instruction_count(&self, icount: u64) {
        // (One thread runs the machine: the atomic only makes the handle
        // shareable with the devices that read it.)
        self.icount.store(icount, Ordering::Relaxed);
    }

    /// The time in nanoseconds.
    pub fn now_ns(&self) -> u64 {
        self.icount
            .load(Ordering::Relaxed)
            .wrapping_add(self.skipped.load(Ordering::Relaxed))
    }

    /// Move the time ahead to `t` (a halted processor waits for an event
    /// at `t`); returns the nanoseconds skipped (0 if `t` is not ahead).
    pub fn skip_to(&self, t: u64) -> u64 {
        let d = t.saturating_sub(self.now_ns());
        self.skipped.fetch_add(d, Ordering::Relaxed);
        d
    }
}

//! QEMU's `isa-debug-exit` device (iobase 0xF4, iosize 4): a write of value
//! `v` at any of its ports ends the run with exit status `(v << 1) | 1`.
//! Reads return 0, as in QEMU.
//!
//! The device only records the request in an [`ExitSignal`]; the run loop
//! checks the signal after every instruction and stops there.

use crate::pio::PortDevice;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The conventional base port and size.
pub const PORT: u16 = 0xf4;
pub const LEN: u32 = 4;

const REQUESTED: u64 = 1 << 32;

/// A latch shared by the debug-exit device and the run loop. The first
/// value written wins (QEMU exits on the first write).
#[derive(Clone, Debug, Default)]
pub struct ExitSignal(Arc<AtomicU64>);

impl ExitSignal {
    pub fn new() -> ExitSignal {
        ExitSignal::default()
    }

    /// Record a request to exit with value `v`, unless one is pending.
    pub fn request(&self, v: u32) {
        let _ = self.0.compare_exchange(
            0,
            REQUESTED | u64::from(v),
            Ordering::SeqCst,
            Ordering::SeqCst,
        );
    }

    /// The pending value, if any, clearing the latch.
    pub fn take(&self) -> Option<u32> {
        let v = self.0.swap(0, Ordering::SeqCst);
        (v & REQUESTED != 0).then_some(v as u32)
    }

    /// The pending value, if any.
    pub fn peek(&self) -> Option<u32> {
        let v = self.0.load(Ordering::SeqCst);
        (v & REQUESTED != 0).then_some(v as u32)
    }
}

/// The process exit status QEMU uses for debug-exit value `v`:
/// `(v << 1) | 1`, truncated to 8 bits by the operating system.
pub fn exit_status(v: u32) -> u8 {
    ((v << 1) | 1) as u8
}

/// Saved state: the value written, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebugExitState {
    pub written: Option<u32>,
}

#[derive(Debug)]
pub struct DebugExit {
    pub state: DebugExitState,
    signal: ExitSignal,
}

impl DebugExit {
    pub fn new(signal: ExitSignal) -> DebugExit {
        DebugExit {
            state: DebugExitState::default(),
            signal,
        }
    }
}

impl PortDevice for DebugExit {
    fn name(&self) -> &str {
        "debug-exit"
    }

    fn read(&mut self, _offset: u16, _size: u32) -> u32 {
        0
    }

    fn write(&mut self, _offset: u16, _size: u32, value: u32) {
        if self.state.written.is_none() {
            self.state.written = Some(value);
        }
        self.signal.request(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_write_wins_and_status_matches_qemu() {
        let sig = ExitSignal::new();
        let mut d = DebugExit::new(sig.clone());
        assert_eq!(sig.peek(), None);
        assert_eq!(d.read(0, 4), 0);
        d.write(0, 1, 0x10);
        d.write(2, 1, 0x20);
        assert_eq!(sig.peek(), Some(0x10));
        assert_eq!(sig.take(), Some(0x10));
        assert_eq!(sig.take(), None);
        assert_eq!(d.state.written, Some(0x10));
        sig.request(0);
        assert_eq!(sig.take(), Some(0));
        assert_eq!(exit_status(0x10), 33);
        assert_eq!(exit_status(0), 1);
        assert_eq!(exit_status(0x80), 1);
        assert_eq!(exit_status(0x7f), 255);
    }
}

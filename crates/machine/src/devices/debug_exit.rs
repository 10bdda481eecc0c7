//! QEMU's `isa-debug-exit` device (iobase 0xF4, iosize 4): a write of value
//! `v` at any of its ports ends the run with exit status `(v << 1) | 1`,
//! truncated to 8 bits by the operating system (0x80 gives 1, 0xC0 gives
//! 129, which shells also show for a death by signal; [`status_note`] says
//! so in reports).
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

/// What a report says about the status of debug-exit value `v`: `exit
/// status N`, then how a value of 0x80 or more was truncated, and for a
/// status of 129 or more (which shells show for a death by signal) that
/// it came from the guest.
pub fn status_note(v: u32) -> String {
    let status = exit_status(v);
    let mut note = format!("exit status {status}");
    if v > 0x7f {
        note += &format!(" = ({v:#x} << 1) | 1 truncated to 8 bits");
    }
    if status > 128 {
        note += ", from the guest, not a signal";
    }
    note
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

    #[test]
    fn status_note_explains_large_values() {
        assert_eq!(status_note(0x10), "exit status 33");
        assert_eq!(
            status_note(0x40),
            "exit status 129, from the guest, not a signal"
        );
        assert_eq!(
            status_note(0x100),
            "exit status 1 = (0x100 << 1) | 1 truncated to 8 bits"
        );
        assert_eq!(
            status_note(0xff),
            "exit status 255 = (0xff << 1) | 1 truncated to 8 bits, from the guest, not a signal"
        );
    }
}

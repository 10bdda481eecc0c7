//! The output queue of a PS/2 device: the bytes it has yet to clock to the
//! controller. Bounded (QEMU `hw/input/ps2.c` keeps 16 bytes per device) so
//! that a guest cannot grow it: command replies that do not fit are
//! dropped, as QEMU drops them; host input keeps `HEADROOM` bytes free so
//! that a reply always fits behind it, and is taken whole or not at all
//! (a half key sequence or mouse packet would desynchronize the guest).

use std::collections::VecDeque;

/// Bytes a device holds.
pub const CAPACITY: usize = 16;
/// Room host input leaves for replies (the longest, a mouse status or
/// read-data reply, is 5 bytes; QEMU keeps 8).
pub const HEADROOM: usize = 8;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ByteQueue {
    /// Oldest first; at most `CAPACITY` (restore truncates).
    pub bytes: VecDeque<u8>,
}

impl ByteQueue {
    /// A reply byte; dropped if the queue is full.
    pub fn push_reply(&mut self, byte: u8) {
        if self.bytes.len() < CAPACITY {
            self.bytes.push_back(byte);
        }
    }

    /// Host input: all of `bytes` if they fit leaving the headroom, else
    /// none. Returns whether they were taken.
    pub fn push_input(&mut self, bytes: &[u8]) -> bool {
        let fits = self.bytes.len() + bytes.len() + HEADROOM <= CAPACITY;
        if fits {
            self.bytes.extend(bytes);
        }
        fits
    }

    /// Room for `n` more bytes of host input?
    pub fn input_room(&self, n: usize) -> bool {
        self.bytes.len() + n + HEADROOM <= CAPACITY
    }

    pub fn pop(&mut self) -> Option<u8> {
        self.bytes.pop_front()
    }

    pub fn iter(&self) -> impl Iterator<Item = u8> + '_ {
        self.bytes.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Bring a restored queue within the capacity.
    pub fn sanitize(&mut self) {
        self.bytes.truncate(CAPACITY);
    }
}

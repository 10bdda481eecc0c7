//! The Bochs/QEMU debug console ("port E9 hack"): every byte written to the
//! port goes to a sink; reading the port returns 0xE9 so software can detect
//! the device (QEMU's `isa-debugcon` readback value).

use crate::pio::PortDevice;
use std::fmt;
use std::io::{self, Write};

/// The conventional port.
pub const PORT: u16 = 0xe9;
/// What a read returns.
pub const READBACK: u32 = 0xe9;

/// Saved state: only statistics (the device has no registers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DebugConState {
    /// Bytes written by the guest.
    pub bytes: u64,
}

pub struct DebugCon {
    pub state: DebugConState,
    sink: io::BufWriter<Box<dyn Write + Send>>,
    /// The first error writing to the sink; reported by `flush`.
    error: Option<io::Error>,
}

impl fmt::Debug for DebugCon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DebugCon")
            .field("state", &self.state)
            .field("error", &self.error)
            .finish()
    }
}

impl DebugCon {
    pub fn new(sink: Box<dyn Write + Send>) -> DebugCon {
        DebugCon {
            state: DebugConState::default(),
            sink: io::BufWriter::new(sink),
            error: None,
        }
    }
}

impl PortDevice for DebugCon {
    fn name(&self) -> &str {
        "debugcon"
    }

    fn read(&mut self, _offset: u16, _size: u32) -> u32 {
        READBACK
    }

    /// Only the low byte of a wider write is output (QEMU's device takes
    /// byte accesses and outputs `(unsigned char)val`).
    fn write(&mut self, _offset: u16, _size: u32, value: u32) {
        let byte = value as u8;
        self.state.bytes += 1;
        if self.error.is_some() {
            return;
        }
        let mut r = self.sink.write_all(&[byte]);
        if r.is_ok() && byte == b'\n' {
            r = self.sink.flush();
        }
        if let Err(e) = r {
            self.error = Some(e);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.sink.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::SharedBuf;

    #[test]
    fn writes_bytes_and_reads_back_e9() {
        let buf = SharedBuf::default();
        let mut d = DebugCon::new(Box::new(buf.clone()));
        assert_eq!(d.read(0, 1), 0xe9);
        for b in b"hi\n" {
            d.write(0, 1, u32::from(*b));
        }
        assert_eq!(buf.contents(), b"hi\n");
        d.write(0, 2, 0x4142);
        d.flush().unwrap();
        assert_eq!(buf.contents(), b"hi\nB");
        assert_eq!(d.state.bytes, 4);
    }

    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk full"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::other("disk full"))
        }
    }

    #[test]
    fn sink_errors_are_reported_at_flush() {
        let mut d = DebugCon::new(Box::new(Broken));
        d.write(0, 1, u32::from(b'\n'));
        d.write(0, 1, u32::from(b'x'));
        assert!(d.flush().is_err());
    }
}

//! POST-code ports (0x80, and 0x190 which some firmware uses as well).
//! Every write is appended to the POST log as one line:
//!
//! ```text
//! port=0x80 value=0x12
//! ```
//!
//! with the port in hex and the value in hex with two digits per byte of the
//! access (`value=0x1234` for a 16-bit write, `value=0x12345678` for 32).
//! Reads return all-ones, as on a PC without a POST card readback.

use crate::pio::PortDevice;
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

/// The ports conventionally used for POST codes.
pub const PORTS: [u16; 2] = [0x80, 0x190];

struct LogInner {
    sink: Option<Box<dyn Write + Send>>,
    error: Option<io::Error>,
}

/// The POST log sink, shared by the POST-code devices so their lines come
/// out in order. With no sink, writes are still accepted and dropped.
#[derive(Clone)]
pub struct PostLog(Arc<Mutex<LogInner>>);

impl fmt::Debug for PostLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PostLog")
    }
}

impl PostLog {
    pub fn new(sink: Option<Box<dyn Write + Send>>) -> PostLog {
        PostLog(Arc::new(Mutex::new(LogInner { sink, error: None })))
    }

    fn line(&self, port: u16, size: u32, value: u32) {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let inner = &mut *g;
        if inner.error.is_some() {
            return;
        }
        if let Some(sink) = inner.sink.as_mut() {
            let digits = (size as usize) * 2;
            let r = writeln!(sink, "port={port:#x} value=0x{value:0digits$x}");
            if let Err(e) = r {
                inner.error = Some(e);
            }
        }
    }

    fn flush(&self) -> io::Result<()> {
        let mut g = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(e) = g.error.take() {
            return Err(e);
        }
        match g.sink.as_mut() {
            Some(s) => s.flush(),
            None => Ok(()),
        }
    }
}

/// Saved state: the last code written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostState {
    pub last: Option<u32>,
}

/// One POST-code port.
#[derive(Debug)]
pub struct PostCodes {
    pub state: PostState,
    port: u16,
    log: PostLog,
}

impl PostCodes {
    pub fn new(port: u16, log: PostLog) -> PostCodes {
        PostCodes {
            state: PostState::default(),
            port,
            log,
        }
    }
}

impl PortDevice for PostCodes {
    fn name(&self) -> &str {
        "post-codes"
    }

    fn read(&mut self, _offset: u16, _size: u32) -> u32 {
        u32::MAX
    }

    fn write(&mut self, offset: u16, size: u32, value: u32) {
        self.state.last = Some(value);
        self.log.line(self.port.wrapping_add(offset), size, value);
    }

    fn flush(&mut self) -> io::Result<()> {
        self.log.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::SharedBuf;

    #[test]
    fn log_format() {
        let buf = SharedBuf::default();
        let log = PostLog::new(Some(Box::new(buf.clone())));
        let mut a = PostCodes::new(0x80, log.clone());
        let mut b = PostCodes::new(0x190, log);
        a.write(0, 1, 0x12);
        b.write(0, 2, 0xbeef);
        a.write(0, 4, 0x5);
        assert_eq!(a.read(0, 1), u32::MAX);
        a.flush().unwrap();
        assert_eq!(
            String::from_utf8(buf.contents()).unwrap(),
            "port=0x80 value=0x12\nport=0x190 value=0xbeef\nport=0x80 value=0x00000005\n"
        );
        assert_eq!(a.state.last, Some(5));
    }

    #[test]
    fn no_sink_drops_writes() {
        let mut a = PostCodes::new(0x80, PostLog::new(None));
        a.write(0, 1, 1);
        a.flush().unwrap();
        assert_eq!(a.state.last, Some(1));
    }
}

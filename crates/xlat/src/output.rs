//! The output files of `xlat run`: the debug console (`--debugcon FILE` or
//! stdout), the POST log and the statistics file (`--stats-json`); and
//! the report `xlat test-roms` and `xlat diff` print on stdout.
//!
//! Each is opened (created or truncated) before the run, so a path that
//! cannot be opened is a usage error before anything runs. Its writer, a
//! [`Sink`], goes to the device that produces the output; the matching
//! [`Output`] stays with the command and says after the run whether every
//! write succeeded.
//!
//! The first write error of an output is recorded and the rest of that
//! output is dropped, so the error is reported once (not once per byte),
//! after the run, and the run itself is not disturbed. A broken pipe is
//! not an error: the reader went away (`xlat run ... | head -1`), and, as
//! for a Unix filter, that is no failure of the program; the rest of the
//! output is dropped quietly and the status stays the run's.

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// What became of an output's writes.
#[derive(Debug, Default)]
enum Fate {
    /// Every write succeeded (so far).
    #[default]
    Written,
    /// The reader closed its end of the pipe; later output was dropped.
    ReaderGone,
    /// This write error happened; later output was dropped.
    Failed(io::Error),
}

type Shared = Arc<Mutex<Fate>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Fate> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer of one output: passes writes to `inner` until one fails,
/// records how, and from then on drops everything (reporting success, so
/// the device does not report the error a second time).
pub struct Sink<W> {
    inner: W,
    fate: Shared,
}

impl<W> fmt::Debug for Sink<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sink")
            .field("fate", &*lock(&self.fate))
            .finish()
    }
}

impl<W: Write> Sink<W> {
    /// Run one operation on the inner writer unless the output is dead;
    /// `done` is what a dropped or failed operation reports.
    fn attempt<T>(&mut self, done: T, op: impl FnOnce(&mut W) -> io::Result<T>) -> io::Result<T> {
        let mut fate = lock(&self.fate);
        if !matches!(*fate, Fate::Written) {
            return Ok(done);
        }
        match op(&mut self.inner) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                *fate = Fate::ReaderGone;
                Ok(done)
            }
            Err(e) => {
                *fate = Fate::Failed(e);
                Ok(done)
            }
            ok => ok,
        }
    }
}

impl<W: Write> Sink<W> {
    /// Write `args` and a newline. An error is recorded for
    /// [`Output::failure`], not returned.
    pub fn line(&mut self, args: fmt::Arguments<'_>) {
        let _ = self.write_fmt(args).and_then(|()| self.write_all(b"\n"));
    }
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.attempt(buf.len(), |w| w.write(buf))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.attempt((), Write::flush)
    }
}

/// One output as the command sees it: what it is, where it goes, and how
/// its writes fared.
#[derive(Debug)]
pub struct Output {
    /// `debug-console file`, `POST log`, ...
    what: &'static str,
    /// `None` for stdout.
    path: Option<PathBuf>,
    fate: Shared,
}

impl Output {
    /// Create (or truncate) the file at `path` for output `what`.
    pub fn create(what: &'static str, path: &Path) -> io::Result<(Output, Sink<File>)> {
        let file = File::create(path)?;
        Ok(Output::new(what, Some(path.to_path_buf()), file))
    }

    /// Output `what` on stdout.
    pub fn stdout(what: &'static str) -> (Output, Sink<io::Stdout>) {
        Output::new(what, None, io::stdout())
    }

    fn new<W>(what: &'static str, path: Option<PathBuf>, inner: W) -> (Output, Sink<W>) {
        let fate = Shared::default();
        let sink = Sink {
            inner,
            fate: fate.clone(),
        };
        (Output { what, path, fate }, sink)
    }

    /// The write error of this output, worded for a message: `cannot
    /// write POST log post.txt: No space left on device (os error 28)`.
    pub fn failure(&self) -> Option<String> {
        match &*lock(&self.fate) {
            Fate::Failed(e) => Some(match &self.path {
                Some(p) => format!("cannot write {} {}: {e}", self.what, p.display()),
                None => format!("cannot write {} (stdout): {e}", self.what),
            }),
            Fate::Written | Fate::ReaderGone => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fails every write with `kind` after `ok` bytes.
    struct Flaky {
        ok: usize,
        kind: io::ErrorKind,
        writes: usize,
    }
    impl Write for Flaky {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.writes += 1;
            if self.ok == 0 {
                return Err(self.kind.into());
            }
            let n = buf.len().min(self.ok);
            self.ok -= n;
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn flaky(ok: usize, kind: io::ErrorKind) -> (Output, Sink<Flaky>) {
        let w = Flaky {
            ok,
            kind,
            writes: 0,
        };
        Output::new("test file", Some(PathBuf::from("t.txt")), w)
    }

    #[test]
    fn the_first_error_is_kept_and_later_output_dropped() {
        let (out, mut sink) = flaky(3, io::ErrorKind::StorageFull);
        assert_eq!(out.failure(), None);
        sink.write_all(b"abcdef").unwrap();
        sink.write_all(b"gh").unwrap();
        sink.flush().unwrap();
        // Two writes: "abc", then the failing one; none after.
        assert_eq!(sink.inner.writes, 2);
        let msg = out.failure().unwrap();
        assert!(msg.starts_with("cannot write test file t.txt: "), "{msg}");
    }

    #[test]
    fn a_broken_pipe_is_not_a_failure() {
        let (out, mut sink) = flaky(0, io::ErrorKind::BrokenPipe);
        sink.write_all(b"abc").unwrap();
        sink.write_all(b"def").unwrap();
        assert_eq!(sink.inner.writes, 1);
        assert_eq!(out.failure(), None);
    }

    #[test]
    fn stdout_is_named() {
        let (out, _sink) = Output::stdout("debug-console output");
        *lock(&out.fate) = Fate::Failed(io::ErrorKind::StorageFull.into());
        let msg = out.failure().unwrap();
        assert!(
            msg.starts_with("cannot write debug-console output (stdout): "),
            "{msg}"
        );
    }
}

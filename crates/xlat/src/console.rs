//! The host side of COM1 under `xlat run` when its output is on stdout:
//! a thread that reads stdin into the machine's serial input, the
//! terminal in raw mode meanwhile (so keys reach the guest as typed,
//! Ctrl-C included), and an escape to end the run, as QEMU's
//! `-serial mon:stdio` has: Ctrl-A then `x` quits, Ctrl-A twice sends one
//! Ctrl-A.

use rustix::termios::{self, OptionalActions, Termios};
use std::io::Read;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// Chunks of input in flight at most (each at most `CHUNK` bytes).
const IN_FLIGHT: usize = 64;
const CHUNK: usize = 4096;
/// The escape key, Ctrl-A.
const ESCAPE: u8 = 0x01;

/// The terminal's settings before raw mode, put back when dropped.
#[derive(Debug)]
pub struct Console {
    saved: Option<Termios>,
}

impl Drop for Console {
    fn drop(&mut self) {
        restore(self.saved.as_ref());
    }
}

fn restore(saved: Option<&Termios>) {
    if let Some(t) = saved {
        let _ = termios::tcsetattr(rustix::stdio::stdin(), OptionalActions::Now, t);
    }
}

/// Start reading stdin for COM1: the receiving end for the machine, and
/// the guard that restores the terminal.
pub fn start() -> (Console, Receiver<Vec<u8>>) {
    let stdin = rustix::stdio::stdin();
    let saved = termios::isatty(stdin)
        .then(|| termios::tcgetattr(stdin).ok())
        .flatten();
    if let Some(t) = &saved {
        let mut raw = t.clone();
        raw.make_raw();
        // Output keeps its newline translation, so the host's own lines
        // (xlat's last line) stay readable.
        raw.output_modes = t.output_modes;
        let _ = termios::tcsetattr(stdin, OptionalActions::Now, &raw);
    }
    let (tx, rx) = sync_channel(IN_FLIGHT);
    let escape = saved.is_some();
    let restore_to = saved.clone();
    std::thread::spawn(move || read_loop(&tx, escape, restore_to));
    (Console { saved }, rx)
}

/// Forward stdin until it ends, the machine goes away, or (on a terminal)
/// the user types Ctrl-A x.
fn read_loop(tx: &SyncSender<Vec<u8>>, escape: bool, saved: Option<Termios>) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; CHUNK];
    let mut after_escape = false;
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut out = Vec::with_capacity(n);
        for &b in &buf[..n] {
            if !escape {
                out.push(b);
            } else if after_escape {
                after_escape = false;
                match b {
                    b'x' | b'X' => {
                        restore(saved.as_ref());
                        eprintln!("\r\nxlat: terminated by Ctrl-A x");
                        std::process::exit(0);
                    }
                    ESCAPE => out.push(ESCAPE),
                    _ => {}
                }
            } else if b == ESCAPE {
                after_escape = true;
            } else {
                out.push(b);
            }
        }
        if !out.is_empty() && tx.send(out).is_err() {
            return;
        }
    }
}

//! The host-fault reporter: a SIGSEGV/SIGBUS handler that turns a fault
//! caused by translated code or on guest memory's guard pages into one
//! line on stderr and exit status [`INTERNAL_ERROR_STATUS`].
//!
//! A fault is *ours* when the faulting data address lies in a registered
//! guest-memory reservation (a guard page, or a write to read-only ROM)
//! or the host PC lies in registered translated code
//! ([`register_code`]). Then the handler writes, with `write(2)` from a
//! stack buffer (no allocation, no locks that could block):
//!
//! ```text
//! xlat: internal error: host fault (SIGSEGV) at host address 0x7f.., host pc 0x7f..,
//!   in translated code of the block at guest RIP 0x1000 (block 3),
//!   in the guard region of the guest memory reservation 0x7f..-0x7f..
//! ```
//!
//! (one line; the parts that apply) and calls `_exit(70)`. Any other
//! fault goes to the handler installed before [`install`]: its
//! `sa_sigaction` / `sa_handler` is called, or, when it was the default
//! action, the default is restored and the handler returns so that the
//! fault recurs and the process dies of it as it would have without us.
//! Rust's own handler (stack-overflow detection) is such a previous
//! handler and keeps working.
//!
//! Blocks are looked up for the report in a mutex-protected map that the
//! handler only ever `try_lock`s: if another thread holds it (for a few
//! instructions, while translating), the line names no block.

use crate::table::RangeTable;
use crate::GUARD;
use std::collections::BTreeMap;
use std::ffi::{c_int, c_void};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};

/// Exit status after a host fault in translated code or on a guard page
/// (EX_SOFTWARE). Every status a guest can cause xlat to exit with is odd
/// or one of 0, 2, 3, 4 and 5, so this one is distinct.
pub const INTERNAL_ERROR_STATUS: i32 = 70;

/// Guest-memory reservations (guards included).
static REGIONS: RangeTable<256> = RangeTable::new();
/// Executable mappings holding translated code.
static CODE: RangeTable<4096> = RangeTable::new();
/// Translated blocks by host start address.
static BLOCKS: Mutex<BTreeMap<u64, BlockInfo>> = Mutex::new(BTreeMap::new());
/// The handlers `install` replaced: SIGSEGV, SIGBUS.
static PREVIOUS: [OnceLock<libc::sigaction>; 2] = [const { OnceLock::new() }; 2];
static INSTALL: Once = Once::new();

/// A translated block, as registered with [`register_block`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    pub host_start: u64,
    pub host_len: u64,
    pub guest_rip: u64,
    pub id: u64,
}

pub(crate) fn register_reservation(start: u64, len: usize) {
    REGIONS.insert(start, len as u64);
}

pub(crate) fn unregister_reservation(start: u64) {
    REGIONS.remove(start);
}

/// The guest-memory reservation (guard regions included) holding `addr`,
/// as `(start, end)`.
pub fn reservation_at(addr: u64) -> Option<(u64, u64)> {
    REGIONS.find(addr)
}

/// Register the executable pages holding `[start, start + len)` as
/// translated code. False if they could not be registered (the table of
/// 4096 ranges is full): faults there are then not recognised as ours.
pub fn register_code(start: u64, len: usize) -> bool {
    CODE.insert(start, len as u64)
}

/// Unregister the code range registered at `start`, and every block
/// registered inside it (call before unmapping it).
pub fn unregister_code(start: u64) {
    if let Some((s, e)) = CODE.remove(start) {
        blocks().retain(|&k, _| !(s..e).contains(&k));
    }
}

/// The registered code range holding `pc`, as `(start, end)`.
pub fn code_at(pc: u64) -> Option<(u64, u64)> {
    CODE.find(pc)
}

/// Remember the block whose host code is `[host_start, host_start +
/// host_len)`, translated from `guest_rip`, for the fault report.
pub fn register_block(host_start: u64, host_len: usize, guest_rip: u64, block_id: u64) {
    let b = BlockInfo {
        host_start,
        host_len: host_len as u64,
        guest_rip,
        id: block_id,
    };
    blocks().insert(host_start, b);
}

/// Forget the block registered at `host_start` (before its code is freed).
pub fn unregister_block(host_start: u64) {
    blocks().remove(&host_start);
}

/// The registered block whose host code holds `pc`.
pub fn block_at(pc: u64) -> Option<BlockInfo> {
    find_block(&blocks(), pc)
}

fn blocks() -> MutexGuard<'static, BTreeMap<u64, BlockInfo>> {
    // The map is consistent after any panic (single insert/remove calls).
    BLOCKS.lock().unwrap_or_else(|e| e.into_inner())
}

fn find_block(map: &BTreeMap<u64, BlockInfo>, pc: u64) -> Option<BlockInfo> {
    let (_, b) = map.range(..=pc).next_back()?;
    (pc - b.host_start < b.host_len).then_some(*b)
}

/// `block_at` for the signal handler: never blocks; None if the map is
/// busy.
fn block_at_nonblocking(pc: u64) -> Option<BlockInfo> {
    for _ in 0..1000 {
        match BLOCKS.try_lock() {
            Ok(map) => return find_block(&map, pc),
            Err(std::sync::TryLockError::Poisoned(e)) => return find_block(&e.into_inner(), pc),
            Err(std::sync::TryLockError::WouldBlock) => std::hint::spin_loop(),
        }
    }
    None
}

/// Install the handler for SIGSEGV and SIGBUS (once per process; later
/// calls do nothing).
///
/// It runs on the alternate signal stack where the thread has one
/// (`SA_ONSTACK`): Rust's runtime gives the main thread and every thread
/// started with `std::thread` one. On a thread without (made by foreign
/// code) it runs on the thread's own stack, which works for every fault
/// except a stack overflow.
pub fn install() {
    INSTALL.call_once(|| {
        for (i, sig) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
            install_one(i, sig);
        }
    });
}

fn install_one(i: usize, sig: c_int) {
    let mut old = empty_action();
    // SAFETY: only reads the current action into `old`.
    if unsafe { libc::sigaction(sig, std::ptr::null(), &mut old) } != 0 {
        return;
    }
    // Saved before our handler can run, so it always finds it.
    let _ = PREVIOUS[i].set(old);
    let mut new = empty_action();
    new.sa_sigaction = on_fault as *const () as usize;
    new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
    // SAFETY: installs `on_fault`, an `extern "C"` function with the
    // SA_SIGINFO signature that only does async-signal-safe work.
    unsafe { libc::sigaction(sig, &new, std::ptr::null_mut()) };
}

/// A `sigaction` with the default action, no flags and an empty mask.
fn empty_action() -> libc::sigaction {
    // SAFETY: `sigaction` is plain data for which all-zero bytes are
    // valid: SIG_DFL, an empty mask (on Linux), no flags, no restorer.
    unsafe { std::mem::zeroed() }
}

/// What the handler knows about a fault.
#[derive(Clone, Copy, Debug)]
struct Facts {
    sig: c_int,
    addr: u64,
    pc: u64,
    code: Option<(u64, u64)>,
    block: Option<BlockInfo>,
    region: Option<(u64, u64)>,
}

impl Facts {
    fn ours(&self) -> bool {
        self.code.is_some() || self.region.is_some()
    }

    fn describe(&self, line: &mut Line) {
        line.push("xlat: internal error: host fault (");
        match self.sig {
            libc::SIGSEGV => line.push("SIGSEGV"),
            libc::SIGBUS => line.push("SIGBUS"),
            n => {
                line.push("signal ");
                line.dec(n as u64);
            }
        }
        line.push(") at host address ");
        line.hex(self.addr);
        line.push(", host pc ");
        line.hex(self.pc);
        match (self.block, self.code) {
            (Some(b), _) => {
                line.push(", in translated code of the block at guest RIP ");
                line.hex(b.guest_rip);
                line.push(" (block ");
                line.dec(b.id);
                line.push(")");
            }
            (None, Some(_)) => line.push(", in translated code outside any known block"),
            (None, None) => line.push(", outside translated code"),
        }
        if let Some((start, end)) = self.region {
            let guard = self.addr < start + GUARD as u64 || self.addr >= end - GUARD as u64;
            line.push(if guard {
                ", in the guard region of the guest memory reservation "
            } else {
                ", in read-only guest memory of the reservation "
            });
            line.hex(start);
            line.push("-");
            line.hex(end);
        }
        line.push("\n");
    }
}

/// One line of text in a fixed buffer (the handler must not allocate);
/// longer text is cut, keeping the final newline.
struct Line {
    buf: [u8; 512],
    len: usize,
}

impl Line {
    fn new() -> Line {
        Line {
            buf: [0; 512],
            len: 0,
        }
    }

    fn push(&mut self, s: &str) {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.buf[self.len - 1] = b'\n';
                return;
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
    }

    fn digits(&mut self, mut v: u64, base: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        loop {
            i -= 1;
            tmp[i] = b"0123456789abcdef"[(v % base) as usize];
            v /= base;
            if v == 0 {
                break;
            }
        }
        // Digits and letters are ASCII.
        self.push(std::str::from_utf8(&tmp[i..]).unwrap_or("?"));
    }

    fn hex(&mut self, v: u64) {
        self.push("0x");
        self.digits(v, 16);
    }

    fn dec(&mut self, v: u64) {
        self.digits(v, 10);
    }

    fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
}

/// Host PC at the fault, from the handler's `ucontext_t`.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn host_pc(uctx: *mut c_void) -> u64 {
    if uctx.is_null() {
        return 0;
    }
    let uc = uctx.cast::<libc::ucontext_t>();
    // SAFETY: the kernel passes an SA_SIGINFO handler its `ucontext_t`;
    // only one register of the saved context is read.
    unsafe { (*uc).uc_mcontext.gregs[libc::REG_RIP as usize] as u64 }
}

#[cfg(not(all(target_os = "linux", target_arch = "x86_64")))]
fn host_pc(_uctx: *mut c_void) -> u64 {
    0
}

extern "C" fn on_fault(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void) {
    if info.is_null() {
        return chain(sig, info, uctx, true);
    }
    // SAFETY: the kernel passes an SA_SIGINFO handler a valid siginfo,
    // which lives until the handler returns.
    let si = unsafe { &*info };
    if si.si_code <= 0 {
        // Sent by kill/raise/sigqueue: not a fault of this process's code.
        return chain(sig, info, uctx, true);
    }
    // SAFETY: for a SIGSEGV/SIGBUS raised by the kernel (si_code > 0)
    // the address field is the one that is set.
    let addr = unsafe { si.si_addr() } as u64;
    let pc = host_pc(uctx);
    let code = CODE.find(pc);
    let facts = Facts {
        sig,
        addr,
        pc,
        code,
        block: code.and_then(|_| block_at_nonblocking(pc)),
        region: REGIONS.find(addr),
    };
    if !facts.ours() {
        return chain(sig, info, uctx, false);
    }
    let mut line = Line::new();
    facts.describe(&mut line);
    write_stderr(line.as_bytes());
    // SAFETY: `_exit` is async-signal-safe and ends the process at once
    // (no destructors or atexit handlers run in a broken state).
    unsafe { libc::_exit(INTERNAL_ERROR_STATUS) }
}

fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes from a live buffer of `bytes.len()` bytes to fd 2.
        let n = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        if n > 0 {
            bytes = &bytes[n as usize..];
        } else if n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
        {
            continue;
        } else {
            return;
        }
    }
}

type SigactionFn = extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void);
type HandlerFn = extern "C" fn(c_int);

/// Hand a fault that is not ours to the previous handler. `sent`: the
/// signal came from kill/raise, so it does not recur by itself.
fn chain(sig: c_int, info: *mut libc::siginfo_t, uctx: *mut c_void, sent: bool) {
    let prev = match sig {
        libc::SIGSEGV => PREVIOUS[0].get(),
        libc::SIGBUS => PREVIOUS[1].get(),
        _ => None,
    };
    let action = prev.map_or(libc::SIG_DFL, |p| p.sa_sigaction);
    let siginfo = prev.is_some_and(|p| p.sa_flags & libc::SA_SIGINFO != 0);
    if action == libc::SIG_DFL || action == libc::SIG_IGN {
        // A synchronous fault cannot be ignored: the default action.
        let dfl = empty_action();
        // SAFETY: restores the default action of `sig` (async-signal-safe).
        unsafe { libc::sigaction(sig, &dfl, std::ptr::null_mut()) };
        if sent {
            // SAFETY: re-sends the signal to this thread; it is blocked
            // until the handler returns, then kills the process.
            unsafe { libc::raise(sig) };
        }
        // A fault recurs when the instruction runs again.
        return;
    }
    if siginfo {
        // SAFETY: the previous action was installed with SA_SIGINFO, so
        // `action` is a handler with that signature.
        let f = unsafe { std::mem::transmute::<usize, SigactionFn>(action) };
        f(sig, info, uctx);
    } else {
        // SAFETY: without SA_SIGINFO the action is a one-argument handler.
        let f = unsafe { std::mem::transmute::<usize, HandlerFn>(action) };
        f(sig);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(f: &Facts) -> String {
        let mut l = Line::new();
        f.describe(&mut l);
        String::from_utf8(l.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn report_lines() {
        let b = BlockInfo {
            host_start: 0x7000,
            host_len: 64,
            guest_rip: 0xfff0,
            id: 42,
        };
        let r = (0x10_0000, 0x10_0000 + 2 * GUARD as u64 + 0x1000);
        let f = Facts {
            sig: libc::SIGSEGV,
            addr: 0x10_0000 + GUARD as u64 - 8,
            pc: 0x7010,
            code: Some((0x7000, 0x8000)),
            block: Some(b),
            region: Some(r),
        };
        assert!(f.ours());
        assert_eq!(
            text(&f),
            "xlat: internal error: host fault (SIGSEGV) at host address 0x1ffff8, \
             host pc 0x7010, in translated code of the block at guest RIP 0xfff0 \
             (block 42), in the guard region of the guest memory reservation \
             0x100000-0x301000\n"
        );
        let rom = Facts {
            sig: libc::SIGBUS,
            addr: 0x10_0000 + GUARD as u64,
            block: None,
            code: None,
            ..f
        };
        assert_eq!(
            text(&rom),
            "xlat: internal error: host fault (SIGBUS) at host address 0x200000, \
             host pc 0x7010, outside translated code, in read-only guest memory of \
             the reservation 0x100000-0x301000\n"
        );
        let code_only = Facts {
            block: None,
            region: None,
            addr: 0,
            ..f
        };
        assert!(code_only.ours());
        assert!(text(&code_only).contains(
            "at host address 0x0, host pc 0x7010, in translated code outside any known block\n"
        ));
        let neither = Facts {
            code: None,
            region: None,
            ..f
        };
        assert!(!neither.ours());
    }

    #[test]
    fn long_lines_keep_their_newline() {
        let mut l = Line::new();
        for _ in 0..100 {
            l.push("0123456789");
        }
        assert_eq!(l.as_bytes().len(), 512);
        assert_eq!(l.as_bytes()[511], b'\n');
        let mut l = Line::new();
        l.hex(u64::MAX);
        l.push(" ");
        l.dec(u64::MAX);
        l.push(" ");
        l.dec(0);
        assert_eq!(l.as_bytes(), b"0xffffffffffffffff 18446744073709551615 0");
    }

    #[test]
    fn code_and_block_registry() {
        // Addresses in the top of the 48-bit space, far from any mapping
        // of this process (the registry does not care about mappings).
        let base = 0x7ff0_0000_0000u64;
        assert!(register_code(base, 0x2000));
        assert_eq!(code_at(base + 0x1fff), Some((base, base + 0x2000)));
        assert_eq!(code_at(base + 0x2000), None);
        register_block(base + 0x40, 0x80, 0x1234, 7);
        register_block(base + 0xc0, 0x40, 0x5678, 8);
        assert_eq!(block_at(base + 0x3f), None);
        assert_eq!(block_at(base + 0x40).map(|b| b.id), Some(7));
        assert_eq!(block_at(base + 0xbf).map(|b| b.guest_rip), Some(0x1234));
        assert_eq!(block_at(base + 0xc0).map(|b| b.id), Some(8));
        assert_eq!(block_at_nonblocking(base + 0xc1).map(|b| b.id), Some(8));
        assert_eq!(block_at(base + 0x100), None);
        unregister_block(base + 0x40);
        assert_eq!(block_at(base + 0x40), None);
        // Unregistering the code drops the blocks inside it.
        unregister_code(base);
        assert_eq!(code_at(base), None);
        assert_eq!(block_at(base + 0xc0), None);
    }
}

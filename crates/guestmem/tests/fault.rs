//! The fault reporter's exit path, in child processes: this test binary
//! runs itself again (`child` below, selected by an environment
//! variable), and the child faults.

use guestmem::fault::{self, INTERNAL_ERROR_STATUS};
use guestmem::{GuardedRegion, PAGE};
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Output};

const MODE: &str = "GUESTMEM_FAULT_CHILD";

/// Run `child` in a new process with `mode`.
fn run_child(mode: &str) -> Output {
    let exe = std::env::current_exe().unwrap();
    Command::new(exe)
        .args(["child", "--exact", "--nocapture", "--test-threads=1"])
        .env(MODE, mode)
        .output()
        .unwrap()
}

/// The child's end: does what `mode` says. Prints the address it is
/// about to touch (`fault-at 0x...`) on stdout first.
#[test]
fn child() {
    let Ok(mode) = std::env::var(MODE) else {
        return;
    };
    fault::install();
    fault::install(); // idempotent
    let mut ram = GuardedRegion::new(4 * PAGE).unwrap();
    let target: *const u8 = match mode.as_str() {
        "before" => ram.as_ptr().wrapping_sub(1),
        "after" => ram.as_ptr().wrapping_add(ram.len()),
        "far-after" => ram.as_ptr().wrapping_add(ram.len() + guestmem::GUARD - 1),
        "rom-write" | "rom-clone-write" => {
            ram[0] = 0x5a;
            let rom = ram.make_read_only().unwrap();
            let rom = if mode == "rom-clone-write" {
                rom.clone()
            } else {
                rom
            };
            assert_eq!(rom[0], 0x5a);
            let p = rom.as_ptr();
            println!("\nfault-at {:#x}", p as u64);
            // SAFETY: deliberately not valid: a write to read-only
            // memory, which must end the process with status 70.
            unsafe { std::ptr::write_volatile(p.cast_mut(), 1) };
            std::process::exit(1);
        }
        "unrelated" => 8 as *const u8,
        "stack-overflow" => {
            println!("recursed {}", recurse(0));
            std::process::exit(1);
        }
        other => panic!("unknown mode {other}"),
    };
    println!("\nfault-at {:#x}", target as u64);
    // SAFETY: deliberately not valid: the read must fault.
    let v = unsafe { std::ptr::read_volatile(target) };
    println!("read {v} and survived");
    std::process::exit(1);
}

/// Endless recursion with a big frame.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 512]);
    recurse(frame[depth as usize % 512] + 1) + frame[3]
}

/// The child's stdout says where it faulted; its stderr must be exactly
/// one `xlat:` line, naming that address and `what`, and status 70.
fn expect_reported(mode: &str, what: &str) {
    let out = run_child(mode);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(INTERNAL_ERROR_STATUS),
        "{mode}: {:?}\nstdout: {stdout}\nstderr: {stderr}",
        out.status
    );
    let at = stdout
        .lines()
        .find_map(|l| l.strip_prefix("fault-at "))
        .expect("the child says where");
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("xlat:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(
        line.starts_with(&format!(
            "xlat: internal error: host fault (SIGSEGV) at host address {at}, host pc 0x"
        )),
        "{line}"
    );
    assert!(line.contains(", outside translated code, "), "{line}");
    assert!(line.contains(what), "{line}");
}

#[test]
fn guard_before_a_region_is_reported() {
    expect_reported(
        "before",
        "in the guard region of the guest memory reservation 0x",
    );
}

#[test]
fn guard_after_a_region_is_reported() {
    expect_reported(
        "after",
        "in the guard region of the guest memory reservation 0x",
    );
    expect_reported(
        "far-after",
        "in the guard region of the guest memory reservation 0x",
    );
}

#[test]
fn write_to_read_only_region_is_reported() {
    expect_reported(
        "rom-write",
        "in read-only guest memory of the reservation 0x",
    );
    expect_reported(
        "rom-clone-write",
        "in read-only guest memory of the reservation 0x",
    );
}

#[test]
fn unrelated_fault_goes_to_the_previous_handler() {
    let out = run_child("unrelated");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGSEGV),
        "{:?}\n{stderr}",
        out.status
    );
    assert!(!stderr.contains("internal error"), "{stderr}");
}

#[test]
fn rust_still_detects_stack_overflow() {
    let out = run_child("stack-overflow");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{stderr}");
    assert!(stderr.contains("has overflowed its stack"), "{stderr}");
    assert!(!stderr.contains("internal error"), "{stderr}");
}

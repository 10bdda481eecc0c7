//! Hostile inputs (issue #12): a BIOS image that is an endless stream, a
//! huge file or a FIFO must be refused (or read) quickly, with one stderr
//! line and status 2, never read without bound.

mod common;

use common::*;
use std::io::Write;
use std::time::Duration;

/// 16 MiB, the largest image accepted.
const MAX_BIOS: u64 = 16 << 20;
/// Address space given to xlat where an unbounded read could exhaust the
/// host's memory: far more than a bounded read needs.
const VM_KIB: u64 = 1 << 20;
/// Far longer than reading 16 MiB takes, even on a loaded machine.
const QUICKLY: Duration = Duration::from_secs(20);

fn mkfifo(name: &str) -> std::path::PathBuf {
    let p = tmp(name);
    let ok = std::process::Command::new("mkfifo")
        .arg(&p)
        .status()
        .expect("run mkfifo");
    assert!(ok.success(), "mkfifo {}", p.display());
    p
}

/// The one-line size error, naming what was read.
fn assert_size_error(o: &std::process::Output, what: &str) {
    let e = stderr(o);
    assert_eq!(status(o), 2, "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains("multiple of 2 KiB between 2 KiB and 16 MiB"),
        "{e}"
    );
    assert!(e.contains(what), "{e}");
}

#[test]
fn bios_from_an_endless_device_is_refused_quickly() {
    for dev in ["/dev/zero", "/dev/urandom"] {
        let o = xlat_within(&["run", "--bios", dev], QUICKLY, Some(VM_KIB))
            .unwrap_or_else(|| panic!("xlat run --bios {dev} still running after {QUICKLY:?}"));
        assert_size_error(&o, &format!("{dev} is more than {MAX_BIOS} bytes"));
    }
}

#[test]
fn huge_bios_files_are_refused_without_reading_them() {
    // Just over the limit, and a sparse 8 GiB file (no disk space used).
    for size in [MAX_BIOS + 2048, 8 << 30] {
        let p = tmp("huge.bin");
        std::fs::File::create(&p).unwrap().set_len(size).unwrap();
        let o = xlat_within(
            &["run", "--bios", p.to_str().unwrap()],
            QUICKLY,
            Some(VM_KIB),
        )
        .unwrap_or_else(|| panic!("a {size}-byte BIOS still being read after {QUICKLY:?}"));
        assert_size_error(&o, &format!("is {size} bytes"));
        std::fs::remove_file(&p).unwrap();
    }
}

#[test]
fn bios_from_a_fifo() {
    // A finite stream: a 2 KiB image (a self-jump at the reset vector).
    let fifo = mkfifo("finite.fifo");
    let mut img = vec![0u8; 2048];
    img[0x7f0..0x7f2].copy_from_slice(&[0xeb, 0xfe]);
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::write(fifo, img))
    };
    let o = xlat_within(
        &["run", "--bios", fifo.to_str().unwrap(), "--max-insns", "10"],
        QUICKLY,
        None,
    )
    .expect("xlat still reading a finite FIFO");
    assert_eq!(status(&o), 5, "{}", stderr(&o));
    writer.join().unwrap().unwrap();

    // An endless one: the writer stops when xlat closes its end (EPIPE:
    // the test harness ignores SIGPIPE, as every Rust program does).
    let fifo = mkfifo("endless.fifo");
    {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut f = std::fs::OpenOptions::new().write(true).open(fifo)?;
            let chunk = vec![0u8; 1 << 16];
            loop {
                f.write_all(&chunk)?;
            }
            #[allow(unreachable_code)]
            Ok::<(), std::io::Error>(())
        });
    }
    let o = xlat_within(
        &["run", "--bios", fifo.to_str().unwrap()],
        QUICKLY,
        Some(VM_KIB),
    )
    .expect("xlat still reading an endless FIFO");
    assert_size_error(&o, "is more than 16777216 bytes");
}

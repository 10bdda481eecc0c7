//! Output files that cannot be opened or written (issue #12). An output
//! that cannot be opened (`--debugcon`, `--post-log`, `--stats-json`) is a
//! usage error before the run starts (one stderr line, status 2); a write
//! that fails during or after the run (ENOSPC on /dev/full) is reported
//! once, by the last stderr line, and the exit status is 74. A reader that
//! closes its end of a pipe early (`xlat run ... | head -1`) is not an
//! error: the rest of that output is dropped, the status is the run's.

mod common;

use common::*;
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Exit status for an output that could not be written (EX_IOERR).
const IO_ERROR: i32 = 74;

/// A ROM that writes `lines` lines of `xxxx` to the debug console and a
/// POST code before each, then exits with debug-exit value 0 (status 1).
fn chatty_rom(lines: u16) -> PathBuf {
    rom(
        |a| {
            a.mov(cx, lines as u32)?;
            let mut top = a.create_label();
            a.set_label(&mut top)?;
            a.mov(al, 0x55)?;
            a.out(0x80, al)?;
            a.mov(al, b'x' as u32)?;
            for _ in 0..4 {
                a.out(0xe9, al)?;
            }
            a.mov(al, b'\n' as u32)?;
            a.out(0xe9, al)?;
            a.loop_(top)?;
            a.xor(al, al)?;
            a.out(0xf4, al)?;
            a.hlt()
        },
        &[],
    )
}

fn run(rom: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "--bios", rom.to_str().unwrap()];
    args.extend_from_slice(extra);
    xlat(&args)
}

/// The write failure is the last stderr line, said once, naming the
/// output and the run's own status; the run-end line is still there.
fn assert_write_failure(o: &std::process::Output, names: &str) {
    let e = stderr(o);
    assert_eq!(status(o), IO_ERROR, "{e}");
    let last = e.lines().last().unwrap_or("");
    assert!(last.contains("cannot write"), "{e}");
    assert!(last.contains(names), "{e}");
    assert!(last.contains("No space left on device"), "{e}");
    assert!(last.contains("exit status 74"), "{e}");
    assert_eq!(e.matches("No space left").count(), 1, "{e}");
    assert!(e.contains("debug-exit value 0x0"), "{e}");
}

#[test]
fn a_full_debugcon_file_exits_74() {
    let o = run(&chatty_rom(1000), &["--debugcon", "/dev/full"]);
    assert_write_failure(&o, "debug-console file /dev/full");
}

#[test]
fn a_full_post_log_exits_74() {
    let con = tmp("debugcon.txt");
    let o = run(
        &chatty_rom(1000),
        &[
            "--post-log",
            "/dev/full",
            "--debugcon",
            con.to_str().unwrap(),
        ],
    );
    assert_write_failure(&o, "POST log /dev/full");
    // The other output is complete.
    assert_eq!(std::fs::read(&con).unwrap().len(), 5000);
}

#[test]
fn a_full_stats_json_file_exits_74() {
    let o = run(&chatty_rom(1), &["--stats-json", "/dev/full"]);
    assert_write_failure(&o, "statistics file /dev/full");
}

#[test]
fn a_full_stdout_exits_74() {
    let o = Command::new(env!("CARGO_BIN_EXE_xlat"))
        .args(["run", "--bios", chatty_rom(1000).to_str().unwrap()])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    assert_write_failure(&o, "debug-console output (stdout)");
}

#[test]
fn outputs_that_cannot_be_opened_fail_before_the_run() {
    let r = chatty_rom(1);
    let dir = tmp("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    let dir = dir.to_str().unwrap();
    for (flag, path, what) in [
        (
            "--stats-json",
            "/nonexistent/dir/stats.json",
            "statistics file",
        ),
        ("--stats-json", dir, "statistics file"),
        ("--debugcon", dir, "debug-console file"),
        ("--post-log", dir, "POST log"),
    ] {
        let o = run(&r, &[flag, path]);
        let e = stderr(&o);
        assert_eq!(status(&o), 2, "{flag} {path}: {e}");
        assert_eq!(e.lines().count(), 1, "{flag} {path}: the run started: {e}");
        assert!(e.contains(&format!("cannot create {what} {path}")), "{e}");
        assert_eq!(o.stdout, b"", "{flag} {path}: the run started");
    }
}

/// `xlat run ... | head -1`: the reader goes away; xlat drops the rest of
/// the debug console quietly and exits with the run's status.
#[test]
fn a_closed_stdout_pipe_is_not_an_error() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_xlat"))
        .args(["run", "--bios", chatty_rom(30000).to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert_eq!(first, "xxxx\n");
    // The reader is dropped: 150000 bytes do not fit in a pipe, so xlat
    // meets EPIPE.
    let o = child.wait_with_output().unwrap();
    let e = stderr(&o);
    assert_eq!(status(&o), 1, "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("debug-exit value 0x0"), "{e}");
}

/// `xlat diff` writes its report under the same rules.
#[test]
fn the_diff_report_follows_the_output_rules() {
    let o = Command::new(env!("CARGO_BIN_EXE_xlat"))
        .args(["diff", "--cases", "1"])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(status(&o), IO_ERROR, "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("cannot write the report (stdout)"), "{e}");
}

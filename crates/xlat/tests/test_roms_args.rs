//! `xlat test-roms` with selections that run nothing (issue #12): unknown
//! `--only` names and an empty ROM directory are usage errors (status 2,
//! before any ROM runs), a run in which every selected ROM was skipped is
//! not a success, and a `--keep` directory that cannot be made fails at
//! once.

mod common;

use common::*;
use std::path::{Path, PathBuf};

/// A fresh ROM directory holding a copy of `test-roms/hello` (image, log,
/// status) and, if given, a KNOWN-FAILURES file.
fn rom_dir(known_failures: Option<&str>) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-roms");
    let dir = tmp("roms");
    std::fs::create_dir_all(&dir).unwrap();
    for ext in ["bin", "expected", "status"] {
        let name = format!("hello.{ext}");
        std::fs::copy(src.join(&name), dir.join(&name)).unwrap();
    }
    if let Some(text) = known_failures {
        std::fs::write(dir.join("KNOWN-FAILURES"), text).unwrap();
    }
    dir
}

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_copied_rom_passes() {
    let dir = rom_dir(None);
    let o = xlat(&["test-roms", dir.to_str().unwrap()]);
    assert_eq!(status(&o), 0, "{}{}", stdout(&o), stderr(&o));
    assert!(stdout(&o).contains("1 passed, 0 failed"), "{}", stdout(&o));
}

#[test]
fn unknown_only_names_are_usage_errors() {
    let dir = rom_dir(None);
    for only in ["nosuch", "hello,nosuch,other"] {
        let o = xlat(&["test-roms", "--only", only, dir.to_str().unwrap()]);
        let e = stderr(&o);
        assert_eq!(status(&o), 2, "--only {only}: {}{e}", stdout(&o));
        assert_eq!(e.lines().count(), 1, "{e}");
        assert!(e.contains("no such ROM"), "{e}");
        assert!(e.contains("nosuch"), "{e}");
        assert!(!e.contains("hello"), "{e}");
        assert!(only == "nosuch" || e.contains("other"), "{e}");
        // Nothing ran.
        assert_eq!(stdout(&o), "", "--only {only}");
    }
}

#[test]
fn an_empty_rom_directory_is_a_usage_error() {
    let dir = tmp("empty-roms");
    std::fs::create_dir_all(&dir).unwrap();
    let o = xlat(&["test-roms", dir.to_str().unwrap()]);
    let e = stderr(&o);
    assert_eq!(status(&o), 2, "{}{e}", stdout(&o));
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("no ROMs"), "{e}");
    assert!(e.contains(dir.to_str().unwrap()), "{e}");
}

#[test]
fn a_run_that_skipped_every_rom_fails() {
    let dir = rom_dir(Some("hello: a pretend bug\n  its diagnosis\n"));
    for extra in [&[][..], &["--only", "hello"]] {
        let mut args = vec!["test-roms"];
        args.extend_from_slice(extra);
        args.push(dir.to_str().unwrap());
        let o = xlat(&args);
        let e = stderr(&o);
        assert_eq!(status(&o), 1, "{args:?}: {}{e}", stdout(&o));
        assert!(stdout(&o).contains("SKIP hello"), "{}", stdout(&o));
        assert!(
            e.lines().last().unwrap_or("").contains("no ROM was run"),
            "{e}"
        );
    }
}

#[test]
fn a_keep_directory_that_cannot_be_made_fails_first() {
    let dir = rom_dir(None);
    let o = xlat(&[
        "test-roms",
        "--keep",
        "/dev/null/logs",
        dir.to_str().unwrap(),
    ]);
    let e = stderr(&o);
    assert_eq!(status(&o), 2, "{}{e}", stdout(&o));
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("/dev/null/logs"), "{e}");
    assert_eq!(stdout(&o), "");
}

/// A failing ROM's log that cannot be kept is an output failure: status
/// 74 (not 1); stderr names the file, and its last line says it.
#[test]
fn a_kept_log_that_cannot_be_written_exits_74() {
    let dir = rom_dir(None);
    std::fs::write(dir.join("hello.expected"), "not what hello prints\n").unwrap();
    let keep = tmp("keep");
    // A directory where the log file should go: the write fails.
    std::fs::create_dir_all(keep.join("hello.log.actual")).unwrap();
    let o = xlat(&[
        "test-roms",
        "--keep",
        keep.to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    let e = stderr(&o);
    assert!(stdout(&o).contains("FAIL hello"), "{}", stdout(&o));
    assert_eq!(status(&o), 74, "{e}");
    let last = e.lines().last().unwrap_or("");
    assert!(e.contains("hello.log.actual"), "{e}");
    assert!(last.contains("cannot write 1 failing ROM log(s)"), "{e}");
    assert!(last.contains(keep.to_str().unwrap()), "{e}");
}

/// The report on stdout follows `xlat run`'s output rules: a full device
/// is status 74 with one line naming it, a reader that went away is not an
/// error (before: a panic, status 101).
#[test]
fn the_report_on_stdout_follows_the_output_rules() {
    use std::process::{Command, Stdio};
    let dir = rom_dir(None);
    let o = Command::new(env!("CARGO_BIN_EXE_xlat"))
        .args(["test-roms", dir.to_str().unwrap()])
        .stdout(std::fs::File::create("/dev/full").unwrap())
        .output()
        .unwrap();
    let e = stderr(&o);
    assert_eq!(status(&o), 74, "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.contains("cannot write the report (stdout)"), "{e}");

    let mut child = Command::new(env!("CARGO_BIN_EXE_xlat"))
        .args(["test-roms", dir.to_str().unwrap()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert_eq!(stderr(&o), "");
}

//! The conformance-ROM runner: runs `xlat test-roms --engine E test-roms/`
//! for every engine (the interpreter and the translator, the latter also
//! with `--tcache-size 64K`, so blocks are evicted and translated again as
//! the ROMs run) (see crates/xlat/src/test_roms.rs, the one place that runs a
//! ROM and compares its log), which runs every `test-roms/NAME.bin` that has
//! a `NAME.expected` log (made by QEMU, see test-roms/make-expected.sh) and
//! checks the debug-console log byte for byte and the exit status against
//! `NAME.status`. ROMs named in test-roms/KNOWN-FAILURES are skipped with a
//! note.
//!
//! `XLAT_ROMS=hello,modes` restricts the run to those names. The log of a
//! failing ROM is kept as `target/tmp/roms-ENGINE[-tcache-size-SIZE]/NAME.log.actual`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn roms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-roms")
}

#[test]
fn conformance_roms_match_qemu_under_the_interpreter() {
    run_roms(&["--engine", "interp"]);
}

#[test]
fn conformance_roms_match_qemu_under_the_translator() {
    run_roms(&["--engine", "jit"]);
}

#[test]
fn conformance_roms_match_qemu_under_the_translator_with_a_tiny_cache() {
    run_roms(&["--engine", "jit", "--tcache-size", "64K"]);
}

fn run_roms(args: &[&str]) {
    // One directory per configuration: the tests run in parallel.
    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "roms-{}",
        args.iter()
            .filter(|a| *a != &"--engine")
            .map(|a| a.trim_start_matches('-'))
            .collect::<Vec<_>>()
            .join("-")
    ));
    std::fs::create_dir_all(&keep).expect("create the log directory");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xlat"));
    cmd.arg("test-roms").args(args).arg("--keep").arg(&keep);
    if let Ok(only) = std::env::var("XLAT_ROMS") {
        cmd.arg("--only").arg(only);
    }
    let out = cmd.arg(roms_dir()).output().expect("run xlat test-roms");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    eprintln!("{stdout}{stderr}");
    let summary = stdout.lines().last().unwrap_or("");
    assert!(
        summary.ends_with(" failed") && summary.contains(" passed, "),
        "no summary line: {summary:?}"
    );
    assert!(!summary.starts_with("0 passed"), "no ROM ran");
    assert!(out.status.success(), "ROMs failed:\n{stdout}{stderr}");
}

#[test]
fn every_rom_has_a_source_a_log_and_a_status() {
    for entry in std::fs::read_dir(roms_dir()).expect("test-roms directory") {
        let p = entry.expect("dir entry").path();
        if p.extension().is_some_and(|x| x == "asm") {
            for ext in ["bin", "expected", "status"] {
                assert!(
                    p.with_extension(ext).exists(),
                    "{} has no .{ext}",
                    p.display()
                );
            }
            let size = std::fs::metadata(p.with_extension("bin")).unwrap().len();
            assert_eq!(size, 64 << 10, "{}", p.display());
        }
    }
}

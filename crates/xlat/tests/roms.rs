//! The conformance-ROM runner: runs `xlat test-roms --engine E test-roms/`
//! for every engine (the interpreter and the translator) (see crates/xlat/src/test_roms.rs, the one place that runs a
//! ROM and compares its log), which runs every `test-roms/NAME.bin` that has
//! a `NAME.expected` log (made by QEMU, see test-roms/make-expected.sh) and
//! checks the debug-console log byte for byte and the exit status against
//! `NAME.status`. ROMs named in test-roms/KNOWN-FAILURES are skipped with a
//! note.
//!
//! `XLAT_ROMS=hello,modes` restricts the run to those names. The log of a
//! failing ROM is kept as `target/tmp/NAME.log.actual`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn roms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-roms")
}

#[test]
fn conformance_roms_match_qemu_under_the_interpreter() {
    run_roms("interp");
}

#[test]
fn conformance_roms_match_qemu_under_the_translator() {
    run_roms("jit");
}

fn run_roms(engine: &str) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xlat"));
    cmd.arg("test-roms")
        .arg("--engine")
        .arg(engine)
        .arg("--keep")
        .arg(env!("CARGO_TARGET_TMPDIR"));
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

//! The conformance-ROM runner: every `test-roms/NAME.bin` that has a
//! `NAME.expected` log (made by QEMU, see test-roms/make-expected.sh) is run
//! under
//!
//! ```text
//! xlat run --engine interp --bios NAME.bin --debugcon <tmp> --max-insns <bound>
//! ```
//!
//! and must produce the expected debug-console log byte for byte and exit
//! with the status in `NAME.status` (QEMU's exit status). The bound is
//! `NAME.max-insns` if that file exists, else [`DEFAULT_BOUND`].
//!
//! All ROMs are run; the test fails at the end with one line per failing ROM.
//! `XLAT_ROMS=hello,modes` restricts the run to those names. On a mismatch
//! the log xlat produced is kept as `target/tmp/NAME.log.actual`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Steps allowed per ROM unless `NAME.max-insns` says otherwise: far more
/// than the small ROMs need (loop.bin, about 20 million steps, has its own).
const DEFAULT_BOUND: u64 = 5_000_000;

fn roms_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-roms")
}

fn read_number(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not a number: {:?}", path.display(), text.trim()))
}

/// The first line where `got` and `want` differ, for the failure message.
fn first_difference(got: &[u8], want: &[u8]) -> String {
    let g: Vec<&[u8]> = got.split(|b| *b == b'\n').collect();
    let w: Vec<&[u8]> = want.split(|b| *b == b'\n').collect();
    for i in 0..g.len().max(w.len()) {
        let a = g.get(i).copied();
        let b = w.get(i).copied();
        if a != b {
            let show = |l: Option<&[u8]>| match l {
                Some(l) => format!("{:?}", String::from_utf8_lossy(l)),
                None => "end of log".to_string(),
            };
            return format!("line {}: got {}, expected {}", i + 1, show(a), show(b));
        }
    }
    "logs differ".to_string()
}

/// Run one ROM; `Err` describes the failure.
fn run_rom(rom: &Path) -> Result<(), String> {
    let name = rom.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
    let expected_log = std::fs::read(rom.with_extension("expected"))
        .map_err(|e| format!("cannot read the expected log: {e}"))?;
    let expected_status = read_number(&rom.with_extension("status"))?;
    let bound_file = rom.with_extension("max-insns");
    let bound = if bound_file.exists() {
        read_number(&bound_file)?
    } else {
        DEFAULT_BOUND
    };
    let log = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.log.actual"));
    let out = Command::new(env!("CARGO_BIN_EXE_xlat"))
        .arg("run")
        .arg("--engine")
        .arg("interp")
        .arg("--bios")
        .arg(rom)
        .arg("--debugcon")
        .arg(&log)
        .arg("--max-insns")
        .arg(bound.to_string())
        .output()
        .map_err(|e| format!("cannot run xlat: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = stderr.lines().collect::<Vec<_>>().join(" | ");
    let status = out.status.code().map_or(-1, i64::from);
    let got = std::fs::read(&log).unwrap_or_default();
    let mut problems = Vec::new();
    if got != expected_log {
        problems.push(format!(
            "log differs ({}; kept in {})",
            first_difference(&got, &expected_log),
            log.display()
        ));
    }
    if status != expected_status as i64 {
        problems.push(format!("exit status {status}, expected {expected_status}"));
    }
    if problems.is_empty() {
        let _ = std::fs::remove_file(&log);
        Ok(())
    } else {
        Err(format!("{}; xlat said: {report}", problems.join("; ")))
    }
}

#[test]
fn conformance_roms_match_qemu() {
    let only: Option<Vec<String>> = std::env::var("XLAT_ROMS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let mut roms: Vec<PathBuf> = std::fs::read_dir(roms_dir())
        .expect("test-roms directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .filter(|p| p.with_extension("expected").exists())
        .filter(|p| {
            only.as_ref().is_none_or(|names| {
                p.file_stem()
                    .and_then(|s| s.to_str())
                    .is_some_and(|s| names.iter().any(|n| n == s))
            })
        })
        .collect();
    roms.sort();
    assert!(!roms.is_empty(), "no test ROMs with expected logs found");
    let mut failures = Vec::new();
    for rom in &roms {
        let name = rom.file_stem().and_then(|s| s.to_str()).unwrap_or("?");
        match run_rom(rom) {
            Ok(()) => eprintln!("rom {name}: ok"),
            Err(e) => {
                eprintln!("rom {name}: FAILED: {e}");
                failures.push(format!("{name}: {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} ROMs failed:\n{}",
        failures.len(),
        roms.len(),
        failures.join("\n")
    );
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

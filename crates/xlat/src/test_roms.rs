//! `xlat test-roms [--engine E] [--tcache-size SIZE] [DIR]`: run every
//! conformance ROM in DIR
//! (default `test-roms/`) and compare it with the log and exit status QEMU
//! produced (see test-roms/make-expected.sh).
//!
//! A ROM is `NAME.bin` with `NAME.expected` (the debug-console log, byte for
//! byte) and `NAME.status` (the process exit status); `NAME.max-insns`, if
//! present, bounds the run (default [`DEFAULT_BOUND`] steps); `NAME.cpu`, if
//! present, names the CPU model the ROM runs on (else `--cpu`, by default
//! the `xlat` model). Names listed in
//! `DIR/KNOWN-FAILURES` (first word of each non-comment line) are skipped
//! with a note. One line per ROM:
//!
//! ```text
//! PASS name
//! FAIL name: first difference at line N
//! TIMEOUT name
//! ```
//!
//! then `N passed, N failed`. That report goes to stdout under `xlat run`'s
//! output rules (`output.rs`): a reader that goes away is no error, a
//! failed write is status 74. The exit status is 0 only if at least one ROM
//! ran and none failed, 1 otherwise (a run in which every selected ROM was
//! skipped ends with `xlat: no ROM was run`), 74 if a failing ROM's log
//! could not be kept (`--keep`; each is named on stderr when it fails,
//! and the last stderr line says how many), and 2 for bad arguments,
//! checked before any ROM runs: DIR unreadable or holding no ROM, a name
//! in `--only` that is not a ROM of DIR, a `--keep` directory that cannot
//! be made.
//! With `--keep DIR` the log of each failing ROM is written to
//! `DIR/NAME.log.actual` (DIR is created if needed); `--only a,b`
//! restricts the run to those names.
//! `--tcache-size` bounds the translator's code cache as for `xlat run`
//! (a small one makes the translator evict and retranslate as it goes).
//!
//! The cargo test `crates/xlat/tests/roms.rs` runs this command.

use crate::cpu::CpuArg;
use crate::output::Output;
use crate::{status, CacheSize, EngineArg};
use cpu_model::CpuModel;
use machine::{Bios, Machine, MachineConfig, MemorySize, RunExit};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

/// Steps allowed per ROM unless `NAME.max-insns` says otherwise.
pub const DEFAULT_BOUND: u64 = 5_000_000;

#[derive(Debug, clap::Args)]
pub struct TestRomsArgs {
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    engine: EngineArg,
    /// Translation cache capacity (host code), as for `xlat run`: a number
    /// with a K, M or G suffix (plain numbers are MiB), 64K to 1G.
    #[arg(long, value_name = "SIZE", default_value = "32M")]
    tcache_size: CacheSize,
    /// CPU model of the ROMs without a NAME.cpu file; `help` lists them.
    #[arg(long, value_name = "NAME", default_value_t = CpuArg::default())]
    cpu: CpuArg,
    /// Write the debug-console log of each failing ROM to DIR/NAME.log.actual.
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
    /// Run only these ROMs (comma-separated names).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    only: Vec<String>,
    /// The directory of the ROMs.
    #[arg(default_value = "test-roms")]
    dir: PathBuf,
}

/// The outcome of one ROM.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The log (first differing line, 1-based) or the exit status differ.
    Fail {
        line: Option<usize>,
        detail: String,
    },
    /// The step bound was reached (and QEMU's status was not the limit's).
    Timeout,
}

/// A `Write` into a shared buffer, so the log can be read after the run.
#[derive(Clone, Default)]
struct SharedBuf(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut v) => v.extend_from_slice(data),
            Err(p) => p.into_inner().extend_from_slice(data),
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The process exit status `xlat run` gives for `exit`.
pub fn exit_code(exit: &RunExit) -> u8 {
    match exit {
        RunExit::DebugExit(v) => machine::devices::debug_exit::exit_status(*v),
        RunExit::Halted => status::HALTED,
        RunExit::TripleFault => status::TRIPLE_FAULT,
        RunExit::Unsupported(_) => status::UNSUPPORTED,
        RunExit::InstructionLimit => status::LIMIT,
        RunExit::Reset => status::RESET,
        RunExit::PowerOff => status::POWER_OFF,
    }
}

/// The first line (1-based) where two logs differ, if they do.
pub fn first_difference(got: &[u8], want: &[u8]) -> Option<(usize, String)> {
    let g: Vec<&[u8]> = got.split(|b| *b == b'\n').collect();
    let w: Vec<&[u8]> = want.split(|b| *b == b'\n').collect();
    let show = |l: Option<&&[u8]>| match l {
        Some(l) => format!("{:?}", String::from_utf8_lossy(l)),
        None => "end of log".to_string(),
    };
    (0..g.len().max(w.len()))
        .find(|&i| g.get(i) != w.get(i))
        .map(|i| {
            let d = format!("got {}, expected {}", show(g.get(i)), show(w.get(i)));
            (i + 1, d)
        })
}

fn read_number(path: &Path) -> Result<u64, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{}: not a number: {:?}", path.display(), text.trim()))
}

/// The CPU model `NAME.cpu` names, if the file exists.
fn rom_cpu(rom: &Path) -> Result<Option<&'static CpuModel>, String> {
    let path = rom.with_extension("cpu");
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    CpuModel::by_name(text.trim())
        .map(Some)
        .ok_or_else(|| format!("{}: unknown CPU model {:?}", path.display(), text.trim()))
}

/// Run one ROM (`NAME.bin`) with a translation cache of `tcache_bytes`,
/// on `cpu` unless `NAME.cpu` names another model, and compare it with
/// its expected log and status. Returns the verdict and the log xlat
/// produced.
pub fn run_rom(
    rom: &Path,
    engine: EngineArg,
    tcache_bytes: usize,
    cpu: &'static CpuModel,
) -> Result<(Verdict, Vec<u8>), String> {
    let cpu = rom_cpu(rom)?.unwrap_or(cpu);
    let want = std::fs::read(rom.with_extension("expected"))
        .map_err(|e| format!("cannot read the expected log: {e}"))?;
    let want_status = read_number(&rom.with_extension("status"))?;
    let bound_file = rom.with_extension("max-insns");
    let bound = if bound_file.exists() {
        read_number(&bound_file)?
    } else {
        DEFAULT_BOUND
    };
    let bios = Bios::load(rom).map_err(|e| e.to_string())?;
    let log = SharedBuf::default();
    let mut m = Machine::new(MachineConfig {
        memory: MemorySize::DEFAULT,
        bios,
        debugcon: Box::new(log.clone()),
        post_log: None,
        engine: engine.into(),
        tcache_bytes,
        cpu,
        serial: Box::new(std::io::sink()),
        rtc_base: machine::DEFAULT_RTC_BASE,
        host_clock: false,
        serial_input: None,
    })
    .map_err(|e| e.to_string())?;
    let exit = m.run(Some(bound));
    let _ = m.flush();
    let got = match log.0.lock() {
        Ok(v) => v.clone(),
        Err(p) => p.into_inner().clone(),
    };
    let code = u64::from(exit_code(&exit));
    let verdict = if exit == RunExit::InstructionLimit && want_status != code {
        Verdict::Timeout
    } else if let Some((line, d)) = first_difference(&got, &want) {
        Verdict::Fail {
            line: Some(line),
            detail: format!("{d}; run ended: {exit} at {}", m.cpu_summary()),
        }
    } else if code != want_status {
        Verdict::Fail {
            line: None,
            detail: format!("exit status {code}, expected {want_status}: {exit}"),
        }
    } else {
        Verdict::Pass
    };
    Ok((verdict, got))
}

/// Names listed in `DIR/KNOWN-FAILURES`: the first word of each line that
/// does not start with whitespace or `#` (indented lines are the diagnosis).
pub fn known_failures(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("KNOWN-FAILURES"))
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.starts_with([' ', '\t', '#']))
        .filter_map(|l| l.split_whitespace().next())
        .map(|w| w.trim_end_matches(':').to_string())
        .collect()
}

/// The ROMs of `dir`: every `NAME.bin` with a `NAME.expected`, sorted.
fn find_roms(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut roms: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .filter(|p| p.with_extension("expected").exists())
        .collect();
    roms.sort();
    Ok(roms)
}

fn rom_name(rom: &Path) -> &str {
    rom.file_stem().and_then(|s| s.to_str()).unwrap_or("?")
}

/// Check the arguments before any ROM runs: DIR must hold ROMs, every
/// `--only` name must be one of them, and the `--keep` directory must
/// exist or be made. `Err` is the one-line message (status 2).
fn check(args: &TestRomsArgs) -> Result<Vec<PathBuf>, String> {
    let dir = args.dir.display();
    let roms = find_roms(&args.dir).map_err(|e| format!("cannot read {dir}: {e}"))?;
    if roms.is_empty() {
        return Err(format!(
            "no ROMs in {dir} (a ROM is NAME.bin with NAME.expected)"
        ));
    }
    let unknown: Vec<&str> = args
        .only
        .iter()
        .map(String::as_str)
        .filter(|n| !roms.iter().any(|r| rom_name(r) == *n))
        .collect();
    if !unknown.is_empty() {
        return Err(format!(
            "--only: no such ROM in {dir}: {}",
            unknown
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if let Some(keep) = &args.keep {
        std::fs::create_dir_all(keep)
            .map_err(|e| format!("cannot create the --keep directory {}: {e}", keep.display()))?;
    }
    Ok(roms)
}

pub fn test_roms(args: &TestRomsArgs) -> ExitCode {
    let cpu = match args.cpu.model() {
        Ok(m) => m,
        Err(code) => return code,
    };
    let roms = match check(args) {
        Ok(roms) => roms,
        Err(e) => {
            eprintln!("xlat: {e}");
            return ExitCode::from(status::USAGE);
        }
    };
    let known = known_failures(&args.dir);
    let (report, mut out) = Output::stdout("the report");
    let (mut passed, mut failed) = (0u32, 0u32);
    let mut unkept = 0u32;
    for rom in &roms {
        let name = rom_name(rom);
        if !args.only.is_empty() && !args.only.iter().any(|n| n == name) {
            continue;
        }
        if known.iter().any(|n| n == name) {
            out.line(format_args!("SKIP {name}: listed in KNOWN-FAILURES"));
            continue;
        }
        match run_rom(rom, args.engine, args.tcache_size.0, cpu) {
            Ok((Verdict::Pass, _)) => {
                passed += 1;
                out.line(format_args!("PASS {name}"));
            }
            Ok((verdict, got)) => {
                failed += 1;
                match verdict {
                    Verdict::Timeout => out.line(format_args!("TIMEOUT {name}")),
                    Verdict::Fail { line, detail } => {
                        match line {
                            Some(n) => {
                                out.line(format_args!("FAIL {name}: first difference at line {n}"))
                            }
                            None => out.line(format_args!("FAIL {name}: exit status differs")),
                        }
                        eprintln!("  {name}: {detail}");
                    }
                    Verdict::Pass => {}
                }
                if let Some(dir) = &args.keep {
                    let path = dir.join(format!("{name}.log.actual"));
                    if let Err(e) = std::fs::write(&path, &got) {
                        eprintln!("xlat: cannot write {}: {e}", path.display());
                        unkept += 1;
                    }
                }
            }
            Err(e) => {
                failed += 1;
                out.line(format_args!("FAIL {name}: {e}"));
            }
        }
    }
    out.line(format_args!("{passed} passed, {failed} failed"));
    let _ = out.flush();
    if let Some(f) = report.failure() {
        eprintln!("xlat: {f}; exit status {}", status::IO_ERROR);
        ExitCode::from(status::IO_ERROR)
    } else if let (Some(dir), 1..) = (&args.keep, unkept) {
        eprintln!(
            "xlat: cannot write {unkept} failing ROM log(s) to {}; exit status {}",
            dir.display(),
            status::IO_ERROR
        );
        ExitCode::from(status::IO_ERROR)
    } else if passed + failed == 0 {
        eprintln!("xlat: no ROM was run: every one selected is listed in KNOWN-FAILURES");
        ExitCode::FAILURE
    } else if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_finds_the_line() {
        assert_eq!(first_difference(b"a\nb\n", b"a\nb\n"), None);
        assert_eq!(first_difference(b"a\nb\n", b"a\nc\n").map(|d| d.0), Some(2));
        assert_eq!(first_difference(b"a\n", b"a\nb\n").map(|d| d.0), Some(2));
    }

    #[derive(Debug, clap::Parser)]
    struct Cmd {
        #[command(flatten)]
        args: TestRomsArgs,
    }

    #[test]
    fn tcache_size_defaults_to_the_machine_default_and_parses_like_run() {
        use clap::Parser;
        let size = |extra: &[&str]| {
            Cmd::try_parse_from(["test-roms"].iter().chain(extra)).map(|c| c.args.tcache_size.0)
        };
        assert_eq!(size(&[]).unwrap(), machine::DEFAULT_TCACHE_BYTES);
        assert_eq!(size(&["--tcache-size", "64K"]).unwrap(), 64 << 10);
        for bad in ["1K", "2G", "lots"] {
            assert!(size(&["--tcache-size", bad]).is_err(), "{bad}");
        }
    }

    #[test]
    fn known_failures_reads_first_words() {
        let dir = std::env::temp_dir().join(format!("xlat-kf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("KNOWN-FAILURES"),
            "# comment\n\nfoo: line 3 ...\n  diagnosis text\nbar\n",
        )
        .unwrap();
        assert_eq!(known_failures(&dir), vec!["foo", "bar"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

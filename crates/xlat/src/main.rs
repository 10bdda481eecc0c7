//! xlat: the command-line program.
//!
//! `xlat run --bios FILE ...` builds a PC around the BIOS image and runs it
//! until the guest exits through the debug-exit port, halts for good, shuts
//! down, meets an unsupported feature or exhausts `--max-insns`. The process
//! exit status says which (see [`status`]). A host fault in translated code
//! or on a guard page of guest memory is an internal error: one stderr line
//! and status 70 (`status::INTERNAL_ERROR`, from `guestmem::fault`).

mod diff;

use clap::{Parser, Subcommand, ValueEnum};
use machine::{
    Bios, Engine, Machine, MachineConfig, MachineError, MemoryError, MemorySize, RunExit,
};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;
use thiserror::Error;

mod stats;
mod test_roms;

/// Exit statuses other than debug-exit's `(v << 1) | 1`.
mod status {
    /// A halt nothing can wake.
    pub const HALTED: u8 = 0;
    /// Bad arguments, unreadable or ill-sized files (clap uses 2 as well).
    pub const USAGE: u8 = 2;
    /// The guest used a feature xlat does not model.
    pub const UNSUPPORTED: u8 = 3;
    pub const TRIPLE_FAULT: u8 = 4;
    /// `--max-insns` exhausted.
    pub const LIMIT: u8 = 5;
    /// Internal error: a host fault in translated code or on a guard page
    /// of guest memory. Set by `guestmem::fault`'s signal handler, which
    /// prints one `xlat: internal error: ...` line and exits at once.
    pub const INTERNAL_ERROR: u8 = 70;
    const _: () = assert!(INTERNAL_ERROR as i32 == guestmem::fault::INTERNAL_ERROR_STATUS);
}

#[derive(Debug, Parser)]
#[command(name = "xlat", version, about = "An x86 system emulator")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Boot a PC from a BIOS image.
    Run(RunArgs),
    /// Check an engine against the host CPU on random instruction sequences.
    Diff(diff::DiffArgs),
    /// Run the conformance ROMs against their QEMU-made logs.
    TestRoms(test_roms::TestRomsArgs),
}

/// `--tcache-size` (of `run` and `test-roms`): bytes, parsed like
/// `--memory`.
#[derive(Clone, Copy, Debug)]
struct CacheSize(usize);

impl std::str::FromStr for CacheSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bytes = machine::parse_size(text).map_err(|why| format!("{text:?}: {why}"))?;
        if !(64 << 10..=1 << 30).contains(&bytes) {
            return Err(format!("{text:?}: the translation cache must be 64K to 1G"));
        }
        Ok(CacheSize(bytes as usize))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum EngineArg {
    /// The reference interpreter.
    Interp,
    /// The dynamic binary translator.
    Jit,
}

impl From<EngineArg> for Engine {
    fn from(e: EngineArg) -> Engine {
        match e {
            EngineArg::Interp => Engine::Interp,
            EngineArg::Jit => Engine::Jit,
        }
    }
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// BIOS image: mapped to end at 0xFFFFFFFF, its last 128 KiB also below
    /// 1 MiB. A multiple of 2 KiB, at most 16 MiB.
    #[arg(long, value_name = "FILE")]
    bios: PathBuf,
    /// Write debug-console output (port 0xE9) to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    debugcon: Option<PathBuf>,
    /// Write every POST code (ports 0x80, 0x190) to FILE, one line each:
    /// `port=0x80 value=0x12`.
    #[arg(long, value_name = "FILE")]
    post_log: Option<PathBuf>,
    /// Guest RAM: a number with a K, M or G suffix (plain numbers are MiB).
    #[arg(
        short = 'm',
        long = "memory",
        value_name = "SIZE",
        default_value = "128M"
    )]
    memory: MemorySize,
    /// Execution engine.
    #[arg(long, value_enum, default_value_t = EngineArg::Jit)]
    engine: EngineArg,
    /// Translation cache capacity (host code): a number with a K, M or G
    /// suffix (plain numbers are MiB), 64K to 1G. Least recently used
    /// blocks are evicted beyond it.
    #[arg(long, value_name = "SIZE", default_value = "32M")]
    tcache_size: CacheSize,
    /// Stop with status 5 after N steps (instructions executed or faulted,
    /// interrupts and exceptions delivered).
    #[arg(long, value_name = "N")]
    max_insns: Option<u64>,
    /// Print instruction, exception, unimplemented-instruction and
    /// translator counts on stderr at exit, one per line.
    #[arg(long)]
    stats: bool,
    /// Write the run's statistics as JSON to FILE at exit (translator
    /// counters only with `--engine jit`; see `stats.rs` for the fields).
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(&args),
        Command::Diff(args) => diff::diff(&args),
        Command::TestRoms(args) => test_roms::test_roms(&args),
    }
}

/// Why a machine could not be built (exit status 2).
#[derive(Debug, Error)]
enum SetupError {
    #[error(transparent)]
    Bios(#[from] MemoryError),
    #[error("cannot create {what} {}: {source}", path.display())]
    Create {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Machine(#[from] MachineError),
}

fn create(path: &Path, what: &'static str) -> Result<File, SetupError> {
    File::create(path).map_err(|source| SetupError::Create {
        what,
        path: path.to_path_buf(),
        source,
    })
}

fn build(args: &RunArgs) -> Result<Machine, SetupError> {
    let bios = Bios::load(&args.bios)?;
    let debugcon: Box<dyn Write + Send> = match &args.debugcon {
        Some(p) => Box::new(create(p, "debug-console file")?),
        None => Box::new(std::io::stdout()),
    };
    let post_log: Option<Box<dyn Write + Send>> = match &args.post_log {
        Some(p) => Some(Box::new(std::io::BufWriter::new(create(p, "POST log")?))),
        None => None,
    };
    Machine::new(MachineConfig {
        memory: args.memory,
        bios,
        debugcon,
        post_log,
        engine: args.engine.into(),
        tcache_bytes: args.tcache_size.0,
    })
    .map_err(SetupError::from)
}

fn run(args: &RunArgs) -> ExitCode {
    guestmem::fault::install();
    let mut m = match build(args) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("xlat: {e}");
            return ExitCode::from(status::USAGE);
        }
    };
    let started = Instant::now();
    let exit = m.run(args.max_insns);
    let run_time = started.elapsed();
    let flushed = m.flush();
    let code = match exit {
        RunExit::DebugExit(v) => machine::devices::debug_exit::exit_status(v),
        RunExit::Halted => status::HALTED,
        RunExit::TripleFault => status::TRIPLE_FAULT,
        RunExit::Unsupported(_) => status::UNSUPPORTED,
        RunExit::InstructionLimit => status::LIMIT,
    };
    let what = match exit {
        RunExit::Halted => {
            if m.cpu.state.rflags & cpu_model::flags::IF != 0 {
                "halted with IF=1 and no interrupt source".to_string()
            } else {
                "halted with IF=0: nothing can wake the processor".to_string()
            }
        }
        other => other.to_string(),
    };
    eprintln!(
        "xlat: {what} at {} after {} steps",
        m.cpu_summary(),
        m.steps()
    );
    let report = stats::Report::new(&m, run_time);
    if args.stats {
        eprint!("{}", report.table());
    }
    if let Some(p) = &args.stats_json {
        if let Err(e) = std::fs::write(p, report.to_json() + "\n") {
            eprintln!("xlat: cannot write {}: {e}", p.display());
        }
    }
    let st = &m.cpu.stats;
    if !st.unimplemented.is_empty() {
        let total: u64 = st.unimplemented.values().sum();
        let names: Vec<&str> = st.unimplemented.keys().map(String::as_str).collect();
        eprintln!(
            "xlat: warning: {total} unimplemented instruction(s) raised #UD: {}",
            names.join(", ")
        );
    }
    if let Err(e) = flushed {
        eprintln!("xlat: cannot write device output: {e}");
    }
    ExitCode::from(code)
}

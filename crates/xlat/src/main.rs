//! xlat: the command-line program.
//!
//! `xlat run --bios FILE ...` builds a PC around the BIOS image and runs it
//! until the guest exits through the debug-exit port, halts for good, shuts
//! down, meets an unsupported feature or exhausts `--max-insns`. The process
//! exit status says which (see [`status`]). A host fault in translated code
//! or on a guard page of guest memory is an internal error: one stderr line
//! and status 70 (`status::INTERNAL_ERROR`, from `guestmem::fault`).
//!
//! Inputs and outputs are opened before the run: one that cannot be is a
//! usage error (status 2) and nothing runs. An output whose writes fail
//! during or after the run ([`output`]) makes the status 74
//! (`status::IO_ERROR`), said once in the last stderr line.

mod console;
mod cpu;
mod diff;
mod output;

use clap::{Parser, Subcommand, ValueEnum};
use machine::{
    Bios, Engine, Machine, MachineConfig, MachineError, MemoryError, MemorySize, RunExit,
};
use output::{Output, Sink};
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
    /// The guest asked for a system reset; xlat does not reboot (QEMU's
    /// `-no-reboot` exits 0 there too).
    pub const RESET: u8 = 0;
    /// The guest powered off (ACPI \_S5).
    pub const POWER_OFF: u8 = 0;
    /// Internal error: a host fault in translated code or on a guard page
    /// of guest memory. Set by `guestmem::fault`'s signal handler, which
    /// prints one `xlat: internal error: ...` line and exits at once.
    pub const INTERNAL_ERROR: u8 = 70;
    const _: () = assert!(INTERNAL_ERROR as i32 == guestmem::fault::INTERNAL_ERROR_STATUS);
    /// An output (debug console, POST log, statistics file, a kept ROM
    /// log) could not be written: EX_IOERR of sysexits.h. Distinct from
    /// every status the guest can cause (odd, 0, 3, 4, 5).
    pub const IO_ERROR: u8 = 74;
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

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ClockArg {
    Virtual,
    Host,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// BIOS image: mapped to end at 0xFFFFFFFF, its last 128 KiB also below
    /// 1 MiB. A multiple of 2 KiB, at most 16 MiB. (Required, except with
    /// `--kernel` or `--cpu help`.)
    #[arg(long, value_name = "FILE", required_unless_present_any = ["cpu", "kernel"], conflicts_with = "kernel")]
    bios: Option<PathBuf>,
    /// Boot this kernel directly (QEMU's -kernel): a Linux bzImage or ELF
    /// vmlinux (64-bit entry, boot protocol 2.06 or later) or a Multiboot
    /// kernel; the ACPI and MP tables a BIOS would leave are provided.
    #[arg(long, value_name = "FILE")]
    kernel: Option<PathBuf>,
    /// A Linux kernel's initrd, or a Multiboot kernel's modules
    /// ("file args,file2"; ",," is a comma), as QEMU's -initrd.
    #[arg(long, value_name = "FILE", requires = "kernel")]
    initrd: Option<String>,
    /// The kernel's command line (QEMU's -append).
    #[arg(long, value_name = "CMDLINE", requires = "kernel", default_value = "")]
    append: String,
    /// Write debug-console output (port 0xE9) to FILE instead of stdout.
    #[arg(long, value_name = "FILE")]
    debugcon: Option<PathBuf>,
    /// COM1 (the 16550A at 0x3F8, IRQ 4), as QEMU's -serial: `stdio` (the
    /// default: output on stdout, stdin as input), `none` (output
    /// dropped, no input), `file:PATH` or a plain PATH (output to that
    /// file, no input).
    #[arg(long, value_name = "stdio|none|file:PATH")]
    serial: Option<String>,
    /// Time: `virtual` (one nanosecond per instruction, skipped ahead
    /// while halted: runs repeat exactly) or `host` (the host's clock:
    /// for interactive guests).
    #[arg(long, value_enum, default_value_t = ClockArg::Virtual)]
    clock: ClockArg,
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
    /// CPU model (what CPUID says and which instructions exist); `help`
    /// lists them.
    #[arg(long, value_name = "NAME", default_value_t = cpu::CpuArg::default())]
    cpu: cpu::CpuArg,
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
    /// FILE is created before the run.
    #[arg(long, value_name = "FILE")]
    stats_json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(qemu_style_args(std::env::args_os()));
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
    #[error("run: --bios FILE or --kernel FILE is required (only `--cpu help` runs without)")]
    NoBios,
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} {} is larger than the guest's RAM ({ram} bytes)", path.display())]
    TooLarge {
        what: &'static str,
        path: PathBuf,
        ram: u64,
    },
    #[error("cannot boot {}: {source}", path.display())]
    Boot {
        path: PathBuf,
        #[source]
        source: machine::direct_boot::DirectBootError,
    },
}

/// A kernel, initrd or module file, read whole but never more than `ram`
/// bytes (a device or an endless stream is refused, not slurped).
fn read_capped(what: &'static str, path: &Path, ram: u64) -> Result<Vec<u8>, SetupError> {
    use std::io::Read;
    let err = |source| SetupError::Read {
        what,
        path: path.to_path_buf(),
        source,
    };
    let mut bytes = Vec::new();
    File::open(path)
        .map_err(err)?
        .take(ram + 1)
        .read_to_end(&mut bytes)
        .map_err(err)?;
    if bytes.len() as u64 > ram {
        return Err(SetupError::TooLarge {
            what,
            path: path.to_path_buf(),
            ram,
        });
    }
    Ok(bytes)
}

/// QEMU's single-dash spellings (`-kernel FILE`, `-initrd`, `-append`,
/// `-bios`, `-serial`) as clap's `--` options; a value after an option
/// that takes one is left alone.
fn qemu_style_args(args: impl Iterator<Item = std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    const LONG: [&str; 5] = ["kernel", "initrd", "append", "bios", "serial"];
    let mut out = Vec::new();
    let mut value_next = false;
    for a in args {
        if value_next {
            value_next = false;
            out.push(a);
            continue;
        }
        match a.to_str().and_then(|s| s.strip_prefix('-')) {
            Some(name) if LONG.contains(&name) => {
                out.push(format!("--{name}").into());
                value_next = true;
            }
            _ => {
                value_next = a
                    .to_str()
                    .and_then(|s| s.strip_prefix("--"))
                    .is_some_and(|n| LONG.contains(&n));
                out.push(a);
            }
        }
    }
    out
}

fn create(what: &'static str, path: &Path) -> Result<(Output, Sink<File>), SetupError> {
    Output::create(what, path).map_err(|source| SetupError::Create {
        what,
        path: path.to_path_buf(),
        source,
    })
}

/// A machine with its outputs open, ready to run.
struct Setup {
    machine: Machine,
    /// Every output of the run, to check after it.
    outputs: Vec<Output>,
    /// Where `--stats-json` goes.
    stats_json: Option<Sink<File>>,
    /// Stdin feeding COM1 (with `--serial` unset): puts the terminal back.
    _console: Option<console::Console>,
}

/// Read the BIOS, open every output and build the machine: everything
/// that can fail before the run.
fn build(args: &RunArgs, cpu: &'static cpu_model::CpuModel) -> Result<Setup, SetupError> {
    let ram = args.memory.bytes();
    // A kernel: the files read (at most RAM's size each), the firmware
    // tables built and their image taking the BIOS's place.
    let (kernel, firmware) = match &args.kernel {
        Some(path) => {
            let image = read_capped("kernel", path, ram)?;
            let mut modules = Vec::new();
            if let Some(list) = &args.initrd {
                for spec in boot::multiboot::parse_module_list(list) {
                    let p = PathBuf::from(&spec.path);
                    let bytes = read_capped("initrd", &p, ram)?;
                    modules.push((bytes, spec.cmdline));
                }
            }
            let boot_err = |source| SetupError::Boot {
                path: path.clone(),
                source,
            };
            let (tables, firmware) = machine::direct_boot::firmware(ram, cpu).map_err(boot_err)?;
            (Some((path.clone(), image, modules, tables)), Some(firmware))
        }
        None => (None, None),
    };
    let bios = match firmware {
        Some(f) => f,
        None => Bios::load(args.bios.as_ref().ok_or(SetupError::NoBios)?)?,
    };
    let mut outputs = Vec::new();
    let debugcon: Box<dyn Write + Send> = match &args.debugcon {
        Some(p) => {
            let (out, sink) = create("debug-console file", p)?;
            outputs.push(out);
            Box::new(sink)
        }
        None => {
            let (out, sink) = Output::stdout("debug-console output");
            outputs.push(out);
            Box::new(sink)
        }
    };
    // COM1 on the terminal: its input too.
    let serial_mode = args.serial.as_deref().unwrap_or("stdio");
    let (console, serial_input) = match serial_mode {
        "stdio" => {
            let (c, rx) = console::start();
            (Some(c), Some(rx))
        }
        _ => (None, None),
    };
    let serial: Box<dyn Write + Send> = match serial_mode {
        "stdio" => {
            let (out, sink) = Output::stdout("serial output");
            outputs.push(out);
            Box::new(sink)
        }
        "none" => Box::new(std::io::sink()),
        other => {
            let p = Path::new(other.strip_prefix("file:").unwrap_or(other));
            let (out, sink) = create("serial output file", p)?;
            outputs.push(out);
            Box::new(sink)
        }
    };
    let post_log: Option<Box<dyn Write + Send>> = match &args.post_log {
        Some(p) => {
            let (out, sink) = create("POST log", p)?;
            outputs.push(out);
            Some(Box::new(std::io::BufWriter::new(sink)))
        }
        None => None,
    };
    let stats_json = match &args.stats_json {
        Some(p) => {
            let (out, sink) = create("statistics file", p)?;
            outputs.push(out);
            Some(sink)
        }
        None => None,
    };
    let machine = Machine::new(MachineConfig {
        memory: args.memory,
        bios,
        debugcon,
        post_log,
        engine: args.engine.into(),
        tcache_bytes: args.tcache_size.0,
        cpu,
        serial,
        rtc_base: machine::DEFAULT_RTC_BASE,
        host_clock: args.clock == ClockArg::Host,
        serial_input,
    })?;
    let mut machine = machine;
    if let Some((path, image, modules, tables)) = &kernel {
        let mods: Vec<boot::MultibootModule<'_>> = modules
            .iter()
            .map(|(bytes, cmdline)| boot::MultibootModule { bytes, cmdline })
            .collect();
        let name = path.to_string_lossy();
        let k = machine::direct_boot::KernelImage {
            name: &name,
            image,
            modules: &mods,
            cmdline: &args.append,
        };
        machine::direct_boot::load(&mut machine, tables, &k).map_err(|source| {
            SetupError::Boot {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok(Setup {
        machine,
        outputs,
        stats_json,
        _console: console,
    })
}

fn run(args: &RunArgs) -> ExitCode {
    let cpu = match args.cpu.model() {
        Ok(m) => m,
        Err(code) => return code,
    };
    guestmem::fault::install();
    let Setup {
        machine: mut m,
        outputs,
        stats_json,
        _console,
    } = match build(args, cpu) {
        Ok(setup) => setup,
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
        RunExit::Reset => status::RESET,
        RunExit::PowerOff => status::POWER_OFF,
    };
    let what = match exit {
        RunExit::Halted => {
            if m.cpu.state.rflags & cpu_model::flags::IF != 0 {
                "halted with IF=1 and no interrupt that can come (the timer's IRQ 0 masked, or never acknowledged)".to_string()
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
    if let Some(mut sink) = stats_json {
        // Errors are recorded by the sink and reported below.
        let _ = writeln!(sink, "{}", report.to_json()).and_then(|()| sink.flush());
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
    if !st.not_in_model.is_empty() {
        let total: u64 = st.not_in_model.values().sum();
        let names: Vec<&str> = st.not_in_model.keys().map(String::as_str).collect();
        eprintln!(
            "xlat: warning: {total} instruction(s) the CPU model {} does not advertise raised #UD: {}",
            m.cpu.model.name,
            names.join(", ")
        );
    }
    let mut failures: Vec<String> = outputs.iter().filter_map(Output::failure).collect();
    if let (Err(e), true) = (flushed, failures.is_empty()) {
        // The sinks record every error, so this is not expected.
        failures.push(format!("cannot write device output: {e}"));
    }
    if failures.is_empty() {
        return ExitCode::from(code);
    }
    for f in failures {
        eprintln!(
            "xlat: {f}; exit status {} instead of the run's {code}",
            status::IO_ERROR
        );
    }
    ExitCode::from(status::IO_ERROR)
}

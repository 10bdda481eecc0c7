//! `xlat diff`: the host-CPU oracle from the command line. Runs N random
//! instruction sequences from a seed natively and in an engine, prints each
//! mismatch (at most `--show`, 10 by default, shrunk to a minimal case) and ends with the line
//! `cases=N mismatches=M`; exits 0 only when M is 0, 74 if that report
//! could not be written (`output.rs`).

use crate::cpu::CpuArg;
use crate::output::Output;
use oracle::campaign::{report, run_campaign};
use oracle::emulate::Engine;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// Engine checked against the host CPU.
    #[arg(long, value_enum, default_value_t = DiffEngine::Interp)]
    engine: DiffEngine,
    /// Number of random cases.
    #[arg(long, default_value_t = 10_000)]
    cases: u64,
    /// Seed of the case generator (same seed, same cases).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Fraction (0 to 1) of x87/SSE cases; 0, the default, generates the
    /// integer-only campaign (its cases unchanged for a seed).
    #[arg(long, default_value_t = 0.0)]
    fp: f64,
    /// Mismatches shrunk and shown in full (the rest are only counted).
    #[arg(long, default_value_t = 10)]
    show: usize,
    /// CPU model of the emulated processor; cases with an instruction it
    /// does not advertise are skipped (counted). `help` lists the models.
    #[arg(long, value_name = "NAME", default_value_t = CpuArg::default())]
    cpu: CpuArg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum DiffEngine {
    /// The reference interpreter.
    Interp,
    /// The translator (`translator::Jit`).
    Jit,
}

pub fn diff(args: &DiffArgs) -> ExitCode {
    let model = match args.cpu.model() {
        Ok(m) => m,
        Err(code) => return code,
    };
    let engine = match args.engine {
        DiffEngine::Interp => Engine::Interp,
        DiffEngine::Jit => Engine::Jit,
    };
    match run_campaign(engine, model, args.cases, args.seed, args.show, args.fp) {
        Ok(s) => {
            let (stdout, mut out) = Output::stdout("the report");
            for (i, m) in s.shown.iter().enumerate() {
                out.line(format_args!("mismatch {} (shrunk):\n{}", i + 1, report(m)));
            }
            out.line(format_args!(
                "native faults: {}, inconclusive (an undefined flag or value was read): {}",
                s.native_faults, s.inconclusive
            ));
            if s.not_in_model != 0 {
                out.line(format_args!(
                    "skipped (an instruction the CPU model {} lacks): {}",
                    model.name, s.not_in_model
                ));
            }
            out.line(format_args!(
                "cases={} mismatches={}",
                s.cases, s.mismatches
            ));
            let _ = out.flush();
            if let Some(f) = stdout.failure() {
                eprintln!("xlat: {f}; exit status {}", crate::status::IO_ERROR);
                ExitCode::from(crate::status::IO_ERROR)
            } else if s.mismatches == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("xlat: diff: {e}");
            ExitCode::from(2)
        }
    }
}

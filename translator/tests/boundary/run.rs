//! Running and comparing: the interpreter and the two translators on the
//! same start, the differences between their outcomes, and the
//! counters and report of a run of many cases.

use super::bus::TestBus;
use super::case::Case;
use super::program::setup;
use crate::common::clone_cpu;
use cpu_model::exception::{Exception, Fault, SoftwareInterrupt, StopReason};
use cpu_model::state::CpuState;
use cpu_model::Cpu;
use std::fmt;
use translator::{Jit, JitConfig, JitExit};

/// Steps before a run is cut short (a program takes about 30).
const BUDGET: u64 = 500;

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum End {
    Exception(Exception),
    SoftwareInterrupt(SoftwareInterrupt),
    Stop(StopReason),
    /// HLT (stray code after a RET that read a random return address).
    Halted,
    Other(JitExit),
    Budget,
}

impl fmt::Display for End {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            End::Exception(e) => write!(f, "{e}"),
            End::SoftwareInterrupt(t) => write!(f, "{t}"),
            End::Stop(s) => write!(f, "stop: {s}"),
            End::Halted => write!(f, "halted"),
            End::Other(x) => write!(f, "{x:?}"),
            End::Budget => write!(f, "budget exhausted"),
        }
    }
}

/// What a run left behind.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) end: End,
    state: CpuState,
    bus: TestBus,
    /// Memory operands the translator accessed through the interpreter.
    helper_calls: u64,
}

fn run_interpreter(mut cpu: Cpu, mut bus: TestBus) -> Outcome {
    let mut end = End::Budget;
    for _ in 0..BUDGET {
        // Nothing is delivered, so nothing wakes a halted processor: the
        // translator ends its run there too.
        if cpu.state.events.halted {
            end = End::Halted;
            break;
        }
        // As a translator that does not deliver exceptions: a single-step
        // trap ends the run once the instruction retired.
        let tf = cpu.state.rflags & cpu_model::flags::TF != 0;
        match cpu.execute(&mut bus) {
            Ok(_) if tf => end = End::Exception(Exception::DB),
            Ok(_) => {}
            Err(Fault::Exception(e)) => end = End::Exception(e),
            Err(Fault::Trap(t)) => end = End::SoftwareInterrupt(t),
            Err(Fault::Stop(s)) => end = End::Stop(s),
            // As the translator: frozen at the instruction, halted.
            Err(Fault::FpuErrorWait) => {
                cpu.freeze_on_fpu_error(&mut bus);
                end = End::Halted;
            }
        }
        if end != End::Budget {
            break;
        }
    }
    Outcome {
        end,
        state: cpu.state,
        bus,
        helper_calls: 0,
    }
}

fn run_translator(cfg: JitConfig, mut cpu: Cpu, mut bus: TestBus) -> Outcome {
    let mut jit = Jit::new(cfg).expect("jit");
    let end = match jit.run(&mut cpu, &mut bus, BUDGET) {
        Ok(JitExit::Exception(e)) => End::Exception(e),
        Ok(JitExit::SoftwareInterrupt(t)) => End::SoftwareInterrupt(t),
        Ok(JitExit::BudgetExhausted) => End::Budget,
        Ok(JitExit::Halted) => End::Halted,
        Ok(other) => End::Other(other),
        Err(s) => End::Stop(s),
    };
    Outcome {
        end,
        state: cpu.state,
        bus,
        helper_calls: jit.stats().memory_helper_calls,
    }
}

/// The translators compared with the interpreter: the default
/// configuration and a 64 KiB code cache, both returning exceptions
/// instead of delivering them.
fn engines() -> [(&'static str, JitConfig); 2] {
    let base = JitConfig {
        deliver_exceptions: false,
        ..JitConfig::default()
    };
    [
        ("translator (default config)", base),
        (
            "translator (64 KiB cache)",
            JitConfig {
                cache_bytes: 64 << 10,
                ..base
            },
        ),
    ]
}

const GPR_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

/// The fields in which two states differ: registers by name, then any
/// other field as the lines of their `Debug` forms that differ.
fn state_differences(want: &CpuState, got: &CpuState) -> Vec<String> {
    let mut d = Vec::new();
    let mut named = |name: &str, w: u64, g: u64| {
        if w != g {
            d.push(format!("{name}: interpreter {w:#x}, translator {g:#x}"));
        }
    };
    for (i, n) in GPR_NAMES.iter().enumerate() {
        named(n, want.gpr[i], got.gpr[i]);
    }
    named("rip", want.rip, got.rip);
    named("rflags", want.rflags, got.rflags);
    named("cr2", want.cr2, got.cr2);
    named("icount", want.icount, got.icount);
    // The rest, with the fields above made equal.
    let mut g = got.clone();
    g.gpr = want.gpr;
    g.rip = want.rip;
    g.rflags = want.rflags;
    g.cr2 = want.cr2;
    g.icount = want.icount;
    if g != *want {
        let (w, g) = (format!("{want:#?}"), format!("{g:#?}"));
        let mut field = "";
        for (x, y) in w.lines().zip(g.lines()) {
            if x.trim_end().ends_with(": {") || x.trim_end().ends_with(": [") {
                field = x.trim().trim_end_matches(['{', '[', ' ', ':']);
            }
            if x != y {
                d.push(format!(
                    "{field}: interpreter {} / translator {}",
                    x.trim(),
                    y.trim()
                ));
            }
        }
    }
    d
}

/// What differs between two outcomes, if anything.
fn differences(want: &Outcome, got: &Outcome) -> Vec<String> {
    let mut d = Vec::new();
    if want.end != got.end {
        d.push(format!(
            "end: interpreter {}, translator {}",
            want.end, got.end
        ));
    }
    if want.state != got.state {
        d.extend(state_differences(&want.state, &got.state));
    }
    let (wm, gm) = (&want.bus.mem, &got.bus.mem);
    let diff: Vec<usize> = if wm == gm {
        Vec::new()
    } else {
        (0..wm.len()).filter(|&i| wm[i] != gm[i]).collect()
    };
    if let (Some(&first), Some(&last)) = (diff.first(), diff.last()) {
        d.push(format!(
            "memory: {} bytes differ, first at {} (interpreter {:#04x}, translator {:#04x}), last at {}",
            diff.len(),
            want.bus.describe(first),
            wm[first],
            gm[first],
            want.bus.describe(last),
        ));
    }
    d
}

/// How to run one case again.
fn rerun_hint(case: &Case) -> String {
    format!(
        "PAGE_BOUNDARY_CASE={} cargo test -p translator --test page_boundary one_case -- --nocapture",
        case.hex()
    )
}

/// Run `case` on the interpreter and the translators: Ok with the
/// interpreter's outcome and the translators' helper calls if all agree,
/// else a message naming the case and what differed.
pub(crate) fn check(case: &Case) -> Result<(Outcome, u64), String> {
    let (cpu, bus) = setup(case);
    let want = run_interpreter(clone_cpu(&cpu), bus.clone());
    let mut helper_calls = 0;
    for (name, cfg) in engines() {
        let got = run_translator(cfg, clone_cpu(&cpu), bus.clone());
        helper_calls += got.helper_calls;
        let d = differences(&want, &got);
        if !d.is_empty() {
            return Err(format!(
                "case {case}\n  {name} differs from the interpreter:\n    {}\n  rerun: {}",
                d.join("\n    "),
                rerun_hint(case)
            ));
        }
    }
    Ok((want, helper_calls))
}

/// Run `cases`, returning the failure messages (all of them) and
/// counters for the report.
pub(crate) fn run_all(cases: &[Case]) -> (Vec<(Case, String)>, Tally) {
    let mut fails = Vec::new();
    let mut t = Tally::default();
    for c in cases {
        t.cases += 1;
        match check(c) {
            Ok((out, helper_calls)) => {
                t.helper_calls += helper_calls;
                match out.end {
                    End::Exception(Exception::UD) => t.completed += 1,
                    End::Exception(_) => t.faulted += 1,
                    _ => t.other += 1,
                }
            }
            Err(msg) => fails.push((*c, msg)),
        }
    }
    (fails, t)
}

/// Counters of a run of cases.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub(crate) cases: u64,
    /// Ran to the final UD2.
    pub(crate) completed: u64,
    /// Ended with a fault of the access.
    pub(crate) faulted: u64,
    pub(crate) other: u64,
    pub(crate) helper_calls: u64,
}

/// A summary of failures: how many, by mode/place/kinds/warm side/
/// placement, then the first few messages.
pub(crate) fn report(fails: &[(Case, String)]) -> String {
    use std::collections::BTreeMap;
    let mut by: BTreeMap<String, usize> = BTreeMap::new();
    for (c, _) in fails {
        let key = format!(
            "{} {:?} A={:?} B={:?} warm={:?} {}",
            c.mode.name(),
            c.place,
            c.kind_a,
            c.kind_b,
            c.warm_side(),
            if c.adjacent {
                "neighbouring"
            } else {
                "non-neighbouring"
            }
        );
        *by.entry(key).or_default() += 1;
    }
    let mut s = format!("{} cases failed; by group:\n", fails.len());
    for (k, n) in by.iter().take(40) {
        s += &format!("  {n:5}  {k}\n");
    }
    if by.len() > 40 {
        s += &format!("  ... and {} more groups\n", by.len() - 40);
    }
    s += "first failures:\n";
    for (_, m) in fails.iter().take(8) {
        s += m;
        s += "\n";
    }
    s
}

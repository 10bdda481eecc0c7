//! A differential campaign: generate cases from a seed, run them natively
//! (in batches, one forked child per batch) and in an engine, compare, and
//! shrink each mismatch to a minimal case with proptest's value trees.

use crate::emulate::{enabled_on, run_emulated, Engine};
use crate::gen::{build, case_spec, CaseSpec};
use crate::native::{run_native, NativeError};
use crate::{compare, Case, Observed, Outcome};
use cpu_model::CpuModel;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const BATCH: usize = 512;
const SHRINK_STEPS: usize = 2000;

/// One disagreement between the host CPU and the engine, after shrinking.
#[derive(Clone, Debug)]
pub struct Mismatch {
    pub spec: CaseSpec,
    pub case: Case,
    pub native: Outcome,
    pub emulated: Observed,
    pub diff: String,
}

#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub cases: u64,
    pub mismatches: u64,
    /// Cases that faulted natively (a measure of fault coverage).
    pub native_faults: u64,
    /// Cases not compared because an instruction read an undefined flag.
    pub inconclusive: u64,
    /// Cases not run because the CPU model lacks one of their
    /// instructions (`--cpu`; none with the default model).
    pub not_in_model: u64,
    /// The first mismatches found, shrunk.
    pub shown: Vec<Mismatch>,
}

fn runner(seed: u64) -> TestRunner {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&(!seed).to_le_bytes());
    TestRunner::new_with_rng(
        Config::default(),
        TestRng::from_seed(RngAlgorithm::ChaCha, &bytes),
    )
}

/// Run one spec both ways; `Some` if they disagree.
fn check(
    spec: &CaseSpec,
    engine: Engine,
    model: &'static CpuModel,
) -> Result<Option<Mismatch>, NativeError> {
    let case = build(spec);
    if !enabled_on(&case, model) {
        return Ok(None);
    }
    let native = run_native(std::slice::from_ref(&case))?.remove(0);
    let emulated = run_emulated(&case, engine, model);
    let diff = compare(case.bits, &native, &emulated);
    Ok((!diff.is_empty()).then(|| Mismatch {
        spec: spec.clone(),
        case,
        native,
        emulated,
        diff,
    }))
}

/// Shrink a failing value tree to a (locally) minimal failing case.
fn shrink<T: ValueTree<Value = CaseSpec>>(
    tree: &mut T,
    first: Mismatch,
    engine: Engine,
    model: &'static CpuModel,
) -> Result<Mismatch, NativeError> {
    let mut best = first;
    if !tree.simplify() {
        return Ok(best);
    }
    for _ in 0..SHRINK_STEPS {
        match check(&tree.current(), engine, model)? {
            Some(m) => {
                best = m;
                if !tree.simplify() {
                    break;
                }
            }
            None => {
                if !tree.complicate() {
                    break;
                }
            }
        }
    }
    Ok(best)
}

/// Run `cases` random cases from `seed` against `engine` on a processor
/// of `model`; keep (shrunk) at most `max_shown` mismatches. `fp`: the
/// fraction of x87/SSE cases (0: the integer-only campaign). Cases with an
/// instruction the model lacks are counted (`not_in_model`), not run.
pub fn run_campaign(
    engine: Engine,
    model: &'static CpuModel,
    cases: u64,
    seed: u64,
    max_shown: usize,
    fp: f64,
) -> Result<Summary, NativeError> {
    let mut runner = runner(seed);
    let strategy = case_spec(fp);
    let mut summary = Summary::default();
    let mut left = cases;
    while left > 0 {
        let n = (left as usize).min(BATCH);
        left -= n as u64;
        let mut trees = Vec::with_capacity(n);
        for _ in 0..n {
            match strategy.new_tree(&mut runner) {
                Ok(t) => trees.push(t),
                Err(e) => return Err(NativeError::Generate(e.to_string())),
            }
        }
        let (mut trees, built): (Vec<_>, Vec<Case>) = trees
            .into_iter()
            .map(|t| {
                let case = build(&t.current());
                (t, case)
            })
            .filter(|(_, case)| {
                let ok = enabled_on(case, model);
                summary.not_in_model += u64::from(!ok);
                ok
            })
            .unzip();
        let natives = run_native(&built)?;
        for ((tree, case), native) in trees.iter_mut().zip(built).zip(natives) {
            summary.cases += 1;
            if native.fault.is_some() {
                summary.native_faults += 1;
            }
            let emulated = run_emulated(&case, engine, model);
            if emulated.inconclusive {
                summary.inconclusive += 1;
            }
            let diff = compare(case.bits, &native, &emulated);
            if diff.is_empty() {
                continue;
            }
            summary.mismatches += 1;
            if summary.shown.len() < max_shown {
                let first = Mismatch {
                    spec: tree.current(),
                    case,
                    native,
                    emulated,
                    diff,
                };
                summary.shown.push(shrink(tree, first, engine, model)?);
            }
        }
    }
    Ok(summary)
}

/// A mismatch as the CLI prints it: disassembly, initial state, both results.
pub fn report(m: &Mismatch) -> String {
    let mut s = String::new();
    s.push_str("code:\n");
    s.push_str(&format!("({}-bit code)\n", m.case.bits));
    s.push_str(&crate::disassemble(&m.case.code, m.case.bits));
    s.push_str("initial state:\n");
    s.push_str(&crate::format_regs(&m.case.regs));
    if m.case.fx != crate::initial_fx() {
        s.push_str(&crate::format_fx(&m.case.fx, true));
    }
    s.push_str(&format!("native (fault {:?}):\n", m.native.fault));
    s.push_str(&crate::format_regs(&m.native.regs));
    s.push_str(&crate::format_fx(&m.native.fx, false));
    match &m.emulated.outcome {
        Some(o) => {
            s.push_str(&format!("emulated (fault {:?}):\n", o.fault));
            s.push_str(&crate::format_regs(&o.regs));
            s.push_str(&crate::format_fx(&o.fx, false));
        }
        None => s.push_str("emulated: no result\n"),
    }
    s.push_str("differences:\n");
    s.push_str(&m.diff);
    s
}

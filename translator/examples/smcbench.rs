//! `cargo run --release -p translator --example smcbench WORKLOAD ENGINE`:
//! run one self-modifying-code workload (`benches/common`) to HLT under
//! `jit` or `interp` and print its time and the translator's
//! self-modifying-code counters. WORKLOAD is
//!
//! * `own-short`: the loop's own immediate rewritten every pass, 4
//!   iterations per pass (200 000 passes): translating each pass cannot
//!   pay;
//! * `own-long`: the same with 1000 iterations per pass (3000 passes):
//!   each translation runs 5000 instructions before the next rewrite;
//! * `separate`: a routine on its own page rewritten every pass, a hot
//!   loop of 100 iterations on the code page (20 000 passes).
//!
//! Meant for comparing builds and engines as whole processes, e.g.
//! `farm-bench -n 10 --vs 'OLD/smcbench own-long jit' -- NEW/smcbench own-long jit`.

#[path = "../benches/common/mod.rs"]
mod common;

use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(workload), Some(engine)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: smcbench own-short|own-long|separate jit|interp");
        std::process::exit(2);
    };
    let (g, want) = match workload.as_str() {
        "own-short" | "own-long" => {
            let inner = if workload == "own-short" {
                vec![4; 200_000]
            } else {
                vec![1000; 3000]
            };
            (
                common::smc_own_page(&inner),
                common::smc_own_page_result(&inner),
            )
        }
        "separate" => {
            let passes = 20_000u64;
            (
                common::smc_separate_page(passes as u32, 100),
                (passes * (passes + 1) / 2) as u32,
            )
        }
        _ => {
            eprintln!("unknown workload {workload}");
            std::process::exit(2);
        }
    };
    let (mut cpu, mut bus) = g.fresh();
    let t = Instant::now();
    let stats = match engine.as_str() {
        "interp" => {
            common::run_interp(&mut cpu, &mut bus);
            None
        }
        "jit" => {
            let mut jit = common::jit();
            common::run_jit(&mut jit, &mut cpu, &mut bus);
            Some(jit.stats())
        }
        _ => {
            eprintln!("unknown engine {engine}");
            std::process::exit(2);
        }
    };
    let elapsed = t.elapsed();
    assert_eq!(cpu.state.gpr[0] as u32, want, "guest result");
    println!(
        "{workload} {engine}: {:.3} ms, {} instructions",
        elapsed.as_secs_f64() * 1e3,
        cpu.stats.instructions
    );
    if let Some(s) = stats {
        println!(
            "blocks translated {}, translation {:.3} ms, native {}, interpreter steps {}, smc invalidations {}, smc interpreted pages {}",
            s.blocks_translated,
            s.translation_time_ns as f64 / 1e6,
            s.native_instructions,
            s.interpreter_steps,
            s.invalidations.get("smc").copied().unwrap_or(0),
            s.smc_interpreted_pages,
        );
    }
}

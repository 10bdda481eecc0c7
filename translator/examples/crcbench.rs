//! `cargo run --release -p translator --example crcbench [RUNS]`: run the
//! CRC-32 and checksum workloads of the benchmarks (`benches/common`,
//! 64-bit and 32-bit protected mode) translated, RUNS times each on a
//! warm JIT, and print the best time of each. Meant for comparing two
//! builds side by side as whole processes, e.g.
//! `farm-bench -n 10 --vs 'OLD/crcbench 20' -- NEW/crcbench 20`.

#[path = "../benches/common/mod.rs"]
mod common;

use common::{Mode, WORKLOADS};
use std::time::{Duration, Instant};

fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    for mode in [Mode::Long64, Mode::Prot32] {
        for name in WORKLOADS.iter().filter(|&&n| n != "sort") {
            let g = common::workload(name, mode);
            let mut jit = common::jit();
            let mut best = Duration::MAX;
            for _ in 0..runs + 1 {
                let (mut cpu, mut bus) = g.fresh();
                let t = Instant::now();
                common::run_jit(&mut jit, &mut cpu, &mut bus);
                best = best.min(t.elapsed());
            }
            println!("{}/{name}: {:.3} ms", mode.name(), best.as_secs_f64() * 1e3);
        }
    }
}

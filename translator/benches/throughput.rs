//! Guest throughput of the interpreter (`Cpu::step` loop) and of the JIT
//! (`Jit::run`) on compute workloads in 64-bit long mode and 32-bit
//! protected mode. Throughput is in guest instructions, so criterion's
//! "elem/s" reads as instructions per second (divide by 1e6 for MIPS).
//!
//! The JIT is warm: one `Jit` per benchmark, translated blocks stay cached
//! across iterations (each iteration starts from a fresh copy of the guest).

mod common;

use common::{Mode, WORKLOADS};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::time::Duration;

fn throughput(c: &mut Criterion) {
    for mode in [Mode::Long64, Mode::Prot32] {
        for name in WORKLOADS {
            let g = common::workload(name, mode);
            let n = common::count_and_check(&g);
            let mut group = c.benchmark_group(format!("throughput/{}/{name}", mode.name()));
            group.sample_size(10);
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(3));
            group.throughput(Throughput::Elements(n));
            group.bench_function("interp", |b| {
                b.iter_batched(
                    || g.fresh(),
                    |(mut cpu, mut bus)| common::run_interp(&mut cpu, &mut bus),
                    BatchSize::PerIteration,
                )
            });
            let mut jit = common::jit();
            group.bench_function("jit", |b| {
                b.iter_batched(
                    || g.fresh(),
                    |(mut cpu, mut bus)| common::run_jit(&mut jit, &mut cpu, &mut bus),
                    BatchSize::PerIteration,
                )
            });
            group.finish();
        }
    }
}

criterion_group!(benches, throughput);
criterion_main!(benches);

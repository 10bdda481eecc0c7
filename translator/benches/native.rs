//! Native vs translated: the same x86-64 machine code (a table-driven
//! CRC-32 loop over 1 MiB, `common::native_crc_code`) run natively from an
//! executable mapping, the same algorithm in Rust, and the guest version
//! under the JIT (warm cache), side by side in one group.

mod common;

use common::native::NativeCrc;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::time::Duration;

const LEN: usize = 1 << 20;

fn native_vs_translated(c: &mut Criterion) {
    let data = common::random_bytes(LEN, 0xfeed);
    let table: [u32; 256] = common::crc_table().try_into().expect("256 entries");
    let want = common::crc32_rust(&table, &data);
    let native = NativeCrc::new(&common::native_crc_code()).expect("executable mapping");
    assert_eq!(native.crc32(&data, &table), want, "native CRC-32");
    let g = common::crc_guest(&data);
    let mut jit = common::jit();
    let (mut cpu, mut bus) = g.fresh();
    common::run_jit(&mut jit, &mut cpu, &mut bus);
    assert_eq!(cpu.state.gpr[0] as u32, want, "translated CRC-32");

    let mut group = c.benchmark_group("native_vs_translated/crc32_1MiB");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Bytes(LEN as u64));
    group.bench_function("native_asm", |b| {
        b.iter(|| native.crc32(black_box(&data), &table))
    });
    group.bench_function("native_rust", |b| {
        b.iter(|| common::crc32_rust(&table, black_box(&data)))
    });
    group.bench_function("translated", |b| {
        b.iter_batched(
            || g.fresh(),
            |(mut cpu, mut bus)| common::run_jit(&mut jit, &mut cpu, &mut bus),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, native_vs_translated);
criterion_main!(benches);

//! Translation speed and code-cache behaviour.
//!
//! - `translate/straight_line`: a 20 000-instruction straight-line 64-bit
//!   program (register ALU instructions, all translated natively) run once
//!   per iteration after `Jit::flush`, so every block is translated again.
//!   Throughput is guest instructions translated (and run once): the
//!   reciprocal of elem/s is ns per translated instruction. The
//!   translator's own `translation_time_ns` per instruction is printed too.
//! - `cache/*`: a chain of `FUNCS` functions called in a loop (about
//!   2 × `FUNCS` distinct blocks) with a code cache half the size of the
//!   working set: `lru` is the JIT's LRU eviction (`cache_bytes` = half the
//!   working set), `flush_all` a large cache that the driver empties with
//!   `Jit::flush` whenever it holds more blocks than fit in the same budget
//!   (the JIT has no flush-all policy; the block budget is the byte budget
//!   divided by the mean block size measured with an unbounded cache),
//!   `fits` a cache large enough for everything. The hit rates
//!   (`cache_hits / cache_lookups` from `Jit::stats`) are printed.
//!   Two call patterns: `cyclic` (each function once per round, the worst
//!   case for LRU) and `hot_set` (every call followed by a call of one of
//!   `HOT` hot functions).

mod common;

use common::{Guest, Mode};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use iced_x86::code_asm::*;
use std::time::{Duration, Instant};
use translator::{Jit, JitConfig, JitExit};

const STRAIGHT: usize = 20_000;
const FUNCS: usize = 256;
const ROUNDS: u32 = 20;
const CHUNK: u64 = 1024;
const HOT: usize = 16;

/// One of six register ALU instructions, chosen by `i`.
fn alu(a: &mut CodeAssembler, i: usize) -> Result<(), IcedError> {
    let k = i as i32;
    match i % 6 {
        0 => a.add(rax, k & 0x7fff),
        1 => a.xor(rbx, rax),
        2 => a.lea(rcx, qword_ptr(rax + rbx * 2 + k)),
        3 => a.mov(edx, k as u32),
        4 => a.sub(rsi, rdx),
        _ => a.shl(rdi, (i % 31) as u32),
    }
}

fn straight_line() -> Guest {
    let mut a = CodeAssembler::new(64).unwrap();
    for i in 0..STRAIGHT {
        alu(&mut a, i).unwrap();
    }
    a.hlt().unwrap();
    Guest::new(Mode::Long64, &a.assemble(common::CODE).unwrap(), &[])
}

fn translate(c: &mut Criterion) {
    let g = straight_line();
    let mut jit = common::jit();
    let (mut cpu, mut bus) = g.fresh();
    common::run_jit(&mut jit, &mut cpu, &mut bus);
    let s = jit.stats();
    eprintln!(
        "translate/straight_line: {} instructions in {} blocks, translation_time_ns {} \
         = {:.1} ns per instruction (first run)",
        s.guest_instructions,
        s.blocks_translated,
        s.translation_time_ns,
        s.translation_time_ns as f64 / s.guest_instructions as f64
    );
    let mut group = c.benchmark_group("translate");
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(STRAIGHT as u64 + 1));
    group.bench_function("straight_line", |b| {
        // Only the run is timed (not the flush nor copying the guest).
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                jit.flush();
                let (mut cpu, mut bus) = g.fresh();
                let t = Instant::now();
                common::run_jit(&mut jit, &mut cpu, &mut bus);
                total += t.elapsed();
            }
            total
        })
    });
    group.finish();
}

/// `FUNCS` functions of 20 ALU instructions and RET, called in turn from
/// a loop run `ROUNDS` times; with `hot`, every call is followed by a call
/// of one of the first `HOT` functions (a hot set that fits the cache).
fn call_chain(hot: bool) -> Guest {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut funcs: Vec<CodeLabel> = (0..FUNCS).map(|_| a.create_label()).collect();
    let mut top = a.create_label();
    a.mov(r15d, ROUNDS).unwrap();
    a.set_label(&mut top).unwrap();
    for (k, f) in funcs.iter().enumerate() {
        a.call(*f).unwrap();
        if hot {
            a.call(funcs[k % HOT]).unwrap();
        }
    }
    a.dec(r15d).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
    for (n, f) in funcs.iter_mut().enumerate() {
        a.set_label(f).unwrap();
        for i in 0..20 {
            alu(&mut a, n * 7 + i).unwrap();
        }
        a.ret().unwrap();
    }
    Guest::new(Mode::Long64, &a.assemble(common::CODE).unwrap(), &[])
}

#[derive(Clone, Copy, Debug)]
enum Policy {
    Fits,
    Lru,
    FlushAll,
}

/// Run to HLT in chunks of `CHUNK` steps; with `flush_above`, flush the
/// whole cache whenever it holds more blocks than that (checked between
/// chunks, so it may overshoot by the blocks one chunk translates: at most
/// about 1024 / 21 ≈ 50, 2.5% of the budget).
fn run_policy(jit: &mut Jit, g: &Guest, flush_above: Option<usize>) -> u64 {
    let (mut cpu, mut bus) = g.fresh();
    let before = jit.guest_instructions();
    loop {
        let r = jit.run(&mut cpu, &mut bus, CHUNK).expect("no stop");
        if flush_above.is_some_and(|n| jit.cached_blocks() > n) {
            jit.flush();
        }
        if r == JitExit::Halted {
            break;
        }
    }
    jit.guest_instructions() - before
}

fn cache(c: &mut Criterion) {
    for (pattern, hot) in [("cyclic", false), ("hot_set", true)] {
        cache_pattern(c, pattern, hot);
    }
}

fn cache_pattern(c: &mut Criterion, pattern: &str, hot: bool) {
    let g = call_chain(hot);
    // The working set: code bytes and blocks with an unbounded cache.
    let mut big = common::jit();
    let n = run_policy(&mut big, &g, None);
    let ws = big.stats().code_cache_bytes as usize;
    let blocks = big.cached_blocks();
    let budget = ws / 2;
    let fit_blocks = blocks / 2;
    eprintln!(
        "cache/{pattern}: {FUNCS} functions, {n} instructions per run, working set {blocks} blocks = \
         {ws} bytes; budget {budget} bytes (LRU) or {fit_blocks} blocks (flush-all)"
    );
    let make = |p: Policy| -> (Jit, Option<usize>) {
        match p {
            Policy::Fits => (common::jit(), None),
            Policy::Lru => (
                Jit::new(JitConfig {
                    cache_bytes: budget,
                    ..JitConfig::default()
                })
                .expect("jit"),
                None,
            ),
            Policy::FlushAll => (common::jit(), Some(fit_blocks)),
        }
    };
    for p in [Policy::Fits, Policy::Lru, Policy::FlushAll] {
        let (mut jit, flush) = make(p);
        run_policy(&mut jit, &g, flush);
        let s = jit.stats();
        eprintln!(
            "cache/{pattern}/{p:?}: hit rate {:.2}% ({} hits / {} lookups), {} blocks translated, \
             {} evictions, {} flushes, invalidations {:?}, {} cached at the end",
            100.0 * s.cache_hits as f64 / s.cache_lookups.max(1) as f64,
            s.cache_hits,
            s.cache_lookups,
            s.blocks_translated,
            s.evictions,
            s.flushes,
            s.invalidations,
            jit.cached_blocks()
        );
    }
    let mut group = c.benchmark_group(format!("cache/{pattern}"));
    group.sample_size(10);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(n));
    for p in [Policy::Fits, Policy::Lru, Policy::FlushAll] {
        let (mut jit, flush) = make(p);
        group.bench_function(format!("{p:?}").to_lowercase(), |b| {
            b.iter(|| run_policy(&mut jit, &g, flush))
        });
    }
    group.finish();
}

criterion_group!(benches, translate, cache);
criterion_main!(benches);

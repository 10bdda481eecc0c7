//! Translation speed and code-cache behaviour.
//!
//! - `translate/straight_line`: a 20 000-instruction straight-line 64-bit
//!   program (register ALU instructions, all translated natively) run once
//!   per iteration after `Jit::flush`, so every block is translated again.
//!   Throughput is guest instructions translated (and run once): the
//!   reciprocal of elem/s is ns per translated instruction. The
//!   translator's own `translation_time_ns` per instruction is printed too.
//! - `cache/*`: the code cache with a working set larger than the cache,
//!   under three policies: `fits` (the default 32 MiB cache), `lru` (the
//!   JIT's LRU eviction, `JitConfig::cache_bytes` = the budget) and
//!   `flushall` (a cache of twice the budget that the driver empties with
//!   `Jit::flush` whenever it holds more blocks than the budget in blocks,
//!   so it never evicts; the JIT has no flush-all policy). The driver checks at every call of a tick
//!   routine (`JitConfig::stop_at`). Each policy's second (steady-state)
//!   run is printed: `JitStats::cache_hit_rate` (share of block entries
//!   served from the cache), blocks translated, evictions, flushes, MIPS.
//!   Timed iterations reuse one `Jit` per policy, as in that second run.
//!   - `cyclic`: `CYCLIC_FUNCS` functions called in turn, budget half the
//!     working set: LRU's worst case (every block is evicted just before
//!     it is needed again), so both policies miss everything.
//!   - `hot_cold`: an OS-like mix where the policy matters: a hot set
//!     (`HOT_FUNCS` functions, run after every `TICK` cold calls: ~90% of
//!     the block entries) that takes `HOT_SHARE` of the budget, and a
//!     stream of `COLD_FUNCS` cold functions (each once per round) that
//!     overflows it. Flush-all throws the hot set away at every flush;
//!     an LRU that sees every use of the hot blocks keeps them and only
//!     evicts cold blocks. The line also says how many of the
//!     translations were of hot blocks.

mod common;

use common::{Guest, Mode};
use cpu_model::interp::StepOutcome;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use iced_x86::code_asm::*;
use iced_x86::BlockEncoderOptions;
use std::time::{Duration, Instant};
use translator::{Jit, JitConfig, JitExit};

const STRAIGHT: usize = 20_000;
const CYCLIC_FUNCS: usize = 256;
const CYCLIC_ROUNDS: u32 = 20;
const HOT_FUNCS: usize = 96;
const COLD_FUNCS: usize = 1024;
const HOT_COLD_ROUNDS: u32 = 3;
/// Calls of the tick routine: one after every `TICK` stream functions.
const TICK: usize = 8;
/// The hot set's share of the cache budget (bytes for LRU, blocks for
/// flush-all).
const HOT_SHARE: f64 = 0.65;

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

/// A function of 20 ALU instructions (chosen by `n`) and RET: one block.
fn function(a: &mut CodeAssembler, label: &mut CodeLabel, n: usize) -> Result<(), IcedError> {
    a.set_label(label)?;
    for i in 0..20 {
        alu(a, n * 7 + i)?;
    }
    a.ret()
}

/// A cache workload: the guest and the address of its tick routine (the
/// driver's stop address).
struct Workload {
    guest: Guest,
    tick: u64,
}

/// Assemble at `common::CODE`; `tick` must be set.
fn workload(a: &mut CodeAssembler, tick: &CodeLabel) -> Workload {
    let r = a
        .assemble_options(
            common::CODE,
            BlockEncoderOptions::RETURN_NEW_INSTRUCTION_OFFSETS,
        )
        .unwrap();
    Workload {
        guest: Guest::new(Mode::Long64, r.inner.code_buffer.as_slice(), &[]),
        tick: r.label_ip(tick).unwrap(),
    }
}

/// `cyclic`: `CYCLIC_FUNCS` functions called in turn from a loop run
/// `CYCLIC_ROUNDS` times, with a call of `tick` (a lone RET) after every
/// `TICK` of them. Every block is used once per round, in the same order:
/// with a cache smaller than the working set, LRU always evicts the block
/// that is needed next (its worst case), and flush-all does no better.
fn cyclic() -> Workload {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut funcs: Vec<CodeLabel> = (0..CYCLIC_FUNCS).map(|_| a.create_label()).collect();
    let mut tick = a.create_label();
    let mut top = a.create_label();
    a.mov(r15d, CYCLIC_ROUNDS).unwrap();
    a.set_label(&mut top).unwrap();
    for (k, f) in funcs.iter().enumerate() {
        a.call(*f).unwrap();
        if k % TICK == TICK - 1 {
            a.call(tick).unwrap();
        }
    }
    a.dec(r15d).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
    a.set_label(&mut tick).unwrap();
    a.ret().unwrap();
    for (n, f) in funcs.iter_mut().enumerate() {
        function(&mut a, f, n).unwrap();
    }
    workload(&mut a, &tick)
}

/// `hot_cold`, an OS-like mix: `HOT_FUNCS` hot functions (the "kernel")
/// called in turn by `hot_all`, which is also the tick (a timer interrupt
/// running the kernel); the main loop calls `COLD_FUNCS` cold functions in
/// turn (the "applications", each used once per round) and `hot_all`
/// after every `TICK` of them, for `HOT_COLD_ROUNDS` rounds. About 90% of
/// the instructions and block entries are in the hot set.
///
/// With `cold` false the main code is a single `call hot_all`: its cache
/// footprint is the hot set's (plus two blocks), used to size the budget.
fn hot_cold(cold: bool) -> Workload {
    let mut a = CodeAssembler::new(64).unwrap();
    let mut hot: Vec<CodeLabel> = (0..HOT_FUNCS).map(|_| a.create_label()).collect();
    let mut cold_f: Vec<CodeLabel> = (0..COLD_FUNCS).map(|_| a.create_label()).collect();
    let mut hot_all = a.create_label();
    let mut top = a.create_label();
    if cold {
        a.mov(r15d, HOT_COLD_ROUNDS).unwrap();
        a.set_label(&mut top).unwrap();
        for (k, f) in cold_f.iter().enumerate() {
            a.call(*f).unwrap();
            if k % TICK == TICK - 1 {
                a.call(hot_all).unwrap();
            }
        }
        a.dec(r15d).unwrap();
        a.jnz(top).unwrap();
    } else {
        a.call(hot_all).unwrap();
    }
    a.hlt().unwrap();
    a.set_label(&mut hot_all).unwrap();
    for f in &hot {
        a.call(*f).unwrap();
    }
    a.ret().unwrap();
    for (n, f) in hot.iter_mut().enumerate() {
        function(&mut a, f, n).unwrap();
    }
    if cold {
        for (n, f) in cold_f.iter_mut().enumerate() {
            function(&mut a, f, HOT_FUNCS + n).unwrap();
        }
    }
    workload(&mut a, &hot_all)
}

#[derive(Clone, Copy, Debug)]
enum Policy {
    Fits,
    Lru,
    FlushAll,
}

/// Run a fresh copy of the guest to HLT. `Jit::run` returns at every tick
/// (`JitConfig::stop_at`); there, with `flush_above`, the driver flushes
/// the whole cache if it holds more blocks than that, then steps the
/// tick's first instruction with the interpreter and resumes. (Stopping
/// at a tick, not after a step budget, keeps the run free of the partial
/// blocks a budget boundary inside a block would translate.) Returns the
/// instructions run and the time taken (the copy of the guest is not
/// timed).
fn run_policy(jit: &mut Jit, w: &Workload, flush_above: Option<usize>) -> (u64, Duration) {
    let (mut cpu, mut bus) = w.guest.fresh();
    let before = jit.guest_instructions();
    let mut stepped = 0;
    let t = Instant::now();
    loop {
        match jit.run(&mut cpu, &mut bus, 1 << 40).expect("no stop") {
            JitExit::Halted => break,
            JitExit::StopAddress => {
                if flush_above.is_some_and(|n| jit.cached_blocks() > n) {
                    jit.flush();
                }
                // A HLT just before the tick leaves RIP at the tick.
                if cpu.step(&mut bus).expect("tick") == StepOutcome::Halted {
                    break;
                }
                stepped += 1;
            }
            e => panic!("unexpected exit {e:?}"),
        }
    }
    (jit.guest_instructions() - before + stepped, t.elapsed())
}

fn jit_with(cache_bytes: usize, tick: u64) -> Jit {
    Jit::new(JitConfig {
        cache_bytes,
        stop_at: Some(tick),
        ..JitConfig::default()
    })
    .expect("jit")
}

/// Code cache footprint with an unbounded cache: (blocks, host bytes).
fn footprint(w: &Workload) -> (usize, usize) {
    let mut jit = jit_with(JitConfig::default().cache_bytes, w.tick);
    run_policy(&mut jit, w, None);
    (jit.cached_blocks(), jit.stats().code_cache_bytes as usize)
}

fn cache(c: &mut Criterion) {
    // cyclic: the cache is half the working set.
    let w = cyclic();
    let (blocks, bytes) = footprint(&w);
    eprintln!(
        "cache/cyclic: {CYCLIC_FUNCS} functions x {CYCLIC_ROUNDS} rounds, working set {blocks} \
         blocks = {bytes} bytes; budget half of it"
    );
    cache_pattern(c, "cyclic", &w, bytes / 2, blocks / 2, None);

    // hot_cold: the hot set is HOT_SHARE of the budget.
    let w = hot_cold(true);
    let (blocks, bytes) = footprint(&w);
    let (hot_blocks, hot_bytes) = footprint(&hot_cold(false));
    let budget = (hot_bytes as f64 / HOT_SHARE) as usize;
    let fit_blocks = (hot_blocks as f64 / HOT_SHARE) as usize;
    eprintln!(
        "cache/hot_cold: {HOT_FUNCS} hot functions ({hot_blocks} blocks = {hot_bytes} bytes), \
         {COLD_FUNCS} cold ones, hot pass every {TICK} cold calls, {HOT_COLD_ROUNDS} rounds; \
         working set {blocks} blocks = {bytes} bytes; budget {budget} bytes (LRU) or \
         {fit_blocks} blocks (flush-all): hot set {:.0}% of the budget, budget {:.1}% of the \
         working set",
        100.0 * HOT_SHARE,
        100.0 * budget as f64 / bytes as f64
    );
    cache_pattern(
        c,
        "hot_cold",
        &w,
        budget,
        fit_blocks,
        Some(HOT_COLD_ROUNDS as usize * (blocks - hot_blocks)),
    );
}

/// Print the statistics of a steady-state run (the second one, as in the
/// timed iterations) for each policy, then time them. `cold_misses`: the
/// translations of blocks outside the hot set per run when the cache is
/// too small (each cold block once per round); translations beyond them
/// are hot-set misses.
fn cache_pattern(
    c: &mut Criterion,
    pattern: &str,
    w: &Workload,
    budget: usize,
    fit_blocks: usize,
    cold_misses: Option<usize>,
) {
    let make = |p: Policy| -> (Jit, Option<usize>) {
        let big = JitConfig::default().cache_bytes;
        match p {
            Policy::Fits => (jit_with(big, w.tick), None),
            Policy::Lru => (jit_with(budget, w.tick), None),
            // Twice the budget: never full before the driver flushes (no
            // evictions), and code chunks of the order of the LRU cache's
            // (the JIT's chunk is the cache size up to 1 MiB, and every
            // block copied in re-protects its whole chunk).
            Policy::FlushAll => (jit_with(2 * budget, w.tick), Some(fit_blocks)),
        }
    };
    let mut n = 0;
    for p in [Policy::Fits, Policy::Lru, Policy::FlushAll] {
        let (mut jit, flush) = make(p);
        run_policy(&mut jit, w, flush);
        let s0 = jit.stats();
        let (ran, time) = run_policy(&mut jit, w, flush);
        n = ran;
        let s = jit.stats();
        let entries = s.block_entries() - s0.block_entries();
        let served = s.cache_hits + s.chained_transitions - s0.cache_hits - s0.chained_transitions;
        let translated = s.blocks_translated - s0.blocks_translated;
        let jc = s.jump_cache_hits - s0.jump_cache_hits;
        let hot_misses = cold_misses.map_or(String::new(), |cm| {
            format!(
                " ({} of the hot set)",
                (translated as i64 - cm as i64).max(0)
            )
        });
        eprintln!(
            "cache/{pattern}/{p:?}: steady run: hit rate {:.2}% ({served} of {entries} block \
             entries, {jc} from the jump cache; first run {:.2}%), {translated} blocks \
             translated{hot_misses}, {} evictions, {} flushes, {:.2} MIPS",
            100.0 * served as f64 / entries.max(1) as f64,
            100.0 * s0.cache_hit_rate(),
            s.evictions - s0.evictions,
            s.flushes - s0.flushes,
            ran as f64 / time.as_secs_f64() / 1e6,
        );
    }
    let mut group = c.benchmark_group(format!("cache/{pattern}"));
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(n));
    for p in [Policy::Fits, Policy::Lru, Policy::FlushAll] {
        let (mut jit, flush) = make(p);
        group.bench_function(format!("{p:?}").to_lowercase(), |b| {
            b.iter_custom(|iters| (0..iters).map(|_| run_policy(&mut jit, w, flush).1).sum())
        });
    }
    group.finish();
}

criterion_group!(benches, translate, cache);
criterion_main!(benches);

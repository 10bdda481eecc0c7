//! `cargo run --release -p translator --example ssebench [RUNS] [KIB]`:
//! the SSE workloads of `benches/common/sse.rs` (a float dot product with
//! MOVAPS/MULPS/ADDPS, a MOVDQU copy, a CRC-32C loop with CRC32 r64, m64)
//! and its x87 ones (a double dot product with FLD/FMUL m64 and FADDP, a
//! polynomial evaluated in registers)
//! over two arrays of KIB KiB (default 1024), natively (the same machine
//! code in an executable mapping), under a warm translator and under the
//! interpreter, best of RUNS (default 10; the interpreter 2), in one
//! process; prints each time and the ratios to native. The guest's results
//! (rax, and the copy) are checked against the native ones.

#[path = "../benches/common/mod.rs"]
mod common;

use common::native::NativeKernel;
use common::sse;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn best(runs: u32, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

/// `data` copied to a 16-byte aligned place inside `store`.
fn aligned<'a>(store: &'a mut Vec<u8>, data: &[u8]) -> &'a mut [u8] {
    *store = vec![0; data.len() + 16];
    let off = store.as_ptr().align_offset(16);
    let s = &mut store[off..off + data.len()];
    s.copy_from_slice(data);
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    let kib: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1024);
    let n = kib << 10;
    let (fa, fb) = (sse::floats(n, 0xa11ce), sse::floats(n, 0xb0b));
    let (da, db) = (sse::doubles(n, 0xa11ce), sse::doubles(n, 0xb0b));
    // SSEBENCH_ONLY=NAME runs one kernel.
    let only = std::env::var("SSEBENCH_ONLY").ok();
    for name in sse::KERNELS {
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        let (a, b) = if name.starts_with("x87") {
            (&da, &db)
        } else {
            (&fa, &fb)
        };
        let native = NativeKernel::new(&sse::native_code(name)).expect("executable mapping");
        let (mut s1, mut s2) = (Vec::new(), Vec::new());
        let src: &[u8] = aligned(&mut s1, a);
        let dst = aligned(&mut s2, b);
        let mut want = 0;
        let tn = best(runs, || {
            let t = Instant::now();
            want = native.run(black_box(src), dst);
            t.elapsed()
        });
        let native_dst = dst.to_vec();
        let g = sse::guest(name, a, b);
        let check = |cpu: &cpu_model::Cpu, bus: &cpu_model::memory::FlatBus, engine: &str| {
            let got = cpu.state.gpr[0];
            let mask = if sse::result_is_64_bits(name) {
                u64::MAX
            } else {
                0xffff_ffff
            };
            assert_eq!(got & mask, want & mask, "{name} under {engine}: rax");
            let d = sse::DST as usize;
            assert!(
                bus.ram[d..d + n] == native_dst[..],
                "{name} under {engine}: dst"
            );
        };
        let mut jit = common::jit();
        let tj = best(runs + 1, || {
            let (mut cpu, mut bus) = g.fresh();
            let t = Instant::now();
            common::run_jit(&mut jit, &mut cpu, &mut bus);
            let e = t.elapsed();
            check(&cpu, &bus, "the translator");
            e
        });
        let st = jit.stats();
        if std::env::var_os("SSEBENCH_STATS").is_some() {
            eprintln!("{name}: {st:?}");
        }
        // SSEBENCH_INTERP_RUNS=0 leaves the interpreter out (for profiling
        // the translated runs).
        let interp_runs = std::env::var("SSEBENCH_INTERP_RUNS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(2);
        let ti = best(runs.min(interp_runs), || {
            let (mut cpu, mut bus) = g.fresh();
            let t = Instant::now();
            common::run_interp(&mut cpu, &mut bus);
            let e = t.elapsed();
            check(&cpu, &bus, "the interpreter");
            e
        });
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "{name:>6} {kib} KiB: native={:.3}ms translated={:.3}ms interpreted={:.1}ms  \
             translated/native={:.2} interpreted/native={:.0} interpreted/translated={:.0}  \
             (native share {:.4})",
            ms(tn),
            ms(tj),
            ms(ti),
            tj.as_secs_f64() / tn.as_secs_f64(),
            ti.as_secs_f64() / tn.as_secs_f64(),
            ti.as_secs_f64() / tj.as_secs_f64(),
            st.native_instructions as f64 / st.guest_instructions.max(1) as f64,
        );
    }
}

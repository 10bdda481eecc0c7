//! `cargo run --release -p translator --example native_ratio [RUNS]`: time
//! the table-driven CRC-32 over 1 MiB natively (the assembled x86-64 loop
//! in an executable mapping) and translated (the same loop as a 64-bit
//! guest under a warm JIT), best of RUNS each, and print
//! `native=… translated=… ratio=X.XX` (translated / native).

#[path = "../benches/common/mod.rs"]
mod common;

use common::native::NativeCrc;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn best(runs: u32, mut f: impl FnMut() -> Duration) -> Duration {
    (0..runs).map(|_| f()).min().unwrap_or_default()
}

fn main() {
    let runs: u32 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let data = common::random_bytes(1 << 20, 0xfeed);
    let table: [u32; 256] = common::crc_table().try_into().expect("256 entries");
    let want = common::crc32_rust(&table, &data);
    let native = NativeCrc::new(&common::native_crc_code()).expect("executable mapping");
    let g = common::crc_guest(&data);
    let mut jit = common::jit();
    let tn = best(runs, || {
        let t = Instant::now();
        let crc = native.crc32(black_box(&data), &table);
        let e = t.elapsed();
        assert_eq!(crc, want, "native CRC-32");
        e
    });
    // The first translated run fills the cache; best-of excludes it.
    let tj = best(runs + 1, || {
        let (mut cpu, mut bus) = g.fresh();
        let t = Instant::now();
        common::run_jit(&mut jit, &mut cpu, &mut bus);
        let e = t.elapsed();
        assert_eq!(cpu.state.gpr[0] as u32, want, "translated CRC-32");
        e
    });
    println!(
        "crc32 1 MiB: native={:.3}ms translated={:.3}ms ratio={:.2}",
        tn.as_secs_f64() * 1e3,
        tj.as_secs_f64() * 1e3,
        tj.as_secs_f64() / tn.as_secs_f64()
    );
}

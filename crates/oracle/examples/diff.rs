//! `cargo run --release -p oracle --example diff -- CASES SEED [interp|jit]`:
//! a campaign from the command line (the `xlat diff` command wraps the same
//! function).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cases = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let engine = match args.get(3).map(String::as_str) {
        Some("jit") => oracle::emulate::Engine::Jit,
        _ => oracle::emulate::Engine::Interp,
    };
    match oracle::campaign::run_campaign(engine, cases, seed, 10) {
        Ok(s) => {
            for m in &s.shown {
                println!("{}", oracle::campaign::report(m));
            }
            println!(
                "cases={} mismatches={} native_faults={} inconclusive={}",
                s.cases, s.mismatches, s.native_faults, s.inconclusive
            );
            std::process::exit(i32::from(s.mismatches != 0));
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}

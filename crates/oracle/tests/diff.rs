//! The interpreter against the host CPU on random instruction sequences
//! (a fixed seed, so a failure reproduces; `xlat diff` runs more).

use oracle::campaign::{report, run_campaign};
use oracle::emulate::Engine;

#[test]
fn interpreter_matches_host_cpu() {
    let summary = run_campaign(
        Engine::Interp,
        &cpu_model::model::XLAT,
        3000,
        0x5eed_1234,
        5,
        0.0,
    )
    .expect("campaign");
    for m in &summary.shown {
        eprintln!("{}", report(m));
    }
    assert_eq!(summary.cases, 3000);
    assert!(
        summary.inconclusive < 600,
        "{} inconclusive cases",
        summary.inconclusive
    );
    assert!(
        summary.native_faults > 0,
        "no case faulted: fault paths untested"
    );
    assert_eq!(
        summary.mismatches, 0,
        "{} of 3000 cases differ",
        summary.mismatches
    );
}

/// The translator against the host CPU, same campaign.
#[test]
fn jit_matches_host_cpu() {
    let summary = run_campaign(
        Engine::Jit,
        &cpu_model::model::XLAT,
        3000,
        0x5eed_1234,
        5,
        0.0,
    )
    .expect("campaign");
    for m in &summary.shown {
        eprintln!("{}", report(m));
    }
    assert_eq!(summary.cases, 3000);
    assert_eq!(
        summary.mismatches, 0,
        "{} of 3000 cases differ",
        summary.mismatches
    );
}

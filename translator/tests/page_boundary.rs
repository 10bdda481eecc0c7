//! Differential property test of page boundaries (issue #16): memory
//! accesses of every size whose first byte lies within 16 bytes of the
//! boundary between two linearly neighbouring pages of every kind (RAM,
//! ROM, unbacked, not present, read-only with CR0.WP on and off,
//! supervisor at CPL 0 and 3, non-canonical), physically neighbouring or
//! not, in real mode, 32-bit paging and 4-level paging (with the wraps at
//! 2^32 and 2^64 and both canonical boundaries), after the same
//! instruction warmed its fast path on either page. The interpreter, the
//! translator with its default configuration and the translator with a
//! 64 KiB code cache must agree on the exception, the whole CPU state and
//! every byte of memory. See `boundary/case.rs` for the case space.
//!
//! - `sweep_*`: every size x offset x (kind of A, kind of B) of a mode,
//!   deterministic, the other dimensions rotating;
//! - `random_cases`: proptest over the whole space;
//! - `one_case`: re-runs the case in `PAGE_BOUNDARY_CASE` (printed with
//!   every failure).

mod boundary;
mod common;

use boundary::*;
use proptest::prelude::*;

fn sweep_mode(mode: Mode, part: Option<(usize, usize)>) {
    let cases = sweep(mode);
    let cases: Vec<Case> = match part {
        Some((i, n)) => {
            let len = cases.len();
            cases[len * i / n..len * (i + 1) / n].to_vec()
        }
        None => cases,
    };
    let t0 = std::time::Instant::now();
    let (fails, tally) = run_all(&cases);
    eprintln!(
        "{mode:?}: {} cases in {:.1} s: {} ran to the end, {} faulted, {} other; {} translator helper calls",
        tally.cases,
        t0.elapsed().as_secs_f64(),
        tally.completed,
        tally.faulted,
        tally.other,
        tally.helper_calls
    );
    assert!(fails.is_empty(), "{}", report(&fails));
}

#[test]
fn sweep_real_mode() {
    sweep_mode(Mode::Real, None);
}

#[test]
fn sweep_prot32_paging() {
    sweep_mode(Mode::Prot32, None);
}

#[test]
fn sweep_long64_paging_1() {
    sweep_mode(Mode::Long64, Some((0, 2)));
}

#[test]
fn sweep_long64_paging_2() {
    sweep_mode(Mode::Long64, Some((1, 2)));
}

/// The sweep covers what the issue asks for.
#[test]
fn sweep_covers_every_size_offset_and_kind_pair() {
    for mode in MODES {
        let cases = sweep(mode);
        let kinds = mode.kinds();
        for size in mode.sizes() {
            for offset in -16..16 {
                for &a in kinds {
                    for &b in kinds {
                        assert!(
                            cases.iter().any(|c| c.size() == size
                                && c.offset == offset
                                && c.kind_a == a
                                && c.kind_b == b),
                            "{mode:?} size {size} offset {offset} {a:?}/{b:?}"
                        );
                    }
                }
            }
        }
        // Every place, form, and (with paging) CPL and CR0.WP value.
        for &p in mode.places() {
            assert!(cases.iter().any(|c| c.place == p), "{mode:?} {p:?}");
        }
        for size in mode.sizes() {
            for f in forms(mode, size) {
                assert!(cases.iter().any(|c| c.form == f), "{mode:?} form {f}");
            }
        }
        if mode != Mode::Real {
            for (cpl3, wp) in [(false, false), (false, true), (true, false), (true, true)] {
                assert!(cases.iter().any(|c| c.cpl3 == cpl3 && c.wp == wp));
            }
        }
        // Crossing accesses warmed on B (the page of the last byte) with
        // B not physically after A, for every pair of kinds.
        if mode != Mode::Real {
            for &a in kinds {
                for &b in kinds {
                    assert!(cases.iter().any(|c| c.crosses()
                        && c.kind_a == a
                        && c.kind_b == b
                        && c.warm == Warm::B
                        && !c.adjacent));
                }
            }
        }
    }
}

/// Bytes round-trip through `Case::from_bytes` / `to_bytes` (the re-run
/// key), and every sweep case is reachable from bytes.
#[test]
fn case_bytes_round_trip() {
    for mode in MODES {
        for c in sweep(mode) {
            assert_eq!(Case::from_bytes(&c.to_bytes()), c, "{c}");
            assert_eq!(Case::from_hex(&c.hex()), Some(c));
        }
    }
}

/// The premise of the test: after the warm-up the translator serves the
/// instruction's accesses from its fast path (else no case proves
/// anything about it). Each translator may take the slow path for the
/// first run only (an RMW form: its read and its write), with the
/// boundary access wholly inside the warm page.
#[test]
fn warm_up_reaches_the_fast_path() {
    for mode in MODES {
        for size in mode.sizes() {
            for form in forms(mode, size) {
                let case = Case {
                    mode,
                    place: mode.places()[0],
                    form,
                    offset: 0,
                    kind_a: Kind::Ram,
                    kind_b: Kind::Ram,
                    adjacent: true,
                    warm: Warm::B,
                    cpl3: false,
                    wp: false,
                };
                let (_, helper_calls) = check(&case).unwrap_or_else(|e| panic!("{e}"));
                let first_run = if FORMS[form].acc == Acc::ReadWrite {
                    2
                } else {
                    1
                };
                assert!(
                    helper_calls <= 2 * first_run,
                    "{mode:?} {:?}: {helper_calls} helper calls in two translators",
                    FORMS[form]
                );
            }
        }
    }
}

/// Random cases per run: 400, or `PAGE_BOUNDARY_RANDOM=N` (for longer
/// runs after a change to how the engines reach memory).
fn random_case_count() -> u32 {
    std::env::var("PAGE_BOUNDARY_RANDOM")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(400)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: random_case_count(),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random cases over the whole space (every dimension free).
    #[test]
    fn random_cases(bytes in proptest::collection::vec(any::<u8>(), CASE_BYTES)) {
        let case = Case::from_bytes(&bytes);
        if let Err(msg) = check(&case) {
            prop_assert!(false, "{}", msg);
        }
    }
}

/// Re-run one case: `PAGE_BOUNDARY_CASE=<hex> cargo test -p translator
/// --test page_boundary one_case -- --nocapture` (the hex is printed with
/// every failure). Without the variable: a crossing load on RAM whose
/// next page is non-neighbouring RAM, after a warm-up on that page.
#[test]
fn one_case() {
    let case = match std::env::var("PAGE_BOUNDARY_CASE") {
        Ok(hex) => Case::from_hex(&hex).expect("hex bytes"),
        Err(_) => {
            let mode = Mode::Long64;
            Case {
                mode,
                place: Place::Ordinary,
                form: forms(mode, 4)[0],
                offset: -2,
                kind_a: Kind::Ram,
                kind_b: Kind::Ram,
                adjacent: false,
                warm: Warm::B,
                cpl3: false,
                wp: false,
            }
        }
    };
    eprintln!("case {case}");
    match check(&case) {
        Ok((out, _)) => eprintln!("all engines agree: {:?}", out.end),
        Err(msg) => panic!("{msg}"),
    }
}

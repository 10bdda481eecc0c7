//! The self-modifying-code policy (`translator/src/smc.rs`) decides, per
//! page, whether code rewritten by the guest is translated again or
//! interpreted for a while. These tests check its decisions by counting
//! (translations, cooldowns, steps interpreted because of them), on the
//! workloads of `benches/common` (the `smcbench` example times them), and
//! that every run ends exactly as under the interpreter.

#[path = "../benches/common/mod.rs"]
mod workloads;

use translator::smc::MIN_COOLDOWN;
use translator::{Jit, JitConfig, JitExit, JitStats};
use workloads::{smc_own_page, smc_own_page_result, smc_separate_page, Guest};

/// Run `g` to HLT under the interpreter and the translator; the final
/// states and memories must agree. Returns the translator's statistics
/// and the steps taken.
fn run(g: &Guest, config: JitConfig) -> (JitStats, u64, u32) {
    let (mut c1, mut b1) = g.fresh();
    let steps = workloads::run_interp(&mut c1, &mut b1);
    let (mut c2, mut b2) = g.fresh();
    let mut jit = Jit::new(config).unwrap();
    workloads::run_jit(&mut jit, &mut c2, &mut b2);
    assert!(c1.state == c2.state, "interpreter and translator disagree");
    assert!(b1.ram == b2.ram, "memories differ");
    let s = jit.stats();
    assert_eq!(s.guest_instructions, steps);
    (s, steps, c2.state.gpr[0] as u32)
}

/// The loop's own immediate rewritten after every 4 iterations: a pass
/// runs about 25 instructions natively, far less than retranslating its
/// blocks costs. The page is interpreted, in cooldowns that double, so the
/// translations grow with the logarithm of the run's length.
#[test]
fn own_page_rewritten_every_short_pass_is_interpreted() {
    let mut cooldowns = Vec::new();
    for passes in [5_000usize, 20_000] {
        let inner = vec![4; passes];
        let (s, steps, eax) = run(&smc_own_page(&inner), JitConfig::default());
        assert_eq!(eax, smc_own_page_result(&inner));
        // Every pass's rewrite found the translations unprofitable.
        assert_eq!(s.smc_profitable, 0, "{s:?}");
        assert!(s.smc_interpreted_pages >= 3, "{s:?}");
        // One translation of the page's (at most 6) blocks per cooldown,
        // plus the first.
        assert!(
            s.blocks_translated <= 6 * (s.smc_interpreted_pages + 1),
            "{s:?}"
        );
        // Cooldowns of MIN_COOLDOWN, 2x, 4x, ...: k of them cover
        // (2^k - 1) * MIN_COOLDOWN steps; the run is at most that plus
        // the next one.
        let k = s.smc_interpreted_pages;
        assert!(steps >= ((1 << (k - 1)) - 1) * MIN_COOLDOWN, "{k} {steps}");
        assert!(steps < ((1 << (k + 1)) - 1) * MIN_COOLDOWN, "{k} {steps}");
        assert_eq!(s.smc_longest_cooldown, MIN_COOLDOWN << (k - 1));
        // Nearly all of it interpreted.
        assert!(s.smc_interpreted_steps * 100 >= steps * 99, "{s:?}");
        // Every interpreted step but the first one's was a cooling one.
        assert!(s.interpreter_steps - s.smc_interpreted_steps <= 1, "{s:?}");
        cooldowns.push(k);
    }
    // Four times the passes, two more doublings.
    assert_eq!(cooldowns[1], cooldowns[0] + 2, "{cooldowns:?}");
}

/// The same page rewritten once per pass of 1000 iterations: each pass's
/// translations run about 5000 instructions natively, more than they
/// cost, so the page is translated again after every rewrite and never
/// interpreted.
#[test]
fn own_page_rewritten_every_long_pass_stays_translated() {
    let passes = 100;
    let inner = vec![1000; passes];
    let (s, steps, eax) = run(&smc_own_page(&inner), JitConfig::default());
    assert_eq!(eax, smc_own_page_result(&inner));
    assert_eq!(s.smc_interpreted_pages, 0, "{s:?}");
    assert_eq!(s.smc_interpreted_steps, 0, "{s:?}");
    assert_eq!(s.smc_profitable, passes as u64, "{s:?}");
    // The loop's blocks again in every pass.
    assert!(s.blocks_translated >= 3 * passes as u64, "{s:?}");
    assert!(s.native_instructions * 1000 >= steps * 999, "{s:?}");
}

/// The rewritten routine on a page of its own, a hot loop on the code
/// page: the routine's page is interpreted (in doubling cooldowns), the
/// loop's is never invalidated and runs natively.
#[test]
fn rewritten_routine_on_a_separate_page_is_interpreted_alone() {
    let passes = 4000u64;
    let (s, steps, eax) = run(&smc_separate_page(passes as u32, 100), JitConfig::default());
    assert_eq!(u64::from(eax), passes * (passes + 1) / 2);
    assert_eq!(s.smc_profitable, 0, "{s:?}");
    let k = s.smc_interpreted_pages;
    assert!((3..=10).contains(&k), "{s:?}");
    // One invalidation (of the routine's one block) per cooldown: the
    // code page's blocks are never dropped.
    assert_eq!(s.invalidations["smc"], k, "{s:?}");
    // The routine's two instructions, interpreted in nearly every pass.
    assert!(s.smc_interpreted_steps >= 2 * (passes - 2 * k), "{s:?}");
    assert!(s.native_instructions * 100 >= steps * 99, "{s:?}");
}

/// The backoff starts over once the page's translations pay again: a
/// hot phase (short passes), a quiet one (long passes: each translation
/// pays), and the same hot phase again costs the same cooldowns as the
/// first (had the backoff gone on, they would be longer and fewer).
#[test]
fn backoff_starts_over_after_profitable_passes() {
    let hot = vec![4u32; 3000];
    let (first, ..) = run(&smc_own_page(&hot), JitConfig::default());
    let k = first.smc_interpreted_pages;
    assert!(k >= 3, "{first:?}");

    let quiet = 60;
    let mut phases = hot.clone();
    phases.extend(vec![1000u32; quiet]);
    phases.extend(&hot);
    let (s, _, eax) = run(&smc_own_page(&phases), JitConfig::default());
    assert_eq!(eax, smc_own_page_result(&phases));
    // The quiet phase's rewrites were profitable once the first phase's
    // last cooldown (at most as long as the first run's longest) was
    // over.
    let covered = first.smc_longest_cooldown.div_ceil(5000);
    assert!(s.smc_profitable >= quiet as u64 - covered, "{s:?}");
    assert_eq!(s.smc_interpreted_pages, 2 * k, "{s:?}");
    assert_eq!(s.smc_longest_cooldown, first.smc_longest_cooldown);
}

/// Without the cooldowns (`JitConfig::smc_cooldowns` off) every rewrite is
/// followed by a translation: the machinery the policy saves.
#[test]
fn without_cooldowns_every_pass_translates() {
    let inner = vec![4; 2000];
    let config = JitConfig {
        smc_cooldowns: false,
        ..JitConfig::default()
    };
    let (s, ..) = run(&smc_own_page(&inner), config);
    assert!(s.blocks_translated >= 3 * 2000, "{s:?}");
    assert_eq!(s.smc_interpreted_pages, 0);
    assert_eq!(s.smc_interpreted_steps, 0);
}

/// While a page is in its cooldown the dispatcher keeps stepping the
/// interpreter without a lookup per step: run budgets and the stop
/// address must still end runs exactly where they would end otherwise.
#[test]
fn cooling_pages_honour_budgets_and_the_stop_address() {
    let inner = vec![4; 3000];
    let g = smc_own_page(&inner);
    let (mut c1, mut b1) = g.fresh();
    let steps = workloads::run_interp(&mut c1, &mut b1);

    // Odd budgets: runs end everywhere, mostly inside cooldowns.
    let (mut c2, mut b2) = g.fresh();
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    let mut runs = 0u64;
    while jit.run(&mut c2, &mut b2, 97).unwrap() != JitExit::Halted {
        runs += 1;
        assert_eq!(jit.guest_instructions(), 97 * runs);
    }
    assert!(c1.state == c2.state);
    assert!(b1.ram == b2.ram);
    let s = jit.stats();
    assert_eq!(s.guest_instructions, steps);
    assert!(s.smc_interpreted_steps * 100 >= steps * 95, "{s:?}");

    // A stop address on the rewritten page (the `dec ecx` after the
    // patching `inc dword [rsi]`): every pass stops there with the
    // interpreter's state.
    let stop = {
        let code = &b1.ram[workloads::CODE as usize..workloads::CODE as usize + 64];
        let at = code.windows(2).position(|w| w == [0xff, 0x06]).unwrap();
        workloads::CODE + at as u64 + 2
    };
    let (mut c1, mut b1) = g.fresh();
    let (mut c2, mut b2) = g.fresh();
    let mut jit = Jit::new(JitConfig {
        stop_at: Some(stop),
        ..JitConfig::default()
    })
    .unwrap();
    for pass in 0..300 {
        assert_eq!(
            jit.run(&mut c2, &mut b2, u64::MAX).unwrap(),
            JitExit::StopAddress
        );
        loop {
            c1.step(&mut b1).unwrap();
            if c1.state.rip == stop {
                break;
            }
        }
        assert!(c1.state == c2.state, "pass {pass}");
        // Over the stop address, by one interpreter step each.
        c1.step(&mut b1).unwrap();
        c2.step(&mut b2).unwrap();
    }
    assert!(b1.ram == b2.ram);
    let s = jit.stats();
    assert!(s.smc_interpreted_pages >= 2, "{s:?}");
    assert!(s.smc_interpreted_steps > 5000, "{s:?}");
}

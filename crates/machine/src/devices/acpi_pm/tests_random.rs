//! Random register accesses, power-button presses, GPE events and resets at
//! random, increasing times (a fixed xorshift sequence), checking after each
//! step that the SCI follows an independent statement of its rule, that
//! `next_event` is exactly the time the SCI would rise with no access, that
//! a shadow block restored from a snapshot now and then answers the same,
//! and that a third block, also looked at (and its enables rewritten) at
//! many times in between, sees the same at each step. Garbage snapshots
//! must leave the block usable.

use super::*;
use crate::testutil::XorShift;

/// The SCI rule restated: SCI_EN and an enabled event whose status is set.
/// The timer's status is taken from PM1_STS as read (its timing is what the
/// directed tests check).
fn reference_sci(s: &AcpiPmState, timer_sts: bool) -> bool {
    let sts = s.pm1_sts & PWRBTN | if timer_sts { TMR } else { 0 };
    s.pm1_cnt & SCI_EN != 0 && (sts & s.pm1_en != 0 || s.gpe0_sts & s.gpe0_en != 0)
}

fn step(pm: &mut AcpiPm, rng: &mut XorShift, now: u64) -> u64 {
    let op = rng.below(16);
    let value = rng.next() as u8;
    let offset = rng.below(0x44) as u16;
    match op {
        0..=3 => u64::from(pm.read(offset, now)),
        4..=7 => {
            // Favour the defined registers and bits the rules care about.
            let offset = offset % 0x0c;
            let value = if rng.below(4) == 0 { 0x21 } else { value };
            pm.write(offset, value, now);
            0
        }
        8 => {
            pm.write(PM1_EN, TMR as u8, now);
            0
        }
        9 => {
            pm.write(PM1_STS, TMR as u8, now);
            0
        }
        10 => u64::from(pm.read_gpe0(offset % 6)),
        11 => {
            pm.write_gpe0(offset % 6, value);
            0
        }
        12 => {
            pm.set_gpe0_status(value % 20);
            0
        }
        13 => {
            pm.press_power_button();
            0
        }
        14 if rng.below(8) == 0 => {
            pm.reset(now);
            0
        }
        _ => u64::from(pm.timer(now)),
    }
}

/// Reads every register at a few times in `(from, to)` and rewrites PM1_EN
/// with what it holds (which latches the timer's status): nothing a guest
/// can see may change.
fn look_in_between(pm: &mut AcpiPm, rng: &mut XorShift, from: u64, to: u64) {
    if to <= from + 1 {
        return;
    }
    let mut times: Vec<u64> = (0..rng.below(4))
        .map(|_| from + 1 + rng.below(to - from - 1))
        .collect();
    times.sort_unstable();
    for t in times {
        for offset in 0..12 {
            pm.read(offset, t);
        }
        pm.sci(t);
        for offset in [PM1_EN, PM1_EN + 1] {
            let held = pm.read(offset, t);
            pm.write(offset, held, t);
        }
    }
}

fn run(seed: u64, width: TimerWidth) {
    let config = AcpiPmConfig {
        acpi_only: seed & 1 == 0,
        timer_width: width,
    };
    let mut rng = XorShift(seed);
    let mut pm = AcpiPm::new(config);
    let mut shadow = AcpiPm::new(config);
    let mut fine = AcpiPm::new(config);
    let mut now = 0u64;
    for i in 0..3_000 {
        // Mostly small steps, now and then past a timer change or two.
        let before = now;
        now += match rng.below(10) {
            0 => rng.below(6_000_000_000),
            1..=3 => rng.below(1_000_000),
            _ => rng.below(300),
        };
        look_in_between(&mut fine, &mut XorShift(rng.0 ^ 0x5555), before, now);
        let c = step(&mut fine, &mut XorShift(rng.0), now);
        let a = step(&mut pm, &mut XorShift(rng.0), now);
        let b = step(&mut shadow, &mut rng, now);
        assert_eq!(a, b, "seed {seed} step {i}");
        assert_eq!(a, c, "seed {seed} step {i}: fine-grained");
        assert_eq!(pm.state(), shadow.state());
        for offset in 0..12 {
            assert_eq!(
                pm.read(offset, now),
                fine.read(offset, now),
                "seed {seed} step {i}"
            );
        }
        assert_eq!(pm.sci(now), fine.sci(now));
        assert_eq!(pm.next_event(now), fine.next_event(now));

        // The SCI against the rule.
        let s = pm.state();
        let timer_sts = pm.pm1_status(now) & TMR != 0;
        assert_eq!(
            pm.sci(now),
            reference_sci(&s, timer_sts),
            "seed {seed} step {i}"
        );
        assert_eq!(s.pm1_sts & !STS_SOURCED, 0);
        assert_eq!(s.pm1_en & !EN_BITS, 0);

        // next_event: the SCI stays low until then and is high at it.
        match pm.next_event(now) {
            Some(t) => {
                assert!(t > now);
                assert!(!pm.sci(t - 1), "seed {seed} step {i}");
                assert!(pm.sci(t), "seed {seed} step {i}");
            }
            None => {
                let later = now.saturating_add(20_000_000_000);
                assert_eq!(pm.sci(later), pm.sci(now), "seed {seed} step {i}");
            }
        }

        if rng.below(50) == 0 {
            shadow = AcpiPm::new(config);
            shadow.restore(&pm.state());
        }
    }
}

#[test]
fn random_accesses_follow_the_rules_and_snapshots_replay() {
    for seed in 1..=24u64 {
        let width = if seed % 3 == 0 {
            TimerWidth::Bits32
        } else {
            TimerWidth::Bits24
        };
        run(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15), width);
    }
}

#[test]
fn garbage_snapshots_leave_a_working_block() {
    let mut rng = XorShift(0x1234_5678_9abc_def1);
    for _ in 0..2_000 {
        let mut pm = AcpiPm::new(AcpiPmConfig::default());
        pm.restore(&AcpiPmState {
            pm1_sts: rng.next() as u16,
            pm1_en: rng.next() as u16,
            pm1_cnt: rng.next() as u16,
            timer_changes: rng.next(),
            gpe0_sts: rng.next() as u16,
            gpe0_en: rng.next() as u16,
            poweroff_requested: rng.next() & 1 != 0,
        });
        let now = rng.next();
        for offset in 0..0x10 {
            pm.read(offset, now);
        }
        pm.sci(now);
        if let Some(t) = pm.next_event(now) {
            assert!(t > now);
        }
        // Clearing every status bit and disabling GPEs lowers the SCI.
        pm.write(PM1_STS, 0xff, now);
        pm.write(PM1_STS + 1, 0xff, now);
        pm.write_gpe0(2, 0);
        pm.write_gpe0(3, 0);
        assert!(!pm.sci(now));
    }
}

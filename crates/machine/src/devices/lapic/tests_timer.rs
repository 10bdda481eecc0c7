//! The timer (SDM 11.5.4): counts at exact times for every divider, one-shot
//! and periodic expirations, stopping and restarting, divider and mode
//! changes while counting, masking, and independence from how finely the
//! machine steps time.

use super::regs::*;
use super::tests::{enabled, rd_at, wr_at};
use super::*;

const TIMER_VECTOR: u32 = 0x40;

/// Every divide configuration with its divisor (Figure 11-10).
const DIVIDERS: [(u32, u64); 8] = [
    (0b0000, 2),
    (0b0001, 4),
    (0b0010, 8),
    (0b0011, 16),
    (0b1000, 32),
    (0b1001, 64),
    (0b1010, 128),
    (0b1011, 1),
];

fn requested(l: &Lapic) -> bool {
    l.state().irr[usize::from(TIMER_VECTOR as u8 >> 5)] >> (TIMER_VECTOR & 31) & 1 != 0
}

#[test]
fn one_shot_counts_and_fires_with_each_divider() {
    for (config, div) in DIVIDERS {
        let mut l = enabled();
        let t0 = 1000;
        wr_at(&mut l, REG_DIVIDE, config, t0);
        wr_at(&mut l, REG_LVT, TIMER_VECTOR, t0);
        wr_at(&mut l, REG_INITIAL_COUNT, 100, t0);
        assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, t0), 100);
        assert_eq!(
            rd_at(&mut l, REG_CURRENT_COUNT, t0 + div - 1),
            100,
            "div {div}"
        );
        assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, t0 + div), 99, "div {div}");
        assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, t0 + 37 * div), 63);
        let expiry = t0 + 100 * div;
        assert_eq!(l.next_event(t0 + 37 * div), Some(expiry));
        l.update(expiry - 1);
        assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, expiry - 1), 1);
        assert!(!requested(&l));
        l.update(expiry);
        assert!(requested(&l), "div {div}");
        assert_eq!(l.pending(), Some(Pending::Fixed(0x40)));
        assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, expiry), 0);
        assert_eq!(l.next_event(expiry), None, "one-shot");
        assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, expiry + 10_000), 0);
        assert_eq!(rd_at(&mut l, REG_INITIAL_COUNT, expiry), 100);
    }
}

#[test]
fn periodic_reloads_and_fires_every_period_with_each_divider() {
    for (config, div) in DIVIDERS {
        let mut l = enabled();
        let t0 = 5;
        wr_at(&mut l, REG_DIVIDE, config, t0);
        wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, t0);
        wr_at(&mut l, REG_INITIAL_COUNT, 10, t0);
        let period = 10 * div;
        let mut now = t0;
        for k in 1..=5 {
            let at = l.next_event(now).unwrap();
            assert_eq!(at, t0 + k * period, "div {div} period {k}");
            l.update(at - 1);
            assert!(!requested(&l));
            assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, at - 1), 1);
            l.update(at);
            assert!(requested(&l));
            // Reloaded at the same instant: a periodic count never reads 0.
            assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, at), 10);
            assert_eq!(l.acknowledge(), 0x40);
            wr_at(&mut l, REG_EOI, 0, at);
            now = at;
        }
    }
}

#[test]
fn missed_periods_collapse_into_one_request() {
    let mut l = enabled();
    wr_at(&mut l, REG_DIVIDE, 0xb, 0);
    wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, 0);
    wr_at(&mut l, REG_INITIAL_COUNT, 100, 0);
    l.update(1050);
    assert_eq!(l.acknowledge(), 0x40);
    assert_eq!(l.pending(), None);
    assert_eq!(l.current_count(1050), 50);
    assert_eq!(l.next_event(1050), Some(1100));
}

#[test]
fn zero_stops_and_a_new_count_restarts() {
    let mut l = enabled();
    wr_at(&mut l, REG_DIVIDE, 0xb, 0);
    wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, 0);
    wr_at(&mut l, REG_INITIAL_COUNT, 1000, 0);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 400), 600);
    // Rewriting restarts from the new value at the write.
    wr_at(&mut l, REG_INITIAL_COUNT, 300, 400);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 400), 300);
    assert_eq!(l.next_event(400), Some(700));
    wr_at(&mut l, REG_INITIAL_COUNT, 0, 500);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 500), 0);
    assert_eq!(l.next_event(500), None);
    l.update(100_000);
    assert!(!requested(&l));
}

#[test]
fn divider_change_counts_on_from_the_current_count() {
    let mut l = enabled();
    wr_at(&mut l, REG_LVT, TIMER_VECTOR, 0);
    wr_at(&mut l, REG_INITIAL_COUNT, 1000, 0); // divide by 2
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 501), 750);
    wr_at(&mut l, REG_DIVIDE, 0xb, 501); // divide by 1
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 501), 750);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 511), 740);
    assert_eq!(l.next_event(511), Some(1251));
    // Slower again.
    wr_at(&mut l, REG_DIVIDE, 0xa, 1001); // divide by 128
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 1001 + 127), 250);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 1001 + 128), 249);
    assert_eq!(l.next_event(1001), Some(1001 + 250 * 128));
}

#[test]
fn mode_change_keeps_count_and_phase() {
    let mut l = enabled();
    wr_at(&mut l, REG_DIVIDE, 0x3, 0); // divide by 16
    wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, 0);
    wr_at(&mut l, REG_INITIAL_COUNT, 10, 0);
    // At 250 ns 15 counts have passed: 5 into the second period.
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 250), 5);
    wr_at(&mut l, REG_LVT, TIMER_VECTOR, 250);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 255), 5);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 256), 4);
    assert_eq!(l.next_event(250), Some(320));
    l.update(320);
    assert_eq!(l.acknowledge(), 0x40);
    assert_eq!(l.next_event(320), None, "one-shot now");
    // Periodic again after it expired: stays stopped until a new count.
    wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, 400);
    assert_eq!(l.next_event(400), None);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 400), 0);
}

#[test]
fn masked_timer_counts_but_does_not_interrupt() {
    let mut l = enabled();
    wr_at(&mut l, REG_DIVIDE, 0xb, 0);
    wr_at(
        &mut l,
        REG_LVT,
        LVT_MASKED | LVT_TIMER_PERIODIC | TIMER_VECTOR,
        0,
    );
    wr_at(&mut l, REG_INITIAL_COUNT, 100, 0);
    assert_eq!(l.next_event(0), None);
    l.update(1000);
    assert!(!requested(&l));
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 1030), 70);
    // Unmasked: the next expiry interrupts, the missed ones do not.
    wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, 1030);
    assert!(!requested(&l));
    assert_eq!(l.next_event(1030), Some(1100));
    l.update(1100);
    assert!(requested(&l));
    // Software disable masks it as well.
    assert_eq!(l.acknowledge(), 0x40);
    wr_at(&mut l, REG_EOI, 0, 1100);
    wr_at(&mut l, REG_SVR, 0xff, 1100);
    assert_eq!(l.next_event(1100), None);
    l.update(5000);
    assert!(!requested(&l));
}

#[test]
fn illegal_timer_vector_sets_the_esr() {
    let mut l = enabled();
    wr_at(&mut l, REG_DIVIDE, 0xb, 0);
    wr_at(&mut l, REG_LVT, 0x0e, 0);
    wr_at(&mut l, REG_INITIAL_COUNT, 10, 0);
    l.update(10);
    assert_eq!(l.pending(), None);
    wr_at(&mut l, REG_ESR, 0, 10);
    assert_eq!(rd_at(&mut l, REG_ESR, 10), ESR_RECEIVE_ILLEGAL_VECTOR);
}

/// The acknowledges (time, vector) of a run driven with `step` choosing
/// the next time from the current one; the unit's final state.
fn run(mut step: impl FnMut(&Lapic, u64) -> u64, end: u64) -> (Vec<(u64, u8)>, LapicState) {
    let mut l = enabled();
    wr_at(&mut l, REG_DIVIDE, 0x1, 0); // divide by 4
    wr_at(&mut l, REG_LVT, LVT_TIMER_PERIODIC | TIMER_VECTOR, 3);
    wr_at(&mut l, REG_INITIAL_COUNT, 7, 3);
    let mut taken = Vec::new();
    let mut now = 3;
    while now < end {
        now = step(&l, now).min(end);
        l.update(now);
        if let Some(Pending::Fixed(_)) = l.pending() {
            taken.push((now, l.acknowledge()));
            wr_at(&mut l, REG_EOI, 0, now);
        }
        if now == 200 {
            // A divider change in the middle of the run.
            wr_at(&mut l, REG_DIVIDE, 0x2, now);
        }
    }
    (taken, l.state())
}

#[test]
fn same_results_whatever_the_time_steps() {
    let end = 1000;
    let fine = run(|_, now| now + 1, end);
    let events = run(
        |l, now| {
            let next = l.next_event(now).unwrap_or(u64::MAX);
            // Stop at the divider change too, as an access would.
            if now < 200 {
                next.min(200)
            } else {
                next
            }
        },
        end,
    );
    assert_eq!(fine.0, events.0);
    assert_eq!(fine.1, events.1);
    assert_eq!(fine.0.first(), Some(&(31, 0x40)));
    assert!(fine.0.len() > 10, "{:?}", fine.0);
}

#[test]
fn count_written_before_the_lvt_and_divider() {
    // The counter runs from the count write, masked; unmasking later
    // lets the same expiry through.
    let mut l = enabled();
    wr_at(&mut l, REG_INITIAL_COUNT, 50, 100);
    assert_eq!(rd_at(&mut l, REG_LVT, 100), LVT_MASKED);
    assert_eq!(l.next_event(100), None);
    wr_at(&mut l, REG_LVT, TIMER_VECTOR, 150);
    assert_eq!(rd_at(&mut l, REG_CURRENT_COUNT, 150), 25);
    assert_eq!(l.next_event(150), Some(200));
    // A divider written afterwards slows what is left.
    wr_at(&mut l, REG_DIVIDE, 0x1, 160); // divide by 4
    assert_eq!(l.next_event(160), Some(160 + 20 * 4));
    l.update(239);
    assert!(!requested(&l));
    l.update(240);
    assert_eq!(l.pending(), Some(Pending::Fixed(0x40)));
}

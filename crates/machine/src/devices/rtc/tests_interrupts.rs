//! IRQ 8 against the datasheet: the periodic interrupt at exact times for
//! several rates, the update-ended and alarm interrupts with "don't care"
//! bytes, register C's read-to-clear, the enables, and the same results
//! whether time is stepped finely or jumped.

use super::tests::{peek, poke, BASE, SEC};
use super::*;

/// Follow `n` interrupts from `now`: each at `next_event`, with IRQ 8 low
/// just before and high at it, acknowledged by reading register C, whose
/// value is returned with the time.
fn follow(rtc: &mut Rtc, mut now: u64, n: usize) -> Vec<(u64, u8)> {
    let mut seen = Vec::new();
    for _ in 0..n {
        let at = rtc.next_event(now).expect("an interrupt is due");
        assert!(at > now);
        assert!(!rtc.irq(at - 1), "low before {at}");
        assert!(rtc.irq(at), "high at {at}");
        assert_eq!(rtc.next_event(at), None, "nothing more until C is read");
        let c = peek(rtc, REG_C, at);
        assert!(!rtc.irq(at));
        seen.push((at, c));
        now = at;
    }
    seen
}

fn clock(k: u64) -> u64 {
    clock_time(k).unwrap()
}

#[test]
fn periodic_interrupt_at_exact_times() {
    // (rate select, period in crystal clocks)
    for (rs, period) in [(3u8, 4u64), (6, 32), (15, 16_384), (1, 128), (2, 256)] {
        let mut rtc = Rtc::new(BASE);
        poke(&mut rtc, REG_A, 0x20 | rs, 0);
        poke(&mut rtc, REG_B, B_PIE | B_24H, 0);
        let seen = follow(&mut rtc, 0, 6);
        for (n, &(at, c)) in seen.iter().enumerate() {
            assert_eq!(at, clock(period * (n as u64 + 1)), "rate {rs}");
            // The updates at whole seconds come with their UF.
            let uf = if at % SEC == 0 { C_UF } else { 0 };
            assert_eq!(c, C_IRQF | C_PF | uf, "rate {rs} at {at}");
        }
    }
    // 1024 Hz: 976.5625 µs, so the edges fall on alternate half ns.
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_PIE | B_24H, 0);
    let times: Vec<u64> = follow(&mut rtc, 0, 4).iter().map(|s| s.0).collect();
    assert_eq!(times, [976_563, 1_953_125, 2_929_688, 3_906_250]);
    // 2 Hz: every half second.
    poke(&mut rtc, REG_A, 0x2f, 4_000_000);
    let times: Vec<u64> = follow(&mut rtc, 4_000_000, 3).iter().map(|s| s.0).collect();
    assert_eq!(times, [SEC / 2, SEC, 3 * SEC / 2]);
}

#[test]
fn pf_sets_without_pie_and_raises_irq_when_pie_is_enabled() {
    let mut rtc = Rtc::new(BASE);
    assert_eq!(rtc.next_event(0), None);
    assert!(!rtc.irq(SEC / 1000));
    poke(&mut rtc, REG_B, B_PIE | B_24H, SEC / 1000);
    assert!(rtc.irq(SEC / 1000), "PF was already set");
    assert_eq!(peek(&mut rtc, REG_C, SEC / 1000), C_IRQF | C_PF);
    // Disabling the interrupt lowers IRQ 8; the flag stays readable.
    poke(&mut rtc, REG_B, B_24H, SEC / 100);
    assert!(!rtc.irq(SEC / 100));
    assert_eq!(peek(&mut rtc, REG_C, SEC / 100), C_PF);
    // Rate 0: no periodic flag.
    poke(&mut rtc, REG_A, 0x20, SEC / 100);
    poke(&mut rtc, REG_B, B_PIE | B_24H, SEC / 100);
    assert_eq!(rtc.next_event(SEC / 100), None);
    assert_eq!(peek(&mut rtc, REG_C, SEC - 1), 0);
}

#[test]
fn update_ended_interrupt_each_second() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_UIE | B_24H, SEC / 3);
    let seen = follow(&mut rtc, SEC / 3, 3);
    let pf_uf = C_IRQF | C_PF | C_UF; // PF too: 1024 Hz is running
    assert_eq!(seen, [(SEC, pf_uf), (2 * SEC, pf_uf), (3 * SEC, pf_uf)]);
    // UF is read right after the update: the new second is there.
    assert_eq!(peek(&mut rtc, SECONDS, 3 * SEC), 0x40);
}

#[test]
fn alarm_with_dont_care_bytes() {
    const ANY: u8 = 0xc0;
    let cases: [([u8; 3], [u64; 3]); 4] = [
        // Every second.
        ([ANY, 0xff, 0xd7], [1, 2, 3]),
        // Every minute at second 0: 20:56:00, 20:57:00, ...
        ([0x00, ANY, ANY], [23, 83, 143]),
        // Every hour at minute 0: 21:00:00, 22:00:00, ...
        ([0x00, 0x00, ANY], [263, 3863, 7463]),
        // Once a day.
        ([0x00, 0x00, 0x21], [263, 86_663, 173_063]),
    ];
    for (alarm, seconds) in cases {
        let mut rtc = Rtc::new(BASE);
        poke(&mut rtc, SECONDS_ALARM, alarm[0], 0);
        poke(&mut rtc, MINUTES_ALARM, alarm[1], 0);
        poke(&mut rtc, HOURS_ALARM, alarm[2], 0);
        poke(&mut rtc, REG_B, B_AIE | B_24H, 0);
        let seen = follow(&mut rtc, 0, 3);
        let times: Vec<u64> = seen.iter().map(|s| s.0 / SEC).collect();
        assert_eq!(times, seconds, "{alarm:x?}");
        for (at, c) in seen {
            assert_eq!(at % SEC, 0);
            assert_eq!(c & (C_IRQF | C_AF | C_UF), C_IRQF | C_AF | C_UF, "{c:#x}");
        }
    }
}

#[test]
fn alarm_in_12_hour_binary_matches_the_pm_byte() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_DM | B_AIE, 0);
    poke(&mut rtc, SECONDS_ALARM, 0, 0);
    poke(&mut rtc, MINUTES_ALARM, 0, 0);
    poke(&mut rtc, HOURS_ALARM, 0x89, 0); // 9 PM
    assert_eq!(rtc.next_event(0), Some(263 * SEC));
    poke(&mut rtc, HOURS_ALARM, 0x09, 0); // 9 AM
    assert_eq!(rtc.next_event(0), Some((263 + 12 * 3600) * SEC));
    poke(&mut rtc, HOURS_ALARM, 0x21, 0); // not a 12-hour byte
    assert_eq!(rtc.next_event(0), None);
    assert!(!rtc.irq(3 * 86_400 * SEC));
}

#[test]
fn af_is_seen_in_register_c_without_aie() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, SECONDS_ALARM, 0x40, 0); // 20:55:40, or any later :40
    poke(&mut rtc, MINUTES_ALARM, 0xc0, 0);
    poke(&mut rtc, HOURS_ALARM, 0xc0, 0);
    poke(&mut rtc, REG_A, 0x20, 0); // no periodic
    assert_eq!(peek(&mut rtc, REG_C, 3 * SEC - 1), C_UF);
    assert_eq!(peek(&mut rtc, REG_C, 3 * SEC), C_AF | C_UF);
    assert_eq!(peek(&mut rtc, REG_C, 3 * SEC), 0);
    // A jump over an alarm time still finds it.
    assert_eq!(peek(&mut rtc, REG_C, 1000 * SEC), C_AF | C_UF);
}

#[test]
fn no_updates_under_set_and_nothing_in_divider_reset() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, SECONDS_ALARM, 0xc0, 0);
    poke(&mut rtc, MINUTES_ALARM, 0xc0, 0);
    poke(&mut rtc, HOURS_ALARM, 0xc0, 0);
    poke(&mut rtc, REG_B, B_SET | B_AIE | B_24H, 0);
    assert_eq!(rtc.next_event(0), None);
    assert_eq!(peek(&mut rtc, REG_C, 3 * SEC), C_PF);
    poke(&mut rtc, REG_B, B_PIE | B_AIE | B_UIE | B_24H, 3 * SEC);
    poke(&mut rtc, REG_A, 0x66, 3 * SEC);
    assert_eq!(rtc.next_event(3 * SEC), None);
    assert_eq!(peek(&mut rtc, REG_C, 9 * SEC), 0);
    // Out of reset: PF after a period, the update half a second later.
    poke(&mut rtc, REG_A, 0x2f, 9 * SEC);
    let seen = follow(&mut rtc, 9 * SEC, 1);
    assert_eq!(seen, [(9 * SEC + SEC / 2, C_IRQF | C_PF | C_AF | C_UF)]);
}

/// IRQ 8 sampled at every nanosecond of `from..=to`, acknowledged as soon
/// as it is high, and the same device driven only by `next_event`, see the
/// same interrupts at the same times.
fn step_against_jump(from: u64, to: u64) {
    let setup = || {
        let mut rtc = Rtc::new(BASE);
        poke(&mut rtc, REG_A, 0x23, 0); // 8192 Hz
        poke(&mut rtc, REG_B, B_PIE | B_UIE | B_24H, 0);
        peek(&mut rtc, REG_C, from);
        rtc
    };
    let mut stepped = setup();
    let mut stepped_seen = Vec::new();
    for t in from..=to {
        if stepped.irq(t) {
            stepped_seen.push((t, peek(&mut stepped, REG_C, t)));
        }
    }
    let mut jumped = setup();
    let mut jumped_seen = Vec::new();
    let mut now = from;
    while let Some(at) = jumped.next_event(now).filter(|&at| at <= to) {
        jumped_seen.push((at, peek(&mut jumped, REG_C, at)));
        now = at;
    }
    assert!(stepped_seen.len() >= 10, "{stepped_seen:?}");
    assert_eq!(stepped_seen, jumped_seen);
}

#[test]
fn stepping_every_nanosecond_matches_jumping_to_events() {
    step_against_jump(0, 1_500_000);
    // Across an update: UF comes with the PF of the same clock.
    step_against_jump(SEC - 800_000, SEC + 800_000);
}

/// Reading a register every 997 ns changes nothing about what a device
/// that is read only at its interrupts sees.
#[test]
fn frequent_reads_do_not_change_the_future() {
    let setup = || {
        let mut rtc = Rtc::new(BASE);
        poke(&mut rtc, SECONDS_ALARM, 0xc0, 0);
        poke(&mut rtc, MINUTES_ALARM, 0xc0, 0);
        poke(&mut rtc, HOURS_ALARM, 0xc0, 0);
        poke(&mut rtc, REG_A, 0x2c, 0); // 16 Hz
        poke(&mut rtc, REG_B, B_PIE | B_AIE | B_UIE | B_24H, 0);
        rtc
    };
    let mut busy = setup();
    let mut quiet = setup();
    let end = 2 * SEC + SEC / 7;
    let mut reads = Vec::new();
    let mut t = 0;
    while t < end {
        t += 997;
        busy.write(INDEX_PORT, REG_A, t);
        let a = busy.read(DATA_PORT, t);
        busy.write(INDEX_PORT, SECONDS, t);
        let s = busy.read(DATA_PORT, t);
        reads.push((a, s));
        if busy.irq(t) {
            let c = peek(&mut busy, REG_C, t);
            assert_eq!(peek(&mut quiet, REG_C, t), c, "at {t}");
        }
    }
    peek(&mut quiet, REG_A, t);
    assert_eq!(time_state(&busy), time_state(&quiet));
    // Two UIP windows of 244.14 µs, seen every 997 ns.
    let uip = reads.iter().filter(|r| r.0 & A_UIP != 0).count();
    assert!((2 * 244..=2 * 245).contains(&uip), "{uip}");
    assert_eq!(reads.last().unwrap().1, 0x39);
}

fn time_state(rtc: &Rtc) -> RtcState {
    let mut s = rtc.state();
    s.index = 0;
    s
}

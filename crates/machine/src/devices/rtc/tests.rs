//! The clock and calendar against the datasheet: reading the time in each
//! format, counting across every calendar boundary, the UIP window, SET,
//! the divider modes, out-of-range bytes, the ports and reset. (Interrupts
//! are in `tests_interrupts.rs`, the CMOS image in `tests_cmos.rs`.)

use super::*;

/// 2026-12-07 20:55:37 UTC, a Monday.
pub(super) const BASE: i64 = 1_796_676_937;
pub(super) const SEC: u64 = 1_000_000_000;

/// The byte at `index` at `now`.
pub(super) fn peek(rtc: &mut Rtc, index: u8, now: u64) -> u8 {
    rtc.write(INDEX_PORT, index, now);
    rtc.read(DATA_PORT, now)
}

pub(super) fn poke(rtc: &mut Rtc, index: u8, value: u8, now: u64) {
    rtc.write(INDEX_PORT, index, now);
    rtc.write(DATA_PORT, value, now);
}

/// Seconds, minutes, hours, weekday, day, month, year, century.
pub(super) fn time(rtc: &mut Rtc, now: u64) -> [u8; 8] {
    [
        SECONDS,
        MINUTES,
        HOURS,
        DAY_OF_WEEK,
        DAY_OF_MONTH,
        MONTH,
        YEAR,
        CENTURY,
    ]
    .map(|i| peek(rtc, i, now))
}

/// Unix seconds of a UTC date and time.
fn unix(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> i64 {
    calendar::days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s
}

#[test]
fn power_on_registers() {
    let mut rtc = Rtc::new(BASE);
    assert!(rtc.nmi_masked());
    assert_eq!(peek(&mut rtc, REG_A, 0), 0x26);
    assert_eq!(peek(&mut rtc, REG_B, 0), 0x02);
    assert_eq!(peek(&mut rtc, REG_C, 0), 0x00);
    assert_eq!(peek(&mut rtc, REG_D, 0), 0x80);
    assert!(!rtc.irq(0));
    assert_eq!(rtc.next_event(0), None);
}

#[test]
fn reads_the_time_in_each_format() {
    let mut rtc = Rtc::new(BASE);
    assert_eq!(
        time(&mut rtc, 0),
        [0x37, 0x55, 0x20, 0x02, 0x07, 0x12, 0x26, 0x20]
    );
    // Binary.
    poke(&mut rtc, REG_B, B_24H | B_DM, 0);
    assert_eq!(time(&mut rtc, 0), [37, 55, 20, 2, 7, 12, 26, 20]);
    // 12-hour binary: 8 PM.
    poke(&mut rtc, REG_B, B_DM, 0);
    assert_eq!(peek(&mut rtc, HOURS, 0), 0x88);
    // 12-hour BCD, with midnight as 12 AM and noon as 12 PM.
    poke(&mut rtc, REG_B, 0, 0);
    assert_eq!(peek(&mut rtc, HOURS, 0), 0x88);
    let mut midnight = Rtc::new(unix(2026, 12, 8, 0, 30, 0));
    poke(&mut midnight, REG_B, 0, 0);
    assert_eq!(peek(&mut midnight, HOURS, 0), 0x12);
    let mut noon = Rtc::new(unix(2026, 12, 8, 12, 0, 0));
    poke(&mut noon, REG_B, B_DM, 0);
    assert_eq!(peek(&mut noon, HOURS, 0), 0x8c);
    // 11 AM binary 12-hour.
    let mut eleven = Rtc::new(unix(2026, 12, 8, 11, 0, 0));
    poke(&mut eleven, REG_B, B_DM, 0);
    assert_eq!(peek(&mut eleven, HOURS, 0), 11);
}

#[test]
fn updates_once_a_second_at_the_second() {
    let mut rtc = Rtc::new(BASE);
    assert_eq!(peek(&mut rtc, SECONDS, SEC - 1), 0x37);
    assert_eq!(peek(&mut rtc, SECONDS, SEC), 0x38);
    assert_eq!(peek(&mut rtc, SECONDS, 23 * SEC - 1), 0x59);
    assert_eq!(time(&mut rtc, 23 * SEC)[..3], [0x00, 0x56, 0x20]);
    // 20:55:37 + 3863 s = 22:00:00.
    assert_eq!(time(&mut rtc, 3863 * SEC)[..3], [0x00, 0x00, 0x22]);
}

#[test]
fn crosses_day_month_year_and_century() {
    let cases: [(i64, [u8; 8], [u8; 8]); 6] = [
        // Day: Monday 23:59:59 → Tuesday.
        (
            unix(2026, 12, 7, 23, 59, 59),
            [0x59, 0x59, 0x23, 2, 0x07, 0x12, 0x26, 0x20],
            [0x00, 0x00, 0x00, 3, 0x08, 0x12, 0x26, 0x20],
        ),
        // Month and year.
        (
            unix(2026, 12, 31, 23, 59, 59),
            [0x59, 0x59, 0x23, 5, 0x31, 0x12, 0x26, 0x20],
            [0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x27, 0x20],
        ),
        // No leap day in 2027.
        (
            unix(2027, 2, 28, 23, 59, 59),
            [0x59, 0x59, 0x23, 1, 0x28, 0x02, 0x27, 0x20],
            [0x00, 0x00, 0x00, 2, 0x01, 0x03, 0x27, 0x20],
        ),
        // Into the leap day of 2028 ...
        (
            unix(2028, 2, 28, 23, 59, 59),
            [0x59, 0x59, 0x23, 2, 0x28, 0x02, 0x28, 0x20],
            [0x00, 0x00, 0x00, 3, 0x29, 0x02, 0x28, 0x20],
        ),
        // ... and out of it.
        (
            unix(2028, 2, 29, 23, 59, 59),
            [0x59, 0x59, 0x23, 3, 0x29, 0x02, 0x28, 0x20],
            [0x00, 0x00, 0x00, 4, 0x01, 0x03, 0x28, 0x20],
        ),
        // The century byte counts too.
        (
            unix(2099, 12, 31, 23, 59, 59),
            [0x59, 0x59, 0x23, 5, 0x31, 0x12, 0x99, 0x20],
            [0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21],
        ),
    ];
    for (base, before, after) in cases {
        let mut rtc = Rtc::new(base);
        assert_eq!(time(&mut rtc, SEC - 1), before, "{base}");
        assert_eq!(time(&mut rtc, SEC), after, "{base}");
    }
    // 2000 was a leap year (divisible by 400).
    let mut rtc = Rtc::new(unix(2000, 2, 28, 23, 59, 59));
    assert_eq!(time(&mut rtc, SEC)[4..], [0x29, 0x02, 0x00, 0x20]);
}

#[test]
fn counts_a_long_jump_exactly() {
    // 400 days and 1 hour in one step, and in uneven steps.
    let span = (400 * 86_400 + 3600) as u64 * SEC;
    let mut jump = Rtc::new(BASE);
    let mut steps = Rtc::new(BASE);
    let mut t = 0;
    while t < span {
        t = (t + 7_777_777_777_777).min(span);
        time(&mut steps, t);
    }
    let expect = to_bytes(BASE + 400 * 86_400 + 3600, 0, B_24H);
    let want = [
        expect.seconds,
        expect.minutes,
        expect.hours,
        expect.weekday,
        expect.day,
        expect.month,
        expect.year,
        expect.century,
    ];
    assert_eq!(time(&mut jump, span), want);
    assert_eq!(time(&mut steps, span), want);
    assert_eq!(want[..3], [0x37, 0x55, 0x21]);
    assert_eq!(want[4..7], [0x11, 0x01, 0x28]); // 2028-01-11
}

#[test]
fn uip_is_high_for_the_last_8_clocks_of_each_second() {
    let mut rtc = Rtc::new(BASE);
    let rise = clock_time(32_768 - 8).unwrap();
    assert_eq!(rise, 999_755_860); // 244.140 µs before the second
    assert_eq!(peek(&mut rtc, REG_A, rise - 1), 0x26);
    assert_eq!(peek(&mut rtc, REG_A, rise), 0xa6);
    assert_eq!(peek(&mut rtc, SECONDS, SEC - 1), 0x37);
    assert_eq!(peek(&mut rtc, REG_A, SEC - 1), 0xa6);
    assert_eq!(peek(&mut rtc, REG_A, SEC), 0x26);
    assert_eq!(peek(&mut rtc, SECONDS, SEC), 0x38);
    assert_eq!(peek(&mut rtc, REG_A, SEC + rise), 0xa6);
    // Writing UIP does nothing; SET and a stopped divider keep it low.
    poke(&mut rtc, REG_A, 0xa6, 2 * SEC);
    assert_eq!(peek(&mut rtc, REG_A, 2 * SEC), 0x26);
    poke(&mut rtc, REG_B, B_SET | B_24H, 2 * SEC);
    assert_eq!(peek(&mut rtc, REG_A, 2 * SEC + rise), 0x26);
    poke(&mut rtc, REG_B, B_24H, 3 * SEC);
    poke(&mut rtc, REG_A, 0x06, 3 * SEC);
    assert_eq!(peek(&mut rtc, REG_A, 3 * SEC + rise), 0x06);
}

#[test]
fn set_holds_the_time_and_resumes_on_the_divider_phase() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_SET | B_24H, SEC / 2);
    assert_eq!(peek(&mut rtc, SECONDS, 10 * SEC), 0x37);
    // Set 2027-03-04 05:06:07, a Thursday (5), while SET.
    for (i, v) in [
        (SECONDS, 0x07),
        (MINUTES, 0x06),
        (HOURS, 0x05),
        (DAY_OF_WEEK, 0x05),
        (DAY_OF_MONTH, 0x04),
        (MONTH, 0x03),
        (YEAR, 0x27),
        (CENTURY, 0x20),
    ] {
        poke(&mut rtc, i, v, 10 * SEC);
    }
    assert_eq!(peek(&mut rtc, HOURS, 10 * SEC + SEC / 3), 0x05);
    poke(&mut rtc, REG_B, B_24H, 10 * SEC + SEC / 3);
    // The divider kept its phase: the update is at the next whole second.
    assert_eq!(
        time(&mut rtc, 11 * SEC - 1),
        [0x07, 0x06, 0x05, 5, 0x04, 0x03, 0x27, 0x20]
    );
    assert_eq!(peek(&mut rtc, SECONDS, 11 * SEC), 0x08);
    assert_eq!(peek(&mut rtc, SECONDS, 12 * SEC), 0x09);
}

#[test]
fn set_clears_uie() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_SET | B_UIE | B_PIE | B_24H, 0);
    assert_eq!(peek(&mut rtc, REG_B, 0), B_SET | B_PIE | B_24H);
}

#[test]
fn divider_reset_holds_the_time_and_restarts_half_a_second_later() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_A, 0x76, 2 * SEC + SEC / 5); // 11x: reset
    assert_eq!(peek(&mut rtc, SECONDS, 9 * SEC), 0x39);
    assert_eq!(peek(&mut rtc, REG_A, 9 * SEC), 0x76);
    poke(&mut rtc, SECONDS, 0x00, 9 * SEC);
    poke(&mut rtc, REG_A, 0x26, 10 * SEC);
    assert_eq!(peek(&mut rtc, SECONDS, 10 * SEC + SEC / 2 - 1), 0x00);
    assert_eq!(peek(&mut rtc, SECONDS, 10 * SEC + SEC / 2), 0x01);
    assert_eq!(peek(&mut rtc, SECONDS, 11 * SEC + SEC / 2), 0x02);
}

#[test]
fn other_divider_values_stop_the_chain_where_it_is() {
    let mut rtc = Rtc::new(BASE);
    // Stop at 2.25 s (count 8192), restart at 7 s: updates at 7.75 s.
    poke(&mut rtc, REG_A, 0x06, 2 * SEC + SEC / 4);
    assert_eq!(peek(&mut rtc, SECONDS, 6 * SEC), 0x39);
    poke(&mut rtc, REG_A, 0x26, 7 * SEC);
    assert_eq!(peek(&mut rtc, SECONDS, 7 * SEC + 3 * SEC / 4 - 1), 0x39);
    assert_eq!(peek(&mut rtc, SECONDS, 7 * SEC + 3 * SEC / 4), 0x40);
    // 000 and 001 (other crystals) stop it as well.
    for a in [0x06, 0x16, 0x36, 0x46, 0x56] {
        let mut rtc = Rtc::new(BASE);
        poke(&mut rtc, REG_A, a, 0);
        assert_eq!(peek(&mut rtc, SECONDS, 5 * SEC), 0x37, "{a:#x}");
    }
}

#[test]
fn out_of_range_bytes_are_held_under_set_and_carried_when_counting() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_SET | B_24H, 0);
    poke(&mut rtc, SECONDS, 0x7f, 0);
    poke(&mut rtc, HOURS, 0x25, 0);
    assert_eq!(peek(&mut rtc, SECONDS, 0), 0x7f);
    assert_eq!(peek(&mut rtc, HOURS, 0), 0x25);
    poke(&mut rtc, REG_B, B_24H, 0);
    // 25:55:85 on 12-07 is 01:56:25 on 12-08 (a Tuesday).
    assert_eq!(
        time(&mut rtc, 0),
        [0x25, 0x56, 0x01, 0x03, 0x08, 0x12, 0x26, 0x20]
    );
    // A BCD digit above 9 while counting: 0x5A minutes are 60: the next hour.
    poke(&mut rtc, MINUTES, 0x5a, 0);
    assert_eq!(time(&mut rtc, 0)[..3], [0x25, 0x00, 0x02]);
    // Garbage everywhere never panics and gives a valid calendar.
    for v in [0x00, 0x99, 0xc0, 0xff] {
        for i in [
            SECONDS,
            MINUTES,
            HOURS,
            DAY_OF_WEEK,
            DAY_OF_MONTH,
            MONTH,
            YEAR,
            CENTURY,
        ] {
            poke(&mut rtc, i, v, SEC);
        }
        let t = time(&mut rtc, 2 * SEC);
        assert!(t[0] <= 0x59 && t[1] <= 0x59 && t[2] <= 0x23, "{t:x?}");
        assert!(
            (1..=7).contains(&t[3]) && (1..=0x31).contains(&t[4]),
            "{t:x?}"
        );
        assert!((1..=0x12).contains(&t[5]), "{t:x?}");
    }
}

#[test]
fn writing_a_time_byte_while_counting_keeps_the_phase() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, MINUTES, 0x10, SEC / 2 + 5 * SEC);
    assert_eq!(time(&mut rtc, 6 * SEC - 1)[..3], [0x42, 0x10, 0x20]);
    assert_eq!(peek(&mut rtc, SECONDS, 6 * SEC), 0x43);
}

#[test]
fn the_day_of_week_counts_on_its_own() {
    let mut rtc = Rtc::new(unix(2026, 12, 7, 23, 59, 59));
    poke(&mut rtc, DAY_OF_WEEK, 7, 0); // call Monday "Saturday"
    assert_eq!(peek(&mut rtc, DAY_OF_WEEK, SEC - 1), 7);
    assert_eq!(peek(&mut rtc, DAY_OF_WEEK, SEC), 1); // wraps to Sunday
                                                     // Out of range: follows the date again (Tuesday = 3).
    poke(&mut rtc, DAY_OF_WEEK, 9, SEC);
    assert_eq!(peek(&mut rtc, DAY_OF_WEEK, SEC), 3);
}

#[test]
fn format_changes_show_the_counting_time_at_once() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_DM | B_24H, 0);
    assert_eq!(peek(&mut rtc, MINUTES, 0), 55);
    // Bytes held under SET stay as written and are read in the new format.
    poke(&mut rtc, REG_B, B_SET | B_24H, 0);
    assert_eq!(peek(&mut rtc, MINUTES, 0), 55); // binary 55 kept as the byte 0x37
    poke(&mut rtc, REG_B, B_24H, 0);
    assert_eq!(peek(&mut rtc, MINUTES, 0), 0x37); // BCD 37 minutes
}

#[test]
fn ports_index_nmi_and_ram() {
    let mut rtc = Rtc::new(BASE);
    rtc.write(INDEX_PORT, 0x0f, 0);
    assert!(!rtc.nmi_masked());
    assert_eq!(rtc.read(INDEX_PORT, 0), 0xff);
    rtc.write(DATA_PORT, 0x5a, 0);
    assert_eq!(rtc.read(DATA_PORT, 0), 0x5a);
    rtc.write(INDEX_PORT, 0x8f, 0);
    assert!(rtc.nmi_masked());
    assert_eq!(rtc.read(DATA_PORT, 0), 0x5a);
    // Every RAM byte holds what is written.
    for i in (0x0e..0x80u8).filter(|&i| i != CENTURY && i != PS2_CENTURY) {
        poke(&mut rtc, i, i ^ 0xa5, 0);
    }
    for i in (0x0e..0x80u8).filter(|&i| i != CENTURY && i != PS2_CENTURY) {
        assert_eq!(peek(&mut rtc, i, 0), i ^ 0xa5, "{i:#x}");
    }
    // 0x37 is the century.
    assert_eq!(peek(&mut rtc, PS2_CENTURY, 0), 0x20);
    poke(&mut rtc, REG_B, B_SET | B_24H, 0);
    poke(&mut rtc, PS2_CENTURY, 0x19, 0);
    assert_eq!(peek(&mut rtc, CENTURY, 0), 0x19);
    // C and D are read-only; D reads VRT.
    poke(&mut rtc, REG_C, 0xff, 0);
    poke(&mut rtc, REG_D, 0x00, 0);
    assert_eq!(peek(&mut rtc, REG_C, 0), 0);
    assert_eq!(peek(&mut rtc, REG_D, 0), 0x80);
    // Other ports are not decoded.
    rtc.write(0x72, 0x00, 0);
    assert_eq!(rtc.read(0x72, 0), 0xff);
    assert_eq!(peek(&mut rtc, 0x0f, 0), 0x0f ^ 0xa5);
}

#[test]
fn reset_clears_enables_and_flags_only() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, 0x0f, 0x0a, 0); // shutdown status: survives
    poke(&mut rtc, SECONDS_ALARM, 0xc0, 0);
    poke(&mut rtc, REG_A, 0x23, 0);
    poke(&mut rtc, REG_B, 0x7f, 0);
    assert!(rtc.irq(SEC));
    rtc.write(INDEX_PORT, 0x0b, SEC);
    rtc.reset(SEC);
    assert!(!rtc.irq(SEC));
    assert!(rtc.nmi_masked());
    assert_eq!(peek(&mut rtc, REG_B, SEC), 0x07);
    assert_eq!(peek(&mut rtc, REG_A, SEC), 0x23);
    assert_eq!(peek(&mut rtc, 0x0f, SEC), 0x0a);
    assert_eq!(peek(&mut rtc, SECONDS_ALARM, SEC), 0xc0);
    // The flags were cleared; the periodic one sets again on its own.
    assert_eq!(peek(&mut rtc, REG_C, SEC), 0);
    assert_eq!(peek(&mut rtc, REG_C, SEC + 1_000_000), C_PF);
    // 0x07: binary, 24-hour, DSE — and the clock ran on.
    assert_eq!(peek(&mut rtc, SECONDS, SEC), 38);
}

#[test]
fn snapshots_resume_and_damaged_ones_are_sanitized() {
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_UIE | B_24H, SEC / 3);
    let s = rtc.state();
    let mut copy = Rtc::new(0);
    copy.restore(&s);
    assert_eq!(copy.state(), s);
    assert_eq!(time(&mut copy, 5 * SEC), time(&mut rtc, 5 * SEC));
    assert_eq!(copy.next_event(5 * SEC), rtc.next_event(5 * SEC));

    let damaged = RtcState {
        index: 0xff,
        nmi_masked: false,
        reg_a: 0xff,
        reg_b: 0xff,
        flags: 0xff,
        ram: [0xff; CMOS_SIZE],
        at: u64::MAX,
        divider: u32::MAX,
        seconds: i64::MAX,
        weekday_offset: 0xff,
    };
    copy.restore(&damaged);
    let st = copy.state();
    assert_eq!(st.index, 0x7f);
    assert_eq!(st.reg_a, 0x7f);
    assert_eq!(st.flags, 0x70);
    assert_eq!(st.divider, 0); // 0x7f: divider in reset
    assert!(st.weekday_offset < 7);
    // Nothing panics on it.
    for i in 0..0x80 {
        peek(&mut copy, i, u64::MAX);
        poke(&mut copy, i, 0x26, u64::MAX);
    }
    copy.irq(u64::MAX);
    copy.next_event(u64::MAX);
    let mut far = Rtc::new(i64::MAX);
    time(&mut far, u64::MAX);
    poke(&mut far, SECONDS, 0x00, u64::MAX);
    let mut early = Rtc::new(i64::MIN);
    time(&mut early, u64::MAX);
    poke(&mut early, REG_B, B_SET, 0);
    poke(&mut early, REG_B, 0, 0);
}

#[test]
fn set_and_divider_reset_in_odd_orders() {
    // SET, write a time, reset the divider, clear SET (still stopped),
    // change to binary, then release the divider: the held BCD bytes are
    // read as binary and count from half a second after the release.
    let mut rtc = Rtc::new(BASE);
    poke(&mut rtc, REG_B, B_SET | B_24H, SEC / 4);
    poke(&mut rtc, SECONDS, 0x10, SEC / 4);
    poke(&mut rtc, REG_A, 0x66, SEC / 2);
    poke(&mut rtc, REG_B, B_24H, SEC);
    assert_eq!(peek(&mut rtc, SECONDS, 4 * SEC), 0x10);
    poke(&mut rtc, REG_B, B_24H | B_DM, 4 * SEC);
    assert_eq!(peek(&mut rtc, SECONDS, 4 * SEC), 0x10); // held, as written
    poke(&mut rtc, REG_A, 0x26, 5 * SEC);
    assert_eq!(peek(&mut rtc, SECONDS, 5 * SEC), 16); // 0x10 taken as binary 16
    assert_eq!(peek(&mut rtc, SECONDS, 5 * SEC + SEC / 2), 17);
    // Reset twice in a row keeps the chain at zero; release while SET is
    // set counts nothing until SET is cleared, on the new phase.
    poke(&mut rtc, REG_A, 0x66, 6 * SEC);
    poke(&mut rtc, REG_A, 0x76, 6 * SEC + SEC / 3);
    poke(&mut rtc, REG_B, B_SET | B_24H | B_DM, 7 * SEC);
    poke(&mut rtc, REG_A, 0x26, 7 * SEC + SEC / 10);
    assert_eq!(peek(&mut rtc, SECONDS, 9 * SEC), 17); // held since 6 s
    poke(&mut rtc, REG_B, B_24H | B_DM, 9 * SEC);
    // Phase: released in the crystal clock of 7.1 s, so the wraps come
    // 0.5, 1.5 and 2.5 s of clocks after it (about 9.6 s).
    let release = clocks_at(7 * SEC + SEC / 10);
    let wrap = clock_time(release + 16_384 + 2 * 32_768).unwrap();
    assert_eq!(wrap / 1_000_000, 9_599);
    assert_eq!(peek(&mut rtc, SECONDS, wrap - 1), 17);
    assert_eq!(peek(&mut rtc, SECONDS, wrap), 18);
}

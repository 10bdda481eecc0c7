//! Directed tests of the PM block against ACPI 6.5 §4.8 and the PIIX4
//! datasheet: the timer at exact times, TMR_STS at the top bit's changes,
//! the SCI and its gating, sleep requests, GPE0, reset and hostile input.

use super::*;

fn pm() -> AcpiPm {
    AcpiPm::new(AcpiPmConfig::default())
}

fn read16(pm: &mut AcpiPm, offset: u16, now: u64) -> u16 {
    u16::from(pm.read(offset, now)) | u16::from(pm.read(offset + 1, now)) << 8
}

fn write16(pm: &mut AcpiPm, offset: u16, value: u16, now: u64) {
    pm.write(offset, value as u8, now);
    pm.write(offset + 1, (value >> 8) as u8, now);
}

fn read_timer(pm: &mut AcpiPm, now: u64) -> u32 {
    (0..4).fold(0, |v, i| v | u32::from(pm.read(PM_TMR + i, now)) << (8 * i))
}

/// 2^23 ticks: the top bit of the 24-bit counter changes every this many.
const HALF_PERIOD: u64 = 1 << 23;

#[test]
fn timer_counts_3579545_hz_from_time_zero() {
    let mut pm = pm();
    assert_eq!(read_timer(&mut pm, 0), 0);
    // 1e9 / 3579545 = 279.37 ns: tick 1 at 280 ns.
    assert_eq!(tick_time(1), Some(280));
    assert_eq!(read_timer(&mut pm, 279), 0);
    assert_eq!(read_timer(&mut pm, 280), 1);
    assert_eq!(read_timer(&mut pm, 1_000_000_000), 3_579_545);
    // Exact at a large time, no drift: floor(t * 3579545 / 1e9).
    let t = 86_400_000_000_123;
    let expected = (u128::from(t) * 3_579_545 / 1_000_000_000) as u64 & 0xff_ffff;
    assert_eq!(u64::from(read_timer(&mut pm, t)), expected);
}

#[test]
fn timer_wraps_at_24_bits_and_its_top_byte_reads_zero() {
    let mut pm = pm();
    let wrap = tick_time(1 << 24).unwrap();
    assert_eq!(read_timer(&mut pm, wrap - 1), 0xff_ffff);
    assert_eq!(pm.read(PM_TMR + 3, wrap - 1), 0);
    assert_eq!(read_timer(&mut pm, wrap), 0);
}

#[test]
fn timer_of_32_bits_carries_past_bit_23() {
    let mut pm = AcpiPm::new(AcpiPmConfig {
        timer_width: TimerWidth::Bits32,
        ..AcpiPmConfig::default()
    });
    let t = tick_time(1 << 24).unwrap();
    assert_eq!(read_timer(&mut pm, t), 1 << 24);
    // Its status bit follows bit 31, not bit 23.
    assert_eq!(pm.pm1_status(tick_time(HALF_PERIOD).unwrap()) & TMR, 0);
    assert_eq!(pm.pm1_status(tick_time(1 << 31).unwrap()) & TMR, TMR);
}

#[test]
fn tmr_sts_sets_at_each_change_of_bit_23() {
    let mut pm = pm();
    let first = tick_time(HALF_PERIOD).unwrap();
    assert_eq!(read16(&mut pm, PM1_STS, first - 1) & TMR, 0);
    assert_eq!(read16(&mut pm, PM1_STS, first) & TMR, TMR);
    // Reading does not clear it; writing 1 does.
    assert_eq!(read16(&mut pm, PM1_STS, first + 5) & TMR, TMR);
    write16(&mut pm, PM1_STS, TMR, first + 10);
    assert_eq!(read16(&mut pm, PM1_STS, first + 10) & TMR, 0);
    // The 1 -> 0 change of bit 23 (the counter's wrap) sets it again.
    let second = tick_time(2 * HALF_PERIOD).unwrap();
    assert_eq!(read16(&mut pm, PM1_STS, second - 1) & TMR, 0);
    assert_eq!(read16(&mut pm, PM1_STS, second) & TMR, TMR);
    // Writing 0 leaves it.
    write16(&mut pm, PM1_STS, 0, second + 1);
    assert_eq!(read16(&mut pm, PM1_STS, second + 1) & TMR, TMR);
}

#[test]
fn a_cleared_status_is_not_set_again_by_the_change_it_has_seen() {
    let mut pm = pm();
    let first = tick_time(HALF_PERIOD).unwrap();
    // Cleared long after the change (and before the next): stays clear.
    let late = first + 2_000_000_000;
    assert_eq!(pm.pm1_status(late) & TMR, TMR);
    pm.write(PM1_STS, TMR as u8, late);
    assert_eq!(pm.pm1_status(late) & TMR, 0);
    assert_eq!(
        pm.pm1_status(tick_time(2 * HALF_PERIOD).unwrap() - 1) & TMR,
        0
    );
}

#[test]
fn sci_rises_at_the_overflow_when_enabled_and_next_event_says_when() {
    let mut pm = pm();
    assert_eq!(pm.next_event(0), None, "TMR_EN clear");
    write16(&mut pm, PM1_EN, TMR, 0);
    assert_eq!(read16(&mut pm, PM1_EN, 0), TMR);
    let first = tick_time(HALF_PERIOD).unwrap();
    assert_eq!(pm.next_event(0), Some(first));
    assert_eq!(pm.next_event(first - 1), Some(first));
    assert!(!pm.sci(first - 1));
    assert!(pm.sci(first));
    // While it is high nothing changes on its own.
    assert_eq!(pm.next_event(first), None);
    // The handler clears the status: low, and the next change is next.
    write16(&mut pm, PM1_STS, TMR, first + 100);
    assert!(!pm.sci(first + 100));
    let second = tick_time(2 * HALF_PERIOD).unwrap();
    assert_eq!(pm.next_event(first + 100), Some(second));
    assert!(pm.sci(second));
}

#[test]
fn enabling_the_timer_event_with_its_status_pending_raises_sci_at_once() {
    let mut pm = pm();
    let late = tick_time(HALF_PERIOD).unwrap() + 1;
    assert!(!pm.sci(late));
    pm.write(PM1_EN, TMR as u8, late);
    assert!(pm.sci(late));
    // Disabling lowers it; the status stays.
    pm.write(PM1_EN, 0, late);
    assert!(!pm.sci(late));
    assert_eq!(pm.pm1_status(late) & TMR, TMR);
}

#[test]
fn sci_en_gates_the_sci() {
    let mut pm = AcpiPm::new(AcpiPmConfig {
        acpi_only: false,
        ..AcpiPmConfig::default()
    });
    assert_eq!(read16(&mut pm, PM1_CNT, 0), 0, "PIIX4 resets SCI_EN");
    write16(&mut pm, PM1_EN, TMR, 0);
    assert_eq!(pm.next_event(0), None);
    let first = tick_time(HALF_PERIOD).unwrap();
    assert!(!pm.sci(first));
    pm.write(PM1_CNT, SCI_EN as u8, first);
    assert!(pm.sci(first));
    assert_eq!(
        read16(&mut AcpiPm::new(AcpiPmConfig::default()), PM1_CNT, 0),
        SCI_EN
    );
}

#[test]
fn slp_en_with_the_s5_type_requests_power_off() {
    let mut pm = pm();
    // A 16-bit write of SLP_TYP = 0 | SLP_EN, split low byte first.
    write16(&mut pm, PM1_CNT, SCI_EN | SLP_EN, 5);
    assert!(pm.poweroff_requested());
    // SLP_EN is write-only.
    assert_eq!(read16(&mut pm, PM1_CNT, 5), SCI_EN);
    pm.reset(6);
    assert!(!pm.poweroff_requested());
}

#[test]
fn other_sleep_types_do_not_power_off_and_slp_typ_is_kept() {
    let mut pm = pm();
    for typ in 1..8u16 {
        write16(&mut pm, PM1_CNT, SCI_EN | typ << SLP_TYP_SHIFT | SLP_EN, 0);
        assert!(!pm.poweroff_requested(), "type {typ}");
        assert_eq!(read16(&mut pm, PM1_CNT, 0), SCI_EN | typ << SLP_TYP_SHIFT);
    }
    // SLP_TYP left at 5 by an earlier write, then SLP_EN in a byte whose
    // SLP_TYP field is 0: the type of that write counts.
    write16(&mut pm, PM1_CNT, 5 << SLP_TYP_SHIFT, 0);
    pm.write(PM1_CNT + 1, (SLP_EN >> 8) as u8, 0);
    assert!(pm.poweroff_requested());
}

#[test]
fn setting_slp_typ_to_s5_without_slp_en_does_nothing() {
    let mut pm = pm();
    write16(&mut pm, PM1_CNT, SCI_EN | 7 << SLP_TYP_SHIFT, 0);
    write16(&mut pm, PM1_CNT, SCI_EN, 0);
    assert!(!pm.poweroff_requested());
}

#[test]
fn power_button_status_and_its_enable() {
    let mut pm = pm();
    pm.press_power_button();
    assert_eq!(read16(&mut pm, PM1_STS, 0), PWRBTN);
    assert!(!pm.sci(0));
    pm.write(PM1_EN + 1, (PWRBTN >> 8) as u8, 0);
    assert!(pm.sci(0));
    // Writing 1 to the low byte does not touch bit 8; the high byte does.
    pm.write(PM1_STS, 0xff, 0);
    assert!(pm.sci(0));
    pm.write(PM1_STS + 1, 0x01, 0);
    assert!(!pm.sci(0));
}

#[test]
fn unsourced_status_bits_and_undefined_enables_read_zero() {
    let mut pm = pm();
    write16(&mut pm, PM1_EN, 0xffff, 0);
    assert_eq!(read16(&mut pm, PM1_EN, 0), EN_BITS);
    assert_eq!(read16(&mut pm, PM1_STS, 0) & (BM | GBL | RTC | WAK), 0);
    write16(&mut pm, PM1_CNT, !SLP_EN, 0);
    assert_eq!(read16(&mut pm, PM1_CNT, 0), CNT_STORED);
    assert_eq!(read16(&mut pm, PM1_CNT, 0) & GBL_RLS, 0);
}

#[test]
fn gpe0_status_enable_and_sci() {
    let mut pm = pm();
    pm.set_gpe0_status(9);
    assert_eq!(pm.read_gpe0(1), 0x02);
    assert!(!pm.sci(0));
    pm.write_gpe0(3, 0x02);
    assert_eq!(pm.read_gpe0(3), 0x02);
    assert!(pm.sci(0));
    pm.write_gpe0(0, 0xff);
    assert!(pm.sci(0), "bit 9 is in the high byte");
    pm.write_gpe0(1, 0x02);
    assert!(!pm.sci(0));
    // Bits that do not exist.
    pm.set_gpe0_status(16);
    pm.set_gpe0_status(255);
    assert_eq!(pm.state().gpe0_sts, 0);
    assert_eq!(pm.read_gpe0(4), 0);
    pm.write_gpe0(0xffff, 0xff);
}

#[test]
fn reset_clears_registers_and_the_timer_runs_on() {
    let mut pm = pm();
    write16(&mut pm, PM1_EN, TMR | PWRBTN, 0);
    pm.press_power_button();
    pm.write_gpe0(2, 1);
    pm.set_gpe0_status(0);
    let t = tick_time(HALF_PERIOD).unwrap() + 7;
    pm.reset(t);
    assert_eq!(
        read16(&mut pm, PM1_STS, t),
        0,
        "the change before reset is gone"
    );
    assert_eq!(read16(&mut pm, PM1_EN, t), 0);
    assert_eq!(read16(&mut pm, PM1_CNT, t), SCI_EN);
    assert_eq!(pm.read_gpe0(0) | pm.read_gpe0(2), 0);
    assert_eq!(u64::from(read_timer(&mut pm, t)), ticks_at(t));
}

#[test]
fn status_seen_at_any_granularity_is_the_same() {
    // Around the first change, one device looks every nanosecond, one jumps.
    let first = tick_time(HALF_PERIOD).unwrap();
    let mut fine = pm();
    let mut coarse = pm();
    for t in first - 2_000..first + 2_000 {
        fine.read(PM1_STS, t);
    }
    let end = first + 2_000;
    assert_eq!(fine.read(PM1_STS, end), coarse.read(PM1_STS, end));
    assert_eq!(fine.state(), coarse.state());
    // Polling every 997 ns over two changes and clearing at each sighting
    // sees each change once, at the first poll at or after its time.
    let mut polled = pm();
    let mut seen = Vec::new();
    let mut t = 0;
    while t < tick_time(2 * HALF_PERIOD).unwrap() + 1_000 {
        if polled.read(PM1_STS, t) & TMR as u8 != 0 {
            seen.push(t);
            polled.write(PM1_STS, TMR as u8, t);
        }
        t += 997;
    }
    let at_or_after = |e: u64| e.div_ceil(997) * 997;
    assert_eq!(
        seen,
        [
            at_or_after(tick_time(HALF_PERIOD).unwrap()),
            at_or_after(tick_time(2 * HALF_PERIOD).unwrap())
        ]
    );
}

#[test]
fn hostile_offsets_values_and_times_do_not_panic() {
    let mut pm = pm();
    for offset in 0..0x100u16 {
        for value in [0u8, 0x01, 0x20, 0x3c, 0x80, 0xff] {
            pm.write(offset, value, u64::from(offset));
            pm.read(offset, u64::from(offset));
            pm.write_gpe0(offset, value);
            pm.read_gpe0(offset);
        }
    }
    for offset in [0xfffe, 0xffff] {
        pm.write(offset, 0xff, 0);
        pm.read(offset, 0);
    }
    // The end of the u64 clock: the timer's next change is past it.
    let end = u64::MAX;
    pm.reset(end);
    write16(&mut pm, PM1_EN, TMR, end);
    assert_eq!(u64::from(pm.timer(end)), ticks_at(end) & 0xff_ffff);
    assert!(pm.next_event(end).is_none_or(|t| t > end));
    pm.write(PM1_STS, 0xff, end);
    assert!(!pm.sci(end));
}

#[test]
fn restore_drops_bits_no_register_holds() {
    let mut pm = pm();
    pm.restore(&AcpiPmState {
        pm1_sts: 0xffff,
        pm1_en: 0xffff,
        pm1_cnt: 0xffff,
        timer_changes: u64::MAX,
        gpe0_sts: 0xffff,
        gpe0_en: 0xffff,
        poweroff_requested: false,
    });
    let s = pm.state();
    assert_eq!(s.pm1_sts, STS_SOURCED);
    assert_eq!(s.pm1_en, EN_BITS);
    assert_eq!(s.pm1_cnt, CNT_STORED);
    // A change count from nowhere (here: ahead of the clock) just reads as
    // a change, once.
    pm.restore(&AcpiPmState {
        pm1_sts: 0,
        ..s.clone()
    });
    assert_eq!(pm.pm1_status(0) & TMR, TMR);
    pm.write(PM1_STS, 0xff, 0);
    pm.write(PM1_STS + 1, 0xff, 0);
    assert_eq!(pm.pm1_status(0), 0);
}

//! The MC146818A's time and calendar bytes (datasheet, "Time, Calendar and
//! Alarm Data Modes", table 2) and the calendar arithmetic behind them.
//!
//! The clock keeps its time as a count of seconds in the proleptic
//! Gregorian calendar (Unix seconds: 0 is 1970-01-01 00:00:00), so that a
//! jump over any span of time is one addition. Converting to and from the
//! register bytes is Howard Hinnant's days-from-civil / civil-from-days
//! arithmetic, exact for every year (the chip's own leap-year rule, "every
//! year divisible by 4", agrees with it from 1901 to 2099; 2000 is a leap
//! year in both).
//!
//! Register formats (register B): DM chooses binary (1) or BCD (0) for
//! every byte; 24/12 chooses the hours format, with 12-hour values 1..=12
//! and bit 7 set for PM.

/// Register B's data mode bit: binary (else BCD).
pub const B_DM: u8 = 0x04;
/// Register B's hours format bit: 24-hour (else 12-hour with PM in bit 7).
pub const B_24H: u8 = 0x02;
/// The PM flag of the hours byte in 12-hour mode.
pub const HOUR_PM: u8 = 0x80;

pub const SECS_PER_DAY: i64 = 86_400;

/// Days since 1970-01-01 of a date (`month` 1..=12, `day` 1..=31; any
/// year).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12; // March = 0
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1..=12, day 1..=31) of a day count since
/// 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day of the week of a day count, 0 = Sunday (1970-01-01 was a
/// Thursday).
pub fn weekday(days: i64) -> i64 {
    (days + 4).rem_euclid(7)
}

/// One value in the register format of `reg_b`: the byte itself in binary
/// mode, two BCD digits otherwise (values above 99 keep the low byte of
/// the digit arithmetic; only an absurd year's century gets there).
pub fn encode(value: i64, reg_b: u8) -> u8 {
    let v = value.rem_euclid(256) as u8;
    if reg_b & B_DM != 0 {
        v
    } else {
        let v = value.rem_euclid(1000) as u16;
        (((v / 10) << 4) | (v % 10)) as u8
    }
}

/// A byte read in the format of `reg_b`. BCD digits above 9 count with
/// their binary weight (0x1A is 10 + 10 = 20), as the digit arithmetic of
/// QEMU does; the chip's result is undefined.
pub fn decode(byte: u8, reg_b: u8) -> i64 {
    if reg_b & B_DM != 0 {
        i64::from(byte)
    } else {
        i64::from(byte >> 4) * 10 + i64::from(byte & 0x0f)
    }
}

/// The hours byte of hour `hour` (0..=23).
pub fn encode_hour(hour: i64, reg_b: u8) -> u8 {
    if reg_b & B_24H != 0 {
        encode(hour, reg_b)
    } else {
        let h12 = match hour % 12 {
            0 => 12,
            h => h,
        };
        encode(h12, reg_b) | if hour >= 12 { HOUR_PM } else { 0 }
    }
}

/// The hour an hours byte stands for (not range-checked: 0x25 in 24-hour
/// BCD is 25, which the normalization carries into the next day). In
/// 12-hour mode 12 counts as 0 and PM adds 12.
pub fn decode_hour(byte: u8, reg_b: u8) -> i64 {
    let h = decode(byte & !HOUR_PM, reg_b);
    if reg_b & B_24H != 0 {
        h
    } else {
        h % 12 + if byte & HOUR_PM != 0 { 12 } else { 0 }
    }
}

/// The time and calendar as the register bytes hold them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimeBytes {
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
    /// 1..=7, Sunday = 1.
    pub weekday: u8,
    pub day: u8,
    pub month: u8,
    pub year: u8,
    /// The PC's century byte (CMOS 0x32).
    pub century: u8,
}

/// The bytes of the time `secs` (Unix seconds) in the format of `reg_b`,
/// with the day of week counter `weekday_offset` days ahead of the date's
/// real weekday.
pub fn to_bytes(secs: i64, weekday_offset: u8, reg_b: u8) -> TimeBytes {
    let days = secs.div_euclid(SECS_PER_DAY);
    let sod = secs.rem_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let wd = (weekday(days) + i64::from(weekday_offset)) % 7 + 1;
    TimeBytes {
        seconds: encode(sod % 60, reg_b),
        minutes: encode(sod / 60 % 60, reg_b),
        hours: encode_hour(sod / 3600, reg_b),
        weekday: encode(wd, reg_b),
        day: encode(day, reg_b),
        month: encode(month, reg_b),
        year: encode(year.rem_euclid(100), reg_b),
        century: encode(year.div_euclid(100), reg_b),
    }
}

/// The time the bytes stand for, as Unix seconds, and the day of week
/// counter's offset from the real weekday. Out-of-range fields carry as
/// C's `mktime` carries them (QEMU's choice): second 85 is the next
/// minute's 25, month 13 the next January, day 0 the previous month's last
/// day. The day of week is taken as that of the date bytes (a time that
/// carries into the next day carries it too); outside 1..=7 it follows
/// the date (offset 0).
pub fn from_bytes(t: &TimeBytes, reg_b: u8) -> (i64, u8) {
    let year = decode(t.century, reg_b) * 100 + decode(t.year, reg_b);
    let month0 = decode(t.month, reg_b) - 1;
    let days = days_from_civil(year + month0.div_euclid(12), month0.rem_euclid(12) + 1, 1)
        + decode(t.day, reg_b)
        - 1;
    let secs = days * SECS_PER_DAY
        + decode_hour(t.hours, reg_b) * 3600
        + decode(t.minutes, reg_b) * 60
        + decode(t.seconds, reg_b);
    // The weekday written is the written date's; a time of day that
    // carries into another day carries the weekday along.
    let wd = decode(t.weekday, reg_b);
    let offset = if (1..=7).contains(&wd) {
        (wd - 1 - weekday(days)).rem_euclid(7) as u8
    } else {
        0
    };
    (secs, offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_counts_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        // 2026-12-07 is day 20794, a Monday.
        assert_eq!(days_from_civil(2026, 12, 7), 20_794);
        assert_eq!(weekday(20_794), 1);
        for days in -800_000..800_000 {
            let (y, m, d) = civil_from_days(days);
            assert!((1..=12).contains(&m) && (1..=31).contains(&d));
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn leap_years_to_2099_every_fourth() {
        for year in 1901..=2099 {
            let feb = days_from_civil(year, 3, 1) - days_from_civil(year, 2, 1);
            assert_eq!(feb, if year % 4 == 0 { 29 } else { 28 }, "{year}");
        }
        assert_eq!(
            days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 1),
            28
        );
    }

    #[test]
    fn bcd_and_binary_bytes() {
        assert_eq!(encode(59, 0), 0x59);
        assert_eq!(encode(59, B_DM), 59);
        assert_eq!(decode(0x59, 0), 59);
        assert_eq!(decode(0x1a, 0), 20);
        assert_eq!(decode(0xff, 0), 165);
        assert_eq!(encode_hour(0, 0), 0x12);
        assert_eq!(encode_hour(12, 0), 0x92);
        assert_eq!(encode_hour(20, 0), 0x88);
        assert_eq!(encode_hour(20, B_24H), 0x20);
        assert_eq!(decode_hour(0x12, 0), 0);
        assert_eq!(decode_hour(0x92, 0), 12);
        assert_eq!(decode_hour(0x88, 0), 20);
        assert_eq!(decode_hour(0x8c, B_DM), 12);
    }

    #[test]
    fn bytes_round_trip_and_carry() {
        let b = B_24H;
        let t = to_bytes(1_796_676_937, 0, b); // 2026-12-07 20:55:37 Monday
        assert_eq!(
            t,
            TimeBytes {
                seconds: 0x37,
                minutes: 0x55,
                hours: 0x20,
                weekday: 0x02,
                day: 0x07,
                month: 0x12,
                year: 0x26,
                century: 0x20,
            }
        );
        assert_eq!(from_bytes(&t, b), (1_796_676_937, 0));
        // Seconds 0x7F in BCD are 85: the next minute's 25.
        let odd = TimeBytes { seconds: 0x7f, ..t };
        assert_eq!(from_bytes(&odd, b).0, 1_796_676_937 - 37 + 85);
        // Hour 0x25: the next day's 01.
        let odd = TimeBytes { hours: 0x25, ..t };
        assert_eq!(from_bytes(&odd, b).0, 1_796_676_937 + 5 * 3600);
        // Month 13: next January; day 0: the last day of the month before.
        let odd = TimeBytes {
            month: 0x13,
            day: 0x00,
            ..t
        };
        let (secs, _) = from_bytes(&odd, b);
        let back = to_bytes(secs, 0, b);
        assert_eq!((back.year, back.month, back.day), (0x26, 0x12, 0x31));
        // A weekday written as Friday (6) runs 4 days ahead of Monday.
        let fri = TimeBytes { weekday: 6, ..t };
        assert_eq!(from_bytes(&fri, b), (1_796_676_937, 4));
        assert_eq!(to_bytes(1_796_676_937, 4, b).weekday, 6);
    }
}

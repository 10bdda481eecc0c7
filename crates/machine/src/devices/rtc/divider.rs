//! The MC146818A's time base and divider chain (datasheet, "Divider
//! Stages", "Periodic Interrupt Selection", table 4), and the alarm
//! comparison ("Alarm" and the update cycle).
//!
//! The PC's RTC runs from a 32 768 Hz crystal. The 22-stage divider chain
//! divides it down to the 1 Hz update signal; its first 15 stages matter
//! here: the chain is a 15-bit count of crystal clocks (0..32768) that
//! wraps once a second, and the wrap is the update. The periodic interrupt
//! taps one of stages 1..=14 chosen by RS3..RS0, so PF is set whenever the
//! count reaches a multiple of the tap's period.
//!
//! Crystal clock `k` happens at `ceil(k * 1e9 / 32768)` ns of virtual time
//! (the PIT's rule), so by `now` clocks `1..=floor(now * 32768 / 1e9)`
//! have happened; one second is exactly 32768 clocks.

use super::calendar::{encode, encode_hour, SECS_PER_DAY};

/// The time base frequency in Hz.
pub const RTC_HZ: u64 = 32_768;
/// Crystal clocks per second: one turn of the divider chain.
pub const CLOCKS_PER_SECOND: u32 = 32_768;
/// The divider count at which UIP rises: 8 clocks (244.140625 µs, the
/// datasheet's t_BUC) before the update.
pub const UIP_START: u32 = CLOCKS_PER_SECOND - 8;
/// The count the chain restarts from when the divider reset (DV2..DV0 =
/// 11x) is removed: the first update comes half a second later
/// (datasheet, register A, DV2..DV0).
pub const COUNT_AFTER_RESET: u32 = CLOCKS_PER_SECOND / 2;

const NS_PER_S: u128 = 1_000_000_000;

/// The crystal clocks by time `now` (ns).
pub fn clocks_at(now: u64) -> u64 {
    (u128::from(now) * u128::from(RTC_HZ) / NS_PER_S) as u64
}

/// The time (ns) of crystal clock `k`: the first `now` with
/// `clocks_at(now) >= k`, or None past the end of a u64 clock.
pub fn clock_time(k: u64) -> Option<u64> {
    u64::try_from((u128::from(k) * NS_PER_S).div_ceil(u128::from(RTC_HZ))).ok()
}

/// What the divider control bits DV2..DV0 (register A bits 6:4) do to the
/// chain with a 32.768 kHz crystal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DividerMode {
    /// 010: the chain counts and the clock runs.
    Running,
    /// 11x: the chain is held at zero; no updates, no periodic interrupt.
    Reset,
    /// Any other value selects a time base the PC does not have (000 and
    /// 001 are the 4.194304 MHz and 1.048576 MHz crystals): the chain does
    /// not advance and keeps its count.
    Stopped,
}

impl DividerMode {
    pub fn of(reg_a: u8) -> DividerMode {
        match reg_a >> 4 & 7 {
            0b010 => DividerMode::Running,
            0b110 | 0b111 => DividerMode::Reset,
            _ => DividerMode::Stopped,
        }
    }
}

/// The periodic interrupt's period in crystal clocks for rate select
/// `rs` (register A bits 3:0): none for 0; 2^(rs-1) for 3..=15 (8192 Hz
/// down to 2 Hz); with a 32.768 kHz time base 0001 and 0010 repeat 1000
/// and 1001 (3.90625 ms and 7.8125 ms), as table 4 says.
pub fn periodic_clocks(rs: u8) -> Option<u32> {
    match rs & 0x0f {
        0 => None,
        1 => Some(128),
        2 => Some(256),
        n => Some(1 << (n - 1)),
    }
}

/// The alarm bytes (registers 1, 3, 5). Each matches the time byte equal
/// to it, or any byte if its two high bits are set ("don't care",
/// 0xC0..=0xFF), as the chip compares them at each update.
#[derive(Clone, Copy, Debug)]
pub struct Alarm {
    pub seconds: u8,
    pub minutes: u8,
    pub hours: u8,
}

fn matches(alarm: u8, byte: u8) -> bool {
    alarm & 0xc0 == 0xc0 || alarm == byte
}

impl Alarm {
    /// The number of seconds `n` in 1..=86400 after which the clock, now
    /// at `secs`, first reads a time that matches, or None if no time of
    /// day ever does (an alarm byte no time byte can equal, like 0x7F).
    /// The bytes are compared in the format of `reg_b`.
    pub fn next_match(&self, secs: i64, reg_b: u8) -> Option<u64> {
        let hour_ok: [bool; 24] =
            std::array::from_fn(|h| matches(self.hours, encode_hour(h as i64, reg_b)));
        let min_ok: [bool; 60] =
            std::array::from_fn(|m| matches(self.minutes, encode(m as i64, reg_b)));
        let sec_ok: [bool; 60] =
            std::array::from_fn(|s| matches(self.seconds, encode(s as i64, reg_b)));
        if !hour_ok.contains(&true) || !min_ok.contains(&true) || !sec_ok.contains(&true) {
            return None;
        }
        let sod = secs.rem_euclid(SECS_PER_DAY);
        // Step over whole hours and minutes that cannot match: a few
        // thousand steps at most, for an alarm once a day.
        let mut n: i64 = 1;
        while n <= SECS_PER_DAY {
            let t = (sod + n) % SECS_PER_DAY;
            let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
            if !hour_ok[h as usize] {
                n += 3600 - t % 3600;
            } else if !min_ok[m as usize] {
                n += 60 - s;
            } else if !sec_ok[s as usize] {
                n += 1;
            } else {
                return Some(n as u64);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::devices::rtc::calendar::{B_24H, B_DM};

    #[test]
    fn clocks_and_times_are_inverse() {
        assert_eq!(clock_time(32_768), Some(1_000_000_000));
        assert_eq!(clock_time(1), Some(30_518));
        assert_eq!(clocks_at(30_517), 0);
        assert_eq!(clocks_at(30_518), 1);
        for k in [0, 1, 7, 32, 1000, 32_767, 1 << 40] {
            let t = clock_time(k).unwrap();
            assert_eq!(clocks_at(t), k);
            if t > 0 {
                assert_eq!(clocks_at(t - 1), k - 1);
            }
        }
    }

    #[test]
    fn rate_table() {
        let hz = |rs| periodic_clocks(rs).map(|c| RTC_HZ / u64::from(c));
        assert_eq!(hz(0), None);
        assert_eq!(periodic_clocks(1), periodic_clocks(8));
        assert_eq!(periodic_clocks(2), periodic_clocks(9));
        assert_eq!(hz(3), Some(8192));
        assert_eq!(hz(6), Some(1024));
        assert_eq!(hz(15), Some(2));
    }

    #[test]
    fn divider_modes() {
        assert_eq!(DividerMode::of(0x26), DividerMode::Running);
        assert_eq!(DividerMode::of(0x60), DividerMode::Reset);
        assert_eq!(DividerMode::of(0x70), DividerMode::Reset);
        for dv in [0, 1, 3, 4, 5] {
            assert_eq!(DividerMode::of(dv << 4), DividerMode::Stopped);
        }
    }

    #[test]
    fn alarm_search() {
        let b = B_24H;
        let any = 0xc0;
        let every_second = Alarm {
            seconds: any,
            minutes: 0xff,
            hours: 0xc5,
        };
        assert_eq!(every_second.next_match(59, b), Some(1));
        // At second 30 of a minute: second 0x15 of the next minute is 45 s away.
        let at_15 = Alarm {
            seconds: 0x15,
            minutes: any,
            hours: any,
        };
        assert_eq!(at_15.next_match(30, b), Some(45));
        assert_eq!(at_15.next_match(14, b), Some(1));
        // 20:55:37 → 07:00:00 (BCD) the next morning.
        let seven = Alarm {
            seconds: 0,
            minutes: 0,
            hours: 0x07,
        };
        let now = 20 * 3600 + 55 * 60 + 37;
        assert_eq!(
            seven.next_match(now, b),
            Some((86_400 - now + 7 * 3600) as u64)
        );
        // The same in 12-hour binary: 07 AM is 0x07, 7 PM is 0x87.
        let b12 = B_DM;
        let seven_pm = Alarm {
            seconds: 0,
            minutes: 0,
            hours: 0x87,
        };
        assert_eq!(
            seven_pm.next_match(now, b12),
            Some((86_400 - now + 19 * 3600) as u64)
        );
        // Exactly now matches only a day later.
        let exact = Alarm {
            seconds: 0x37,
            minutes: 0x55,
            hours: 0x20,
        };
        assert_eq!(exact.next_match(now, b), Some(86_400));
        // Bytes no time has.
        let never = Alarm {
            seconds: 0x7f,
            minutes: any,
            hours: any,
        };
        assert_eq!(never.next_match(now, b), None);
        let never = Alarm {
            seconds: 0,
            minutes: 0,
            hours: 0x24,
        };
        assert_eq!(never.next_match(now, b), None);
    }
}

//! The ACPI power-management timer's arithmetic (ACPI 6.5 §4.8.3.3, "Power
//! Management Timer"; PIIX4 datasheet 290562 §7.2.3.3, PMTMR): a free
//! running counter clocked at 3.579545 MHz, derived from the virtual time in
//! exact integer arithmetic so it never drifts: tick `k` happens at
//! `ceil(k * 1e9 / PM_TIMER_HZ)` ns, and by `now` ticks
//! `1..=floor(now * PM_TIMER_HZ / 1e9)` have happened.

/// The PM timer's clock in Hz (the PC's 14.31818 MHz crystal divided by 4).
pub const PM_TIMER_HZ: u64 = 3_579_545;

const NS_PER_S: u128 = 1_000_000_000;

/// The number of timer ticks by time `now` (ns).
pub fn ticks_at(now: u64) -> u64 {
    // now < 2^64 and PM_TIMER_HZ < 2^22, so the quotient is below 2^64.
    (u128::from(now) * u128::from(PM_TIMER_HZ) / NS_PER_S) as u64
}

/// The time (ns) of tick `k`: the first `now` with `ticks_at(now) >= k`, or
/// None past the end of a u64 clock.
pub fn tick_time(k: u64) -> Option<u64> {
    u64::try_from((u128::from(k) * NS_PER_S).div_ceil(u128::from(PM_TIMER_HZ))).ok()
}

/// The counter's width: 24 bits (the PIIX4's PMTMR and QEMU's pc) or 32
/// bits (what the FADT's TMR_VAL_EXT flag announces).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerWidth {
    Bits24,
    Bits32,
}

impl TimerWidth {
    /// The counter's most significant bit: TMR_STS sets each time it
    /// changes (ACPI §4.8.3.3), i.e. every `1 << msb()` ticks.
    pub fn msb(self) -> u32 {
        match self {
            TimerWidth::Bits24 => 23,
            TimerWidth::Bits32 => 31,
        }
    }

    /// The counter value at `ticks` (the upper bits of a 24-bit counter
    /// read as 0).
    pub fn value(self, ticks: u64) -> u32 {
        let mask = (1u64 << (self.msb() + 1)) - 1;
        (ticks & mask) as u32
    }

    /// How many times the most significant bit has changed by `ticks`.
    pub fn msb_changes(self, ticks: u64) -> u64 {
        ticks >> self.msb()
    }

    /// The tick of the `n`th change of the most significant bit (None if it
    /// cannot be represented).
    pub fn change_tick(self, n: u64) -> Option<u64> {
        n.checked_mul(1 << self.msb())
    }
}

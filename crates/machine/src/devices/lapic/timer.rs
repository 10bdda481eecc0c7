//! The APIC timer (SDM 11.5.4): a 32-bit down-counter clocked by the bus
//! clock (1 tick per ns here) through the divide configuration register
//! (Figure 11-10), in one-shot or periodic mode (LVT timer bit 17).
//!
//! The count is not stepped: it is a function of time from a base, the
//! moment it last had a known value. From `base_time` the counter holds
//! `base_count` and loses one every `divide` ns; when it reaches 0 the
//! interrupt is raised and, in periodic mode, it is reloaded with the
//! initial count at that instant. `base_count` 0 means stopped (never
//! started, a zero initial count, or a one-shot that expired).

use super::{Lapic, LVT_MASKED, LVT_TIMER, LVT_TIMER_PERIODIC};

/// The timer's registers and its base.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimerState {
    /// The initial count register (offset 0x380).
    pub initial_count: u32,
    /// The divide configuration register's bits 0, 1 and 3 (offset 0x3E0).
    pub divide_config: u32,
    /// When the counter last held a known value...
    pub base_time: u64,
    /// ...and that value (at most `initial_count`).
    pub base_count: u32,
    /// Expirations up to this time have been delivered.
    pub checked: u64,
}

/// The bus ticks per count for a divide configuration: bits 3, 1, 0
/// select 2, 4, 8, ..., 128, and 111b is 1.
pub fn divisor(config: u32) -> u64 {
    let v = (config & 3) | (config >> 1 & 4);
    if v == 7 {
        1
    } else {
        2 << v
    }
}

impl TimerState {
    /// Stopped, divide by 2 (the reset value 0), at `now`.
    pub fn stopped(now: u64) -> TimerState {
        TimerState {
            initial_count: 0,
            divide_config: 0,
            base_time: now,
            base_count: 0,
            checked: now,
        }
    }

    pub(super) fn sanitize(&mut self) {
        self.divide_config &= 0xb;
        self.base_count = self.base_count.min(self.initial_count);
    }

    fn divide(&self) -> u64 {
        divisor(self.divide_config)
    }

    /// Whole counts since the base by `now` (0 before it).
    fn ticks(&self, now: u64) -> u64 {
        now.saturating_sub(self.base_time) / self.divide()
    }

    /// The current count register at `now`.
    pub fn count_at(&self, now: u64, periodic: bool) -> u32 {
        let base = u64::from(self.base_count);
        let k = self.ticks(now);
        if base == 0 {
            0
        } else if k < base {
            (base - k) as u32
        } else if periodic && self.initial_count != 0 {
            let n = u64::from(self.initial_count);
            (n - (k - base) % n) as u32
        } else {
            0
        }
    }

    /// The first expiration strictly after `t`, if any (None also past the
    /// end of a u64 clock).
    pub fn next_expiry_after(&self, t: u64, periodic: bool) -> Option<u64> {
        if self.base_count == 0 {
            return None;
        }
        let div = u128::from(self.divide());
        let first = u128::from(self.base_time) + u128::from(self.base_count) * div;
        let t = u128::from(t);
        let at = if first > t {
            first
        } else if periodic && self.initial_count != 0 {
            let period = u128::from(self.initial_count) * div;
            first + ((t - first) / period + 1) * period
        } else {
            return None;
        };
        u64::try_from(at).ok()
    }

    /// Load `count` at `now` (a write of the initial count register): the
    /// counter starts from it, or stops if it is 0.
    fn start(&mut self, count: u32, now: u64) {
        self.initial_count = count;
        self.base_time = now;
        self.base_count = count;
    }

    /// Make the last whole count before `now` the base, so that the count
    /// and its phase survive a change of mode.
    fn rebase_on_tick(&mut self, now: u64, periodic: bool) {
        let k = self.ticks(now);
        let count = self.count_at(now, periodic);
        self.base_time = self
            .base_time
            .saturating_add(k.saturating_mul(self.divide()));
        self.base_count = count;
    }
}

impl Lapic {
    fn timer_periodic(&self) -> bool {
        self.state.lvt[LVT_TIMER] & LVT_TIMER_PERIODIC != 0
    }

    /// Bring the unit up to `now`: a timer expiration since the last
    /// update raises the timer's interrupt (several collapse into one IRR
    /// bit, as the edges of one vector do). Every access does this first;
    /// the machine calls it at each [`Lapic::next_event`] and before it
    /// polls [`Lapic::pending`]. An earlier `now` than before changes
    /// nothing.
    pub fn update(&mut self, now: u64) {
        let t = &self.state.timer;
        if now <= t.checked {
            return;
        }
        let fired = t
            .next_expiry_after(t.checked, self.timer_periodic())
            .is_some_and(|at| at <= now);
        self.state.timer.checked = now;
        if fired {
            self.deliver_local(LVT_TIMER);
        }
    }

    /// The first time after `now` (and after the last update) at which the
    /// timer raises its interrupt, None while it is stopped or its LVT
    /// entry masked.
    pub fn next_event(&self, now: u64) -> Option<u64> {
        if !self.enabled() || self.state.lvt[LVT_TIMER] & LVT_MASKED != 0 {
            return None;
        }
        let t = &self.state.timer;
        t.next_expiry_after(now.max(t.checked), self.timer_periodic())
    }

    /// The current count register at `now`.
    pub fn current_count(&self, now: u64) -> u32 {
        self.state.timer.count_at(now, self.timer_periodic())
    }

    /// A write of the initial count register (after `update(now)`).
    pub(super) fn write_initial_count(&mut self, value: u32, now: u64) {
        self.state.timer.start(value, now);
    }

    /// A write of the divide configuration register (after `update(now)`):
    /// the count goes on from its current value at the new rate.
    pub(super) fn write_divide_config(&mut self, value: u32, now: u64) {
        let count = self.current_count(now);
        let t = &mut self.state.timer;
        t.base_time = now;
        t.base_count = count;
        t.divide_config = value & 0xb;
    }

    /// A write of the LVT timer entry (after `update(now)`): a change of
    /// mode keeps the count and its phase.
    pub(super) fn write_lvt_timer(&mut self, value: u32, now: u64) {
        let periodic = self.timer_periodic();
        self.state.timer.rebase_on_tick(now, periodic);
        self.state.lvt[LVT_TIMER] = value;
    }
}

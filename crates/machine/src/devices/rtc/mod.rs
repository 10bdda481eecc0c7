//! The PC's real-time clock and CMOS RAM: a Motorola MC146818A (datasheet
//! "MC146818A Real-Time Clock Plus RAM (RTC)", MC146818A/D) as the Intel
//! PIIX3 integrates it (datasheet 290550, "Real Time Clock" and the RTC
//! index port), on ports 0x70 (index, write-only) and 0x71 (data), with
//! its interrupt on IRQ 8. [`Rtc::read`] and [`Rtc::write`] take those
//! absolute port numbers; other ports are not decoded here.
//!
//! The 128 bytes behind the index are the 10 time, calendar and alarm
//! bytes, registers A–D (0x0A..=0x0D) and 114 bytes of RAM, laid out for
//! the BIOS as [`cmos_image`] describes; byte 0x32 is the century, which
//! counts with the year as on QEMU.
//!
//! Time: [`Rtc::new`] takes the wall-clock time at virtual time 0 in Unix
//! seconds, and every access passes `now` (ns of virtual time). The state
//! holds the clock as of one crystal clock (`divider.rs`) and is brought
//! forward lazily by formulas, never a loop per second, so any pattern of
//! accesses and `now`s gives the same results.
//!
//! The interrupt: [`Rtc::irq`] is register C's IRQF, the inverted level of
//! the chip's open-drain /IRQ pin (high = asserted). IRQF = PF·PIE + AF·AIE
//! + UF·UIE, so it falls when a read of register C clears the flags or an
//!   enable bit is cleared. ISA IRQ 8 is edge-triggered at the PIC (its ELCR
//!   bit is fixed at 0), so a handler that does not read register C gets no
//!   second interrupt. [`Rtc::next_event`] covers every change of `irq()`:
//!   the next time an enabled flag sets while IRQF is low. It does not wake
//!   the machine for the update cycle, UIP or flags whose interrupt is
//!   disabled: those are computed exactly when read.
//!
//! Choices where the datasheet leaves a gap or QEMU (`hw/rtc/mc146818rtc.c`)
//! and Bochs (`iodev/cmos.cc`) differ:
//!
//! * Reading port 0x70 returns 0xFF (QEMU and Bochs; the PIIX3 index port
//!   is write-only). Bit 7 of a write is the NMI mask, kept here
//!   ([`Rtc::nmi_masked`]) for the machine's NMI logic; QEMU drops it.
//!   Power-on and reset leave NMI masked with index 0 (later Intel south
//!   bridges document 0x80 as the port's default; the PIIX3 datasheet
//!   gives none).
//! * The update cycle is instantaneous at the end of each second (QEMU):
//!   UIP is high for the 8 crystal clocks (244.14 µs) before it, UF and AF
//!   set and the time advances at the wrap. The chip's update itself takes
//!   up to 1984 µs, during which the time bytes are unreadable; here a read
//!   in that window sees the new time.
//! * DV2..DV0: only 010 runs the clock (the PC's 32.768 kHz crystal); 11x
//!   holds the divider in reset, and leaving reset makes the first update
//!   come half a second later (datasheet); any other value stops the
//!   divider where it is (the DS12887's "oscillator off"). While the
//!   divider does not run the time bytes hold their values, can be written,
//!   and start counting from what they hold when 010 is selected again.
//!   QEMU runs the clock for 000 and 001 as well, and so does Bochs,
//!   though its comments call them "oscillator disabled" (it panics on the
//!   test modes 011..=101).
//! * SET stops updates and clears UIE (datasheet). The divider keeps
//!   running: PF still sets, and when SET is cleared the time bytes as
//!   they are count on from the next wrap of the divider, whose phase SET
//!   did not touch (QEMU keeps the phase too). Unlike QEMU, which keeps
//!   setting UF once a second under SET, no update cycle happens, so
//!   neither UF nor AF sets while SET = 1. (Bochs counts the time on in the
//!   background under SET and shows it afterwards unless the guest wrote
//!   a time; the chip's counters do not advance, so here the time stops.)
//! * The periodic interrupt is a tap of the divider chain, so PF sets in
//!   step with the updates and also when PIE = 0 (datasheet; QEMU and
//!   Bochs run their periodic timers only when PIE = 1, QEMU's aligned to
//!   virtual time 0).
//!   With the divider stopped or in reset there is no PF. QEMU's "lost tick"
//!   reinjection has no counterpart: time is virtual, nothing is lost.
//! * Writing a time byte while the clock counts changes that byte and
//!   leaves the divider's phase alone (the chip's counters are just
//!   written; QEMU restarts the second at its stored offset).
//! * Out-of-range time bytes (the datasheet: "undefined"): what is held is
//!   read back as written while the clock does not count; when it counts,
//!   the bytes are taken as C's `mktime` takes a broken-down time (QEMU):
//!   BCD digits above 9 count with their binary weight, seconds 0x7F (85)
//!   carry into the next minute, hour 0x25 into the next day, month 13 is
//!   the next January, day 0 the last day of the month before; the clock
//!   reads the normalized time at once. In 12-hour mode the hour is taken
//!   modulo 12 with PM adding 12.
//! * The day of week (register 6) is its own counter, as on the chip: it
//!   advances at midnight from whatever 1..=7 was written (QEMU always
//!   derives it from the date, ignoring writes). A value outside 1..=7
//!   follows the date (Sunday = 1) rather than counting to nonsense.
//! * The alarm compares the bytes as the chip does at each update: a byte
//!   with both high bits set (0xC0..=0xFF) matches anything, any other only
//!   an equal byte, in the current format (so a 12-hour alarm hour carries
//!   the PM bit, and an alarm byte no time can hold never matches; QEMU
//!   decodes alarm bytes to numbers first).
//! * DM and 24/12 change how the counting time is presented at once (QEMU;
//!   the datasheet asks software to re-initialize the time after a change,
//!   and the chip would keep counting the old bytes in the new format).
//!   Time bytes held under SET or a stopped divider stay as written and are
//!   read in the new format when the clock counts again.
//! * DSE (daylight saving) is stored and has no effect (QEMU and Bochs):
//!   the chip's rule is the 1970s US one (last Sunday of April and
//!   October), which PC software does not expect. SQWE is stored (Bochs
//!   forces it to 0); the SQW pin is not connected on the PC.
//! * Register 0x37 (the PS/2 century byte) is an alias of 0x32 (QEMU).
//! * RESET (the machine's reset, [`Rtc::reset`]) clears PIE, AIE, UIE,
//!   SQWE and the flags of register C, and nothing else (datasheet and
//!   Bochs; QEMU leaves UIE and also clears the shutdown status byte 0x0F, which the
//!   PC BIOS reads after a reset to learn why it happened, so it is kept
//!   here). The time, the divider and the RAM run on.

mod calendar;
mod cmos;
mod divider;

pub use cmos::{cmos_image, BootDevice, CmosConfig};
pub use divider::{clock_time, clocks_at, DividerMode, RTC_HZ};

use calendar::{from_bytes, to_bytes, TimeBytes};
use divider::{periodic_clocks, Alarm, CLOCKS_PER_SECOND, COUNT_AFTER_RESET, UIP_START};

/// The index port (write-only; bit 7 masks NMI).
pub const INDEX_PORT: u16 = 0x70;
/// The data port.
pub const DATA_PORT: u16 = 0x71;
/// The ISA interrupt the RTC drives.
pub const IRQ: u8 = 8;
/// The number of bytes behind the index.
pub const CMOS_SIZE: usize = 128;

// Register indexes.
pub const SECONDS: u8 = 0x00;
pub const SECONDS_ALARM: u8 = 0x01;
pub const MINUTES: u8 = 0x02;
pub const MINUTES_ALARM: u8 = 0x03;
pub const HOURS: u8 = 0x04;
pub const HOURS_ALARM: u8 = 0x05;
pub const DAY_OF_WEEK: u8 = 0x06;
pub const DAY_OF_MONTH: u8 = 0x07;
pub const MONTH: u8 = 0x08;
pub const YEAR: u8 = 0x09;
pub const REG_A: u8 = 0x0a;
pub const REG_B: u8 = 0x0b;
pub const REG_C: u8 = 0x0c;
pub const REG_D: u8 = 0x0d;
/// The century byte of the PC's CMOS layout (QEMU's RTC_CENTURY).
pub const CENTURY: u8 = 0x32;
/// The PS/2 century byte, an alias of [`CENTURY`].
pub const PS2_CENTURY: u8 = 0x37;

/// Register A: update in progress (read-only).
pub const A_UIP: u8 = 0x80;
/// Register B bits.
pub const B_SET: u8 = 0x80;
pub const B_PIE: u8 = 0x40;
pub const B_AIE: u8 = 0x20;
pub const B_UIE: u8 = 0x10;
pub const B_SQWE: u8 = 0x08;
pub const B_DM: u8 = calendar::B_DM;
pub const B_24H: u8 = calendar::B_24H;
pub const B_DSE: u8 = 0x01;
/// Register C bits.
pub const C_IRQF: u8 = 0x80;
pub const C_PF: u8 = 0x40;
pub const C_AF: u8 = 0x20;
pub const C_UF: u8 = 0x10;
/// Register D: valid RAM and time (the battery is good).
pub const D_VRT: u8 = 0x80;

/// Register A at power-on: divider 010 (32.768 kHz, running), rate 0110
/// (1024 Hz), as QEMU and every PC BIOS set it.
pub const POWER_ON_A: u8 = 0x26;
/// Register B at power-on: 24-hour BCD, no interrupts (QEMU).
pub const POWER_ON_B: u8 = 0x02;

/// The time bytes: those the clock counts.
const TIME_INDEXES: [u8; 8] = [
    SECONDS,
    MINUTES,
    HOURS,
    DAY_OF_WEEK,
    DAY_OF_MONTH,
    MONTH,
    YEAR,
    CENTURY,
];

/// Everything the RTC holds; enough to resume it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtcState {
    /// The index port's bits 6:0.
    pub index: u8,
    /// The index port's bit 7: NMI is masked.
    pub nmi_masked: bool,
    /// Register A without UIP (which is computed when read).
    pub reg_a: u8,
    pub reg_b: u8,
    /// Register C's PF, AF and UF (IRQF is computed from them and B).
    pub flags: u8,
    /// The bytes behind the index. Registers A–D live in the fields
    /// above (their bytes here are 0), and while the clock counts the time
    /// bytes (0, 2, 4, 6..=9, 0x32) are derived from `seconds`; otherwise
    /// they hold the values the clock stopped at or the guest wrote.
    pub ram: [u8; CMOS_SIZE],
    /// The crystal clock up to which the state is brought.
    pub at: u64,
    /// The divider chain's count at `at`, 0..32768 (0 in reset).
    pub divider: u32,
    /// While the clock counts: the time at `at` in Unix seconds.
    pub seconds: i64,
    /// While the clock counts: how many days (0..7) the day of week
    /// counter is ahead of the date's real weekday.
    pub weekday_offset: u8,
}

impl RtcState {
    fn mode(&self) -> DividerMode {
        DividerMode::of(self.reg_a)
    }

    /// Does the clock count: divider running and SET clear?
    fn counting(&self) -> bool {
        self.mode() == DividerMode::Running && self.reg_b & B_SET == 0
    }

    fn irqf(&self) -> bool {
        self.flags & self.reg_b & (C_PF | C_AF | C_UF) != 0
    }

    /// The alarm bytes.
    fn alarm(&self) -> Alarm {
        Alarm {
            seconds: self.ram[usize::from(SECONDS_ALARM)],
            minutes: self.ram[usize::from(MINUTES_ALARM)],
            hours: self.ram[usize::from(HOURS_ALARM)],
        }
    }

    /// Bring the state up to crystal clock `to` (an earlier clock than
    /// `at` changes nothing): the periodic flag, the updates with their
    /// flags, the time.
    fn advance(&mut self, to: u64) {
        if to <= self.at {
            return;
        }
        let elapsed = to - self.at;
        self.at = to;
        if self.mode() != DividerMode::Running {
            return;
        }
        let start = u64::from(self.divider);
        let total = start + elapsed;
        if let Some(p) = periodic_clocks(self.reg_a) {
            let p = u64::from(p);
            if total / p > start / p {
                self.flags |= C_PF;
            }
        }
        self.divider = (total % u64::from(CLOCKS_PER_SECOND)) as u32;
        let updates = total / u64::from(CLOCKS_PER_SECOND);
        if updates == 0 || self.reg_b & B_SET != 0 {
            return;
        }
        self.flags |= C_UF;
        if self.flags & C_AF == 0
            && self
                .alarm()
                .next_match(self.seconds, self.reg_b)
                .is_some_and(|n| n <= updates)
        {
            self.flags |= C_AF;
        }
        self.seconds = self.seconds.saturating_add_unsigned(updates);
    }

    /// The time bytes as the clock shows them now.
    fn time_bytes(&self) -> TimeBytes {
        if self.counting() {
            to_bytes(self.seconds, self.weekday_offset, self.reg_b)
        } else {
            self.held_bytes()
        }
    }

    /// The time bytes as the RAM holds them (while the clock does not
    /// count).
    fn held_bytes(&self) -> TimeBytes {
        let r = |i: u8| self.ram[usize::from(i)];
        TimeBytes {
            seconds: r(SECONDS),
            minutes: r(MINUTES),
            hours: r(HOURS),
            weekday: r(DAY_OF_WEEK),
            day: r(DAY_OF_MONTH),
            month: r(MONTH),
            year: r(YEAR),
            century: r(CENTURY),
        }
    }

    /// Hold `t` in the time bytes.
    fn hold(&mut self, t: TimeBytes) {
        let values = [
            t.seconds, t.minutes, t.hours, t.weekday, t.day, t.month, t.year, t.century,
        ];
        for (i, v) in TIME_INDEXES.into_iter().zip(values) {
            self.ram[usize::from(i)] = v;
        }
    }

    /// Count on from the held bytes, read in the current format.
    fn thaw(&mut self) {
        let (seconds, offset) = from_bytes(&self.held_bytes(), self.reg_b);
        self.seconds = seconds;
        self.weekday_offset = offset;
    }

    /// Apply a change of register A or B (`change`), which may start or
    /// stop the clock or reset the divider. A clock that stops holds the
    /// bytes it showed in the old format; one that starts counts from the
    /// held bytes in the new format; one that keeps counting is untouched.
    fn change_mode(&mut self, change: impl FnOnce(&mut RtcState)) {
        let was_counting = self.counting();
        let shown = self.time_bytes();
        let old_mode = self.mode();
        change(self);
        let new_mode = self.mode();
        if new_mode == DividerMode::Reset {
            self.divider = 0;
        } else if old_mode == DividerMode::Reset {
            self.divider = COUNT_AFTER_RESET;
        }
        match (was_counting, self.counting()) {
            (true, false) => self.hold(shown),
            (false, true) => self.thaw(),
            _ => {}
        }
    }

    /// Is UIP high: the clock counts and an update comes within 8 clocks?
    fn uip(&self) -> bool {
        self.counting() && self.divider >= UIP_START
    }
}

/// The MC146818A behind ports 0x70/0x71.
#[derive(Debug)]
pub struct Rtc {
    state: RtcState,
}

impl Rtc {
    /// Power-on at virtual time 0, the clock reading `base_unix_secs`
    /// (UTC, as QEMU's default `-rtc base=utc`), with the next update one
    /// second later. Registers A and B as QEMU sets them (0x26, 0x02), C
    /// clear, D with VRT; the RAM is zero until the machine fills it
    /// ([`Rtc::load_ram`]).
    pub fn new(base_unix_secs: i64) -> Rtc {
        Rtc {
            state: RtcState {
                index: 0,
                nmi_masked: true,
                reg_a: POWER_ON_A,
                reg_b: POWER_ON_B,
                flags: 0,
                ram: [0; CMOS_SIZE],
                at: 0,
                divider: 0,
                seconds: base_unix_secs,
                weekday_offset: 0,
            },
        }
    }

    /// Fill the RAM bytes (0x0E..=0x7F) from `image`, as the machine does
    /// before the firmware runs (see [`cmos_image`]). The clock's bytes
    /// (0x00..=0x0D, the century 0x32 and its alias 0x37) are the clock's
    /// and are not taken from the image.
    pub fn load_ram(&mut self, image: &[u8; CMOS_SIZE]) {
        for (i, &b) in image.iter().enumerate().skip(usize::from(REG_D) + 1) {
            if i != usize::from(CENTURY) && i != usize::from(PS2_CENTURY) {
                self.state.ram[i] = b;
            }
        }
    }

    /// The machine's RESET: the interrupt enables (PIE, AIE, UIE) and SQWE
    /// are cleared, and so are the flags, which lowers IRQ 8; the index
    /// port returns to 0x80 (NMI masked). The clock, the alarm and the RAM
    /// are untouched.
    pub fn reset(&mut self, now: u64) {
        let s = &mut self.state;
        s.advance(clocks_at(now));
        s.reg_b &= !(B_PIE | B_AIE | B_UIE | B_SQWE);
        s.flags = 0;
        s.index = 0;
        s.nmi_masked = true;
    }

    /// Is NMI masked (bit 7 of the last write to port 0x70)?
    pub fn nmi_masked(&self) -> bool {
        self.state.nmi_masked
    }

    /// A byte read from port 0x70 (0xFF: write-only) or 0x71 (the byte at
    /// the index). Reading register C returns and clears the flags,
    /// lowering IRQ 8. Other ports read as the floating bus.
    pub fn read(&mut self, port: u16, now: u64) -> u8 {
        if port != DATA_PORT {
            return 0xff;
        }
        let s = &mut self.state;
        s.advance(clocks_at(now));
        let index = match s.index {
            PS2_CENTURY => CENTURY,
            i => i,
        };
        let t = s.time_bytes();
        match index {
            SECONDS => t.seconds,
            MINUTES => t.minutes,
            HOURS => t.hours,
            DAY_OF_WEEK => t.weekday,
            DAY_OF_MONTH => t.day,
            MONTH => t.month,
            YEAR => t.year,
            CENTURY => t.century,
            REG_A => s.reg_a | if s.uip() { A_UIP } else { 0 },
            REG_B => s.reg_b,
            REG_C => {
                let value = s.flags | if s.irqf() { C_IRQF } else { 0 };
                s.flags = 0;
                value
            }
            REG_D => D_VRT,
            i => s.ram[usize::from(i & 0x7f)],
        }
    }

    /// A byte written to port 0x70 (NMI mask and index) or 0x71 (the byte
    /// at the index). UIP, register C and register D are read-only.
    pub fn write(&mut self, port: u16, value: u8, now: u64) {
        let s = &mut self.state;
        match port {
            INDEX_PORT => {
                s.index = value & 0x7f;
                s.nmi_masked = value & 0x80 != 0;
                return;
            }
            DATA_PORT => {}
            _ => return,
        }
        s.advance(clocks_at(now));
        let index = match s.index {
            PS2_CENTURY => CENTURY,
            i => i,
        };
        match index {
            REG_A => s.change_mode(|s| s.reg_a = value & !A_UIP),
            REG_B => s.change_mode(|s| {
                s.reg_b = if value & B_SET != 0 {
                    value & !B_UIE
                } else {
                    value
                };
            }),
            REG_C | REG_D => {}
            i if TIME_INDEXES.contains(&i) => {
                // While counting, the written byte replaces its part of
                // the time shown and the clock counts on from the result.
                let counting = s.counting();
                if counting {
                    s.hold(s.time_bytes());
                }
                s.ram[usize::from(i)] = value;
                if counting {
                    s.thaw();
                }
            }
            i => s.ram[usize::from(i & 0x7f)] = value,
        }
    }

    /// IRQ 8: register C's IRQF at `now` (high = the /IRQ pin asserted).
    /// An earlier `now` than the last access sees the state of that access.
    pub fn irq(&self, now: u64) -> bool {
        let mut s = self.state.clone();
        s.advance(clocks_at(now));
        s.irqf()
    }

    /// The first time (ns) after `now` at which [`Rtc::irq`] changes on
    /// its own: when IRQF is low, the first setting of a flag whose
    /// interrupt is enabled. None if IRQF is high (only a read of register
    /// C lowers it) or no enabled flag can set.
    pub fn next_event(&self, now: u64) -> Option<u64> {
        let mut s = self.state.clone();
        s.advance(clocks_at(now));
        if s.irqf() || s.mode() != DividerMode::Running {
            return None;
        }
        let mut next: Option<u64> = None;
        let mut consider = |clocks: u64| {
            let at = s.at.saturating_add(clocks);
            next = Some(next.map_or(at, |n| n.min(at)));
        };
        if s.reg_b & B_PIE != 0 {
            if let Some(p) = periodic_clocks(s.reg_a) {
                consider(u64::from(p - s.divider % p));
            }
        }
        if s.counting() {
            let to_update = u64::from(CLOCKS_PER_SECOND - s.divider);
            if s.reg_b & B_UIE != 0 {
                consider(to_update);
            }
            if s.reg_b & B_AIE != 0 {
                if let Some(n) = s.alarm().next_match(s.seconds, s.reg_b) {
                    consider(to_update + (n - 1) * u64::from(CLOCKS_PER_SECOND));
                }
            }
        }
        clock_time(next?)
    }

    pub fn state(&self) -> RtcState {
        self.state.clone()
    }

    /// Resume from `s`. Values no chip can hold are brought into range so
    /// a damaged snapshot cannot break the invariants: the index to 7
    /// bits, UIP and IRQF (computed, never stored) cleared, the flags to
    /// PF/AF/UF, the divider count below one second (0 in reset), the
    /// weekday offset below 7, and the bytes of registers A–D to 0.
    pub fn restore(&mut self, s: &RtcState) {
        self.state = s.clone();
        let st = &mut self.state;
        st.index &= 0x7f;
        st.reg_a &= !A_UIP;
        st.flags &= C_PF | C_AF | C_UF;
        st.divider %= CLOCKS_PER_SECOND;
        if st.mode() == DividerMode::Reset {
            st.divider = 0;
        }
        st.weekday_offset %= 7;
        for i in REG_A..=REG_D {
            st.ram[usize::from(i)] = 0;
        }
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_cmos;
#[cfg(test)]
mod tests_interrupts;
#[cfg(test)]
mod tests_random;

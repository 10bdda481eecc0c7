//! The PIIX4 power-management I/O block (Intel 82371AB PIIX4 datasheet
//! 290562, §7.2 "Power Management Registers", PMBA; QEMU's pc puts it at
//! port 0x600) as ACPI's fixed hardware sees it (ACPI 6.5 §4.8 "ACPI
//! Hardware Specification"): the PM1a event block (PM1_STS and PM1_EN), the
//! PM1a control block (PM1_CNT), the PM timer, and a separate GPE0 block
//! (QEMU: 4 bytes at port 0xAFE0). [`AcpiPm::read`] and [`AcpiPm::write`]
//! take byte offsets relative to the PM block's base; [`AcpiPm::read_gpe0`]
//! and [`AcpiPm::write_gpe0`] offsets relative to the GPE0 block's base.
//! Wider accesses are split into bytes by the bus, all at the same `now`.
//!
//! | offset | register | width |
//! | --- | --- | --- |
//! | 0x00 | PM1_STS (PIIX4 PMSTS): write 1 to clear | 16 |
//! | 0x02 | PM1_EN (PMEN) | 16 |
//! | 0x04 | PM1_CNT (PMCNTRL) | 16 |
//! | 0x08 | PM_TMR (PMTMR), read-only | 32 |
//!
//! The SCI: [`AcpiPm::sci`] is the level of the SCI line (high = asserted;
//! level-triggered and shareable, ISA IRQ 9 on the pc machine, which the
//! MADT declares active-high level as QEMU does). It is high while SCI_EN is
//! set and an enabled fixed event (timer overflow, power button, and the
//! enables of the global-lock and RTC events whose status never sets here)
//! or an enabled GPE0 event has its status bit set. [`AcpiPm::next_event`]
//! gives the time the timer's overflow status will raise it.
//!
//! The PM timer counts `floor(now * 3579545 / 1e9)` (`timer.rs`) whatever
//! the call pattern; TMR_STS sets at every change of the counter's top bit
//! (bit 23 of the 24-bit counter, every 2^23 ticks, about 2.34 s). Like the
//! virtual clock, `now` must not decrease from one call to the next.
//!
//! Choices where the datasheets leave a gap or QEMU (`hw/acpi/core.c`,
//! `hw/acpi/piix4.c`) and Bochs (`iodev/acpi.cc`) differ:
//!
//! * SLP_EN with SLP_TYP = 0 is the soft-off request (PIIX4 SUS_TYP 000,
//!   QEMU's pc `_S5` package): [`AcpiPm::poweroff_requested`] turns true and
//!   stays so until reset; the machine polls it and stops, as QEMU's
//!   `qemu_system_shutdown_request` and Bochs's quit. Other sleep types
//!   (PIIX4: suspend to RAM and the power-on-suspend states) are not
//!   emulated: the DSDT declares no `_S1`..`_S4`, and SLP_EN with another
//!   type does nothing. (QEMU and Bochs take type 1 as suspend to RAM and
//!   resume through a reset with WAK_STS/RSM_STS and PWRBTN_STS set.)
//! * SLP_EN acts in whichever byte write carries it, with the SLP_TYP of
//!   that byte (both sit in bits 15:8), so a 16-bit write split into bytes
//!   works; Bochs decodes PM1_CNT only as a 16-bit access at offset 4.
//! * The SCI is gated by SCI_EN (ACPI §4.8.2.1: with SCI_EN clear the events
//!   go to SMI, and this machine has no SMI); QEMU and Bochs drive the SCI
//!   from the status and enable bits alone.
//! * [`AcpiPmConfig::acpi_only`]: SCI_EN is set by power-on and reset, for a
//!   platform whose FADT has no SMI_CMD port (the ACPI-only mode OSPM then
//!   assumes; QEMU's `acpi_only`). Without it SCI_EN resets to 0 as on the
//!   PIIX4, where the firmware sets it through the APM control port (QEMU
//!   and Bochs: ACPI_ENABLE written to port 0xB2), which this device does
//!   not decode. Either way the guest can write it.
//! * Status bits sourced here: TMR_STS and PWRBTN_STS
//!   ([`AcpiPm::press_power_button`]). BM_STS, GBL_STS, RTC_STS,
//!   PWRBTNOR_STS and WAK_STS have no source on this machine (no bus-master
//!   monitor, SMI handler, RTC wake or resume) and read 0 (QEMU and Bochs
//!   keep any bit they ever set). PM1_EN keeps the four enables ACPI defines
//!   (TMR, GBL, PWRBTN, RTC), PM1_CNT SCI_EN, BM_RLD and SLP_TYP; other
//!   bits, and the write-only GBL_RLS and SLP_EN, read 0 (QEMU and Bochs
//!   store every bit but SLP_EN).
//! * TMR_STS sets at every change of the counter's top bit, whenever it is
//!   looked at: it is latched lazily, so no change is lost however long the
//!   status goes unread (QEMU and Bochs compare the time with one pending
//!   overflow time, which they move on only when the guest clears the bit,
//!   to the same effect).
//! * The PIIX4's other PM registers (GPSTS/GPEN at 0x0C, processor control,
//!   global and device control, GPIO, 0x0C..=0x3F) are not emulated: the
//!   FADT does not point at them. They read 0 and ignore writes (Bochs keeps
//!   what is written to most of them, with no effect).
//! * GPE0 (ACPI §4.8.4.1): 2 bytes of status (write 1 to clear) then 2 bytes
//!   of enable. No device of this machine raises a GPE yet;
//!   [`AcpiPm::set_gpe0_status`] is the input for one.
//! * Reset (the PIIX4's PCIRST#, [`AcpiPm::reset`]) clears the status,
//!   enable and control registers, GPE0 and the power-off request (QEMU's
//!   `piix4_reset`, Bochs's `reset`); the timer runs on, as theirs count the
//!   virtual clock.

mod timer;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_random;

pub use timer::{tick_time, ticks_at, TimerWidth, PM_TIMER_HZ};

/// The PIIX4's PM I/O block size (PMBA decodes 64 bytes).
pub const PM_BLOCK_LEN: u16 = 0x40;
/// QEMU pc's PM block base (the FADT's PM1a_EVT_BLK).
pub const QEMU_PM_BASE: u16 = 0x600;
/// QEMU pc's GPE0 block base and length.
pub const QEMU_GPE0_BASE: u16 = 0xafe0;
pub const GPE0_LEN: u16 = 4;
/// The SCI's ISA interrupt on the pc machine.
pub const SCI_IRQ: u8 = 9;

// Offsets in the PM block.
pub const PM1_STS: u16 = 0x00;
pub const PM1_EN: u16 = 0x02;
pub const PM1_CNT: u16 = 0x04;
pub const PM_TMR: u16 = 0x08;
/// Lengths of the blocks as the FADT declares them.
pub const PM1_EVT_LEN: u8 = 4;
pub const PM1_CNT_LEN: u8 = 2;
pub const PM_TMR_LEN: u8 = 4;

/// PM1_STS and PM1_EN bits (ACPI §4.8.3.1).
pub const TMR: u16 = 1 << 0;
pub const BM: u16 = 1 << 4;
pub const GBL: u16 = 1 << 5;
pub const PWRBTN: u16 = 1 << 8;
pub const RTC: u16 = 1 << 10;
pub const WAK: u16 = 1 << 15;
/// The status bits something on this machine can set.
pub const STS_SOURCED: u16 = TMR | PWRBTN;
/// The enable bits ACPI defines for PM1_EN.
pub const EN_BITS: u16 = TMR | GBL | PWRBTN | RTC;

/// PM1_CNT bits (ACPI §4.8.3.2).
pub const SCI_EN: u16 = 1 << 0;
pub const BM_RLD: u16 = 1 << 1;
pub const GBL_RLS: u16 = 1 << 2;
pub const SLP_TYP_SHIFT: u32 = 10;
pub const SLP_TYP: u16 = 7 << SLP_TYP_SHIFT;
pub const SLP_EN: u16 = 1 << 13;
/// The PM1_CNT bits that hold a value.
pub const CNT_STORED: u16 = SCI_EN | BM_RLD | SLP_TYP;
/// The sleep type of soft off (S5) on the PIIX4 (SUS_TYP 000), which the
/// DSDT's `_S5` package gives.
pub const SLP_TYP_S5: u8 = 0;

/// How the block is built into the machine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AcpiPmConfig {
    /// SCI_EN is set by power-on and reset (no SMI_CMD in the FADT).
    pub acpi_only: bool,
    /// The PM timer's width (24 unless the FADT sets TMR_VAL_EXT).
    pub timer_width: TimerWidth,
}

impl Default for AcpiPmConfig {
    /// QEMU's pc as a directly booted kernel finds it: ACPI mode already
    /// on, a 24-bit timer.
    fn default() -> AcpiPmConfig {
        AcpiPmConfig {
            acpi_only: true,
            timer_width: TimerWidth::Bits24,
        }
    }
}

/// Everything the block holds; enough to resume it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcpiPmState {
    /// PM1_STS bits latched so far (TMR_STS for the top-bit changes up to
    /// `timer_changes`; later changes are computed when seen).
    pub pm1_sts: u16,
    pub pm1_en: u16,
    /// PM1_CNT's stored bits ([`CNT_STORED`]).
    pub pm1_cnt: u16,
    /// The number of changes of the timer's top bit accounted in `pm1_sts`.
    /// Any other count at a later time means a change happened since.
    pub timer_changes: u64,
    pub gpe0_sts: u16,
    pub gpe0_en: u16,
    /// SLP_EN was written with the soft-off sleep type.
    pub poweroff_requested: bool,
}

/// The PIIX4 PM I/O block and a GPE0 block.
#[derive(Debug)]
pub struct AcpiPm {
    config: AcpiPmConfig,
    state: AcpiPmState,
}

impl AcpiPm {
    /// The power-on state, at time 0.
    pub fn new(config: AcpiPmConfig) -> AcpiPm {
        AcpiPm {
            config,
            state: AcpiPm::reset_state(config, 0),
        }
    }

    fn reset_state(config: AcpiPmConfig, now: u64) -> AcpiPmState {
        AcpiPmState {
            pm1_sts: 0,
            pm1_en: 0,
            pm1_cnt: if config.acpi_only { SCI_EN } else { 0 },
            timer_changes: config.timer_width.msb_changes(ticks_at(now)),
            gpe0_sts: 0,
            gpe0_en: 0,
            poweroff_requested: false,
        }
    }

    /// The system reset at `now`: see the module notes.
    pub fn reset(&mut self, now: u64) {
        self.state = AcpiPm::reset_state(self.config, now);
    }

    pub fn config(&self) -> AcpiPmConfig {
        self.config
    }

    /// The PM timer's value at `now`.
    pub fn timer(&self, now: u64) -> u32 {
        self.config.timer_width.value(ticks_at(now))
    }

    /// PM1_STS as read at `now`.
    pub fn pm1_status(&self, now: u64) -> u16 {
        let changes = self.config.timer_width.msb_changes(ticks_at(now));
        let timer = if changes != self.state.timer_changes {
            TMR
        } else {
            0
        };
        self.state.pm1_sts | timer
    }

    /// Latch the timer's status up to `now`.
    fn advance(&mut self, now: u64) {
        self.state.pm1_sts = self.pm1_status(now);
        self.state.timer_changes = self.config.timer_width.msb_changes(ticks_at(now));
    }

    /// A byte read at `offset` in the PM block.
    pub fn read(&mut self, offset: u16, now: u64) -> u8 {
        let shift = 8 * u32::from(offset & 1);
        let word = match offset & !1 {
            PM1_STS => self.pm1_status(now),
            PM1_EN => self.state.pm1_en,
            PM1_CNT => self.state.pm1_cnt,
            PM_TMR | 0x0a => {
                let timer = self.timer(now);
                let byte = u32::from(offset - PM_TMR) * 8;
                return (timer >> byte) as u8;
            }
            _ => return 0,
        };
        (word >> shift) as u8
    }

    /// A byte written at `offset` in the PM block.
    pub fn write(&mut self, offset: u16, value: u8, now: u64) {
        let shift = 8 * u32::from(offset & 1);
        let bits = u16::from(value) << shift;
        let keep = !(0xffu16 << shift);
        match offset & !1 {
            PM1_STS => {
                self.advance(now);
                self.state.pm1_sts &= !bits;
            }
            PM1_EN => {
                self.advance(now);
                self.state.pm1_en = (self.state.pm1_en & keep | bits) & EN_BITS;
            }
            PM1_CNT => self.write_control(self.state.pm1_cnt & keep | bits),
            _ => {}
        }
    }

    /// PM1_CNT: store the control bits, and with SLP_EN enter the sleep
    /// type written with it (ACPI §4.8.3.2.1: SLP_TYP and SLP_EN may come in
    /// one write; the byte holding SLP_EN holds SLP_TYP too).
    fn write_control(&mut self, value: u16) {
        self.state.pm1_cnt = value & CNT_STORED;
        if value & SLP_EN != 0 {
            let sleep_type = ((value & SLP_TYP) >> SLP_TYP_SHIFT) as u8;
            if sleep_type == SLP_TYP_S5 {
                self.state.poweroff_requested = true;
            }
        }
    }

    /// A byte read at `offset` in the GPE0 block: status, then enable.
    pub fn read_gpe0(&self, offset: u16) -> u8 {
        match offset {
            0 | 1 => (self.state.gpe0_sts >> (8 * offset)) as u8,
            2 | 3 => (self.state.gpe0_en >> (8 * (offset - 2))) as u8,
            _ => 0,
        }
    }

    /// A byte written at `offset` in the GPE0 block: status bits are
    /// cleared by writing 1, enable bits written.
    pub fn write_gpe0(&mut self, offset: u16, value: u8) {
        let s = &mut self.state;
        match offset {
            0 | 1 => s.gpe0_sts &= !(u16::from(value) << (8 * offset)),
            2 | 3 => {
                let shift = 8 * (offset - 2);
                s.gpe0_en = s.gpe0_en & !(0xff << shift) | u16::from(value) << shift;
            }
            _ => {}
        }
    }

    /// A general-purpose event `bit` (0..=15) occurred: its status sets.
    /// Other bit numbers do not exist and are ignored.
    pub fn set_gpe0_status(&mut self, bit: u8) {
        if let Some(mask) = 1u16.checked_shl(u32::from(bit)) {
            self.state.gpe0_sts |= mask;
        }
    }

    /// The power button was pressed: PWRBTN_STS sets.
    pub fn press_power_button(&mut self) {
        self.state.pm1_sts |= PWRBTN;
    }

    /// The guest asked for soft off (SLP_EN with the `_S5` type).
    pub fn poweroff_requested(&self) -> bool {
        self.state.poweroff_requested
    }

    /// The SCI line's level at `now` (high = asserted).
    pub fn sci(&self, now: u64) -> bool {
        let s = &self.state;
        let fixed = self.pm1_status(now) & s.pm1_en & EN_BITS != 0;
        let gpe = s.gpe0_sts & s.gpe0_en != 0;
        s.pm1_cnt & SCI_EN != 0 && (fixed || gpe)
    }

    /// The first time after `now` at which the SCI can rise on its own: the
    /// next change of the timer's top bit, when the timer's overflow event
    /// is enabled, its status clear and the SCI low. None if nothing can.
    pub fn next_event(&self, now: u64) -> Option<u64> {
        let s = &self.state;
        let timer_armed = s.pm1_cnt & SCI_EN != 0 && s.pm1_en & TMR != 0;
        if !timer_armed || self.sci(now) {
            return None;
        }
        let width = self.config.timer_width;
        let next = width.msb_changes(ticks_at(now)).checked_add(1)?;
        tick_time(width.change_tick(next)?)
    }

    pub fn state(&self) -> AcpiPmState {
        self.state.clone()
    }

    /// Resume from `s`. Bits no register holds are dropped; a timer change
    /// count that is not the one at the next access just sets TMR_STS
    /// then (a change happened since the snapshot, as far as the block can
    /// tell).
    pub fn restore(&mut self, s: &AcpiPmState) {
        self.state = s.clone();
        let st = &mut self.state;
        st.pm1_sts &= STS_SOURCED;
        st.pm1_en &= EN_BITS;
        st.pm1_cnt &= CNT_STORED;
    }
}

//! The xAPIC register page (SDM 11.4.1, Table 11-1): decoding of MMIO
//! reads and writes at offsets from the page's base. Each register is the
//! first dword of a 16-byte slot; see the module notes in `mod.rs` for
//! what other access sizes do.

use super::vectors::{arbitration_priority, processor_priority};
use super::{
    BusMessage, Lapic, ESR_ILLEGAL_REGISTER, LVT_ENTRIES, LVT_LINT0, LVT_MASKED, LVT_REMOTE_IRR,
    LVT_TIMER, LVT_WRITABLE, PAGE_SIZE, SVR_ENABLE, SVR_WRITABLE, VERSION,
};

// Register offsets.
pub const REG_ID: u64 = 0x020;
pub const REG_VERSION: u64 = 0x030;
pub const REG_TPR: u64 = 0x080;
pub const REG_APR: u64 = 0x090;
pub const REG_PPR: u64 = 0x0a0;
pub const REG_EOI: u64 = 0x0b0;
pub const REG_RRD: u64 = 0x0c0;
pub const REG_LDR: u64 = 0x0d0;
pub const REG_DFR: u64 = 0x0e0;
pub const REG_SVR: u64 = 0x0f0;
pub const REG_ISR: u64 = 0x100;
pub const REG_TMR: u64 = 0x180;
pub const REG_IRR: u64 = 0x200;
pub const REG_ESR: u64 = 0x280;
pub const REG_ICR_LOW: u64 = 0x300;
pub const REG_ICR_HIGH: u64 = 0x310;
pub const REG_LVT: u64 = 0x320;
pub const REG_INITIAL_COUNT: u64 = 0x380;
pub const REG_CURRENT_COUNT: u64 = 0x390;
pub const REG_DIVIDE: u64 = 0x3e0;

/// The 32-bit register at slot `slot` (16-byte aligned): None for a
/// slot holding no register.
enum Reg {
    Id,
    Version,
    Tpr,
    Apr,
    Ppr,
    Eoi,
    Rrd,
    Ldr,
    Dfr,
    Svr,
    Isr(usize),
    Tmr(usize),
    Irr(usize),
    Esr,
    IcrLow,
    IcrHigh,
    Lvt(usize),
    InitialCount,
    CurrentCount,
    Divide,
}

fn decode(slot: u64) -> Option<Reg> {
    let index = |base: u64| ((slot - base) >> 4) as usize;
    Some(match slot {
        REG_ID => Reg::Id,
        REG_VERSION => Reg::Version,
        REG_TPR => Reg::Tpr,
        REG_APR => Reg::Apr,
        REG_PPR => Reg::Ppr,
        REG_EOI => Reg::Eoi,
        REG_RRD => Reg::Rrd,
        REG_LDR => Reg::Ldr,
        REG_DFR => Reg::Dfr,
        REG_SVR => Reg::Svr,
        0x100..=0x170 => Reg::Isr(index(REG_ISR)),
        0x180..=0x1f0 => Reg::Tmr(index(REG_TMR)),
        0x200..=0x270 => Reg::Irr(index(REG_IRR)),
        REG_ESR => Reg::Esr,
        REG_ICR_LOW => Reg::IcrLow,
        REG_ICR_HIGH => Reg::IcrHigh,
        0x320..=0x370 => Reg::Lvt(index(REG_LVT)),
        REG_INITIAL_COUNT => Reg::InitialCount,
        REG_CURRENT_COUNT => Reg::CurrentCount,
        REG_DIVIDE => Reg::Divide,
        _ => return None,
    })
}

impl Lapic {
    /// An MMIO read of `data.len()` bytes at `offset` in the page, at
    /// `now`. Bytes outside a register's first dword read 0, as does
    /// everything while the unit is globally disabled (its page is then
    /// not decoded: the machine should not route accesses here).
    pub fn read(&mut self, offset: u64, data: &mut [u8], now: u64) {
        data.fill(0);
        if !self.enabled() {
            return;
        }
        self.update(now);
        let mut cached: Option<(u64, u32)> = None;
        for (i, byte) in data.iter_mut().enumerate() {
            let at = offset.saturating_add(i as u64);
            if at >= PAGE_SIZE || at & 0xc != 0 {
                continue;
            }
            let slot = at & !0xf;
            let value = match cached {
                Some((s, v)) if s == slot => v,
                _ => {
                    let v = self.read_register(slot, now);
                    cached = Some((slot, v));
                    v
                }
            };
            *byte = (value >> (8 * (at & 3))) as u8;
        }
    }

    /// The register at `slot`; an offset with none sets "illegal register
    /// address" and reads 0.
    fn read_register(&mut self, slot: u64, now: u64) -> u32 {
        let Some(reg) = decode(slot) else {
            self.raise_error(ESR_ILLEGAL_REGISTER);
            return 0;
        };
        let s = &self.state;
        match reg {
            Reg::Id => u32::from(s.id) << 24,
            Reg::Version => VERSION,
            Reg::Tpr => u32::from(s.tpr),
            Reg::Apr => u32::from(arbitration_priority(s.tpr, &s.isr, &s.irr)),
            Reg::Ppr => u32::from(processor_priority(s.tpr, &s.isr)),
            // Write-only (EOI) or without a function on the xAPIC (RRD).
            Reg::Eoi | Reg::Rrd => 0,
            Reg::Ldr => u32::from(s.ldr) << 24,
            Reg::Dfr => u32::from(s.dfr_model) << 28 | 0x0fff_ffff,
            Reg::Svr => s.svr,
            Reg::Isr(i) => s.isr[i],
            Reg::Tmr(i) => s.tmr[i],
            Reg::Irr(i) => s.irr[i],
            Reg::Esr => s.esr,
            Reg::IcrLow => s.icr_low,
            Reg::IcrHigh => s.icr_high,
            Reg::Lvt(i) => {
                let remote = i >= LVT_LINT0 && s.lint_remote_irr.get(i - LVT_LINT0) == Some(&true);
                s.lvt[i] | if remote { LVT_REMOTE_IRR } else { 0 }
            }
            Reg::InitialCount => s.timer.initial_count,
            Reg::CurrentCount => self.current_count(now),
            Reg::Divide => s.timer.divide_config,
        }
    }

    /// An MMIO write of `data` at `offset` in the page, at `now`. Only a
    /// write covering a register's first dword counts (its low 4 bytes);
    /// see the module notes. Returns what the write puts on the bus: the
    /// EOI of a level-triggered vector, or an IPI.
    pub fn write(&mut self, offset: u64, data: &[u8], now: u64) -> Option<BusMessage> {
        if !self.enabled() || offset >= PAGE_SIZE || offset & 0xf != 0 {
            return None;
        }
        let bytes: [u8; 4] = data.get(..4)?.try_into().ok()?;
        self.update(now);
        self.write_register(offset, u32::from_le_bytes(bytes), now)
    }

    fn write_register(&mut self, slot: u64, value: u32, now: u64) -> Option<BusMessage> {
        let Some(reg) = decode(slot) else {
            self.raise_error(ESR_ILLEGAL_REGISTER);
            return None;
        };
        let s = &mut self.state;
        match reg {
            Reg::Id => s.id = (value >> 24) as u8,
            Reg::Tpr => s.tpr = value as u8,
            Reg::Eoi => return self.eoi().map(BusMessage::Eoi),
            Reg::Ldr => s.ldr = (value >> 24) as u8,
            Reg::Dfr => s.dfr_model = (value >> 28) as u8,
            Reg::Svr => {
                s.svr = value & SVR_WRITABLE;
                if value & SVR_ENABLE == 0 {
                    for entry in &mut s.lvt {
                        *entry |= LVT_MASKED;
                    }
                }
            }
            Reg::Esr => s.esr = std::mem::take(&mut s.esr_pending),
            Reg::IcrLow => return self.write_icr_low(value),
            Reg::IcrHigh => self.write_icr_high(value),
            Reg::Lvt(i) => self.write_lvt(i, value, now),
            Reg::InitialCount => self.write_initial_count(value, now),
            Reg::Divide => self.write_divide_config(value, now),
            // Read-only registers ignore writes.
            Reg::Version
            | Reg::Apr
            | Reg::Ppr
            | Reg::Rrd
            | Reg::Isr(_)
            | Reg::Tmr(_)
            | Reg::Irr(_)
            | Reg::CurrentCount => {}
        }
        None
    }

    /// A write of LVT entry `i`: its writable bits, the mask forced while
    /// the unit is software-disabled. A LINT entry that is no longer fixed
    /// level-triggered drops its remote IRR; one that is samples its pin.
    fn write_lvt(&mut self, i: usize, value: u32, now: u64) {
        if i >= LVT_ENTRIES {
            return;
        }
        let mut value = value & LVT_WRITABLE[i];
        if !self.software_enabled() {
            value |= LVT_MASKED;
        }
        if i == LVT_TIMER {
            self.write_lvt_timer(value, now);
            return;
        }
        self.state.lvt[i] = value;
        if let Some(pin) = i.checked_sub(LVT_LINT0).filter(|&p| p < 2) {
            if !self.lint_is_fixed_level(pin) {
                self.state.lint_remote_irr[pin] = false;
            }
            self.sample_level_lint(pin);
        }
    }
}

//! The local APIC of one processor in xAPIC mode (Intel SDM Vol. 3A
//! chapter 11, "Advanced Programmable Interrupt Controller (APIC)"): the
//! 4 KiB register page (11.4.1, Table 11-1), the IA32_APIC_BASE MSR
//! (11.4.4), the local vector table and the LINT0/LINT1 pins (11.5), the
//! timer (11.5.4), the error status register (11.5.3), interprocessor
//! interrupts through the ICR (11.6), and interrupt acceptance, priority,
//! acknowledge and EOI (11.8). It presents itself as QEMU's `apic` does
//! (version 0x00050014: an xAPIC with six LVT entries), so guests written
//! for QEMU's `pc` machine find what they expect.
//!
//! The unit is a pure state machine. Time is the machine's virtual clock
//! in nanoseconds (`now`), and the timer runs on a 1 GHz bus clock (one
//! tick per nanosecond, QEMU's `APIC_BUS_CYCLE_NS`), so its counts are
//! exact functions of `now` whatever the call pattern. What it asks of
//! its processor is [`Lapic::pending`]: a signal the core latches itself
//! (SMI, INIT, a start-up IPI, NMI; drained with [`Lapic::take_signal`]),
//! then a maskable interrupt (ExtINT: the CPU runs the 8259A's INTA cycle;
//! or a fixed vector: the CPU calls [`Lapic::acknowledge`]). The output
//! to the core is a level ([`Lapic::irq`]) the machine polls after every
//! access and at every [`Lapic::next_event`], after [`Lapic::update`].
//! What it sends to other agents comes back as a [`BusMessage`]: the EOI
//! of a level-triggered vector for the IOAPICs, and IPIs for the other
//! local APICs (none on a uniprocessor).
//!
//! Choices where the SDM leaves a gap or the reference emulators differ
//! (QEMU `hw/intc/apic.c`, `apic_common.c`; Bochs `cpu/apic.cc`):
//!
//! * Access sizes (11.4.1 defines only 32-bit accesses to 16-byte aligned
//!   registers). A read of any bytes of a register's first dword returns
//!   those bytes of the register (Bochs; QEMU reads 0 for accesses under
//!   4 bytes): a read changes nothing but the ESR, so answering with the
//!   bytes the bus asked for is harmless. Bytes 4–15 of a 16-byte slot
//!   are not the register and read 0 (Bochs answers with the register
//!   there too). A write takes effect only if it covers the register's
//!   dword at the aligned offset (4 bytes, or 8 of which the low 4
//!   count); narrower or misaligned writes are ignored (QEMU ignores
//!   writes under 4 bytes; Bochs stops the emulator, which a guest must
//!   never be able to do).
//! * Offsets that hold no register (including 0x2F0, the CMCI entry this
//!   version does not have, and 0x3F0, x2APIC's SELF IPI) read 0, ignore
//!   writes, and set the ESR's "illegal register address" bit (QEMU).
//!   The remote read register (0x0C0) reads 0 without an error: Table 11-1
//!   lists it, but xAPIC has no remote read (QEMU flags it illegal).
//! * The APIC ID is writable (the SDM makes it model specific; QEMU
//!   allows it, Bochs does not).
//! * Power-on and RESET# mask every LVT entry, LINT0 included (11.4.7.1),
//!   as QEMU 7.2 leaves them (checked: a `-bios` ROM that programs the
//!   8259A, unmasks an IRQ and sets IF gets no interrupt from QEMU until it
//!   sets LINT0 to ExtINT or clears IA32_APIC_BASE.EN). Firmware sets up
//!   virtual-wire mode first (MP spec 3.6.2.2: LINT0 ExtINT, LINT1 NMI),
//!   as SeaBIOS does. Software disabling the unit (an SVR write with bit 8
//!   clear) sets every mask, and LVT writes while disabled cannot clear
//!   one (11.4.7.2; QEMU enforces neither). An INIT reset masks every
//!   entry (11.4.7.3, QEMU too).
//! * While software-disabled the unit still takes NMI, SMI, INIT and
//!   start-up messages but accepts no fixed or lowest-priority interrupt
//!   (11.4.7.2; QEMU accepts them into the IRR); what is already in the
//!   IRR stays deliverable ("held and require masking or handling by the
//!   CPU"; QEMU delivers nothing while disabled).
//! * Clearing IA32_APIC_BASE.EN returns the unit to its power-on register
//!   state (11.4.3 allows it; so does re-enabling on the xAPIC, where QEMU
//!   refuses it until a reset). While EN = 0 the unit decodes no
//!   registers (the machine unmaps the page: see [`BaseUpdate`]), takes no
//!   bus messages, and its pins act as the processor's own (11.4.3, the
//!   "through-local-APIC" wiring): LINT0 is INTR, so the PIC's output
//!   level is reported as [`Pending::ExtInt`] and the CPU runs the PIC's
//!   INTA cycle when IF = 1, and a rising edge on LINT1 is an NMI. The
//!   BSP flag cannot be written (QEMU); EXTD (x2APIC) is reserved since
//!   CPUID does not advertise x2APIC, so setting it is #GP.
//! * The timer counts down once per `divide` bus ticks from the initial
//!   count; when the count reaches 0 the interrupt is raised, and in
//!   periodic mode the count is reloaded at that instant, so the period is
//!   `initial × divide` ns and a periodic count never reads 0 (SDM 11.5.4,
//!   Bochs; QEMU's period is one tick longer and its count reads 0 for
//!   a tick). Changing the divider while counting keeps the current count
//!   and counts on at the new rate from the write (QEMU recomputes the
//!   elapsed count from the start at the new rate, so the count jumps);
//!   changing the LVT's mode keeps the count and its phase. TSC-deadline
//!   mode is not implemented: LVT timer bit 18 is reserved (reads 0) and
//!   CPUID.1:ECX.TSC_DEADLINE must stay clear.
//! * Delivery status bits (LVT and ICR bit 12) always read 0 (idle):
//!   delivery to the core and IPIs complete within the access that starts
//!   them (Bochs; QEMU stores whatever was written to the LVT).
//! * IPIs are accepted as edge-triggered whatever the ICR's trigger bit:
//!   on the xAPIC that bit only qualifies INIT level de-assert (11.6.1),
//!   and INIT level de-assert itself does nothing (not supported on the
//!   Pentium 4 and later; QEMU resets arbitration IDs, Bochs ignores it).
//!   A fixed or lowest-priority IPI with a vector below 16 sets "send
//!   illegal vector" and is still sent; each receiver then flags "receive
//!   illegal vector" and drops it (11.5.3 names both). An IPI nobody
//!   accepts sets no error: the xAPIC has no send accept error (Bochs sets
//!   it as a P6 does; QEMU does nothing either). Reserved delivery modes
//!   (ICR 011, 111) send nothing.
//! * Logical destinations: flat model (DFR 0xF) matches when MDA & LDR is
//!   non-zero; cluster model (DFR 0x0) when the cluster (MDA[7:4]) is the
//!   unit's or 0xF (broadcast) and the member bits intersect. Other DFR
//!   models are reserved and match nothing (Bochs stops; QEMU ignores).
//! * Errors: a newly set ESR bit raises the LVT error interrupt; a vector
//!   below 16 in it flags "receive illegal vector" once more, which is
//!   then already set and raises nothing (no loop).
//! * LINT pins: the polarity bit inverts the pin; fixed level-triggered
//!   delivery (LINT0 only: 11.5.1 does not support level for LINT1) sets
//!   the entry's remote IRR when the vector is accepted, and an EOI of that
//!   vector clears it and samples the pin again (QEMU has no remote IRR
//!   for LINT). Edges are seen only while the entry is unmasked; NMI, SMI
//!   and INIT are edge-triggered, ExtINT level-triggered (11.5.1).
//!   Reserved LVT delivery modes deliver nothing.
//! * The arbitration priority register follows Figure 11-15 (Bochs; QEMU
//!   reads 0).
//! * The thermal and performance-counter LVT entries are registers only:
//!   there is no thermal sensor or counter to raise them (as in QEMU).
//! * Resets: power-on and RESET# ([`Lapic::new`], [`Lapic::reset`]) set
//!   IA32_APIC_BASE to 0xFEE00000 with EN (and BSP on the bootstrap
//!   processor), the hardware APIC ID, and every register to its 11.4.7.1
//!   value; an INIT reset ([`Lapic::init_reset`], 11.4.7.3) does the same
//!   but keeps the APIC ID (as software may have written it) and
//!   IA32_APIC_BASE, and masks LINT0 too. Neither changes the pin levels,
//!   which the board drives.
//!
//! What CPUID must say to match: CPUID.1:EDX.APIC (bit 9) set while
//! IA32_APIC_BASE.EN = 1 and clear while it is 0 (11.4.3);
//! CPUID.1:EBX[31:24] the initial APIC ID; CPUID.1:ECX.x2APIC (bit 21) and
//! TSC_DEADLINE (bit 24) clear.

mod interrupts;
mod ipi;
mod regs;
mod timer;
mod vectors;

pub use ipi::{DeliveryMode, Destination, Ipi};
pub use timer::TimerState;

/// The default base of the register page.
pub const DEFAULT_BASE: u64 = 0xfee0_0000;
/// The size of the register page.
pub const PAGE_SIZE: u64 = 0x1000;
/// IA32_APIC_BASE's index.
pub const APIC_BASE_MSR: u32 = 0x1b;
/// IA32_APIC_BASE: this processor is the bootstrap processor.
pub const BASE_BSP: u64 = 1 << 8;
/// IA32_APIC_BASE: x2APIC mode (not supported here).
pub const BASE_EXTD: u64 = 1 << 10;
/// IA32_APIC_BASE: the APIC is globally enabled.
pub const BASE_EN: u64 = 1 << 11;
/// The version register: version 0x14 (an integrated xAPIC), maximum LVT
/// entry 5 (timer, thermal, performance, LINT0, LINT1, error: no CMCI),
/// no EOI-broadcast suppression (bit 24 clear).
pub const VERSION: u32 = 0x0005_0014;

/// LVT entries, in register order from offset 0x320.
pub const LVT_TIMER: usize = 0;
pub const LVT_THERMAL: usize = 1;
pub const LVT_PERF: usize = 2;
pub const LVT_LINT0: usize = 3;
pub const LVT_LINT1: usize = 4;
pub const LVT_ERROR: usize = 5;
pub const LVT_ENTRIES: usize = 6;

// LVT entry fields (Figure 11-8).
pub const LVT_VECTOR: u32 = 0xff;
pub const LVT_DELIVERY_MODE: u32 = 0x700;
pub const LVT_POLARITY_LOW: u32 = 1 << 13;
pub const LVT_REMOTE_IRR: u32 = 1 << 14;
pub const LVT_LEVEL: u32 = 1 << 15;
pub const LVT_MASKED: u32 = 1 << 16;
pub const LVT_TIMER_PERIODIC: u32 = 1 << 17;
/// LVT delivery modes (bits 10:8).
pub const DM_FIXED: u32 = 0;
pub const DM_SMI: u32 = 2;
pub const DM_NMI: u32 = 4;
pub const DM_INIT: u32 = 5;
pub const DM_EXTINT: u32 = 7;
/// The bits software can write in each LVT entry: the timer and error
/// entries have no delivery mode (always fixed) and the timer its mode
/// bit; only the LINT entries have polarity and trigger mode; delivery
/// status and remote IRR are read-only.
pub const LVT_WRITABLE: [u32; LVT_ENTRIES] = [
    0x0003_00ff,
    0x0001_07ff,
    0x0001_07ff,
    0x0001_a7ff,
    0x0001_a7ff,
    0x0001_00ff,
];

// Spurious-interrupt vector register (Figure 11-23).
pub const SVR_VECTOR: u32 = 0xff;
pub const SVR_ENABLE: u32 = 1 << 8;
pub const SVR_FOCUS_DISABLE: u32 = 1 << 9;
pub const SVR_WRITABLE: u32 = 0x3ff;

// Error status register bits (Figure 11-9) that an xAPIC has.
pub const ESR_SEND_ILLEGAL_VECTOR: u32 = 1 << 5;
pub const ESR_RECEIVE_ILLEGAL_VECTOR: u32 = 1 << 6;
pub const ESR_ILLEGAL_REGISTER: u32 = 1 << 7;
pub const ESR_DEFINED: u32 = 0xe0;

/// The ICR's writable bits (Figure 11-12): vector, delivery mode,
/// destination mode, level, trigger mode, shorthand; and the destination
/// field of the high dword.
pub const ICR_LOW_WRITABLE: u32 = 0x000c_cfff;
pub const ICR_HIGH_WRITABLE: u32 = 0xff00_0000;

/// How an interrupt was signalled to the IRR: an edge-triggered interrupt
/// clears the vector's TMR bit on acceptance, a level-triggered one sets
/// it and its EOI is broadcast.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trigger {
    Edge,
    Level,
}

/// What the unit asks of its processor, most urgent first (SDM 6.9:
/// SMI and INIT before NMI before maskable interrupts).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// SMI: the core latches it (taken with [`Lapic::take_signal`]).
    Smi,
    /// INIT: the core does an INIT reset, and the machine calls
    /// [`Lapic::init_reset`] on this unit.
    Init,
    /// A start-up IPI with its vector (the start page number); the core
    /// ignores it unless it waits for SIPI.
    Startup(u8),
    /// NMI: the core latches it (NMI blocking is the core's).
    Nmi,
    /// ExtINT (maskable, not subject to the TPR): with IF = 1 the CPU
    /// takes the vector from the 8259A's INTA cycle, then, if it came from
    /// an ExtINT message, tells [`Lapic::acknowledge_extint`].
    ExtInt,
    /// A fixed vector above the processor priority: with IF = 1 the CPU
    /// takes it through [`Lapic::acknowledge`].
    Fixed(u8),
}

/// What the unit puts on the system bus for other agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BusMessage {
    /// The EOI of a level-triggered vector: the IOAPICs clear the remote
    /// IRR of the entries with this vector.
    Eoi(u8),
    /// An IPI for the other local APICs (this unit's own part is done).
    Ipi(Ipi),
}

/// An attempted IA32_APIC_BASE write that the processor answers with #GP(0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GpFault;

/// The effect of an IA32_APIC_BASE write on the address space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseUpdate {
    /// Where the register page is decoded now: Some(base) while EN = 1.
    pub window: Option<u64>,
    /// The window differs from before: the machine maps it anew.
    pub moved: bool,
}

/// What is fixed when the processor is built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LapicConfig {
    /// The APIC ID the hardware assigns at power-on.
    pub initial_id: u8,
    /// Is this the bootstrap processor (IA32_APIC_BASE.BSP)?
    pub bsp: bool,
    /// The processor's physical address width (CPUID.80000008H:EAX[7:0]),
    /// 36 to 52; the base address bits above it are reserved.
    pub phys_addr_bits: u8,
}

impl Default for LapicConfig {
    /// The uniprocessor PC's: APIC ID 0, the BSP, 40 address bits.
    fn default() -> LapicConfig {
        LapicConfig {
            initial_id: 0,
            bsp: true,
            phys_addr_bits: 40,
        }
    }
}

/// Signals for the core, latched until the machine takes them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Signals {
    pub smi: bool,
    pub init: bool,
    pub startup: Option<u8>,
    pub nmi: bool,
    /// An ExtINT message (IOAPIC or MSI) awaits the CPU's INTA.
    pub extint: bool,
}

/// Everything the unit holds; enough to resume it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LapicState {
    /// The IA32_APIC_BASE MSR.
    pub apic_base: u64,
    pub id: u8,
    pub tpr: u8,
    /// The logical destination register's bits 31:24.
    pub ldr: u8,
    /// The destination format register's model, bits 31:28.
    pub dfr_model: u8,
    /// The spurious-interrupt vector register (bits 9:0).
    pub svr: u32,
    /// Bit `v % 32` of word `v / 32` is vector `v`.
    pub irr: [u32; 8],
    pub isr: [u32; 8],
    pub tmr: [u32; 8],
    /// What the ESR reads: the errors latched by the last ESR write.
    pub esr: u32,
    /// The errors detected since the last ESR write.
    pub esr_pending: u32,
    pub icr_low: u32,
    pub icr_high: u32,
    /// The LVT entries as written (delivery status and remote IRR not
    /// included: remote IRR is `lint_remote_irr`).
    pub lvt: [u32; LVT_ENTRIES],
    pub lint_remote_irr: [bool; 2],
    /// The electrical levels on the LINT0 and LINT1 pins.
    pub lint_levels: [bool; 2],
    pub timer: TimerState,
    pub signals: Signals,
}

/// One processor's local APIC.
#[derive(Debug)]
pub struct Lapic {
    config: LapicConfig,
    state: LapicState,
}

impl Default for Lapic {
    fn default() -> Lapic {
        Lapic::new(LapicConfig::default())
    }
}

impl Lapic {
    /// Power-on at time 0 (11.4.7.1, with QEMU's virtual-wire LINT0 on the
    /// BSP: see the module notes).
    pub fn new(config: LapicConfig) -> Lapic {
        let config = LapicConfig {
            phys_addr_bits: config.phys_addr_bits.clamp(36, 52),
            ..config
        };
        let bsp = if config.bsp { BASE_BSP } else { 0 };
        Lapic {
            config,
            state: power_on_state(&config, DEFAULT_BASE | BASE_EN | bsp, [false; 2], 0),
        }
    }

    /// RESET# at `now`: the power-on state; the pins keep the levels the
    /// board drives.
    pub fn reset(&mut self, now: u64) {
        let bsp = if self.config.bsp { BASE_BSP } else { 0 };
        let levels = self.state.lint_levels;
        self.state = power_on_state(&self.config, DEFAULT_BASE | BASE_EN | bsp, levels, now);
    }

    /// An INIT reset (INIT# or an INIT IPI) at `now`: the power-on state
    /// except that the APIC ID and IA32_APIC_BASE are kept and every LVT
    /// entry is masked (11.4.7.3).
    pub fn init_reset(&mut self, now: u64) {
        let s = &self.state;
        let (id, base, levels) = (s.id, s.apic_base, s.lint_levels);
        self.state = power_on_state(&self.config, base, levels, now);
        self.state.id = id;
        self.state.lvt[LVT_LINT0] = LVT_MASKED;
    }

    pub fn config(&self) -> LapicConfig {
        self.config
    }

    /// IA32_APIC_BASE (RDMSR 0x1B).
    pub fn apic_base(&self) -> u64 {
        self.state.apic_base
    }

    /// Is the unit globally enabled (IA32_APIC_BASE.EN)?
    pub fn enabled(&self) -> bool {
        self.state.apic_base & BASE_EN != 0
    }

    /// Is the unit software-enabled (SVR bit 8)?
    pub fn software_enabled(&self) -> bool {
        self.state.svr & SVR_ENABLE != 0
    }

    /// Where the register page is decoded: the base while EN = 1.
    pub fn window(&self) -> Option<u64> {
        self.enabled()
            .then_some(self.state.apic_base & self.base_mask())
    }

    fn base_mask(&self) -> u64 {
        ((1u64 << self.config.phys_addr_bits) - 1) & !(PAGE_SIZE - 1)
    }

    /// WRMSR to IA32_APIC_BASE at `now`. Reserved bits (0–7, 9, EXTD, and
    /// the base above the physical address width) are #GP(0); BSP is
    /// read-only. Clearing EN returns the unit to its power-on register
    /// state, disabled until EN is set again.
    pub fn set_apic_base(&mut self, value: u64, now: u64) -> Result<BaseUpdate, GpFault> {
        let writable = BASE_EN | self.base_mask();
        if value & !(writable | BASE_BSP) != 0 {
            return Err(GpFault);
        }
        let before = self.window();
        let base = value & writable | self.state.apic_base & BASE_BSP;
        if self.enabled() && base & BASE_EN == 0 {
            let levels = self.state.lint_levels;
            self.state = power_on_state(&self.config, base, levels, now);
        } else {
            self.update(now);
            self.state.apic_base = base;
        }
        let window = self.window();
        Ok(BaseUpdate {
            window,
            moved: window != before,
        })
    }

    /// The TPR (offset 0x80).
    pub fn tpr(&self) -> u8 {
        self.state.tpr
    }

    pub fn set_tpr(&mut self, value: u8) {
        self.state.tpr = value;
    }

    /// CR8 as the processor reads it: TPR[7:4] (SDM 10.8.6.1).
    pub fn cr8(&self) -> u64 {
        u64::from(self.state.tpr >> 4)
    }

    /// MOV to CR8 (bits 63:4 are the caller's #GP check): TPR[7:4] =
    /// CR8[3:0], TPR[3:0] = 0.
    pub fn set_cr8(&mut self, value: u64) {
        self.state.tpr = ((value & 0xf) as u8) << 4;
    }

    pub fn state(&self) -> LapicState {
        self.state.clone()
    }

    /// Resume from `s`. Values no unit can hold are brought into range
    /// (reserved bits cleared, vectors 0–15 out of the IRR, ISR and TMR,
    /// the timer's count within its initial count, remote IRR only on a
    /// fixed level-triggered LINT0) so a damaged snapshot cannot break the
    /// invariants.
    pub fn restore(&mut self, s: &LapicState) {
        let mut s = s.clone();
        s.apic_base &= BASE_BSP | BASE_EN | self.base_mask();
        s.dfr_model &= 0xf;
        s.svr &= SVR_WRITABLE;
        for set in [&mut s.irr, &mut s.isr, &mut s.tmr] {
            set[0] &= 0xffff_0000;
        }
        s.esr &= ESR_DEFINED;
        s.esr_pending &= ESR_DEFINED;
        s.icr_low &= ICR_LOW_WRITABLE;
        s.icr_high &= ICR_HIGH_WRITABLE;
        for (entry, writable) in s.lvt.iter_mut().zip(LVT_WRITABLE) {
            *entry &= writable;
        }
        s.timer.sanitize();
        self.state = s;
        for pin in 0..2 {
            if !self.lint_is_fixed_level(pin) {
                self.state.lint_remote_irr[pin] = false;
            }
        }
    }
}

/// The register state after power-on or RESET# with IA32_APIC_BASE =
/// `apic_base` (11.4.7.1), at `now`, with the pins at `levels`.
fn power_on_state(config: &LapicConfig, apic_base: u64, levels: [bool; 2], now: u64) -> LapicState {
    let lvt = [LVT_MASKED; LVT_ENTRIES];
    LapicState {
        apic_base,
        id: config.initial_id,
        tpr: 0,
        ldr: 0,
        dfr_model: 0xf,
        svr: 0xff,
        irr: [0; 8],
        isr: [0; 8],
        tmr: [0; 8],
        esr: 0,
        esr_pending: 0,
        icr_low: 0,
        icr_high: 0,
        lvt,
        lint_remote_irr: [false; 2],
        lint_levels: levels,
        timer: TimerState::stopped(now),
        signals: Signals::default(),
    }
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_ipi;
#[cfg(test)]
mod tests_random;
#[cfg(test)]
mod tests_timer;

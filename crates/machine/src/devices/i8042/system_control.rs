//! Two small reset and A20 registers of the PC chipset beside the 8042:
//!
//! * Port 0x92, System Control Port A (IBM PS/2 technical reference,
//!   "System Control Port A"; PIIX3 datasheet 290550 "Port 92h"): bit 0
//!   fast reset, bit 1 fast A20 gate; the other bits are kept as written
//!   (QEMU `hw/i386/pc.c` port92; on the PS/2 they drive the fixed-disk
//!   LED and the password lock, which do nothing here).
//! * Port 0xCF9, the PIIX3 Reset Control register (datasheet 290550
//!   "RC—Reset Control Register"; QEMU `hw/isa/piix.c`): bit 2 (reset
//!   CPU) set by a write starts a reset, hard if bit 1 (system reset) is
//!   set in the same write, else soft; bit 1 is kept, bit 2 reads 0. The
//!   PIIX3 decodes it for byte accesses only (a dword at 0xCF8 is the PCI
//!   configuration address), which is the machine's routing to do.
//!
//! Choices:
//!
//! * Port 0x92 bit 0 resets on its 0 → 1 transition and reads back as
//!   written (QEMU, PIIX3); system reset clears the register (QEMU clears
//!   only bit 0, keeping the A20 bit; here the 8042 turns A20 on after a
//!   reset, so the combined gate is the same). The machine combines the A20
//!   gates: A20 is on if the 8042's output port or port 0x92 enables it
//!   (PIIX3: A20M# is the OR of the two), so clearing port 0x92 at reset
//!   leaves A20 to the 8042, which turns it on.
//! * 0xCF9: QEMU resets the whole machine for either kind; here the kind
//!   is reported ([`ResetKind`]) and the machine decides (a soft reset is
//!   an INIT of the processor: SDM Vol. 3 section 10.1).

/// Port 0x92.
pub const PORT_92: u16 = 0x92;
/// The PIIX3 reset control register.
pub const PORT_CF9: u16 = 0xcf9;

const PORT_92_FAST_RESET: u8 = 0x01;
const PORT_92_A20: u8 = 0x02;
const CF9_SYSTEM_RESET: u8 = 0x02;
const CF9_RESET_CPU: u8 = 0x04;

/// A reset the guest asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetKind {
    /// The whole system (PCIRST# and the processor's RESET#).
    Hard,
    /// The processor's INIT only.
    Soft,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SystemControlAState {
    /// The register as written.
    pub value: u8,
    /// Bit 0 went from 0 to 1 since the last reset.
    pub reset_requested: bool,
}

/// System Control Port A (port 0x92).
#[derive(Debug, Default)]
pub struct SystemControlA {
    state: SystemControlAState,
}

impl SystemControlA {
    /// Power-on: 0.
    pub fn new() -> SystemControlA {
        SystemControlA::default()
    }

    /// The system reset: 0, no request.
    pub fn reset(&mut self) {
        self.state = SystemControlAState::default();
    }

    pub fn read(&self) -> u8 {
        self.state.value
    }

    pub fn write(&mut self, value: u8) {
        let s = &mut self.state;
        if value & PORT_92_FAST_RESET != 0 && s.value & PORT_92_FAST_RESET == 0 {
            s.reset_requested = true;
        }
        s.value = value;
    }

    /// The fast A20 gate (bit 1).
    pub fn a20(&self) -> bool {
        self.state.value & PORT_92_A20 != 0
    }

    /// Fast reset: the processor is to be reset (an INIT on the PIIX3, a
    /// reset on QEMU); set until [`SystemControlA::reset`].
    pub fn reset_requested(&self) -> bool {
        self.state.reset_requested
    }

    pub fn state(&self) -> SystemControlAState {
        self.state.clone()
    }

    /// Any byte is a value the register can hold.
    pub fn restore(&mut self, s: &SystemControlAState) {
        self.state = s.clone();
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResetControlState {
    /// Bit 1 (system reset) as last written.
    pub value: u8,
    pub reset_requested: Option<ResetKind>,
}

/// The PIIX3 reset control register (port 0xCF9).
#[derive(Debug, Default)]
pub struct ResetControl {
    state: ResetControlState,
}

impl ResetControl {
    /// Power-on: 0.
    pub fn new() -> ResetControl {
        ResetControl::default()
    }

    /// The system reset: 0, no request.
    pub fn reset(&mut self) {
        self.state = ResetControlState::default();
    }

    pub fn read(&self) -> u8 {
        self.state.value
    }

    pub fn write(&mut self, value: u8) {
        let s = &mut self.state;
        s.value = value & CF9_SYSTEM_RESET;
        if value & CF9_RESET_CPU != 0 {
            s.reset_requested = Some(if value & CF9_SYSTEM_RESET != 0 {
                ResetKind::Hard
            } else {
                ResetKind::Soft
            });
        }
    }

    /// The reset the guest asked for; set until [`ResetControl::reset`].
    pub fn reset_requested(&self) -> Option<ResetKind> {
        self.state.reset_requested
    }

    pub fn state(&self) -> ResetControlState {
        self.state.clone()
    }

    /// Only bit 1 is stored.
    pub fn restore(&mut self, s: &ResetControlState) {
        self.state = s.clone();
        self.state.value &= CF9_SYSTEM_RESET;
    }
}

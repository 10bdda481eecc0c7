//! Guest general-purpose registers as byte locations in `CpuState`, for
//! the planners (`plan.rs`, `simd_plan.rs`) and the emitters.

use cpu_model::CpuState;
use iced_x86::Register;

/// A guest general-purpose register as a byte location in `CpuState`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loc {
    pub idx: u8,
    /// AH, CH, DH, BH: byte 1 of register idx.
    pub high: bool,
}

impl Loc {
    pub(super) fn off(self) -> i32 {
        (core::mem::offset_of!(CpuState, gpr) + 8 * usize::from(self.idx)) as i32
    }
    pub(super) fn byte_off(self) -> i32 {
        self.off() + i32::from(self.high)
    }
}

/// The count register.
pub(super) const RCX: Loc = Loc {
    idx: 1,
    high: false,
};

/// The stack pointer.
pub(super) const RSP: Loc = Loc {
    idx: 4,
    high: false,
};

/// A guest GPR operand: (location, size in bytes).
pub(super) fn gpr(r: Register) -> Option<(Loc, u32)> {
    if !r.is_gpr() {
        return None;
    }
    let high = matches!(r, Register::AH | Register::CH | Register::DH | Register::BH);
    let idx = (r.full_register() as u32).checked_sub(Register::RAX as u32)?;
    if idx >= 16 {
        return None;
    }
    Some((
        Loc {
            idx: idx as u8,
            high,
        },
        r.size() as u32,
    ))
}

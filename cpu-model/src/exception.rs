//! Faults as values. SDM Vol. 3 §6.3 (Sources of interrupts) and §6.15
//! (Exception and interrupt reference).
//!
//! Every instruction handler returns `Result<_, Fault>`; nothing a guest does
//! unwinds the host stack or panics.

use thiserror::Error;

/// An architectural exception, with its error code where the SDM defines one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Error)]
pub enum Exception {
    #[error("#DE divide error")]
    DE,
    #[error("#DB debug")]
    DB,
    #[error("NMI")]
    NMI,
    #[error("#BP breakpoint")]
    BP,
    #[error("#OF overflow")]
    OF,
    #[error("#BR bound range exceeded")]
    BR,
    #[error("#UD invalid opcode")]
    UD,
    #[error("#NM device not available")]
    NM,
    #[error("#DF double fault")]
    DF,
    #[error("#TS invalid TSS (error code {0:#x})")]
    TS(u16),
    #[error("#NP segment not present (error code {0:#x})")]
    NP(u16),
    #[error("#SS stack fault (error code {0:#x})")]
    SS(u16),
    #[error("#GP general protection (error code {0:#x})")]
    GP(u16),
    #[error("#PF page fault at {addr:#x} (error code {code:#x})")]
    PF { addr: u64, code: u32 },
    #[error("#MF x87 floating-point error")]
    MF,
    #[error("#AC alignment check")]
    AC,
    #[error("#MC machine check")]
    MC,
    #[error("#XM SIMD floating-point exception")]
    XM,
}

impl Exception {
    /// Delivered as a fault (RF set in the pushed RFLAGS, SDM Vol. 3
    /// §18.3.1.1): every exception but the traps and aborts NMI, #BP, #OF,
    /// #DF and #MC. The instruction-breakpoint #DB is delivered on its own
    /// path; #DB here is the general-detect fault, the only #DB an
    /// instruction returns. The one predicate both engines use.
    pub fn is_fault_class(&self) -> bool {
        !matches!(
            self,
            Exception::NMI | Exception::BP | Exception::OF | Exception::DF | Exception::MC
        )
    }

    /// The interrupt vector of this exception.
    pub fn vector(&self) -> u8 {
        match self {
            Exception::DE => 0,
            Exception::DB => 1,
            Exception::NMI => 2,
            Exception::BP => 3,
            Exception::OF => 4,
            Exception::BR => 5,
            Exception::UD => 6,
            Exception::NM => 7,
            Exception::DF => 8,
            Exception::TS(_) => 10,
            Exception::NP(_) => 11,
            Exception::SS(_) => 12,
            Exception::GP(_) => 13,
            Exception::PF { .. } => 14,
            Exception::MF => 16,
            Exception::AC => 17,
            Exception::MC => 18,
            Exception::XM => 19,
        }
    }

    /// The error code pushed on delivery in protected mode, if any.
    /// #DF and #AC push zero.
    pub fn error_code(&self) -> Option<u32> {
        match *self {
            Exception::DF | Exception::AC => Some(0),
            Exception::TS(c) | Exception::NP(c) | Exception::SS(c) | Exception::GP(c) => {
                Some(u32::from(c))
            }
            Exception::PF { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Class for the double-fault rules. SDM Vol. 3 §6.15, Table 6-4/6-5.
    pub fn class(&self) -> ExceptionClass {
        match self {
            Exception::DE
            | Exception::TS(_)
            | Exception::NP(_)
            | Exception::SS(_)
            | Exception::GP(_) => ExceptionClass::Contributory,
            Exception::PF { .. } => ExceptionClass::PageFault,
            Exception::DF => ExceptionClass::DoubleFault,
            _ => ExceptionClass::Benign,
        }
    }

    /// Faults with an error code that names a selector (for #GP(sel) etc.).
    pub fn gp0() -> Exception {
        Exception::GP(0)
    }
}

/// Exception classes for double-fault detection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExceptionClass {
    Benign,
    Contributory,
    PageFault,
    DoubleFault,
}

/// Why execution cannot continue: not an exception the guest can handle.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum StopReason {
    /// A fault while delivering #DF. SDM Vol. 3 §6.15 (Interrupt 8).
    #[error("triple fault")]
    TripleFault,
    /// An architectural feature that xlat does not model yet (task switch,
    /// virtual-8086 mode, ...). Reported, never ignored.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

/// An interrupt an instruction raises as it retires: delivered like any
/// event, with RIP after the instruction. SDM Vol. 2 "INT n/INTO/INT3/INT1".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
pub enum SoftwareInterrupt {
    /// INT n: the gate's DPL is checked against the CPL.
    #[error("INT {0:#x}")]
    Int(u8),
    /// INT3: #BP, with the INT n privilege check.
    #[error("INT3 (#BP)")]
    Int3,
    /// INTO with OF = 1: #OF, with the INT n privilege check.
    #[error("INTO (#OF)")]
    Into,
    /// INT1 (ICEBP): #DB without the privilege check.
    #[error("INT1 (#DB)")]
    Int1,
}

impl SoftwareInterrupt {
    pub fn vector(&self) -> u8 {
        match self {
            SoftwareInterrupt::Int(v) => *v,
            SoftwareInterrupt::Int3 => 3,
            SoftwareInterrupt::Into => 4,
            SoftwareInterrupt::Int1 => 1,
        }
    }
}

/// The error type of every instruction handler.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Fault {
    /// A fault: the instruction did not retire; state is as at its start.
    #[error(transparent)]
    Exception(#[from] Exception),
    /// The instruction retired and raised a software interrupt.
    #[error(transparent)]
    Trap(#[from] SoftwareInterrupt),
    #[error(transparent)]
    Stop(#[from] StopReason),
    /// A waiting x87 or MMX instruction found an unmasked x87 exception
    /// pending (FSW.ES) with CR0.NE = 0 and IGNNE# deasserted (SDM Vol. 1
    /// §8.7, Appendix D.2): it did not retire; state is as at its start.
    /// The processor asserts FERR# and stays frozen at the instruction
    /// until an interrupt (the chipset's IRQ 13, raised from FERR#) or an
    /// NMI is taken; the instruction runs again after the handler's IRET.
    /// Engines handle it with [`crate::Cpu::freeze_on_fpu_error`].
    #[error("waiting for the FERR# interrupt")]
    FpuErrorWait,
}

/// Result of an instruction handler or memory access.
pub type Result<T, E = Fault> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_and_codes() {
        assert_eq!(Exception::GP(0x18).vector(), 13);
        assert_eq!(Exception::GP(0x18).error_code(), Some(0x18));
        assert_eq!(Exception::UD.error_code(), None);
        assert_eq!(Exception::DF.error_code(), Some(0));
        assert_eq!(
            Exception::PF { addr: 1, code: 2 }.class(),
            ExceptionClass::PageFault
        );
    }
}

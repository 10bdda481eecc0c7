//! Control and debug registers and processor-control instructions.
//! SDM Vol. 2 "MOV—Move to/from Control Registers", "MOV—Move to/from Debug
//! Registers", CLTS, LMSW, SMSW, INVLPG, HLT, CLI, STI, WBINVD, INVD;
//! Vol. 3 §2.5 (control registers), §4.10.4 (TLB invalidation).

use super::Table;
use crate::exception::{Fault, StopReason};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::Instruction;

pub(super) fn register(_t: &mut Table) {}

/// MOV to/from CRn or DRn (the `Mnemonic::Mov` forms whose operand is a
/// control or debug register; the MOV handler in datamov.rs forwards them).
pub(super) fn mov_cr_dr(
    _cpu: &mut Cpu,
    _bus: &mut dyn Bus,
    _ins: &Instruction,
) -> Result<(), Fault> {
    Err(StopReason::Unsupported("MOV CR/DR").into())
}

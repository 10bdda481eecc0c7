//! Far control transfers: JMP/CALL far (direct, indirect, through call
//! gates), RET far. SDM Vol. 3 §5.8; Vol. 2 "JMP", "CALL", "RET".

use super::Table;
use crate::exception::{Fault, StopReason};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::Instruction;

pub(super) fn register(_t: &mut Table) {}

/// JMP far (ptr16:16/32 or m16:16/32/64); the JMP handler in branch.rs
/// forwards far forms here.
pub(super) fn jmp_far(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Err(StopReason::Unsupported("far JMP").into())
}

/// CALL far; the CALL handler in branch.rs forwards far forms here.
pub(super) fn call_far(
    _cpu: &mut Cpu,
    _bus: &mut dyn Bus,
    _ins: &Instruction,
) -> Result<(), Fault> {
    Err(StopReason::Unsupported("far CALL").into())
}

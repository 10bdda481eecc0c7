//! SSE/SSE2 moves between XMM registers and memory (SDM Vol. 2 under each
//! mnemonic): MOVAPS/MOVAPD/MOVDQA (16-byte aligned), MOVUPS/MOVUPD/
//! MOVDQU, MOVSS, MOVSD (registered per `Code`: the string instruction
//! MOVSD shares the mnemonic).

use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [Movaps, Movapd, Movdqa, Movups, Movupd, Movdqu, Movss] {
        t.set(m, mov);
    }
    t.set_code(Code::Movsd_xmm_xmmm64, mov);
    t.set_code(Code::Movsd_xmmm64_xmm, mov);
}

fn mov(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    use Mnemonic::*;
    check_available(cpu)?;
    let width = match ins.mnemonic() {
        Movaps | Movapd | Movdqa => Width::Aligned128,
        Movups | Movupd | Movdqu => Width::Unaligned128,
        Movss => Width::M32,
        _ => Width::M64,
    };
    let scalar = matches!(width, Width::M32 | Width::M64);
    let n = if width == Width::M32 { 4 } else { 8 };
    if ins.op0_kind() == OpKind::Memory {
        let v = cpu.xmm(xmm_index(ins.op1_register()));
        return cpu.store_xmm_memory(bus, ins, v, width);
    }
    let dst = xmm_index(ins.op0_register());
    let src = cpu.xmm_operand(bus, ins, 1, width)?;
    let v = if scalar && ins.op1_kind() == OpKind::Register {
        // Register to register: only the low element moves.
        let mut d = cpu.xmm(dst);
        d[..n].copy_from_slice(&src[..n]);
        d
    } else {
        // A scalar load zeroes the rest (xmm_operand zero-extends).
        src
    };
    cpu.set_xmm(dst, v);
    Ok(())
}

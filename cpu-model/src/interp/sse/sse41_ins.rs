//! SSE4.1 extracts and inserts, legacy forms (SDM Vol. 2 "PEXTRB/PEXTRD/
//! PEXTRQ", "PEXTRW", "EXTRACTPS", "PINSRB/PINSRD/PINSRQ", "INSERTPS"):
//! one lane between an XMM register and a general register (zero-extended
//! to its width) or memory of the lane's size, which has no alignment
//! rule beyond the general one (#AC). The imm8 selects the lane; its bits
//! above the lane count are ignored.

use super::int::{lane, set_lane};
use super::{check_available, xmm_index, Width};
use crate::exception::Fault;
use crate::interp::Table;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    for m in [Pextrb, Pextrd, Pextrq, Extractps] {
        t.set(m, extract);
    }
    // PEXTRW's MMX and SSE2 forms (0F C5) are `int.rs`'s; this is the
    // SSE4.1 one, 66 0F 3A 15, whose destination may be memory.
    for c in [Code::Pextrw_r32m16_xmm_imm8, Code::Pextrw_r64m16_xmm_imm8] {
        t.set_code(c, extract);
    }
    for m in [Pinsrb, Pinsrd, Pinsrq] {
        t.set(m, insert);
    }
    t.set(Insertps, insertps);
}

/// The lane size in bytes of an extract or insert.
fn lane_size(m: Mnemonic) -> usize {
    use Mnemonic::*;
    match m {
        Pextrb | Pinsrb => 1,
        Pextrw => 2,
        Pextrq | Pinsrq => 8,
        _ => 4, // PEXTRD, PINSRD, EXTRACTPS
    }
}

/// PEXTRB r32/r64/m8, PEXTRW r32/r64/m16, PEXTRD r/m32, PEXTRQ r/m64,
/// EXTRACTPS r/m32 (r64 in 64-bit mode): lane imm8 mod (16 / size) of
/// the XMM source; a register destination is zero-extended.
fn extract(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let size = lane_size(ins.mnemonic());
    let src = cpu.xmm(xmm_index(ins.op1_register()));
    let sel = usize::from(ins.immediate8()) % (16 / size);
    cpu.write_op(bus, ins, 0, lane(&src, sel, size))?;
    Ok(())
}

/// PINSRB xmm, r32/r64/m8, PINSRD xmm, r/m32, PINSRQ xmm, r/m64: the low
/// lane-size bytes of the source into lane imm8 mod (16 / size).
fn insert(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let size = lane_size(ins.mnemonic());
    let v = cpu.read_op(bus, ins, 1)?;
    let dst = xmm_index(ins.op0_register());
    let mut r = cpu.xmm(dst);
    let sel = usize::from(ins.immediate8()) % (16 / size);
    set_lane(&mut r, sel, size, v);
    cpu.set_xmm(dst, r);
    Ok(())
}

/// INSERTPS's result: `src` (the register's dword imm8[7:6], or the m32)
/// into dword imm8[5:4] of `dst`, then the dwords of imm8[3:0] zeroed.
pub(super) fn insertps_of(dst: &[u8; 16], src: u64, imm: u8) -> [u8; 16] {
    let mut r = *dst;
    set_lane(&mut r, usize::from(imm >> 4 & 3), 4, src);
    for i in 0..4 {
        if imm & (1 << i) != 0 {
            set_lane(&mut r, i, 4, 0);
        }
    }
    r
}

/// INSERTPS xmm1, xmm2/m32, imm8 (the memory form has no source select).
fn insertps(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    let imm = ins.immediate8();
    let b = cpu.xmm_operand(bus, ins, 1, Width::M32)?;
    let src = if ins.op1_kind() == OpKind::Register {
        lane(&b, usize::from(imm >> 6), 4)
    } else {
        lane(&b, 0, 4)
    };
    let dst = xmm_index(ins.op0_register());
    let r = insertps_of(&cpu.xmm(dst), src, imm);
    cpu.set_xmm(dst, r);
    Ok(())
}

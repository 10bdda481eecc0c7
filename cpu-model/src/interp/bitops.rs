//! Bit test and scan: BT BTS BTR BTC, BSF BSR, POPCNT, LZCNT, TZCNT.
//! SDM Vol. 2 pages of those names. (BMI1/BMI2/ADX are in bmi.rs.)

use super::alu::read_rmw;
use super::Table;
use crate::exception::Fault;
use crate::flags::{self, CF, STATUS, ZF};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Bt, bt);
    t.set(Mnemonic::Bts, bts);
    t.set(Mnemonic::Btr, btr);
    t.set(Mnemonic::Btc, btc);
    t.set(Mnemonic::Bsf, bsf);
    t.set(Mnemonic::Bsr, bsr);
    t.set(Mnemonic::Popcnt, popcnt);
    t.set(Mnemonic::Lzcnt, lzcnt);
    t.set(Mnemonic::Tzcnt, tzcnt);
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BitOp {
    Test,
    Set,
    Reset,
    Complement,
}

/// The BT family. CF = the selected bit (before any change); ZF is
/// unaffected; OF, SF, AF, PF are undefined and left unchanged.
///
/// Bit offset: an immediate, or any offset with a register bit base, is
/// taken modulo the operand size. A register offset with a memory bit
/// base is a signed value that can reach outside the addressed operand:
/// the operand of `size` bytes at `ea + (offset >> log2(bits)) * size`
/// (arithmetic shift; the address wraps to the address size) holds bit
/// `offset mod bits`. SDM Vol. 2 "BT", Figure 3-2 and Table 3-2.
fn bit_op(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, op: BitOp) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let bits = u64::from(size * 8);
    let writes = op != BitOp::Test;
    let raw = cpu.read_op(bus, ins, 1)?;
    let far = ins.op_kind(0) == OpKind::Memory && ins.op_kind(1) == OpKind::Register;
    let (v, bit, target) = if far {
        let off = flags::sign_extend(raw & flags::mask(size), size) as i64;
        let disp = (off >> bits.trailing_zeros()).wrapping_mul(i64::from(size));
        let amask = flags::mask(Cpu::addr_size(ins));
        let ea = cpu.effective_address(ins).wrapping_add(disp as u64) & amask;
        let seg = Cpu::mem_segment(ins);
        if writes {
            cpu.probe_write_mem(bus, seg, ea, size)?;
        }
        let v = cpu.read_mem(bus, seg, ea, size)?;
        (v, off as u64 & (bits - 1), Some((seg, ea)))
    } else {
        let v = if writes {
            read_rmw(cpu, bus, ins, 0)?
        } else {
            cpu.read_op(bus, ins, 0)?
        };
        (v, raw & (bits - 1), None)
    };
    let m = 1u64 << bit;
    let r = match op {
        BitOp::Test => v,
        BitOp::Set => v | m,
        BitOp::Reset => v & !m,
        BitOp::Complement => v ^ m,
    };
    if writes {
        match target {
            Some((seg, ea)) => cpu.write_mem(bus, seg, ea, size, r)?,
            None => cpu.write_op(bus, ins, 0, r)?,
        }
    }
    cpu.set_flags(CF, if v & m != 0 { CF } else { 0 });
    Ok(())
}

/// BT: CF = selected bit. See [`bit_op`]. SDM Vol. 2 "BT".
fn bt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    bit_op(cpu, bus, ins, BitOp::Test)
}

/// BTS: CF = selected bit, then set it. SDM Vol. 2 "BTS".
fn bts(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    bit_op(cpu, bus, ins, BitOp::Set)
}

/// BTR: CF = selected bit, then clear it. SDM Vol. 2 "BTR".
fn btr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    bit_op(cpu, bus, ins, BitOp::Reset)
}

/// BTC: CF = selected bit, then complement it. SDM Vol. 2 "BTC".
fn btc(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    bit_op(cpu, bus, ins, BitOp::Complement)
}

/// BSF / BSR: index of the lowest / highest set bit; ZF = 0. A zero source
/// sets ZF = 1 and leaves the destination unchanged — except that, as on
/// Intel processors, a 32-bit destination register is still written, so
/// bits 63:32 are cleared. CF, OF, SF, AF, PF are undefined and left
/// unchanged. SDM Vol. 2 "BSF", "BSR".
fn bit_scan(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    forward: bool,
) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let src = cpu.read_op(bus, ins, 1)? & flags::mask(size);
    if src == 0 {
        let old = cpu.read_op(bus, ins, 0)?;
        cpu.write_op(bus, ins, 0, old)?;
        cpu.set_flags(ZF, ZF);
        return Ok(());
    }
    let r = if forward {
        src.trailing_zeros()
    } else {
        63 - src.leading_zeros()
    };
    cpu.write_op(bus, ins, 0, u64::from(r))?;
    cpu.set_flags(ZF, 0);
    Ok(())
}

/// BSF. See [`bit_scan`]. SDM Vol. 2 "BSF".
fn bsf(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    bit_scan(cpu, bus, ins, true)
}

/// BSR. See [`bit_scan`]. SDM Vol. 2 "BSR".
fn bsr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    bit_scan(cpu, bus, ins, false)
}

/// POPCNT: number of set bits; OF, SF, AF, CF, PF cleared, ZF = (source
/// is 0). SDM Vol. 2 "POPCNT".
fn popcnt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let src = cpu.read_op(bus, ins, 1)? & flags::mask(size);
    cpu.write_op(bus, ins, 0, u64::from(src.count_ones()))?;
    cpu.set_flags(STATUS, if src == 0 { ZF } else { 0 });
    Ok(())
}

/// LZCNT / TZCNT: count of leading / trailing zero bits within the operand
/// size (the size itself for a zero source). CF = (source is 0), ZF =
/// (result is 0); OF, SF, AF, PF undefined, left unchanged.
/// SDM Vol. 2 "LZCNT", "TZCNT".
fn zero_count(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    leading: bool,
) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let bits = size * 8;
    let src = cpu.read_op(bus, ins, 1)? & flags::mask(size);
    let r = if src == 0 {
        bits
    } else if leading {
        src.leading_zeros() - (64 - bits)
    } else {
        src.trailing_zeros()
    };
    cpu.write_op(bus, ins, 0, u64::from(r))?;
    let mut f = 0;
    if src == 0 {
        f |= CF;
    }
    if r == 0 {
        f |= ZF;
    }
    cpu.set_flags(CF | ZF, f);
    Ok(())
}

/// LZCNT. See [`zero_count`]. SDM Vol. 2 "LZCNT".
fn lzcnt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    zero_count(cpu, bus, ins, true)
}

/// TZCNT. See [`zero_count`]. SDM Vol. 2 "TZCNT".
fn tzcnt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    zero_count(cpu, bus, ins, false)
}

#[cfg(test)]
mod tests {
    use super::super::alu::testutil::*;
    use crate::interp::tests::{long64, real_mode, run};
    use crate::state::reg;

    /// Run `f` in 64-bit mode with RAX = `a`, RBX = `b`, flags `fl`;
    /// return (RAX, status flags).
    fn bo(
        a: u64,
        b: u64,
        fl: u64,
        f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    ) -> (u64, u64) {
        let (mut cpu, mut bus) = long64(&asm(64, f));
        cpu.state.gpr[reg::RAX] = a;
        cpu.state.gpr[reg::RBX] = b;
        cpu.state.rflags |= fl;
        exec_n(&mut cpu, &mut bus, 1);
        (cpu.state.gpr[reg::RAX], status(&cpu))
    }

    #[test]
    fn bt_register_forms() {
        // Offset taken modulo the size; other flags untouched.
        assert_eq!(
            bo(0x8000, 15, ZF | SF, |a| a.bt(ax, bx)),
            (0x8000, CF | ZF | SF)
        );
        assert_eq!(bo(0x8000, 31, CF, |a| a.bt(ax, bx)), (0x8000, CF));
        assert_eq!(bo(0x8000, 30, CF, |a| a.bt(ax, bx)), (0x8000, 0));
        assert_eq!(bo(1 << 63, 0, 0, |a| a.bt(rax, 63)), (1 << 63, CF));
        assert_eq!(bo(1, 0, 0, |a| a.bt(rax, 64)), (1, CF));
        assert_eq!(bo(0, 33, 0, |a| a.bts(eax, ebx)), (2, 0));
        // BT does not write: upper bits of RAX survive a 32-bit BT.
        assert_eq!(
            bo(0xffff_0000_0000_0001, 0, 0, |a| a.bt(eax, 0)),
            (0xffff_0000_0000_0001, CF)
        );
        // BTS/BTR/BTC write: 32-bit forms zero-extend.
        assert_eq!(bo(0xffff_0000_0000_0001, 0, 0, |a| a.bts(eax, 0)), (1, CF));
        assert_eq!(bo(0xff, 3, 0, |a| a.btr(rax, rbx)), (0xf7, CF));
        assert_eq!(bo(0xff, 8, CF, |a| a.btc(rax, rbx)), (0x1ff, 0));
        assert_eq!(bo(0x1234, 0x2c, 0, |a| a.btc(ax, bx)), (0x0234, CF));
    }

    #[test]
    fn bt_memory_with_register_offset_reaches_outside_the_operand() {
        let code = asm(64, |a| {
            a.bts(dword_ptr(rdi), ebx)?; // bit 35: dword at +4, bit 3
            a.btr(word_ptr(rdi + 8), bx)?; // bit -1: word at +6, bit 15
            a.bt(qword_ptr(rdi), rbx)?; // bit 200: qword at +24, bit 8
            a.btc(dword_ptr(rdi), 35)?; // immediate: bit 3 of the dword itself
            a.lock().bts(qword_ptr(rdi), rbx) // bit -65: qword at -16, bit 63
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RDI] = 0x3010;
        wr(&mut bus, 0x3016, 2, 0x8000);
        wr(&mut bus, 0x3028, 8, 0x100);
        cpu.state.gpr[reg::RBX] = 35;
        exec_n(&mut cpu, &mut bus, 1);
        // 0x3016 holds 0x8000 (for the BTR below): dword at 0x3014.
        assert_eq!(rd(&bus, 0x3014, 4), 0x8000_0008);
        assert_eq!(rd(&bus, 0x3010, 4), 0);
        assert_eq!(status(&cpu), 0);
        cpu.state.gpr[reg::RBX] = 0xffff; // -1 as a 16-bit offset
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3016, 2), 0);
        assert_eq!(status(&cpu), CF);
        cpu.state.gpr[reg::RBX] = 200;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(status(&cpu), CF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3010, 4), 0x8);
        assert_eq!(rd(&bus, 0x3014, 4), 0x8);
        assert_eq!(status(&cpu), 0);
        cpu.state.gpr[reg::RBX] = (-65i64) as u64;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3000, 8), 1 << 63);
        assert_eq!(status(&cpu), 0);
    }

    #[test]
    fn bt_real_mode_wraps_address() {
        // 16-bit addressing: [si] with a negative word offset wraps at 64 KiB.
        let code = asm(16, |a| a.bts(word_ptr(si), ax));
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[reg::RSI] = 0x0002;
        cpu.state.gpr[reg::RAX] = (-33i16) as u16 as u64; // word at -6, bit 15
        run(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0xfffc, 2), 0x8000);
        assert_eq!(status(&cpu), 0);
    }

    #[test]
    fn bsf_bsr() {
        assert_eq!(bo(0, 0x0008_0100, 0, |a| a.bsf(eax, ebx)), (8, 0));
        assert_eq!(bo(0, 0x0008_0100, ZF, |a| a.bsr(eax, ebx)), (19, 0));
        assert_eq!(bo(0, 1 << 63, 0, |a| a.bsr(rax, rbx)), (63, 0));
        assert_eq!(bo(0, 1 << 63, 0, |a| a.bsf(rax, rbx)), (63, 0));
        assert_eq!(
            bo(0xffff_0000, 0xffff_8000, 0, |a| a.bsf(ax, bx)),
            (0xffff_000f, 0)
        );
        // Zero source: ZF = 1, destination kept (32-bit: upper half cleared).
        assert_eq!(bo(0x1234, 0, CF, |a| a.bsf(ax, bx)), (0x1234, ZF | CF));
        assert_eq!(
            bo(0xdead_beef_0000_1234, 0, 0, |a| a.bsr(eax, ebx)),
            (0x1234, ZF)
        );
        assert_eq!(bo(u64::MAX, 0, 0, |a| a.bsr(rax, rbx)), (u64::MAX, ZF));
        // Upper bits of the source beyond the operand size are ignored.
        assert_eq!(bo(7, 0xffff_0000, 0, |a| a.bsf(ax, bx)), (7, ZF));
    }

    #[test]
    fn popcnt_lzcnt_tzcnt() {
        let all = STATUS;
        assert_eq!(bo(0, 0xf0f0, all, |a| a.popcnt(ax, bx)), (8, 0));
        assert_eq!(bo(5, 0, all, |a| a.popcnt(rax, rbx)), (0, ZF));
        assert_eq!(bo(0, u64::MAX, 0, |a| a.popcnt(rax, rbx)), (64, 0));
        assert_eq!(bo(0, 1, 0, |a| a.lzcnt(ax, bx)), (15, 0));
        assert_eq!(bo(0, 0, 0, |a| a.lzcnt(eax, ebx)), (32, CF));
        assert_eq!(bo(0, 1 << 63, CF, |a| a.lzcnt(rax, rbx)), (0, ZF));
        assert_eq!(bo(0, 0, SF, |a| a.lzcnt(rax, rbx)), (64, CF | SF));
        assert_eq!(bo(0, 0x8000, 0, |a| a.tzcnt(ax, bx)), (15, 0));
        assert_eq!(bo(0, 0, 0, |a| a.tzcnt(ax, bx)), (16, CF));
        assert_eq!(bo(0, 0xff, CF, |a| a.tzcnt(eax, ebx)), (0, ZF));
        assert_eq!(bo(0, 1 << 40, 0, |a| a.tzcnt(rax, rbx)), (40, 0));
    }

    #[test]
    fn scan_memory_sources() {
        let code = asm(64, |a| {
            a.popcnt(ecx, dword_ptr(rsi))?;
            a.lzcnt(dx, word_ptr(rsi + 4))?;
            a.bsr(rax, qword_ptr(rsi + 8))
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RSI] = 0x3000;
        wr(&mut bus, 0x3000, 4, 0x8000_0001);
        wr(&mut bus, 0x3004, 2, 0x00ff);
        wr(&mut bus, 0x3008, 8, 0x0000_1000_0000_0000);
        exec_n(&mut cpu, &mut bus, 3);
        assert_eq!(cpu.state.gpr[reg::RCX], 2);
        assert_eq!(cpu.state.gpr[reg::RDX], 8);
        assert_eq!(cpu.state.gpr[reg::RAX], 44);
    }
}

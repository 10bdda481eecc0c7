//! String instructions: MOVS, CMPS, STOS, LODS, SCAS, INS, OUTS in their
//! byte/word/dword/qword forms, with REP / REPE / REPNE. SDM Vol. 1 §7.3.9;
//! Vol. 2 "MOVS/MOVSB/...", "CMPS/...", "STOS/...", "LODS/...", "SCAS/...",
//! "INS/INSB/INSW/INSD", "OUTS/OUTSB/OUTSW/OUTSD", "REP/REPE/REPZ/REPNE/REPNZ".
//!
//! The address size (16/32/64) selects the index registers (SI/ESI/RSI,
//! DI/EDI/RDI) and the counter (CX/ECX/RCX); writes to a 16-bit index keep
//! the register's other bits, writes to a 32-bit one zero-extend it. The
//! source segment is DS unless overridden; the destination is always ES
//! (both ignored, except FS/GS, in 64-bit mode, by `linearize`).
//!
//! A repeated instruction runs at most [`MAX_ITERATIONS`] iterations per
//! step and commits the registers after each one; when the count is not
//! exhausted RIP is set back to the instruction so the next step continues
//! it (interrupts are taken in between, as hardware does between
//! iterations). With TF set, or after an iteration that hit a data
//! breakpoint, only one iteration runs, so the #DB trap follows that
//! iteration as on hardware. A fault in iteration n leaves the registers of
//! iterations 0..n committed and RIP at the instruction.

use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::memory::Bus;
use crate::state::SegReg;
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

/// Iterations of a REP string instruction executed per step.
pub const MAX_ITERATIONS: u32 = 1024;

pub(super) fn register(t: &mut Table) {
    for m in [
        Mnemonic::Movsb,
        Mnemonic::Movsw,
        Mnemonic::Movsd,
        Mnemonic::Movsq,
    ] {
        t.set(m, movs);
    }
    for m in [
        Mnemonic::Cmpsb,
        Mnemonic::Cmpsw,
        Mnemonic::Cmpsd,
        Mnemonic::Cmpsq,
    ] {
        t.set(m, cmps);
    }
    for m in [
        Mnemonic::Stosb,
        Mnemonic::Stosw,
        Mnemonic::Stosd,
        Mnemonic::Stosq,
    ] {
        t.set(m, stos);
    }
    for m in [
        Mnemonic::Lodsb,
        Mnemonic::Lodsw,
        Mnemonic::Lodsd,
        Mnemonic::Lodsq,
    ] {
        t.set(m, lods);
    }
    for m in [
        Mnemonic::Scasb,
        Mnemonic::Scasw,
        Mnemonic::Scasd,
        Mnemonic::Scasq,
    ] {
        t.set(m, scas);
    }
    for m in [Mnemonic::Insb, Mnemonic::Insw, Mnemonic::Insd] {
        t.set(m, ins_);
    }
    for m in [Mnemonic::Outsb, Mnemonic::Outsw, Mnemonic::Outsd] {
        t.set(m, outs);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Movs,
    Cmps,
    Stos,
    Lods,
    Scas,
    Ins,
    Outs,
}

/// The registers and sizes one string instruction works with.
#[derive(Clone, Copy, Debug)]
struct Ctx {
    op: Op,
    /// Element size in bytes.
    size: u32,
    si: Register,
    di: Register,
    cx: Register,
    src_seg: SegReg,
}

/// Address size of a string instruction, from iced's operand kinds.
fn string_addr_size(ins: &Instruction) -> u32 {
    for i in 0..ins.op_count() {
        match ins.op_kind(i) {
            OpKind::MemorySegSI | OpKind::MemoryESDI => return 2,
            OpKind::MemorySegESI | OpKind::MemoryESEDI => return 4,
            OpKind::MemorySegRSI | OpKind::MemoryESRDI => return 8,
            _ => {}
        }
    }
    Cpu::code_bytes(ins)
}

fn element_size(m: Mnemonic) -> u32 {
    match m {
        Mnemonic::Movsb
        | Mnemonic::Cmpsb
        | Mnemonic::Stosb
        | Mnemonic::Lodsb
        | Mnemonic::Scasb
        | Mnemonic::Insb
        | Mnemonic::Outsb => 1,
        Mnemonic::Movsw
        | Mnemonic::Cmpsw
        | Mnemonic::Stosw
        | Mnemonic::Lodsw
        | Mnemonic::Scasw
        | Mnemonic::Insw
        | Mnemonic::Outsw => 2,
        Mnemonic::Movsq | Mnemonic::Cmpsq | Mnemonic::Stosq | Mnemonic::Lodsq | Mnemonic::Scasq => {
            8
        }
        _ => 4,
    }
}

fn accumulator(size: u32) -> Register {
    match size {
        1 => Register::AL,
        2 => Register::AX,
        4 => Register::EAX,
        _ => Register::RAX,
    }
}

impl Ctx {
    fn new(ins: &Instruction, op: Op) -> Ctx {
        let (si, di, cx) = match string_addr_size(ins) {
            2 => (Register::SI, Register::DI, Register::CX),
            4 => (Register::ESI, Register::EDI, Register::ECX),
            _ => (Register::RSI, Register::RDI, Register::RCX),
        };
        Ctx {
            op,
            size: element_size(ins.mnemonic()),
            si,
            di,
            cx,
            src_seg: Cpu::mem_segment(ins),
        }
    }
}

impl Cpu {
    /// Step an index register by one element in the direction of DF.
    fn string_advance(&mut self, r: Register, size: u32) {
        let delta = if self.flag(flags::DF) {
            u64::from(size).wrapping_neg()
        } else {
            u64::from(size)
        };
        let v = self.reg(r).wrapping_add(delta);
        self.set_reg(r, v);
    }

    /// One iteration of the string operation, without the REP bookkeeping.
    fn string_iteration(&mut self, bus: &mut dyn Bus, c: &Ctx) -> Result<(), Fault> {
        let size = c.size;
        let si = self.reg(c.si);
        let di = self.reg(c.di);
        match c.op {
            Op::Movs => {
                let v = self.read_mem(bus, c.src_seg, si, size)?;
                self.write_mem(bus, SegReg::Es, di, size, v)?;
                self.string_advance(c.si, size);
                self.string_advance(c.di, size);
            }
            Op::Cmps => {
                let a = self.read_mem(bus, c.src_seg, si, size)?;
                let b = self.read_mem(bus, SegReg::Es, di, size)?;
                let (_, f) = flags::sub(a, b, false, size);
                self.set_flags(flags::STATUS, f);
                self.string_advance(c.si, size);
                self.string_advance(c.di, size);
            }
            Op::Stos => {
                let v = self.reg(accumulator(size));
                self.write_mem(bus, SegReg::Es, di, size, v)?;
                self.string_advance(c.di, size);
            }
            Op::Lods => {
                let v = self.read_mem(bus, c.src_seg, si, size)?;
                self.set_reg(accumulator(size), v);
                self.string_advance(c.si, size);
            }
            Op::Scas => {
                let a = self.reg(accumulator(size));
                let b = self.read_mem(bus, SegReg::Es, di, size)?;
                let (_, f) = flags::sub(a, b, false, size);
                self.set_flags(flags::STATUS, f);
                self.string_advance(c.di, size);
            }
            Op::Ins => {
                let port = self.reg(Register::DX) as u16;
                self.check_io_permission(bus, port, size)?;
                // Check the destination before the port is read, so a
                // fault does not lose the input.
                self.probe_write_mem(bus, SegReg::Es, di, size)?;
                let v = bus.io_in(port, size);
                self.write_mem(bus, SegReg::Es, di, size, u64::from(v))?;
                self.string_advance(c.di, size);
            }
            Op::Outs => {
                let port = self.reg(Register::DX) as u16;
                self.check_io_permission(bus, port, size)?;
                let v = self.read_mem(bus, c.src_seg, si, size)?;
                bus.io_out(port, size, v as u32);
                self.string_advance(c.si, size);
            }
        }
        Ok(())
    }
}

/// The shared driver: a single iteration, or the REP loop described in the
/// module documentation. REPE/REPNE end CMPS/SCAS when ZF = 0 / ZF = 1; on
/// the other instructions F2 acts as REP, as on Intel hardware. REP with a
/// zero count does nothing (no flags change, no access).
fn string_op(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, op: Op) -> Result<(), Fault> {
    let c = Ctx::new(ins, op);
    let compare = matches!(op, Op::Cmps | Op::Scas);
    if !ins.has_rep_prefix() && !ins.has_repne_prefix() {
        return cpu.string_iteration(bus, &c);
    }
    let until_zf = if compare {
        if ins.has_repne_prefix() {
            Some(true)
        } else {
            Some(false)
        }
    } else {
        None
    };
    let budget = if cpu.flag(flags::TF) {
        1
    } else {
        MAX_ITERATIONS
    };
    for _ in 0..budget {
        let count = cpu.reg(c.cx);
        if count == 0 {
            return Ok(());
        }
        cpu.string_iteration(bus, &c)?;
        let left = count.wrapping_sub(1);
        cpu.set_reg(c.cx, left);
        cpu.commit();
        if left == 0 {
            return Ok(());
        }
        if let Some(stop_zf) = until_zf {
            if cpu.flag(flags::ZF) == stop_zf {
                return Ok(());
            }
        }
        if cpu.state.events.pending_db != 0 {
            break;
        }
    }
    cpu.state.rip = cpu.instruction_start();
    cpu.rep_unfinished = true;
    Ok(())
}

/// iced shares the MOVSD/CMPSD mnemonics between the string instructions
/// and the SSE2 scalar-double forms; the latter are not implemented (no
/// SSE2 in CPUID): #UD, counted as unimplemented under their `Code` name.
fn sse_form(cpu: &mut Cpu, ins: &Instruction, string_code: Code) -> Result<(), Fault> {
    if ins.code() == string_code {
        return Ok(());
    }
    let name = format!("{:?}", ins.code()).to_lowercase();
    *cpu.stats.unimplemented.entry(name).or_insert(0) += 1;
    Err(Exception::UD.into())
}

/// MOVS/MOVSB/MOVSW/MOVSD/MOVSQ — SDM Vol. 2 "MOVS/MOVSB/MOVSW/MOVSD/MOVSQ—
/// Move Data From String to String": ES:[rDI] ← seg:[rSI]. No flags.
fn movs(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.mnemonic() == Mnemonic::Movsd {
        sse_form(cpu, ins, Code::Movsd_m32_m32)?;
    }
    string_op(cpu, bus, ins, Op::Movs)
}

/// CMPS/CMPSB/CMPSW/CMPSD/CMPSQ — SDM Vol. 2 "CMPS/CMPSB/CMPSW/CMPSD/CMPSQ—
/// Compare String Operands": flags of seg:[rSI] − ES:[rDI] (as CMP).
fn cmps(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if ins.mnemonic() == Mnemonic::Cmpsd {
        sse_form(cpu, ins, Code::Cmpsd_m32_m32)?;
    }
    string_op(cpu, bus, ins, Op::Cmps)
}

/// STOS/STOSB/STOSW/STOSD/STOSQ — SDM Vol. 2 "STOS/STOSB/STOSW/STOSD/STOSQ—
/// Store String": ES:[rDI] ← AL/AX/EAX/RAX. No flags.
fn stos(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    string_op(cpu, bus, ins, Op::Stos)
}

/// LODS/LODSB/LODSW/LODSD/LODSQ — SDM Vol. 2 "LODS/LODSB/LODSW/LODSD/LODSQ—
/// Load String": AL/AX/EAX/RAX ← seg:[rSI] (LODSD zero-extends RAX). No flags.
fn lods(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    string_op(cpu, bus, ins, Op::Lods)
}

/// SCAS/SCASB/SCASW/SCASD/SCASQ — SDM Vol. 2 "SCAS/SCASB/SCASW/SCASD/SCASQ—
/// Scan String": flags of AL/AX/EAX/RAX − ES:[rDI] (as CMP).
fn scas(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    string_op(cpu, bus, ins, Op::Scas)
}

/// INS/INSB/INSW/INSD — SDM Vol. 2 "INS/INSB/INSW/INSD—Input from Port to
/// String": ES:[rDI] ← port DX, after the I/O permission check
/// (`Cpu::check_io_permission`). No flags.
fn ins_(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    string_op(cpu, bus, ins, Op::Ins)
}

/// OUTS/OUTSB/OUTSW/OUTSD — SDM Vol. 2 "OUTS/OUTSB/OUTSW/OUTSD—Output String
/// to Port": port DX ← seg:[rSI], after the I/O permission check. No flags.
fn outs(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    string_op(cpu, bus, ins, Op::Outs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use crate::memory::FlatBus;

    use crate::interp::tests::asm;

    use crate::interp::tests::exec;

    const SI: usize = 6;
    const DI: usize = 7;
    const CX: usize = 1;

    /// Real mode, DS = 0x1000 (base 0x10000), ES = 0x2000 (base 0x20000).
    fn real(code: &[u8]) -> (Cpu, FlatBus) {
        let (mut cpu, bus) = real_mode(code);
        cpu.state.load_segment_real(SegReg::Ds, 0x1000);
        cpu.state.load_segment_real(SegReg::Es, 0x2000);
        (cpu, bus)
    }

    #[test]
    fn rep_movsb_counts_0_1_n() {
        let code = asm(16, |a| a.rep().movsb());
        for (count, copied) in [(0u64, 0usize), (1, 1), (5, 5)] {
            let (mut cpu, mut bus) = real(&code);
            bus.ram[0x10100..0x10108].copy_from_slice(b"abcdefgh");
            cpu.state.gpr[SI] = 0x100;
            cpu.state.gpr[DI] = 0x200;
            cpu.state.gpr[CX] = 0xabcd_0000 | count;
            run(&mut cpu, &mut bus, 1);
            assert_eq!(cpu.state.rip, 0x1002, "count {count}");
            assert_eq!(cpu.state.gpr[CX], 0xabcd_0000, "only CX counts");
            assert_eq!(cpu.state.gpr[SI], 0x100 + copied as u64);
            assert_eq!(cpu.state.gpr[DI], 0x200 + copied as u64);
            assert_eq!(&bus.ram[0x20200..0x20200 + copied], &b"abcdefgh"[..copied]);
            assert_eq!(bus.ram[0x20200 + copied], 0, "no more than {copied} bytes");
        }
    }

    #[test]
    fn movsw_backwards_with_df() {
        let code = asm(16, |a| {
            a.std()?;
            a.rep().movsw()
        });
        let (mut cpu, mut bus) = real(&code);
        bus.ram[0x10100..0x10106].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        cpu.state.gpr[SI] = 0x104;
        cpu.state.gpr[DI] = 0x304;
        cpu.state.gpr[CX] = 3;
        run(&mut cpu, &mut bus, 2);
        assert_eq!(&bus.ram[0x20300..0x20306], &[1, 2, 3, 4, 5, 6]);
        assert_eq!(cpu.state.gpr[SI], 0xfe);
        assert_eq!(cpu.state.gpr[DI], 0x2fe);
        assert_eq!(cpu.state.gpr[CX], 0);
    }

    #[test]
    fn sixteen_bit_index_wraps() {
        let code = asm(16, |a| a.rep().movsb());
        let (mut cpu, mut bus) = real(&code);
        bus.ram[0x1ffff] = 0xa1;
        bus.ram[0x10000] = 0xa2;
        bus.ram[0x10001] = 0xa3;
        cpu.state.gpr[SI] = 0x1234_ffff;
        cpu.state.gpr[DI] = 0x5678_fffe;
        cpu.state.gpr[CX] = 3;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[SI], 0x1234_0002, "SI wraps, ESI[31:16] kept");
        assert_eq!(cpu.state.gpr[DI], 0x5678_0001);
        assert_eq!(&bus.ram[0x2fffe..0x30000], &[0xa1, 0xa2]);
        assert_eq!(bus.ram[0x20000], 0xa3);
    }

    #[test]
    fn long_rep_continues_across_steps() {
        let code = asm(16, |a| {
            a.rep().stosb()?;
            a.nop()
        });
        let (mut cpu, mut bus) = real(&code);
        cpu.state.gpr[0] = 0x5a;
        cpu.state.gpr[CX] = 3000;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x1000, "not done: restarted");
        assert_eq!(cpu.state.gpr[CX], 3000 - u64::from(MAX_ITERATIONS));
        assert_eq!(cpu.state.gpr[DI], u64::from(MAX_ITERATIONS));
        assert_eq!(
            cpu.stats.instructions, 0,
            "an unfinished REP has not retired"
        );
        assert_ne!(
            cpu.state.rflags & flags::RF,
            0,
            "RF set while it is unfinished"
        );
        run(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.rip, 0x1002);
        assert_eq!(cpu.state.gpr[CX], 0);
        assert_eq!(cpu.stats.instructions, 1, "retired once, when done");
        assert_eq!(cpu.state.rflags & flags::RF, 0);
        assert!(bus.ram[0x20000..0x20000 + 3000].iter().all(|&b| b == 0x5a));
        assert_eq!(bus.ram[0x20000 + 3000], 0);
    }

    #[test]
    fn single_step_runs_one_iteration() {
        let code = asm(16, |a| a.rep().stosb());
        let (mut cpu, mut bus) = real(&code);
        cpu.state.rflags |= flags::TF;
        cpu.state.gpr[CX] = 4;
        // #DB handler at 0000:3000 (IRET-free: we only look at the frame).
        bus.ram[4..8].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[CX], 3);
        assert_eq!(cpu.state.rip, 0x3000, "#DB after one iteration");
        // Pushed IP is the string instruction itself.
        assert_eq!(&bus.ram[0x7ffa..0x7ffc], &[0x00, 0x10]);
    }

    #[test]
    fn fault_mid_rep_keeps_completed_iterations() {
        // SI = 0xfffd: the first word (0xfffd..0xfffe) is fine, the second
        // (0xffff..0x10000) crosses the DS limit: #GP(0) in real mode.
        let code = asm(16, |a| a.rep().movsw());
        let (mut cpu, mut bus) = real(&code);
        bus.ram[13 * 4..13 * 4 + 4].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        bus.ram[0x1fffd] = 0x11;
        bus.ram[0x1fffe] = 0x22;
        cpu.state.gpr[SI] = 0xfffd;
        cpu.state.gpr[DI] = 0x10;
        cpu.state.gpr[CX] = 5;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x3000, "#GP delivered");
        assert_eq!(&bus.ram[0x7ffa..0x7ffc], &[0x00, 0x10], "IP of the MOVSW");
        assert_eq!(cpu.state.gpr[SI], 0xffff);
        assert_eq!(cpu.state.gpr[DI], 0x12);
        assert_eq!(cpu.state.gpr[CX], 4);
        assert_eq!(&bus.ram[0x20010..0x20013], &[0x11, 0x22, 0]);
    }

    #[test]
    fn repe_cmpsb_and_repne_scasb() {
        let code = asm(16, |a| {
            a.repe().cmpsb()?;
            a.repne().scasb()
        });
        let (mut cpu, mut bus) = real(&code);
        bus.ram[0x10000..0x10006].copy_from_slice(b"abcXef");
        bus.ram[0x20000..0x20006].copy_from_slice(b"abcdef");
        cpu.state.gpr[CX] = 6;
        run(&mut cpu, &mut bus, 1);
        // Stops after the 4th comparison: 'X' - 'd' = 0x58 - 0x64 = 0xf4
        // (borrow, negative, odd parity, no nibble borrow, no overflow).
        assert_eq!(cpu.state.gpr[CX], 2);
        assert_eq!(cpu.state.gpr[SI], 4);
        assert_eq!(cpu.state.gpr[DI], 4);
        assert_eq!(cpu.state.rflags & flags::STATUS, flags::CF | flags::SF);
        // strlen-style: find the 0 byte at ES:0x40.
        bus.ram[0x20040..0x20044].copy_from_slice(b"hi\0!");
        cpu.state.gpr[DI] = 0x40;
        cpu.state.gpr[CX] = 0xffff;
        cpu.state.gpr[0] = 0;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[DI], 0x43);
        assert_eq!(cpu.state.gpr[CX], 0xfffc);
        assert!(cpu.flag(flags::ZF));
        // REPE with count 0 leaves the flags alone.
        let (mut cpu, mut bus) = real(&code);
        cpu.state.rflags |= flags::CF;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rflags, flags::FIXED | flags::CF);
    }

    #[test]
    fn source_segment_override() {
        // fs rep movsb; the destination stays ES even with an override.
        let code = [0x64, 0xf3, 0xa4];
        let (mut cpu, mut bus) = real(&code);
        cpu.state.load_segment_real(SegReg::Fs, 0x3000);
        bus.ram[0x30000] = 0x77;
        cpu.state.gpr[CX] = 1;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(bus.ram[0x20000], 0x77);
    }

    #[test]
    fn lods_stos_sizes_64() {
        let code = asm(64, |a| {
            a.lodsq()?;
            a.lodsd()?;
            a.stosw()?;
            a.rep().stosq()?;
            // addr32 rep stosb: EDI/ECX, zero-extended into RDI/RCX.
            a.db(&[0x67, 0xf3, 0xaa])?;
            Ok(())
        });
        let (mut cpu, mut bus) = long64(&code);
        bus.ram[0x3000..0x300c].copy_from_slice(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        cpu.state.gpr[SI] = 0x3000;
        cpu.state.gpr[DI] = 0x4000;
        for _ in 0..3 {
            exec(&mut cpu, &mut bus).unwrap();
        }
        assert_eq!(cpu.state.gpr[0], 0x0c0b_0a09, "LODSD zero-extends RAX");
        assert_eq!(cpu.state.gpr[SI], 0x300c);
        assert_eq!(&bus.ram[0x4000..0x4003], &[0x09, 0x0a, 0]);
        assert_eq!(cpu.state.gpr[DI], 0x4002);
        cpu.state.gpr[0] = 0x1122_3344_5566_7788;
        cpu.state.gpr[CX] = 2;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(
            &bus.ram[0x4002..0x400a],
            &0x1122_3344_5566_7788u64.to_le_bytes()
        );
        assert_eq!(
            &bus.ram[0x400a..0x4012],
            &0x1122_3344_5566_7788u64.to_le_bytes()
        );
        assert_eq!(cpu.state.gpr[DI], 0x4012);
        cpu.state.gpr[DI] = 0xffff_ffff_0000_5000;
        cpu.state.gpr[CX] = 0xffff_ffff_0000_0002;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gpr[DI], 0x5002);
        assert_eq!(cpu.state.gpr[CX], 0);
        assert_eq!(&bus.ram[0x5000..0x5003], &[0x88, 0x88, 0]);
    }

    #[test]
    fn page_fault_mid_rep_in_long_mode() {
        // rep movsq crossing from mapped memory (below 1 GiB) into unmapped.
        let code = asm(64, |a| a.rep().movsq());
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[SI] = 0x3000;
        cpu.state.gpr[DI] = 0x3fff_fff0;
        cpu.state.gpr[CX] = 4;
        let r = exec(&mut cpu, &mut bus);
        assert_eq!(
            r,
            Err(Fault::Exception(Exception::PF {
                addr: 0x4000_0000,
                code: 2
            }))
        );
        assert_eq!(cpu.state.rip, 0x1000);
        assert_eq!(cpu.state.gpr[CX], 2);
        assert_eq!(cpu.state.gpr[SI], 0x3010);
        assert_eq!(cpu.state.gpr[DI], 0x4000_0000);
    }

    #[test]
    fn sse_movsd_cmpsd_are_not_the_string_instructions() {
        // SSE2 MOVSD and CMPSD have their own handlers (registered per
        // Code): #UD here only because CR4.OSFXSR = 0, and not counted as
        // unimplemented.
        for (code, unimplemented) in [
            (&[0xf2, 0x0f, 0x10, 0xc1][..], 0),
            (&[0xf2, 0x0f, 0xc2, 0xc1, 0x00], 0),
        ] {
            let (mut cpu, mut bus) = long64(code);
            assert_eq!(
                exec(&mut cpu, &mut bus),
                Err(Fault::Exception(Exception::UD))
            );
            assert_eq!(cpu.stats.unimplemented.len(), unimplemented);
        }
        // The string MOVSD still works.
        let code = asm(32, |a| a.movsd());
        let (mut cpu, mut bus) = prot32(&code);
        bus.ram[0x3000..0x3004].copy_from_slice(&[1, 2, 3, 4]);
        cpu.state.gpr[SI] = 0x3000;
        cpu.state.gpr[DI] = 0x4000;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(&bus.ram[0x4000..0x4004], &[1, 2, 3, 4]);
        assert_eq!((cpu.state.gpr[SI], cpu.state.gpr[DI]), (0x3004, 0x4004));
    }

    #[test]
    fn rep_outs_and_ins() {
        let code = asm(16, |a| {
            a.rep().outsw()?;
            a.rep().insb()
        });
        let (mut cpu, mut bus) = real(&code);
        bus.ram[0x10000..0x10006].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        cpu.state.gpr[2] = 0xe9;
        cpu.state.gpr[CX] = 3;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(
            bus.io_log,
            vec![(0xe9, 2, 0x0201), (0xe9, 2, 0x0403), (0xe9, 2, 0x0605)]
        );
        assert_eq!(cpu.state.gpr[SI], 6);
        cpu.state.gpr[CX] = 2;
        run(&mut cpu, &mut bus, 1);
        // FlatBus reads unclaimed ports as all-ones.
        assert_eq!(&bus.ram[0x20000..0x20003], &[0xff, 0xff, 0]);
        assert_eq!(cpu.state.gpr[DI], 2);
    }

    #[test]
    fn outs_checks_io_permission() {
        // CPL 3, IOPL 0, TSS without a bitmap: #GP(0) before any output.
        let code = asm(32, |a| a.outsb());
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        cpu.state.tr.limit = 0x67;
        cpu.state.tr.base = 0x8000;
        bus.ram[0x8066..0x8068].copy_from_slice(&0x68u16.to_le_bytes());
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        assert!(bus.io_log.is_empty());
    }
}

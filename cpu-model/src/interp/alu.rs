//! Integer arithmetic and logic: ADD ADC SUB SBB CMP AND OR XOR TEST INC
//! DEC NEG NOT. SDM Vol. 2 instruction pages of those names; flag effects
//! Vol. 1 Appendix A (EFLAGS cross-reference).
//!
//! Also the read-modify-write operand helper the shift and bit families use.

use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, CF, STATUS};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Add, add);
    t.set(Mnemonic::Adc, adc);
    t.set(Mnemonic::Sub, sub);
    t.set(Mnemonic::Sbb, sbb);
    t.set(Mnemonic::Cmp, cmp);
    t.set(Mnemonic::And, and);
    t.set(Mnemonic::Or, or);
    t.set(Mnemonic::Xor, xor);
    t.set(Mnemonic::Test, test);
    t.set(Mnemonic::Inc, inc);
    t.set(Mnemonic::Dec, dec);
    t.set(Mnemonic::Neg, neg);
    t.set(Mnemonic::Not, not);
}

/// Read operand `i` of an instruction that will write it back. A memory
/// operand is first checked for writing (segment type and limit, paging
/// with W = 1), as hardware treats a read-modify-write access as a write:
/// a not-present or read-only page faults with the W/R bit set in the #PF
/// error code, before anything is read. LOCK-prefixed forms take the same
/// path (there is a single processor, so they are atomic by construction).
pub(super) fn read_rmw(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    i: u32,
) -> Result<u64, Exception> {
    if ins.op_kind(i) == OpKind::Memory {
        let ea = cpu.effective_address(ins);
        cpu.probe_write_mem(bus, Cpu::mem_segment(ins), ea, Cpu::op_size(ins, i))?;
    }
    cpu.read_op(bus, ins, i)
}

impl Cpu {
    /// Operand `i` of `ins` read as a read-modify-write instruction reads
    /// it (checked for writing first; see `read_rmw`), for engines that
    /// split such an instruction into a read and a write.
    pub fn read_rmw_op(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        i: u32,
    ) -> Result<u64, Exception> {
        read_rmw(self, bus, ins, i)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Adc,
    Sub,
    Sbb,
    Cmp,
    And,
    Or,
    Xor,
    Test,
}

/// The two-operand forms: `op0 = op0 <op> op1` (CMP and TEST only set
/// flags). The source (register, memory or immediate, which iced-x86
/// reports sign-extended) is truncated to the destination size.
fn binop(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, op: Op) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let m = flags::mask(size);
    let writes = !matches!(op, Op::Cmp | Op::Test);
    let a = if writes {
        read_rmw(cpu, bus, ins, 0)?
    } else {
        cpu.read_op(bus, ins, 0)?
    } & m;
    let b = cpu.read_op(bus, ins, 1)? & m;
    let cf = cpu.flag(CF);
    let (r, f) = match op {
        Op::Add => flags::add(a, b, false, size),
        Op::Adc => flags::add(a, b, cf, size),
        Op::Sub | Op::Cmp => flags::sub(a, b, false, size),
        Op::Sbb => flags::sub(a, b, cf, size),
        Op::And | Op::Test => (a & b, flags::logic(a & b, size)),
        Op::Or => (a | b, flags::logic(a | b, size)),
        Op::Xor => (a ^ b, flags::logic(a ^ b, size)),
    };
    if writes {
        cpu.write_op(bus, ins, 0, r)?;
    }
    cpu.set_flags(STATUS, f);
    Ok(())
}

/// ADD: all six status flags from the sum. SDM Vol. 2 "ADD".
fn add(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Add)
}

/// ADC: ADD with CF as carry-in. SDM Vol. 2 "ADC".
fn adc(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Adc)
}

/// SUB. SDM Vol. 2 "SUB".
fn sub(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Sub)
}

/// SBB: SUB with CF as borrow-in. SDM Vol. 2 "SBB".
fn sbb(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Sbb)
}

/// CMP: the flags of SUB, destination not written (so a memory operand is
/// only read). SDM Vol. 2 "CMP".
fn cmp(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Cmp)
}

/// AND: CF = OF = 0; SF, ZF, PF from the result; AF undefined — we clear
/// it, as Intel hardware does. SDM Vol. 2 "AND".
fn and(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::And)
}

/// OR: flags as AND (AF undefined, cleared). SDM Vol. 2 "OR".
fn or(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Or)
}

/// XOR: flags as AND (AF undefined, cleared). SDM Vol. 2 "XOR".
fn xor(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Xor)
}

/// TEST: flags of AND, nothing written (AF undefined, cleared).
/// SDM Vol. 2 "TEST".
fn test(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    binop(cpu, bus, ins, Op::Test)
}

/// INC / DEC: OF, SF, ZF, AF, PF as ADD / SUB of 1; CF is preserved.
/// SDM Vol. 2 "INC", "DEC".
fn inc_dec(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, inc: bool) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let a = read_rmw(cpu, bus, ins, 0)?;
    let (r, f) = if inc {
        flags::add(a, 1, false, size)
    } else {
        flags::sub(a, 1, false, size)
    };
    cpu.write_op(bus, ins, 0, r)?;
    cpu.set_flags(STATUS & !CF, f);
    Ok(())
}

/// INC: add 1, CF unchanged. SDM Vol. 2 "INC".
fn inc(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    inc_dec(cpu, bus, ins, true)
}

/// DEC: subtract 1, CF unchanged. SDM Vol. 2 "DEC".
fn dec(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    inc_dec(cpu, bus, ins, false)
}

/// NEG: `0 - op`; flags of that subtraction, which gives CF = (op != 0)
/// and OF = (op is the most negative value). SDM Vol. 2 "NEG".
fn neg(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let a = read_rmw(cpu, bus, ins, 0)?;
    let (r, f) = flags::sub(0, a, false, size);
    cpu.write_op(bus, ins, 0, r)?;
    cpu.set_flags(STATUS, f);
    Ok(())
}

/// NOT: one's complement; no flags affected. SDM Vol. 2 "NOT".
fn not(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let a = read_rmw(cpu, bus, ins, 0)?;
    cpu.write_op(bus, ins, 0, !a & flags::mask(size))?;
    Ok(())
}

/// Helpers shared by the tests of the ALU, shift, multiply/divide, BCD and
/// bit families.
#[cfg(test)]
pub(crate) mod testutil {
    pub(crate) use crate::flags::{AF, CF, OF, PF, SF, STATUS, ZF};
    use crate::memory::FlatBus;
    use crate::Cpu;
    pub(crate) use iced_x86::code_asm::*;

    pub(crate) use crate::interp::tests::asm;

    /// Run one instruction without delivering a fault: the handler's own
    /// result (faults are checked as values here; delivery is the core's).
    pub(crate) use crate::interp::tests::exec;

    /// Run `n` instructions, each of which must succeed.
    pub(crate) use crate::interp::tests::exec_n;

    /// The six status flags.
    pub(crate) fn status(cpu: &Cpu) -> u64 {
        cpu.state.rflags & STATUS
    }

    pub(crate) fn rd(bus: &FlatBus, addr: usize, size: usize) -> u64 {
        let mut b = [0u8; 8];
        b[..size].copy_from_slice(&bus.ram[addr..addr + size]);
        u64::from_le_bytes(b)
    }

    pub(crate) fn wr(bus: &mut FlatBus, addr: usize, size: usize, v: u64) {
        bus.ram[addr..addr + size].copy_from_slice(&v.to_le_bytes()[..size]);
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use crate::exception::{Exception, Fault};
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use crate::state::reg;

    /// Run `f`'s code in 64-bit mode with RAX = `a`, RBX = `b`, flags `fl`;
    /// return (RAX, status flags).
    fn op64(
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
    fn add_sizes_and_flags() {
        assert_eq!(op64(0x7f, 1, 0, |a| a.add(al, bl)), (0x80, SF | OF | AF));
        assert_eq!(op64(0xff, 1, 0, |a| a.add(al, bl)), (0, ZF | CF | AF | PF));
        // 8-bit write keeps the rest of RAX.
        assert_eq!(op64(0x1234_56ff, 1, 0, |a| a.add(al, bl)).0, 0x1234_5600);
        assert_eq!(
            op64(0xffff, 1, 0, |a| a.add(ax, bx)),
            (0, ZF | CF | AF | PF)
        );
        // 32-bit write zero-extends.
        assert_eq!(
            op64(0xffff_ffff_7fff_ffff, 1, 0, |a| a.add(eax, ebx)),
            (0x8000_0000, SF | OF | AF | PF)
        );
        assert_eq!(
            op64(u64::MAX, 1, 0, |a| a.add(rax, rbx)),
            (0, ZF | CF | AF | PF)
        );
        assert_eq!(
            op64(0x7fff_ffff_ffff_ffff, 1, 0, |a| a.add(rax, rbx)),
            (0x8000_0000_0000_0000, SF | OF | AF | PF)
        );
        // Sign-extended imm8 and imm32 are truncated to the operand size.
        assert_eq!(op64(1, 0, 0, |a| a.add(ax, -1)), (0, ZF | CF | AF | PF));
        assert_eq!(op64(0, 0, 0, |a| a.add(rax, -2)).0, u64::MAX - 1);
        assert_eq!(op64(0, 0, 0, |a| a.add(eax, -2)).0, 0xffff_fffe);
    }

    #[test]
    fn adc_sbb_use_carry() {
        assert_eq!(op64(0xff, 0, CF, |a| a.adc(al, bl)), (0, ZF | CF | AF | PF));
        assert_eq!(op64(0xfe, 0, 0, |a| a.adc(al, bl)).0, 0xfe);
        assert_eq!(
            op64(u64::MAX, u64::MAX, CF, |a| a.adc(rax, rbx)),
            (u64::MAX, SF | CF | AF | PF)
        );
        assert_eq!(
            op64(0, 0, CF, |a| a.sbb(eax, ebx)),
            (0xffff_ffff, SF | CF | AF | PF)
        );
        assert_eq!(op64(5, 4, CF, |a| a.sbb(rax, rbx)), (0, ZF | PF));
        // 0x80 - 0 - 1 = 0x7f: signed overflow, half borrow.
        assert_eq!(op64(0x80, 0, CF, |a| a.sbb(al, bl)), (0x7f, OF | AF));
    }

    #[test]
    fn sub_and_cmp() {
        assert_eq!(
            op64(0, 1, 0, |a| a.sub(ax, bx)),
            (0xffff, SF | CF | AF | PF)
        );
        assert_eq!(op64(0x80, 1, 0, |a| a.sub(al, bl)), (0x7f, OF | AF));
        assert_eq!(
            op64(i64::MIN as u64, 1, 0, |a| a.sub(rax, rbx)),
            (i64::MAX as u64, OF | AF | PF)
        );
        // CMP leaves the destination alone.
        assert_eq!(op64(3, 3, 0, |a| a.cmp(eax, ebx)), (3, ZF | PF));
        assert_eq!(op64(2, 3, 0, |a| a.cmp(rax, rbx)), (2, SF | CF | AF | PF));
        assert_eq!(
            op64(0x10, 0, 0, |a| a.cmp(al, 0x11)),
            (0x10, SF | CF | AF | PF)
        );
    }

    #[test]
    fn logic_ops_clear_cf_of_af() {
        let all = CF | OF | AF;
        assert_eq!(op64(0xf0, 0x0f, all, |a| a.and(al, bl)), (0, ZF | PF));
        assert_eq!(op64(0xf0, 0x0f, all, |a| a.or(al, bl)), (0xff, SF | PF));
        assert_eq!(op64(0xff, 0x01, all, |a| a.xor(al, bl)), (0xfe, SF));
        assert_eq!(
            op64(0xffff_ffff_ffff_ffff, 0, 0, |a| a.xor(eax, eax)),
            (0, ZF | PF)
        );
        assert_eq!(
            op64(0x8000_0000_0000_0001, 0, all, |a| a.test(rax, rax)),
            (0x8000_0000_0000_0001, SF)
        );
        assert_eq!(
            op64(0x0100, 0, 0, |a| a.test(ax, 0x00ff)),
            (0x0100, ZF | PF)
        );
        // OR with imm8 sign-extended to 64 bits.
        assert_eq!(op64(0, 0, 0, |a| a.or(rax, -1)).0, u64::MAX);
    }

    #[test]
    fn inc_dec_keep_cf() {
        assert_eq!(op64(0xff, 0, CF, |a| a.inc(al)), (0, ZF | CF | AF | PF));
        assert_eq!(op64(0xff, 0, 0, |a| a.inc(al)), (0, ZF | AF | PF));
        assert_eq!(
            op64(0x7fff, 0, 0, |a| a.inc(ax)),
            (0x8000, SF | OF | AF | PF)
        );
        assert_eq!(op64(0, 0, 0, |a| a.dec(eax)), (0xffff_ffff, SF | AF | PF));
        assert_eq!(
            op64(0, 0, CF, |a| a.dec(rax)),
            (u64::MAX, SF | CF | AF | PF)
        );
        assert_eq!(
            op64(i64::MIN as u64, 0, 0, |a| a.dec(rax)),
            (i64::MAX as u64, OF | AF | PF)
        );
    }

    #[test]
    fn neg_and_not() {
        assert_eq!(op64(0, 0, CF, |a| a.neg(eax)), (0, ZF | PF));
        assert_eq!(op64(1, 0, 0, |a| a.neg(al)), (0xff, SF | CF | AF | PF));
        assert_eq!(op64(0x80, 0, 0, |a| a.neg(al)), (0x80, SF | OF | CF));
        assert_eq!(
            op64(i64::MIN as u64, 0, 0, |a| a.neg(rax)),
            (i64::MIN as u64, SF | OF | CF | PF)
        );
        let all = CF | OF | SF | ZF | AF | PF;
        assert_eq!(op64(0x1234, 0, all, |a| a.not(ax)), (0xedcb, all));
        assert_eq!(
            op64(0xffff_ffff_0000_0000, 0, 0, |a| a.not(eax)),
            (0xffff_ffff, 0)
        );
        assert_eq!(op64(0, 0, 0, |a| a.not(rax)), (u64::MAX, 0));
    }

    #[test]
    fn high_byte_registers() {
        let code = asm(64, |a| {
            a.add(ah, bh)?;
            a.sub(ch, 1)?;
            a.xor(dh, ah)
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RAX] = 0x1122_3344_5566_7f88;
        cpu.state.gpr[reg::RBX] = 0x0100;
        cpu.state.gpr[reg::RCX] = 0;
        cpu.state.gpr[reg::RDX] = 0xff00;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x1122_3344_5566_8088);
        assert_eq!(status(&cpu), SF | OF | AF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RCX], 0xff00);
        assert_eq!(status(&cpu), SF | CF | AF | PF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RDX], 0x7f00);
        assert_eq!(status(&cpu), 0);
    }

    #[test]
    fn memory_forms_64() {
        let code = asm(64, |a| {
            a.add(qword_ptr(rbx), rax)?;
            a.lock().sub(dword_ptr(rbx + 8), 1)?;
            a.cmp(word_ptr(rbx + 16), 0x1234)?;
            a.xor(cl, byte_ptr(rbx + 24))?;
            a.neg(qword_ptr(rbx + 32))?;
            a.not(byte_ptr(rbx + 40))?;
            a.inc(word_ptr(rbx + 48))?;
            a.test(byte_ptr(rbx + 24), 0x80)
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RBX] = 0x3000;
        cpu.state.gpr[reg::RAX] = 1;
        cpu.state.gpr[reg::RCX] = 0x0f;
        wr(&mut bus, 0x3000, 8, u64::MAX);
        wr(&mut bus, 0x3008, 8, 0xaaaa_aaaa_0000_0000);
        wr(&mut bus, 0x3010, 2, 0x1234);
        wr(&mut bus, 0x3018, 1, 0xf0);
        wr(&mut bus, 0x3020, 8, 5);
        wr(&mut bus, 0x3028, 1, 0x0f);
        wr(&mut bus, 0x3030, 2, 0xffff);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3000, 8), 0);
        assert_eq!(status(&cpu), ZF | CF | AF | PF);
        exec_n(&mut cpu, &mut bus, 1);
        // Only the dword changes; the bytes above it are untouched.
        assert_eq!(rd(&bus, 0x3008, 8), 0xaaaa_aaaa_ffff_ffff);
        assert_eq!(status(&cpu), SF | CF | AF | PF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(status(&cpu), ZF | PF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RCX], 0xff);
        assert_eq!(status(&cpu), SF | PF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3020, 8), (-5i64) as u64);
        assert_eq!(status(&cpu), SF | CF | AF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3028, 1), 0xf0);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x3030, 2), 0);
        assert_eq!(status(&cpu), ZF | CF | AF | PF); // CF kept from NEG
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(status(&cpu), SF);
    }

    #[test]
    fn real_mode_16_bit_forms() {
        let code = asm(16, |a| {
            a.add(word_ptr(bx + si + 2), ax)?;
            a.adc(dx, word_ptr(bx + si + 4))?;
            a.sub(eax, 1)?;
            a.dec(si)
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[reg::RBX] = 0x2000;
        cpu.state.gpr[reg::RSI] = 0x10;
        cpu.state.gpr[reg::RAX] = 0x8000;
        cpu.state.gpr[reg::RDX] = 0x1;
        wr(&mut bus, 0x2012, 2, 0x8000);
        wr(&mut bus, 0x2014, 2, 0xfffe);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x2012, 2), 0);
        assert_eq!(status(&cpu), ZF | CF | OF | PF);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RDX], 0);
        assert_eq!(status(&cpu), ZF | CF | AF | PF);
        // Operand-size prefix: 32-bit SUB in a 16-bit code segment.
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x7fff);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RSI], 0xf);
        assert_eq!(cpu.state.rip, 0x1000 + code.len() as u64);
    }

    #[test]
    fn rmw_on_read_only_page_faults_as_write_and_changes_nothing() {
        // Map the page at 0x200000 read-only through a 4 KiB page table.
        let code = asm(64, |a| a.add(dword_ptr(0x20_0000), eax));
        let (mut cpu, mut bus) = long64(&code);
        // PDPT[0] -> PD at 0x72000; PD[0] 2 MiB identity; PD[1] -> PT 0x73000.
        wr(&mut bus, 0x71000, 8, 0x72000 | 7);
        wr(&mut bus, 0x72000, 8, 0x87);
        wr(&mut bus, 0x72008, 8, 0x73000 | 7);
        wr(&mut bus, 0x73000, 8, 0x5000 | 0x5); // present, user, read-only
        cpu.state.cr0 |= crate::state::cr0::WP;
        cpu.tlb = crate::mmu::tlb::Tlb::new();
        cpu.state.gpr[reg::RAX] = 1;
        wr(&mut bus, 0x5000, 4, 7);
        let r = exec(&mut cpu, &mut bus);
        assert_eq!(
            r,
            Err(Fault::Exception(Exception::PF {
                addr: 0x20_0000,
                code: 0x3
            }))
        );
        assert_eq!(rd(&bus, 0x5000, 4), 7);
        // CMP of the same page only reads: no fault.
        let code = asm(64, |a| a.cmp(dword_ptr(0x20_0000), eax));
        bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(&code);
        cpu.state.rip = 0x1000;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(status(&cpu), PF); // 7 - 1 = 6
                                      // Not-present page: a read-modify-write reports W = 1 too.
        wr(&mut bus, 0x73000, 8, 0);
        cpu.tlb = crate::mmu::tlb::Tlb::new();
        let code = asm(64, |a| a.inc(dword_ptr(0x20_0000)));
        bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(&code);
        cpu.state.rip = 0x1000;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::PF {
                addr: 0x20_0000,
                code: 0x2
            }))
        );
    }

    #[test]
    fn lock_on_register_destination_is_ud() {
        // F0 01 C0 = LOCK ADD eax, eax: rejected by the decoder.
        let (mut cpu, mut bus) = prot32(&[0xf0, 0x01, 0xc0]);
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::UD))
        );
        assert!(cpu.stats.unimplemented.is_empty());
    }

    #[test]
    fn family_mnemonics_are_registered() {
        use crate::interp::implements;
        use iced_x86::Mnemonic::*;
        for m in [
            Add, Adc, Sub, Sbb, Cmp, And, Or, Xor, Test, Inc, Dec, Neg, Not, Shl, Sal, Shr, Sar,
            Rol, Ror, Rcl, Rcr, Shld, Shrd, Mul, Imul, Div, Idiv, Daa, Das, Aaa, Aas, Aam, Aad,
            Bound, Bt, Bts, Btr, Btc, Bsf, Bsr, Popcnt, Lzcnt, Tzcnt, Andn, Bextr, Blsi, Blsmsk,
            Blsr, Bzhi, Mulx, Pdep, Pext, Rorx, Sarx, Shlx, Shrx, Adcx, Adox,
        ] {
            assert!(implements(m), "{m:?}");
        }
    }

    #[test]
    fn prot32_forms() {
        let code = asm(32, |a| {
            a.sbb(byte_ptr(ebx), 0x01)?;
            a.and(eax, dword_ptr(ebx + 4))
        });
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.gpr[reg::RBX] = 0x2000;
        cpu.state.gpr[reg::RAX] = 0xffff_ffff;
        wr(&mut bus, 0x2000, 1, 0x01);
        wr(&mut bus, 0x2004, 4, 0x8000_0001);
        cpu.state.rflags |= CF;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(rd(&bus, 0x2000, 1), 0xff);
        assert_eq!(status(&cpu), SF | CF | AF | PF);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x8000_0001);
        assert_eq!(status(&cpu), SF);
    }
}

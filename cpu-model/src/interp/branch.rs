//! Near control transfers: Jcc, JMP, CALL, RET (near), LOOP/LOOPE/LOOPNE,
//! JCXZ/JECXZ/JRCXZ. Far JMP/CALL forms are forwarded to `far`.
//! SDM Vol. 1 §6.3 (calling procedures), Vol. 2 "Jcc", "JMP", "CALL",
//! "RET", "LOOP/LOOPcc", "Jcc" (JCXZ family).
//!
//! Targets are masked to the operand size (iced's NearBranch16/32/64
//! operand kinds carry it for relative forms) and checked against the CS
//! limit outside 64-bit mode, or for canonical form in 64-bit mode; a bad
//! target is #GP(0) with nothing changed. In 64-bit mode near branches use
//! 64-bit operands; a 66h prefix is ignored as on Intel processors (iced's
//! default decoding).

use super::datamov::condition_holds;
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, mask};
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::CpuMode;
use crate::Cpu;
use iced_x86::{Code, Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    for m in JCC {
        t.set(m, jcc);
    }
    t.set(Mnemonic::Jmp, jmp);
    t.set(Mnemonic::Call, call);
    t.set(Mnemonic::Ret, ret);
    for m in [Mnemonic::Loop, Mnemonic::Loope, Mnemonic::Loopne] {
        t.set(m, loop_);
    }
    for m in [Mnemonic::Jcxz, Mnemonic::Jecxz, Mnemonic::Jrcxz] {
        t.set(m, jcxz);
    }
}

const JCC: [Mnemonic; 16] = [
    Mnemonic::Jo,
    Mnemonic::Jno,
    Mnemonic::Jb,
    Mnemonic::Jae,
    Mnemonic::Je,
    Mnemonic::Jne,
    Mnemonic::Jbe,
    Mnemonic::Ja,
    Mnemonic::Js,
    Mnemonic::Jns,
    Mnemonic::Jp,
    Mnemonic::Jnp,
    Mnemonic::Jl,
    Mnemonic::Jge,
    Mnemonic::Jle,
    Mnemonic::Jg,
];

impl Cpu {
    /// Is `target` (already masked to the operand size) a valid near
    /// branch target? #GP(0) beyond the CS limit, or non-canonical in
    /// 64-bit mode.
    pub fn check_near_target(&self, target: u64) -> Result<(), Exception> {
        let ok = if self.state.mode() == CpuMode::Long64 {
            is_canonical(target)
        } else {
            target <= u64::from(self.state.cs().limit)
        };
        if ok {
            Ok(())
        } else {
            Err(Exception::GP(0))
        }
    }

    /// Jump to `target` truncated to an operand size of `size` bytes.
    pub fn near_jump(&mut self, target: u64, size: u32) -> Result<(), Exception> {
        let t = target & mask(size);
        self.check_near_target(t)?;
        self.state.rip = t;
        Ok(())
    }
}

/// Operand size of a relative branch, from iced's operand kind.
fn rel_size(ins: &Instruction) -> u32 {
    match ins.op0_kind() {
        OpKind::NearBranch16 => 2,
        OpKind::NearBranch32 => 4,
        _ => 8,
    }
}

/// Jcc rel8/rel16/rel32 — SDM Vol. 2 "Jcc—Jump if Condition Is Met".
/// No flags.
fn jcc(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if condition_holds(cpu, ins) {
        cpu.near_jump(ins.near_branch_target(), rel_size(ins))?;
    }
    Ok(())
}

/// JMP — SDM Vol. 2 "JMP—Jump". Near relative and near indirect (r/m,
/// read at the operand size) forms here; far forms (ptr16:16/32,
/// m16:16/32/64) go to `far::jmp_far`. No flags.
fn jmp(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let code = ins.code();
    if code.is_jmp_far() || code.is_jmp_far_indirect() {
        return super::far::jmp_far(cpu, bus, ins);
    }
    match ins.op0_kind() {
        OpKind::Register | OpKind::Memory => {
            let size = Cpu::op_size(ins, 0);
            let target = cpu.read_op(bus, ins, 0)?;
            cpu.near_jump(target, size)?;
        }
        _ => cpu.near_jump(ins.near_branch_target(), rel_size(ins))?,
    }
    Ok(())
}

/// CALL — SDM Vol. 2 "CALL—Call Procedure". Near forms: the target is
/// read (an r/m operand addressed through rSP uses its value before the
/// push) and checked before the return address (the next instruction's
/// IP, at the operand size) is pushed. Far forms go to `far::call_far`.
/// No flags.
fn call(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let code = ins.code();
    if code.is_call_far() || code.is_call_far_indirect() {
        return super::far::call_far(cpu, bus, ins);
    }
    let (target, size) = match ins.op0_kind() {
        OpKind::Register | OpKind::Memory => {
            let size = Cpu::op_size(ins, 0);
            (cpu.read_op(bus, ins, 0)?, size)
        }
        _ => (ins.near_branch_target(), rel_size(ins)),
    };
    let target = target & mask(size);
    cpu.check_near_target(target)?;
    let ret = cpu.state.rip;
    cpu.push(bus, size, ret)?;
    cpu.state.rip = target;
    Ok(())
}

/// RET (near), RET imm16 — SDM Vol. 2 "RET—Return From Procedure": pop the
/// return address at the operand size, check it, then release imm16 more
/// bytes of stack (at the stack width). No flags.
fn ret(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = match ins.code() {
        Code::Retnw | Code::Retnw_imm16 => 2,
        Code::Retnd | Code::Retnd_imm16 => 4,
        _ => 8,
    };
    let target = cpu.pop(bus, size)?;
    cpu.check_near_target(target)?;
    if ins.op_count() == 1 && ins.op0_kind() == OpKind::Immediate16 {
        let sp = cpu.state.gpr[crate::state::reg::RSP].wrapping_add(u64::from(ins.immediate16()));
        cpu.set_sp(sp);
    }
    cpu.state.rip = target;
    Ok(())
}

/// Counter register of LOOP/LOOPcc (by address size, with any 0x67
/// prefix), from iced's `Code`: the one definition both engines use.
pub fn loop_counter(code: Code) -> Register {
    use Code::*;
    match code {
        Loop_rel8_16_CX | Loop_rel8_32_CX | Loope_rel8_16_CX | Loope_rel8_32_CX
        | Loopne_rel8_16_CX | Loopne_rel8_32_CX => Register::CX,
        Loop_rel8_16_RCX | Loop_rel8_64_RCX | Loope_rel8_16_RCX | Loope_rel8_64_RCX
        | Loopne_rel8_16_RCX | Loopne_rel8_64_RCX => Register::RCX,
        _ => Register::ECX,
    }
}

/// LOOP / LOOPE / LOOPNE — SDM Vol. 2 "LOOP/LOOPcc—Loop According to ECX
/// Counter". The counter (CX, ECX or RCX by address size; a 32-bit counter
/// in 64-bit mode is zero-extended when written) is decremented without
/// touching the flags; branch if it is not zero (and ZF = 1 for LOOPE,
/// ZF = 0 for LOOPNE).
fn loop_(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let cx = loop_counter(ins.code());
    let count = cpu.reg(cx).wrapping_sub(1) & mask(cx.size() as u32);
    cpu.set_reg(cx, count);
    let zf = cpu.flag(flags::ZF);
    let take = count != 0
        && match ins.mnemonic() {
            Mnemonic::Loope => zf,
            Mnemonic::Loopne => !zf,
            _ => true,
        };
    if take {
        cpu.near_jump(ins.near_branch_target(), rel_size(ins))?;
    }
    Ok(())
}

/// JCXZ / JECXZ / JRCXZ — SDM Vol. 2 "Jcc—Jump if Condition Is Met": jump
/// if CX / ECX / RCX is zero. No flags.
fn jcxz(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let cx = match ins.mnemonic() {
        Mnemonic::Jcxz => Register::CX,
        Mnemonic::Jecxz => Register::ECX,
        _ => Register::RCX,
    };
    if cpu.reg(cx) == 0 {
        cpu.near_jump(ins.near_branch_target(), rel_size(ins))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use crate::state::{reg, SegReg};

    use crate::interp::tests::exec;

    use crate::interp::tests::exec_n;

    const GP0: Result<(), Fault> = Err(Fault::Exception(Exception::GP(0)));

    /// SDM Vol. 1 Table B-1, flags (CF, ZF, SF, OF, PF) → condition nibble.
    fn expected(cc: u8, f: u64) -> bool {
        let b = |m| f & m != 0;
        let (c, z, s, o, p) = (
            b(flags::CF),
            b(flags::ZF),
            b(flags::SF),
            b(flags::OF),
            b(flags::PF),
        );
        let t = [
            o,
            !o,
            c,
            !c,
            z,
            !z,
            c || z,
            !c && !z,
            s,
            !s,
            p,
            !p,
            s != o,
            s == o,
            z || s != o,
            !z && s == o,
        ];
        t[usize::from(cc)]
    }

    #[test]
    fn jcc_all_conditions_short_and_near() {
        let samples = [
            0,
            flags::CF,
            flags::ZF,
            flags::SF,
            flags::OF,
            flags::PF,
            flags::SF | flags::OF,
        ];
        for cc in 0..16u8 {
            for &f in &samples {
                // 7x 10: jcc short +0x10; 0F 8x rel32 -0x100.
                for (code, taken, not_taken) in [
                    (vec![0x70 + cc, 0x10], 0x1012u64, 0x1002u64),
                    (
                        vec![0x0f, 0x80 + cc, 0x00, 0xff, 0xff, 0xff],
                        0x0f06,
                        0x1006,
                    ),
                ] {
                    let (mut cpu, mut bus) = long64(&code);
                    cpu.state.rflags = flags::FIXED | f;
                    exec_n(&mut cpu, &mut bus, 1);
                    let want = if expected(cc, f) { taken } else { not_taken };
                    assert_eq!(cpu.state.rip, want, "cc {cc:x} flags {f:#x}");
                    assert_eq!(cpu.state.rflags, flags::FIXED | f);
                }
            }
        }
    }

    #[test]
    fn operand_size_16_masks_targets() {
        // 32-bit code: 66 E9 rel16 (jmp with a 16-bit operand) from 0x1000
        // by +0xf000 → 0x10004 masked to 0x0004.
        let (mut cpu, mut bus) = prot32(&[0x66, 0xe9, 0x00, 0xf0]);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x0004);
        // Real mode: jmp short backwards across 0 wraps at 64 KiB.
        let (mut cpu, mut bus) = real_mode(&[]);
        cpu.state.rip = 0;
        bus.ram[0..2].copy_from_slice(&[0xeb, 0xf0]); // jmp -0x10 → 0xfff2
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0xfff2);
    }

    #[test]
    fn targets_checked_against_cs_limit_and_canonical() {
        // CS limit 0x1fff: jmp to 0x2000 faults, 0x1fff is fine.
        for (disp, result) in [(0x0ffau32, Ok(())), (0x0ffb, GP0)] {
            let mut code = vec![0xe9];
            code.extend_from_slice(&disp.to_le_bytes());
            let (mut cpu, mut bus) = prot32(&code);
            cpu.state.seg[SegReg::Cs as usize].limit = 0x1fff;
            assert_eq!(exec(&mut cpu, &mut bus), result);
            let want = if result.is_ok() { 0x1fff } else { 0x1000 };
            assert_eq!(cpu.state.rip, want);
        }
        // 64-bit: jmp rax with a non-canonical target; call too (no push).
        for code in [[0xff, 0xe0], [0xff, 0xd0]] {
            let (mut cpu, mut bus) = long64(&code);
            cpu.state.gpr[0] = 0x0000_8000_0000_0000;
            cpu.state.gpr[reg::RSP] = 0x9000;
            assert_eq!(exec(&mut cpu, &mut bus), GP0);
            assert_eq!(cpu.state.rip, 0x1000);
            assert_eq!(cpu.state.gpr[reg::RSP], 0x9000);
            assert_eq!(bus.ram[0x8ff8], 0);
            cpu.state.gpr[0] = 0xffff_8000_0000_0000;
            exec_n(&mut cpu, &mut bus, 1);
            assert_eq!(cpu.state.rip, 0xffff_8000_0000_0000);
        }
    }

    #[test]
    fn call_and_ret_near() {
        // 64-bit: call +0x20; at 0x1025: ret 8.
        let (mut cpu, mut bus) = long64(&[0xe8, 0x20, 0x00, 0x00, 0x00]);
        bus.ram[0x1025..0x1028].copy_from_slice(&[0xc2, 0x08, 0x00]);
        cpu.state.gpr[reg::RSP] = 0x9000;
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x1025);
        assert_eq!(cpu.state.gpr[reg::RSP], 0x8ff8);
        assert_eq!(&bus.ram[0x8ff8..0x9000], &0x1005u64.to_le_bytes());
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x1005);
        assert_eq!(cpu.state.gpr[reg::RSP], 0x9008);
        // 32-bit: call [esp] uses ESP before the push.
        let (mut cpu, mut bus) = prot32(&[0xff, 0x14, 0x24]);
        cpu.state.gpr[reg::RSP] = 0x9000;
        bus.ram[0x9000..0x9004].copy_from_slice(&0x2000u32.to_le_bytes());
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x2000);
        assert_eq!(&bus.ram[0x8ffc..0x9000], &0x1003u32.to_le_bytes());
        // 16-bit operand in 32-bit code: 66 C3 pops 2 bytes.
        let (mut cpu, mut bus) = prot32(&[0x66, 0xc3]);
        cpu.state.gpr[reg::RSP] = 0x9000;
        bus.ram[0x9000..0x9004].copy_from_slice(&[0x34, 0x12, 0xff, 0xff]);
        exec_n(&mut cpu, &mut bus, 1);
        assert_eq!((cpu.state.rip, cpu.state.gpr[reg::RSP]), (0x1234, 0x9002));
        // Real mode: call rel16 / ret imm16 with SP wrapping.
        let (mut cpu, mut bus) = real_mode(&[0xe8, 0xfd, 0x0f]); // call 0x2000
        bus.ram[0x2000..0x2003].copy_from_slice(&[0xc2, 0x04, 0x00]);
        cpu.state.gpr[reg::RSP] = 0x0000;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x2000);
        assert_eq!(cpu.state.gpr[reg::RSP], 0xfffe);
        assert_eq!(&bus.ram[0xfffe..0x10000], &[0x03, 0x10]);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x1003);
        assert_eq!(cpu.state.gpr[reg::RSP], 0x0004);
    }

    #[test]
    fn ret_to_bad_target_faults_without_popping() {
        let (mut cpu, mut bus) = prot32(&[0xc3]);
        cpu.state.seg[SegReg::Cs as usize].limit = 0xffff;
        cpu.state.gpr[reg::RSP] = 0x9000;
        bus.ram[0x9000..0x9004].copy_from_slice(&0x10000u32.to_le_bytes());
        assert_eq!(exec(&mut cpu, &mut bus), GP0);
        assert_eq!(cpu.state.gpr[reg::RSP], 0x9000);
    }

    #[test]
    fn jmp_indirect_16() {
        // Real mode: jmp word [bx]; jmp si.
        let (mut cpu, mut bus) = real_mode(&[0xff, 0x27]);
        cpu.state.gpr[3] = 0x500;
        bus.ram[0x500..0x502].copy_from_slice(&[0x00, 0x30]);
        bus.ram[0x3000..0x3002].copy_from_slice(&[0xff, 0xe6]);
        cpu.state.gpr[6] = 0xffff_1234;
        run(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.rip, 0x1234);
    }

    #[test]
    fn loop_in_each_address_size() {
        // (mode, code, counter register value, expected counter, taken)
        // E2 FE: loop to itself.
        let cases: [(u32, &[u8], u64, u64, bool); 7] = [
            (16, &[0xe2, 0xfe], 0xabcd_0002, 0xabcd_0001, true),
            (16, &[0xe2, 0xfe], 0xabcd_0001, 0xabcd_0000, false),
            (16, &[0xe2, 0xfe], 0xabcd_0000, 0xabcd_ffff, true),
            (16, &[0x67, 0xe2, 0xfd], 0x1_0000, 0xffff, true), // addr32: ECX
            (32, &[0xe2, 0xfe], 0x1_0000, 0xffff, true),
            (64, &[0xe2, 0xfe], 0x1_0000_0000, 0xffff_ffff, true),
            (64, &[0x67, 0xe2, 0xfd], 0xffff_ffff_0000_0001, 0, false), // ECX
        ];
        for (bits, code, before, after, taken) in cases {
            let (mut cpu, mut bus) = match bits {
                16 => real_mode(code),
                32 => prot32(code),
                _ => long64(code),
            };
            cpu.state.gpr[1] = before;
            exec_n(&mut cpu, &mut bus, 1);
            assert_eq!(cpu.state.gpr[1], after, "{bits} {code:x?} {before:#x}");
            let want = if taken {
                0x1000
            } else {
                0x1000 + code.len() as u64
            };
            assert_eq!(cpu.state.rip, want, "{bits} {code:x?} {before:#x}");
        }
    }

    #[test]
    fn loope_loopne() {
        for (op, zf, taken) in [
            (0xe1u8, true, true),
            (0xe1, false, false),
            (0xe0, false, true),
            (0xe0, true, false),
        ] {
            let (mut cpu, mut bus) = prot32(&[op, 0x10]);
            cpu.state.gpr[1] = 5;
            if zf {
                cpu.state.rflags |= flags::ZF;
            }
            exec_n(&mut cpu, &mut bus, 1);
            assert_eq!(cpu.state.gpr[1], 4, "counter decremented either way");
            assert_eq!(
                cpu.state.rip,
                if taken { 0x1012 } else { 0x1002 },
                "{op:x} {zf}"
            );
        }
    }

    #[test]
    fn jcxz_family() {
        let cases: [(u32, &[u8], u64, bool); 6] = [
            (16, &[0xe3, 0x10], 0xffff_0000, true),
            (16, &[0xe3, 0x10], 0x0001, false),
            (32, &[0xe3, 0x10], 0x1_0000, false),
            (32, &[0x67, 0xe3, 0x10], 0x1_0000, true), // jcxz in 32-bit code
            (64, &[0xe3, 0x10], 0x1_0000_0000, false),
            (64, &[0x67, 0xe3, 0x10], 0x1_0000_0000, true), // jecxz
        ];
        for (bits, code, cx, taken) in cases {
            let (mut cpu, mut bus) = match bits {
                16 => real_mode(code),
                32 => prot32(code),
                _ => long64(code),
            };
            cpu.state.gpr[1] = cx;
            exec_n(&mut cpu, &mut bus, 1);
            let next = 0x1000 + code.len() as u64;
            assert_eq!(
                cpu.state.rip,
                if taken { next + 0x10 } else { next },
                "{code:x?} {cx:#x}"
            );
            assert_eq!(cpu.state.gpr[1], cx);
        }
    }

    #[test]
    fn far_forms_are_forwarded() {
        for code in [
            &[0xea, 0, 0, 0, 0, 0x08, 0][..],
            &[0xff, 0x2b],
            &[0x9a, 0, 0, 0, 0, 0x08, 0],
            &[0xff, 0x1b],
        ] {
            let (mut cpu, mut bus) = prot32(code);
            let _ = exec(&mut cpu, &mut bus);
            assert!(cpu.stats.unimplemented.is_empty());
        }
    }
}

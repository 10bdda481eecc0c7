//! Far control transfers: JMP/CALL far (direct, indirect, through call
//! gates), RET far. SDM Vol. 3 §5.8; Vol. 2 "JMP", "CALL", "RET".
//!
//! Every transfer is checked completely (descriptors, stack room, target
//! offset, accessed bits) before any segment register, stack byte or RIP
//! changes, so a faulting transfer leaves the machine as it was (`step`
//! restores only the GPRs, RIP and RFLAGS). Selector error codes carry the
//! index and TI bit, not the RPL.

use super::descriptor::{accessed_segment, null_stack_segment, sys_type, Descriptor};
use super::Table;
use crate::exception::{Exception, Fault, StopReason};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::{reg, SegReg, Segment};
use crate::Cpu;
use iced_x86::{Code, Instruction, MemorySize, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Retf, retf);
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Jmp,
    Call,
}

/// JMP far (ptr16:16/32 or m16:16/32/64); the JMP handler in branch.rs
/// forwards far forms here. SDM Vol. 2 "JMP" (far jumps), Vol. 3 §5.8.
pub(super) fn jmp_far(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    far_transfer(cpu, bus, ins, Kind::Jmp)
}

/// CALL far; the CALL handler in branch.rs forwards far forms here.
/// SDM Vol. 2 "CALL" (far calls), Vol. 3 §5.8.4–5.8.6.
pub(super) fn call_far(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    far_transfer(cpu, bus, ins, Kind::Call)
}

/// Selector, offset and operand size (2, 4, 8) of a far JMP/CALL target:
/// the immediate ptr16:16/ptr16:32, or a far pointer in memory (offset
/// first, selector after it).
fn far_target(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
) -> Result<(u16, u64, u32), Exception> {
    match ins.op0_kind() {
        OpKind::FarBranch16 => Ok((ins.far_branch_selector(), u64::from(ins.far_branch16()), 2)),
        OpKind::FarBranch32 => Ok((ins.far_branch_selector(), u64::from(ins.far_branch32()), 4)),
        OpKind::Memory => {
            let size = match ins.memory_size() {
                MemorySize::SegPtr16 => 2,
                MemorySize::SegPtr32 => 4,
                MemorySize::SegPtr64 => 8,
                _ => return Err(Exception::UD),
            };
            let ea = cpu.effective_address(ins);
            let seg = Cpu::mem_segment(ins);
            let offset = cpu.read_mem(bus, seg, ea, size)?;
            let sel_ea = ea.wrapping_add(u64::from(size)) & flags::mask(Cpu::addr_size(ins));
            let selector = cpu.read_mem(bus, seg, sel_ea, 2)? as u16;
            Ok((selector, offset, size))
        }
        _ => Err(Exception::UD),
    }
}

/// The state a far transfer lands in, applied by [`land`] only once every
/// check has passed.
pub(super) struct Landing<'a> {
    pub(super) cs: Segment,
    pub(super) rip: u64,
    /// New SS and stack pointer (a change of privilege level).
    pub(super) stack: Option<(Segment, u64)>,
    /// Values pushed after the stack switch, in push order, `push_size`
    /// bytes each.
    pub(super) frame: &'a [u64],
    pub(super) push_size: u32,
    /// Error code of a stack fault on a new stack: #SS(new SS selector).
    pub(super) ss_code: u16,
    /// Bytes released from the stack after the switch (RET far).
    pub(super) release: u64,
    /// Descriptors whose accessed bit gets set.
    pub(super) accessed: &'a [(u16, Descriptor)],
}

/// Target offset check: the CS limit, or canonical form when the target
/// is 64-bit code. #GP(0).
fn check_target(cpu: &Cpu, cs: &Segment, rip: u64) -> Result<(), Exception> {
    let ok = if cpu.state.long_mode_active() && cs.long() {
        is_canonical(rip)
    } else {
        rip <= u64::from(cs.limit)
    };
    if ok {
        Ok(())
    } else {
        Err(Exception::GP(0))
    }
}

/// Switch CS (and SS:SP), push the frame, release stack bytes, jump.
/// Stack room is probed (#SS) before the target offset is checked (#GP(0)),
/// as the SDM orders them; on any fault the segment registers and RSP are
/// restored.
pub(super) fn land(cpu: &mut Cpu, bus: &mut dyn Bus, l: &Landing) -> Result<(), Exception> {
    let saved_seg = cpu.state.seg;
    let saved_rsp = cpu.state.gpr[reg::RSP];
    cpu.state.seg[SegReg::Cs as usize] = l.cs;
    if let Some((ss, sp)) = l.stack {
        cpu.state.seg[SegReg::Ss as usize] = ss;
        cpu.set_sp(sp);
    }
    let r = prepare_landing(cpu, bus, l).and_then(|()| {
        let size = u64::from(l.push_size);
        for (i, &v) in l.frame.iter().enumerate() {
            let off = cpu.stack_offset(size * (i as u64 + 1));
            cpu.write_mem(
                bus,
                SegReg::Ss,
                off,
                l.push_size,
                v & flags::mask(l.push_size),
            )?;
        }
        Ok(())
    });
    if let Err(e) = r {
        cpu.state.seg = saved_seg;
        cpu.state.gpr[reg::RSP] = saved_rsp;
        return Err(e);
    }
    let pushed = u64::from(l.push_size) * l.frame.len() as u64;
    let sp = cpu.stack_offset(pushed).wrapping_add(l.release);
    cpu.set_sp(sp);
    cpu.state.rip = l.rip;
    Ok(())
}

fn prepare_landing(cpu: &mut Cpu, bus: &mut dyn Bus, l: &Landing) -> Result<(), Exception> {
    let size = u64::from(l.push_size);
    for i in 0..l.frame.len() as u64 {
        let off = cpu.stack_offset(size * (i + 1));
        cpu.probe_write_mem(bus, SegReg::Ss, off, l.push_size)
            .map_err(|e| match e {
                Exception::SS(0) if l.stack.is_some() => Exception::SS(l.ss_code),
                e => e,
            })?;
    }
    check_target(cpu, &l.cs, l.rip)?;
    for &(sel, desc) in l.accessed {
        cpu.mark_descriptor_accessed(bus, sel, desc)?;
    }
    Ok(())
}

fn far_transfer(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    kind: Kind,
) -> Result<(), Fault> {
    let (selector, offset, size) = far_target(cpu, bus, ins)?;
    let old_cs = u64::from(cpu.state.cs().selector);
    let old_rip = cpu.state.rip;
    let call_frame = [old_cs, old_rip];
    let frame: &[u64] = if kind == Kind::Call { &call_frame } else { &[] };
    if !cpu.state.protected() || cpu.state.v86() {
        // Real and virtual-8086 mode: CS = selector, base = selector * 16,
        // limit and attributes unchanged; the offset is checked against the
        // current CS limit. SDM Vol. 2 "CALL"/"JMP" (real-address mode).
        let mut cs = *cpu.state.cs();
        cs.selector = selector;
        cs.base = u64::from(selector) << 4;
        let l = Landing {
            cs,
            rip: offset,
            stack: None,
            frame,
            push_size: size,
            ss_code: 0,
            release: 0,
            accessed: &[],
        };
        return Ok(land(cpu, bus, &l)?);
    }
    let code = selector & 0xfffc;
    if code == 0 {
        return Err(Exception::GP(0).into());
    }
    let desc = cpu
        .read_descriptor(bus, selector)?
        .ok_or(Exception::GP(code))?;
    if desc.is_segment() {
        if !desc.is_code() {
            return Err(Exception::GP(code).into());
        }
        // Direct to a code segment: no privilege change.
        let cpl = cpu.state.cpl();
        let rpl = (selector & 3) as u8;
        if cpu.state.long_mode_active() && desc.long_and_big() {
            return Err(Exception::GP(code).into());
        }
        let denied = if desc.is_conforming() {
            desc.dpl() > cpl
        } else {
            rpl > cpl || desc.dpl() != cpl
        };
        if denied {
            return Err(Exception::GP(code).into());
        }
        if !desc.present() {
            return Err(Exception::NP(code).into());
        }
        let l = Landing {
            cs: accessed_segment(desc, (selector & !3) | u16::from(cpl)),
            rip: offset,
            stack: None,
            frame,
            push_size: size,
            ss_code: 0,
            release: 0,
            accessed: &[(selector, desc)],
        };
        return Ok(land(cpu, bus, &l)?);
    }
    let long = cpu.state.long_mode_active();
    match desc.typ() {
        sys_type::CALL_GATE | sys_type::CALL_GATE16 => {
            super::callgate::call_gate(cpu, bus, kind, selector, desc)
        }
        sys_type::TASK_GATE | sys_type::TSS16_AVAIL | sys_type::TSS_AVAIL if !long => {
            // Task switches are reported, not emulated; the checks that
            // come before the switch are made so a bad target still faults.
            let cpl = cpu.state.cpl();
            if desc.dpl() < cpl || desc.dpl() < (selector & 3) as u8 {
                return Err(Exception::GP(code).into());
            }
            if !desc.present() {
                return Err(Exception::NP(code).into());
            }
            Err(StopReason::Unsupported("task switch").into())
        }
        _ => Err(Exception::GP(code).into()),
    }
}

/// RET far [imm16] (RETF): pop (E/R)IP and CS (operand size: 16, 32 or,
/// with REX.W, 64), then release imm16 bytes. Real and virtual-8086 mode:
/// CS loaded as in real mode, IP checked against the CS limit (#GP(0)).
/// Protected mode (SDM Vol. 2 "RET", Vol. 3 §5.8.6): null CS: #GP(0);
/// beyond the table, not code, RPL < CPL, conforming with DPL > RPL,
/// non-conforming with DPL != RPL, or L = D = 1 in IA-32e mode:
/// #GP(selector); not present: #NP(selector). RPL > CPL returns to an
/// outer level: SS:(E/R)SP are popped after the imm16 bytes and checked
/// (null SS: #GP(0) unless returning to 64-bit code at RPL < 3; RPL or
/// DPL != CS RPL or not writable data: #GP(selector); not present:
/// #SS(selector)); imm16 bytes are then released from the new stack, and
/// ES/DS/FS/GS that the new CPL may not use are nulled
/// ([`Cpu::invalidate_outer_segments`]).
fn retf(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size: u32 = match ins.code() {
        Code::Retfw | Code::Retfw_imm16 => 2,
        Code::Retfd | Code::Retfd_imm16 => 4,
        _ => 8,
    };
    let imm = if ins.op_count() > 0 {
        u64::from(ins.immediate16())
    } else {
        0
    };
    let sz = u64::from(size);
    let rip = cpu.peek(bus, 0, size)?;
    let selector = cpu.peek(bus, sz, size)? as u16;
    if !cpu.state.protected() || cpu.state.v86() {
        let mut cs = *cpu.state.cs();
        cs.selector = selector;
        cs.base = u64::from(selector) << 4;
        let l = Landing {
            cs,
            rip,
            stack: None,
            frame: &[],
            push_size: size,
            ss_code: 0,
            release: 2 * sz + imm,
            accessed: &[],
        };
        return Ok(land(cpu, bus, &l)?);
    }
    let code = selector & 0xfffc;
    if code == 0 {
        return Err(Exception::GP(0).into());
    }
    let desc = cpu
        .read_descriptor(bus, selector)?
        .ok_or(Exception::GP(code))?;
    let cpl = cpu.state.cpl();
    let rpl = (selector & 3) as u8;
    let long = cpu.state.long_mode_active();
    let denied = !desc.is_code()
        || rpl < cpl
        || (long && desc.long_and_big())
        || if desc.is_conforming() {
            desc.dpl() > rpl
        } else {
            desc.dpl() != rpl
        };
    if denied {
        return Err(Exception::GP(code).into());
    }
    if !desc.present() {
        return Err(Exception::NP(code).into());
    }
    let cs = accessed_segment(desc, selector);
    if rpl == cpl {
        let l = Landing {
            cs,
            rip,
            stack: None,
            frame: &[],
            push_size: size,
            ss_code: 0,
            release: 2 * sz + imm,
            accessed: &[(selector, desc)],
        };
        return Ok(land(cpu, bus, &l)?);
    }
    // Return to an outer privilege level.
    let new_sp = cpu.peek(bus, 2 * sz + imm, size)?;
    let ss_sel = cpu.peek(bus, 3 * sz + imm, size)? as u16;
    let ss_code = ss_sel & 0xfffc;
    let (ss, ss_desc) = if ss_code == 0 {
        if !(long && desc.is_code64() && rpl != 3) {
            return Err(Exception::GP(0).into());
        }
        (null_stack_segment(rpl), None)
    } else {
        let d = cpu
            .read_descriptor(bus, ss_sel)?
            .ok_or(Exception::GP(ss_code))?;
        if (ss_sel & 3) as u8 != rpl || !d.is_writable_data() || d.dpl() != rpl {
            return Err(Exception::GP(ss_code).into());
        }
        if !d.present() {
            return Err(Exception::SS(ss_code).into());
        }
        (accessed_segment(d, ss_sel), Some(d))
    };
    let accessed_both = [(selector, desc), (ss_sel, ss_desc.unwrap_or(desc))];
    let l = Landing {
        cs,
        rip,
        stack: Some((ss, new_sp)),
        frame: &[],
        push_size: size,
        ss_code,
        release: imm,
        accessed: if ss_desc.is_some() {
            &accessed_both
        } else {
            &accessed_both[..1]
        },
    };
    land(cpu, bus, &l)?;
    cpu.invalidate_outer_segments();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::descriptor::testutil::*;
    use crate::interp::tests::real_mode;
    use crate::state::attr;

    #[test]
    fn real_mode_call_retf_jmp() {
        // call 0x2000:0x0010 ; (at 0x20010) retf 2
        let (mut cpu, mut bus) = real_mode(&[0x9a, 0x10, 0x00, 0x00, 0x20]);
        put(&mut bus, 0x20010, &[0xca, 0x02, 0x00]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(
            (cpu.state.cs().selector, cpu.state.cs().base),
            (0x2000, 0x20000)
        );
        assert_eq!(cpu.state.rip, 0x10);
        assert_eq!(cpu.state.gpr[4], 0x7ffc);
        assert_eq!(get(&bus, 0x7ffc, 4), 0x0000_1005);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0, 0x1005));
        assert_eq!(cpu.state.gpr[4], 0x8002);
        // o32 jmp far 0:0x10000: beyond the 64 KiB CS limit.
        let (mut cpu, mut bus) = real_mode(&[0x66, 0xea, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        assert_eq!(cpu.state.cs().selector, 0);
        // o32 call far [0x100] (m16:32): 4-byte slots.
        let (mut cpu, mut bus) = real_mode(&[0x66, 0xff, 0x1e, 0x00, 0x01]);
        put(&mut bus, 0x100, &[0x34, 0x12, 0, 0, 0x00, 0x10]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x1000, 0x1234));
        assert_eq!(cpu.state.gpr[4], 0x7ff8);
        assert_eq!(get(&bus, 0x7ff8, 8), 0x0000_0000_0000_1005);
    }

    #[test]
    fn direct_jmp_and_call_checks() {
        let jmp = |sel: u8, off: u32| {
            let o = off.to_le_bytes();
            [0xea, o[0], o[1], o[2], o[3], sel, 0x00]
        };
        let run = |code: [u8; 7], user: bool| {
            let (mut cpu, mut bus) = prot_setup(&code);
            if user {
                to_user(&mut cpu);
            }
            let r = exec(&mut cpu, &mut bus);
            (r, cpu, bus)
        };
        assert_eq!(
            run(jmp(0x0b, 0x10), true).0,
            Err(Exception::GP(0x08).into())
        );
        assert_eq!(
            run(jmp(0x1b, 0x10), false).0,
            Err(Exception::GP(0x18).into())
        );
        assert_eq!(
            run(jmp(0x0b, 0x10), false).0,
            Err(Exception::GP(0x08).into()),
            "RPL > CPL"
        );
        assert_eq!(
            run(jmp(0x50, 0x10), false).0,
            Err(Exception::NP(0x50).into())
        );
        assert_eq!(
            run(jmp(0x10, 0x10), false).0,
            Err(Exception::GP(0x10).into())
        );
        assert_eq!(run(jmp(0x03, 0x10), false).0, Err(Exception::GP(0).into()));
        assert_eq!(
            run(jmp(0xf8, 0x10), false).0,
            Err(Exception::GP(0xf8).into())
        );
        assert_eq!(
            run(jmp(0x5b, 0x10), true).0,
            Err(Exception::GP(0x58).into())
        );
        // Beyond the limit: #GP(0), and the accessed bit stays clear.
        let (r, _, bus) = run(jmp(0x68, 0x1000), false);
        assert_eq!(r, Err(Exception::GP(0).into()));
        assert_eq!(bus.ram[GDT_BASE + 0x68 + 5], 0x9a);
        let (r, cpu, bus) = run(jmp(0x68, 0xfff), false);
        r.unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x68, 0xfff));
        assert_eq!(cpu.state.cs().attrs & attr::ACCESSED, attr::ACCESSED);
        assert_eq!(bus.ram[GDT_BASE + 0x68 + 5], 0x9b);
        // Conforming DPL 0 code from CPL 3: CPL stays 3.
        let (r, cpu, _) = run(jmp(0x40, 0x2000), true);
        r.unwrap();
        assert_eq!(cpu.state.cs().selector, 0x43);
        assert_eq!(cpu.state.cpl(), 3);
        // JMP through a gate: no stack change, CPL kept.
        let (r, cpu, _) = run(jmp(0x30, 0), false);
        r.unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x08, 0x2000));
        assert_eq!(cpu.state.gpr[4], 0x8000);
        assert_eq!(
            run(jmp(0x33, 0), true).0,
            Err(Exception::GP(0x08).into()),
            "JMP gate to inner"
        );
        // Direct CALL, same level: 32-bit slots.
        let mut call = jmp(0x68, 0x800);
        call[0] = 0x9a;
        let (r, cpu, bus) = run(call, false);
        r.unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x68, 0x800));
        assert_eq!(cpu.state.gpr[4], 0x7ff8);
        assert_eq!((get(&bus, 0x7ff8, 4), get(&bus, 0x7ffc, 4)), (0x1007, 0x08));
    }

    #[test]
    fn indirect_jmp_and_retf_same_level() {
        // jmp far [eax] (m16:32) ; (at 0x800) retf 4  after pushing a frame
        let (mut cpu, mut bus) = prot_setup(&[0xff, 0x28]);
        cpu.state.gpr[0] = 0x3000;
        put(&mut bus, 0x3000, &[0x00, 0x08, 0, 0, 0x68, 0x00]);
        put(&mut bus, 0x800, &[0xca, 0x04, 0x00]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x68, 0x800));
        put(&mut bus, 0x7ff8, &[0x34, 0x12, 0, 0, 0x08, 0, 0, 0]);
        cpu.state.gpr[4] = 0x7ff8;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x08, 0x1234));
        assert_eq!(cpu.state.gpr[4], 0x8004);
        // RETF to a more privileged level: #GP(selector).
        let (mut cpu, mut bus) = prot_setup(&[0xcb]);
        to_user(&mut cpu);
        put(&mut bus, 0x7000, &[0x34, 0x12, 0, 0, 0x08, 0, 0, 0]);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0x08).into()));
        // RETF to an outer level with a bad SS: #GP(SS).
        let (mut cpu, mut bus) = prot_setup(&[0xcb]);
        put(
            &mut bus,
            0x7ff0,
            &[
                0x34, 0x12, 0, 0, 0x1b, 0, 0, 0, 0, 0x70, 0, 0, 0x13, 0, 0, 0,
            ],
        );
        cpu.state.gpr[4] = 0x7ff0;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0x10).into()));
        assert_eq!(cpu.state.cs().selector, 0x08);
    }
    #[test]
    fn long_mode_far_faults() {
        let jmp_mem = |sel: u16, off: u64| {
            let (mut cpu, mut bus) = long_setup(&[0x48, 0xff, 0x28]); // jmp far [rax] (m16:64)
            cpu.state.gpr[0] = 0x5000;
            put(&mut bus, 0x5000, &off.to_le_bytes());
            put(&mut bus, 0x5008, &sel.to_le_bytes());
            let r = exec(&mut cpu, &mut bus);
            (r, cpu)
        };
        assert_eq!(jmp_mem(0x50, 0).0, Err(Exception::GP(0x50).into()));
        assert_eq!(jmp_mem(0x58, 0).0, Err(Exception::GP(0x58).into()));
        assert_eq!(jmp_mem(0x60, 0).0, Err(Exception::GP(0x60).into()));
        assert_eq!(jmp_mem(0x30, 0).0, Err(Exception::GP(0x30).into()), "TSS");
        assert_eq!(
            jmp_mem(0x08, 0x0000_8000_0000_0000).0,
            Err(Exception::GP(0).into())
        );
        let (r, cpu) = jmp_mem(0x08, 0xffff_8000_0000_0000);
        r.unwrap();
        assert_eq!(cpu.state.rip, 0xffff_8000_0000_0000);
        // The gate's 64-bit offset.
        let (r, cpu) = jmp_mem(0x40, 0);
        r.unwrap();
        assert_eq!(cpu.state.rip, 0x3000);
        // To compatibility mode (CPL 0 cannot use DPL 3 code; use 0x08's twin).
        // RETFQ to CPL 3 with a null SS: #GP(0).
        let (mut cpu, mut bus) = long_setup(&[0x48, 0xcb]);
        cpu.state.gpr[4] = 0x7000;
        put(&mut bus, 0x7000, &0x1000u64.to_le_bytes());
        put(&mut bus, 0x7008, &0x2bu64.to_le_bytes());
        put(&mut bus, 0x7010, &0x7100u64.to_le_bytes());
        put(&mut bus, 0x7018, &0x3u64.to_le_bytes());
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        // With SS = 0x23 it returns to CPL 3, and 32-bit RETF to compat works.
        put(&mut bus, 0x7018, &0x23u64.to_le_bytes());
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cpl(), cpu.state.gpr[4]), (3, 0x7100));
        let (mut cpu, mut bus) = long_setup(&[0xcb]); // retf (32-bit operands)
        cpu.state.gpr[4] = 0x7000;
        put(
            &mut bus,
            0x7000,
            &[
                0x00, 0x20, 0, 0, 0x1b, 0, 0, 0, 0x00, 0x71, 0, 0, 0x23, 0, 0, 0,
            ],
        );
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.mode(), crate::CpuMode::Compat32);
        assert_eq!((cpu.state.rip, cpu.state.gpr[4]), (0x2000, 0x7100));
    }
}

//! Far CALL and JMP through call gates, with the stack switch of a call
//! to a more privileged level. SDM Vol. 3 §5.8.2–5.8.5; Vol. 2 "CALL"
//! (CALL-GATE, MORE-PRIVILEGE, SAME-PRIVILEGE), "JMP" (call gates).
//!
//! The landing (segment switch, pushes, accessed bits) is shared with the
//! direct transfers in `far.rs`, whose dispatcher calls [`call_gate`].

use super::descriptor::{
    accessed_segment, high_half_valid, null_stack_segment, sys_type, Descriptor,
};
use super::far::{land, Kind, Landing};
use crate::exception::{Exception, Fault};
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::reg;
use crate::Cpu;

/// JMP/CALL through a call gate. Legacy mode: 16-bit (type 4) and 32-bit
/// (type 0xC) gates; IA-32e mode: only the 16-byte 64-bit gate (type 0xC,
/// upper type field zero), whose target must be 64-bit code.
/// Gate DPL < max(CPL, RPL): #GP(gate); not present: #NP(gate); null target
/// selector: #GP(0); target not code, or (CALL) DPL > CPL, or (JMP)
/// conforming with DPL > CPL or non-conforming with DPL != CPL:
/// #GP(target); not present: #NP(target). A CALL to a non-conforming
/// segment with DPL < CPL switches stacks ([`call_gate_inner`]).
pub(super) fn call_gate(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    kind: Kind,
    gate_sel: u16,
    gate: Descriptor,
) -> Result<(), Fault> {
    let cpl = cpu.state.cpl();
    let gcode = gate_sel & 0xfffc;
    let long = cpu.state.long_mode_active();
    if long && gate.typ() != sys_type::CALL_GATE {
        return Err(Exception::GP(gcode).into());
    }
    if gate.dpl() < cpl || gate.dpl() < (gate_sel & 3) as u8 {
        return Err(Exception::GP(gcode).into());
    }
    let high = if long {
        let high = cpu
            .read_descriptor_high(bus, gate_sel)?
            .ok_or(Exception::GP(gcode))?;
        if !high_half_valid(high) {
            return Err(Exception::GP(gcode).into());
        }
        Some(high)
    } else {
        None
    };
    if !gate.present() {
        return Err(Exception::NP(gcode).into());
    }
    let csel = gate.gate_selector();
    let ccode = csel & 0xfffc;
    if ccode == 0 {
        return Err(Exception::GP(0).into());
    }
    let cdesc = cpu
        .read_descriptor(bus, csel)?
        .ok_or(Exception::GP(ccode))?;
    let denied = !cdesc.is_code()
        || match kind {
            Kind::Call => cdesc.dpl() > cpl,
            Kind::Jmp if cdesc.is_conforming() => cdesc.dpl() > cpl,
            Kind::Jmp => cdesc.dpl() != cpl,
        }
        || (long && !cdesc.is_code64());
    if denied {
        return Err(Exception::GP(ccode).into());
    }
    if !cdesc.present() {
        return Err(Exception::NP(ccode).into());
    }
    let (push_size, rip) = match high {
        Some(high) => (8, gate.gate_offset64(high)),
        None if gate.typ() == sys_type::CALL_GATE => (4, gate.gate_offset()),
        None => (2, gate.gate_offset() & 0xffff),
    };
    if kind == Kind::Call && !cdesc.is_conforming() && cdesc.dpl() < cpl {
        return call_gate_inner(cpu, bus, gate, csel, cdesc, push_size, rip);
    }
    let old = [u64::from(cpu.state.cs().selector), cpu.state.rip];
    let l = Landing {
        cs: accessed_segment(cdesc, (csel & !3) | u16::from(cpl)),
        rip,
        stack: None,
        frame: if kind == Kind::Call { &old } else { &[] },
        push_size,
        ss_code: 0,
        release: 0,
        accessed: &[(csel, cdesc)],
    };
    Ok(land(cpu, bus, &l)?)
}

/// CALL through a gate to a more privileged non-conforming segment
/// (SDM Vol. 3 §5.8.5, Vol. 2 "CALL" MORE-PRIVILEGE): the new SS:ESP for
/// the target DPL comes from the TSS ([`Cpu::tss_stack`], #TS on a bad
/// TSS or SS, #SS(SS) if not present); on the new stack go the old SS and
/// (E)SP, `param count` parameters copied from the old stack (dwords for a
/// 32-bit gate, words for a 16-bit one), then the old CS and (E)IP; no
/// room: #SS(new SS). In IA-32e mode the 64-bit TSS gives RSP (non-
/// canonical: #SS(0)), SS becomes null with RPL = new CPL, nothing is
/// copied and every slot is 8 bytes.
fn call_gate_inner(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    gate: Descriptor,
    csel: u16,
    cdesc: Descriptor,
    push_size: u32,
    rip: u64,
) -> Result<(), Fault> {
    let dpl = cdesc.dpl();
    let old_ss = u64::from(cpu.state.ss().selector);
    let old_sp = cpu.state.gpr[reg::RSP];
    let old_cs = u64::from(cpu.state.cs().selector);
    let old_rip = cpu.state.rip;
    let cs = accessed_segment(cdesc, (csel & !3) | u16::from(dpl));
    let (ss_sel, new_sp) = cpu.tss_stack(bus, dpl)?;
    if cpu.state.long_mode_active() {
        if !is_canonical(new_sp) {
            return Err(Exception::SS(0).into());
        }
        let l = Landing {
            cs,
            rip,
            stack: Some((null_stack_segment(dpl), new_sp)),
            frame: &[old_ss, old_sp, old_cs, old_rip],
            push_size,
            ss_code: 0,
            release: 0,
            accessed: &[(csel, cdesc)],
        };
        return Ok(land(cpu, bus, &l)?);
    }
    let ss_desc = cpu.check_inner_stack(bus, ss_sel, dpl)?;
    let count = usize::from(gate.gate_param_count());
    let mut frame = Vec::with_capacity(count + 4);
    frame.push(old_ss);
    frame.push(old_sp);
    for i in (0..count).rev() {
        let v = cpu.peek(bus, i as u64 * u64::from(push_size), push_size)?;
        frame.push(v);
    }
    frame.push(old_cs);
    frame.push(old_rip);
    let l = Landing {
        cs,
        rip,
        stack: Some((accessed_segment(ss_desc, ss_sel), new_sp)),
        frame: &frame,
        push_size,
        ss_code: ss_sel & 0xfffc,
        release: 0,
        accessed: &[(ss_sel, ss_desc), (csel, cdesc)],
    };
    Ok(land(cpu, bus, &l)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exception::StopReason;
    use crate::interp::descriptor::testutil::*;
    use crate::state::SegReg;

    #[test]
    fn call_gate_32_inner_and_retf_outer() {
        // call far 0x33:0 ; (at 0x2000) retf 8
        let (mut cpu, mut bus) = prot_setup(&[0x9a, 0, 0, 0, 0, 0x33, 0x00]);
        put(&mut bus, 0x2000, &[0xca, 0x08, 0x00]);
        to_user(&mut cpu);
        put(&mut bus, 0x7000, &0x1111_1111u32.to_le_bytes());
        put(&mut bus, 0x7004, &0x2222_2222u32.to_le_bytes());
        let flat0 = *cpu.state.segment(SegReg::Ds);
        cpu.state.seg[SegReg::Es as usize] = flat0; // DPL 0 data: nulled on return
        cpu.state.seg[SegReg::Ds as usize] = *cpu.state.ss(); // DPL 3: kept
        cpu.state.seg[SegReg::Fs as usize] =
            Descriptor(seg_desc(0, 0xfffff, 0x9f, 0xc)).to_segment(0x43);
        cpu.state.seg[SegReg::Gs as usize] = crate::interp::descriptor::null_segment(3);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.cpl(), 0);
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x08, 0x2000));
        assert_eq!(cpu.state.ss().selector, 0x10);
        assert_eq!(cpu.state.gpr[4], 0x9000 - 24);
        let frame: Vec<u64> = (0..6).map(|i| get(&bus, 0x8fe8 + i * 4, 4)).collect();
        assert_eq!(
            frame,
            [0x1007, 0x1b, 0x1111_1111, 0x2222_2222, 0x7000, 0x23]
        );
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.cpl(), 3);
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x1b, 0x1007));
        assert_eq!(cpu.state.ss().selector, 0x23);
        assert_eq!(cpu.state.ss().dpl(), 3);
        assert_eq!(cpu.state.gpr[4], 0x7008);
        let es = cpu.state.segment(SegReg::Es);
        assert_eq!(es.selector, 0);
        assert!(es.unusable());
        assert_eq!(cpu.state.segment(SegReg::Ds).selector, 0x23);
        assert_eq!(
            cpu.state.segment(SegReg::Fs).selector,
            0x43,
            "conforming code kept"
        );
        assert_eq!(
            cpu.state.segment(SegReg::Gs).selector,
            0,
            "null RPL cleared"
        );
    }

    #[test]
    fn call_gate_16_copies_words() {
        // call far 0x3b:0 ; (at 0x2100, 16-bit code) retf 6
        let (mut cpu, mut bus) = prot_setup(&[0x9a, 0, 0, 0, 0, 0x3b, 0x00]);
        put(&mut bus, 0x2100, &[0xca, 0x06, 0x00]);
        to_user(&mut cpu);
        put(&mut bus, 0x7000, &[0xaa, 0xaa, 0xbb, 0xbb, 0xcc, 0xcc]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x48, 0x2100));
        assert_eq!(cpu.state.mode(), crate::CpuMode::Protected16);
        assert_eq!(cpu.state.gpr[4], 0x9000 - 14);
        let frame: Vec<u64> = (0..7).map(|i| get(&bus, 0x8ff2 + i * 2, 2)).collect();
        assert_eq!(frame, [0x1007, 0x1b, 0xaaaa, 0xbbbb, 0xcccc, 0x7000, 0x23]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x1b, 0x1007));
        assert_eq!(cpu.state.gpr[4], 0x7006);
    }

    #[test]
    fn call_gate_faults_change_nothing() {
        let call = |sel: u8| [0x9a, 0, 0, 0, 0, sel, 0x00];
        let fault = |code: [u8; 7], tss_ss: u16, esp0: u32| {
            let (mut cpu, mut bus) = prot_setup(&code);
            to_user(&mut cpu);
            put(&mut bus, 0x6004, &esp0.to_le_bytes());
            put(&mut bus, 0x6008, &tss_ss.to_le_bytes());
            let state = cpu.state.clone();
            let ram = bus.ram.clone();
            let r = exec(&mut cpu, &mut bus);
            assert_eq!(cpu.state, state);
            assert!(ram == bus.ram, "memory changed");
            r
        };
        assert_eq!(
            fault(call(0x5b), 0x10, 0x9000),
            Err(Exception::GP(0x58).into())
        );
        assert_eq!(
            fault(call(0x33), 0x18, 0x9000),
            Err(Exception::TS(0x18).into())
        );
        assert_eq!(
            fault(call(0x33), 0x13, 0x9000),
            Err(Exception::TS(0x10).into())
        );
        assert_eq!(fault(call(0x33), 0x0, 0x9000), Err(Exception::TS(0).into()));
        assert_eq!(
            fault(call(0x33), 0x20, 0x9000),
            Err(Exception::TS(0x20).into())
        );
        assert_eq!(
            fault(call(0x33), 0x80, 0x9000),
            Err(Exception::SS(0x80).into())
        );
        assert_eq!(
            fault(call(0x33), 0x400, 0x9000),
            Err(Exception::TS(0x400).into())
        );
        // Not enough room on the new stack: #SS(new SS).
        assert_eq!(
            fault(call(0x33), 0x70, 0x10),
            Err(Exception::SS(0x70).into())
        );
        // Target offset beyond the new CS limit: #GP(0), after the stack checks.
        assert_eq!(
            fault(call(0x7b), 0x10, 0x9000),
            Err(Exception::GP(0).into())
        );
        assert_eq!(
            fault(call(0x7b), 0x70, 0x8),
            Err(Exception::SS(0x70).into())
        );
        assert_eq!(fault(call(0x7b), 0x70, 0x10), Err(Exception::GP(0).into()));
        // Task gate: reported.
        assert_eq!(
            fault(call(0x63), 0x10, 0x9000),
            Err(StopReason::Unsupported("task switch").into())
        );
        // TSS limit too small for the CPL 0 stack.
        let (mut cpu, mut bus) = prot_setup(&call(0x33));
        to_user(&mut cpu);
        cpu.state.tr.limit = 0xa;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::TS(0x28).into()));
    }

    #[test]
    fn long_mode_call_gate_and_retfq() {
        // call far [rax] (m16:64) ; (at 0x3000) retfq
        let (mut cpu, mut bus) = long_setup(&[0x48, 0xff, 0x18]);
        put(&mut bus, 0x3000, &[0x48, 0xcb]);
        cpu.state.seg[SegReg::Cs as usize] =
            Descriptor(seg_desc(0, 0xfffff, 0xfb, 0xa)).to_segment(0x2b);
        cpu.state.seg[SegReg::Ss as usize] =
            Descriptor(seg_desc(0, 0xfffff, 0xf3, 0xc)).to_segment(0x23);
        cpu.state.gpr[4] = 0x7000;
        cpu.state.gpr[0] = 0x5000;
        put(&mut bus, 0x5000, &[0xff; 8]);
        put(&mut bus, 0x5008, &[0x43, 0x00]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x08, 0x3000));
        assert_eq!(cpu.state.cpl(), 0);
        assert_eq!(
            *cpu.state.ss(),
            crate::interp::descriptor::null_stack_segment(0)
        );
        assert_eq!(cpu.state.gpr[4], 0x9000 - 32);
        let frame: Vec<u64> = (0..4).map(|i| get(&bus, 0x8fe0 + i * 8, 8)).collect();
        assert_eq!(frame, [0x1003, 0x2b, 0x7000, 0x23]);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!((cpu.state.cs().selector, cpu.state.rip), (0x2b, 0x1003));
        assert_eq!(cpu.state.ss().selector, 0x23);
        assert_eq!(cpu.state.gpr[4], 0x7000);
        assert_eq!(cpu.state.mode(), crate::CpuMode::Long64);
    }
}

//! IRET / IRETD / IRETQ. SDM Vol. 2 "IRET/IRETD/IRETQ—Interrupt Return";
//! Vol. 3 §6.14.3 (IRET in IA-32e mode); real mode §20.1.4.
//!
//! The whole frame is read and every check made before anything changes
//! (the pops are `peek`s; RSP moves at commit).

use super::descriptor::{writable_data, Descriptor};
use super::interrupt::null_ss;
use crate::exception::{Exception, Fault, StopReason};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::{attr, reg, CpuMode, SegReg};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

/// IRET (16-bit), IRETD (32-bit), IRETQ (REX.W). In protected mode: return
/// to the same privilege level, or to an outer one popping SS:ESP; in
/// IA-32e mode IRET executed in 64-bit mode always pops SS:RSP. NT = 1 is a
/// task return (reported as unsupported; #GP(0) in IA-32e mode), and a
/// return to VM = 1 at CPL 0 would enter virtual-8086 mode (reported).
/// Unblocks NMI on success.
pub(super) fn iret(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = match ins.mnemonic() {
        Mnemonic::Iret => 2,
        Mnemonic::Iretd => 4,
        _ => 8,
    };
    if !cpu.state.protected() {
        cpu.iret_real(bus, size)?;
    } else {
        cpu.iret_protected(bus, size)?;
    }
    cpu.state.events.nmi_blocked = false;
    Ok(())
}

impl Cpu {
    /// Real mode: pop IP, CS, FLAGS. IOPL and NT load freely; VM, VIF, VIP
    /// keep their values (IRETD).
    fn iret_real(&mut self, bus: &mut dyn Bus, size: u32) -> Result<(), Fault> {
        let ip = self.pop(bus, size)?;
        let cs = self.pop(bus, size)?;
        let fl = self.pop(bus, size)?;
        if ip > u64::from(self.state.cs().limit) {
            return Err(Exception::GP(0).into());
        }
        self.state.rip = ip;
        self.state.load_segment_real(SegReg::Cs, cs as u16);
        let keep = !flags::mask(size) | flags::VM | flags::VIF | flags::VIP;
        self.state.rflags =
            ((self.state.rflags & keep) | (fl & !keep) & flags::IMPLEMENTED) | flags::FIXED;
        Ok(())
    }

    /// RFLAGS after IRET from `image` (SDM "IRET" operation): status flags,
    /// TF, DF, NT always; RF, AC, ID with 32/64-bit operands; IF only if
    /// CPL <= IOPL; IOPL (and VIF, VIP) only at CPL 0 — all judged by the
    /// CPL before the return. VM is never loaded here.
    fn iret_flags(&self, image: u64, size: u32) -> u64 {
        let cpl = self.state.cpl();
        let mut change = flags::STATUS | flags::TF | flags::DF | flags::NT;
        if size >= 4 {
            change |= flags::RF | flags::AC | flags::ID;
        }
        if cpl <= self.state.iopl() {
            change |= flags::IF;
        }
        if cpl == 0 {
            change |= flags::IOPL;
            if size >= 4 {
                change |= flags::VIF | flags::VIP;
            }
        }
        change &= flags::mask(size);
        (self.state.rflags & !change) | (image & change) | flags::FIXED
    }

    fn iret_protected(&mut self, bus: &mut dyn Bus, size: u32) -> Result<(), Fault> {
        if self.state.v86() {
            return Err(StopReason::Unsupported("virtual-8086 mode").into());
        }
        let long = self.state.long_mode_active();
        if self.flag(flags::NT) {
            if long {
                return Err(Exception::GP(0).into());
            }
            return Err(StopReason::Unsupported("task switch").into());
        }
        let sz = u64::from(size);
        let rip = self.peek(bus, 0, size)?;
        let cs_raw = self.peek(bus, sz, size)? as u16;
        let image = self.peek(bus, 2 * sz, size)?;
        let cpl = self.state.cpl();
        if !long && size == 4 && image & flags::VM != 0 && cpl == 0 {
            return Err(StopReason::Unsupported("virtual-8086 mode").into());
        }

        // The return code segment.
        if cs_raw & !3 == 0 {
            return Err(Exception::GP(0).into());
        }
        let cs_code = cs_raw & 0xfffc;
        let cs_desc = self
            .read_descriptor(bus, cs_raw)?
            .ok_or(Exception::GP(cs_code))?;
        let rpl = (cs_raw & 3) as u8;
        let conforming = cs_desc.typ() & 0x4 != 0;
        let cs_seg = cs_desc.to_segment(cs_raw);
        if !cs_desc.is_code()
            || rpl < cpl
            || (conforming && cs_desc.dpl() > rpl)
            || (!conforming && cs_desc.dpl() != rpl)
            || (long && cs_seg.long() && cs_seg.big())
        {
            return Err(Exception::GP(cs_code).into());
        }
        if !cs_desc.present() {
            return Err(Exception::NP(cs_code).into());
        }
        let to64 = long && cs_seg.long();
        let outer = rpl > cpl;

        // The stack: popped SS:(E/R)SP when returning outward or from
        // 64-bit mode, else the current one past the frame.
        let rsp = self.state.gpr[reg::RSP];
        let mut new_ss = None;
        let mut ss_mark: Option<(u16, Descriptor)> = None;
        let new_rsp = if outer || self.state.mode() == CpuMode::Long64 {
            let sp = self.peek(bus, 3 * sz, size)?;
            let ss_raw = self.peek(bus, 4 * sz, size)? as u16;
            let ss = if ss_raw & !3 == 0 {
                // A null SS is allowed only for a return to 64-bit mode
                // at CPL < 3 with SS.RPL = the new CPL.
                if !(to64 && rpl != 3 && (ss_raw & 3) as u8 == rpl) {
                    return Err(Exception::GP(0).into());
                }
                null_ss(ss_raw)
            } else {
                let ss_code = ss_raw & 0xfffc;
                if (ss_raw & 3) as u8 != rpl {
                    return Err(Exception::GP(ss_code).into());
                }
                let d = self
                    .read_descriptor(bus, ss_raw)?
                    .ok_or(Exception::GP(ss_code))?;
                if !writable_data(d.attrs()) || d.dpl() != rpl {
                    return Err(Exception::GP(ss_code).into());
                }
                if !d.present() {
                    return Err(Exception::SS(ss_code).into());
                }
                ss_mark = Some((ss_raw, d));
                d.to_segment(ss_raw)
            };
            new_ss = Some(ss);
            if to64 {
                sp
            } else if ss.big() {
                sp & 0xffff_ffff
            } else {
                (rsp & !0xffff) | (sp & 0xffff)
            }
        } else {
            let m = flags::mask(self.state.stack_size());
            (rsp & !m) | (rsp.wrapping_add(3 * sz) & m)
        };

        let new_rip = rip & flags::mask(size);
        let ip_ok = if to64 {
            is_canonical(new_rip)
        } else {
            new_rip <= u64::from(cs_seg.limit)
        };
        if !ip_ok {
            return Err(Exception::GP(0).into());
        }
        let new_flags = self.iret_flags(image, size);
        self.mark_descriptor_accessed(bus, cs_raw, cs_desc)?;
        if let Some((s, d)) = ss_mark {
            self.mark_descriptor_accessed(bus, s, d)?;
        }

        // Commit.
        let mut cs = cs_seg;
        cs.attrs |= attr::ACCESSED;
        self.state.seg[SegReg::Cs as usize] = cs;
        if let Some(mut ss) = new_ss {
            if ss_mark.is_some() {
                ss.attrs |= attr::ACCESSED;
            }
            self.state.seg[SegReg::Ss as usize] = ss;
        }
        self.state.gpr[reg::RSP] = new_rsp;
        self.state.rip = new_rip;
        self.state.rflags = new_flags;
        if outer {
            self.null_outer_segments(rpl);
        }
        Ok(())
    }

    /// After a return to an outer level, ES, DS, FS and GS holding data or
    /// non-conforming code segments with DPL < the new CPL become null
    /// (selector 0, unusable; the base is kept). SDM "IRET", "RET".
    pub(super) fn null_outer_segments(&mut self, new_cpl: u8) {
        for s in [SegReg::Es, SegReg::Ds, SegReg::Fs, SegReg::Gs] {
            let seg = &mut self.state.seg[s as usize];
            let conforming_code = seg.is_code() && seg.attrs & attr::DC != 0;
            if seg.dpl() < new_cpl && !conforming_code {
                seg.selector = 0;
                seg.attrs &= !attr::P;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::interrupt::tests::{decode, lm, pm, put, to_user, GDT, K_CODE16, U_CODE};
    use crate::memory::FlatBus;

    const RSP: usize = reg::RSP;
    const IRETD: u8 = 0xcf;

    fn iret_now(cpu: &mut Cpu, bus: &mut FlatBus, bytes: &[u8]) -> Result<(), Fault> {
        let ins = decode(cpu, bytes);
        cpu.state.rip = cpu.state.rip.wrapping_add(ins.len() as u64);
        iret(cpu, bus, &ins)
    }

    /// Push a 32-bit IRET frame at 0x7000 (EIP, CS, EFLAGS[, ESP, SS]).
    fn frame32(cpu: &mut Cpu, bus: &mut FlatBus, vals: &[u64]) {
        for (i, v) in vals.iter().enumerate() {
            put(bus, 0x7000 + i as u64 * 4, 4, *v);
        }
        cpu.state.gpr[RSP] = 0x7000;
    }

    #[test]
    fn iret_faults_change_nothing() {
        let cases: [(&[u64], Fault); 7] = [
            (&[0x2000, 0x0, 0x2], Exception::GP(0).into()),
            (&[0x2000, 0x10, 0x2], Exception::GP(0x10).into()), // data segment
            (&[0x2000, 0x80, 0x2], Exception::GP(0x80).into()), // beyond GDT
            (&[0x2000, 0x19, 0x2], Exception::GP(0x18).into()), // DPL 3 != RPL 1
            (
                &[0x2000, 0x1b, 0x2, 0x8000, 0x13],
                Exception::GP(0x10).into(),
            ), // SS RPL
            (
                &[0x2000, 0x1b, 0x2, 0x8000, 0x1b],
                Exception::GP(0x18).into(),
            ), // SS code
            (&[0x2000, 0x1b, 0x2, 0x8000, 0x0], Exception::GP(0).into()),
        ];
        for (vals, want) in cases {
            let (mut cpu, mut bus) = pm(&[]);
            frame32(&mut cpu, &mut bus, vals);
            let before = cpu.state.clone();
            assert_eq!(
                iret_now(&mut cpu, &mut bus, &[IRETD]),
                Err(want),
                "{vals:x?}"
            );
            let mut after = cpu.state.clone();
            after.rip = before.rip;
            assert_eq!(after, before);
        }
        // Not-present CS and SS.
        let (mut cpu, mut bus) = pm(&[]);
        frame32(&mut cpu, &mut bus, &[0x2000, 0x1b, 0x2, 0x8000, 0x23]);
        bus.ram[(GDT + 0x20 + 5) as usize] &= 0x7f;
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[IRETD]),
            Err(Exception::SS(0x20).into())
        );
        bus.ram[(GDT + 0x18 + 5) as usize] &= 0x7f;
        cpu.state.rip = 0x1000;
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[IRETD]),
            Err(Exception::NP(0x18).into())
        );
        // EIP beyond the CS limit.
        let (mut cpu, mut bus) = pm(&[]);
        frame32(&mut cpu, &mut bus, &[0x1_0000, u64::from(K_CODE16), 0x2]);
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[IRETD]),
            Err(Exception::GP(0).into())
        );
    }

    #[test]
    fn iret_flags_by_privilege() {
        // At CPL 3 with IOPL 0: IF and IOPL do not change; the rest loads.
        let (mut cpu, mut bus) = pm(&[]);
        to_user(&mut cpu, U_CODE);
        cpu.state.rflags = flags::FIXED;
        frame32(&mut cpu, &mut bus, &[0x2000, 0x1b, 0x4_3ed5 | flags::IF]);
        iret_now(&mut cpu, &mut bus, &[IRETD]).unwrap();
        assert_eq!(cpu.state.rflags, 0x4_0cd7); // AC, OF, DF, SF, ZF, AF, PF, CF
        assert_eq!(cpu.state.gpr[RSP], 0x700c);
        // At CPL 0 everything but VM loads; a 16-bit IRET only loads 16 bits.
        let (mut cpu, mut bus) = pm(&[]);
        cpu.state.rflags = flags::FIXED | flags::AC;
        frame32(&mut cpu, &mut bus, &[0x2000, 0x08, 0x3202]);
        put(&mut bus, 0x7000, 2, 0x2000);
        put(&mut bus, 0x7002, 2, 0x08);
        put(&mut bus, 0x7004, 2, 0x7202);
        iret_now(&mut cpu, &mut bus, &[0x66, IRETD]).unwrap();
        assert_eq!(cpu.state.rflags, 0x4_7202);
        assert_eq!(cpu.state.gpr[RSP], 0x7006);
        // NMI blocking ends with IRET.
        assert!(!cpu.state.events.nmi_blocked);
    }

    #[test]
    fn iret_special_cases_reported() {
        let (mut cpu, mut bus) = pm(&[]);
        frame32(
            &mut cpu,
            &mut bus,
            &[0x2000, 0x1b, flags::VM | 2, 0x8000, 0x23, 0, 0, 0, 0],
        );
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[IRETD]),
            Err(StopReason::Unsupported("virtual-8086 mode").into())
        );
        cpu.state.rflags |= flags::NT;
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[IRETD]),
            Err(StopReason::Unsupported("task switch").into())
        );
        let (mut cpu, mut bus) = lm(&[]);
        cpu.state.rflags |= flags::NT;
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[0x48, IRETD]),
            Err(Exception::GP(0).into())
        );
    }

    #[test]
    fn iretq_ss_rules() {
        // IRETQ to CPL 0 64-bit code with a null SS is allowed; to CPL 3 not.
        let (mut cpu, mut bus) = lm(&[]);
        for (i, v) in [0x2000u64, 0x28, 0x2, 0x6000, 0].iter().enumerate() {
            put(&mut bus, 0x7000 + i as u64 * 8, 8, *v);
        }
        cpu.state.gpr[RSP] = 0x7000;
        cpu.state.events.nmi_blocked = true;
        iret_now(&mut cpu, &mut bus, &[0x48, IRETD]).unwrap();
        assert_eq!((cpu.state.rip, cpu.state.gpr[RSP]), (0x2000, 0x6000));
        assert_eq!(cpu.state.ss().selector, 0);
        assert!(!cpu.state.events.nmi_blocked);
        for (i, v) in [0x2000u64, 0x33, 0x2, 0x6000, 0x3].iter().enumerate() {
            put(&mut bus, 0x7000 + i as u64 * 8, 8, *v);
        }
        cpu.state.gpr[RSP] = 0x7000;
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[0x48, IRETD]),
            Err(Exception::GP(0).into())
        );
        // Non-canonical RIP for 64-bit code.
        for (i, v) in [0x8000_0000_0000u64, 0x28, 0x2, 0x6000, 0x10]
            .iter()
            .enumerate()
        {
            put(&mut bus, 0x7000 + i as u64 * 8, 8, *v);
        }
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[0x48, IRETD]),
            Err(Exception::GP(0).into())
        );
        // IRETQ to 32-bit compatibility-mode code at CPL 3.
        for (i, v) in [0x1_2345_6789u64, 0x1b, 0x202, 0x1_0000_7000, 0x23]
            .iter()
            .enumerate()
        {
            put(&mut bus, 0x7000 + i as u64 * 8, 8, *v);
        }
        assert_eq!(
            iret_now(&mut cpu, &mut bus, &[0x48, IRETD]),
            Err(Exception::GP(0).into())
        );
        put(&mut bus, 0x7000, 8, 0x2345_6789);
        iret_now(&mut cpu, &mut bus, &[0x48, IRETD]).unwrap();
        assert_eq!(cpu.state.mode(), crate::CpuMode::Compat32);
        assert_eq!(cpu.state.rip, 0x2345_6789);
        assert_eq!(cpu.state.gpr[RSP], 0x7000);
    }
}

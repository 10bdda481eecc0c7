//! Interrupt and exception delivery, INT n / INT3 / INTO / INT1.
//! SDM Vol. 3 Chapter 6 (§6.10–6.14 protected and IA-32e mode, §6.15
//! #DF rules); real mode §20.1.4; Vol. 2 "INT n/INTO/INT3/INT1".
//! IRET lives in `iret.rs`.
//!
//! Delivery reads and checks everything (IDT gate, target code segment,
//! TSS stack, every stack slot of the frame, probed through paging) before
//! it changes any register, so a fault during delivery leaves the state as
//! it was and [`Cpu::deliver`] can escalate to #DF correctly.

use super::descriptor::{sys_type, writable_data, Descriptor};
use super::Table;
use crate::exception::{Exception, ExceptionClass, Fault, SoftwareInterrupt, StopReason};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::mmu::Access;
use crate::state::{attr, reg, SegReg, Segment};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

/// An event to deliver through the IVT/IDT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// A processor exception (faults and traps).
    Exception(Exception),
    /// INT n: gate DPL checked against CPL.
    Software(u8),
    /// INT3 / INTO: exceptions raised by an instruction, with the INT n
    /// privilege check on the gate.
    SoftwareException(Exception),
    /// INT1 (ICEBP): #DB without the privilege check.
    Icebp,
    /// External interrupt from the interrupt controller.
    External(u8),
    Nmi,
}

impl EventKind {
    fn vector(&self) -> u8 {
        match self {
            EventKind::Exception(e) | EventKind::SoftwareException(e) => e.vector(),
            EventKind::Software(v) | EventKind::External(v) => *v,
            EventKind::Icebp => 1,
            EventKind::Nmi => 2,
        }
    }

    fn class(&self) -> ExceptionClass {
        match self {
            EventKind::Exception(e) => e.class(),
            _ => ExceptionClass::Benign,
        }
    }

    /// INT n, INT3 and INTO: the gate DPL is checked against the CPL.
    fn software(&self) -> bool {
        matches!(
            self,
            EventKind::Software(_) | EventKind::SoftwareException(_)
        )
    }

    /// The EXT bit (bit 0) of error codes of faults raised while delivering
    /// this event: set unless the event is INT n, INT3 or INTO (INT1 counts
    /// as external). SDM Vol. 3 §6.13.
    fn ext(&self) -> u16 {
        u16::from(!self.software())
    }

    /// Error code pushed with the event (INT n never pushes one).
    fn error_code(&self) -> Option<u32> {
        match self {
            EventKind::Exception(e) => e.error_code(),
            _ => None,
        }
    }
}

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Int, int_n);
    t.set(Mnemonic::Int3, int3);
    t.set(Mnemonic::Into, into);
    t.set(Mnemonic::Int1, int1);
    t.set(Mnemonic::Iret, super::iret::iret);
    t.set(Mnemonic::Iretd, super::iret::iret);
    t.set(Mnemonic::Iretq, super::iret::iret);
}

/// INT imm8 (Vol. 2 "INT n/INTO/INT3/INT1"): a trap, RIP after the
/// instruction is pushed; no error code even for vectors that have one.
fn int_n(_cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    Err(SoftwareInterrupt::Int(ins.immediate8()).into())
}

/// INT3 (CC): #BP as a trap (RIP after the instruction), with the gate
/// DPL check of INT n.
fn int3(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Err(SoftwareInterrupt::Int3.into())
}

/// INTO: #OF trap if OF = 1; #UD in 64-bit mode.
fn into(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    if cpu.state.mode() == crate::CpuMode::Long64 {
        return Err(Exception::UD.into());
    }
    if cpu.flag(flags::OF) {
        Err(SoftwareInterrupt::Into.into())
    } else {
        Ok(())
    }
}

/// INT1 (ICEBP, F1): #DB trap without the gate DPL check; faults during
/// its delivery have EXT = 1.
fn int1(_cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    Err(SoftwareInterrupt::Int1.into())
}

impl From<SoftwareInterrupt> for EventKind {
    fn from(s: SoftwareInterrupt) -> EventKind {
        match s {
            SoftwareInterrupt::Int(v) => EventKind::Software(v),
            SoftwareInterrupt::Int3 => EventKind::SoftwareException(Exception::BP),
            SoftwareInterrupt::Into => EventKind::SoftwareException(Exception::OF),
            SoftwareInterrupt::Int1 => EventKind::Icebp,
        }
    }
}

/// The stack an event frame is pushed onto.
#[derive(Clone, Copy, Debug)]
pub(super) struct FrameStack {
    /// Segment the pushes go through (base, limit, B bit, expand-down).
    pub seg: Segment,
    /// Stack pointer before the first push.
    pub sp: u64,
    /// 64-bit stack (IA-32e delivery): no segmentation, canonical checks.
    pub long: bool,
}

const MAX_FRAME: usize = 6;

/// A planned frame: the linear address of every slot, already checked
/// against the stack segment.
#[derive(Clone, Copy, Debug)]
struct Frame {
    lin: [u64; MAX_FRAME],
    vals: [u64; MAX_FRAME],
    n: usize,
    elem: u32,
    /// Full stack pointer after the pushes.
    sp: u64,
}

/// Linear address of `size` bytes at offset `off` of the stack segment, or
/// `None` past its limit (expand-down aware) or not canonical.
pub(super) fn stack_linear(seg: &Segment, off: u64, size: u32, long: bool) -> Option<u64> {
    let last = off.wrapping_add(u64::from(size) - 1);
    if long {
        return (is_canonical(off) && is_canonical(last)).then_some(off);
    }
    let limit = u64::from(seg.limit);
    let ok = if seg.attrs & (attr::CODE | attr::DC) == attr::DC {
        let upper: u64 = if seg.big() { 0xffff_ffff } else { 0xffff };
        off > limit && last <= upper && last >= off
    } else {
        last <= limit && last >= off
    };
    ok.then(|| seg.base.wrapping_add(off) & 0xffff_ffff)
}

/// The null SS of IA-32e mode for `selector` (0–3): unusable, base 0, DPL
/// = RPL (= the new CPL).
pub(super) fn null_ss(selector: u16) -> Segment {
    Segment {
        base: 0,
        limit: 0,
        selector,
        attrs: (selector & 3) << attr::DPL_SHIFT,
    }
}

/// DR7.GD: general-detect enable, cleared on entry to the #DB handler.
pub(super) const DR7_GD: u64 = 1 << 13;

impl Cpu {
    /// Deliver an event, escalating to #DF and triple fault per SDM Vol. 3
    /// §6.15, Table 6-5. Faults raised while delivering are delivered in
    /// turn ("serially") when the table says so.
    pub fn deliver(&mut self, bus: &mut dyn Bus, ev: EventKind) -> Result<(), StopReason> {
        let mut ev = ev;
        loop {
            let saved = self.checkpoint;
            self.checkpoint.rip = self.state.rip;
            let r = self.deliver_once(bus, ev);
            self.checkpoint = saved;
            let second = match r {
                Ok(()) => {
                    if let EventKind::Exception(e) = ev {
                        self.stats.exceptions[usize::from(e.vector())] += 1;
                    }
                    return Ok(());
                }
                Err(Fault::Stop(s)) => return Err(s),
                Err(Fault::Exception(e)) => e,
                // Delivery raises exceptions, never software interrupts
                // or x87 waits.
                Err(Fault::Trap(_) | Fault::FpuErrorWait) => {
                    return Err(StopReason::Unsupported(
                        "software interrupt during delivery",
                    ))
                }
            };
            let first = ev.class();
            if first == ExceptionClass::DoubleFault {
                return Err(StopReason::TripleFault);
            }
            let df = matches!(
                (first, second.class()),
                (ExceptionClass::Contributory, ExceptionClass::Contributory)
                    | (ExceptionClass::PageFault, ExceptionClass::Contributory)
                    | (ExceptionClass::PageFault, ExceptionClass::PageFault)
            );
            ev = EventKind::Exception(if df { Exception::DF } else { second });
        }
    }

    /// Deliver NMI or an external interrupt if one is pending and not
    /// blocked. Returns whether an event was delivered.
    pub(super) fn deliver_pending_event(&mut self, bus: &mut dyn Bus) -> Result<bool, StopReason> {
        if self.state.events.nmi_pending && !self.state.events.nmi_blocked {
            self.state.events.nmi_pending = false;
            self.state.events.nmi_blocked = true;
            self.state.events.halted = false;
            self.deliver(bus, EventKind::Nmi)?;
            return Ok(true);
        }
        if self.flag(flags::IF) && bus.interrupt_pending() {
            if let Some(v) = bus.acknowledge_interrupt() {
                self.state.events.halted = false;
                self.deliver(bus, EventKind::External(v))?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Deliver one event without #DF escalation. Nothing but CR2 (for #PF)
    /// and descriptor accessed bits is changed if it faults.
    pub(super) fn deliver_once(&mut self, bus: &mut dyn Bus, ev: EventKind) -> Result<(), Fault> {
        if let EventKind::Exception(Exception::PF { addr, .. }) = ev {
            self.state.cr2 = addr;
        }
        if !self.state.protected() {
            self.deliver_real(bus, ev.vector())?;
        } else if self.state.v86() {
            return Err(StopReason::Unsupported("virtual-8086 mode").into());
        } else {
            self.deliver_protected(bus, ev)?;
        }
        // The processor clears DR7.GD on entry to the #DB handler so that
        // the handler can use the debug registers. SDM Vol. 3 §18.2.4.
        if matches!(ev, EventKind::Exception(Exception::DB) | EventKind::Icebp) {
            self.state.dr[7] &= !DR7_GD;
        }
        // Any delivered event ends a halt (a trap after HLT returns past it).
        self.state.events.halted = false;
        Ok(())
    }

    /// Real mode: push FLAGS, CS, IP; load CS:IP from the IVT; clear IF, TF,
    /// AC, RF. SDM Vol. 3 §20.1.4. No error code is pushed.
    fn deliver_real(&mut self, bus: &mut dyn Bus, vector: u8) -> Result<(), Fault> {
        let entry = u64::from(vector) * 4;
        if entry + 3 > u64::from(self.state.idtr.limit) {
            return Err(Exception::GP(u16::from(vector) * 8 + 2).into());
        }
        let lin = self.state.idtr.base.wrapping_add(entry);
        let target = self.read_system(bus, lin, 4)?;
        let st = FrameStack {
            seg: *self.state.ss(),
            sp: self.state.gpr[reg::RSP],
            long: false,
        };
        let vals = [
            self.state.rflags & 0xffff,
            u64::from(self.state.cs().selector),
            self.state.rip & 0xffff,
        ];
        let f = plan_frame(&st, 2, &vals, Exception::SS(0))?;
        self.probe_frame(bus, &f, false)?;
        self.write_frame(bus, &f, false)?;
        self.state.gpr[reg::RSP] = f.sp;
        self.state.rflags &= !(flags::IF | flags::TF | flags::AC | flags::RF);
        let cs = (target >> 16) as u16;
        self.state.load_segment_real(SegReg::Cs, cs);
        self.state.rip = target & 0xffff;
        Ok(())
    }

    /// Protected-mode and IA-32e-mode delivery through an interrupt or trap
    /// gate. SDM Vol. 3 §6.12 and §6.14; Vol. 2 "INT n" (PROTECTED-MODE,
    /// TRAP-OR-INTERRUPT-GATE, INTER-/INTRA-PRIVILEGE-LEVEL-INTERRUPT,
    /// IA-32e-MODE). Checks come in the SDM's order; the frame slots are
    /// checked against the stack limit, then the new EIP against the code
    /// segment, then every slot is probed through paging.
    fn deliver_protected(&mut self, bus: &mut dyn Bus, ev: EventKind) -> Result<(), Fault> {
        let long = self.state.long_mode_active();
        let vector = ev.vector();
        let ext = ev.ext();
        let cpl = self.state.cpl();
        let idt_code = u16::from(vector) * 8 + 2;
        let idt_fault = Exception::GP(idt_code | ext);

        // The gate: 8 bytes, or 16 in IA-32e mode.
        let size: u64 = if long { 16 } else { 8 };
        let off = u64::from(vector) * size;
        if off + size - 1 > u64::from(self.state.idtr.limit) {
            return Err(idt_fault.into());
        }
        let lin = self.state.idtr.base.wrapping_add(off);
        let gate = Descriptor(self.read_system(bus, lin, 8)?);
        let gate_hi = if long {
            self.read_system(bus, lin.wrapping_add(8), 8)?
        } else {
            0
        };
        let typ = gate.typ();
        let valid = !gate.is_segment()
            && if long {
                matches!(typ, sys_type::INT_GATE | sys_type::TRAP_GATE)
            } else {
                matches!(
                    typ,
                    sys_type::TASK_GATE
                        | sys_type::INT_GATE16
                        | sys_type::TRAP_GATE16
                        | sys_type::INT_GATE
                        | sys_type::TRAP_GATE
                )
            };
        if !valid {
            return Err(idt_fault.into());
        }
        if ev.software() && gate.dpl() < cpl {
            return Err(Exception::GP(idt_code).into());
        }
        if !gate.present() {
            return Err(Exception::NP(idt_code | ext).into());
        }
        if typ == sys_type::TASK_GATE {
            return Err(StopReason::Unsupported("task gate").into());
        }
        let elem: u32 = match typ {
            sys_type::INT_GATE16 | sys_type::TRAP_GATE16 => 2,
            _ if long => 8,
            _ => 4,
        };
        let target_ip = match elem {
            2 => gate.gate_offset() & 0xffff,
            4 => gate.gate_offset(),
            _ => gate.gate_offset() | (gate_hi << 32),
        };
        let interrupt_gate = matches!(typ, sys_type::INT_GATE | sys_type::INT_GATE16);

        // The target code segment.
        let sel = gate.gate_selector();
        if sel & !3 == 0 {
            return Err(Exception::GP(ext).into());
        }
        let sel_code = (sel & 0xfffc) | ext;
        let cs_desc = self
            .read_descriptor(bus, sel)?
            .ok_or(Exception::GP(sel_code))?;
        if !cs_desc.is_code() || cs_desc.dpl() > cpl {
            return Err(Exception::GP(sel_code).into());
        }
        if !cs_desc.present() {
            return Err(Exception::NP(sel_code).into());
        }
        let cs_seg = cs_desc.to_segment(sel);
        // IA-32e mode: the handler must be 64-bit code (L = 1, D = 0).
        if long && (!cs_seg.long() || cs_seg.big()) {
            return Err(Exception::GP(sel_code).into());
        }
        let conforming = cs_desc.typ() & 0x4 != 0;
        let new_cpl = if !conforming && cs_desc.dpl() < cpl {
            cs_desc.dpl()
        } else {
            cpl
        };
        let inner = new_cpl != cpl;

        // The stack the frame goes on.
        let mut new_ss: Option<Segment> = None;
        let mut ss_mark: Option<(u16, Descriptor)> = None;
        let (st, stack_fault) = if long {
            let ist = gate.gate_ist();
            let sp = if ist != 0 {
                self.tss_rsp(bus, u64::from(ist) * 8 + 0x1c, ext)?
            } else if inner {
                self.tss_rsp(bus, u64::from(new_cpl) * 8 + 4, ext)?
            } else {
                self.state.gpr[reg::RSP]
            };
            if inner {
                new_ss = Some(null_ss(u16::from(new_cpl)));
            }
            let st = FrameStack {
                seg: *self.state.ss(),
                sp: sp & !0xf,
                long: true,
            };
            (st, Exception::SS(ext))
        } else if inner {
            let (ss_sel, sp) = self.tss_stack(bus, new_cpl).map_err(|e| match e {
                Exception::TS(code) => Exception::TS(code | ext),
                other => other,
            })?;
            if ss_sel & !3 == 0 {
                return Err(Exception::TS(ext).into());
            }
            let ss_code = (ss_sel & 0xfffc) | ext;
            if ss_sel & 3 != u16::from(new_cpl) {
                return Err(Exception::TS(ss_code).into());
            }
            let d = self
                .read_descriptor(bus, ss_sel)?
                .ok_or(Exception::TS(ss_code))?;
            if d.dpl() != new_cpl || !writable_data(d.attrs()) {
                return Err(Exception::TS(ss_code).into());
            }
            if !d.present() {
                return Err(Exception::SS(ss_code).into());
            }
            let seg = d.to_segment(ss_sel);
            new_ss = Some(seg);
            ss_mark = Some((ss_sel, d));
            (
                FrameStack {
                    seg,
                    sp,
                    long: false,
                },
                Exception::SS(ss_code),
            )
        } else {
            let st = FrameStack {
                seg: *self.state.ss(),
                sp: self.state.gpr[reg::RSP],
                long: false,
            };
            (st, Exception::SS(ext))
        };

        // The frame: [SS, SP,] FLAGS, CS, IP [, error code].
        let mut vals = [0u64; MAX_FRAME];
        let mut n = 0;
        if inner || long {
            vals[0] = u64::from(self.state.ss().selector);
            vals[1] = self.state.gpr[reg::RSP];
            n = 2;
        }
        vals[n] = self.state.rflags;
        vals[n + 1] = u64::from(self.state.cs().selector);
        vals[n + 2] = self.state.rip;
        n += 3;
        if let Some(code) = ev.error_code() {
            vals[n] = u64::from(code);
            n += 1;
        }
        let f = plan_frame(&st, elem, &vals[..n], stack_fault)?;
        let ip_ok = if long {
            is_canonical(target_ip)
        } else {
            target_ip <= u64::from(cs_desc.limit())
        };
        if !ip_ok {
            return Err(Exception::GP(ext).into());
        }
        let user = new_cpl == 3;
        self.probe_frame(bus, &f, user)?;
        self.mark_descriptor_accessed(bus, sel, cs_desc)?;
        if let Some((s, d)) = ss_mark {
            self.mark_descriptor_accessed(bus, s, d)?;
        }
        self.write_frame(bus, &f, user)?;

        // Commit.
        let mut cs = cs_seg;
        cs.selector = (sel & !3) | u16::from(new_cpl);
        cs.attrs |= attr::ACCESSED;
        self.state.seg[SegReg::Cs as usize] = cs;
        if let Some(mut ss) = new_ss {
            if ss_mark.is_some() {
                ss.attrs |= attr::ACCESSED;
            }
            self.state.seg[SegReg::Ss as usize] = ss;
        }
        self.state.gpr[reg::RSP] = f.sp;
        self.state.rip = target_ip;
        let mut clear = flags::TF | flags::NT | flags::RF | flags::VM;
        if interrupt_gate {
            clear |= flags::IF;
        }
        self.state.rflags &= !clear;
        Ok(())
    }

    /// An RSPn or ISTn field of the 64-bit TSS at byte offset `at`.
    fn tss_rsp(&mut self, bus: &mut dyn Bus, at: u64, ext: u16) -> Result<u64, Exception> {
        let tr = self.state.tr;
        if at + 7 > u64::from(tr.limit) {
            return Err(Exception::TS((tr.selector & 0xfffc) | ext));
        }
        self.read_system(bus, tr.base.wrapping_add(at), 8)
    }

    fn probe_frame(&mut self, bus: &mut dyn Bus, f: &Frame, user: bool) -> Result<(), Exception> {
        for &lin in &f.lin[..f.n] {
            self.probe_write(bus, lin, u64::from(f.elem), user)?;
        }
        Ok(())
    }

    fn write_frame(&mut self, bus: &mut dyn Bus, f: &Frame, user: bool) -> Result<(), Exception> {
        for i in 0..f.n {
            let bytes = f.vals[i].to_le_bytes();
            self.write_linear(
                bus,
                f.lin[i],
                &bytes[..f.elem as usize],
                Access::write(user),
            )?;
        }
        Ok(())
    }
}

/// Lay out `vals` (first value pushed first) as `elem`-byte pushes below
/// `st.sp`, checking every slot against the stack segment (`fault` if one
/// is outside it). Nothing is read or written.
fn plan_frame(
    st: &FrameStack,
    elem: u32,
    vals: &[u64],
    fault: Exception,
) -> Result<Frame, Exception> {
    let mask = if st.long {
        u64::MAX
    } else if st.seg.big() {
        0xffff_ffff
    } else {
        0xffff
    };
    let mut f = Frame {
        lin: [0; MAX_FRAME],
        vals: [0; MAX_FRAME],
        n: vals.len().min(MAX_FRAME),
        elem,
        sp: st.sp,
    };
    let mut sp = st.sp & mask;
    for (i, &v) in vals.iter().take(MAX_FRAME).enumerate() {
        sp = sp.wrapping_sub(u64::from(elem)) & mask;
        f.lin[i] = stack_linear(&st.seg, sp, elem, st.long).ok_or(fault)?;
        f.vals[i] = v;
    }
    f.sp = (st.sp & !mask) | sp;
    Ok(f)
}

#[cfg(test)]
#[path = "interrupt_tests.rs"]
pub(crate) mod tests;

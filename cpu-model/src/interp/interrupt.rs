//! Interrupt and exception delivery, INT n / INT3 / INTO / INT1 and IRET.
//! SDM Vol. 3 Chapter 6; real mode §20.1.4; Vol. 2 "INT n/INTO/INT3/INT1"
//! and "IRET/IRETD/IRETQ".

use super::Table;
use crate::exception::{Exception, ExceptionClass, Fault, StopReason};
use crate::flags;
use crate::memory::Bus;
use crate::state::SegReg;
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
}

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Int, int_n);
    t.set(Mnemonic::Int3, int3);
    t.set(Mnemonic::Into, into);
    t.set(Mnemonic::Int1, int1);
    t.set(Mnemonic::Iret, iret);
    t.set(Mnemonic::Iretd, iret);
    t.set(Mnemonic::Iretq, iret);
}

/// INT imm8.
fn int_n(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    cpu.deliver_once(bus, EventKind::Software(ins.immediate8()))
}

/// INT3: #BP as a trap (RIP after the instruction).
fn int3(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.deliver_once(bus, EventKind::SoftwareException(Exception::BP))
}

/// INTO: #OF trap if OF = 1; #UD in 64-bit mode.
fn into(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    if cpu.flag(flags::OF) {
        cpu.deliver_once(bus, EventKind::SoftwareException(Exception::OF))
    } else {
        Ok(())
    }
}

/// INT1 (ICEBP): #DB trap without the gate DPL check.
fn int1(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    cpu.deliver_once(bus, EventKind::Icebp)
}

/// IRET in real mode: pop IP, CS, FLAGS.
fn iret(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if cpu.state.protected() {
        return Err(StopReason::Unsupported("protected-mode IRET").into());
    }
    let size = match ins.mnemonic() {
        Mnemonic::Iret => 2,
        Mnemonic::Iretd => 4,
        _ => 8,
    };
    let ip = cpu.pop(bus, size)?;
    let cs = cpu.pop(bus, size)?;
    let fl = cpu.pop(bus, size)?;
    if ip > u64::from(cpu.state.cs().limit) {
        return Err(Exception::GP(0).into());
    }
    cpu.state.rip = ip;
    cpu.state.load_segment_real(SegReg::Cs, cs as u16);
    let keep = !flags::mask(size) | flags::VM | flags::VIF | flags::VIP;
    cpu.state.rflags =
        ((cpu.state.rflags & keep) | (fl & !keep) & flags::IMPLEMENTED) | flags::FIXED;
    cpu.state.events.nmi_blocked = false;
    Ok(())
}

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

    /// Deliver one event without #DF escalation. Nothing is changed if it
    /// faults.
    fn deliver_once(&mut self, bus: &mut dyn Bus, ev: EventKind) -> Result<(), Fault> {
        if let EventKind::Exception(Exception::PF { addr, .. }) = ev {
            self.state.cr2 = addr;
        }
        if !self.state.protected() {
            return self.deliver_real(bus, ev.vector());
        }
        Err(StopReason::Unsupported("protected-mode interrupt delivery").into())
    }

    /// Real mode: push FLAGS, CS, IP; load CS:IP from the IVT; clear IF, TF,
    /// AC, RF. SDM Vol. 3 §20.1.4.
    fn deliver_real(&mut self, bus: &mut dyn Bus, vector: u8) -> Result<(), Fault> {
        let entry = u64::from(vector) * 4;
        if entry + 3 > u64::from(self.state.idtr.limit) {
            return Err(Exception::GP(u16::from(vector) * 8 + 2).into());
        }
        let lin = self.state.idtr.base.wrapping_add(entry);
        let target = self.read_system(bus, lin, 4)?;
        let sp = self.state.gpr[4];
        let frame = [
            self.state.rflags & 0xffff,
            u64::from(self.state.cs().selector),
            self.state.rip & 0xffff,
        ];
        for v in frame {
            self.push(bus, 2, v)
                .inspect_err(|_| self.state.gpr[4] = sp)?;
        }
        self.state.rflags &= !(flags::IF | flags::TF | flags::AC | flags::RF);
        let cs = (target >> 16) as u16;
        self.state.load_segment_real(SegReg::Cs, cs);
        self.state.rip = target & 0xffff;
        Ok(())
    }
}

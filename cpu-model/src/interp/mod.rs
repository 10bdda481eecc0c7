//! The reference interpreter: fetch through the MMU, decode with iced-x86,
//! dispatch to one handler per instruction (grouped by family in the
//! submodules), deliver faults precisely.
//!
//! Dispatch is by iced-x86 `Mnemonic` rather than by `Code`: the operand
//! helpers in [`operand`] make one handler serve every operand form and
//! size of a mnemonic, and forms that need their own treatment branch on
//! `Code` inside the handler.

mod alu;
mod bcd;
mod bitops;
mod bmi;
mod branch;
mod callgate;
mod control;
mod cpuid;
mod crc32;
mod datamov;
mod decode;
pub mod desc;
pub mod descriptor;
mod far;
pub(crate) mod features;
mod fpu;
mod interrupt;
mod io;
mod iret;
mod msr;
mod muldiv;
pub mod operand;
mod pmc;
mod segload;
mod shift;
mod sse;
mod stack;
mod string;
mod syscall;
mod sysseg;
mod xchg;

pub use branch::loop_counter;
pub use datamov::{CMOVCC, SETCC};
pub use desc::{Desc, Flow};
pub use interrupt::EventKind;

use crate::exception::{Exception, Fault, StopReason};
use crate::flags;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};
use std::sync::OnceLock;

/// An instruction handler: `ins` has been fetched and RIP already points
/// past it; the handler changes RIP only for control transfers.
pub type Handler = fn(&mut Cpu, &mut dyn Bus, &Instruction) -> Result<(), Fault>;

/// The dispatch table: one description per iced `Code` ([`desc::Descs`]),
/// handlers registered by the family modules.
pub(crate) type Table = desc::Descs;

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = Table::new();
        alu::register(&mut t);
        bcd::register(&mut t);
        bitops::register(&mut t);
        bmi::register(&mut t);
        branch::register(&mut t);
        control::register(&mut t);
        cpuid::register(&mut t);
        crc32::register(&mut t);
        datamov::register(&mut t);
        far::register(&mut t);
        fpu::register(&mut t);
        interrupt::register(&mut t);
        io::register(&mut t);
        msr::register(&mut t);
        muldiv::register(&mut t);
        pmc::register(&mut t);
        segload::register(&mut t);
        shift::register(&mut t);
        stack::register(&mut t);
        string::register(&mut t);
        syscall::register(&mut t);
        xchg::register(&mut t);
        sysseg::register(&mut t);
        sse::register(&mut t);
        t
    })
}

/// The description of an encoding: handler, flow, flags (see [`desc`]).
pub fn desc(code: iced_x86::Code) -> &'static Desc {
    table().get(code)
}

/// Does the interpreter implement this mnemonic?
pub fn implements(m: Mnemonic) -> bool {
    iced_x86::Code::values().any(|c| c.mnemonic() == m && desc(c).handler.is_some())
}

/// DR6.BS: single-step.
const DR6_BS: u64 = 1 << 14;

/// MOV SS and POP SS (not LSS) block interrupts and debug traps for one
/// instruction. SDM Vol. 3 §6.8.3. The one predicate both engines use.
pub fn loads_ss(ins: &Instruction) -> bool {
    matches!(ins.mnemonic(), Mnemonic::Mov | Mnemonic::Pop)
        && ins.op_count() >= 1
        && ins.op0_kind() == iced_x86::OpKind::Register
        && ins.op0_register() == iced_x86::Register::SS
}

/// Register state restored when an instruction faults.
#[derive(Clone, Copy, Debug, Default)]
pub struct Checkpoint {
    gpr: [u64; 16],
    rip: u64,
    rflags: u64,
}

/// What one call to [`Cpu::step`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOutcome {
    /// An instruction retired, or an event was delivered.
    Executed,
    /// The processor is halted and no event woke it.
    Halted,
}

impl Cpu {
    /// Mark the current register values as architecturally committed: a
    /// fault from here on rolls back only to this point. REP string
    /// instructions call it after every completed iteration.
    pub fn commit(&mut self) {
        self.checkpoint = Checkpoint {
            gpr: self.state.gpr,
            rip: self.checkpoint.rip,
            rflags: self.state.rflags,
        };
    }

    fn rollback(&mut self) {
        self.state.gpr = self.checkpoint.gpr;
        self.state.rip = self.checkpoint.rip;
        self.state.rflags = self.checkpoint.rflags;
    }

    /// RIP of the instruction being executed.
    pub fn instruction_start(&self) -> u64 {
        self.checkpoint.rip
    }

    /// Execute one instruction, or deliver one pending event.
    ///
    /// Debug exceptions (SDM Vol. 3 §18.3): instruction breakpoints are
    /// faults taken before the fetch; single-step (TF at the start of the
    /// instruction) and data breakpoints are traps taken once it retires.
    /// MOV SS / POP SS hold interrupts and debug traps back until after the
    /// next instruction (§6.8.3); INT n / INT3 / INTO / INT1 discard the
    /// traps (the handler starts with TF = 0). Fault-class exceptions push
    /// RFLAGS with RF = 1 (§18.3.1.1); RF is cleared after every
    /// instruction except IRET.
    pub fn step(&mut self, bus: &mut dyn Bus) -> Result<StepOutcome, StopReason> {
        bus.set_instruction_count(self.state.icount);
        let shadow = std::mem::take(&mut self.state.events.interrupt_shadow);
        if !shadow && self.deliver_pending_event(bus)? {
            return Ok(StepOutcome::Executed);
        }
        if self.state.events.halted {
            return Ok(StepOutcome::Halted);
        }
        let tf = self.state.rflags & flags::TF != 0;
        if let Err(e) = self.check_instruction_breakpoints() {
            self.deliver(bus, EventKind::Exception(e))?;
            return Ok(StepOutcome::Executed);
        }
        match self.execute(bus) {
            Ok(ins) => {
                self.finish_instruction(bus, &ins, tf)?;
            }
            // INT n, INT3, INTO, INT1: pending debug traps are discarded
            // (as Bochs does); the interrupt is delivered as a trap.
            Err(Fault::Trap(t)) => {
                self.state.events.pending_db = 0;
                match self.deliver_once(bus, t.into()) {
                    Ok(()) => {}
                    // The delivery faulted (gate DPL, not present, ...): a
                    // fault of the INT instruction itself, which did not
                    // retire after all.
                    Err(Fault::Exception(e)) => {
                        self.state.icount = self.state.icount.wrapping_sub(1);
                        self.stats.instructions = self.stats.instructions.saturating_sub(1);
                        self.rollback();
                        if e.is_fault_class() {
                            self.state.rflags |= flags::RF;
                        }
                        self.deliver(bus, EventKind::Exception(e))?;
                    }
                    Err(Fault::Stop(s)) => return Err(s),
                    Err(Fault::Trap(_) | Fault::FpuErrorWait) => {
                        return Err(StopReason::Unsupported(
                            "software interrupt during delivery",
                        ))
                    }
                }
            }
            Err(Fault::Exception(e)) => {
                if e.is_fault_class() {
                    self.state.rflags |= flags::RF;
                }
                self.deliver(bus, EventKind::Exception(e))?;
            }
            Err(Fault::FpuErrorWait) => {
                self.freeze_on_fpu_error(bus);
                return Ok(StepOutcome::Halted);
            }
            Err(Fault::Stop(s)) => return Err(s),
        }
        Ok(StepOutcome::Executed)
    }

    /// What the processor does on [`Fault::FpuErrorWait`] (the waiting
    /// instruction has already been rolled back to its start): assert
    /// FERR# and stop at the instruction until an interrupt or NMI is
    /// taken (SDM Vol. 1 Appendix D.2.1: the processor "freezes" on the
    /// next waiting x87 instruction). The wait is the HLT state with RIP
    /// on the instruction, so the handler's IRET runs it again. Both
    /// engines call this.
    pub fn freeze_on_fpu_error(&mut self, bus: &mut dyn Bus) {
        self.state.events.halted = true;
        if !self.state.events.ferr {
            self.state.events.ferr = true;
            bus.set_ferr(true);
        }
    }

    /// What [`Cpu::step`] does after `ins` retired (`tf`: TF was set at
    /// its start): a single-step trap becomes pending; MOV SS / POP SS
    /// open the interrupt shadow and hold pending debug traps back
    /// (§6.8.3); otherwise pending debug traps are delivered as one #DB.
    /// Returns whether a #DB was delivered. The translator's monitor calls
    /// use it too, so both engines do the same.
    pub fn finish_instruction(
        &mut self,
        bus: &mut dyn Bus,
        ins: &Instruction,
        tf: bool,
    ) -> Result<bool, StopReason> {
        if tf {
            self.state.events.pending_db |= DR6_BS;
        }
        // FERR# follows FSW.ES down (FNCLEX, FNINIT, FLDENV, FRSTOR,
        // FXRSTOR, XRSTOR): the chipset then deasserts IGNNE#.
        if self.state.events.ferr && self.state.fx.fsw & crate::fxstate::fsw::ES == 0 {
            self.state.events.ferr = false;
            bus.set_ferr(false);
        }
        if loads_ss(ins) {
            self.state.events.interrupt_shadow = true;
            return Ok(false);
        }
        let db = std::mem::take(&mut self.state.events.pending_db);
        if db == 0 {
            return Ok(false);
        }
        self.state.dr[6] = (self.state.dr[6] & !0xf) | db;
        self.deliver(bus, EventKind::Exception(Exception::DB))?;
        Ok(true)
    }

    /// Execute one instruction without delivering what it raises: on a
    /// fault the registers are restored to the instruction start and the
    /// fault is returned; a software interrupt (`Fault::Trap`) comes back
    /// with the instruction retired and RIP after it. `step` builds on it; the host-CPU oracle and the
    /// translator's fallback call it directly.
    pub fn execute(&mut self, bus: &mut dyn Bus) -> Result<Instruction, Fault> {
        self.begin_instruction();
        match self.fetch_decode(bus) {
            Ok(ins) => self.retire(bus, &ins).map(|()| ins),
            Err(e) => Err(self.abort(e.into())),
        }
    }

    /// [`Cpu::execute`] for an instruction already decoded from the bytes
    /// at CS:RIP under the current mode (the translator's monitor calls:
    /// its blocks were decoded when translated, and a write to their code
    /// ends the block before the next instruction). Nothing is fetched, so
    /// no fetch fault can happen: the caller vouches for the bytes.
    pub fn execute_decoded(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
        self.begin_instruction();
        self.retire(bus, ins)
    }

    fn begin_instruction(&mut self) {
        self.checkpoint = Checkpoint {
            gpr: self.state.gpr,
            rip: self.state.rip,
            rflags: self.state.rflags,
        };
    }

    /// Run the decoded `ins` (RIP at its start) and account for it: a
    /// REP string instruction that yielded did not retire (RF set, as when
    /// hardware takes an interrupt between iterations, so an instruction
    /// breakpoint on it does not fire again when it resumes, SDM Vol. 3
    /// §18.3.1.1); a fault rolls back to the start.
    fn retire(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
        match self.execute_one(bus, ins) {
            Ok(()) if std::mem::take(&mut self.rep_unfinished) => {
                self.state.rflags |= flags::RF;
                Ok(())
            }
            Ok(()) => {
                self.state.icount = self.state.icount.wrapping_add(1);
                self.stats.instructions += 1;
                let m = ins.mnemonic();
                if !matches!(m, Mnemonic::Iret | Mnemonic::Iretd | Mnemonic::Iretq) {
                    self.state.rflags &= !flags::RF;
                }
                Ok(())
            }
            // A software interrupt: the instruction retired.
            Err(Fault::Trap(t)) => {
                self.state.icount = self.state.icount.wrapping_add(1);
                self.stats.instructions += 1;
                self.state.rflags &= !flags::RF;
                Err(Fault::Trap(t))
            }
            Err(e) => Err(self.abort(e)),
        }
    }

    /// A fault before the instruction retired: back to its start.
    fn abort(&mut self, e: Fault) -> Fault {
        self.state.events.pending_db = 0;
        self.rep_unfinished = false;
        self.rollback();
        e
    }

    fn execute_one(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
        self.state.rip = self.next_ip(ins);
        let code = ins.code();
        if code == iced_x86::Code::INVALID {
            return Err(Exception::UD.into());
        }
        match desc(code).handler {
            // The CPU model's feature check (`CpuModel::enables`), which
            // the translator's planning reads too: one bit test.
            Some(h) if self.model.enables(code) => h(self, bus, ins),
            Some(_) => self.not_in_model(bus, ins),
            None => {
                let name = format!("{:?}", ins.mnemonic()).to_lowercase();
                *self.stats.unimplemented.entry(name).or_insert(0) += 1;
                Err(self.unavailable(ins).into())
            }
        }
    }

    /// An instruction xlat implements but the CPU model does not
    /// advertise: #UD (counted in `stats.not_in_model`), as on a processor
    /// without the feature, or what such a processor reads the bytes as
    /// (TZCNT as BSF, LZCNT as BSR: `features::without_feature`).
    #[cold]
    fn not_in_model(&mut self, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
        if let Some(alt) = features::without_feature(ins.code()) {
            if let (true, Some(h)) = (self.model.enables(alt), desc(alt).handler) {
                return h(self, bus, ins);
            }
        }
        let name = format!("{:?}", ins.mnemonic()).to_lowercase();
        *self.stats.not_in_model.entry(name).or_insert(0) += 1;
        Err(Exception::UD.into())
    }

    /// The exception an instruction of a unit xlat does not implement yet
    /// raises: #NM where CR0 hands x87/MMX/SSE instructions to the OS, else
    /// #UD. SDM Vol. 3 Table 2-2 ("Action Taken By x87 FPU Instructions for
    /// Different Combinations of EM, MP, and TS") and Table 13-1 ("Action
    /// Taken for Combinations of OSFXSR, OSXMMEXCPT, SSE, SSE2, SSE3, EM,
    /// MP, and TS").
    fn unavailable(&self, ins: &Instruction) -> Exception {
        use crate::state::{cr0, cr4};
        use iced_x86::CpuidFeature as F;
        let cr0 = self.state.cr0;
        let (em, ts) = (cr0 & cr0::EM != 0, cr0 & cr0::TS != 0);
        let feats = ins.cpuid_features();
        let has = |f: &[F]| feats.iter().any(|x| f.contains(x));
        if ins.code().encoding() != iced_x86::EncodingKind::Legacy {
            return Exception::UD; // VEX/EVEX/XOP: no AVX, no XSAVE enabled
        }
        if has(&[F::FPU, F::FPU287, F::FPU387, F::FXSR]) {
            return if em || ts {
                Exception::NM
            } else {
                Exception::UD
            };
        }
        if has(&[F::MMX]) {
            return if !em && ts {
                Exception::NM
            } else {
                Exception::UD
            };
        }
        let sse = [F::SSE, F::SSE2, F::SSE3, F::SSSE3, F::SSE4_1, F::SSE4_2];
        if has(&sse) {
            let usable = !em && self.state.cr4 & cr4::OSFXSR != 0;
            return if usable && ts {
                Exception::NM
            } else {
                Exception::UD
            };
        }
        Exception::UD
    }

    /// RIP after `ins`, wrapped to the code size.
    fn next_ip(&self, ins: &Instruction) -> u64 {
        let ip = self.state.rip.wrapping_add(ins.len() as u64);
        match ins.code_size() {
            iced_x86::CodeSize::Code16 => ip & 0xffff,
            iced_x86::CodeSize::Code32 => ip & 0xffff_ffff,
            _ => ip,
        }
    }

    /// Instruction breakpoints (DR0–DR3 with R/W = 00) are faults taken
    /// before the instruction executes, unless RFLAGS.RF is set.
    /// SDM Vol. 3 §18.3.1.1.
    fn check_instruction_breakpoints(&mut self) -> Result<(), Exception> {
        let dr7 = self.state.dr[7];
        if dr7 & 0xff == 0 || self.state.rflags & flags::RF != 0 {
            return Ok(());
        }
        let lin = self.wrap_linear(self.state.cs().base.wrapping_add(self.state.rip));
        let mut hits = 0;
        for i in 0..4 {
            let enabled = dr7 & (3 << (i * 2)) != 0;
            let rw = (dr7 >> (16 + i * 4)) & 3;
            if enabled && rw == 0 && self.state.dr[i] == lin {
                hits |= 1 << i;
            }
        }
        if hits != 0 {
            self.state.dr[6] = (self.state.dr[6] & !0xf) | hits;
            return Err(Exception::DB);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

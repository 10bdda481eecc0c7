//! Monitor calls: the instructions translated code does not run natively
//! are run by the reference interpreter, one at a time, with exactly the
//! post-processing `Cpu::step` applies after `Cpu::execute`.

use crate::bus::JitBus;
use crate::exec::{EXIT_FAULT, EXIT_MONITOR, EXIT_STOP};
use cpu_model::exception::{Exception, Fault, StopReason};
use cpu_model::interp::EventKind;
use cpu_model::state::Segment;
use cpu_model::{flags, Bus, Cpu};
use iced_x86::{Instruction, Mnemonic};

/// The state a translation assumed at entry; any change ends the block.
///
/// `tlb_generation` changes whenever the interpreter's TLB drops anything
/// (MOV to CR3 even with the same value, CR0/CR4 paging changes, EFER,
/// INVLPG, INVPCID): such an instruction is serializing (SDM Vol. 3A
/// 4.10.4.1 and "Serializing Instructions"), so the next instruction must
/// be fetched through the new translation, which only the dispatcher's
/// lookup does; the rest of the block, and any block chained to it, may
/// come from a page that is no longer mapped there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    tlb_generation: u64,
    cr0: u64,
    cr3: u64,
    cr4: u64,
    efer: u64,
    vm: bool,
    cs: Segment,
    /// What native SIMD instructions were translated under (CR0/CR4 are
    /// above; this adds MXCSR's exception masks).
    simd: crate::emit::SimdEnv,
}

impl Snapshot {
    pub fn of(cpu: &Cpu) -> Snapshot {
        let s = &cpu.state;
        Snapshot {
            tlb_generation: cpu.tlb.generation(),
            cr0: s.cr0,
            cr3: s.cr3,
            cr4: s.cr4,
            efer: s.efer,
            vm: s.v86(),
            cs: *s.cs(),
            simd: crate::emit::SimdEnv::of(cpu),
        }
    }
}

/// Rust-side state of monitor calls during one entry into generated code.
#[derive(Debug)]
pub struct MonitorEnv {
    pub snapshot: Snapshot,
    pub stop: Option<StopReason>,
    /// Deliver exceptions (else return them in `fault`).
    pub deliver: bool,
    pub fault: Option<Exception>,
    /// Steps (instructions or deliveries) taken by monitor calls.
    pub steps: u64,
    /// Monitor calls by mnemonic (`Mnemonic as usize`).
    pub by_mnemonic: Vec<u64>,
    /// The last instruction a monitor call retired: (mnemonic, its stack
    /// pointer increment), so the caller can enter the stack page of a
    /// near CALL/RET into the host TLB.
    pub last: Option<(Mnemonic, i32)>,
}

impl Default for MonitorEnv {
    fn default() -> Self {
        MonitorEnv {
            snapshot: Snapshot::default(),
            stop: None,
            deliver: true,
            fault: None,
            steps: 0,
            by_mnemonic: vec![0; Mnemonic::values().len()],
            last: None,
        }
    }
}

/// Can translated code run now, i.e. would `Cpu::step` just execute the
/// next instruction without delivering or checking anything first?
pub fn can_run(cpu: &Cpu, bus: &dyn Bus) -> bool {
    let s = &cpu.state;
    let e = &s.events;
    let quiet = !e.halted
        && !e.interrupt_shadow
        && e.pending_db == 0
        && s.rflags & (flags::TF | flags::RF) == 0
        && s.dr[7] & 0xff == 0;
    let nmi = e.nmi_pending && !e.nmi_blocked;
    let intr = s.rflags & flags::IF != 0 && bus.interrupt_pending();
    quiet && !nmi && !intr && !bus.stop_requested()
}

/// A fault raised by the instruction at `state.rip` (registers as at its
/// start): delivered as `Cpu::step` does (or returned when
/// `env.deliver` is false); the block exits.
fn raise(
    cpu: &mut Cpu,
    bus: &mut JitBus<'_>,
    env: &mut MonitorEnv,
    countdown: &mut i64,
    remaining: u64,
    e: Exception,
) -> u32 {
    *countdown = countdown.wrapping_add(remaining as i64);
    if !env.deliver {
        env.fault = Some(e);
        return EXIT_FAULT;
    }
    // As Cpu::step: fault-class exceptions push RF = 1.
    if e.is_fault_class() {
        cpu.state.rflags |= flags::RF;
    }
    if let Err(s) = cpu.deliver(bus, EventKind::Exception(e)) {
        env.stop = Some(s);
        return EXIT_STOP;
    }
    EXIT_MONITOR
}

/// After a memory access by a native instruction: must the block end
/// once the instruction completes?
pub fn must_exit(cpu: &Cpu, bus: &JitBus<'_>) -> bool {
    !bus.dirty.is_empty() || !can_run(cpu, bus)
}

/// Memory read of a native instruction: operand 1 (`mode` READ_SRC),
/// operand 0 (READ_DST) or operand 0 checked for writing first
/// (READ_RMW, as the interpreter's read-modify-write instructions do).
/// state.rip is the instruction's address and nothing has been changed
/// yet, so a fault is precise. Returns (0 or an exit code, value).
pub fn mem_read(
    cpu: &mut Cpu,
    bus: &mut JitBus<'_>,
    env: &mut MonitorEnv,
    countdown: &mut i64,
    ins: &Instruction,
    remaining: u64,
    mode: u32,
) -> (u32, u64) {
    let r = match mode as i32 {
        crate::emit::READ_SRC => cpu.read_op(bus, ins, 1),
        crate::emit::READ_DST => cpu.read_op(bus, ins, 0),
        _ => cpu.read_rmw_op(bus, ins, 0),
    };
    match r {
        Ok(v) => (0, v),
        Err(e) => {
            // The delivery is a step, not a retired instruction.
            env.steps += 1;
            (raise(cpu, bus, env, countdown, remaining, e), 0)
        }
    }
}

/// Memory write of a native instruction (operand 0 of `ins`), its last
/// action except for the flags.
pub fn mem_write(
    cpu: &mut Cpu,
    bus: &mut JitBus<'_>,
    env: &mut MonitorEnv,
    countdown: &mut i64,
    ins: &Instruction,
    value: u64,
    remaining: u64,
) -> u32 {
    match cpu.write_op(bus, ins, 0, value) {
        Ok(()) => 0,
        Err(e) => {
            env.steps += 1;
            raise(cpu, bus, env, countdown, remaining, e)
        }
    }
}

/// PUSH reg/imm or POP reg, as the interpreter's handlers do it (the
/// operand size is the stack-pointer increment; PUSH rSP pushes the value
/// before the decrement; POP rSP loads the popped value). RSP changes only
/// once the access succeeded.
pub fn stack(
    cpu: &mut Cpu,
    bus: &mut JitBus<'_>,
    env: &mut MonitorEnv,
    countdown: &mut i64,
    ins: &Instruction,
    remaining: u64,
) -> u32 {
    let size = ins.stack_pointer_increment().unsigned_abs();
    let r = if ins.mnemonic() == Mnemonic::Push {
        cpu.read_op(bus, ins, 0)
            .and_then(|v| cpu.push(bus, size, v))
    } else {
        cpu.pop(bus, size)
            .map(|v| cpu.set_reg(ins.op0_register(), v))
    };
    match r {
        Ok(()) => 0,
        Err(e) => {
            env.steps += 1;
            raise(cpu, bus, env, countdown, remaining, e)
        }
    }
}

/// One step of `ins`, an instruction of the block that it does not run
/// natively (decoded when the block was translated: the interpreter does
/// not fetch it again). Returns 0 to continue the block, else an exit
/// code (the countdown refunded with the block instructions that will
/// not run).
pub fn call(
    cpu: &mut Cpu,
    bus: &mut JitBus<'_>,
    env: &mut MonitorEnv,
    countdown: &mut i64,
    ins: &Instruction,
    remaining: u64,
    next_rip: u64,
) -> u32 {
    env.steps += 1;
    let exit = |countdown: &mut i64, code: u32| {
        *countdown = countdown.wrapping_add(remaining as i64);
        code
    };
    match cpu.execute_decoded(bus, ins) {
        Ok(()) => {}
        Err(Fault::Exception(e)) => {
            return raise(cpu, bus, env, countdown, remaining, e);
        }
        // Not reached: blocks never contain INT n / INT3 / INTO / INT1
        // (`plan_block` leaves them to `Cpu::step`, whose delivery of a
        // software interrupt needs interpreter internals). Delivered here
        // the same way as far as the public interface allows.
        Err(Fault::Trap(t)) => {
            if !env.deliver {
                env.stop = Some(StopReason::Unsupported(
                    "software interrupt in a monitor call",
                ));
                return exit(countdown, EXIT_STOP);
            }
            cpu.state.events.pending_db = 0;
            if let Err(s) = cpu.deliver(bus, t.into()) {
                env.stop = Some(s);
                return exit(countdown, EXIT_STOP);
            }
            return exit(countdown, EXIT_MONITOR);
        }
        // A waiting x87 instruction with an error pending and CR0.NE = 0:
        // not retired, the processor waits at it for IRQ 13.
        Err(Fault::FpuErrorWait) => {
            cpu.freeze_on_fpu_error(bus);
            return exit(countdown, EXIT_MONITOR);
        }
        Err(Fault::Stop(s)) => {
            env.stop = Some(s);
            return exit(countdown, EXIT_STOP);
        }
    }
    let m = ins.mnemonic();
    if let Some(c) = env.by_mnemonic.get_mut(m as usize) {
        *c += 1;
    }
    env.last = Some((m, ins.stack_pointer_increment()));
    // Cpu::step's post-processing with TF = 0 at the instruction start
    // (translated code never runs with TF set). A REP string instruction
    // that yielded before its last iteration did not retire: RIP stays on
    // it and RF is set, so the block exits below.
    match cpu.finish_instruction(bus, ins, false) {
        Ok(false) => {}
        Ok(true) => return exit(countdown, EXIT_MONITOR),
        Err(s) => {
            env.stop = Some(s);
            return exit(countdown, EXIT_STOP);
        }
    }
    let keep_going = cpu.state.rip == next_rip
        && bus.dirty.is_empty()
        && Snapshot::of(cpu) == env.snapshot
        && can_run(cpu, bus);
    if keep_going {
        0
    } else {
        exit(countdown, EXIT_MONITOR)
    }
}

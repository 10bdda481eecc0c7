//! The emulator executor: runs a case in one of xlat's engines in flat
//! 64-bit mode at CPL 3, the way Linux runs the native side (CR0.AM set, so
//! RFLAGS.AC enables alignment checks in both), and tracks which flags and
//! registers the SDM leaves undefined for their last writer.

use crate::{Case, Observed, Outcome, Regs, CODE_ADDR, DATA_ADDR, DATA_SIZE};
use cpu_model::exception::Fault;
use cpu_model::memory::FlatBus;
use cpu_model::state::{attr, cr0, cr4, efer, SegReg, Segment};
use cpu_model::{flags, Cpu, CpuModel};
use iced_x86::{
    Instruction, InstructionInfoFactory, Mnemonic, OpAccess, OpKind, Register, RflagsBits,
};

const RAM_SIZE: usize = 0x40_0000;
const PML4: u64 = 0x3f_e000;
const PDPT: u64 = 0x3f_f000;
/// Bounds a case: at most 16 instructions, REP counts are small.
const MAX_STEPS: usize = 10_000;

/// The engines the oracle can drive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Interp,
    /// The translator (`translator::Jit`), with exceptions returned instead
    /// of delivered and a stop at the case's end address.
    Jit,
}

/// A CPU in 64-bit mode at CPL 3 with the first GiB identity-mapped by one
/// user-writable 1 GiB page, and a bus holding the case.
fn machine(case: &Case, model: &'static CpuModel) -> (Cpu, FlatBus) {
    let mut bus = FlatBus::new(RAM_SIZE);
    let put = |bus: &mut FlatBus, addr: u64, bytes: &[u8]| {
        let a = addr as usize;
        bus.ram[a..a + bytes.len()].copy_from_slice(bytes);
    };
    put(&mut bus, CODE_ADDR, &case.code);
    put(&mut bus, DATA_ADDR, &case.data);
    put(&mut bus, PML4, &(PDPT | 0x7).to_le_bytes());
    put(&mut bus, PDPT, &0x87u64.to_le_bytes());
    let mut cpu = Cpu::with_model(model);
    let s = &mut cpu.state;
    // As Linux runs user code: CR0.NE (x87 errors as #MF), MP, EM and TS
    // clear (the FPU state is present); CR4.OSFXSR and OSXMMEXCPT (SIMD
    // errors as #XM).
    s.cr0 = cr0::PE | cr0::PG | cr0::AM | cr0::WP | cr0::NE | cr0::ET | cr0::MP;
    s.cr3 = PML4;
    s.cr4 = cr4::PAE | cr4::OSFXSR | cr4::OSXMMEXCPT;
    // Linux enables XSAVE where the processor has it (its XCR0 has more
    // components than x87 and SSE; the XSAVE cases request only those).
    if model.has_xsave() {
        s.cr4 |= cr4::OSXSAVE;
        s.xcr0 = cpu_model::xstate::XCR0_X87 | cpu_model::xstate::XCR0_SSE;
    }
    s.fx = case.fx;
    s.efer = efer::LME | efer::LMA | efer::NXE | efer::SCE;
    let dpl3 = 3 << attr::DPL_SHIFT;
    let data = Segment {
        base: 0,
        limit: 0xffff_ffff,
        selector: 0x2b,
        attrs: attr::P | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G | dpl3,
    };
    for seg in SegReg::ALL {
        s.seg[seg as usize] = Segment {
            selector: 0,
            attrs: 0,
            ..data
        };
    }
    s.seg[SegReg::Ss as usize] = data;
    if case.bits == 32 {
        // Compatibility mode: flat 32-bit code (Linux's 0x23) and the
        // flat data selector in DS and ES as well.
        s.seg[SegReg::Ds as usize] = data;
        s.seg[SegReg::Es as usize] = data;
        s.seg[SegReg::Cs as usize] = Segment {
            selector: 0x23,
            attrs: attr::P
                | attr::S
                | attr::CODE
                | attr::RW
                | attr::ACCESSED
                | attr::DB
                | attr::G
                | dpl3,
            ..data
        };
    } else {
        s.seg[SegReg::Cs as usize] = Segment {
            selector: 0x33,
            attrs: attr::P
                | attr::S
                | attr::CODE
                | attr::RW
                | attr::ACCESSED
                | attr::L
                | attr::G
                | dpl3,
            ..data
        };
    }
    s.gpr = case.regs.gpr;
    s.rflags = case.regs.rflags | flags::FIXED;
    s.rip = CODE_ADDR;
    (cpu, bus)
}

/// RFLAGS bits of iced-x86 `RflagsBits`.
fn rflags_of(bits: u32) -> u64 {
    let map = [
        (RflagsBits::OF, flags::OF),
        (RflagsBits::SF, flags::SF),
        (RflagsBits::ZF, flags::ZF),
        (RflagsBits::AF, flags::AF),
        (RflagsBits::CF, flags::CF),
        (RflagsBits::PF, flags::PF),
        (RflagsBits::DF, flags::DF),
        (RflagsBits::IF, flags::IF),
        (RflagsBits::AC, flags::AC),
    ];
    map.iter()
        .filter(|(i, _)| bits & i != 0)
        .fold(0, |acc, (_, f)| acc | f)
}

/// Flags written and left undefined by `ins` about to run in `cpu`:
/// (modified, undefined). Count-dependent instructions are resolved with the
/// actual count, SDM Vol. 2 "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD".
fn flag_effect(cpu: &Cpu, ins: &Instruction) -> (u64, u64) {
    let modified = rflags_of(ins.rflags_modified());
    let mut undefined = rflags_of(ins.rflags_undefined());
    let m = ins.mnemonic();
    // A REP-prefixed string instruction with a zero count does nothing.
    if (ins.has_rep_prefix() || ins.has_repne_prefix()) && ins.is_string_instruction() {
        let count = match ins.op_kinds().find(|k| {
            matches!(
                k,
                OpKind::MemoryESEDI
                    | OpKind::MemorySegESI
                    | OpKind::MemoryESDI
                    | OpKind::MemorySegSI
            )
        }) {
            Some(_) => cpu.state.gpr[1] & 0xffff_ffff,
            None => cpu.state.gpr[1],
        };
        if count == 0 {
            return (0, 0);
        }
    }
    if matches!(m, Mnemonic::Mul | Mnemonic::Imul) {
        // SDM Vol. 2 "MUL", "IMUL": SF, ZF, AF and PF are undefined
        // (iced-x86 lists ZF as written for some IMUL forms).
        undefined |= flags::SF | flags::ZF | flags::AF | flags::PF;
    }
    let is_shift = matches!(
        m,
        Mnemonic::Shl
            | Mnemonic::Sal
            | Mnemonic::Shr
            | Mnemonic::Sar
            | Mnemonic::Shld
            | Mnemonic::Shrd
    );
    let is_rotate = matches!(
        m,
        Mnemonic::Rol | Mnemonic::Ror | Mnemonic::Rcl | Mnemonic::Rcr
    );
    if !is_shift && !is_rotate {
        return (modified, undefined);
    }
    let count_op = ins.op_count() - 1;
    let raw = match ins.op_kind(count_op) {
        OpKind::Register => cpu.reg(ins.op_register(count_op)),
        _ => ins.immediate(count_op),
    };
    let size = Cpu::op_size(ins, 0);
    let count = raw & if size == 8 { 0x3f } else { 0x1f };
    if count == 0 {
        return (0, 0);
    }
    let mut undef = if count == 1 { 0 } else { flags::OF };
    if is_shift {
        undef |= flags::AF;
    }
    if matches!(m, Mnemonic::Shld | Mnemonic::Shrd) && count > u64::from(size) * 8 {
        undef |= flags::STATUS;
    }
    (modified | undef, undef)
}

/// FSW condition codes an x87 instruction leaves undefined and those it
/// defines (written with a specified value), SDM Vol. 2 "FPU Flags
/// Affected" of each instruction: (undefined, defined).
fn fsw_effect(m: Mnemonic) -> (u16, u16) {
    use Mnemonic as M;
    const C0: u16 = 1 << 8;
    const C1: u16 = 1 << 9;
    const C2: u16 = 1 << 10;
    const C3: u16 = 1 << 14;
    const ALL: u16 = C0 | C1 | C2 | C3;
    match m {
        M::Ffree
        | M::Ffreep
        | M::Fldcw
        | M::Fnstcw
        | M::Fstcw
        | M::Fnstsw
        | M::Fstsw
        | M::Fnclex
        | M::Fclex => (ALL, 0),
        M::Fsin | M::Fcos | M::Fsincos | M::Fptan => (C0 | C3, C1 | C2),
        M::Fld
        | M::Fild
        | M::Fld1
        | M::Fldz
        | M::Fldpi
        | M::Fldl2e
        | M::Fldl2t
        | M::Fldlg2
        | M::Fldln2
        | M::Fst
        | M::Fstp
        | M::Fist
        | M::Fistp
        | M::Fisttp
        | M::Fadd
        | M::Faddp
        | M::Fiadd
        | M::Fsub
        | M::Fsubp
        | M::Fisub
        | M::Fsubr
        | M::Fsubrp
        | M::Fisubr
        | M::Fmul
        | M::Fmulp
        | M::Fimul
        | M::Fdiv
        | M::Fdivp
        | M::Fidiv
        | M::Fdivr
        | M::Fdivrp
        | M::Fidivr
        | M::Fchs
        | M::Fabs
        | M::Fsqrt
        | M::Frndint
        | M::Fscale
        | M::Fxtract
        | M::F2xm1
        | M::Fyl2x
        | M::Fyl2xp1
        | M::Fpatan
        | M::Fxch
        | M::Fincstp
        | M::Fdecstp => (C0 | C2 | C3, C1),
        // C1 changes only on a stack underflow: it stays as defined (or
        // undefined) as the last writer left it.
        M::Fcmovb
        | M::Fcmove
        | M::Fcmovbe
        | M::Fcmovu
        | M::Fcmovnb
        | M::Fcmovne
        | M::Fcmovnbe
        | M::Fcmovnu => (C0 | C2 | C3, 0),
        M::Fcom
        | M::Fcomp
        | M::Fcompp
        | M::Ficom
        | M::Ficomp
        | M::Fucom
        | M::Fucomp
        | M::Fucompp
        | M::Ftst
        | M::Fxam
        | M::Fprem
        | M::Fprem1
        | M::Fninit
        | M::Finit => (0, ALL),
        M::Fcomi | M::Fcomip | M::Fucomi | M::Fucomip => {
            if host_is_amd() {
                // The SDM (and Bochs) clear C1; the AMD processors the
                // oracle has run on leave it as it was. xlat follows the
                // SDM; on an AMD host the bit is not compared.
                (C1, 0)
            } else {
                (0, C1)
            }
        }
        _ => (0, 0),
    }
}

/// Does `ins` load an MXCSR value with a bit the host accepts and xlat's
/// MXCSR_MASK (0xFFFF, Intel's) refuses with #GP? AMD's mask adds bit 17
/// (misaligned SSE mode): a vendor difference, not a bug, so such a case
/// proves nothing. (FXRSTOR's image is checked the same way.)
fn host_accepts_more_mxcsr(cpu: &Cpu, bus: &FlatBus, ins: &Instruction) -> bool {
    let at = match ins.mnemonic() {
        Mnemonic::Ldmxcsr => 0,
        Mnemonic::Fxrstor | Mnemonic::Fxrstor64 => 24,
        _ => return false,
    };
    let addr = cpu.effective_address(ins).wrapping_add(at) as usize;
    let Some(bytes) = bus.ram.get(addr..addr + 4) else {
        return false;
    };
    let v = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    v & !cpu_model::fxstate::MXCSR_MASK & host_mxcsr_mask() != 0
}

/// The host's MXCSR_MASK (FXSAVE image bytes 28-31; 0xFFBF when zero,
/// SDM Vol. 1 §11.6.6).
fn host_mxcsr_mask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        let mask = crate::native::host_fxsave_mxcsr_mask();
        if mask == 0 {
            0xffbf
        } else {
            mask
        }
    })
}

/// Is the host CPU an AMD one (CPUID vendor "AuthenticAMD")? Where the
/// two vendors document different results, the oracle compares only what
/// both agree on.
fn host_is_amd() -> bool {
    static AMD: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *AMD.get_or_init(|| {
        let r = std::arch::x86_64::__cpuid(0);
        (r.ebx, r.edx, r.ecx) == (0x6874_7541, 0x6974_6e65, 0x444d_4163)
    })
}

/// Registers whose value `ins` leaves undefined (bit per GPR), and whether
/// it leaves memory undefined.
fn undefined_results(cpu: &Cpu, ins: &Instruction) -> (u16, bool) {
    let m = ins.mnemonic();
    let mut undefined = false;
    if matches!(m, Mnemonic::Shld | Mnemonic::Shrd) && Cpu::op_size(ins, 0) == 2 {
        let raw = match ins.op_kind(2) {
            OpKind::Register => cpu.reg(ins.op_register(2)),
            _ => ins.immediate(2),
        };
        undefined = raw & 0x1f > 16;
    }
    if m == Mnemonic::Bswap && Cpu::op_size(ins, 0) == 2 {
        undefined = true;
    }
    // BSF/BSR of zero: the destination is undefined (AMD leaves it as it
    // was; Intel also clears bits 63:32 of a 32-bit register).
    if matches!(m, Mnemonic::Bsf | Mnemonic::Bsr) {
        let src = match ins.op_kind(1) {
            OpKind::Register => Some(cpu.reg(ins.op_register(1))),
            _ => None,
        };
        undefined = src == Some(0) || src.is_none();
    }
    if !undefined {
        return (0, false);
    }
    match ins.op_kind(0) {
        OpKind::Register => {
            let full = ins.op_register(0).full_register();
            let idx = full as u32 - Register::RAX as u32;
            (1 << idx, false)
        }
        _ => (0, true),
    }
}

/// Does `ins` read a flag, register or (when memory is undefined) any
/// memory that an earlier instruction left undefined?
fn reads_undefined(
    f: &mut InstructionInfoFactory,
    ins: &Instruction,
    obs: &Observed,
    data_undefined: bool,
) -> bool {
    if rflags_of(ins.rflags_read()) & obs.undefined_flags != 0 {
        return true;
    }
    let info = f.info(ins);
    let reads = |a: OpAccess| {
        matches!(
            a,
            OpAccess::Read | OpAccess::CondRead | OpAccess::ReadWrite | OpAccess::ReadCondWrite
        )
    };
    let reg_read = info
        .used_registers()
        .iter()
        .any(|u| reads(u.access()) && gpr_bit(u.register()) & obs.undefined_regs != 0);
    let mem_read = data_undefined && info.used_memory().iter().any(|m| reads(m.access()));
    reg_read || mem_read
}

/// Bit of the 64-bit register holding `r` in `Observed::undefined_regs`.
fn gpr_bit(r: Register) -> u16 {
    let full = r.full_register() as u32;
    let rax = Register::RAX as u32;
    if (rax..rax + 16).contains(&full) {
        1 << (full - rax)
    } else {
        0
    }
}

/// Does `model` enable every instruction of `case`? (The host runs them
/// all; a case with one the model lacks would only compare its #UD.)
pub fn enabled_on(case: &Case, model: &CpuModel) -> bool {
    let mut dec = iced_x86::Decoder::new(case.bits, &case.code, iced_x86::DecoderOptions::NONE);
    // Bytes that do not decode raise #UD whatever the model.
    dec.iter()
        .all(|i| i.code() == iced_x86::Code::INVALID || model.enables(i.code()))
}

/// Run `case` in `engine` on a processor of `model` and observe the
/// outcome.
pub fn run_emulated(case: &Case, engine: Engine, model: &'static CpuModel) -> Observed {
    match engine {
        Engine::Interp => run_interp(case, model),
        Engine::Jit => run_jit(case, model),
    }
}

/// The case under the JIT. Which flags, registers and memory bytes are
/// undefined at the end (and whether the case is inconclusive) depends only
/// on the instructions executed, so it comes from the interpreter's run;
/// the outcome itself comes from the JIT.
fn run_jit(case: &Case, model: &'static CpuModel) -> Observed {
    let mut obs = run_interp(case, model);
    if obs.inconclusive || obs.error.is_some() {
        return obs;
    }
    let data_undefined = obs.outcome.as_ref().is_some_and(|o| o.data.is_empty());
    let (mut cpu, mut bus) = machine(case, model);
    let end = CODE_ADDR + case.code.len() as u64;
    let config = translator::JitConfig {
        deliver_exceptions: false,
        stop_at: Some(end),
        ..translator::JitConfig::default()
    };
    let mut jit = match translator::Jit::new(config) {
        Ok(j) => j,
        Err(e) => {
            obs.outcome = None;
            obs.error = Some(format!("jit: {e}"));
            return obs;
        }
    };
    let fault = match jit.run(&mut cpu, &mut bus, MAX_STEPS as u64) {
        Ok(translator::JitExit::StopAddress) => None,
        Ok(translator::JitExit::Exception(e)) => Some(e.vector()),
        Ok(translator::JitExit::SoftwareInterrupt(t)) => Some(t.vector()),
        Ok(other) => {
            obs.outcome = None;
            obs.error = Some(format!("jit: {other:?}"));
            return obs;
        }
        Err(s) => {
            obs.outcome = None;
            obs.error = Some(format!("stopped: {s}"));
            return obs;
        }
    };
    let mut data = bus.ram[DATA_ADDR as usize..DATA_ADDR as usize + DATA_SIZE].to_vec();
    if data_undefined {
        data.clear();
    }
    obs.outcome = Some(Outcome {
        regs: Regs {
            gpr: cpu.state.gpr,
            rflags: cpu.state.rflags,
            rip: cpu.state.rip,
        },
        data,
        fault,
        fx: cpu.state.fx,
    });
    obs
}

fn run_interp(case: &Case, model: &'static CpuModel) -> Observed {
    let (mut cpu, mut bus) = machine(case, model);
    let end = CODE_ADDR + case.code.len() as u64;
    let mut obs = Observed::default();
    let mut data_undefined = false;
    let mut factory = InstructionInfoFactory::new();
    let finish = |cpu: &Cpu, bus: &FlatBus, fault: Option<u8>| Outcome {
        regs: Regs {
            gpr: cpu.state.gpr,
            rflags: cpu.state.rflags,
            rip: cpu.state.rip,
        },
        data: bus.ram[DATA_ADDR as usize..DATA_ADDR as usize + DATA_SIZE].to_vec(),
        fault,
        fx: cpu.state.fx,
    };
    for _ in 0..MAX_STEPS {
        if cpu.state.rip == end {
            obs.outcome = Some(finish(&cpu, &bus, None));
            break;
        }
        // What the instruction leaves undefined, applied once it retires.
        let mut pending = None;
        if let Ok(ins) = cpu.fetch_decode(&mut bus) {
            // An undefined flag, register or memory byte steers what
            // follows: the two runs may rightly diverge, so the case proves
            // nothing.
            // FNSTSW stores condition codes left undefined.
            let stsw = matches!(ins.mnemonic(), Mnemonic::Fnstsw | Mnemonic::Fstsw);
            if reads_undefined(&mut factory, &ins, &obs, data_undefined)
                || (stsw && obs.undefined_fsw != 0)
                || host_accepts_more_mxcsr(&cpu, &bus, &ins)
            {
                obs.inconclusive = true;
                return obs;
            }
            let (modified, undefined) = flag_effect(&cpu, &ins);
            let (regs, data) = undefined_results(&cpu, &ins);
            let (fsw_undef, fsw_def) = fsw_effect(ins.mnemonic());
            let fsw = (obs.undefined_fsw & !fsw_def) | fsw_undef;
            pending = Some((
                (obs.undefined_flags & !modified) | undefined,
                regs,
                data,
                fsw,
            ));
        }
        let tf = cpu.state.rflags & flags::TF != 0;
        let result = cpu.execute(&mut bus);
        if let (Ok(_), Some((f, regs, data, fsw))) = (&result, pending) {
            obs.undefined_fsw = fsw;
            obs.undefined_flags = f;
            obs.undefined_regs |= regs;
            data_undefined |= data;
        }
        match result {
            Ok(_) if tf => {
                obs.outcome = Some(finish(&cpu, &bus, Some(1)));
                break;
            }
            Ok(_) => {}
            Err(Fault::Exception(e)) => {
                obs.outcome = Some(finish(&cpu, &bus, Some(e.vector())));
                break;
            }
            // INT3/INTO/INT n retired: natively the signal comes with RIP
            // after the instruction, as here.
            Err(Fault::Trap(t)) => {
                obs.outcome = Some(finish(&cpu, &bus, Some(t.vector())));
                break;
            }
            Err(Fault::Stop(s)) => {
                obs.error = Some(format!("stopped: {s}"));
                break;
            }
            // (User mode runs with CR0.NE = 1: #MF, never FERR#.)
            Err(Fault::FpuErrorWait) => {
                obs.error = Some("x87 error wait (FERR#) with CR0.NE = 0".into());
                break;
            }
        }
    }
    if obs.outcome.is_none() && obs.error.is_none() {
        obs.error = Some(format!("no end after {MAX_STEPS} steps"));
    }
    if data_undefined {
        if let Some(o) = obs.outcome.as_mut() {
            o.data.clear();
        }
    }
    obs
}

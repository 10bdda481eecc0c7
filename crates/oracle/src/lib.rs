//! The host-CPU oracle: differential tests of xlat's engines against the
//! processor the tests run on.
//!
//! A [`Case`] is a short sequence of user-level 64-bit instructions with an
//! initial register state and a data buffer. [`native::run_native`] runs it
//! on the host CPU, [`emulate::run_emulated`] in an engine of xlat, and
//! [`compare`] reports every difference in the general-purpose registers,
//! RIP, the flags (masking those the SDM leaves undefined for their last
//! writer), the data buffer and the fault raised, if any.
//!
//! Both executors use the same fixed addresses, so RIP-relative operands,
//! pushed return addresses and pointers agree byte for byte.
//!
//! Coverage of instructions the host cannot run in 64-bit mode (16/32-bit
//! code, BCD, far transfers, segment loads) is described in
//! docs/architecture.md ("How the interpreter is checked").

#![allow(clippy::multiple_unsafe_ops_per_block)]

pub mod campaign;
pub mod emulate;
pub mod gen;
pub mod native;

use cpu_model::fxstate::FxState;
use std::fmt::Write as _;

/// Test code: the same linear address natively and in the guest.
pub const CODE_ADDR: u64 = 0x0011_0000;
pub const CODE_SIZE: usize = 0x1000;
/// The data buffer every memory operand points into.
pub const DATA_ADDR: u64 = 0x0020_0000;
pub const DATA_SIZE: usize = 0x2000;

/// Registers in encoding order (RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
/// R8–R15), flags and RIP.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Regs {
    pub gpr: [u64; 16],
    pub rflags: u64,
    pub rip: u64,
}

/// One test: code bytes placed at [`CODE_ADDR`], registers, data.
#[derive(Clone, Debug)]
pub struct Case {
    /// 64: 64-bit code. 32: 32-bit code, run in compatibility mode (CS
    /// 0x23 natively), where only the low halves of registers are compared.
    pub bits: u32,
    pub code: Vec<u8>,
    pub regs: Regs,
    pub data: Vec<u8>,
    /// The x87/SSE state at the start: an FXSAVE image (64-bit format),
    /// loaded natively with FXRSTOR64 before the registers.
    pub fx: FxState,
}

/// The x87/SSE state integer cases start with: FNINIT's FCW, the reset
/// MXCSR, every register empty.
pub fn initial_fx() -> FxState {
    FxState {
        fcw: cpu_model::fxstate::FCW_INIT,
        ftw: 0,
        ..FxState::reset()
    }
}

/// What running a case produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Registers at the end, or at the faulting instruction.
    pub regs: Regs,
    pub data: Vec<u8>,
    /// Exception vector, if the case faulted.
    pub fault: Option<u8>,
    /// The x87/SSE state at the end or at the fault (FXSAVE64 natively,
    /// the kernel's saved FPU state in the signal frame at a fault).
    pub fx: FxState,
}

/// Emulator-side bookkeeping: which flags are undefined for the run.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    pub outcome: Option<Outcome>,
    /// Flags whose last writer leaves them undefined.
    pub undefined_flags: u64,
    /// Registers whose last writer leaves them undefined (bit i = GPR i).
    pub undefined_regs: u16,
    /// FSW condition-code bits the last x87 writer leaves undefined.
    pub undefined_fsw: u16,
    /// An instruction read a flag left undefined by its last writer: the
    /// case is not compared.
    pub inconclusive: bool,
    /// Why the emulator could not finish the case (a stop, too many steps).
    pub error: Option<String>,
}

pub const REG_NAMES: [&str; 16] = [
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13",
    "r14", "r15",
];

/// Differences between the native and emulated outcomes, one per line;
/// empty when they agree.
pub fn compare(bits: u32, native: &Outcome, emu: &Observed) -> String {
    let mut d = String::new();
    if emu.inconclusive {
        return d;
    }
    let Some(e) = &emu.outcome else {
        let _ = writeln!(d, "emulator error: {}", emu.error.as_deref().unwrap_or("?"));
        return d;
    };
    if native.fault != e.fault {
        let _ = writeln!(d, "fault: native {:?} emulated {:?}", native.fault, e.fault);
    }
    if native.regs.rip != e.regs.rip {
        let _ = writeln!(
            d,
            "rip: native {:#x} emulated {:#x}",
            native.regs.rip, e.regs.rip
        );
    }
    let width = if bits == 32 { 0xffff_ffff } else { u64::MAX };
    for (i, name) in REG_NAMES.iter().enumerate() {
        let (n, m) = (native.regs.gpr[i] & width, e.regs.gpr[i] & width);
        if emu.undefined_regs & (1 << i) == 0 && n != m {
            let _ = writeln!(d, "{name}: native {n:#x} emulated {m:#x}");
        }
    }
    // RF is never visible natively (PUSHF clears it in the image).
    let mask = cpu_model::flags::IMPLEMENTED & !cpu_model::flags::RF & !emu.undefined_flags;
    if (native.regs.rflags ^ e.regs.rflags) & mask != 0 {
        let _ = writeln!(
            d,
            "rflags: native {:#x} emulated {:#x} (differ {:#x}, undefined {:#x})",
            native.regs.rflags,
            e.regs.rflags,
            (native.regs.rflags ^ e.regs.rflags) & mask,
            emu.undefined_flags
        );
    }
    compare_fx(&native.fx, &e.fx, emu.undefined_fsw, &mut d);
    // An empty emulated buffer means its last writer left it undefined.
    let data_defined = !e.data.is_empty();
    if let Some(i) = (0..DATA_SIZE)
        .filter(|_| data_defined)
        .find(|&i| native.data.get(i) != e.data.get(i))
    {
        let _ = writeln!(
            d,
            "data[{:#x}]: native {:02x?} emulated {:02x?}",
            i,
            &native.data[i..(i + 8).min(DATA_SIZE)],
            &e.data[i..(i + 8).min(DATA_SIZE)]
        );
    }
    d
}

/// The 80-bit value of an x87 register, as sign/exponent and significand.
fn f80(r: &cpu_model::fxstate::X87Reg) -> String {
    format!("{:04x}:{:016x}", r.sign_exp, r.signif)
}

/// Differences in the x87/SSE state: control and status words, the
/// abridged tags, the last-instruction pointers and opcode, MXCSR, the
/// non-empty ST registers (by the native tags and TOP) and XMM0-15.
/// `undefined_fsw`: FSW bits (C0-C3) the last x87 writer leaves undefined.
fn compare_fx(n: &FxState, e: &FxState, undefined_fsw: u16, d: &mut String) {
    if n.fcw != e.fcw {
        let _ = writeln!(d, "fcw: native {:#06x} emulated {:#06x}", n.fcw, e.fcw);
    }
    if (n.fsw ^ e.fsw) & !undefined_fsw != 0 {
        let _ = writeln!(
            d,
            "fsw: native {:#06x} emulated {:#06x} (undefined {:#06x})",
            n.fsw, e.fsw, undefined_fsw
        );
    }
    if n.ftw != e.ftw {
        let _ = writeln!(d, "ftw: native {:#04x} emulated {:#04x}", n.ftw, e.ftw);
    }
    // FOP, FIP and FDP: this host's FXSAVE (AMD) stores them only while
    // an unmasked exception is pending (FSW.ES), else zeros; the emulated
    // FXSAVE always does (as Intel's). Compared only where both define them.
    if n.fsw & cpu_model::fxstate::fsw::ES != 0 {
        if n.fop != e.fop {
            let _ = writeln!(d, "fop: native {:#05x} emulated {:#05x}", n.fop, e.fop);
        }
        if n.fip != e.fip {
            let _ = writeln!(d, "fip: native {:#x} emulated {:#x}", n.fip, e.fip);
        }
        if n.fdp != e.fdp {
            let _ = writeln!(d, "fdp: native {:#x} emulated {:#x}", n.fdp, e.fdp);
        }
    }
    if n.mxcsr != e.mxcsr {
        let _ = writeln!(d, "mxcsr: native {:#x} emulated {:#x}", n.mxcsr, e.mxcsr);
    }
    let top = n.top();
    for i in 0..8 {
        let phys = (top + i as u8) & 7;
        let (a, b) = (&n.st[i], &e.st[i]);
        let full = n.ftw & (1 << phys) != 0;
        if full && (a.signif != b.signif || a.sign_exp != b.sign_exp) {
            let _ = writeln!(d, "st{i}: native {} emulated {}", f80(a), f80(b));
        }
    }
    for i in 0..16 {
        let (a, b) = (&n.xmm[i], &e.xmm[i]);
        if a != b {
            let hex = |x: &[u8; 16]| u128::from_le_bytes(*x);
            let _ = writeln!(d, "xmm{i}: native {:032x} emulated {:032x}", hex(a), hex(b));
        }
    }
}

/// The x87/SSE state in a compact form: control words, the non-empty ST
/// registers, XMM registers that are not zero (with `xmm`).
pub fn format_fx(fx: &FxState, xmm: bool) -> String {
    let mut s = format!(
        "fcw={:#06x} fsw={:#06x} ftw={:#04x} fop={:#05x} fip={:#x} fdp={:#x} mxcsr={:#x}\n",
        fx.fcw, fx.fsw, fx.ftw, fx.fop, fx.fip, fx.fdp, fx.mxcsr
    );
    let top = fx.top();
    for (i, r) in fx.st.iter().enumerate() {
        if fx.ftw & (1 << ((top + i as u8) & 7)) != 0 {
            let _ = write!(s, " st{i}={}", f80(r));
        }
    }
    s.push('\n');
    for (i, x) in fx.xmm.iter().enumerate().filter(|_| xmm) {
        if x.iter().any(|b| *b != 0) {
            let _ = writeln!(s, " xmm{i}={:032x}", u128::from_le_bytes(*x));
        }
    }
    s
}

/// Disassembly of a case's code (Intel syntax), one instruction a line.
pub fn disassemble(code: &[u8], bits: u32) -> String {
    use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
    let mut out = String::new();
    let mut dec = Decoder::with_ip(bits, code, CODE_ADDR, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    for ins in &mut dec {
        let mut s = String::new();
        f.format(&ins, &mut s);
        let start = (ins.ip() - CODE_ADDR) as usize;
        let bytes: String = code[start..start + ins.len()]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let _ = writeln!(out, "  {:08x} {:<30} {}", ins.ip(), bytes, s);
    }
    out
}

/// Registers in a compact table.
pub fn format_regs(r: &Regs) -> String {
    let mut s = String::new();
    for (i, v) in r.gpr.iter().enumerate() {
        let _ = write!(s, "{:>4}={:016x}", REG_NAMES[i], v);
        s.push(if i % 4 == 3 { '\n' } else { ' ' });
    }
    let _ = writeln!(s, "rflags={:#x} rip={:#x}", r.rflags, r.rip);
    s
}

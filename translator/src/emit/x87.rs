//! Host code of a native x87 instruction (planned by `x87_plan.rs`): the
//! guest instruction itself on the host's x87, which holds the guest's
//! x87 state while the block's native code runs.
//!
//! ```text
//! block entry / after every call:  fxrstor64 state.fx        // (the guest's FCW, FSW, tags, ST0-7;
//!                                                            //  XMM and MXCSR too: see below)
//! before every call / every exit:  fxsave64 ctx.fx_scratch; fninit
//!                                  state.fx.{fcw, fsw, ftw, st[0..8]} = ctx.fx_scratch's
//!                                  ldmxcsr ctx.host_mxcsr
//! (inside `flush_cache`/`reload_cache`, which bracket every call into
//! Rust and every exit; a loop back to the block's start keeps the host
//! x87 loaded, so a loop pays nothing per pass.)
//! native x87 instruction i:
//!     if it has a memory operand:                      // `memory::fast_address`
//!         r8 = host address (segment window, page check, micro slot / TLB),
//!              or goto slow_i
//!     non-control: memory operand: state.fx.fdp = effective address; state.fds = its segment's selector
//!                  state.fx.fop = FOP_i; state.fx.fip = rip_i; state.fcs = CS.selector
//!                  (not when instruction i+1 is a native non-control x87 register
//!                  form, which overwrites them: `plan::elide_overwritten_pointers`)
//!     FCMOVcc: host flags = guest flags
//!     OP [r8] | OP st(i)...                            // the guest's encoding
//!     F(U)COMI(P): fincstp; fdecstp                    // C1 := 0 (AMD keeps it)
//!     FNSTSW AX: guest AX = ax
//!     F(U)COMI(P): guest ZF PF CF := host's, OF SF AF := 0   (live flags only)
//! slow_i: (after the block) a monitor call of the whole instruction, as
//!     for SIMD (`emit_block`): the flush saved the host x87 to `state.fx`,
//!     the interpreter runs it there, the reload loads it again.
//! ```
//!
//! Why this is exact: under `SimdEnv::x87` (CR0.EM = CR0.TS = 0, FCW
//! masks all six exceptions, FSW.ES = 0; part of the block's key and of
//! the monitor's end-of-block snapshot) no native x87 instruction can
//! raise #NM or #MF, the host computes the masked responses, and the
//! interpreter computes its values on the same host x87 (`hostfp`) under
//! the same FCW. The host's FIP/FDP/FOP would be JIT addresses (and AMD
//! hosts do not even save them while ES = 0): the guest's are stored by
//! each instruction and never copied back from the host's image. Rust
//! code never sees the guest's x87 state in the host's: the flush ends
//! with FNINIT (the host's FCW 037FH, an empty stack, as the SysV ABI
//! wants at every call). FXRSTOR also loads the guest's XMM registers
//! and MXCSR: the cached XMM registers are reloaded after it, XMM0/XMM1
//! are scratch, and the host's MXCSR is put back at the flush (a block
//! without native SIMD floating point computes nothing under MXCSR in
//! between). `SimdEnv::x87` requires a loadable MXCSR, so FXRSTOR cannot
//! fault.

use super::flags::{restore_flags, save_flags};
use super::loc::Loc;
use super::memory::{fast_address, FastAccess};
use super::native::store_rax;
use super::x87_plan::{X87Class, X87Mem, X87Op};
use super::Asm;
use crate::exec::Ctx;
use cpu_model::fxstate::FxState;
use cpu_model::state::{SegReg, Segment};
use cpu_model::{flags, CpuState};
use dynasmrt::{dynasm, DynasmApi};

const ST_FX: i32 = core::mem::offset_of!(CpuState, fx) as i32;
const ST_FOP: i32 = ST_FX + core::mem::offset_of!(FxState, fop) as i32;
const ST_FIP: i32 = ST_FX + core::mem::offset_of!(FxState, fip) as i32;
const ST_FDP: i32 = ST_FX + core::mem::offset_of!(FxState, fdp) as i32;
const ST_ST: i32 = ST_FX + core::mem::offset_of!(FxState, st) as i32;
const ST_FCS: i32 = core::mem::offset_of!(CpuState, fcs) as i32;
const ST_FDS: i32 = core::mem::offset_of!(CpuState, fds) as i32;
const ST_SEG: i32 = core::mem::offset_of!(CpuState, seg) as i32;
const SEG_SIZE: i32 = core::mem::size_of::<Segment>() as i32;
const SEG_SELECTOR: i32 = core::mem::offset_of!(Segment, selector) as i32;
const CX_FX: i32 = core::mem::offset_of!(Ctx, fx_scratch) as i32;
/// In the FXSAVE image: FCW and FSW (a dword at 0), the abridged tag
/// word (the byte at 4), ST0-7 (16 bytes each from 32, 10 used).
const FX_FTW: i32 = 4;
const FX_ST: i32 = 32;
const _: () = assert!(core::mem::offset_of!(FxState, ftw) == FX_FTW as usize);
const _: () = assert!(core::mem::offset_of!(FxState, st) == FX_ST as usize);

/// The selector of segment register `seg` in `CpuState`.
fn selector_off(seg: usize) -> i32 {
    ST_SEG + seg as i32 * SEG_SIZE + SEG_SELECTOR
}

/// Emit native x87 instruction `x`; `live` = status flags live after it;
/// `fast`: the inline access of its memory operand (None: it has none).
pub(super) fn emit_x87(a: &mut Asm, x: X87Op, live: u64, fast: Option<&FastAccess>) {
    if let (Some(f), Some(m)) = (fast, x.mem) {
        // First, before anything changes: a miss leaves for the slow form.
        fast_address(a, f, m.store);
    }
    if x.records_pointers() {
        pointers(a, &x);
    }
    if x.class == X87Class::Fcmov {
        restore_flags(a);
    }
    for &b in x.host.as_slice() {
        a.push(b);
    }
    if x.class == X87Class::Comi {
        // C1 := 0 (SDM Vol. 2 "FCOMI": "Set to 0"; the interpreter does
        // so, as Bochs does): AMD processors leave it as it was. FINCSTP
        // and FDECSTP both clear C1 and change nothing else (TOP comes
        // back, no tag changes, no exception), on either vendor.
        dynasm!(a ; .arch x64 ; fincstp ; fdecstp);
    }
    match x.class {
        X87Class::StswAx => store_rax(
            a,
            Loc {
                idx: 0,
                high: false,
            },
            2,
        ),
        X87Class::Comi => {
            // ZF, PF, CF from the comparison; OF, SF, AF cleared (SDM
            // Vol. 2 "FCOMI"): the host flags already have those zero.
            let all = flags::STATUS;
            if all & live != 0 {
                save_flags(a, (flags::ZF | flags::PF | flags::CF) & live, all & live);
            }
        }
        _ => {}
    }
}

/// The last-instruction pointers of a non-control instruction, as
/// `Cpu::x87_pointers` records them (SDM Vol. 1 §8.1.8-8.1.9). Uses rax
/// and rcx (r8 holds the operand's host address).
fn pointers(a: &mut Asm, x: &X87Op) {
    if let Some(m) = x.mem {
        effective_address(a, &m);
        let ds_sel = selector_off(usize::from(m.seg));
        dynasm!(a
            ; .arch x64
            ; mov [rbx + ST_FDP], rax
            ; movzx eax, WORD [rbx + ds_sel]
            ; mov [rbx + ST_FDS], ax
        );
    }
    if x.ip_overwritten {
        return;
    }
    let fop = x.fop as i16;
    dynasm!(a ; .arch x64 ; mov WORD [rbx + ST_FOP], fop);
    match i32::try_from(x.ip) {
        Ok(ip) => dynasm!(a ; .arch x64 ; mov QWORD [rbx + ST_FIP], ip),
        Err(_) => {
            let ip = x.ip as i64;
            dynasm!(a ; .arch x64 ; mov rax, QWORD ip ; mov [rbx + ST_FIP], rax);
        }
    }
    let cs_sel = selector_off(SegReg::Cs as usize);
    dynasm!(a
        ; .arch x64
        ; movzx eax, WORD [rbx + cs_sel]
        ; mov [rbx + ST_FCS], ax
    );
}

/// rax := the operand's effective address (`Cpu::effective_address`:
/// base + index * scale + displacement, wrapped to the address size).
/// Uses rcx.
fn effective_address(a: &mut Asm, m: &X87Mem) {
    let mut started = false;
    if let Some(b) = m.base {
        match a.cache.host(b) {
            Some(h) => dynasm!(a ; .arch x64 ; mov rax, Rq(h)),
            None => {
                let o = b.off();
                dynasm!(a ; .arch x64 ; mov rax, [rbx + o]);
            }
        }
        started = true;
    }
    if let Some((ix, scale)) = m.index {
        match a.cache.host(ix) {
            Some(h) => dynasm!(a ; .arch x64 ; mov rcx, Rq(h)),
            None => {
                let o = ix.off();
                dynasm!(a ; .arch x64 ; mov rcx, [rbx + o]);
            }
        }
        if !started {
            dynasm!(a ; .arch x64 ; xor eax, eax);
            started = true;
        }
        match scale {
            1 => dynasm!(a ; .arch x64 ; add rax, rcx),
            2 => dynasm!(a ; .arch x64 ; lea rax, [rax + rcx * 2]),
            4 => dynasm!(a ; .arch x64 ; lea rax, [rax + rcx * 4]),
            _ => dynasm!(a ; .arch x64 ; lea rax, [rax + rcx * 8]),
        }
    }
    // The displacement (wrapped with the sum below 64-bit addressing).
    let disp = m.disp as i64;
    match (i32::try_from(disp), started) {
        (Ok(0), true) => {}
        (Ok(d), true) => dynasm!(a ; .arch x64 ; lea rax, [rax + d]),
        (Ok(d), false) => dynasm!(a ; .arch x64 ; mov rax, d),
        (Err(_), true) => dynasm!(a ; .arch x64 ; mov rcx, QWORD disp ; add rax, rcx),
        (Err(_), false) => dynasm!(a ; .arch x64 ; mov rax, QWORD disp),
    }
    match m.addr_size {
        2 => dynasm!(a ; .arch x64 ; movzx eax, ax),
        4 => dynasm!(a ; .arch x64 ; mov eax, eax),
        _ => {}
    }
}

/// Load the guest's x87 state into the host's (block entry, after every
/// call): FXRSTOR64 of `state.fx` itself (16-byte aligned).
pub(super) fn load_x87(a: &mut Asm) {
    dynasm!(a ; .arch x64 ; fxrstor64 [rbx + ST_FX]);
}

/// Store the host's x87 state into the guest's (before every call, at
/// every exit): FXSAVE64 to `ctx.fx_scratch`, FNINIT, then FCW, FSW, the
/// tags and ST0-7 into `state.fx` (not the pointers, which are the
/// guest's already, nor XMM/MXCSR, which the register cache handles).
/// Uses rax; keeps the host flags.
pub(super) fn save_x87(a: &mut Asm) {
    dynasm!(a
        ; .arch x64
        ; fxsave64 [r13 + CX_FX]
        ; fninit
        ; mov eax, [r13 + CX_FX]
        ; mov [rbx + ST_FX], eax
        ; mov al, [r13 + CX_FX + FX_FTW]
        ; mov [rbx + ST_FX + FX_FTW], al
    );
    for i in 0..8 {
        let from = CX_FX + FX_ST + 16 * i;
        let to = ST_ST + 16 * i;
        dynasm!(a
            ; .arch x64
            ; mov rax, [r13 + from]
            ; mov [rbx + to], rax
            ; mov ax, [r13 + from + 8]
            ; mov [rbx + to + 8], ax
        );
    }
}

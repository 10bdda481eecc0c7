//! Host code of a native SSE/SSE2 instruction or CRC32 (planned by
//! `simd_plan.rs`): the guest instruction itself, re-encoded on host
//! registers, on the guest's XMM registers in `state.fx` (the FXSAVE
//! image in `CpuState`) in place.
//!
//! ```text
//! block entry / after every call:  xmmH = state.fx.xmm[g] for each cached
//!                                  guest register g (host XMM2..15, `RegCache`)
//! before every call / every exit:  state.fx.xmm[g] = xmmH
//! native SIMD instruction i (operands: dst, src, imm8):
//!     if it has a memory operand:                      // `memory::fast_address`
//!         r8 = host address (segment window, alignment of a legacy m128,
//!              page check, micro slot / TLB), or goto slow_i
//!     D = cached host register of dst, else xmm0 = state.fx.xmm[dst]; D = xmm0
//!         | rax = guest dst GPR
//!     S = cached host register of src, else xmm1 = state.fx.xmm[src]; S = xmm1
//!         | rcx = guest src GPR (AH..BH into CL) | movups xmm1, [r8]; S = xmm1 (m128)
//!     OP D/rax, S/rcx/[r8] [, imm8]                    // the guest's encoding
//!         | movups [r8], S                             (an m128 store)
//!     if D = xmm0: state.fx.xmm[dst] = xmm0 | guest dst GPR = rax (32-bit writes zero-extended)
//!     (U)COMISS/SD: guest ZF PF CF := host's, OF SF AF := 0   (live flags only)
//! slow_i: (after the block)
//!     state.rip = rip_i
//!     monitor call of the whole instruction (the interpreter raises #GP for
//!     a misaligned m128, page faults, #AC...), then the page of its memory
//!     operand is entered into the host TLB; back at resume_i
//!
//! MXCSR (only in blocks with a native floating-point instruction):
//! block entry / after every call into Rust:   ldmxcsr state.fx.mxcsr
//! before every call into Rust / every exit:   stmxcsr state.fx.mxcsr    // accumulated flags
//!                                              ldmxcsr ctx.host_mxcsr
//! (inside `flush_cache`/`reload_cache`, which already bracket every call
//! and exit; a loop back to the block's start keeps the guest's MXCSR, so
//! the loop pays nothing per instruction.)
//! ```
//!
//! Why this is exact: the translation is made under a `SimdEnv` in the
//! block's key: SSE instructions are native only when CR4.OSFXSR = 1 and
//! CR0.EM = CR0.TS = 0 (they cannot raise #UD/#NM), floating-point ones
//! only when MXCSR masks all six exceptions (the host computes the masked
//! response and sets the flags, as the interpreter, which computes on the
//! host's SSE unit under the guest's MXCSR, does; no #XM and no SIGFPE is
//! possible). Any change of these ends the block at the monitor call that
//! made it (`monitor::Snapshot`), and the next lookup finds the
//! translation for the new state: the lazy FPU switch (CR0.TS) costs
//! nothing while TS = 0.

use super::flags::save_flags;
use super::memory::{fast_address, FastAccess};
use super::native::{load_rax, load_rcx, store_rax};
use super::plan::Src;
use super::simd_plan::{host_instruction, SimdArg, SimdClass, SimdOp};
use super::Asm;
use cpu_model::fxstate::FxState;
use cpu_model::{flags, CpuState};
use dynasmrt::{dynasm, DynasmApi};

/// `state.fx.xmm[0]`.
pub(super) const ST_XMM: i32 =
    (core::mem::offset_of!(CpuState, fx) + core::mem::offset_of!(FxState, xmm)) as i32;

pub(super) fn xmm_off(i: u8) -> i32 {
    ST_XMM + 16 * i32::from(i)
}

/// Emit native SIMD instruction `s`; `live` = status flags live after it;
/// `fast`: the inline access of its memory operand (None: it has none).
/// A guest XMM register in the block's register cache is operated on in
/// its host register; another one goes through host XMM0 (operand 0) or
/// XMM1 (operand 1) and `state.fx`.
pub(super) fn emit_simd(a: &mut Asm, s: SimdOp, live: u64, fast: Option<&FastAccess>) {
    let store = s.dst == SimdArg::Mem;
    if let Some(f) = fast {
        // First, before anything changes: a miss leaves for the slow form.
        fast_address(a, f, store);
    }
    let cache = a.cache;
    let dst_xmm = match s.dst {
        SimdArg::Xmm(i) => cache.xmm_host(i).unwrap_or_else(|| {
            let o = xmm_off(i);
            dynasm!(a ; .arch x64 ; movups xmm0, [rbx + o]);
            0
        }),
        SimdArg::Gpr(l, _) => {
            load_rax(a, l);
            0
        }
        SimdArg::Mem | SimdArg::None => 0,
    };
    let src_xmm = match s.src {
        SimdArg::Xmm(i) => cache.xmm_host(i).unwrap_or_else(|| {
            let o = xmm_off(i);
            dynasm!(a ; .arch x64 ; movups xmm1, [rbx + o]);
            1
        }),
        SimdArg::Gpr(l, _) => {
            load_rcx(a, Src::Reg(l));
            1
        }
        SimdArg::Mem if s.mem_size == 16 => {
            dynasm!(a ; .arch x64 ; movups xmm1, [r8]);
            1
        }
        SimdArg::Mem | SimdArg::None => 1,
    };
    match host_instruction(&s, dst_xmm, src_xmm) {
        Some(host) => {
            for &b in host.as_slice() {
                a.push(b);
            }
        }
        // Not reached: planning encoded it on XMM0/XMM1, and every host
        // XMM register encodes alike. The block is not used.
        None => a.error = Some(format!("{:?} does not encode", s.code)),
    }
    match s.dst {
        SimdArg::Xmm(i) if s.class != SimdClass::Comi && cache.xmm_host(i).is_none() => {
            let o = xmm_off(i);
            dynasm!(a ; .arch x64 ; movups [rbx + o], xmm0);
        }
        SimdArg::Gpr(l, size) => store_rax(a, l, size),
        _ => {}
    }
    if s.class == SimdClass::Comi {
        // ZF, PF, CF from the comparison; OF, SF, AF cleared (SDM Vol. 2
        // "COMISS"): the host flags already have those zero.
        let all = flags::STATUS;
        if all & live != 0 {
            save_flags(a, (flags::ZF | flags::PF | flags::CF) & live, all & live);
        }
    }
}

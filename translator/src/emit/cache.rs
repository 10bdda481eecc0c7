//! The register cache of a block: guest GPRs in callee-saved host
//! registers, guest XMM registers in host XMM2-15, the guest RFLAGS in
//! r11 (and the guest's MXCSR in the host's in blocks with native SIMD
//! floating point, the guest's x87 state in the host's x87 in blocks with
//! native x87 instructions), loaded at block entry and after every call,
//! written back before every call and at every exit.

use super::plan::{self, Kind, Loc, Native, Planned};
use super::simd::xmm_off;
use super::simd_plan::SimdArg;
use super::x87::{load_x87, save_x87};
use super::{Asm, CX_COUNTDOWN, CX_HOST_MXCSR, ST_MXCSR, ST_RFLAGS};
use cpu_model::CpuState;
use dynasmrt::{dynasm, DynasmApi};

/// Host registers that cache guest GPRs. The cache is written back before
/// every call and reloaded after it, so they need not survive calls;
/// generated code uses none of them as a scratch register (rdi only as
/// the first argument of a call, after the write-back). In a block that
/// loops to its own start rbp holds the countdown instead
/// (`RegCache::countdown`).
const CACHE_HOSTS: [u8; 5] = [12, 14, 15, 7, 5]; // r12, r14, r15, rdi, rbp

/// Guest registers held in host registers for a whole block, write-back:
/// a cached register lives only in its host register while native code
/// runs, and the cache is written to `CpuState` (`flush_cache`) before
/// every call into Rust and at every block exit, so the state in memory is
/// exact wherever anything can observe it (native instructions cannot
/// fault). The guest RFLAGS is always cached in r11. The cache is loaded
/// at block entry and reloaded after every call (which may change any of
/// it). A register whose high byte (AH..BH) the block touches is never
/// cached, so every cached access is to the low bits.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct RegCache {
    /// Host register number caching each guest GPR.
    gpr: [Option<u8>; 16],
    /// Host XMM register (2..15) caching each guest XMM register that the
    /// block's native SIMD instructions use (XMM0 and XMM1 are their
    /// scratch registers).
    xmm: [Option<u8>; 16],
    /// `Ctx::countdown` lives in rbp (a loop block: its budget check on
    /// every pass is then a register operation, not a read-modify-write
    /// of memory whose store-to-load latency would bound the loop).
    pub countdown: bool,
}

impl RegCache {
    /// Cache the (at most five) guest registers the block's native
    /// instructions read most, if read at least twice.
    pub(super) fn for_block(plan: &[Planned]) -> RegCache {
        let mut uses = [0u32; 16];
        let mut high = [false; 16];
        for p in plan {
            if let Kind::Native(n) = p.kind {
                n.for_each_reg_read(|l| uses[usize::from(l.idx)] += 1);
                n.for_each_reg(|l| high[usize::from(l.idx)] |= l.high);
                if n.uses_memory() {
                    for r in [p.ins.memory_base(), p.ins.memory_index()] {
                        if let Some((l, _)) = plan::gpr(r) {
                            uses[usize::from(l.idx)] += 1;
                        }
                    }
                }
            }
        }
        // In a block that loops to its own start every read repeats.
        let loops = plan::loops_to_start(plan);
        let min_uses = if loops { 1 } else { 2 };
        let hosts = if loops {
            &CACHE_HOSTS[..4]
        } else {
            &CACHE_HOSTS[..]
        };
        let mut order: Vec<usize> = (0..16)
            .filter(|&i| uses[i] >= min_uses && !high[i])
            .collect();
        order.sort_by_key(|&i| core::cmp::Reverse(uses[i]));
        let mut c = RegCache {
            countdown: loops,
            ..RegCache::default()
        };
        for (&g, &h) in order.iter().zip(hosts.iter()) {
            c.gpr[g] = Some(h);
        }
        // Every guest XMM register the native SIMD instructions use, the
        // most used first, in host XMM2..15.
        let mut xuses = [0u32; 16];
        for p in plan {
            if let Kind::Native(Native::Simd(s)) = p.kind {
                for a in [s.dst, s.src] {
                    if let SimdArg::Xmm(i) = a {
                        xuses[usize::from(i & 15)] += 1;
                    }
                }
            }
        }
        let mut xorder: Vec<usize> = (0..16).filter(|&i| xuses[i] > 0).collect();
        xorder.sort_by_key(|&i| core::cmp::Reverse(xuses[i]));
        for (&g, h) in xorder.iter().zip(2u8..16) {
            c.xmm[g] = Some(h);
        }
        c
    }

    /// The host XMM register caching guest XMM register `i`.
    pub fn xmm_host(&self, i: u8) -> Option<u8> {
        self.xmm[usize::from(i & 15)]
    }

    /// The host register caching the whole of `l` (never for AH..BH).
    pub fn host(&self, l: Loc) -> Option<u8> {
        if l.high {
            None
        } else {
            self.gpr[usize::from(l.idx)]
        }
    }
}

/// Write the cache to `CpuState` (before every call, at every exit). In
/// a block under the guest's MXCSR also: the guest's MXCSR (with the flags
/// its instructions accumulated) back to `CpuState`, the host's in force;
/// in a block with native x87 instructions the host's x87 state back to
/// `state.fx` and the host's x87 reinitialized (`x87::save_x87`). Uses
/// rax; keeps the host flags.
pub(super) fn flush_cache(a: &mut Asm) {
    if a.x87 {
        save_x87(a);
    }
    if a.fp {
        dynasm!(a ; .arch x64 ; stmxcsr [rbx + ST_MXCSR]);
    }
    if a.fp || a.x87 {
        // (FXRSTOR loaded the guest's MXCSR in an x87 block.)
        dynasm!(a ; .arch x64 ; ldmxcsr [r13 + CX_HOST_MXCSR]);
    }
    let c = a.cache;
    for (idx, h) in c.gpr.iter().enumerate() {
        if let Some(h) = *h {
            let o = (core::mem::offset_of!(CpuState, gpr) + 8 * idx) as i32;
            dynasm!(a ; .arch x64 ; mov [rbx + o], Rq(h));
        }
    }
    for (idx, h) in c.xmm.iter().enumerate() {
        if let Some(h) = *h {
            let o = xmm_off(idx as u8);
            dynasm!(a ; .arch x64 ; movups [rbx + o], Rx(h));
        }
    }
    dynasm!(a ; .arch x64 ; mov [rbx + ST_RFLAGS], r11);
    if c.countdown {
        dynasm!(a ; .arch x64 ; mov [r13 + CX_COUNTDOWN], rbp);
    }
}

/// Load the cache from `CpuState` (block entry, after every call), and
/// the guest's MXCSR into the host's in a block that needs it (FXRSTOR
/// loads it with the x87 state, before the cached XMM registers).
pub(super) fn reload_cache(a: &mut Asm) {
    if a.x87 {
        load_x87(a);
    } else if a.fp {
        dynasm!(a ; .arch x64 ; ldmxcsr [rbx + ST_MXCSR]);
    }
    let c = a.cache;
    for (idx, h) in c.gpr.iter().enumerate() {
        if let Some(h) = *h {
            let o = (core::mem::offset_of!(CpuState, gpr) + 8 * idx) as i32;
            dynasm!(a ; .arch x64 ; mov Rq(h), [rbx + o]);
        }
    }
    for (idx, h) in c.xmm.iter().enumerate() {
        if let Some(h) = *h {
            let o = xmm_off(idx as u8);
            dynasm!(a ; .arch x64 ; movups Rx(h), [rbx + o]);
        }
    }
    dynasm!(a ; .arch x64 ; mov r11, [rbx + ST_RFLAGS]);
    if c.countdown {
        dynasm!(a ; .arch x64 ; mov rbp, [r13 + CX_COUNTDOWN]);
    }
}

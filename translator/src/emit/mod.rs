//! Code generation: one guest block to x86-64 host code with dynasmrt.
//!
//! Guest registers: up to four GPRs the block reads most are cached in
//! r12/r14/r15/rbp and the guest RFLAGS in r11 for the whole block
//! (`RegCache`, write-back: flushed to `CpuState` before every call into
//! Rust and at every exit, reloaded after every call). Other GPRs are
//! loaded from and stored to `CpuState` around each instruction. Status
//! flags go host -> guest by LAHF/SETO (`flags::capture_flags`) after an
//! instruction that writes live flags and guest -> host by SAHF plus an
//! OF-setting ADD before one that reads them (never PUSHF/POPF, which are
//! microcoded).
//!
//! Calling convention, in pseudo-code (registers as set by the trampoline
//! in `exec`):
//!
//! ```text
//! rbx = &mut CpuState, r13 = &mut Ctx
//! block:
//!     load the cache (r12.. := state.gpr[..], r11 := state.rflags)
//! loop_head:                                      // a branch to the block start comes here
//!     ctx.countdown -= N
//!     if ctx.countdown < 0 { ctx.countdown += N; flush; state.rip = start; eax = EXIT_BUDGET; goto exit_common }
//!     block.runs += 1                             // this block's own count
//!     for each guest instruction:
//!       native:   OP hostD, hostS/imm                  (both cached: the guest's instruction in place)
//!                 or: rax = guest dst; rcx = guest src / imm  (cache register or CpuState)
//!                 [restore guest flags]  OP al/ax/eax/rax, cl/imm  [capture + merge into r11]
//!                 guest dst = rax (byte/word writes merge, dword writes zero-extend)
//!       memory:   (MOV/ALU/MOVZX/MOVSX/CMOVcc reg, [mem]; MOV [mem], reg/imm; ALU [mem], ..)
//!                 r8 = host address by the inline fast path (`memory::fast_address`),
//!                      or goto slow_i                    // limit, page crossing, no page
//!                 ... as native, on [r8] ...
//!       resume_i:
//!       monitor:  state.rip = rip; flush
//!                 eax = monitor_shim(ctx, remaining = N - i - 1, next_rip, &plan[i].ins)
//!                                                 // Cpu::execute_decoded + step's rules
//!                 if eax != 0 goto exit_common                  // state already precise
//!                 reload the cache
//!     end:
//!       Jcc:      [restore guest flags]; j<cc> taken   (fused: the host flags of the previous ALU op)
//!                 flush; state.rip = fallthrough; rax = &slot[0]; jmp [rax]   (or jmp loop_head)
//!       taken:    flush; state.rip = target;      rax = &slot[1]; jmp [rax]   (or jmp loop_head)
//! slow_i:     (after the block; one per inline memory access)
//!     state.rip = rip_i; flush
//!     eax = mem_read/mem_write(ctx, &ins, remaining)   // the interpreter's read_op/write_op
//!     if eax != 0 goto exit_common                     // fault delivered, state precise
//!     reload the cache; ... the instruction on ctx.tmp ...
//!     if ctx.exit_req { flush; ...; eax = EXIT_MONITOR; goto exit_common }
//!                       // a code page was written or an event is pending
//!     goto resume_i
//! ```
//!
//! No instruction count is kept here: the Rust side derives
//! `state.icount` from the countdown (`exec::Ctx::icount_origin`), which
//! every block already charges at its head.
//!
//! An exit slot holds the address of `exit_branch` (back to the
//! dispatcher, which learns the slot from rax) until the dispatcher chains
//! it by storing the target block's entry there.

// dynasm's dynamic registers (`Rq(h)`) expand to `h.into()` on a u8.
#![allow(clippy::useless_conversion)]

mod cache;
mod flags;
mod in_place;
mod loc;
mod memory;
mod native;
mod plan;
mod simd;
mod simd_plan;
mod x87;
mod x87_plan;

pub use memory::{READ_DST, READ_RMW, READ_SRC};
pub use plan::*;
pub use simd_plan::{SimdArg, SimdClass, SimdEnv, SimdOp, MXCSR_MASKS, X87_MASKS};
pub use x87_plan::{x87_fop, x87_reads_memory_only, X87Class, X87Mem, X87Op};

use crate::exec::{Ctx, EXIT_BUDGET, EXIT_MONITOR};
use crate::fastmem::RETURN_ENTRIES;
use cache::{flush_cache, reload_cache, RegCache};
use cpu_model::CpuState;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi, VecAssembler};
use flags::{
    capture_flags, deferred_loop_flags, fusable, jcc_loop_head, jcc_taken, live_flags, merge_flags,
    merge_pending, restore_flags, setcc_dl, DeferredLoopFlags,
};
use memory::{emit_micro_misses, fast_address, micro_slot, FastAccess, MemRef};
use native::{emit_native, FlagSink, MemPath};

/// Addresses generated code jumps to or calls.
#[derive(Clone, Copy, Debug)]
pub struct Addrs {
    pub exit_common: u64,
    pub monitor: u64,
    pub mem_read: u64,
    pub mem_write: u64,
    pub stack: u64,
    /// The slow form of a native SIMD instruction's memory access: a
    /// monitor call that also enters the operand's page into the host TLB.
    pub simd_slow: u64,
    /// The miss path of an inline access: enter the page into the host
    /// TLB (`exec::fill_shim`).
    pub fill: u64,
}

/// A block exit through slot `k` (the index in [`Emitted::exits`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exit {
    pub target: u64,
}

/// The host code of one block.
#[derive(Debug)]
pub struct Emitted {
    pub code: Vec<u8>,
    pub exits: Vec<Exit>,
}

/// The assembler of one block, with the block's register cache.
pub(super) struct Asm {
    asm: VecAssembler<X64Relocation>,
    pub(super) cache: RegCache,
    /// Out-of-line micro-TLB misses, emitted after the block.
    pub(super) micro_misses: Vec<memory::MicroMiss>,
    /// The block has native floating-point SIMD instructions: it runs
    /// under the guest's MXCSR (see `simd.rs`).
    fp: bool,
    /// The block has native x87 instructions: the host's x87 holds the
    /// guest's x87 state while it runs (see `x87.rs`).
    x87: bool,
    /// Set when an instruction could not be emitted: the block is not
    /// used (`emit_block` fails).
    pub(super) error: Option<String>,
    /// A loop block's run counter and length (`count_loop_passes`).
    loop_passes: Option<(i64, i32)>,
}

impl core::ops::Deref for Asm {
    type Target = VecAssembler<X64Relocation>;
    fn deref(&self) -> &Self::Target {
        &self.asm
    }
}

impl core::ops::DerefMut for Asm {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.asm
    }
}

/// `Ctx::fast.returns` (the return cache; entries of 32 bytes).
const CX_RETURNS: i32 = (core::mem::offset_of!(Ctx, fast)
    + core::mem::offset_of!(crate::fastmem::FastMem, returns)) as i32;
const _: () = assert!(core::mem::size_of::<crate::fastmem::ReturnEntry>() == 32);

pub(super) const ST_RIP: i32 = core::mem::offset_of!(CpuState, rip) as i32;
pub(super) const ST_RFLAGS: i32 = core::mem::offset_of!(CpuState, rflags) as i32;
pub(super) const CX_COUNTDOWN: i32 = core::mem::offset_of!(Ctx, countdown) as i32;
const CX_LOOP_ENTRY: i32 = core::mem::offset_of!(Ctx, loop_entry) as i32;
pub(super) const CX_TMP: i32 = core::mem::offset_of!(Ctx, tmp) as i32;
pub(super) const CX_TMP2: i32 = core::mem::offset_of!(Ctx, tmp2) as i32;
pub(super) const CX_EXIT_REQ: i32 = core::mem::offset_of!(Ctx, exit_req) as i32;
pub(super) const CX_HOST_MXCSR: i32 = core::mem::offset_of!(Ctx, host_mxcsr) as i32;
pub(super) const CX_PENDING_FLAGS: i32 = core::mem::offset_of!(Ctx, pending_flags) as i32;
const _: () = assert!(crate::exec::NO_PENDING_FLAGS as u32 == u32::MAX);
pub(super) const ST_MXCSR: i32 = (core::mem::offset_of!(CpuState, fx)
    + core::mem::offset_of!(cpu_model::fxstate::FxState, mxcsr))
    as i32;

/// What a native instruction with a memory access needs to know.
pub(super) struct InsCtx<'a> {
    /// Address of the `Instruction` the helpers receive.
    pub ins_addr: u64,
    pub ip: u64,
    /// Block instructions after this one.
    pub remaining: i64,
    pub addrs: &'a Addrs,
}

/// The out-of-line slow form of an inline memory access.
struct SlowForm {
    label: DynamicLabel,
    /// Where the inline form continues.
    resume: DynamicLabel,
    /// The instruction's index in the plan.
    index: usize,
}

/// After a helper call of instruction `ictx`: if the helper asked to end
/// the block (a code page was written or an event is pending), the block
/// exits with RIP after the instruction and the rest of the block's
/// budget refunded.
fn exit_request_check(a: &mut Asm, ictx: &InsCtx<'_>, next: u64) {
    let next = next as i64;
    let common = ictx.addrs.exit_common as i64;
    let refund = ictx.remaining;
    dynasm!(a
        ; .arch x64
        ; cmp QWORD [r13 + CX_EXIT_REQ], 0
        ; je >go_on
    );
    flush_cache(a);
    dynasm!(a
        ; .arch x64
        ; mov QWORD [r13 + CX_EXIT_REQ], 0
        ; mov rax, QWORD next
        ; mov [rbx + ST_RIP], rax
        ; mov rax, QWORD refund
        ; add [r13 + CX_COUNTDOWN], rax
        ; mov eax, EXIT_MONITOR as i32
        ; mov rcx, QWORD common
        ; jmp rcx
        ; go_on:
    );
}

/// Emit the host code of a planned block of `bitness`-bit code.
/// `run_counter` is the address of the block's run count (entries and
/// loop passes). `slots[k]` is the address of
/// the exit slot of exit k; `ins_addr(i)` the address of `plan[i].ins`
/// where it stays while the code exists (memory helpers receive it).
pub fn emit_block(
    plan: &[Planned],
    bitness: u32,
    addrs: &Addrs,
    slots: [u64; 2],
    run_counter: u64,
    ins_addr: &dyn Fn(usize) -> u64,
) -> Result<Emitted, String> {
    let mut a = Asm {
        asm: VecAssembler::new(0),
        cache: RegCache::for_block(plan),
        micro_misses: Vec::new(),
        fp: plan
            .iter()
            .any(|p| matches!(p.kind, Kind::Native(Native::Simd(s)) if s.fp())),
        x87: plan
            .iter()
            .any(|p| matches!(p.kind, Kind::Native(Native::X87(_)))),
        error: None,
        loop_passes: None,
    };
    let n = plan.len() as i32;
    reload_cache(&mut a);
    // A loop whose back edge may leave its flags pending (the rule and
    // why it is exact: `deferred_loop_flags`); an entry from outside
    // leaves none.
    let deferred = deferred_loop_flags(plan);
    let recompute = deferred.and_then(|d| d.recompute);
    let in_prefix = |i: usize| deferred.filter(|d| i < d.prefix);
    if deferred.is_some() {
        dynasm!(a ; .arch x64 ; mov DWORD [r13 + CX_PENDING_FLAGS], -1);
    }
    // A branch back to the block's own start jumps here: the cache is
    // still loaded (every write was also made to the cache).
    let start = plan.first().map_or(0, |p| p.ins.ip());
    // The block's own run count, every pass of a loop included (the
    // dispatcher derives the chained transitions from it, the eviction's
    // second chance and the self-modifying-code policy read it).
    let counter = run_counter as i64;
    if a.cache.countdown {
        // A loop block: the countdown in rbp (see `RegCache::countdown`);
        // the entry is counted here, the passes after the first where the
        // loop is left (`count_loop_passes`), as they are the countdown
        // consumed since this point.
        a.loop_passes = Some((counter, n));
        dynasm!(a
            ; .arch x64
            ; mov [r13 + CX_LOOP_ENTRY], rbp
            ; mov rax, QWORD counter
            ; add QWORD [rax], 1
            ; ->loop_head:
            ; sub rbp, n
            ; jl ->no_budget
        );
    } else {
        dynasm!(a
            ; .arch x64
            ; ->loop_head:
            ; sub QWORD [r13 + CX_COUNTDOWN], n
            ; jl ->no_budget
            ; mov rax, QWORD counter
            ; add QWORD [rax], 1
        );
    }
    let live = live_flags(plan);
    // Flag masks of the previous instruction when it left its flags in
    // the host RFLAGS (and in rdx) for a fused Jcc.
    let mut fused: Option<(u64, u64)> = None;
    let mut exits = Vec::new();
    let mut ended = false;
    let mut slow_forms: Vec<SlowForm> = Vec::new();
    for (i, p) in plan.iter().enumerate() {
        match p.kind {
            Kind::Native(nat) if nat.uses_memory() => {
                let ictx = InsCtx {
                    ins_addr: ins_addr(i),
                    ip: p.ins.ip(),
                    remaining: (plan.len() - i - 1) as i64,
                    addrs,
                };
                let ip = p.ins.ip();
                let fast = match nat {
                    Native::Push { size, .. } => {
                        Some(stack_access(&mut a, true, size, bitness, ip))
                    }
                    Native::Pop { size, .. } => {
                        Some(stack_access(&mut a, false, size, bitness, ip))
                    }
                    _ => MemRef::of(&p.ins).map(|mref| FastAccess {
                        mref,
                        slot: micro_slot(ip),
                        long64: bitness == 64,
                        stack_width: None,
                        align: match nat {
                            Native::Simd(s) if s.aligned => 16,
                            _ => 0,
                        },
                        slow: a.new_dynamic_label(),
                    }),
                };
                if let Some(f) = fast {
                    // Inline access; the slow form goes after the block.
                    emit_native(&mut a, nat, live[i], MemPath::Fast(&f), FlagSink::Guest);
                    let resume = a.new_dynamic_label();
                    dynasm!(a ; .arch x64 ; =>resume);
                    slow_forms.push(SlowForm {
                        label: f.slow,
                        resume,
                        index: i,
                    });
                    continue;
                }
                if let Native::Simd(_) | Native::X87(_) = nat {
                    // No inline form (an operand the fast path does not
                    // compute): the whole instruction in the interpreter.
                    if let Some(d) = in_prefix(i) {
                        merge_pending_flags(&mut a, d);
                    }
                    let shim = addrs.monitor;
                    monitor_call(&mut a, p, ins_addr(i), ictx.remaining, shim, addrs);
                    continue;
                }
                emit_native(&mut a, nat, live[i], MemPath::Slow(&ictx), FlagSink::Guest);
                exit_request_check(&mut a, &ictx, p.next_rip);
            }
            Kind::Native(nat) => {
                let fuse = match plan.get(i + 1).map(|q| q.kind) {
                    Some(Kind::Branch(Branch::Jcc { cc, .. })) => fusable(&nat, cc),
                    _ => None,
                };
                // The back edge of a loop that recomputes its pending
                // flags captures none: the Jcc's edges do what they need.
                let sink = match fuse {
                    None => FlagSink::Guest,
                    Some(_) if i + 2 == plan.len() && recompute.is_some() => {
                        // Marked before the compare: nothing between here
                        // and the back edge leaves the block, and the exit
                        // edge marks nothing pending again.
                        dynasm!(a
                            ; .arch x64
                            ; mov DWORD [r13 + CX_PENDING_FLAGS], RECOMPUTE_FLAGS
                        );
                        FlagSink::Host
                    }
                    Some(_) => FlagSink::Capture,
                };
                emit_native(&mut a, nat, live[i], MemPath::None, sink);
                fused = fuse;
            }
            Kind::Monitor => {
                let remaining = (plan.len() - i - 1) as i64;
                monitor_call(&mut a, p, ins_addr(i), remaining, addrs.monitor, addrs);
            }
            Kind::Branch(Branch::Jcc { cc, target }) if fused.is_some() && recompute.is_some() => {
                // The back edge of a loop that recomputes its flags where
                // they are needed (`deferred_loop_flags`): straight to the
                // loop head, the flags left in the host; the exit edge
                // takes them from the host flags, still the compare's.
                let (take, clear) = fused.take().unwrap_or((0, 0));
                jcc_loop_head(&mut a, cc);
                capture_flags(&mut a);
                merge_flags(&mut a, take, clear);
                dynasm!(a ; .arch x64 ; mov DWORD [r13 + CX_PENDING_FLAGS], -1);
                exit_or_loop(&mut a, p.next_rip, slots[0], start);
                exits.push(Exit { target: p.next_rip });
                exits.push(Exit { target });
                ended = true;
            }
            Kind::Branch(Branch::Jcc { cc, target }) if fused.is_some() => {
                let (take, clear) = fused.take().unwrap_or((0, 0));
                jcc_taken(&mut a, cc);
                for (exit, t) in [(0, p.next_rip), (1, target)] {
                    if exit == 1 {
                        dynasm!(a ; .arch x64 ; taken:);
                    }
                    if exit == 1 && deferred.is_some() {
                        // The back edge to the start (the rule's Jcc).
                        dynasm!(a ; .arch x64 ; mov [r13 + CX_PENDING_FLAGS], edx);
                    } else {
                        merge_flags(&mut a, take, clear);
                    }
                    exit_or_loop(&mut a, t, slots[exit], start);
                    exits.push(Exit { target: t });
                }
                ended = true;
            }
            Kind::Branch(Branch::Call { size, target }) => {
                let width = bitness / 8;
                let f = stack_access(&mut a, true, size, bitness, p.ins.ip());
                fast_address(&mut a, &f, true);
                let ret = p.next_rip as i64;
                dynasm!(a ; .arch x64 ; mov rcx, QWORD ret);
                memory::store_host(&mut a, size, true);
                memory::adjust_sp(&mut a, -(size as i32), width);
                exit_or_loop(&mut a, target, slots[0], start);
                exits.push(Exit { target });
                let slow = f.slow;
                dynasm!(a ; .arch x64 ; =>slow);
                monitor_exit(&mut a, p, ins_addr(i), addrs);
                ended = true;
            }
            Kind::Branch(Branch::Ret {
                size,
                release,
                limit,
            }) => {
                let width = bitness / 8;
                let f = stack_access(&mut a, false, size, bitness, p.ins.ip());
                let slow = f.slow;
                fast_address(&mut a, &f, false);
                memory::load_host(&mut a, size, true);
                // The target must be within CS (or canonical) before
                // anything changes; else the interpreter faults.
                match limit {
                    Some(l) => {
                        let l = l as i32;
                        dynasm!(a
                            ; .arch x64
                            ; mov edx, l
                            ; cmp rcx, rdx
                            ; ja =>slow
                        );
                    }
                    None => dynasm!(a
                        ; .arch x64
                        ; mov rdx, rcx
                        ; shl rdx, 16
                        ; sar rdx, 16
                        ; cmp rdx, rcx
                        ; jne =>slow
                    ),
                }
                memory::adjust_sp(&mut a, size as i32 + i32::from(release), width);
                flush_cache(&mut a);
                // The return cache: straight into the target's block if
                // the dispatcher has seen it (see `FastMem::returns`).
                let common = addrs.exit_common as i64;
                let mask = (RETURN_ENTRIES - 1) as i32;
                dynasm!(a
                    ; .arch x64
                    ; mov [rbx + ST_RIP], rcx
                    ; mov rax, rcx
                    ; shr rax, 10
                    ; xor rax, rcx
                    ; and eax, mask
                    ; shl eax, 5
                    ; cmp rcx, [r13 + rax + CX_RETURNS]
                    ; jne >miss
                    ; jmp QWORD [r13 + rax + CX_RETURNS + 8]
                    ; miss:
                    ; mov eax, EXIT_MONITOR as i32
                    ; mov rcx, QWORD common
                    ; jmp rcx
                    ; =>slow
                );
                monitor_exit(&mut a, p, ins_addr(i), addrs);
                ended = true;
            }
            Kind::Branch(b) => {
                match b {
                    Branch::Jmp { target } => {
                        exit_or_loop(&mut a, target, slots[0], start);
                        exits.push(Exit { target });
                    }
                    Branch::Jcc { cc, target } => {
                        restore_flags(&mut a);
                        setcc_dl(&mut a, cc);
                        branch_on_dl(&mut a, [p.next_rip, target], slots, start, &mut exits);
                    }
                    // Handled above.
                    Branch::Call { .. } | Branch::Ret { .. } => {}
                    Branch::Loop { size, zf, target } => {
                        // The counter is decremented without touching the
                        // guest flags (r11); LOOPE/LOOPNE also test ZF.
                        let rcx = plan::RCX;
                        native::load_rax(&mut a, rcx);
                        match size {
                            2 => dynasm!(a ; .arch x64 ; sub ax, 1 ; setnz dl),
                            4 => dynasm!(a ; .arch x64 ; sub eax, 1 ; setnz dl),
                            _ => dynasm!(a ; .arch x64 ; sub rax, 1 ; setnz dl),
                        }
                        native::store_rax(&mut a, rcx, size);
                        let zf_bit = cpu_model::flags::ZF as i32;
                        match zf {
                            Some(true) => dynasm!(a
                                ; .arch x64
                                ; test r11d, zf_bit
                                ; setnz cl
                                ; and dl, cl
                            ),
                            Some(false) => dynasm!(a
                                ; .arch x64
                                ; test r11d, zf_bit
                                ; setz cl
                                ; and dl, cl
                            ),
                            None => {}
                        }
                        branch_on_dl(&mut a, [p.next_rip, target], slots, start, &mut exits);
                    }
                }
                ended = true;
            }
        }
    }
    if !ended {
        let next = plan.last().map_or(0, |p| p.next_rip);
        exit_or_loop(&mut a, next, slots[0], start);
        exits.push(Exit { target: next });
    }
    // The slow forms of inline memory accesses: the whole instruction
    // through the interpreter's operand access.
    for sf in slow_forms {
        let p = &plan[sf.index];
        let Kind::Native(nat) = p.kind else {
            continue;
        };
        let ictx = InsCtx {
            ins_addr: ins_addr(sf.index),
            ip: p.ins.ip(),
            remaining: (plan.len() - sf.index - 1) as i64,
            addrs,
        };
        let (label, resume) = (sf.label, sf.resume);
        dynasm!(a ; .arch x64 ; =>label);
        if let Some(d) = in_prefix(sf.index) {
            merge_pending_flags(&mut a, d);
        }
        if let Native::Simd(_) | Native::X87(_) = nat {
            // A monitor call of the whole instruction.
            let shim = addrs.simd_slow;
            monitor_call(&mut a, p, ictx.ins_addr, ictx.remaining, shim, addrs);
            dynasm!(a ; .arch x64 ; jmp =>resume);
            continue;
        }
        emit_native(
            &mut a,
            nat,
            live[sf.index],
            MemPath::Slow(&ictx),
            FlagSink::Guest,
        );
        exit_request_check(&mut a, &ictx, p.next_rip);
        dynasm!(a ; .arch x64 ; jmp =>resume);
    }
    emit_micro_misses(&mut a, addrs.fill);
    let common = addrs.exit_common as i64;
    dynasm!(a ; .arch x64 ; ->no_budget:);
    if a.cache.countdown {
        dynasm!(a ; .arch x64 ; add rbp, n);
        count_loop_passes(&mut a);
    } else {
        dynasm!(a ; .arch x64 ; add QWORD [r13 + CX_COUNTDOWN], n);
    }
    if let Some(d) = deferred {
        merge_pending_flags(&mut a, d);
    }
    flush_cache(&mut a);
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD start as i64
        ; mov [rbx + ST_RIP], rax
        ; mov eax, EXIT_BUDGET as i32
        ; mov rcx, QWORD common
        ; jmp rcx
    );
    if let Some(e) = a.error.take() {
        return Err(e);
    }
    let code = a.asm.finalize().map_err(|e| format!("{e:?}"))?;
    Ok(Emitted { code, exits })
}

/// `Ctx::pending_flags` after the back edge of a loop whose fused compare
/// can be run again (`DeferredLoopFlags::recompute`): the flags are the
/// compare's on the current registers. (Captured flags have bits 16-31
/// clear; `NO_PENDING_FLAGS` is -1.)
const RECOMPUTE_FLAGS: i32 = -2;

/// On a path that leaves translated code from a loop's pending prefix:
/// merge the flags the back edge left pending into r11 and mark none
/// pending (`flags::merge_pending`), running the compare again when the
/// back edge left only `RECOMPUTE_FLAGS`. Clobbers rax, rcx, rdx, rsi and
/// the host flags.
fn merge_pending_flags(a: &mut Asm, d: DeferredLoopFlags) {
    let Some(cmp) = d.recompute else {
        merge_pending(a, d);
        return;
    };
    dynasm!(a
        ; .arch x64
        ; cmp DWORD [r13 + CX_PENDING_FLAGS], RECOMPUTE_FLAGS
        ; jne >other
    );
    emit_native(a, cmp, 0, MemPath::None, FlagSink::Host);
    capture_flags(a);
    dynasm!(a
        ; .arch x64
        ; mov [r13 + CX_PENDING_FLAGS], edx
        ; other:
    );
    merge_pending(a, d);
}

/// A monitor call of `p` (at `ins`, with `remaining` block instructions
/// after it) through `shim` (`monitor_shim`'s signature): leaves the
/// block if the call says so, else reloads the cache.
fn monitor_call(a: &mut Asm, p: &Planned, ins: u64, remaining: i64, shim: u64, addrs: &Addrs) {
    let ip = p.ins.ip() as i64;
    let next = p.next_rip as i64;
    let shim = shim as i64;
    let common = addrs.exit_common as i64;
    let ins = ins as i64;
    flush_cache(a);
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD ip
        ; mov [rbx + ST_RIP], rax
        ; mov rdi, r13
        ; mov rsi, QWORD remaining
        ; mov rdx, QWORD next
        ; mov rcx, QWORD ins
        ; mov rax, QWORD shim
        ; call rax
        ; test eax, eax
        ; jz >cont
        ; mov rcx, QWORD common
        ; jmp rcx
        ; cont:
    );
    reload_cache(a);
}

/// The inline access to the stack slot of a PUSH (`push`) or POP of
/// `size` bytes (also CALL/RET) at `ip`. The stack width is 8 in 64-bit
/// mode, else the code size's, checked against SS.B at run time.
fn stack_access(a: &mut Asm, push: bool, size: u32, bitness: u32, ip: u64) -> FastAccess {
    let width = bitness / 8;
    FastAccess {
        mref: MemRef::stack(push, size, width),
        slot: micro_slot(ip),
        long64: bitness == 64,
        stack_width: (bitness != 64).then_some(width),
        align: 0,
        slow: a.new_dynamic_label(),
    }
}

/// The slow form of a native CALL/RET (the last instruction of its
/// block): a monitor call runs the whole instruction, then the block exits
/// to the dispatcher (RIP is wherever the instruction left it).
fn monitor_exit(a: &mut Asm, p: &Planned, ins: u64, addrs: &Addrs) {
    flush_cache(a);
    let ins = ins as i64;
    let ip = p.ins.ip() as i64;
    let next = p.next_rip as i64;
    let monitor = addrs.monitor as i64;
    let common = addrs.exit_common as i64;
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD ip
        ; mov [rbx + ST_RIP], rax
        ; mov rdi, r13
        ; xor esi, esi
        ; mov rdx, QWORD next
        ; mov rcx, QWORD ins
        ; mov rax, QWORD monitor
        ; call rax
        ; test eax, eax
        ; jnz >out
        ; mov eax, EXIT_MONITOR as i32
        ; out:
        ; mov rcx, QWORD common
        ; jmp rcx
    );
}

/// The end of a conditional branch: to `targets[1]` (exit 1) if dl is
/// nonzero, else to `targets[0]` (exit 0).
fn branch_on_dl(
    a: &mut Asm,
    targets: [u64; 2],
    slots: [u64; 2],
    start: u64,
    exits: &mut Vec<Exit>,
) {
    dynasm!(a
        ; .arch x64
        ; test dl, dl
        ; jnz >taken
    );
    exit_or_loop(a, targets[0], slots[0], start);
    dynasm!(a ; .arch x64 ; taken:);
    exit_or_loop(a, targets[1], slots[1], start);
    exits.extend(targets.map(|target| Exit { target }));
}

/// Leave the block for `target`, or loop if it is the block's own start
/// (the budget check at `loop_head` still runs and counts the entry).
fn exit_or_loop(a: &mut Asm, target: u64, slot: u64, start: u64) {
    if target == start {
        dynasm!(a ; .arch x64 ; jmp ->loop_head);
    } else {
        count_loop_passes(a);
        exit_stub(a, target, slot);
    }
}

/// Where a loop block is left at its end or for its budget: its run count
/// += the passes after the first (the countdown each consumed since the
/// entry, `n` a pass). Uses rax, rcx and rdx. (A loop left through a
/// fault or a monitor call's exit does not count its passes: the count
/// is a heuristic's, never lower than the entries.)
fn count_loop_passes(a: &mut Asm) {
    let Some((counter, n)) = a.loop_passes else {
        return;
    };
    dynasm!(a
        ; .arch x64
        ; mov rax, [r13 + CX_LOOP_ENTRY]
        ; sub rax, rbp
        ; xor edx, edx
        ; mov ecx, n
        ; div rcx
        ; sub rax, 1
        ; jbe >none
        ; mov rcx, QWORD counter
        ; add [rcx], rax
        ; none:
    );
}

/// state.rip = target; continue through the exit slot.
pub(super) fn exit_stub(a: &mut Asm, target: u64, slot: u64) {
    flush_cache(a);
    let t = target as i64;
    let s = slot as i64;
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD t
        ; mov [rbx + ST_RIP], rax
        ; mov rax, QWORD s
        ; jmp QWORD [rax]
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Dynamic byte registers 4..7 must encode as SPL..DIL (with a REX
    /// prefix), never AH..BH: the cache writes `mov Rb(h), al` for rbp.
    #[test]
    fn dynamic_byte_registers_are_rex_encoded() {
        for (h, want) in [
            (5u8, "mov bpl,al"),
            (12, "mov r12b,al"),
            (15, "mov r15b,dl"),
        ] {
            let mut a = VecAssembler::<X64Relocation>::new(0);
            if h == 15 {
                dynasm!(a ; .arch x64 ; mov Rb(h), dl);
            } else {
                dynasm!(a ; .arch x64 ; mov Rb(h), al);
            }
            let code = a.finalize().unwrap();
            let ins = iced_x86::Decoder::new(64, &code, 0).decode();
            assert_eq!(ins.to_string(), want);
        }
    }
}

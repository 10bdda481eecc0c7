//! The one module with `unsafe`: executable memory, entering generated code
//! and the monitor-call shim through which generated code calls back into
//! Rust. Everything else in the translator is safe code.
//!
//! Host register convention while generated code runs (see also `emit`):
//!
//! ```text
//! rbx = &mut CpuState          (the guest registers, reached by offset_of!)
//! r13 = &mut Ctx               (countdown, last exit slot, pointers for the monitor)
//! rsp = 16-byte aligned        (the trampoline's frame; blocks push/pop balanced)
//! rax, rcx, rdx, rsi, rdi      scratch; nothing lives across instructions
//!
//! enter(ctx, state, code):     // the trampoline, sysv64
//!     push rbx, rbp, r12..r15; sub rsp, 8
//!     r13 = ctx; rbx = state; ctx.host_mxcsr = MXCSR; jmp code
//! exit_common:                 // eax = exit code
//!     MXCSR = ctx.host_mxcsr   // (blocks restore it before any exit already)
//!     add rsp, 8; pop r15..r12, rbp, rbx; ret
//! exit_branch:                 // rax = address of the exit slot taken
//!     ctx.last_slot = rax; eax = EXIT_BRANCH; jmp exit_common
//! ```

use crate::bus::JitBus;
use crate::fastmem::FastMem;
use crate::monitor::{self, MonitorEnv};
use cpu_model::{Cpu, CpuState};
use dynasmrt::mmap::{ExecutableBuffer, MutableBuffer};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, AssemblyOffset, DynasmApi, DynasmLabelApi, VecAssembler};
use iced_x86::Instruction;
use std::ffi::c_void;

/// Exit codes returned in eax by generated code.
pub const EXIT_BUDGET: u32 = 1;
pub const EXIT_BRANCH: u32 = 2;
pub const EXIT_MONITOR: u32 = 3;
pub const EXIT_STOP: u32 = 4;
pub const EXIT_FAULT: u32 = 5;

/// The context block r13 points at while generated code runs.
#[repr(C)]
#[derive(Debug)]
pub struct Ctx {
    /// Guest instructions (steps) the running code may still retire; each
    /// block subtracts its length at entry and exits if it would go below 0.
    pub countdown: i64,
    /// Address of the exit slot of the last `EXIT_BRANCH`.
    pub last_slot: u64,
    /// Value read by the memory-read helper.
    pub tmp: u64,
    /// Flags of a read-modify-write instruction kept across its write.
    pub tmp2: u64,
    /// Set by a memory helper when the block must end after the current
    /// instruction (a code page was written, or an event became pending).
    pub exit_req: u64,
    /// Memory helper calls (slow paths of memory operands).
    pub slow_accesses: u64,
    /// Segment windows and host-address TLB of the memory fast path.
    pub fast: FastMem,
    cpu: *mut Cpu,
    bus: *mut c_void,
    env: *mut MonitorEnv,
    /// The host's MXCSR when generated code was entered (stored by the
    /// trampoline): in force whenever Rust code runs, while blocks with
    /// native SIMD floating point run under the guest's (see
    /// `emit::simd`).
    pub host_mxcsr: u64,
    /// Guest status flags of a loop's back edge not yet merged into the
    /// guest RFLAGS, in `emit::flags::capture_flags` form, or
    /// `NO_PENDING_FLAGS` (see `emit::flags::deferred_loop_flags`).
    pub pending_flags: u64,
    /// Where blocks with native x87 instructions FXSAVE the host's x87
    /// (holding the guest's state) before copying it to `state.fx` (see
    /// `emit::x87`).
    pub fx_scratch: FxScratch,
}

/// A 512-byte FXSAVE area, 16-byte aligned as FXSAVE requires.
#[repr(C, align(16))]
#[derive(Debug)]
pub struct FxScratch(pub [u8; 512]);

/// `Ctx::pending_flags` when no back edge left flags pending (a captured
/// image has at most 16 bits).
pub const NO_PENDING_FLAGS: u64 = u64::MAX;

// SAFETY: the raw pointers in a `Ctx` are set only for the duration of
// `Runtime::enter`, which borrows everything they point to mutably, and are
// null otherwise; moving a `Ctx` (and so a `Jit`) to another thread between
// runs moves no access to them.
unsafe impl Send for Ctx {}

impl Default for Ctx {
    fn default() -> Self {
        Ctx {
            countdown: 0,
            last_slot: 0,
            tmp: 0,
            tmp2: 0,
            exit_req: 0,
            slow_accesses: 0,
            fast: FastMem::default(),
            cpu: std::ptr::null_mut(),
            bus: std::ptr::null_mut(),
            env: std::ptr::null_mut(),
            host_mxcsr: 0,
            pending_flags: NO_PENDING_FLAGS,
            fx_scratch: FxScratch([0; 512]),
        }
    }
}

/// Generated code in its own executable mapping (registered with the
/// fault reporter while it exists).
#[derive(Debug)]
pub struct ExecCode {
    buf: ExecutableBuffer,
}

impl ExecCode {
    pub fn new(bytes: &[u8]) -> std::io::Result<ExecCode> {
        let mut m = MutableBuffer::new(bytes.len().max(1))?;
        m.set_len(bytes.len());
        m.copy_from_slice(bytes);
        let code = ExecCode {
            buf: m.make_exec()?,
        };
        guestmem::fault::register_code(code.addr(), bytes.len().max(1));
        Ok(code)
    }
    pub fn addr(&self) -> u64 {
        self.buf.ptr(AssemblyOffset(0)) as u64
    }
}

impl Drop for ExecCode {
    fn drop(&mut self) {
        guestmem::fault::unregister_code(self.addr());
    }
}

/// The trampoline and the shared exit routines.
#[derive(Debug)]
pub struct Runtime {
    code: ExecCode,
    pub exit_common: u64,
    pub exit_branch: u64,
}

type EnterFn = extern "sysv64" fn(*mut Ctx, *mut CpuState, u64) -> u32;

impl Runtime {
    pub fn new() -> std::io::Result<Runtime> {
        let last_slot = core::mem::offset_of!(Ctx, last_slot) as i32;
        let host_mxcsr = core::mem::offset_of!(Ctx, host_mxcsr) as i32;
        let mut a = VecAssembler::<X64Relocation>::new(0);
        dynasm!(a
            ; .arch x64
            ; push rbx
            ; push rbp
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; sub rsp, 8
            ; mov r13, rdi
            ; mov rbx, rsi
            ; stmxcsr [r13 + host_mxcsr]
            ; jmp rdx
        );
        let common = a.offset().0;
        dynasm!(a
            ; .arch x64
            ; ->common:
            ; ldmxcsr [r13 + host_mxcsr]
            ; add rsp, 8
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbp
            ; pop rbx
            ; ret
        );
        let branch = a.offset().0;
        dynasm!(a
            ; .arch x64
            ; mov [r13 + last_slot], rax
            ; mov eax, EXIT_BRANCH as i32
            ; jmp ->common
        );
        // Position-independent (relative jumps only): copied anywhere.
        let bytes = a
            .finalize()
            .map_err(|e| std::io::Error::other(format!("{e:?}")))?;
        let code = ExecCode::new(&bytes)?;
        Ok(Runtime {
            exit_common: code.addr() + common as u64,
            exit_branch: code.addr() + branch as u64,
            code,
        })
    }

    /// Run generated code at `entry` until it exits; returns the exit code.
    pub fn enter(
        &self,
        entry: u64,
        ctx: &mut Ctx,
        cpu: &mut Cpu,
        bus: &mut JitBus<'_>,
        env: &mut MonitorEnv,
    ) -> u32 {
        let cpu_ptr: *mut Cpu = cpu;
        // SAFETY: cpu_ptr comes from a live `&mut Cpu`; taking a field's
        // address creates no reference.
        let state: *mut CpuState = unsafe { core::ptr::addr_of_mut!((*cpu_ptr).state) };
        ctx.fast.sync(cpu);
        ctx.cpu = cpu_ptr;
        ctx.bus = (bus as *mut JitBus<'_>).cast::<c_void>();
        ctx.env = env;
        // SAFETY: the trampoline at offset 0 of `self.code` follows the
        // sysv64 convention with this signature (see the module comment).
        // The generated code it enters forms host addresses only as
        // docs/architecture.md, "Why a guest cannot reach host memory",
        // lists (the fast path's page check, live exit slots and return
        // cache entries, the pointers lent here).
        let f: EnterFn = unsafe { std::mem::transmute::<u64, EnterFn>(self.code.addr()) };
        let r = f(ctx, state, entry);
        ctx.cpu = std::ptr::null_mut();
        ctx.bus = std::ptr::null_mut();
        ctx.env = std::ptr::null_mut();
        r
    }
}

/// What `Runtime::enter` lent to generated code, for a helper it calls.
///
/// # Safety
/// `ctx` must be the `Ctx` generated code was entered with, during that
/// entry: `enter` set its pointers from live `&mut` borrows of the CPU,
/// bus and monitor state that nothing else uses while generated code
/// runs, and the `Ctx` itself is not otherwise referenced by Rust then.
unsafe fn lent<'a>(
    ctx: *mut Ctx,
) -> (
    &'a mut Ctx,
    &'a mut Cpu,
    &'a mut JitBus<'a>,
    &'a mut MonitorEnv,
) {
    // SAFETY: the caller's contract: `ctx` is the live, unaliased context.
    let ctx = unsafe { &mut *ctx };
    // SAFETY: set by `enter` from a live `&mut Cpu`, unused elsewhere.
    let cpu = unsafe { &mut *ctx.cpu };
    // SAFETY: set by `enter` from a live `&mut JitBus` of the same call.
    let bus = unsafe { &mut *ctx.bus.cast::<JitBus<'a>>() };
    // SAFETY: set by `enter` from a live `&mut MonitorEnv`.
    let env = unsafe { &mut *ctx.env };
    (ctx, cpu, bus, env)
}

/// Monitor call from generated code: run one instruction, `ins`, in the
/// interpreter. `remaining` is the number of block instructions after this
/// one (refunded to the countdown if the block exits here), `next_rip` the
/// RIP at which the block continues.
extern "sysv64" fn monitor_shim(
    ctx: *mut Ctx,
    remaining: u64,
    next_rip: u64,
    ins: *const Instruction,
) -> u32 {
    // SAFETY: generated code passes the `Ctx` it was entered with.
    let (ctx, cpu, bus, env) = unsafe { lent(ctx) };
    // SAFETY: `ins` points into the boxed plan of the block whose code is
    // running; blocks are freed only by the dispatcher.
    let ins = unsafe { &*ins };
    env.last = None;
    let r = monitor::call(cpu, bus, env, &mut ctx.countdown, ins, remaining, next_rip);
    // A near CALL/RET done here (the slow form of a native one, or its
    // first run) enters its stack slot's page for the next one.
    if let Some((m, inc)) = env.last {
        let near = matches!(m, iced_x86::Mnemonic::Call | iced_x86::Mnemonic::Ret);
        // (`fill_stack` checks itself that its state is current.)
        if near && matches!(inc.unsigned_abs(), 2 | 4 | 8) {
            ctx.fast.fill_stack(cpu, bus, inc < 0, inc.unsigned_abs());
        }
    }
    if r == 0 {
        // The instruction may have loaded a segment or changed RFLAGS.AC.
        ctx.fast.sync(cpu);
    }
    r
}

/// Address of the monitor-call shim for generated code.
pub fn monitor_shim_addr() -> u64 {
    monitor_shim as *const () as usize as u64
}

/// Memory-read helper: a memory operand of `ins` (see `emit::READ_*`) into
/// `ctx.tmp`. Returns 0, or an exit code if it faulted.
extern "sysv64" fn mem_read_shim(
    ctx: *mut Ctx,
    ins: *const Instruction,
    remaining: u64,
    mode: u32,
) -> u32 {
    // SAFETY: generated code passes the `Ctx` it was entered with.
    let (ctx, cpu, bus, env) = unsafe { lent(ctx) };
    // SAFETY: `ins` points into the boxed plan of the block whose code is
    // running; blocks are freed only by the dispatcher.
    let ins = unsafe { &*ins };
    ctx.slow_accesses += 1;
    let (r, v) = monitor::mem_read(cpu, bus, env, &mut ctx.countdown, ins, remaining, mode);
    ctx.tmp = v;
    if r == 0 {
        let write = mode as i32 == crate::emit::READ_RMW;
        ctx.fast.fill(cpu, bus, ins, write);
        if monitor::must_exit(cpu, bus) {
            ctx.exit_req = 1;
        }
    }
    r
}

/// Memory-write helper: operand 0 of `ins` := `value`.
extern "sysv64" fn mem_write_shim(
    ctx: *mut Ctx,
    ins: *const Instruction,
    value: u64,
    remaining: u64,
) -> u32 {
    // SAFETY: generated code passes the `Ctx` it was entered with.
    let (ctx, cpu, bus, env) = unsafe { lent(ctx) };
    // SAFETY: as in `mem_read_shim`.
    let ins = unsafe { &*ins };
    ctx.slow_accesses += 1;
    let r = monitor::mem_write(cpu, bus, env, &mut ctx.countdown, ins, value, remaining);
    if r == 0 {
        ctx.fast.fill(cpu, bus, ins, true);
        if monitor::must_exit(cpu, bus) {
            ctx.exit_req = 1;
        }
    }
    r
}

/// Stack helper: the whole PUSH reg/imm or POP reg `ins`.
extern "sysv64" fn stack_shim(ctx: *mut Ctx, ins: *const Instruction, remaining: u64) -> u32 {
    // SAFETY: generated code passes the `Ctx` it was entered with.
    let (ctx, cpu, bus, env) = unsafe { lent(ctx) };
    // SAFETY: as in `mem_read_shim`.
    let ins = unsafe { &*ins };
    ctx.slow_accesses += 1;
    let r = monitor::stack(cpu, bus, env, &mut ctx.countdown, ins, remaining);
    if r == 0 {
        let push = ins.mnemonic() == iced_x86::Mnemonic::Push;
        let size = ins.stack_pointer_increment().unsigned_abs();
        ctx.fast.fill_stack(cpu, bus, push, size);
        if monitor::must_exit(cpu, bus) {
            ctx.exit_req = 1;
        }
    }
    r
}

/// The slow form of a native SIMD instruction's memory access (a TLB
/// miss, a page crossing, a misaligned m128 of an aligned form): the
/// whole instruction as a monitor call (the interpreter raises whatever
/// it raises), then the page of its memory operand, as addressed before
/// the instruction ran, enters the host TLB for the next time.
extern "sysv64" fn simd_slow_shim(
    ctx: *mut Ctx,
    remaining: u64,
    next_rip: u64,
    ins: *const Instruction,
) -> u32 {
    // SAFETY: generated code passes the `Ctx` it was entered with.
    let (ctx, cpu, bus, env) = unsafe { lent(ctx) };
    // SAFETY: as in `mem_read_shim`.
    let ins = unsafe { &*ins };
    ctx.slow_accesses += 1;
    let operand = crate::fastmem::Operand::of(cpu, ins);
    env.last = None;
    let r = monitor::call(cpu, bus, env, &mut ctx.countdown, ins, remaining, next_rip);
    if r == 0 {
        ctx.fast.fill_operand(cpu, bus, operand, ins.ip());
    }
    r
}

/// Address of the SIMD slow-form shim.
pub fn simd_slow_shim_addr() -> u64 {
    simd_slow_shim as *const () as usize as u64
}

/// Addresses of the memory helpers (read, write, stack).
pub fn mem_shim_addrs() -> (u64, u64, u64) {
    (
        mem_read_shim as *const () as usize as u64,
        mem_write_shim as *const () as usize as u64,
        stack_shim as *const () as usize as u64,
    )
}

/// Granule of code-heap allocations.
const GRANULE: usize = 64;

/// A block's code in the [`CodeHeap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRef {
    chunk: usize,
    off: usize,
    /// Allocated length (a multiple of `GRANULE`).
    pub len: usize,
    pub addr: u64,
}

/// One mapping of the heap, registered with the fault reporter as
/// translated code from its creation until it is dropped.
#[derive(Debug)]
struct Chunk {
    /// None only transiently while being written, or after a failed
    /// protection change (then `CodeHeap::alloc` reports the loss).
    buf: Option<ExecutableBuffer>,
    /// Host address of the mapping (it never moves).
    start: u64,
    size: usize,
    /// Free ranges (offset, length), sorted by offset, coalesced.
    free: Vec<(usize, usize)>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // (Also forgets the blocks registered inside the chunk.)
        guestmem::fault::unregister_code(self.start);
    }
}

/// Executable memory for translated blocks: a few large mappings, kept
/// read+execute and made writable only while a block is copied in
/// (from the dispatcher, never while generated code runs), with first-fit
/// allocation and coalescing frees so LRU eviction can reuse space. One
/// mapping per block would run into the kernel's mapping-count limit.
#[derive(Debug)]
pub struct CodeHeap {
    chunks: Vec<Chunk>,
    chunk_size: usize,
    /// Bytes of all mappings.
    pub mapped: usize,
}

/// A chunk whose memory was lost: every block in it must be dropped.
#[derive(Debug)]
pub struct HeapLost;

impl CodeHeap {
    pub fn new(chunk_size: usize) -> CodeHeap {
        CodeHeap {
            chunks: Vec::new(),
            chunk_size: chunk_size.clamp(4096, 1 << 20).next_multiple_of(4096),
            mapped: 0,
        }
    }

    /// Copy `bytes` into executable memory.
    pub fn alloc(&mut self, bytes: &[u8]) -> Result<CodeRef, HeapLost> {
        let len = bytes.len().max(1).next_multiple_of(GRANULE);
        let found = self.chunks.iter().enumerate().find_map(|(ci, c)| {
            c.free
                .iter()
                .position(|&(_, l)| l >= len)
                .map(|fi| (ci, fi))
        });
        let (ci, fi) = match found {
            Some(x) => x,
            None => {
                let size = self.chunk_size.max(len.next_multiple_of(4096));
                let mut m = MutableBuffer::new(size).map_err(|_| HeapLost)?;
                m.set_len(size);
                let buf = m.make_exec().map_err(|_| HeapLost)?;
                let start = buf.ptr(AssemblyOffset(0)) as u64;
                guestmem::fault::register_code(start, size);
                self.chunks.push(Chunk {
                    buf: Some(buf),
                    start,
                    size,
                    free: vec![(0, size)],
                });
                self.mapped += size;
                (self.chunks.len() - 1, 0)
            }
        };
        let c = &mut self.chunks[ci];
        let (off, flen) = c.free[fi];
        if flen == len {
            c.free.remove(fi);
        } else {
            c.free[fi] = (off + len, flen - len);
        }
        let Some(buf) = c.buf.take() else {
            return Err(HeapLost);
        };
        let mut m = buf.make_mut().map_err(|_| HeapLost)?;
        m[off..off + bytes.len()].copy_from_slice(bytes);
        m[off + bytes.len()..off + len].fill(0xcc);
        let buf = m.make_exec().map_err(|_| HeapLost)?;
        let addr = buf.ptr(AssemblyOffset(off)) as u64;
        c.buf = Some(buf);
        Ok(CodeRef {
            chunk: ci,
            off,
            len,
            addr,
        })
    }

    /// Return a block's memory (no generated code may run in it any more).
    pub fn free(&mut self, r: CodeRef) {
        let Some(c) = self.chunks.get_mut(r.chunk) else {
            return;
        };
        let i = c.free.partition_point(|&(o, _)| o < r.off);
        c.free.insert(i, (r.off, r.len));
        // Coalesce with the next, then the previous range.
        if i + 1 < c.free.len() && c.free[i].0 + c.free[i].1 == c.free[i + 1].0 {
            c.free[i].1 += c.free[i + 1].1;
            c.free.remove(i + 1);
        }
        if i > 0 && c.free[i - 1].0 + c.free[i - 1].1 == c.free[i].0 {
            c.free[i - 1].1 += c.free[i].1;
            c.free.remove(i);
        }
        debug_assert!(c.free.iter().all(|&(o, l)| o + l <= c.size));
    }

    /// Drop every mapping (all blocks must be gone).
    pub fn clear(&mut self) {
        self.chunks.clear();
        self.mapped = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_heap_reuses_and_coalesces() {
        let mut h = CodeHeap::new(4096);
        let a = h.alloc(&[0x90; 100]).unwrap();
        let b = h.alloc(&[0x90; 64]).unwrap();
        let c = h.alloc(&[0xc3]).unwrap();
        assert_eq!((a.len, b.len, c.len), (128, 64, 64));
        assert_eq!(b.addr, a.addr + 128);
        assert_eq!(h.mapped, 4096);
        h.free(a);
        h.free(b);
        // The two freed ranges coalesced: 192 bytes fit where a was.
        let d = h.alloc(&[0x90; 190]).unwrap();
        assert_eq!(d.addr, a.addr);
        // A block larger than a chunk gets its own mapping.
        let e = h.alloc(&[0x90; 5000]).unwrap();
        assert_eq!(e.len, 5056);
        assert_eq!(h.mapped, 4096 + 8192);
        h.free(c);
        h.free(d);
        h.free(e);
        assert!(h.chunks.iter().all(|c| c.free == vec![(0, c.size)]));
    }

    #[test]
    fn code_heap_chunks_are_registered_while_mapped() {
        use guestmem::fault::{block_at, code_at};
        // (Other tests map and unmap code in parallel, possibly at the
        // same addresses: an odd chunk size and guest RIP tell ours apart.)
        let mut h = CodeHeap::new(3 * 4096);
        let a = h.alloc(&[0xc3; 100]).unwrap();
        let chunk = (a.addr, a.addr + 3 * 4096);
        assert_eq!(code_at(a.addr + 4000), Some(chunk));
        guestmem::fault::register_block(a.addr, a.len, 0x1234_5678, 1);
        assert_eq!(block_at(a.addr + 5).map(|b| b.guest_rip), Some(0x1234_5678));
        let rt = Runtime::new().unwrap();
        assert!(code_at(rt.exit_common).is_some());
        h.clear();
        assert_ne!(code_at(a.addr), Some(chunk));
        assert_ne!(
            block_at(a.addr + 5).map(|b| b.guest_rip),
            Some(0x1234_5678),
            "dropped with its chunk"
        );
    }
}

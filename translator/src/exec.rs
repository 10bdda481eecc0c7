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
use cpu_model::{Bus, Cpu, CpuState};
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
    /// `state.icount + countdown` with every block instruction charged so
    /// far retired: generated code keeps no instruction count of its own.
    /// Wherever Rust sees the state, `state.icount` is derived from it
    /// (`icount_before`): `icount_origin - countdown` less the charged
    /// instructions of the current block not yet retired; it moves only
    /// when a charged step does not retire (a fault, a REP iteration that
    /// yields: `settle_icount`).
    pub icount_origin: u64,
    /// The countdown when the running loop block was entered (its passes
    /// are counted from it where the loop is left).
    pub loop_entry: i64,
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
            icount_origin: 0,
            loop_entry: 0,
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

/// `state.icount` := the instructions retired before the current one, a
/// block instruction with `remaining` more after it (all charged to the
/// countdown at the block's start); returns it for `settle_icount`.
fn icount_before(ctx: &Ctx, cpu: &mut Cpu, remaining: u64) -> u64 {
    let n = ctx
        .icount_origin
        .wrapping_sub(ctx.countdown as u64)
        .wrapping_sub(remaining)
        .wrapping_sub(1);
    cpu.state.icount = n;
    n
}

/// After a helper that began at instruction count `before`: what it
/// retired moves the origin, less the current instruction's own charge if
/// the helper took that step (`took_step`: it ran the whole instruction,
/// or ended it with a fault), since generated code no longer will.
fn settle_icount(ctx: &mut Ctx, cpu: &Cpu, before: u64, took_step: bool) {
    ctx.icount_origin = ctx
        .icount_origin
        .wrapping_add(cpu.state.icount.wrapping_sub(before))
        .wrapping_sub(u64::from(took_step));
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
    let before = icount_before(ctx, cpu, remaining);
    bus.set_instruction_count(before);
    let r = monitor::call(cpu, bus, env, &mut ctx.countdown, ins, remaining, next_rip);
    settle_icount(ctx, cpu, before, true);
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
    let before = icount_before(ctx, cpu, remaining);
    bus.set_instruction_count(before);
    let (r, v) = monitor::mem_read(cpu, bus, env, &mut ctx.countdown, ins, remaining, mode);
    settle_icount(ctx, cpu, before, r != 0);
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
    let before = icount_before(ctx, cpu, remaining);
    bus.set_instruction_count(before);
    let r = monitor::mem_write(cpu, bus, env, &mut ctx.countdown, ins, value, remaining);
    settle_icount(ctx, cpu, before, r != 0);
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
    let before = icount_before(ctx, cpu, remaining);
    bus.set_instruction_count(before);
    let r = monitor::stack(cpu, bus, env, &mut ctx.countdown, ins, remaining);
    settle_icount(ctx, cpu, before, r != 0);
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
    let before = icount_before(ctx, cpu, remaining);
    bus.set_instruction_count(before);
    let r = monitor::call(cpu, bus, env, &mut ctx.countdown, ins, remaining, next_rip);
    settle_icount(ctx, cpu, before, true);
    if r == 0 {
        ctx.fast.fill_operand(cpu, bus, operand, ins.ip());
    }
    r
}

/// The miss path of an inline access (`emit::memory`): enter the page of
/// the `size_write & 0xff` bytes at linear address `lin` (written when
/// bit 8 of `size_write` is set) into the host TLB and micro slot `slot`.
/// Returns the host address of the access, or 0 for the slow path. No
/// instruction runs here: the inline access follows at once, or the slow
/// path does everything as if this had not been called (also when the
/// page walk wrote to a page holding translated code, which the slow
/// path's exit check then sees).
extern "sysv64" fn fill_shim(ctx: *mut Ctx, lin: u64, size_write: u64, slot: u64) -> u64 {
    // SAFETY: generated code passes the `Ctx` it was entered with.
    let (ctx, cpu, bus, _env) = unsafe { lent(ctx) };
    let size = (size_write & 0xff) as u32;
    let write = size_write & 0x100 != 0;
    let host = ctx
        .fast
        .fill_for_access(cpu, bus, lin, size, write, slot as usize);
    match host {
        Some(h) if bus.dirty.is_empty() => h,
        _ => 0,
    }
}

/// Address of the inline access's fill shim.
pub fn fill_shim_addr() -> u64 {
    fill_shim as *const () as usize as u64
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

//! The native executor: runs a case's bytes on the host CPU.
//!
//! Cases run in a forked child process so that nothing they do can harm the
//! test process. The child maps the code and data regions at the same fixed
//! addresses the emulated guest uses, loads the case's registers and flags
//! through a small trampoline, runs the code, and stores registers, flags and
//! the data buffer into memory shared with the parent. A fault is caught by
//! a signal handler (on an alternate stack, since the guest's RSP points into
//! the data buffer) that records the hardware vector (`REG_TRAPNO`) and the
//! register state at the fault from the signal context, then exits the child;
//! the parent forks a new child for the remaining cases.
//!
//! Everything the child touches after `fork` is preallocated: it never
//! allocates, since the parent may be multi-threaded.
//!
//! This is one of the crate's two `unsafe` modules (with the layout of the
//! fixed mappings it owns); every block states why it is sound.

use crate::{initial_fx, Case, Outcome, Regs, CODE_ADDR, CODE_SIZE, DATA_ADDR, DATA_SIZE};
use cpu_model::fxstate::FxState;
use iced_x86::code_asm::*;
use std::sync::Mutex;

/// Host-only page with the trampoline's entry and exit stubs.
const STUB_ADDR: u64 = 0x0010_0000;
const EPILOGUE_ADDR: u64 = STUB_ADDR + 0x800;
const RECOVER_ADDR: u64 = STUB_ADDR + 0xc00;
/// Entry stub for 32-bit cases: like the 64-bit one, but it ends with a far
/// jump into the 32-bit user code segment Linux provides.
const ENTRY32_ADDR: u64 = STUB_ADDR + 0x400;
/// The far pointer (offset32, selector) that jump uses.
const FAR_PTR_ADDR: u64 = STATE_ADDR + 0x300;
/// Linux's flat user code segments: 32-bit and 64-bit.
const USER32_CS: u16 = 0x23;
const USER64_CS: u16 = 0x33;
const USER_DS: u16 = 0x2b;
/// Host-only page with the register block loaded and stored by the stubs.
const STATE_ADDR: u64 = 0x0030_0000;
const IN_ADDR: u64 = STATE_ADDR;
const OUT_ADDR: u64 = STATE_ADDR + 0x100;
const SAVED_RSP_ADDR: u64 = STATE_ADDR + 0x200;
/// FXSAVE images (512 bytes, 16-byte aligned): the case's initial x87/SSE
/// state (FXRSTOR64 by the entry stubs), its final state (FXSAVE64 by the
/// exit stub), and the host's own, saved on entry and restored on exit and
/// recovery so that the child's Rust code never runs with a case's FCW or
/// MXCSR.
const FX_IN_ADDR: u64 = STATE_ADDR + 0x400;
const FX_OUT_ADDR: u64 = STATE_ADDR + 0x600;
const HOST_FX_ADDR: u64 = STATE_ADDR + 0x800;
const _: () = assert!(
    FX_IN_ADDR.is_multiple_of(16)
        && FX_OUT_ADDR.is_multiple_of(16)
        && HOST_FX_ADDR.is_multiple_of(16)
);
const _: () = assert!(HOST_FX_ADDR + 512 <= STATE_ADDR + 0x1000 && FAR_PTR_ADDR + 6 <= FX_IN_ADDR);
const ALT_STACK_SIZE: usize = 64 * 1024;
/// Cases handed to one child at most.
const BATCH: usize = 256;

/// One case's result as the child writes it into shared memory.
#[repr(C)]
#[derive(Clone, Copy)]
struct Slot {
    done: u64,
    vector: u64,
    regs: Regs,
    fx: FxState,
    data: [u8; DATA_SIZE],
}

/// The state the signal handler needs: where results go and which case runs.
struct ChildCtx {
    slots: *mut Slot,
    current: usize,
}

static mut CHILD: ChildCtx = ChildCtx {
    slots: std::ptr::null_mut(),
    current: 0,
};

/// The fixed mappings exist once per process; cases run one batch at a time.
static LOCK: Mutex<bool> = Mutex::new(false);

#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("cannot map {what} at {addr:#x}: {err}")]
    Map {
        what: &'static str,
        addr: u64,
        err: std::io::Error,
    },
    #[error("fork failed: {0}")]
    Fork(std::io::Error),
    #[error("case {index}: child died without a result (wait status {status:#x})")]
    Lost { index: usize, status: i32 },
    #[error("generating a case: {0}")]
    Generate(String),
    #[error("assembling the trampoline: {0}")]
    Asm(String),
}

fn map_fixed(what: &'static str, addr: u64, len: usize, prot: i32) -> Result<(), NativeError> {
    // SAFETY: MAP_FIXED_NOREPLACE never replaces an existing mapping; the
    // kernel either maps fresh anonymous memory at `addr` or fails.
    let p = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            len,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED_NOREPLACE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED || p as u64 != addr {
        return Err(NativeError::Map {
            what,
            addr,
            err: std::io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// Entry stub: save host callee-saved registers and RSP, load the case's
/// flags and registers from IN, jump to the code. Exit stub: store every
/// register and the flags into OUT, restore the host state, return.
/// Machine code of the entry, exit and recovery stubs.
struct Stubs {
    entry: Vec<u8>,
    entry32: Vec<u8>,
    exit: Vec<u8>,
    recover: Vec<u8>,
}

fn trampoline() -> Result<Stubs, IcedError> {
    let regs = [
        rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8, r9, r10, r11, r12, r13, r14, r15,
    ];
    // Save the host's callee-saved registers and RSP, load the case's flags
    // and registers.
    let enter = |a: &mut CodeAssembler| -> Result<(), IcedError> {
        for r in [rbx, rbp, r12, r13, r14, r15] {
            a.push(r)?;
        }
        a.mov(qword_ptr(SAVED_RSP_ADDR), rsp)?;
        a.fxsave64(ptr(HOST_FX_ADDR))?;
        a.fxrstor64(ptr(FX_IN_ADDR))?;
        a.mov(rsp, IN_ADDR + 16 * 8)?;
        a.popfq()?;
        for (i, r) in regs.iter().enumerate() {
            if *r != rsp && *r != rax {
                a.mov(*r, qword_ptr(IN_ADDR + 8 * i as u64))?;
            }
        }
        a.mov(rax, qword_ptr(IN_ADDR + 32))?;
        a.mov(rsp, rax)?;
        a.mov(rax, qword_ptr(IN_ADDR))
    };
    let mut a = CodeAssembler::new(64)?;
    enter(&mut a)?;
    a.jmp(CODE_ADDR)?;
    let entry = a.assemble(STUB_ADDR)?;
    let mut a32 = CodeAssembler::new(64)?;
    // 64-bit processes run with null DS/ES, which compatibility-mode code
    // cannot use: load Linux's flat user data selector first.
    a32.mov(eax, u32::from(USER_DS))?;
    a32.mov(ds, ax)?;
    a32.mov(es, ax)?;
    enter(&mut a32)?;
    // jmp far dword [FAR_PTR_ADDR] (FF /5, m16:32, absolute disp32).
    let fp = (FAR_PTR_ADDR as u32).to_le_bytes();
    a32.db(&[0xff, 0x2c, 0x25, fp[0], fp[1], fp[2], fp[3]])?;
    let entry32 = a32.assemble(ENTRY32_ADDR)?;

    let mut b = CodeAssembler::new(64)?;
    for (i, r) in regs.iter().enumerate() {
        b.mov(qword_ptr(OUT_ADDR + 8 * i as u64), *r)?;
    }
    b.mov(rsp, qword_ptr(SAVED_RSP_ADDR))?;
    b.pushfq()?;
    b.pop(rax)?;
    b.mov(qword_ptr(OUT_ADDR + 16 * 8), rax)?;
    b.fxsave64(ptr(FX_OUT_ADDR))?;
    b.fxrstor64(ptr(HOST_FX_ADDR))?;
    // Clean flags for the Rust code that follows (DF clear per the ABI; AC
    // clear, or Rust's own unaligned accesses would fault).
    b.push(0x202)?;
    b.popfq()?;
    for r in [r15, r14, r13, r12, rbp, rbx] {
        b.pop(r)?;
    }
    b.ret()?;
    let exit = b.assemble(EPILOGUE_ADDR)?;

    // Where the signal handler resumes after a fault: the exit stub
    // without the register stores.
    let mut c = CodeAssembler::new(64)?;
    c.mov(rsp, qword_ptr(SAVED_RSP_ADDR))?;
    c.fxrstor64(ptr(HOST_FX_ADDR))?;
    c.push(0x202)?;
    c.popfq()?;
    for r in [r15, r14, r13, r12, rbp, rbx] {
        c.pop(r)?;
    }
    c.ret()?;
    let recover = c.assemble(RECOVER_ADDR)?;
    Ok(Stubs {
        entry,
        entry32,
        exit,
        recover,
    })
}

fn setup() -> Result<(), NativeError> {
    let rw = libc::PROT_READ | libc::PROT_WRITE;
    let rwx = rw | libc::PROT_EXEC;
    map_fixed("stubs", STUB_ADDR, 0x1000, rwx)?;
    map_fixed("code", CODE_ADDR, CODE_SIZE + 0x1000, rwx)?;
    map_fixed("data", DATA_ADDR, DATA_SIZE, rw)?;
    map_fixed("state", STATE_ADDR, 0x1000, rw)?;
    let Stubs {
        entry,
        entry32,
        exit,
        recover,
    } = trampoline().map_err(|e| NativeError::Asm(e.to_string()))?;
    assert!(entry.len() < 0x400 && entry32.len() < 0x400);
    assert!(exit.len() < 0x400 && recover.len() < 0x400);
    // SAFETY: the stub page was just mapped read-write at STUB_ADDR with
    // 0x1000 bytes; both stubs fit in their halves (checked above).
    unsafe {
        std::ptr::copy_nonoverlapping(entry.as_ptr(), STUB_ADDR as *mut u8, entry.len());
    }
    // SAFETY: as above, for the exit stub's half of the page.
    unsafe {
        std::ptr::copy_nonoverlapping(exit.as_ptr(), EPILOGUE_ADDR as *mut u8, exit.len());
    }
    // SAFETY: as above, for the 32-bit entry stub's quarter of the page.
    unsafe {
        std::ptr::copy_nonoverlapping(entry32.as_ptr(), ENTRY32_ADDR as *mut u8, entry32.len());
    }
    let mut far = [0u8; 6];
    far[..4].copy_from_slice(&(CODE_ADDR as u32).to_le_bytes());
    far[4..].copy_from_slice(&USER32_CS.to_le_bytes());
    // SAFETY: the state page is mapped read-write; 6 bytes at +0x300.
    unsafe {
        std::ptr::copy_nonoverlapping(far.as_ptr(), FAR_PTR_ADDR as *mut u8, far.len());
    }
    // SAFETY: as above, for the recovery stub's quarter of the page.
    unsafe {
        std::ptr::copy_nonoverlapping(recover.as_ptr(), RECOVER_ADDR as *mut u8, recover.len());
    }
    Ok(())
}

/// Signal handler in the child: record the vector and the register state of
/// the signal context, copy the data buffer, and resume at the recovery
/// stub, which returns from the trampoline as if the case had ended.
extern "C" fn on_fault(_sig: i32, _info: *mut libc::siginfo_t, uctx: *mut libc::c_void) {
    // The kernel enters the handler with the interrupted code's AC flag:
    // clear it before any possibly unaligned access.
    // SAFETY: only RFLAGS.AC changes; the stack is balanced.
    unsafe {
        std::arch::asm!("pushfq", "and qword ptr [rsp], 0xfffffffffffbffff", "popfq");
    }
    // SAFETY: the kernel passes a valid ucontext_t for SA_SIGINFO handlers;
    // CHILD was set before any case ran and the child is single-threaded.
    unsafe {
        let uc = &*(uctx as *const libc::ucontext_t);
        let g = &uc.uc_mcontext.gregs;
        let ctx = &*std::ptr::addr_of!(CHILD);
        let slot = &mut *ctx.slots.add(ctx.current);
        let order = [
            libc::REG_RAX,
            libc::REG_RCX,
            libc::REG_RDX,
            libc::REG_RBX,
            libc::REG_RSP,
            libc::REG_RBP,
            libc::REG_RSI,
            libc::REG_RDI,
            libc::REG_R8,
            libc::REG_R9,
            libc::REG_R10,
            libc::REG_R11,
            libc::REG_R12,
            libc::REG_R13,
            libc::REG_R14,
            libc::REG_R15,
        ];
        for (i, r) in order.iter().enumerate() {
            slot.regs.gpr[i] = g[*r as usize] as u64;
        }
        slot.regs.rflags = g[libc::REG_EFL as usize] as u64;
        slot.regs.rip = g[libc::REG_RIP as usize] as u64;
        slot.vector = g[libc::REG_TRAPNO as usize] as u64;
        copy_sigframe_fx(uc.uc_mcontext.fpregs as *const u8, &mut slot.fx);
        std::ptr::copy_nonoverlapping(DATA_ADDR as *const u8, slot.data.as_mut_ptr(), DATA_SIZE);
        slot.done = 2;
        let g = &mut (*(uctx as *mut libc::ucontext_t)).uc_mcontext.gregs;
        g[libc::REG_RIP as usize] = RECOVER_ADDR as i64;
        // Back to 64-bit code if the fault was in compatibility mode (CS is
        // the low 16 bits of REG_CSGSFS).
        let csgsfs = &mut g[libc::REG_CSGSFS as usize];
        *csgsfs = (*csgsfs & !0xffff) | i64::from(USER64_CS);
        g[libc::REG_EFL as usize] = 0x202;
    }
}

/// The x87/SSE state of a signal frame: the FXSAVE-format area the kernel
/// wrote (`uc_mcontext.fpregs`). With an XSAVE frame (FP_XSTATE_MAGIC1 in
/// the software-reserved bytes), a component whose XSTATE_BV bit is clear
/// was in its initial state and may not have been written.
///
/// # Safety
/// `fp` is null or points to the frame's FPU state (512 bytes, then the
/// XSAVE header when the magic says so).
unsafe fn copy_sigframe_fx(fp: *const u8, out: &mut FxState) {
    if fp.is_null() {
        return;
    }
    // SAFETY: per the contract, 512 readable bytes; FxState is 512 bytes
    // of plain data.
    unsafe {
        std::ptr::copy_nonoverlapping(fp, out as *mut FxState as *mut u8, 512);
    }
    // SAFETY: bytes 464..468 are inside the 512 copied above.
    let magic = unsafe { std::ptr::read_unaligned(fp.add(464) as *const u32) };
    if magic != 0x4650_5853 {
        return;
    }
    // SAFETY: an XSAVE frame has its 64-byte header at offset 512.
    let bv = unsafe { std::ptr::read_unaligned(fp.add(512) as *const u64) };
    if bv & 1 == 0 {
        let init = initial_fx();
        out.fcw = init.fcw;
        out.fsw = 0;
        out.ftw = 0;
        out.fop = 0;
        out.fip = 0;
        out.fdp = 0;
        out.st = init.st;
    }
    if bv & 2 == 0 {
        out.xmm = [[0; 16]; 16];
    }
}

/// Run `cases[start..end]` in this (child) process. Never returns.
fn child_main(cases: &[Case], start: usize, end: usize, slots: *mut Slot, alt: *mut u8) -> ! {
    // SAFETY: single-threaded child; the alt stack and slots were allocated
    // by the parent before fork and stay valid; fixed mappings exist.
    unsafe {
        CHILD.slots = slots;
        let alt_stack = libc::stack_t {
            ss_sp: alt as *mut libc::c_void,
            ss_flags: 0,
            ss_size: ALT_STACK_SIZE,
        };
        libc::sigaltstack(&alt_stack, std::ptr::null_mut());
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_fault as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        for sig in [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGFPE,
            libc::SIGILL,
            libc::SIGTRAP,
        ] {
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
        libc::alarm(10);
        let entry64: extern "sysv64" fn() = std::mem::transmute(STUB_ADDR as usize);
        let entry32: extern "sysv64" fn() = std::mem::transmute(ENTRY32_ADDR as usize);
        for (i, case) in cases.iter().enumerate().take(end).skip(start) {
            CHILD.current = i - start;
            let code = CODE_ADDR as *mut u8;
            std::ptr::copy_nonoverlapping(case.code.as_ptr(), code, case.code.len());
            let after = CODE_ADDR + case.code.len() as u64;
            let jmp = code.add(case.code.len());
            if case.bits == 32 {
                // jmp far 0x33:EPILOGUE (EA ptr16:32) back to 64-bit code.
                *jmp = 0xea;
                let off = (EPILOGUE_ADDR as u32).to_le_bytes();
                std::ptr::copy_nonoverlapping(off.as_ptr(), jmp.add(1), 4);
                let sel = USER64_CS.to_le_bytes();
                std::ptr::copy_nonoverlapping(sel.as_ptr(), jmp.add(5), 2);
            } else {
                // jmp rel32 to the exit stub.
                *jmp = 0xe9;
                let rel = (EPILOGUE_ADDR as i64 - (after as i64 + 5)) as i32;
                std::ptr::copy_nonoverlapping(rel.to_le_bytes().as_ptr(), jmp.add(1), 4);
            }
            std::ptr::copy_nonoverlapping(case.data.as_ptr(), DATA_ADDR as *mut u8, DATA_SIZE);
            let inp = IN_ADDR as *mut u64;
            for (k, v) in case.regs.gpr.iter().enumerate() {
                *inp.add(k) = *v;
            }
            *inp.add(16) = case.regs.rflags;
            std::ptr::copy_nonoverlapping(
                &case.fx as *const FxState as *const u8,
                FX_IN_ADDR as *mut u8,
                512,
            );
            let slot = &mut *slots.add(i - start);
            slot.done = 0;
            if case.bits == 32 {
                entry32();
            } else {
                entry64();
            }
            if slot.done == 2 {
                continue; // faulted: the handler filled the slot
            }
            let out = OUT_ADDR as *const u64;
            for k in 0..16 {
                slot.regs.gpr[k] = *out.add(k);
            }
            slot.regs.rflags = *out.add(16);
            slot.regs.rip = after;
            slot.vector = u64::MAX;
            std::ptr::copy_nonoverlapping(
                FX_OUT_ADDR as *const u8,
                &mut slot.fx as *mut FxState as *mut u8,
                512,
            );
            std::ptr::copy_nonoverlapping(
                DATA_ADDR as *const u8,
                slot.data.as_mut_ptr(),
                DATA_SIZE,
            );
            slot.done = 1;
        }
        libc::_exit(0);
    }
}

/// Run every case on the host CPU.
pub fn run_native(cases: &[Case]) -> Result<Vec<Outcome>, NativeError> {
    let mut ready = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if !*ready {
        setup()?;
        *ready = true;
    }
    for c in cases {
        assert!(c.code.len() + 7 <= CODE_SIZE && c.data.len() == DATA_SIZE);
    }
    let slots_len = BATCH * std::mem::size_of::<Slot>();
    // SAFETY: a fresh shared anonymous mapping; checked for failure below.
    let slots = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            slots_len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_SHARED | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if slots == libc::MAP_FAILED {
        return Err(NativeError::Map {
            what: "result slots",
            addr: 0,
            err: std::io::Error::last_os_error(),
        });
    }
    let slots = slots as *mut Slot;
    let mut alt = vec![0u8; ALT_STACK_SIZE];
    let mut out = Vec::with_capacity(cases.len());
    let mut next = 0;
    let result = (|| {
        while next < cases.len() {
            let start = next;
            let end = (start + BATCH).min(cases.len());
            // SAFETY: slots spans BATCH slots; zeroing marks them not done.
            unsafe { std::ptr::write_bytes(slots as *mut u8, 0, slots_len) };
            // SAFETY: the child only runs child_main, which uses memory
            // allocated before the fork and never returns.
            let pid = unsafe { libc::fork() };
            if pid < 0 {
                return Err(NativeError::Fork(std::io::Error::last_os_error()));
            }
            if pid == 0 {
                child_main(cases, start, end, slots, alt.as_mut_ptr());
            }
            let mut status = 0;
            // SAFETY: waiting for our own child.
            unsafe { libc::waitpid(pid, &mut status, 0) };
            for i in start..end {
                // SAFETY: i - start < BATCH; the child has exited, so the
                // shared slot is no longer written.
                let slot = unsafe { &*slots.add(i - start) };
                match slot.done {
                    0 => {
                        if i == start {
                            return Err(NativeError::Lost { index: i, status });
                        }
                        break;
                    }
                    done => {
                        out.push(Outcome {
                            regs: slot.regs,
                            data: slot.data.to_vec(),
                            fault: (done == 2).then_some(slot.vector as u8),
                            fx: slot.fx,
                        });
                        next = i + 1;
                    }
                }
            }
        }
        Ok(())
    })();
    // SAFETY: unmapping the mapping created above, no references remain.
    unsafe { libc::munmap(slots as *mut libc::c_void, slots_len) };
    result.map(|()| out)
}

/// The host's MXCSR_MASK, from an FXSAVE image (bytes 28-31).
pub fn host_fxsave_mxcsr_mask() -> u32 {
    #[repr(C, align(16))]
    struct Area([u8; 512]);
    let mut area = Area([0; 512]);
    // SAFETY: FXSAVE writes exactly 512 bytes to a 16-byte aligned
    // buffer of that size, which `area` is; fxsr is part of the x86-64
    // baseline.
    unsafe { core::arch::x86_64::_fxsave64(area.0.as_mut_ptr()) };
    u32::from_le_bytes([area.0[28], area.0[29], area.0[30], area.0[31]])
}

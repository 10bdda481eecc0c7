//! Memory operands of native instructions.

use super::{Asm, InsCtx, ST_RIP};
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

/// state.rip = the instruction; call `helper` (rdi = ctx and the other
/// arguments already set up by `args`); leave the block if it returns
/// nonzero.
pub(super) fn helper_call(a: &mut Asm, ictx: &InsCtx<'_>, helper: u64) {
    let ip = ictx.ip as i64;
    let h = helper as i64;
    let common = ictx.addrs.exit_common as i64;
    dynasm!(a
        ; .arch x64
        ; mov rax, QWORD ip
        ; mov [rbx + ST_RIP], rax
        ; mov rdi, r13
        ; mov rax, QWORD h
        ; call rax
        ; test eax, eax
        ; jz >ok
        ; mov rcx, QWORD common
        ; jmp rcx
        ; ok:
    );
}

/// Memory-read modes of the read helper: operand 1; operand 0; operand 0
/// of a read-modify-write instruction (checked for writing first, as the
/// interpreter's `read_rmw`).
pub const READ_SRC: i32 = 0;
pub const READ_DST: i32 = 1;
pub const READ_RMW: i32 = 2;

/// ctx.tmp := a memory operand (through `Cpu::read_op`).
/// `mode`: [`READ_SRC`], [`READ_DST`] or [`READ_RMW`].
pub(super) fn mem_read(a: &mut Asm, ictx: &InsCtx<'_>, mode: i32) {
    let ins = ictx.ins_addr as i64;
    let rem = ictx.remaining;
    dynasm!(a
        ; .arch x64
        ; mov rsi, QWORD ins
        ; mov rdx, QWORD rem
        ; mov ecx, mode
    );
    helper_call(a, ictx, ictx.addrs.mem_read);
}

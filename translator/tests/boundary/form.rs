//! Instruction forms: every memory instruction a case can run, with its
//! access size, modes and kind of access, and how to assemble it.

use super::case::Mode;
use iced_x86::code_asm::*;
use iced_x86::IcedError;
use std::fmt;

/// How an instruction accesses its operand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acc {
    Read,
    Write,
    /// Read and write (RMW, CMPXCHG, CALL then RET).
    ReadWrite,
}

pub(super) type EmitFn = fn(&mut CodeAssembler, AsmMemoryOperand) -> Result<(), IcedError>;
pub(super) type StackFn = fn(&mut CodeAssembler) -> Result<(), IcedError>;

#[derive(Clone, Copy)]
pub(super) enum Emit {
    /// An instruction on `[rSI]` (DS).
    Mem(EmitFn),
    /// PUSH: the access is the `size` bytes below rSP.
    Push(StackFn),
    /// POP: the access is the `size` bytes at rSP.
    Pop(StackFn),
    /// CALL to a RET: both access the `size` bytes below rSP.
    CallRet,
}

/// Modes a form exists in.
pub(super) const R: u8 = 1;
pub(super) const P: u8 = 2;
pub(super) const L: u8 = 4;
const ALL: u8 = R | P | L;

/// One instruction form: `size` bytes accessed.
#[derive(Clone, Copy)]
pub(crate) struct Form {
    pub(super) name: &'static str,
    pub(super) size: u32,
    pub(super) modes: u8,
    pub(crate) acc: Acc,
    pub(super) emit: Emit,
}

impl fmt::Debug for Form {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

const fn mem(name: &'static str, size: u32, modes: u8, acc: Acc, e: EmitFn) -> Form {
    Form {
        name,
        size,
        modes,
        acc,
        emit: Emit::Mem(e),
    }
}

const fn stack(name: &'static str, size: u32, modes: u8, acc: Acc, emit: Emit) -> Form {
    Form {
        name,
        size,
        modes,
        acc,
        emit,
    }
}

use Acc::{Read as Rd, ReadWrite as RW, Write as Wr};

/// Every instruction form, one line each: a new access size (x87 m80,
/// SSE m128, ...) is one more line here.
pub(crate) static FORMS: &[Form] = &[
    mem("mov al,[m]", 1, ALL, Rd, |a, m| a.mov(al, byte_ptr(m))),
    mem("mov [m],dl", 1, ALL, Wr, |a, m| a.mov(byte_ptr(m), dl)),
    mem("add [m],dl", 1, ALL, RW, |a, m| a.add(byte_ptr(m), dl)),
    mem("inc byte [m]", 1, ALL, RW, |a, m| a.inc(byte_ptr(m))),
    mem("cmp [m],dl", 1, ALL, Rd, |a, m| a.cmp(byte_ptr(m), dl)),
    mem("movzx eax,byte [m]", 1, ALL, Rd, |a, m| {
        a.movzx(eax, byte_ptr(m))
    }),
    mem("mov ax,[m]", 2, ALL, Rd, |a, m| a.mov(ax, word_ptr(m))),
    mem("mov [m],dx", 2, ALL, Wr, |a, m| a.mov(word_ptr(m), dx)),
    mem("add [m],dx", 2, ALL, RW, |a, m| a.add(word_ptr(m), dx)),
    mem("inc word [m]", 2, ALL, RW, |a, m| a.inc(word_ptr(m))),
    mem("cmp [m],dx", 2, ALL, Rd, |a, m| a.cmp(word_ptr(m), dx)),
    mem("movzx eax,word [m]", 2, ALL, Rd, |a, m| {
        a.movzx(eax, word_ptr(m))
    }),
    mem("cmovae ax,[m]", 2, ALL, Rd, |a, m| {
        a.cmovae(ax, word_ptr(m))
    }),
    mem("imul ax,[m],0x1234", 2, ALL, Rd, |a, m| {
        a.imul_3(ax, word_ptr(m), 0x1234)
    }),
    // x87, native in the translator under a masked FCW (its x87 fast
    // path; FNSTSW is a control instruction: no FDP).
    mem("fild word [m]", 2, ALL, Rd, |a, m| a.fild(word_ptr(m))),
    mem("fnstsw [m]", 2, ALL, Wr, |a, m| a.fnstsw(word_ptr(m))),
    stack("push dx", 2, ALL, Wr, Emit::Push(|a| a.push(dx))),
    stack("pop ax", 2, ALL, Rd, Emit::Pop(|a| a.pop(ax))),
    stack("call/ret", 2, R, RW, Emit::CallRet),
    mem("mov eax,[m]", 4, ALL, Rd, |a, m| a.mov(eax, dword_ptr(m))),
    mem("mov [m],edx", 4, ALL, Wr, |a, m| a.mov(dword_ptr(m), edx)),
    mem("add [m],edx", 4, ALL, RW, |a, m| a.add(dword_ptr(m), edx)),
    mem("inc dword [m]", 4, ALL, RW, |a, m| a.inc(dword_ptr(m))),
    mem("cmp [m],edx", 4, ALL, Rd, |a, m| a.cmp(dword_ptr(m), edx)),
    mem("cmovb eax,[m]", 4, ALL, Rd, |a, m| {
        a.cmovb(eax, dword_ptr(m))
    }),
    mem("imul eax,[m],-99", 4, ALL, Rd, |a, m| {
        a.imul_3(eax, dword_ptr(m), -99)
    }),
    // SSE and CRC32, native in the translator (its SIMD fast path).
    mem("movss xmm0,[m]", 4, ALL, Rd, |a, m| {
        a.movss(xmm0, dword_ptr(m))
    }),
    mem("movss [m],xmm1", 4, ALL, Wr, |a, m| {
        a.movss(dword_ptr(m), xmm1)
    }),
    mem("addss xmm0,[m]", 4, ALL, Rd, |a, m| {
        a.addss(xmm0, dword_ptr(m))
    }),
    mem("crc32 eax,dword [m]", 4, ALL, Rd, |a, m| {
        a.crc32(eax, dword_ptr(m))
    }),
    mem("fadd dword [m]", 4, ALL, Rd, |a, m| a.fadd(dword_ptr(m))),
    mem("fistp dword [m]", 4, ALL, Wr, |a, m| a.fistp(dword_ptr(m))),
    stack("push edx", 4, R | P, Wr, Emit::Push(|a| a.push(edx))),
    stack("pop eax", 4, R | P, Rd, Emit::Pop(|a| a.pop(eax))),
    stack("call/ret", 4, P, RW, Emit::CallRet),
    mem("sgdt [m]", 6, R | P, Wr, |a, m| a.sgdt(m)),
    mem("sidt [m]", 6, R | P, Wr, |a, m| a.sidt(m)),
    mem("lgdt [m]", 6, R | P, Rd, |a, m| a.lgdt(m)),
    mem("mov rax,[m]", 8, L, Rd, |a, m| a.mov(rax, qword_ptr(m))),
    mem("mov [m],rdx", 8, L, Wr, |a, m| a.mov(qword_ptr(m), rdx)),
    mem("add [m],rdx", 8, L, RW, |a, m| a.add(qword_ptr(m), rdx)),
    mem("inc qword [m]", 8, L, RW, |a, m| a.inc(qword_ptr(m))),
    mem("cmp [m],rdx", 8, L, Rd, |a, m| a.cmp(qword_ptr(m), rdx)),
    mem("cmovae rax,[m]", 8, L, Rd, |a, m| {
        a.cmovae(rax, qword_ptr(m))
    }),
    mem("imul rax,[m],7", 8, L, Rd, |a, m| {
        a.imul_3(rax, qword_ptr(m), 7)
    }),
    mem("cmpxchg8b [m]", 8, ALL, RW, |a, m| {
        a.cmpxchg8b(qword_ptr(m))
    }),
    mem("movq xmm0,[m]", 8, ALL, Rd, |a, m| {
        a.movq(xmm0, qword_ptr(m))
    }),
    mem("movsd [m],xmm1", 8, ALL, Wr, |a, m| {
        a.movsd_2(qword_ptr(m), xmm1)
    }),
    mem("mulsd xmm0,[m]", 8, ALL, Rd, |a, m| {
        a.mulsd(xmm0, qword_ptr(m))
    }),
    mem("fld qword [m]", 8, ALL, Rd, |a, m| a.fld(qword_ptr(m))),
    mem("fstp qword [m]", 8, ALL, Wr, |a, m| a.fstp(qword_ptr(m))),
    stack("push rdx", 8, L, Wr, Emit::Push(|a| a.push(rdx))),
    stack("pop rax", 8, L, Rd, Emit::Pop(|a| a.pop(rax))),
    stack("call/ret", 8, L, RW, Emit::CallRet),
    mem("sgdt [m]", 10, L, Wr, |a, m| a.sgdt(m)),
    mem("sidt [m]", 10, L, Wr, |a, m| a.sidt(m)),
    mem("lgdt [m]", 10, L, Rd, |a, m| a.lgdt(m)),
    mem("fld tword [m]", 10, ALL, Rd, |a, m| a.fld(tword_ptr(m))),
    mem("fstp tword [m]", 10, ALL, Wr, |a, m| a.fstp(tword_ptr(m))),
    mem("cmpxchg16b [m]", 16, L, RW, |a, m| {
        a.cmpxchg16b(xmmword_ptr(m))
    }),
    mem("movdqu xmm0,[m]", 16, ALL, Rd, |a, m| {
        a.movdqu(xmm0, xmmword_ptr(m))
    }),
    mem("movdqu [m],xmm1", 16, ALL, Wr, |a, m| {
        a.movdqu(xmmword_ptr(m), xmm1)
    }),
    // Legacy aligned forms: #GP(0) when misaligned.
    mem("paddd xmm0,[m]", 16, ALL, Rd, |a, m| {
        a.paddd(xmm0, xmmword_ptr(m))
    }),
    mem("movaps [m],xmm1", 16, ALL, Wr, |a, m| {
        a.movaps(xmmword_ptr(m), xmm1)
    }),
];

/// The forms of `size` bytes in `mode` (indices into `FORMS`).
pub(crate) fn forms(mode: Mode, size: u32) -> Vec<usize> {
    (0..FORMS.len())
        .filter(|&i| FORMS[i].size == size && FORMS[i].modes & mode.bit() != 0)
        .collect()
}

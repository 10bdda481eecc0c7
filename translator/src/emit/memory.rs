//! Memory operands of native instructions: the inline fast path (a
//! host-address TLB hit on RAM; see `crate::fastmem` for its pseudo-code
//! and invariants) and the slow path, helper calls into the interpreter's
//! own operand access.

use super::plan::{gpr, Loc, RSP};
use super::{flush_cache, reload_cache, Asm, InsCtx, ST_RIP};
use crate::exec::Ctx;
use crate::fastmem::{
    FastEntry, FastMem, SegWindow, FAST_ENTRIES, MAX_INLINE_ACCESS, MICRO_ENTRIES,
};
use cpu_model::state::{SegReg, Segment};
use cpu_model::{Cpu, CpuState};
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};
use iced_x86::{Instruction, Register};

const CX_SEG: i32 = (core::mem::offset_of!(Ctx, fast) + core::mem::offset_of!(FastMem, seg)) as i32;
const CX_TLB: i32 = (core::mem::offset_of!(Ctx, fast) + core::mem::offset_of!(FastMem, tlb)) as i32;
const CX_MICRO: i32 =
    (core::mem::offset_of!(Ctx, fast) + core::mem::offset_of!(FastMem, micro)) as i32;
const CX_STACK_SIZE: i32 =
    (core::mem::offset_of!(Ctx, fast) + core::mem::offset_of!(FastMem, stack_size)) as i32;
const WIN_SIZE: i32 = core::mem::size_of::<SegWindow>() as i32;
const WIN_BASE: i32 = core::mem::offset_of!(SegWindow, base) as i32;
const WIN_READ_END: i32 = core::mem::offset_of!(SegWindow, read_end) as i32;
const WIN_WRITE_END: i32 = core::mem::offset_of!(SegWindow, write_end) as i32;
const TLB_READ_TAG: i32 = core::mem::offset_of!(FastEntry, read_tag) as i32;
const TLB_WRITE_TAG: i32 = core::mem::offset_of!(FastEntry, write_tag) as i32;
const TLB_ADDEND: i32 = core::mem::offset_of!(FastEntry, addend) as i32;
const TLB_READ_HI: i32 = core::mem::offset_of!(FastEntry, read_hi) as i32;
const TLB_WRITE_HI: i32 = core::mem::offset_of!(FastEntry, write_hi) as i32;
const TLB_PAGES: i32 = core::mem::offset_of!(FastEntry, pages) as i32;
const ST_SEG: i32 = core::mem::offset_of!(CpuState, seg) as i32;
const SEG_SIZE: i32 = core::mem::size_of::<Segment>() as i32;
const SEG_BASE: i32 = core::mem::offset_of!(Segment, base) as i32;

// The index arithmetic below: entry = ((lin >> 12) % FAST_ENTRIES) * 64
// = (lin >> 6) & ((FAST_ENTRIES - 1) << 6).
const _: () = assert!(core::mem::size_of::<FastEntry>() == 64);
const TLB_INDEX_MASK: i32 = ((FAST_ENTRIES - 1) << 6) as i32;

/// A memory operand as the fast path computes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct MemRef {
    /// `SegReg as usize` of the effective segment.
    seg: usize,
    base: Option<Loc>,
    index: Option<(Loc, u32)>,
    /// Displacement, or the absolute address of a RIP-relative operand.
    disp: u64,
    addr_size: u32,
    /// Bytes accessed (1, 2, 4, 8, 10 or 16).
    pub size: u32,
}

impl MemRef {
    /// The memory operand of `ins`, if the fast path can compute it (as
    /// `Cpu::effective_address` does).
    pub fn of(ins: &Instruction) -> Option<MemRef> {
        let size = ins.memory_size().size() as u32;
        // (16: the m128 of a native SSE instruction; 10: an x87 m80.)
        if !matches!(size, 1 | 2 | 4 | 8 | 10 | 16) {
            return None;
        }
        let reg = |r: Register| -> Option<Option<Loc>> {
            match r {
                Register::None | Register::RIP | Register::EIP => Some(None),
                r => gpr(r).filter(|(l, _)| !l.high).map(|(l, _)| Some(l)),
            }
        };
        let base = reg(ins.memory_base())?;
        let index = reg(ins.memory_index())?.map(|l| (l, ins.memory_index_scale()));
        Some(MemRef {
            seg: Cpu::mem_segment(ins) as usize,
            base,
            index,
            disp: ins.memory_displacement64(),
            addr_size: Cpu::addr_size(ins),
            size,
        })
    }
}

impl MemRef {
    /// The address size (for a stack slot: the stack width).
    pub fn addr_size(&self) -> u32 {
        self.addr_size
    }

    /// The stack slot a PUSH (`push`) or POP of `size` bytes accesses with
    /// a stack of `width` bytes (SS:[rSP - size] or SS:[rSP]).
    pub fn stack(push: bool, size: u32, width: u32) -> MemRef {
        MemRef {
            seg: SegReg::Ss as usize,
            base: Some(RSP),
            index: None,
            disp: if push { (-i64::from(size)) as u64 } else { 0 },
            addr_size: width,
            size,
        }
    }
}

/// An inline access: the operand, the mode, and where the instruction's
/// slow form is emitted.
pub(super) struct FastAccess {
    pub mref: MemRef,
    /// The instruction's micro-TLB slot (`micro_slot`).
    pub slot: usize,
    pub long64: bool,
    /// A stack access compiled for a stack of this many bytes outside
    /// 64-bit mode, where SS.B can change under the block: checked first.
    pub stack_width: Option<u32>,
    /// The linear address must be a multiple of this (16: the m128 of a
    /// legacy aligned SSE form; 0: no rule), else the slow path.
    pub align: u32,
    pub slow: DynamicLabel,
}

/// r8 := host address of the operand of `f`, or jump to `f.slow` (nothing
/// changed yet). Uses r9 and r10. The checks are `Cpu::linearize`'s and
/// the page-crossing and TLB-tag tests of `crate::fastmem`.
pub(super) fn fast_address(a: &mut Asm, f: &FastAccess, write: bool) {
    let m = &f.mref;
    let slow = f.slow;
    if let Some(w) = f.stack_width {
        let w = w as i32;
        dynasm!(a
            ; .arch x64
            ; cmp QWORD [r13 + CX_STACK_SIZE], w
            ; jne =>slow
        );
    }
    // Below 64-bit addressing the sum is truncated anyway, so a 32-bit
    // displacement of any value is exact.
    let disp = if m.addr_size == 8 {
        m.disp as i64
    } else {
        i64::from(m.disp as u32 as i32)
    };
    if !address_in_one_lea(a, m, disp) {
        match m.base {
            Some(b) => match a.cache.host(b) {
                Some(h) => dynasm!(a ; .arch x64 ; mov r8, Rq(h)),
                None => {
                    let o = b.off();
                    dynasm!(a ; .arch x64 ; mov r8, [rbx + o]);
                }
            },
            None => dynasm!(a ; .arch x64 ; xor r8d, r8d),
        }
        if let Some((ix, scale)) = m.index {
            let i = match a.cache.host(ix) {
                Some(h) => h,
                None => {
                    let o = ix.off();
                    dynasm!(a ; .arch x64 ; mov r9, [rbx + o]);
                    9
                }
            };
            match scale {
                1 => dynasm!(a ; .arch x64 ; add r8, Rq(i)),
                2 => dynasm!(a ; .arch x64 ; lea r8, [r8 + Rq(i) * 2]),
                4 => dynasm!(a ; .arch x64 ; lea r8, [r8 + Rq(i) * 4]),
                _ => dynasm!(a ; .arch x64 ; lea r8, [r8 + Rq(i) * 8]),
            }
        }
        if disp != 0 {
            if let Ok(d) = i32::try_from(disp) {
                dynasm!(a ; .arch x64 ; lea r8, [r8 + d]);
            } else {
                dynasm!(a ; .arch x64 ; mov r9, QWORD disp ; add r8, r9);
            }
        }
    }
    match m.addr_size {
        2 => dynasm!(a ; .arch x64 ; movzx r8d, r8w),
        4 => dynasm!(a ; .arch x64 ; mov r8d, r8d),
        _ => {}
    }
    let seg = m.seg as i32;
    if !f.long64 {
        let end = CX_SEG + seg * WIN_SIZE + if write { WIN_WRITE_END } else { WIN_READ_END };
        let base = CX_SEG + seg * WIN_SIZE + WIN_BASE;
        let last = (m.size - 1) as i32;
        dynasm!(a
            ; .arch x64
            ; lea r9, [r8 + last]
            ; cmp r9, [r13 + end]
            ; jae =>slow
            ; add r8, [r13 + base]
            ; mov r8d, r8d
        );
    } else if seg == SegReg::Fs as i32 || seg == SegReg::Gs as i32 {
        let base = ST_SEG + seg * SEG_SIZE + SEG_BASE;
        dynasm!(a ; .arch x64 ; add r8, [rbx + base]);
    }
    // A misaligned m128 of an aligned form: the slow path, where the
    // interpreter raises #GP(0) (the check is on the linear address, as
    // `Cpu::mem_linear_unchecked`).
    if f.align > 1 {
        let m = (f.align - 1) as i8;
        dynasm!(a
            ; .arch x64
            ; test r8b, m
            ; jnz =>slow
        );
    }
    // The page check (see `crate::fastmem`): inline, the instruction's
    // own micro slot (a constant address) by its bounds, which hold for
    // any access of at most 16 bytes; on a miss, out of line, the exact
    // check on the TLB entry of the page, whose hit is copied into the
    // slot.
    debug_assert!(u64::from(m.size) <= MAX_INLINE_ACCESS);
    let (lo, hi) = if write {
        (TLB_WRITE_TAG, TLB_WRITE_HI)
    } else {
        (TLB_READ_TAG, TLB_READ_HI)
    };
    let entry = CX_MICRO + (f.slot % MICRO_ENTRIES) as i32 * ENTRY_SIZE;
    let miss = a.new_dynamic_label();
    let done = a.new_dynamic_label();
    dynasm!(a
        ; .arch x64
        ; cmp r8, [r13 + entry + lo]
        ; jb =>miss
        ; cmp r8, [r13 + entry + hi]
        ; ja =>miss
        ; add r8, [r13 + entry + TLB_ADDEND]
        ; =>done
    );
    a.micro_misses.push(MicroMiss {
        miss,
        done,
        slow,
        entry,
        field: lo,
        size: m.size,
        write,
        long64: f.long64,
    });
}

/// r8 := base + index * scale + disp in one LEA when every register of
/// the operand is cached and the displacement fits in 32 bits (the
/// common case in loops); false (nothing emitted) otherwise.
fn address_in_one_lea(a: &mut Asm, m: &MemRef, disp: i64) -> bool {
    let Ok(d) = i32::try_from(disp) else {
        return false;
    };
    let host = |l: Option<Loc>| match l {
        None => Some(None),
        Some(l) => a.cache.host(l).map(Some),
    };
    let (Some(base), Some(index)) = (host(m.base), host(m.index.map(|(l, _)| l))) else {
        return false;
    };
    let scale = m.index.map_or(1, |(_, s)| s);
    match (base, index, scale) {
        (Some(b), None, _) => dynasm!(a ; .arch x64 ; lea r8, [Rq(b) + d]),
        (Some(b), Some(i), 1) => dynasm!(a ; .arch x64 ; lea r8, [Rq(b) + Rq(i) + d]),
        (Some(b), Some(i), 2) => dynasm!(a ; .arch x64 ; lea r8, [Rq(b) + Rq(i) * 2 + d]),
        (Some(b), Some(i), 4) => dynasm!(a ; .arch x64 ; lea r8, [Rq(b) + Rq(i) * 4 + d]),
        (Some(b), Some(i), _) => dynasm!(a ; .arch x64 ; lea r8, [Rq(b) + Rq(i) * 8 + d]),
        (None, Some(i), 1) => dynasm!(a ; .arch x64 ; lea r8, [Rq(i) + d]),
        (None, Some(i), 2) => dynasm!(a ; .arch x64 ; lea r8, [Rq(i) * 2 + d]),
        (None, Some(i), 4) => dynasm!(a ; .arch x64 ; lea r8, [Rq(i) * 4 + d]),
        (None, Some(i), _) => dynasm!(a ; .arch x64 ; lea r8, [Rq(i) * 8 + d]),
        (None, None, _) => return false,
    }
    true
}

/// The out-of-line part of an inline access whose micro slot missed.
pub(crate) struct MicroMiss {
    miss: DynamicLabel,
    done: DynamicLabel,
    slow: DynamicLabel,
    /// Offset of the micro slot in `Ctx`.
    entry: i32,
    /// Offset of the tag compared (read or write) in an entry.
    field: i32,
    /// Bytes accessed.
    size: u32,
    write: bool,
    long64: bool,
}

const ENTRY_SIZE: i32 = core::mem::size_of::<FastEntry>() as i32;
/// The words of an entry's fields (the rest is alignment padding).
const ENTRY_WORDS: i32 = TLB_PAGES / 8 + 1;
const _: () = assert!(TLB_PAGES == 48);

/// Emit the TLB lookups of the micro-slot misses of a block, r8 = the
/// linear address as `fast_address` left it: the exact page check (see
/// `crate::fastmem`) on the TLB entry of the page of the first byte; a
/// hit is copied into the slot. A TLB miss calls `fill` (the fill shim
/// of `exec`), which walks the guest's page tables and enters the page
/// if it is RAM accessible this way, returning the host address (and
/// leaving the entry in the slot), else 0: then the slow form runs the
/// instruction. Nothing else is live at the start of a memory
/// instruction: r9, r10, rax and the argument registers are free, the
/// guest's registers are in the cache (written back around the call).
pub(super) fn emit_micro_misses(a: &mut Asm, fill: u64) {
    let misses = std::mem::take(&mut a.micro_misses);
    for m in misses {
        let (miss, done, slow, entry, field) = (m.miss, m.done, m.slow, m.entry, m.field);
        let tlb_miss = a.new_dynamic_label();
        let last = (m.size - 1) as i32;
        let room = 4096 - m.size as i32;
        dynasm!(a
            ; .arch x64
            ; =>miss
            ; mov r9, r8
            ; shr r9, 6
            ; and r9d, TLB_INDEX_MASK
        );
        if !m.long64 {
            // lin < 2^32: one unsigned comparison.
            dynasm!(a
                ; .arch x64
                ; mov r10, r8
                ; sub r10, [r13 + r9 + CX_TLB + field]
                ; cmp r10, room
                ; ja =>tlb_miss
            );
        } else {
            // The page of the last byte must be the page of the first (no
            // carry out of bit 63 either: an access that wraps at 2^64 is
            // split by the slow path) and equal the tag; only canonical
            // pages have tags, so every byte is canonical.
            if last == 0 {
                dynasm!(a ; .arch x64 ; mov r10, r8 ; and r10, -4096);
            } else {
                dynasm!(a
                    ; .arch x64
                    ; mov r10, r8
                    ; add r10, last
                    ; jc =>slow
                    ; and r10, -4096
                    ; cmp r8, r10
                    ; jb =>slow
                );
            }
            dynasm!(a
                ; .arch x64
                ; cmp r10, [r13 + r9 + CX_TLB + field]
                ; jne =>tlb_miss
            );
        }
        for w in 0..ENTRY_WORDS {
            let o = w * 8;
            dynasm!(a
                ; .arch x64
                ; mov rax, [r13 + r9 + CX_TLB + o]
                ; mov [r13 + entry + o], rax
            );
        }
        dynasm!(a
            ; .arch x64
            ; add r8, [r13 + entry + TLB_ADDEND]
            ; jmp =>done
            ; =>tlb_miss
        );
        let size_write = m.size as i32 | if m.write { 0x100 } else { 0 };
        let slot = (entry - CX_MICRO) / ENTRY_SIZE;
        let fill = fill as i64;
        flush_cache(a);
        dynasm!(a
            ; .arch x64
            ; mov rdi, r13
            ; mov rsi, r8
            ; mov edx, size_write
            ; mov ecx, slot
            ; mov rax, QWORD fill
            ; call rax
            ; mov r8, rax
        );
        reload_cache(a);
        dynasm!(a
            ; .arch x64
            ; test r8, r8
            ; jnz =>done
            ; jmp =>slow
        );
    }
}

pub(super) use crate::fastmem::micro_slot;

/// rcx (`to_rcx`) or rax := the `size` bytes at [r8], zero-extended.
pub(super) fn load_host(a: &mut Asm, size: u32, to_rcx: bool) {
    match (size, to_rcx) {
        (1, true) => dynasm!(a ; .arch x64 ; movzx ecx, BYTE [r8]),
        (2, true) => dynasm!(a ; .arch x64 ; movzx ecx, WORD [r8]),
        (4, true) => dynasm!(a ; .arch x64 ; mov ecx, [r8]),
        (_, true) => dynasm!(a ; .arch x64 ; mov rcx, [r8]),
        (1, false) => dynasm!(a ; .arch x64 ; movzx eax, BYTE [r8]),
        (2, false) => dynasm!(a ; .arch x64 ; movzx eax, WORD [r8]),
        (4, false) => dynasm!(a ; .arch x64 ; mov eax, [r8]),
        (_, false) => dynasm!(a ; .arch x64 ; mov rax, [r8]),
    }
}

/// The `size` low bytes of rcx (`from_rcx`) or rax := [r8].
pub(super) fn store_host(a: &mut Asm, size: u32, from_rcx: bool) {
    match (size, from_rcx) {
        (1, true) => dynasm!(a ; .arch x64 ; mov [r8], cl),
        (2, true) => dynasm!(a ; .arch x64 ; mov [r8], cx),
        (4, true) => dynasm!(a ; .arch x64 ; mov [r8], ecx),
        (_, true) => dynasm!(a ; .arch x64 ; mov [r8], rcx),
        (1, false) => dynasm!(a ; .arch x64 ; mov [r8], al),
        (2, false) => dynasm!(a ; .arch x64 ; mov [r8], ax),
        (4, false) => dynasm!(a ; .arch x64 ; mov [r8], eax),
        (_, false) => dynasm!(a ; .arch x64 ; mov [r8], rax),
    }
}

/// state.rip = the instruction; call `helper` (rdi = ctx and the other
/// arguments already set up by `args`); leave the block if it returns
/// nonzero.
pub(super) fn helper_call(a: &mut Asm, ictx: &InsCtx<'_>, helper: u64) {
    let ip = ictx.ip as i64;
    let h = helper as i64;
    let common = ictx.addrs.exit_common as i64;
    flush_cache(a);
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
    reload_cache(a);
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

/// rSP += `delta` within a stack of `width` bytes (the bits above the
/// stack width are kept, as `Cpu::set_sp`). Clobbers rax and the host
/// flags.
pub(super) fn adjust_sp(a: &mut Asm, delta: i32, width: u32) {
    match (a.cache.host(RSP), width) {
        (Some(h), 8) => dynasm!(a ; .arch x64 ; add Rq(h), delta),
        (Some(h), 4) => dynasm!(a
            ; .arch x64
            ; mov eax, Rd(h)
            ; add eax, delta
            ; shr Rq(h), 32
            ; shl Rq(h), 32
            ; or Rq(h), rax
        ),
        (Some(h), _) => dynasm!(a ; .arch x64 ; add Rw(h), delta as i16),
        (None, 8) => {
            let o = RSP.off();
            dynasm!(a ; .arch x64 ; add QWORD [rbx + o], delta);
        }
        (None, 4) => {
            let o = RSP.off();
            dynasm!(a ; .arch x64 ; add DWORD [rbx + o], delta);
        }
        (None, _) => {
            let o = RSP.off();
            dynasm!(a ; .arch x64 ; add WORD [rbx + o], delta as i16);
        }
    }
}

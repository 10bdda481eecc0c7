//! The state behind the inline memory fast path of generated code: a
//! host-address TLB and one window per segment register. Both live in the
//! `Ctx` block (r13) where generated code reads them; this module fills
//! and invalidates them, in safe code.
//!
//! The fast path (emitted by `emit::memory`, pseudo-code):
//!
//! ```text
//! ea  = base + index * scale + disp, truncated to the address size
//! if not 64-bit mode:                                  // SDM Vol. 3 §5.3
//!     if ea + size - 1 >= window[seg].read_end (write_end): goto slow
//!     lin = (window[seg].base + ea) mod 2^32
//! else:
//!     lin = ea (+ FS/GS base)                          // §3.4.4
//! e = micro[slot of this instruction]                  // a constant address
//! if e.read_tag <= lin <= e.read_hi (write_tag, write_hi): goto hit
//!                    // hi = tag + 4096 - 16 (0 in an empty entry): every
//!                    // byte of an access of at most 16 on the tag's page
//! miss (out of line): the exact page check, on the TLB entry of the page:
//!     if not 64-bit mode:                              // lin < 2^32
//!         ok(e) = lin - e.tag <= 4096 - size           // unsigned, mod 2^64
//!     else:
//!         last = lin + size - 1; if it carried out of bit 63: goto slow
//!         if lin < (last & ~4095): goto slow           // crosses a page
//!         ok(e) = e.tag == (last & ~4095)
//!     e = tlb[(lin >> 12) mod FAST_ENTRIES]
//!     if not ok(e) for e.read_tag (write_tag): goto slow
//!     copy e into the slot
//! hit:
//! host = lin + e.addend                                // a RAM (or ROM) byte
//! slow: the interpreter's access (`Cpu::read_op` / `write_op`), then `fill`
//! ```
//!
//! Invariants that make the fast path equal to the interpreter's access:
//! - A window is non-empty only when `Cpu::linearize` would accept every
//!   offset below its end for that access kind (usable, expand-up,
//!   readable / writable); anything else (expand-down, null selectors,
//!   code segments) has an empty window and takes the slow path.
//! - An entry is filled only after the interpreter made the same access
//!   (same kind, same privilege) through its own TLB, so the page is
//!   present with the needed permissions and its A (and for writes D) bit
//!   is set; it is flushed whenever the interpreter's TLB drops anything
//!   (`Tlb::generation`) or CR0/CR3/CR4/EFER/CPL or alignment checking
//!   change (`FastKey`). Canonical-address checks need no code: only
//!   canonical pages are ever filled, and an access is taken inline only
//!   when its first and last byte lie on the entry's page, so every byte
//!   is canonical.
//! - Which entry an access uses (the instruction's micro slot, or the TLB
//!   entry of its page) decides nothing: either check proves that every
//!   byte lies on the page the entry maps. A micro slot is chosen by a
//!   hash of the instruction's address, so instructions of any access
//!   size may share one: its bound `hi` is that of the largest inline
//!   access (16 bytes), whatever instruction filled it, and an access in
//!   the last bytes of a page that a smaller size would allow simply takes
//!   the exact check out of line. (Comparing a tag with the page of the
//!   last byte alone would not do: a micro slot can hold the page after
//!   the one the access starts on.)
//! - Micro entries are copies of TLB entries and are dropped whenever the
//!   TLB is flushed; `forget_code_page` clears write tags in both.
//! - Write tags never point at a page holding translated code (the
//!   `JitBus` refuses such pages, and `forget_code_page` clears the write
//!   tags of a page when a block is translated from it), so every write
//!   to code still passes `JitBus::write_phys` and invalidates it.
//! - With alignment checking active (CR0.AM, RFLAGS.AC, CPL 3) nothing is
//!   filled: #AC is the slow path's business. Data breakpoints never
//!   matter: blocks do not run while DR7 enables any.

use cpu_model::mmu::{Access, AccessKind};
use cpu_model::state::{attr, cr0, CpuMode, SegReg, Segment};
use cpu_model::{flags, Bus, Cpu, PhysAddr};
use iced_x86::Instruction;

/// Entries of the host-address TLB (direct-mapped by linear page number).
pub const FAST_ENTRIES: usize = 256;
/// Per-instruction copies of TLB entries ("micro" entries), indexed by a
/// hash of the instruction's address: the inline path compares the slot
/// of its own instruction first, whose address is a constant, so the
/// addend load does not wait for the index computation.
pub const MICRO_ENTRIES: usize = 1024;
/// The tag of an empty entry (or of a page not writable through it). It
/// must never pass either form of the page check (`emit::memory`):
/// - 64-bit mode compares the page of the access with the tag for
///   equality: a page address is 4 KiB-aligned, this tag is not;
/// - elsewhere the check is `lin - tag <= 4096 - size` (unsigned, mod
///   2^64) with `lin < 2^32`: here `lin - tag = lin + 0x1fff >= 8191`;
/// - a micro slot's check is `tag <= lin <= hi`, and an empty entry's
///   `hi` is 0.
pub const INVALID_TAG: u64 = 0u64.wrapping_sub(0x1fff);
const _: () = assert!(INVALID_TAG & 0xfff != 0 && INVALID_TAG.wrapping_neg() > 4096);

/// The most 4 KiB pages a streaming micro slot spans (2 MiB).
pub const MAX_STREAM_PAGES: u64 = 512;

/// The largest inline access (an m128).
pub const MAX_INLINE_ACCESS: u64 = 16;

/// One host-address TLB entry (64 bytes: a cache line).
#[repr(C, align(64))]
#[derive(Clone, Copy, Debug)]
pub struct FastEntry {
    /// Linear page address readable through `addend`, or `INVALID_TAG`.
    pub read_tag: u64,
    /// Linear page address writable through `addend`, or `INVALID_TAG`.
    pub write_tag: u64,
    /// Host address of the page minus its linear address.
    pub addend: u64,
    /// Physical page number the entry maps.
    pub phys_page: u64,
    /// The last linear address at which an access of up to
    /// `MAX_INLINE_ACCESS` bytes lies on the `read_tag` page
    /// (`read_tag + 4096 - 16`), or 0 when `read_tag` is invalid: the
    /// micro slot's check is `read_tag <= lin <= read_hi`, which an empty
    /// entry (`INVALID_TAG` > 0) never passes.
    pub read_hi: u64,
    /// The same for `write_tag`.
    pub write_hi: u64,
    /// The 4 KiB pages the entry spans from `read_tag` / `write_tag`
    /// (physical pages `phys_page..phys_page + pages`): 1 in the TLB; a
    /// micro slot that streams through a large page may span more
    /// (`FastMem::stream_range`).
    pub pages: u64,
}

/// `hi` of a valid tag (see `FastEntry::read_hi`).
pub fn hi_of(tag: u64) -> u64 {
    tag + (4096 - MAX_INLINE_ACCESS)
}

const EMPTY: FastEntry = FastEntry {
    read_tag: INVALID_TAG,
    write_tag: INVALID_TAG,
    addend: 0,
    phys_page: u64::MAX,
    read_hi: 0,
    write_hi: 0,
    pages: 1,
};

/// The micro-TLB slot of the memory access of the instruction at `ip`.
pub fn micro_slot(ip: u64) -> usize {
    ((ip ^ (ip >> 10) ^ (ip >> 20)) as usize) % MICRO_ENTRIES
}

/// Entries of the return cache (`FastMem::returns`).
pub const RETURN_ENTRIES: usize = 1024;

/// A return-cache entry: a guest RIP and the host entry of its block.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ReturnEntry {
    /// Guest RIP, or `NO_RIP`.
    pub rip: u64,
    /// Host address of the block's code.
    pub entry: u64,
    /// The block's id (to forget it when the block goes).
    pub block: u64,
    _pad: u64,
}

/// A RIP no branch can reach (not canonical).
pub const NO_RIP: u64 = u64::MAX;

const NO_RETURN: ReturnEntry = ReturnEntry {
    rip: NO_RIP,
    entry: 0,
    block: 0,
    _pad: 0,
};

/// The return-cache slot of a RIP; generated code computes the same:
/// ((rip >> 10) ^ rip) mod RETURN_ENTRIES.
pub fn return_slot(rip: u64) -> usize {
    (((rip >> 10) ^ rip) as usize) & (RETURN_ENTRIES - 1)
}

/// The offsets of a segment the fast path may use without checks.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegWindow {
    pub base: u64,
    /// An access whose last byte is at an offset below this may read.
    pub read_end: u64,
    /// An access whose last byte is at an offset below this may write.
    pub write_end: u64,
}

/// Everything a filled entry depends on besides the interpreter's TLB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct FastKey {
    generation: u64,
    cr0: u64,
    cr3: u64,
    cr4: u64,
    efer: u64,
    cpl: u8,
    alignment_checks: bool,
    /// CS (base, limit, mode bits): the return cache maps RIPs of this CS.
    cs: Segment,
    /// What SIMD translations assumed: the return cache must not jump
    /// into a block translated under another (MXCSR masks change without
    /// changing anything else here).
    simd: crate::emit::SimdEnv,
}

impl FastKey {
    fn of(cpu: &Cpu) -> FastKey {
        let s = &cpu.state;
        FastKey {
            generation: cpu.tlb.generation(),
            cr0: s.cr0,
            cr3: s.cr3,
            cr4: s.cr4,
            efer: s.efer,
            cpl: s.cpl(),
            alignment_checks: s.cr0 & cr0::AM != 0 && s.rflags & flags::AC != 0 && s.cpl() == 3,
            cs: *s.cs(),
            simd: crate::emit::SimdEnv::of(cpu),
        }
    }
}

/// The memory operand of an instruction as addressed before it runs (an
/// instruction may change its own base register).
#[derive(Clone, Copy, Debug)]
pub struct Operand {
    seg: SegReg,
    offset: u64,
    size: u32,
    /// The operand is the destination (written).
    write: bool,
}

impl Operand {
    pub fn of(cpu: &Cpu, ins: &Instruction) -> Operand {
        Operand {
            seg: Cpu::mem_segment(ins),
            offset: cpu.effective_address(ins),
            size: ins.memory_size().size() as u32,
            // (An x87 load or compare has its memory operand first too.)
            write: ins.op0_kind() == iced_x86::OpKind::Memory
                && !crate::emit::x87_reads_memory_only(ins),
        }
    }
}

/// Segment windows and the host-address TLB (inside `Ctx`).
#[repr(C)]
#[derive(Debug)]
pub struct FastMem {
    /// Indexed by `SegReg as usize`.
    pub seg: [SegWindow; 6],
    pub tlb: [FastEntry; FAST_ENTRIES],
    /// Copies of `tlb` entries made by generated code (see
    /// `MICRO_ENTRIES`); invalidated together with `tlb`.
    pub micro: [FastEntry; MICRO_ENTRIES],
    /// Guest RIP -> host block entry for native RET (an indirect branch):
    /// a hit jumps straight into the block. Valid under the `FastKey` it
    /// was filled in (paging, CPL, CS), so flushed with the TLB; an entry
    /// is dropped when its block goes (`forget_block`).
    pub returns: [ReturnEntry; RETURN_ENTRIES],
    /// Bytes of the stack pointer (2, 4 or 8: SS.B, 64-bit mode), which
    /// inline PUSH/POP outside 64-bit mode check.
    pub stack_size: u64,
    /// The state the entries were filled under; None: nothing filled yet.
    key: Option<FastKey>,
}

impl Default for FastMem {
    fn default() -> Self {
        FastMem {
            seg: [SegWindow::default(); 6],
            tlb: [EMPTY; FAST_ENTRIES],
            micro: [EMPTY; MICRO_ENTRIES],
            returns: [NO_RETURN; RETURN_ENTRIES],
            stack_size: 0,
            key: None,
        }
    }
}

/// The window of one segment for the current mode (see the module
/// comment): `Cpu::linearize`'s checks, precomputed.
fn window(cpu: &Cpu, seg: SegReg) -> SegWindow {
    let st = &cpu.state;
    let s = st.segment(seg);
    let checks_types = st.protected() && !st.v86();
    let code = s.attrs & attr::CODE != 0;
    let rw = s.attrs & attr::RW != 0;
    let expand_down = s.attrs & (attr::CODE | attr::DC) == attr::DC;
    // Outside protected mode there are no type checks: any segment reads
    // and writes within its limit.
    let (usable, readable, writable) = if checks_types {
        (!s.unusable(), !code || rw, !code && rw)
    } else {
        (true, true, true)
    };
    let usable = usable && !expand_down;
    let (readable, writable) = (usable && readable, usable && writable);
    let end = u64::from(s.limit) + 1;
    SegWindow {
        base: s.base,
        read_end: if readable { end } else { 0 },
        write_end: if writable { end } else { 0 },
    }
}

impl FastMem {
    /// Drop every host address (a new run: the bus may have changed). The
    /// return cache holds no host data addresses and stays.
    pub fn flush_host_addresses(&mut self) {
        self.tlb = [EMPTY; FAST_ENTRIES];
        self.micro = [EMPTY; MICRO_ENTRIES];
    }

    /// Drop everything.
    pub fn flush(&mut self) {
        self.tlb = [EMPTY; FAST_ENTRIES];
        self.micro = [EMPTY; MICRO_ENTRIES];
        self.returns = [NO_RETURN; RETURN_ENTRIES];
        self.key = None;
    }

    /// Bring the windows and entries up to date with the CPU state; called
    /// before generated code is entered and after every monitor call that
    /// lets the block go on.
    pub fn sync(&mut self, cpu: &Cpu) {
        for seg in SegReg::ALL {
            self.seg[seg as usize] = window(cpu, seg);
        }
        self.stack_size = u64::from(cpu.state.stack_size());
        let key = FastKey::of(cpu);
        if self.key != Some(key) {
            self.tlb = [EMPTY; FAST_ENTRIES];
            self.micro = [EMPTY; MICRO_ENTRIES];
            self.returns = [NO_RETURN; RETURN_ENTRIES];
            self.key = Some(key);
        }
    }

    /// After the interpreter's PUSH (`push`) or POP of `size` bytes: enter
    /// the page of the stack slot it accessed.
    pub fn fill_stack(&mut self, cpu: &mut Cpu, bus: &mut dyn Bus, push: bool, size: u32) {
        let width = cpu.state.stack_size();
        let sp = cpu.state.gpr[4] & flags::mask(width);
        // After a push RSP is the slot; after a pop the slot is below it.
        let slot = if push {
            sp
        } else {
            sp.wrapping_sub(u64::from(size)) & flags::mask(width)
        };
        self.fill_at(cpu, bus, SegReg::Ss, slot, size, push);
    }

    /// After the interpreter made the memory access of operand `op` of
    /// `ins` (reading, or writing when `write`) without a fault: enter its
    /// page so the next access takes the fast path.
    pub fn fill(&mut self, cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction, write: bool) {
        let size = ins.memory_size().size() as u32;
        let ea = cpu.effective_address(ins);
        let filled = self.fill_at(cpu, bus, Cpu::mem_segment(ins), ea, size, write);
        self.fill_micro(filled, ins.ip());
    }

    /// The instruction at `ip` just had TLB entry `filled` entered for it:
    /// its micro slot gets a copy too, so that another access whose page
    /// maps to the same TLB entry (two arrays a multiple of 1 MiB apart,
    /// walked in step) cannot evict it before the instruction runs again.
    fn fill_micro(&mut self, filled: Option<usize>, ip: u64) {
        if let Some(i) = filled {
            self.micro[micro_slot(ip)] = self.tlb[i];
        }
    }

    /// After the interpreter ran the instruction whose memory operand was
    /// `op` without a fault: enter the operand's page.
    pub fn fill_operand(&mut self, cpu: &mut Cpu, bus: &mut dyn Bus, op: Operand, ip: u64) {
        let filled = self.fill_at(cpu, bus, op.seg, op.offset, op.size, op.write);
        self.fill_micro(filled, ip);
    }

    /// Enter the page of `seg:offset` after the interpreter accessed
    /// `size` bytes there (reading, or writing when `write`).
    fn fill_at(
        &mut self,
        cpu: &mut Cpu,
        bus: &mut dyn Bus,
        seg: SegReg,
        offset: u64,
        size: u32,
        write: bool,
    ) -> Option<usize> {
        let kind = if write {
            AccessKind::Write
        } else {
            AccessKind::Read
        };
        let lin = cpu.linearize(seg, offset, size, kind).ok()?;
        self.fill_linear_entry(cpu, bus, lin, size, write)
    }

    /// The miss path of generated code (`emit::memory`): the access of
    /// `size` bytes at linear address `lin` (its segment checks already
    /// passed inline) found no entry. Enter its page as the interpreter
    /// would map it for this access, and copy the entry into micro slot
    /// `slot`; the host address of the access, or None when the access
    /// must take the slow path (a page that is not present or not
    /// accessible this way, a non-canonical address, a page crossing, a
    /// page that is not RAM). The page walk sets the accessed (and for a
    /// write the dirty) bit, as the access that follows would.
    pub fn fill_for_access(
        &mut self,
        cpu: &mut Cpu,
        bus: &mut dyn Bus,
        lin: u64,
        size: u32,
        write: bool,
        slot: usize,
    ) -> Option<u64> {
        if cpu.state.mode() == CpuMode::Long64 && !cpu_model::mmu::paging::is_canonical(lin) {
            return None;
        }
        let index = self.fill_linear_entry(cpu, bus, lin, size, write)?;
        let slot = slot % MICRO_ENTRIES;
        let mut e = self.tlb[index];
        self.stream_range(cpu, bus, &mut e, &self.micro[slot].clone(), write);
        self.micro[slot] = e;
        Some(lin.wrapping_add(e.addend))
    }

    /// A micro slot that streams through memory (the access that missed
    /// lies on the page right after the range the slot held, which began
    /// in the same mapping) gets a range twice as long as before, up to
    /// `MAX_STREAM_PAGES`, instead of one page: a loop that walks an array
    /// then calls into Rust about log2 times per large page instead of
    /// once per 4 KiB page. `e` is the TLB entry just filled for the page
    /// (so the interpreter made this access there, its A/D bits are set);
    /// the range only covers pages of the same mapping page (a large page,
    /// or any address without paging), where permissions and A/D bits are
    /// those of that one page, that the bus maps to consecutive host pages
    /// for this kind of access (never MMIO, never, for writes, a page that
    /// holds translated code: `JitBus::host_page` refuses those, and
    /// `forget_code_page` clears write ranges over a page that becomes
    /// code later). The interpreter's TLB drops nothing without the whole
    /// host-address TLB being dropped too (`Tlb::generation`).
    fn stream_range(
        &self,
        cpu: &Cpu,
        bus: &mut dyn Bus,
        e: &mut FastEntry,
        prev: &FastEntry,
        write: bool,
    ) {
        let (tag, prev_tag, prev_hi) = if write {
            (e.write_tag, prev.write_tag, prev.write_hi)
        } else {
            (e.read_tag, prev.read_tag, prev.read_hi)
        };
        if tag == INVALID_TAG || prev_hi == 0 || prev_hi.wrapping_add(MAX_INLINE_ACCESS) != tag {
            return;
        }
        // The mapping page holding `tag` (first and last byte); the range
        // the slot held must have begun in it.
        let (base, last) = if cpu.state.paging() {
            match cpu.tlb.lookup(tag) {
                Some(t) if t.page_mask > 0xfff => (tag & !t.page_mask, tag | t.page_mask),
                _ => return,
            }
        } else {
            (0, 0xffff_ffff)
        };
        if prev_tag < base || prev_tag >= tag {
            return;
        }
        let want = (prev.pages.saturating_mul(2)).min(MAX_STREAM_PAGES);
        let room = ((last - tag) >> 12) + 1;
        let host0 = tag.wrapping_add(e.addend);
        let mut pages = 1;
        while pages < want.min(room) {
            let phys = PhysAddr((e.phys_page + pages) << 12);
            match bus.host_page(phys, write) {
                Some(h) if h.as_ptr() as u64 == host0.wrapping_add(pages << 12) => pages += 1,
                _ => break,
            }
        }
        if pages == 1 {
            return;
        }
        let hi = tag + (pages << 12) - MAX_INLINE_ACCESS;
        e.pages = pages;
        e.read_tag = tag;
        e.read_hi = hi;
        // (A read range keeps the entry's write tag, if any, to its one
        // page.)
        if write {
            e.write_tag = tag;
            e.write_hi = hi;
        }
    }

    /// Enter the page of linear address `lin` for an access of `size`
    /// bytes; the index of the entry, if any.
    fn fill_linear_entry(
        &mut self,
        cpu: &mut Cpu,
        bus: &mut dyn Bus,
        lin: u64,
        size: u32,
        write: bool,
    ) -> Option<usize> {
        let key = FastKey::of(cpu);
        // (10: an x87 m80.)
        if self.key != Some(key) || key.alignment_checks || !matches!(size, 1 | 2 | 4 | 8 | 10 | 16)
        {
            return None;
        }
        let size = u64::from(size);
        let kind = if write {
            AccessKind::Write
        } else {
            AccessKind::Read
        };
        if cpu.state.mode() != CpuMode::Long64 && lin > 0xffff_ffff {
            return None;
        }
        if (lin & 0xfff) + size > 0x1000 {
            return None;
        }
        let access = Access {
            kind,
            user: cpu.user_access(),
        };
        let Ok(phys) = cpu.translate(bus, lin, access) else {
            return None;
        };
        let page = lin & !0xfff;
        let host = bus.host_page(PhysAddr(phys.0 & !0xfff), write)?;
        let index = ((lin >> 12) as usize) & (FAST_ENTRIES - 1);
        let e = &mut self.tlb[index];
        let same = (e.read_tag == page || e.write_tag == page) && e.phys_page == phys.0 >> 12;
        if !same {
            *e = EMPTY;
        }
        e.addend = (host.as_ptr() as u64).wrapping_sub(page);
        e.phys_page = phys.0 >> 12;
        e.read_tag = page;
        e.read_hi = hi_of(page);
        if write {
            e.write_tag = page;
            e.write_hi = hi_of(page);
        }
        Some(index)
    }

    /// The block `block` at guest `rip` (host code at `entry`) was just
    /// entered by the dispatcher under the current state: a native RET to
    /// `rip` may jump straight there. Only while the state matches the
    /// last `sync` (else the next sync would drop it anyway).
    pub fn remember_return_target(&mut self, cpu: &Cpu, rip: u64, entry: u64, block: u64) {
        if self.key == Some(FastKey::of(cpu)) {
            self.returns[return_slot(rip)] = ReturnEntry {
                rip,
                entry,
                block,
                _pad: 0,
            };
        }
    }

    /// Block `block`, whose guest RIP is `rip`, is being removed.
    pub fn forget_block(&mut self, rip: u64, block: u64) {
        let e = &mut self.returns[return_slot(rip)];
        if e.rip == rip && e.block == block {
            *e = NO_RETURN;
        }
    }

    /// A block was translated from physical page `phys_page`: writes to it
    /// must go through the bus from now on.
    pub fn forget_code_page(&mut self, phys_page: u64) {
        for e in self
            .tlb
            .iter_mut()
            .chain(self.micro.iter_mut())
            .filter(|e| phys_page.wrapping_sub(e.phys_page) < e.pages)
        {
            e.write_tag = INVALID_TAG;
            e.write_hi = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpu_model::memory::FlatBus;
    use cpu_model::state::Segment;

    fn prot32() -> Cpu {
        let mut cpu = Cpu::new();
        cpu.state.cr0 |= cr0::PE;
        for s in SegReg::ALL {
            *cpu.state.segment_mut(s) = Segment {
                base: 0,
                limit: 0xffff_ffff,
                selector: 0x10,
                attrs: attr::P | attr::S | attr::RW | attr::DB | attr::G,
            };
        }
        cpu
    }

    #[test]
    fn windows_follow_linearize() {
        let mut cpu = prot32();
        cpu.state.segment_mut(SegReg::Es).attrs |= attr::DC; // expand-down
        cpu.state.segment_mut(SegReg::Fs).attrs &= !attr::RW; // read-only
        cpu.state.segment_mut(SegReg::Gs).attrs = 0; // null selector
        let mut f = FastMem::default();
        f.sync(&cpu);
        let w = |s: SegReg| f.seg[s as usize];
        assert_eq!(w(SegReg::Ds).read_end, 1 << 32);
        assert_eq!(w(SegReg::Ds).write_end, 1 << 32);
        assert_eq!(w(SegReg::Es).read_end, 0);
        assert_eq!(w(SegReg::Fs).write_end, 0);
        assert_eq!(w(SegReg::Fs).read_end, 1 << 32);
        assert_eq!(w(SegReg::Gs).read_end, 0);
    }

    #[test]
    fn fill_needs_a_current_key_and_a_host_page() {
        let mut cpu = prot32();
        let mut bus = FlatBus::new(0x10000);
        let ins = iced_x86::Decoder::with_ip(32, &[0x8b, 0x03], 0, 0).decode(); // mov eax,[ebx]
        cpu.state.gpr[3] = 0x2345;
        let mut f = FastMem::default();
        f.fill(&mut cpu, &mut bus, &ins, false);
        assert_eq!(f.tlb[2].read_tag, INVALID_TAG, "no sync yet");
        f.sync(&cpu);
        f.fill(&mut cpu, &mut bus, &ins, false);
        let e = f.tlb[2];
        assert_eq!(e.read_tag, 0x2000);
        assert_eq!(e.write_tag, INVALID_TAG);
        assert_eq!(
            e.addend.wrapping_add(0x2000),
            bus.ram.as_ptr().wrapping_add(0x2000) as u64
        );
        f.fill(&mut cpu, &mut bus, &ins, true);
        assert_eq!(f.tlb[2].write_tag, 0x2000);
        assert_eq!((f.tlb[2].read_hi, f.tlb[2].write_hi), (0x2ff0, 0x2ff0));
        f.forget_code_page(2);
        assert_eq!(f.tlb[2].write_tag, INVALID_TAG);
        assert_eq!(f.tlb[2].write_hi, 0);
        assert_eq!(f.tlb[2].read_tag, 0x2000);
        // Beyond the bus: no host page, nothing filled.
        cpu.state.gpr[3] = 0x10_0000;
        f.fill(&mut cpu, &mut bus, &ins, false);
        assert_eq!(f.tlb[0].read_tag, INVALID_TAG);
        // A TLB flush invalidates everything at the next sync.
        cpu.tlb.flush_all();
        f.sync(&cpu);
        assert_eq!(f.tlb[2].read_tag, INVALID_TAG);
    }

    /// The miss path's fill: the host address of the access and the
    /// entry in the TLB and the micro slot; nothing for a page crossing,
    /// a page beyond the bus, an address beyond 4 GiB outside 64-bit mode
    /// or a stale key.
    #[test]
    fn fill_for_access_enters_the_page_or_declines() {
        let mut cpu = prot32();
        let mut bus = FlatBus::new(0x10000);
        let mut f = FastMem::default();
        assert_eq!(
            f.fill_for_access(&mut cpu, &mut bus, 0x2345, 4, true, 7),
            None
        );
        f.sync(&cpu);
        let host = f.fill_for_access(&mut cpu, &mut bus, 0x2345, 4, true, 7);
        assert_eq!(host, Some(bus.ram.as_ptr().wrapping_add(0x2345) as u64));
        let m = f.micro[7];
        assert_eq!(
            (m.read_tag, m.write_tag, m.read_hi),
            (0x2000, 0x2000, 0x2ff0)
        );
        assert_eq!(m.addend, f.tlb[2].addend);
        assert_eq!(
            f.fill_for_access(&mut cpu, &mut bus, 0x2ffe, 4, false, 7),
            None
        );
        assert!(f
            .fill_for_access(&mut cpu, &mut bus, 0x2ff0, 16, false, 8)
            .is_some());
        assert_eq!(
            f.fill_for_access(&mut cpu, &mut bus, 0x10_0000, 1, false, 7),
            None
        );
        assert_eq!(
            f.fill_for_access(&mut cpu, &mut bus, 1 << 32, 1, false, 7),
            None
        );
        cpu.tlb.flush_all();
        assert_eq!(
            f.fill_for_access(&mut cpu, &mut bus, 0x2345, 4, false, 7),
            None
        );
    }

    /// Return-cache entries point only at live blocks of the current
    /// state: dropped with their block and by any TLB flush.
    #[test]
    fn return_entries_go_with_their_block_and_with_the_tlb() {
        let mut cpu = prot32();
        let mut f = FastMem::default();
        f.sync(&cpu);
        f.remember_return_target(&cpu, 0x1234, 0xdead_0000, 7);
        let slot = return_slot(0x1234);
        assert_eq!(f.returns[slot].entry, 0xdead_0000);
        f.forget_block(0x1234, 8); // another block: kept
        assert_eq!(f.returns[slot].rip, 0x1234);
        f.forget_block(0x1234, 7);
        assert_eq!(f.returns[slot].rip, NO_RIP);
        f.remember_return_target(&cpu, 0x1234, 0xdead_0000, 7);
        cpu.tlb.flush_nonglobal(false); // MOV CR3, same value
        f.sync(&cpu);
        assert_eq!(f.returns[slot].rip, NO_RIP);
        // Not remembered under a state the last sync did not see.
        cpu.tlb.flush_page(0);
        f.remember_return_target(&cpu, 0x1234, 0xdead_0000, 7);
        assert_eq!(f.returns[slot].rip, NO_RIP);
    }
}

#[cfg(test)]
#[path = "fastmem_stream_tests.rs"]
mod stream_tests;

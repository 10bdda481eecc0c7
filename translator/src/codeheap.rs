//! Executable memory for translated blocks: a few large chunks, each one
//! memory file mapped twice, once read+write (where the dispatcher copies
//! a block in) and once read+execute (where generated code runs). No
//! mapping is ever both writable and executable, and adding a block costs
//! a copy, not two protection changes of the whole chunk (which, with the
//! TLB shootdowns they cause, dominated the translation of small blocks).
//! First-fit allocation with coalescing frees lets LRU eviction reuse
//! space; one mapping per block would run into the kernel's mapping-count
//! limit.
//!
//! The two views are distinct linear addresses of the same memory, so a
//! block written through one and run through the other is cross-modifying
//! code (SDM Vol. 3 §9.1.3): a serializing instruction (IRETQ) runs after
//! every copy, before the block can be entered.

use memmap2::{Mmap, MmapMut, MmapOptions};
use std::fs::File;

/// Granule of code-heap allocations.
const GRANULE: usize = 64;

/// A block's code in the [`CodeHeap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodeRef {
    chunk: usize,
    off: usize,
    /// Allocated length (a multiple of `GRANULE`).
    pub len: usize,
    /// Where the code runs (in the executable view).
    pub addr: u64,
}

/// One chunk, registered with the fault reporter as translated code (its
/// executable view) from its creation until it is dropped.
#[derive(Debug)]
struct Chunk {
    /// The writable view.
    rw: MmapMut,
    /// The executable view of the same memory.
    rx: Mmap,
    size: usize,
    /// Free ranges (offset, length), sorted by offset, coalesced.
    free: Vec<(usize, usize)>,
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // (Also forgets the blocks registered inside the chunk.)
        guestmem::fault::unregister_code(self.start());
    }
}

impl Chunk {
    /// Host address of the executable view (it never moves).
    fn start(&self) -> u64 {
        self.rx.as_ptr() as u64
    }

    /// A memory file of `size` bytes (filled with INT3) and its two views.
    fn new(size: usize) -> std::io::Result<Chunk> {
        let fd = rustix::fs::memfd_create("xlat-code", rustix::fs::MemfdFlags::CLOEXEC)?;
        let file = File::from(fd);
        file.set_len(size as u64)?;
        // SAFETY: the file is private to this chunk (an anonymous memory
        // file nobody else holds), sized above, and outlives neither view
        // it is mapped by: both live in the chunk; its writable view is
        // written only by `CodeHeap::alloc` through `&mut self`.
        let mut rw = unsafe { MmapOptions::new().len(size).map_mut(&file)? };
        rw.fill(0xcc);
        // SAFETY: as above; the executable view is only ever executed by
        // generated code and read, never written.
        let rx = unsafe { MmapOptions::new().len(size).map_exec(&file)? };
        guestmem::fault::register_code(rx.as_ptr() as u64, size);
        Ok(Chunk {
            rw,
            rx,
            size,
            free: vec![(0, size)],
        })
    }
}

/// Execute a serializing instruction: IRETQ to the next instruction (as
/// Linux's `iret_to_self` does). CPUID, the usual choice, is intercepted
/// by the hypervisor on a virtual machine and cost a quarter of all
/// translation time there; IRET serializes without leaving the guest.
fn serialize() {
    // SAFETY: builds an interrupt-return frame for the current SS:RSP,
    // RFLAGS and CS:next instruction on the stack and executes IRETQ,
    // which pops exactly that frame: every register, the flags and the
    // stack pointer are as before; only the scratch register changes. The
    // block pushes to the stack (no `nostack`), so the compiler keeps
    // nothing in the red zone across it.
    unsafe {
        core::arch::asm!(
            "mov {tmp:e}, ss",
            "push {tmp}",
            "push rsp",
            "add qword ptr [rsp], 8",
            "pushfq",
            "mov {tmp:e}, cs",
            "push {tmp}",
            "lea {tmp}, [rip + 2f]",
            "push {tmp}",
            "iretq",
            "2:",
            tmp = out(reg) _,
        );
    }
}

/// Executable memory for translated blocks (see the module comment).
#[derive(Debug)]
pub struct CodeHeap {
    chunks: Vec<Chunk>,
    chunk_size: usize,
    /// Bytes of all chunks.
    pub mapped: usize,
}

/// Executable memory could not be had: nothing was allocated.
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
                let chunk = Chunk::new(size).map_err(|_| HeapLost)?;
                self.chunks.push(chunk);
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
        c.rw[off..off + bytes.len()].copy_from_slice(bytes);
        c.rw[off + bytes.len()..off + len].fill(0xcc);
        // Cross-modifying code: serialize before the block can run.
        serialize();
        Ok(CodeRef {
            chunk: ci,
            off,
            len,
            addr: c.start() + off as u64,
        })
    }

    /// Return a block's memory (no generated code may run in it any more).
    pub fn free(&mut self, r: CodeRef) {
        let Some(c) = self.chunks.get_mut(r.chunk) else {
            return;
        };
        // A stale jump into freed code traps instead of running whatever
        // comes next.
        c.rw[r.off..r.off + r.len].fill(0xcc);
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

    /// What is copied in is what the executable view holds, and freed
    /// code is INT3 again.
    #[test]
    fn the_executable_view_shows_what_was_written() {
        let mut h = CodeHeap::new(4096);
        let a = h.alloc(&[0x48, 0x89, 0xf8, 0xc3]).unwrap(); // mov rax,rdi; ret
        let off = (a.addr - h.chunks[0].start()) as usize;
        assert_eq!(
            &h.chunks[0].rx[off..off + 5],
            &[0x48, 0x89, 0xf8, 0xc3, 0xcc]
        );
        h.free(a);
        assert_eq!(&h.chunks[0].rx[off..off + 4], &[0xcc; 4]);
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
        let rt = crate::exec::Runtime::new().unwrap();
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

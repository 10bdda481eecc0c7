//! What a loader produces: the bytes to copy into guest RAM and the
//! processor state to start the kernel with, as plain data for the machine
//! to apply.

use cpu_model::state::{reg, DescriptorTable, Segment};
use cpu_model::{CpuState, SegReg};
use std::borrow::Cow;

/// Bytes for guest RAM at `addr`: `bytes`, then `zero_fill` zero bytes
/// (an ELF segment's BSS, which costs no host memory here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob<'a> {
    /// What it is, for messages ("kernel", "initrd", "boot_params", ...).
    pub name: String,
    pub addr: u64,
    /// Borrowed from the image where the image's bytes go in unchanged.
    pub bytes: Cow<'a, [u8]>,
    pub zero_fill: u64,
}

impl Blob<'_> {
    /// Bytes of guest RAM it covers.
    pub fn len(&self) -> u64 {
        self.bytes.len() as u64 + self.zero_fill
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Which loader made the plan, with what it learned of the kernel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KernelFormat {
    /// A Linux bzImage; `protocol` is the boot protocol version (0x020f
    /// for 2.15).
    BzImage { protocol: u16 },
    /// A Linux ELF vmlinux.
    Vmlinux,
    /// A Multiboot (v1) kernel, ELF or a.out kludge.
    Multiboot { aout_kludge: bool },
}

/// The processor mode the kernel is entered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryMode {
    /// 32-bit protected mode, flat segments, paging off.
    Protected32,
    /// 64-bit mode (IA-32e), identity-mapped paging.
    Long64,
}

/// The processor state to start a kernel with. Everything not named here
/// keeps its RESET value (SDM Vol. 3A §10.1.1): LDTR, TR, the debug
/// registers, the MSRs, the x87/SSE state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntryState {
    pub mode: EntryMode,
    pub rip: u64,
    /// RAX..R15, in encoding order ([`cpu_model::state::reg`]).
    pub gpr: [u64; 16],
    pub rflags: u64,
    pub cr0: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub efer: u64,
    /// CS, with its descriptor cache as loaded from the GDT below.
    pub cs: Segment,
    /// DS, ES, SS, FS and GS (all the same flat data segment).
    pub data: Segment,
    pub gdtr: DescriptorTable,
    /// The IDT: none (limit 0) for every protocol here; the kernel loads its
    /// own before it enables interrupts, and a fault before that shuts the
    /// processor down, as it would on hardware with no IDT.
    pub idtr: DescriptorTable,
    /// The A20 gate must be open (Linux and Multiboot both require it).
    pub a20_enabled: bool,
}

impl EntryState {
    /// Writes this state into `state` (a processor after RESET). The
    /// caller must drop whatever it caches from the old state (the TLB,
    /// translated code keyed on the mode).
    pub fn apply(&self, state: &mut CpuState) {
        state.gpr = self.gpr;
        state.rip = self.rip;
        state.rflags = self.rflags;
        state.cr0 = self.cr0;
        state.cr3 = self.cr3;
        state.cr4 = self.cr4;
        state.efer = self.efer;
        for seg in SegReg::ALL {
            state.seg[seg as usize] = if seg == SegReg::Cs {
                self.cs
            } else {
                self.data
            };
        }
        state.gdtr = self.gdtr;
        state.idtr = self.idtr;
        state.events.halted = false;
        state.events.interrupt_shadow = false;
    }

    pub fn rsi(&self) -> u64 {
        self.gpr[reg::RSI]
    }
}

/// A loader's result: copy every blob into guest RAM (they are disjoint
/// and inside usable RAM), then apply the entry state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BootPlan<'a> {
    pub format: KernelFormat,
    pub blobs: Vec<Blob<'a>>,
    pub entry: EntryState,
}

impl BootPlan<'_> {
    /// The blob named `name`, if any.
    pub fn blob(&self, name: &str) -> Option<&Blob<'_>> {
        self.blobs.iter().find(|b| b.name == name)
    }

    /// The byte the plan puts at `addr` (0 for RAM no blob covers), for
    /// tests and diagnostics.
    pub fn byte_at(&self, addr: u64) -> u8 {
        for b in &self.blobs {
            if addr >= b.addr && addr - b.addr < b.len() {
                let off = addr - b.addr;
                return b.bytes.get(off as usize).copied().unwrap_or(0);
            }
        }
        0
    }
}

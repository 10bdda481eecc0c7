//! Architectural state of one x86 logical processor.
//!
//! `CpuState` is `#[repr(C)]` so translated code can reach every field by
//! `core::mem::offset_of!`. It holds only architectural state (what the SDM
//! defines) plus the pending-event state the run loop needs; caches such as
//! the TLB live beside it in [`crate::Cpu`].

use crate::flags;

/// Index of a general-purpose register in [`CpuState::gpr`], in encoding order.
pub mod reg {
    pub const RAX: usize = 0;
    pub const RCX: usize = 1;
    pub const RDX: usize = 2;
    pub const RBX: usize = 3;
    pub const RSP: usize = 4;
    pub const RBP: usize = 5;
    pub const RSI: usize = 6;
    pub const RDI: usize = 7;
}

/// Segment register index in [`CpuState::seg`], in encoding order (Sreg field).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum SegReg {
    Es = 0,
    Cs = 1,
    Ss = 2,
    Ds = 3,
    Fs = 4,
    Gs = 5,
}

impl SegReg {
    pub const ALL: [SegReg; 6] = [
        SegReg::Es,
        SegReg::Cs,
        SegReg::Ss,
        SegReg::Ds,
        SegReg::Fs,
        SegReg::Gs,
    ];
    pub fn from_index(i: usize) -> Option<SegReg> {
        Self::ALL.get(i).copied()
    }
    pub fn name(self) -> &'static str {
        ["es", "cs", "ss", "ds", "fs", "gs"][self as usize]
    }
}

/// Descriptor attribute bits as packed in [`Segment::attrs`]: the layout of
/// descriptor bytes 5 and 6 (type, S, DPL, P, then AVL, L, D/B, G), the same
/// packing VMX uses for "access rights". SDM Vol. 3 §3.4.5.
pub mod attr {
    pub const TYPE_MASK: u16 = 0x000f;
    /// Data: accessed. Code: accessed.
    pub const ACCESSED: u16 = 0x0001;
    /// Data: writable. Code: readable.
    pub const RW: u16 = 0x0002;
    /// Data: expand-down. Code: conforming.
    pub const DC: u16 = 0x0004;
    /// Code segment (type bit 3) when `S` is set.
    pub const CODE: u16 = 0x0008;
    /// Code/data (1) versus system (0) descriptor.
    pub const S: u16 = 0x0010;
    pub const DPL_SHIFT: u16 = 5;
    pub const DPL_MASK: u16 = 0x0060;
    pub const P: u16 = 0x0080;
    pub const AVL: u16 = 0x1000;
    /// 64-bit code segment.
    pub const L: u16 = 0x2000;
    /// Default operation size (code) / big (stack, expand-down limit).
    pub const DB: u16 = 0x4000;
    /// Granularity (already applied to [`super::Segment::limit`]).
    pub const G: u16 = 0x8000;
}

/// A segment register: the visible selector and its hidden descriptor cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Segment {
    pub base: u64,
    /// Byte-granular limit (granularity already applied).
    pub limit: u32,
    pub selector: u16,
    /// See [`attr`].
    pub attrs: u16,
}

impl Segment {
    /// A real-mode segment: base = selector * 16, 64 KiB limit, data RW.
    pub fn real_mode(selector: u16) -> Segment {
        Segment {
            base: u64::from(selector) << 4,
            limit: 0xffff,
            selector,
            attrs: attr::P | attr::S | attr::RW | attr::ACCESSED,
        }
    }
    pub fn dpl(&self) -> u8 {
        ((self.attrs & attr::DPL_MASK) >> attr::DPL_SHIFT) as u8
    }
    pub fn present(&self) -> bool {
        self.attrs & attr::P != 0
    }
    pub fn is_code(&self) -> bool {
        self.attrs & (attr::S | attr::CODE) == attr::S | attr::CODE
    }
    pub fn is_system(&self) -> bool {
        self.attrs & attr::S == 0
    }
    pub fn long(&self) -> bool {
        self.attrs & attr::L != 0
    }
    pub fn big(&self) -> bool {
        self.attrs & attr::DB != 0
    }
    /// Null (unusable) data segment in protected mode: selector 0..3 loaded.
    pub fn unusable(&self) -> bool {
        self.attrs & attr::P == 0
    }
}

/// GDTR / IDTR.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct DescriptorTable {
    pub base: u64,
    pub limit: u16,
}

/// Control register bits used throughout the model. SDM Vol. 3 §2.5.
pub mod cr0 {
    pub const PE: u64 = 1 << 0;
    pub const MP: u64 = 1 << 1;
    pub const EM: u64 = 1 << 2;
    pub const TS: u64 = 1 << 3;
    pub const ET: u64 = 1 << 4;
    pub const NE: u64 = 1 << 5;
    pub const WP: u64 = 1 << 16;
    pub const AM: u64 = 1 << 18;
    pub const NW: u64 = 1 << 29;
    pub const CD: u64 = 1 << 30;
    pub const PG: u64 = 1 << 31;
}

pub mod cr4 {
    pub const VME: u64 = 1 << 0;
    pub const PVI: u64 = 1 << 1;
    pub const TSD: u64 = 1 << 2;
    pub const DE: u64 = 1 << 3;
    pub const PSE: u64 = 1 << 4;
    pub const PAE: u64 = 1 << 5;
    pub const MCE: u64 = 1 << 6;
    pub const PGE: u64 = 1 << 7;
    pub const PCE: u64 = 1 << 8;
    pub const OSFXSR: u64 = 1 << 9;
    pub const OSXMMEXCPT: u64 = 1 << 10;
    pub const UMIP: u64 = 1 << 11;
    pub const LA57: u64 = 1 << 12;
    pub const FSGSBASE: u64 = 1 << 16;
    pub const PCIDE: u64 = 1 << 17;
    pub const OSXSAVE: u64 = 1 << 18;
    pub const SMEP: u64 = 1 << 20;
    pub const SMAP: u64 = 1 << 21;
}

pub mod efer {
    pub const SCE: u64 = 1 << 0;
    pub const LME: u64 = 1 << 8;
    pub const LMA: u64 = 1 << 10;
    pub const NXE: u64 = 1 << 11;
}

/// The model-specific registers xlat implements (see `interp::msr`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct Msrs {
    pub star: u64,
    pub lstar: u64,
    pub cstar: u64,
    pub sfmask: u64,
    pub kernel_gs_base: u64,
    pub sysenter_cs: u64,
    pub sysenter_esp: u64,
    pub sysenter_eip: u64,
    pub apic_base: u64,
    pub pat: u64,
    pub tsc_aux: u64,
    /// TSC = retired instructions + tsc_offset (a deterministic virtual clock).
    pub tsc_offset: u64,
    pub misc_enable: u64,
    pub mtrr_def_type: u64,
}

/// Events that are pending or blocking between instructions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct EventState {
    /// HLT executed; cleared by an interrupt, NMI or reset.
    pub halted: bool,
    /// Interrupts are blocked for one instruction after STI / MOV SS / POP SS.
    pub interrupt_shadow: bool,
    pub nmi_pending: bool,
    /// An NMI handler is running (until the next IRET).
    pub nmi_blocked: bool,
    /// Debug-trap bits (DR6 B0-B3, BS) raised by the instruction just executed,
    /// delivered as a #DB trap once it retires.
    pub pending_db: u64,
    /// The FERR# output: asserted when a waiting x87 instruction meets a
    /// pending unmasked exception with CR0.NE = 0, deasserted when FSW.ES
    /// is cleared (`Cpu::freeze_on_fpu_error`).
    pub ferr: bool,
}

pub use crate::fxstate::FxState;

/// The signature (CPUID.1:EAX) of the default CPU model, which RESET
/// leaves in EDX (`Cpu::with_model` puts its model's there): family 6,
/// model 0x0f (Core 2-era "Merom"-like), stepping 0xb, a conservative
/// signature that makes no promise about newer extensions.
pub const CPU_SIGNATURE: u32 = 0x0000_06fb;

/// All architectural registers of one processor.
#[derive(Clone, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct CpuState {
    pub gpr: [u64; 16],
    pub rip: u64,
    pub rflags: u64,
    pub seg: [Segment; 6],
    pub ldtr: Segment,
    pub tr: Segment,
    pub gdtr: DescriptorTable,
    pub idtr: DescriptorTable,
    pub cr0: u64,
    pub cr2: u64,
    pub cr3: u64,
    pub cr4: u64,
    pub cr8: u64,
    pub efer: u64,
    pub dr: [u64; 8],
    pub msr: Msrs,
    pub events: EventState,
    /// Instructions retired since reset (drives the virtual TSC).
    pub icount: u64,
    /// x87/MMX/SSE registers, as the FXSAVE image (see `fxstate`).
    pub fx: FxState,
    /// The selector halves of the last x87 instruction and operand
    /// pointers (FCS, FDS), which only the 32-bit FXSAVE/FSAVE formats
    /// store.
    pub fcs: u16,
    pub fds: u16,
    /// XCR0: the state components XSAVE/XRSTOR manage (`xstate`).
    pub xcr0: u64,
}

/// The mode the processor executes code in, derived from CR0.PE, EFER.LMA,
/// RFLAGS.VM and the CS descriptor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CpuMode {
    Real,
    Virtual8086,
    Protected16,
    Protected32,
    Compat16,
    Compat32,
    Long64,
}

impl CpuMode {
    /// Code size in bits (16, 32 or 64).
    pub fn bitness(self) -> u32 {
        match self {
            CpuMode::Real | CpuMode::Virtual8086 | CpuMode::Protected16 | CpuMode::Compat16 => 16,
            CpuMode::Protected32 | CpuMode::Compat32 => 32,
            CpuMode::Long64 => 64,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            CpuMode::Real => "real",
            CpuMode::Virtual8086 => "vm86",
            CpuMode::Protected16 => "prot16",
            CpuMode::Protected32 => "prot32",
            CpuMode::Compat16 => "compat16",
            CpuMode::Compat32 => "compat32",
            CpuMode::Long64 => "long64",
        }
    }
}

impl Default for CpuState {
    fn default() -> Self {
        Self::reset()
    }
}

impl CpuState {
    /// Processor state after RESET. SDM Vol. 3 §10.1.1, Table 10-1.
    pub fn reset() -> CpuState {
        let mut seg = [Segment::real_mode(0); 6];
        seg[SegReg::Cs as usize] = Segment {
            base: 0xffff_0000,
            limit: 0xffff,
            selector: 0xf000,
            attrs: attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED,
        };
        let mut gpr = [0u64; 16];
        gpr[reg::RDX] = u64::from(CPU_SIGNATURE);
        let mut dr = [0u64; 8];
        dr[6] = 0xffff_0ff0;
        dr[7] = 0x0000_0400;
        CpuState {
            gpr,
            rip: 0xfff0,
            rflags: flags::FIXED,
            seg,
            ldtr: Segment {
                base: 0,
                limit: 0xffff,
                selector: 0,
                attrs: attr::P | 0x2, // LDT
            },
            tr: Segment {
                base: 0,
                limit: 0xffff,
                selector: 0,
                attrs: attr::P | 0xb, // busy 32-bit TSS
            },
            gdtr: DescriptorTable {
                base: 0,
                limit: 0xffff,
            },
            idtr: DescriptorTable {
                base: 0,
                limit: 0xffff,
            },
            cr0: cr0::ET | cr0::CD | cr0::NW,
            cr2: 0,
            cr3: 0,
            cr4: 0,
            cr8: 0,
            efer: 0,
            dr,
            msr: Msrs {
                apic_base: 0xfee0_0000 | (1 << 11) | (1 << 8),
                pat: 0x0007_0406_0007_0406,
                ..Msrs::default()
            },
            events: EventState::default(),
            icount: 0,
            fx: FxState::reset(),
            fcs: 0,
            fds: 0,
            xcr0: crate::xstate::XCR0_RESET,
        }
    }

    pub fn cs(&self) -> &Segment {
        &self.seg[SegReg::Cs as usize]
    }
    pub fn ss(&self) -> &Segment {
        &self.seg[SegReg::Ss as usize]
    }
    pub fn segment(&self, s: SegReg) -> &Segment {
        &self.seg[s as usize]
    }
    pub fn segment_mut(&mut self, s: SegReg) -> &mut Segment {
        &mut self.seg[s as usize]
    }

    /// Real-mode (and virtual-8086) segment load: only the selector and
    /// base change; the hidden limit and attributes stay, as on hardware
    /// ("unreal mode" relies on it). SDM Vol. 3 §20.1.1.
    pub fn load_segment_real(&mut self, s: SegReg, selector: u16) {
        let seg = self.segment_mut(s);
        seg.selector = selector;
        seg.base = u64::from(selector) << 4;
    }

    pub fn protected(&self) -> bool {
        self.cr0 & cr0::PE != 0
    }
    pub fn paging(&self) -> bool {
        self.cr0 & cr0::PG != 0
    }
    pub fn long_mode_active(&self) -> bool {
        self.efer & efer::LMA != 0
    }
    pub fn v86(&self) -> bool {
        self.rflags & flags::VM != 0
    }

    pub fn mode(&self) -> CpuMode {
        if !self.protected() {
            return CpuMode::Real;
        }
        if self.long_mode_active() {
            let cs = self.cs();
            return if cs.long() {
                CpuMode::Long64
            } else if cs.big() {
                CpuMode::Compat32
            } else {
                CpuMode::Compat16
            };
        }
        if self.v86() {
            return CpuMode::Virtual8086;
        }
        if self.cs().big() {
            CpuMode::Protected32
        } else {
            CpuMode::Protected16
        }
    }

    /// Current privilege level: 0 in real mode, 3 in virtual-8086 mode,
    /// otherwise CS.RPL (which always equals the CPL in protected mode).
    pub fn cpl(&self) -> u8 {
        if !self.protected() {
            0
        } else if self.v86() {
            3
        } else {
            (self.cs().selector & 3) as u8
        }
    }

    pub fn iopl(&self) -> u8 {
        ((self.rflags >> 12) & 3) as u8
    }

    /// Stack-pointer width in bytes for implicit stack accesses.
    pub fn stack_size(&self) -> u32 {
        if self.mode() == CpuMode::Long64 {
            8
        } else if self.ss().big() {
            4
        } else {
            2
        }
    }

    /// Virtual TSC: deterministic, advanced by retired instructions.
    pub fn tsc(&self) -> u64 {
        self.icount.wrapping_add(self.msr.tsc_offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_state_matches_sdm() {
        let s = CpuState::reset();
        assert_eq!(s.cs().selector, 0xf000);
        assert_eq!(s.cs().base, 0xffff_0000);
        assert_eq!(s.rip, 0xfff0);
        assert_eq!(s.cr0, 0x6000_0010);
        assert_eq!(s.gpr[reg::RDX], u64::from(CPU_SIGNATURE));
        assert_eq!(s.rflags, 2);
        assert_eq!(s.mode(), CpuMode::Real);
        assert_eq!(s.cpl(), 0);
        assert_eq!(s.dr[6], 0xffff_0ff0);
    }
}

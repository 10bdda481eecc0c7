//! CPU models: what CPUID answers and, from the same feature bits, which
//! instructions exist. SDM Vol. 2 "CPUID—CPU Identification" (Tables 3-8
//! to 3-11); docs/cpu-models.md describes the models.
//!
//! A [`CpuModel`] is static data: vendor, signature, leaf maxima, brand,
//! the feature words of leaves 1, 7, 0DH and 80000001H, and the
//! information leaves it answers verbatim. [`CpuModel::cpuid`] builds every
//! leaf from them (plus the two dynamic parts: CPUID.1:ECX.OSXSAVE mirrors
//! CR4.OSXSAVE, CPUID.(0DH,0):EBX follows XCR0).
//!
//! [`CpuModel::enables`] is the one feature check both engines use: an
//! encoding (iced-x86 `Code`) whose CPUID features (iced's
//! `Instruction::cpuid_features`) the model does not advertise raises
//! #UD, as on hardware and in QEMU TCG and Bochs. It is a bit test in a
//! per-model table computed once.

pub use crate::cpuid_bits::{bit, Features};
use crate::interp::features::code_enabled;
use crate::mmu::paging::{MAX_LINEAR_BITS, MAX_PHYS_BITS};
use crate::xstate::{xsave_area_size, XCR0_SUPPORTED, XSAVE_AREA_MAX};
use iced_x86::Code;
use std::sync::OnceLock;

/// A leaf answered verbatim: informational leaves (caches, topology,
/// MONITOR sizes, the hypervisor leaf) that say nothing about which
/// instructions exist.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FixedLeaf {
    pub leaf: u32,
    /// `None`: the same answer for every ECX.
    pub subleaf: Option<u32>,
    pub regs: [u32; 4],
}

/// One CPU model.
#[derive(Debug)]
pub struct CpuModel {
    /// The `--cpu` name.
    pub name: &'static str,
    /// One line for `--cpu help`.
    pub description: &'static str,
    /// CPUID.0:EBX, EDX, ECX in order: "GenuineIntel", "AuthenticAMD".
    pub vendor: &'static [u8; 12],
    /// CPUID.1:EAX, also EDX after RESET (SDM Vol. 3 Table 10-1).
    pub signature: u32,
    /// CPUID.1:EBX: brand index, CLFLUSH line size, logical processors,
    /// initial APIC ID.
    pub leaf1_ebx: u32,
    pub max_basic: u32,
    pub max_extended: u32,
    /// CPUID.80000002H-80000004H, NUL-padded to 48 bytes.
    pub brand: &'static [u8],
    pub features: Features,
    /// AMD style: CPUID.80000000H repeats the vendor string and
    /// CPUID.80000001H:EAX the signature (Intel: zeros).
    pub amd_extended: bool,
    pub fixed: &'static [FixedLeaf],
    /// The enabled-encoding table, one bit per `Code`, made on first use.
    enabled: OnceLock<Box<[u64]>>,
}

/// The default model's signature (`state::CPU_SIGNATURE`, which RESET
/// leaves in EDX).
pub const XLAT_SIGNATURE: u32 = crate::state::CPU_SIGNATURE;

/// The default model: every feature the interpreter implements, nothing
/// else. To advertise a newly implemented feature add its bit here (and
/// nothing more: the instructions of that feature become available
/// through [`CpuModel::enables`], CPUID says so).
pub static XLAT: CpuModel = CpuModel {
    name: "xlat",
    description: "the default: advertises every feature xlat implements and nothing else",
    vendor: b"GenuineIntel",
    signature: XLAT_SIGNATURE,
    // Brand index 0, CLFLUSH line size 8 (× 8 = 64 bytes), one logical
    // processor, initial APIC ID 0.
    leaf1_ebx: (8 << 8) | (1 << 16),
    max_basic: 0xd,
    max_extended: 0x8000_0008,
    brand: b"xlat virtual CPU",
    features: Features {
        leaf1_edx: bit::FPU
            | bit::DE
            | bit::PSE
            | bit::TSC
            | bit::MSR
            | bit::PAE
            | bit::CX8
            | bit::APIC
            | bit::SEP
            | bit::PGE
            | bit::CMOV
            | bit::PAT
            | bit::PSE36
            | bit::CLFSH
            | bit::MMX
            | bit::FXSR
            | bit::SSE
            | bit::SSE2,
        leaf1_ecx: bit::SSE3
            | bit::SSSE3
            | bit::SSE4_1
            | bit::SSE4_2
            | bit::CX16
            | bit::MOVBE
            | bit::POPCNT
            | bit::XSAVE,
        leaf7_ebx: bit::BMI1 | bit::BMI2 | bit::ADX,
        leaf7_ecx: 0,
        leaf7_edx: 0,
        xsave_eax: bit::XSAVEOPT,
        ext1_ecx: bit::LAHF_LM | bit::ABM,
        ext1_edx: bit::SYSCALL | bit::NX | bit::PAGE1GB | bit::RDTSCP | bit::LM,
    },
    amd_extended: false,
    // Leaf 2: one iteration, no descriptors (AL = 1, the rest null).
    fixed: &[FixedLeaf {
        leaf: 2,
        subleaf: None,
        regs: [1, 0, 0, 0],
    }],
    enabled: OnceLock::new(),
};

/// QEMU 7.2's `-cpu qemu64` under TCG, bit for bit (test-roms/cpuid-qemu64:
/// QEMU's own log), less the features xlat does not implement: MCE, MTRR,
/// MCA (leaf 1 and 80000001H EDX) and SVM (80000001H:ECX, and leaf
/// 8000000AH zeroed with it). (The APIC bit is the machine's to keep: see
/// `cpuid_instruction`.)
pub static QEMU64: CpuModel = CpuModel {
    name: "qemu64",
    description: "QEMU 7.2's -cpu qemu64 (TCG), less what xlat does not implement",
    vendor: b"AuthenticAMD",
    // Family 15, model 0x6b, stepping 1.
    signature: 0x0006_0fb1,
    leaf1_ebx: 8 << 8,
    max_basic: 0xd,
    max_extended: 0x8000_000a,
    brand: b"QEMU Virtual CPU version 2.5+",
    features: Features {
        leaf1_edx: bit::FPU
            | bit::DE
            | bit::PSE
            | bit::TSC
            | bit::MSR
            | bit::PAE
            | bit::CX8
            | bit::APIC
            | bit::SEP
            | bit::PGE
            | bit::CMOV
            | bit::PAT
            | bit::PSE36
            | bit::CLFSH
            | bit::MMX
            | bit::FXSR
            | bit::SSE
            | bit::SSE2,
        leaf1_ecx: bit::SSE3 | bit::CX16 | bit::HYPERVISOR,
        leaf7_ebx: 0,
        leaf7_ecx: 0,
        leaf7_edx: 0,
        xsave_eax: 0,
        ext1_ecx: bit::LAHF_LM,
        // AMD repeats leaf 1's EDX bits 0-9, 12-17, 23, 24 here.
        ext1_edx: bit::FPU
            | bit::DE
            | bit::PSE
            | bit::TSC
            | bit::MSR
            | bit::PAE
            | bit::CX8
            | bit::APIC
            | bit::SYSCALL
            | bit::PGE
            | bit::CMOV
            | bit::PAT
            | bit::PSE36
            | bit::NX
            | bit::MMX
            | bit::FXSR
            | bit::LM,
    },
    amd_extended: true,
    fixed: &[
        // MONITOR/MWAIT: ECX = 3 (EMX, IBE), sizes 0 (MONITOR itself is
        // not advertised).
        FixedLeaf {
            leaf: 5,
            subleaf: None,
            regs: [0, 0, 3, 0],
        },
        // Extended topology: SMT level (1 thread), core level (1 core),
        // then invalid levels that echo ECX.
        FixedLeaf {
            leaf: 0xb,
            subleaf: Some(0),
            regs: [0, 1, 0x100, 0],
        },
        FixedLeaf {
            leaf: 0xb,
            subleaf: Some(1),
            regs: [0, 1, 0x201, 0],
        },
        // L1 TLBs and caches, L2/L3 (AMD leaves).
        FixedLeaf {
            leaf: 0x8000_0005,
            subleaf: None,
            regs: [0x01ff_01ff, 0x01ff_01ff, 0x4002_0140, 0x4002_0140],
        },
        FixedLeaf {
            leaf: 0x8000_0006,
            subleaf: None,
            regs: [0, 0x4200_4200, 0x0200_8140, 0x0080_8140],
        },
        // QEMU's hypervisor leaf under TCG: "TCGTCGTCGTCG".
        FixedLeaf {
            leaf: 0x4000_0000,
            subleaf: None,
            regs: [0x4000_0001, 0x5447_4354, 0x4354_4743, 0x4743_5447],
        },
        FixedLeaf {
            leaf: 0x4000_0001,
            subleaf: None,
            regs: [0; 4],
        },
    ],
    enabled: OnceLock::new(),
};

/// Every model, the default first.
pub static MODELS: [&CpuModel; 2] = [&XLAT, &QEMU64];

impl PartialEq for CpuModel {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

impl Eq for CpuModel {}

impl CpuModel {
    /// The model called `name` (`--cpu NAME`).
    pub fn by_name(name: &str) -> Option<&'static CpuModel> {
        MODELS.iter().copied().find(|m| m.name == name)
    }

    /// Does the model advertise XSAVE (and so allow CR4.OSXSAVE)?
    pub fn has_xsave(&self) -> bool {
        self.features.leaf1_ecx & bit::XSAVE != 0
    }

    /// Does the model advertise `f` of CPUID.(0DH,1):EAX?
    pub fn has_xsave_feature(&self, f: u32) -> bool {
        self.has_xsave() && self.features.xsave_eax & f != 0
    }

    /// Is the encoding `code` available on this model? The one feature
    /// check of both engines: one bit test.
    pub fn enables(&self, code: Code) -> bool {
        let bits = self.enabled.get_or_init(|| {
            let mut bits = vec![0u64; Code::values().len().div_ceil(64)];
            for c in Code::values() {
                if code_enabled(&self.features, c) {
                    bits[c as usize / 64] |= 1 << (c as usize % 64);
                }
            }
            bits.into_boxed_slice()
        });
        let i = code as usize;
        bits[i / 64] & (1 << (i % 64)) != 0
    }

    /// CPUID leaf `leaf`, subleaf `sub`: (EAX, EBX, ECX, EDX), for CR4
    /// (OSXSAVE is mirrored into CPUID.1:ECX) and XCR0 (the XSAVE area size
    /// in CPUID.(0DH,0):EBX).
    ///
    /// A leaf above the highest basic or extended leaf returns the data of
    /// the highest basic leaf for the same ECX, as Intel processors do and
    /// QEMU does for every vendor (SDM Vol. 2 "CPUID", the note on inputs
    /// above the maximum). Leaves in range that the model does not
    /// describe are zero.
    pub fn cpuid(&self, leaf: u32, sub: u32, cr4: u64, xcr0: u64) -> (u32, u32, u32, u32) {
        let ext = leaf >= 0x8000_0000;
        let hypervisor = self
            .fixed
            .iter()
            .any(|f| f.leaf == leaf && (0x4000_0000..0x8000_0000).contains(&leaf));
        let above = if ext {
            leaf > self.max_extended
        } else {
            leaf > self.max_basic && !hypervisor
        };
        if above {
            return self.cpuid(self.max_basic, sub, cr4, xcr0);
        }
        if let Some(f) = self
            .fixed
            .iter()
            .find(|f| f.leaf == leaf && f.subleaf.is_none_or(|s| s == sub))
        {
            let [a, b, c, d] = f.regs;
            return (a, b, c, d);
        }
        let v =
            |at: usize| u32::from_le_bytes(self.vendor[at..at + 4].try_into().unwrap_or([0; 4]));
        let f = &self.features;
        match leaf {
            0 => (self.max_basic, v(0), v(8), v(4)),
            1 => {
                let osxsave = if cr4 & crate::state::cr4::OSXSAVE != 0 {
                    bit::OSXSAVE
                } else {
                    0
                };
                (
                    self.signature,
                    self.leaf1_ebx,
                    f.leaf1_ecx | osxsave,
                    f.leaf1_edx,
                )
            }
            7 if sub == 0 => (0, f.leaf7_ebx, f.leaf7_ecx, f.leaf7_edx),
            0xd if self.has_xsave() => match sub {
                0 => (
                    XCR0_SUPPORTED as u32,
                    xsave_area_size(xcr0),
                    XSAVE_AREA_MAX,
                    (XCR0_SUPPORTED >> 32) as u32,
                ),
                // EBX: the size for XCR0 | IA32_XSS (no supervisor
                // components here) in the compacted format, the same 576
                // bytes for x87 and SSE.
                1 => (f.xsave_eax, xsave_area_size(xcr0), 0, 0),
                _ => (0, 0, 0, 0),
            },
            0x8000_0000 if self.amd_extended => (self.max_extended, v(0), v(8), v(4)),
            0x8000_0000 => (self.max_extended, 0, 0, 0),
            0x8000_0001 => {
                let eax = if self.amd_extended { self.signature } else { 0 };
                (eax, 0, f.ext1_ecx, f.ext1_edx)
            }
            0x8000_0002..=0x8000_0004 => {
                let at = (leaf - 0x8000_0002) as usize * 16;
                (
                    self.brand_dword(at),
                    self.brand_dword(at + 4),
                    self.brand_dword(at + 8),
                    self.brand_dword(at + 12),
                )
            }
            0x8000_0008 => (MAX_PHYS_BITS | (MAX_LINEAR_BITS << 8), 0, 0, 0),
            // Extended topology beyond the levels the model lists: an
            // invalid level (type 0) that echoes ECX[7:0] (SDM Vol. 2
            // "CPUID", leaf 0BH).
            0xb if self.fixed.iter().any(|f| f.leaf == 0xb) => (0, 0, sub & 0xff, 0),
            _ => (0, 0, 0, 0),
        }
    }

    /// Bytes `at..at+4` of the 48-byte brand string (NUL-padded),
    /// little-endian.
    fn brand_dword(&self, at: usize) -> u32 {
        let byte = |i: usize| u32::from(self.brand.get(i).copied().unwrap_or(0));
        byte(at) | (byte(at + 1) << 8) | (byte(at + 2) << 16) | (byte(at + 3) << 24)
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;

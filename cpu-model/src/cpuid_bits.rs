//! CPUID feature words and bits by name: what CPU models (`model.rs`)
//! advertise and what the instruction-feature table (`interp/features.rs`)
//! checks, in a leaf module both use.

/// The feature words a model advertises (Tables 3-10, 3-11 and the
/// leaf 7 / 0DH / 80000001H tables of SDM Vol. 2 "CPUID").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Features {
    /// CPUID.1:ECX (without OSXSAVE, bit 27, which mirrors CR4).
    pub leaf1_ecx: u32,
    /// CPUID.1:EDX.
    pub leaf1_edx: u32,
    /// CPUID.(7,0):EBX, ECX, EDX.
    pub leaf7_ebx: u32,
    pub leaf7_ecx: u32,
    pub leaf7_edx: u32,
    /// CPUID.(0DH,1):EAX: XSAVEOPT (0), XSAVEC (1), XGETBV with ECX = 1
    /// (2), XSAVES (3).
    pub xsave_eax: u32,
    /// CPUID.80000001H:ECX, EDX.
    pub ext1_ecx: u32,
    pub ext1_edx: u32,
}

/// Feature bits by name (register and bit of the SDM's tables).
pub mod bit {
    // CPUID.1:EDX
    pub const FPU: u32 = 1 << 0;
    pub const VME: u32 = 1 << 1;
    pub const DE: u32 = 1 << 2;
    pub const PSE: u32 = 1 << 3;
    pub const TSC: u32 = 1 << 4;
    pub const MSR: u32 = 1 << 5;
    pub const PAE: u32 = 1 << 6;
    pub const MCE: u32 = 1 << 7;
    pub const CX8: u32 = 1 << 8;
    pub const APIC: u32 = 1 << 9;
    pub const SEP: u32 = 1 << 11;
    pub const MTRR: u32 = 1 << 12;
    pub const PGE: u32 = 1 << 13;
    pub const MCA: u32 = 1 << 14;
    pub const CMOV: u32 = 1 << 15;
    pub const PAT: u32 = 1 << 16;
    pub const PSE36: u32 = 1 << 17;
    pub const CLFSH: u32 = 1 << 19;
    pub const MMX: u32 = 1 << 23;
    pub const FXSR: u32 = 1 << 24;
    pub const SSE: u32 = 1 << 25;
    pub const SSE2: u32 = 1 << 26;
    // CPUID.1:ECX
    pub const SSE3: u32 = 1 << 0;
    pub const PCLMULQDQ: u32 = 1 << 1;
    pub const MONITOR: u32 = 1 << 3;
    pub const VMX: u32 = 1 << 5;
    pub const SSSE3: u32 = 1 << 9;
    pub const FMA: u32 = 1 << 12;
    pub const CX16: u32 = 1 << 13;
    pub const SSE4_1: u32 = 1 << 19;
    pub const SSE4_2: u32 = 1 << 20;
    pub const MOVBE: u32 = 1 << 22;
    pub const POPCNT: u32 = 1 << 23;
    pub const AES: u32 = 1 << 25;
    pub const XSAVE: u32 = 1 << 26;
    pub const OSXSAVE: u32 = 1 << 27;
    pub const AVX: u32 = 1 << 28;
    pub const F16C: u32 = 1 << 29;
    pub const RDRAND: u32 = 1 << 30;
    pub const HYPERVISOR: u32 = 1 << 31;
    // CPUID.(7,0):EBX
    pub const FSGSBASE: u32 = 1 << 0;
    pub const BMI1: u32 = 1 << 3;
    pub const AVX2: u32 = 1 << 5;
    pub const BMI2: u32 = 1 << 8;
    pub const INVPCID: u32 = 1 << 10;
    pub const RDSEED: u32 = 1 << 18;
    pub const ADX: u32 = 1 << 19;
    pub const SMAP: u32 = 1 << 20;
    pub const CLFLUSHOPT: u32 = 1 << 23;
    pub const CLWB: u32 = 1 << 24;
    pub const SHA: u32 = 1 << 29;
    // CPUID.(0DH,1):EAX
    pub const XSAVEOPT: u32 = 1 << 0;
    pub const XSAVEC: u32 = 1 << 1;
    pub const XGETBV1: u32 = 1 << 2;
    pub const XSAVES: u32 = 1 << 3;
    // CPUID.80000001H:ECX
    pub const LAHF_LM: u32 = 1 << 0;
    pub const SVM: u32 = 1 << 2;
    pub const ABM: u32 = 1 << 5;
    pub const SSE4A: u32 = 1 << 6;
    pub const PREFETCHW: u32 = 1 << 8;
    // CPUID.80000001H:EDX
    pub const SYSCALL: u32 = 1 << 11;
    pub const NX: u32 = 1 << 20;
    pub const PAGE1GB: u32 = 1 << 26;
    pub const RDTSCP: u32 = 1 << 27;
    pub const LM: u32 = 1 << 29;
}

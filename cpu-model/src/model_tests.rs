//! CPU models: CPUID values and the enabled-encoding tables.

use super::*;
use crate::interp::desc;
use crate::state::cr4;
use crate::xstate::XCR0_RESET;
use iced_x86::{CpuidFeature, EncodingKind, Instruction};

fn text(regs: &[u32]) -> String {
    regs.iter()
        .flat_map(|r| r.to_le_bytes())
        .take_while(|&b| b != 0)
        .map(char::from)
        .collect()
}

fn xlat(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    XLAT.cpuid(leaf, sub, 0, XCR0_RESET)
}

#[test]
fn xlat_vendor_and_signature() {
    let (max, b, c, d) = xlat(0, 0);
    assert_eq!(max, 0xd);
    assert_eq!(text(&[b, d, c]), "GenuineIntel");
    let (a, b, c, d) = xlat(1, 0);
    assert_eq!(a, 0x6fb);
    assert_eq!((a >> 8) & 0xf, 6); // family
    assert_eq!(((a >> 4) & 0xf) | ((a >> 12) & 0xf0), 0x0f); // model
    assert_eq!(a & 0xf, 0xb); // stepping
    assert_eq!((b >> 8) & 0xff, 8); // CLFLUSH line: 8 * 8 = 64 bytes
    assert_eq!((b >> 16) & 0xff, 1); // logical processors
    assert_eq!(b >> 24, 0); // APIC ID
    assert_eq!(c, 0x04d8_2201); // SSE3, SSSE3, CX16, SSE4.1, SSE4.2, MOVBE, POPCNT, XSAVE
                                // FPU DE PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT PSE36 CLFSH MMX FXSR
                                // SSE SSE2 (APIC: only where the platform's local APIC is enabled, see
                                // `cpuid_instruction`).
    assert_eq!(d, 0x078b_ab7d);
    // Not advertised: VME(1), MCE(7), MTRR(12), MCA(14).
    for bit in [1, 7, 12, 14, 28] {
        assert_eq!(d & (1 << bit), 0, "EDX bit {bit}");
    }
    for bit in [3, 27, 28, 30, 31] {
        assert_eq!(c & (1 << bit), 0, "ECX bit {bit}");
    }
}

#[test]
fn xlat_structured_and_extended_leaves() {
    assert_eq!(xlat(7, 0), (0, 0x0008_0108, 0, 0)); // BMI1 BMI2 ADX
    assert_eq!(xlat(7, 1), (0, 0, 0, 0));
    assert_eq!(xlat(0xa, 0), (0, 0, 0, 0)); // no performance counters
    assert_eq!(xlat(0x8000_0000, 0).0, 0x8000_0008);
    // SYSCALL(11) NX(20) Page1GB(26) RDTSCP(27) LM(29); LAHF_LM(0) LZCNT(5).
    assert_eq!(xlat(0x8000_0001, 0), (0, 0, 0x21, 0x2c10_0800));
    let mut brand = Vec::new();
    for leaf in 0x8000_0002..=0x8000_0004 {
        let (a, b, c, d) = xlat(leaf, 0);
        brand.extend([a, b, c, d]);
    }
    assert_eq!(text(&brand), "xlat virtual CPU");
    assert_eq!(brand[4..], [0; 8]);
    assert_eq!(xlat(0x8000_0008, 0), (0x3028, 0, 0, 0));
    assert_eq!(xlat(2, 0), (1, 0, 0, 0));
    assert_eq!(xlat(4, 0).0 & 0x1f, 0); // no cache levels described
                                        // Above the maximum: the highest basic leaf's data, for the same ECX.
    for leaf in [0xe, 0x4000_0000, 0x8000_0009, 0xffff_ffff] {
        for sub in [0, 1, 2] {
            assert_eq!(xlat(leaf, sub), xlat(0xd, sub), "{leaf:#x}.{sub}");
        }
    }
}

#[test]
fn leaf_0d_and_osxsave_follow_the_state() {
    // x87 and SSE supported; 576 bytes (legacy region + header) whatever
    // XCR0 enables of them; XSAVEOPT only.
    assert_eq!(xlat(0xd, 0), (3, 576, 576, 0));
    assert_eq!(XLAT.cpuid(0xd, 0, 0, 3), (3, 576, 576, 0));
    assert_eq!(xlat(0xd, 1), (1, 576, 0, 0));
    assert_eq!(xlat(0xd, 2), (0, 0, 0, 0));
    assert_eq!(xlat(1, 0).2 & (1 << 27), 0);
    let with = XLAT.cpuid(1, 0, cr4::OSXSAVE, XCR0_RESET);
    assert_eq!(with.2, xlat(1, 0).2 | (1 << 27));
    // No XSAVE in qemu64: leaf 0DH is zero.
    assert_eq!(QEMU64.cpuid(0xd, 0, 0, XCR0_RESET), (0, 0, 0, 0));
}

fn q(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    QEMU64.cpuid(leaf, sub, 0, XCR0_RESET)
}

/// The values of test-roms/cpuid-qemu64.expected (QEMU's log) spot-checked
/// here too, so a change shows in the unit tests first.
#[test]
fn qemu64_matches_qemu() {
    assert_eq!(q(0, 0), (0xd, 0x6874_7541, 0x444d_4163, 0x6974_6e65));
    // QEMU: ECX 0x80002001 (SSE3 CX16 HYPERVISOR), EDX 0x078bfbfd; less
    // MCE, MTRR, MCA (EDX bits 7, 12, 14).
    assert_eq!(q(1, 0), (0x60fb1, 0x800, 0x8000_2001, 0x078b_ab7d));
    assert_eq!(q(5, 0), (0, 0, 3, 0));
    assert_eq!(q(0xb, 1), (0, 1, 0x201, 0));
    assert_eq!(q(0xb, 2), (0, 0, 2, 0));
    assert_eq!(q(0xb, 4), (0, 0, 4, 0));
    assert_eq!(q(0x4000_0002, 0), q(0xd, 0));
    assert_eq!(
        q(0x8000_0000, 0),
        (0x8000_000a, 0x6874_7541, 0x444d_4163, 0x6974_6e65)
    );
    // QEMU: ECX 5 (LAHF_LM SVM), EDX 0x2193fbfd; less SVM (ECX bit 2)
    // and MCE, MTRR, MCA.
    assert_eq!(q(0x8000_0001, 0), (0x60fb1, 0, 1, 0x2193_ab7d));
    assert_eq!(
        q(0x8000_0002, 0),
        (0x554d_4551, 0x7269_5620, 0x6c61_7574, 0x5550_4320)
    );
    assert_eq!(
        q(0x8000_0003, 0),
        (0x7265_7620, 0x6e6f_6973, 0x352e_3220, 0x0000_002b)
    );
    assert_eq!(q(0x8000_0004, 0), (0, 0, 0, 0));
    assert_eq!(q(0x8000_0008, 0), (0x3028, 0, 0, 0));
    assert_eq!(q(0x8000_000a, 0), (0, 0, 0, 0)); // SVM cleared
    assert_eq!(q(0x4000_0000, 0).0, 0x4000_0001);
    assert_eq!(q(0x8000_000b, 0), q(0xd, 0));
}

#[test]
fn models_by_name() {
    assert_eq!(CpuModel::by_name("xlat"), Some(&XLAT));
    assert_eq!(CpuModel::by_name("qemu64"), Some(&QEMU64));
    assert_eq!(CpuModel::by_name("max"), None);
    assert_eq!(MODELS[0], &XLAT);
}

fn features_of(code: Code) -> Vec<CpuidFeature> {
    let mut ins = Instruction::new();
    ins.set_code(code);
    ins.cpuid_features().to_vec()
}

/// The default model's contract: everything the interpreter implements is
/// enabled (so advertised), and every legacy encoding of an advertised
/// feature is implemented.
#[test]
fn xlat_enables_exactly_what_is_implemented() {
    // Handlers registered per mnemonic also cover these encodings of
    // other processors (8086's POP CS, the 386's MOV TR, the 486 A-step
    // CMPXCHG, Knights Corner, AMD TBM's XOP BEXTR), which stay #UD.
    use CpuidFeature as F;
    let other = [
        F::INTEL8086_ONLY,
        F::MOV_TR,
        F::INTEL486_A_ONLY,
        F::KNC,
        F::TBM,
    ];
    let missing: Vec<(Code, Vec<CpuidFeature>)> = Code::values()
        .filter(|&c| desc(c).handler.is_some() && !XLAT.enables(c))
        .map(|c| (c, features_of(c)))
        .filter(|(_, fs)| !fs.iter().any(|f| other.contains(f)))
        .collect();
    assert!(missing.is_empty(), "implemented, not enabled: {missing:?}");
    let advertised = |f: CpuidFeature| {
        let mut ins = Instruction::new();
        // Any encoding with exactly that feature tells whether it is on.
        Code::values().any(|c| {
            ins.set_code(c);
            ins.cpuid_features() == [f] && XLAT.enables(c)
        })
    };
    let checked = [
        F::CMOV,
        F::MMX,
        F::SSE,
        F::SSE2,
        F::SSE3,
        F::SSSE3,
        F::SSE4_1,
        F::SSE4_2,
        F::FXSR,
        F::POPCNT,
        F::MOVBE,
        F::BMI1,
        F::BMI2,
        F::ADX,
        F::LZCNT,
        F::RDTSCP,
        F::XSAVE,
        F::XSAVEOPT,
        F::CMPXCHG16B,
        F::CLFSH,
        F::SYSCALL,
        F::SEP,
    ];
    for f in checked {
        assert!(advertised(f), "{f:?}");
        for code in Code::values().filter(|&c| c.encoding() == EncodingKind::Legacy) {
            if features_of(code).contains(&f) && XLAT.enables(code) {
                assert!(
                    desc(code).handler.is_some(),
                    "{code:?} of {f:?} not implemented"
                );
            }
        }
    }
    for f in [F::AVX, F::XSAVEC, F::XSAVES, F::SVM] {
        assert!(!advertised(f), "{f:?}");
    }
}

#[test]
fn qemu64_disables_what_it_does_not_advertise() {
    for code in [
        Code::Popcnt_r32_rm32,
        Code::Movbe_r32_m32,
        Code::Adcx_r32_rm32,
        Code::Rdtscp,
        Code::Xsave_mem,
        Code::Xgetbv,
        Code::Tzcnt_r32_rm32,
        Code::Lzcnt_r64_rm64,
        Code::VEX_Andn_r32_r32_rm32,
    ] {
        assert!(!QEMU64.enables(code), "{code:?}");
        assert!(XLAT.enables(code), "{code:?}");
    }
    for code in [
        Code::Cmovne_r32_rm32,
        Code::Cmpxchg16b_m128,
        Code::Endbr64,
        Code::Pause,
        Code::Nop_rm32,
        Code::Syscall,
        Code::Clflush_m8,
        Code::Addps_xmm_xmmm128,
    ] {
        assert!(QEMU64.enables(code), "{code:?}");
    }
}

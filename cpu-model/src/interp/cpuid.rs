//! CPUID: exactly what the interpreter implements (the brief's contract).
//! SDM Vol. 2 "CPUID—CPU Identification", Tables 3-8 (leaves) and 3-10/3-11
//! (feature bits).

use super::Table;
use crate::exception::Fault;
use crate::memory::Bus;
use crate::mmu::paging::{MAX_LINEAR_BITS, MAX_PHYS_BITS};
use crate::state::{reg, CPU_SIGNATURE};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

/// Highest basic leaf.
pub const MAX_BASIC: u32 = 7;
/// Highest extended leaf.
pub const MAX_EXTENDED: u32 = 0x8000_0008;

/// Leaf 1 EDX: FPU(0: the x87, with #MF error reporting; CR0.NE = 0's
/// FERR#/IRQ 13 path waits for the PIC) DE(2) PSE(3) TSC(4) MSR(5) PAE(6)
/// CX8(8) SEP(11) PGE(13) CMOV(15) PAT(16) PSE36(17) MMX(23) FXSR(24:
/// FXSAVE/FXRSTOR and CR4.OSFXSR) SSE(25) SSE2(26).
pub const LEAF1_EDX: u32 = 1
    | (1 << 2)
    | (1 << 3)
    | (1 << 4)
    | (1 << 5)
    | (1 << 6)
    | (1 << 8)
    | (1 << 11)
    | (1 << 13)
    | (1 << 15)
    | (1 << 16)
    | (1 << 17)
    | (1 << 23)
    | (1 << 24)
    | (1 << 25)
    | (1 << 26);
/// Leaf 1 ECX: CX16(13) MOVBE(22) POPCNT(23).
pub const LEAF1_ECX: u32 = (1 << 13) | (1 << 22) | (1 << 23);
/// Leaf 1 EBX: brand index 0, CLFLUSH line size 8 (× 8 = 64 bytes), one
/// logical processor, initial APIC ID 0.
pub const LEAF1_EBX: u32 = (8 << 8) | (1 << 16);
/// Leaf 7 subleaf 0 EBX: BMI1(3) BMI2(8) ADX(19).
pub const LEAF7_EBX: u32 = (1 << 3) | (1 << 8) | (1 << 19);
/// 0x8000_0001 EDX: SYSCALL(11) NX(20) Page1GB(26) RDTSCP(27) LM(29).
pub const EXT1_EDX: u32 = (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29);
/// 0x8000_0001 ECX: LAHF_LM(0) ABM/LZCNT(5).
pub const EXT1_ECX: u32 = 1 | (1 << 5);

const BRAND: &[u8] = b"xlat virtual CPU";

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Cpuid, cpuid_instruction);
}

/// CPUID: EAX, EBX, ECX, EDX := cpuid(EAX, ECX) (32-bit writes zero the
/// upper halves in 64-bit mode). Not privileged.
fn cpuid_instruction(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let g = &mut cpu.state.gpr;
    let (a, b, c, d) = cpuid(g[reg::RAX] as u32, g[reg::RCX] as u32);
    g[reg::RAX] = u64::from(a);
    g[reg::RBX] = u64::from(b);
    g[reg::RCX] = u64::from(c);
    g[reg::RDX] = u64::from(d);
    Ok(())
}

/// Bytes `at..at+4` of the 48-byte brand string (NUL-padded), little-endian.
fn brand_dword(at: usize) -> u32 {
    let byte = |i: usize| u32::from(BRAND.get(i).copied().unwrap_or(0));
    byte(at) | (byte(at + 1) << 8) | (byte(at + 2) << 16) | (byte(at + 3) << 24)
}

/// CPUID leaf `leaf`, subleaf `sub`: (EAX, EBX, ECX, EDX).
///
/// Leaves 2–6 report nothing (leaf 2: one iteration, no descriptors;
/// leaf 4: no cache levels); 0x8000_0005–7 are zero as on Intel. A leaf
/// above the highest basic or extended leaf returns the data of the highest
/// basic leaf (7), as Intel processors do.
pub fn cpuid(leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
    match leaf {
        // "GenuineIntel" in EBX, EDX, ECX.
        0 => (MAX_BASIC, 0x756e_6547, 0x6c65_746e, 0x4965_6e69),
        1 => (CPU_SIGNATURE, LEAF1_EBX, LEAF1_ECX, LEAF1_EDX),
        2 => (1, 0, 0, 0),
        3..=6 => (0, 0, 0, 0),
        7 if sub == 0 => (0, LEAF7_EBX, 0, 0),
        7 => (0, 0, 0, 0),
        0x8000_0000 => (MAX_EXTENDED, 0, 0, 0),
        0x8000_0001 => (0, 0, EXT1_ECX, EXT1_EDX),
        0x8000_0002..=0x8000_0004 => {
            let at = (leaf - 0x8000_0002) as usize * 16;
            (
                brand_dword(at),
                brand_dword(at + 4),
                brand_dword(at + 8),
                brand_dword(at + 12),
            )
        }
        0x8000_0005..=0x8000_0007 => (0, 0, 0, 0),
        0x8000_0008 => (MAX_PHYS_BITS | (MAX_LINEAR_BITS << 8), 0, 0, 0),
        _ => cpuid(MAX_BASIC, sub),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::interrupt::tests::lm;
    use crate::interp::tests::run;

    fn text(regs: &[u32]) -> String {
        regs.iter()
            .flat_map(|r| r.to_le_bytes())
            .take_while(|&b| b != 0)
            .map(char::from)
            .collect()
    }

    #[test]
    fn vendor_and_signature() {
        let (max, b, c, d) = cpuid(0, 0);
        assert_eq!(max, 7);
        assert_eq!(text(&[b, d, c]), "GenuineIntel");
        let (a, b, c, d) = cpuid(1, 0);
        assert_eq!(a, 0x6fb);
        assert_eq!((a >> 8) & 0xf, 6); // family
        assert_eq!(((a >> 4) & 0xf) | ((a >> 12) & 0xf0), 0x0f); // model
        assert_eq!(a & 0xf, 0xb); // stepping
        assert_eq!((b >> 8) & 0xff, 8); // CLFLUSH line: 8 * 8 = 64 bytes
        assert_eq!((b >> 16) & 0xff, 1); // logical processors
        assert_eq!(b >> 24, 0); // APIC ID
        assert_eq!(c, 0x00c0_2000); // CX16, MOVBE, POPCNT
                                    // FPU DE PSE TSC MSR PAE CX8 SEP PGE CMOV PAT PSE36 MMX FXSR SSE
                                    // SSE2.
        assert_eq!(d, 0x0783_a97d);
        // Not advertised: VME(1), MCE(7), APIC(9), MTRR(12).
        for bit in [1, 7, 9, 12, 19, 28] {
            assert_eq!(d & (1 << bit), 0, "EDX bit {bit}");
        }
        for bit in [0, 9, 19, 20, 26, 27, 28, 30, 31] {
            assert_eq!(c & (1 << bit), 0, "ECX bit {bit}");
        }
    }

    #[test]
    fn structured_and_extended_leaves() {
        assert_eq!(cpuid(7, 0), (0, 0x0008_0108, 0, 0)); // BMI1 BMI2 ADX
        assert_eq!(cpuid(7, 1), (0, 0, 0, 0));
        assert_eq!(cpuid(0x8000_0000, 0).0, 0x8000_0008);
        // SYSCALL(11) NX(20) Page1GB(26) RDTSCP(27) LM(29); LAHF_LM(0) LZCNT(5).
        assert_eq!(cpuid(0x8000_0001, 0), (0, 0, 0x21, 0x2c10_0800));
        let mut brand = Vec::new();
        for leaf in 0x8000_0002..=0x8000_0004 {
            let (a, b, c, d) = cpuid(leaf, 0);
            brand.extend([a, b, c, d]);
        }
        assert_eq!(text(&brand), "xlat virtual CPU");
        assert_eq!(brand[4..], [0; 8]);
        assert_eq!(cpuid(0x8000_0008, 0), (0x3028, 0, 0, 0));
        assert_eq!(cpuid(4, 0).0 & 0x1f, 0); // no cache levels described
                                             // Above the maximum: the highest basic leaf's data.
        for leaf in [8, 0xd, 0x4000_0000, 0x8000_0009, 0xffff_ffff] {
            assert_eq!(cpuid(leaf, 0), cpuid(7, 0), "{leaf:#x}");
        }
    }

    #[test]
    fn cpuid_instruction_writes_zero_extended_registers() {
        let (mut cpu, mut bus) = lm(&[0x0f, 0xa2]);
        cpu.state.gpr = [u64::MAX; 16];
        cpu.state.gpr[0] = 0xffff_ffff_8000_0008; // upper half of RAX ignored
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[..4], [0x3028, 0, 0, 0]);
        assert_eq!(cpu.state.gpr[4], u64::MAX);
        assert_eq!(cpu.state.rip, 0x1002);
    }
}

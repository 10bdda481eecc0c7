//! CPUID: the CPU model's answer (`crate::model`). SDM Vol. 2
//! "CPUID—CPU Identification".

use super::Table;
use crate::exception::Fault;
use crate::memory::Bus;
use crate::state::reg;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Cpuid, cpuid_instruction);
}

/// IA32_APIC_BASE.EN, the local APIC's global enable.
const APIC_BASE_EN: u64 = 1 << 11;

impl Cpu {
    /// CPUID leaf `leaf`, subleaf `sub` as this processor answers it now
    /// (CPUID.1:ECX.OSXSAVE follows CR4, CPUID.(0DH,0):EBX follows XCR0).
    pub fn cpuid(&self, leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
        self.model.cpuid(leaf, sub, self.state.cr4, self.state.xcr0)
    }
}

/// CPUID: EAX, EBX, ECX, EDX := cpuid(EAX, ECX) (32-bit writes zero the
/// upper halves in 64-bit mode). Not privileged.
fn cpuid_instruction(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let g = &cpu.state.gpr;
    let leaf = g[reg::RAX] as u32;
    let (a, b, c, mut d) = cpu.cpuid(leaf, g[reg::RCX] as u32);
    // CPUID.1:EDX.APIC: the platform has a local APIC and IA32_APIC_BASE
    // enables it (SDM Vol. 3 §11.4.3); a model's APIC bit says only that
    // the processor may have one.
    // (AMD repeats the bit in 80000001H:EDX.)
    if (leaf == 1 || leaf == 0x8000_0001) && bus.apic_base().is_none_or(|b| b & APIC_BASE_EN == 0) {
        d &= !crate::cpuid_bits::bit::APIC;
    }
    let g = &mut cpu.state.gpr;
    g[reg::RAX] = u64::from(a);
    g[reg::RBX] = u64::from(b);
    g[reg::RCX] = u64::from(c);
    g[reg::RDX] = u64::from(d);
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::interp::interrupt::tests::lm;
    use crate::interp::tests::run;

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

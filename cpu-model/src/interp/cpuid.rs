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

impl Cpu {
    /// CPUID leaf `leaf`, subleaf `sub` as this processor answers it now
    /// (CPUID.1:ECX.OSXSAVE follows CR4, CPUID.(0DH,0):EBX follows XCR0).
    pub fn cpuid(&self, leaf: u32, sub: u32) -> (u32, u32, u32, u32) {
        self.model.cpuid(leaf, sub, self.state.cr4, self.state.xcr0)
    }
}

/// CPUID: EAX, EBX, ECX, EDX := cpuid(EAX, ECX) (32-bit writes zero the
/// upper halves in 64-bit mode). Not privileged.
fn cpuid_instruction(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let g = &cpu.state.gpr;
    let (a, b, c, d) = cpu.cpuid(g[reg::RAX] as u32, g[reg::RCX] as u32);
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

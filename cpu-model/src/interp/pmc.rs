//! RDPMC — SDM Vol. 2 "RDPMC—Read Performance-Monitoring Counters"; Vol. 3
//! §21.2 (architectural performance monitoring, CPUID leaf 0AH).
//!
//! The privilege rule comes first: outside CPL 0 in protected mode
//! (virtual-8086 mode included) CR4.PCE must be set, else #GP(0). Then
//! ECX must name a counter that exists. xlat's models have none: their
//! CPUID leaf 0AH reports version 0 with no general-purpose and no
//! fixed-function counters (and qemu64, an AMD-vendor model, no legacy
//! PerfCtr MSRs either), so every ECX is invalid and RDPMC raises #GP(0)
//! wherever it is allowed at all. (QEMU 7.2 raises #UD after the same
//! privilege check: "unimplemented rdpmc".)

use super::Table;
use crate::exception::{Exception, Fault};
use crate::memory::Bus;
use crate::state::{cr4, reg};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Rdpmc, rdpmc);
}

impl Cpu {
    /// The general-purpose and fixed-function counters the model
    /// describes in CPUID leaf 0AH (EAX[15:8], EDX[4:0]; version 0 in
    /// EAX[7:0] means none).
    pub fn performance_counters(&self) -> (u32, u32) {
        let (a, _, _, d) = self.cpuid(0xa, 0);
        if self.model.max_basic < 0xa || a & 0xff == 0 {
            return (0, 0);
        }
        ((a >> 8) & 0xff, d & 0x1f)
    }
}

fn rdpmc(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let st = &cpu.state;
    let allowed = !st.protected() || st.cpl() == 0 || st.cr4 & cr4::PCE != 0;
    if !allowed {
        return Err(Exception::GP(0).into());
    }
    // ECX[30:0] selects a general-purpose counter, with bit 30 set a
    // fixed-function one (Vol. 2 "RDPMC", Table 4-16).
    let ecx = st.gpr[reg::RCX] as u32;
    let (general, fixed) = cpu.performance_counters();
    let index = ecx & 0x3fff_ffff;
    let exists = if ecx & (1 << 30) != 0 {
        index < fixed
    } else {
        index < general
    };
    if ecx & !0x7fff_ffff != 0 || !exists {
        return Err(Exception::GP(0).into());
    }
    // No model here describes a counter, so no ECX gets this far.
    Err(Exception::GP(0).into())
}

#[cfg(test)]
mod tests {
    use crate::exception::{Exception, Fault};
    use crate::interp::tests::{exec, long64, prot32, real_mode};
    use crate::state::{cr4, reg};
    use crate::{Cpu, CpuModel};

    const RDPMC: [u8; 3] = [0x0f, 0x33, 0xf4];

    fn gp() -> Result<(), Fault> {
        Err(Exception::GP(0).into())
    }

    #[test]
    fn no_counters_in_any_model() {
        for name in ["xlat", "qemu64"] {
            let cpu = Cpu::with_model(CpuModel::by_name(name).unwrap());
            assert_eq!(cpu.performance_counters(), (0, 0), "{name}");
            assert_eq!(cpu.cpuid(0xa, 0), (0, 0, 0, 0), "{name}");
        }
    }

    #[test]
    fn privilege_then_counter_checks() {
        // CPL 3 with CR4.PCE = 0: #GP(0) (not #UD), whatever ECX.
        for ecx in [0, 1 << 30] {
            let (mut cpu, mut bus) = long64(&RDPMC);
            cpu.state.seg[1].selector |= 3;
            cpu.state.gpr[reg::RCX] = ecx;
            assert_eq!(exec(&mut cpu, &mut bus), gp());
            assert_eq!(cpu.state.rip, 0x1000);
        }
        // Allowed (CPL 0, CPL 3 with PCE, real mode), but counter 0 does
        // not exist: #GP(0), registers unchanged.
        let mut cases = vec![prot32(&RDPMC), real_mode(&RDPMC)];
        let (mut user, bus) = long64(&RDPMC);
        user.state.seg[1].selector |= 3;
        user.state.cr4 |= cr4::PCE;
        cases.push((user, bus));
        for (mut cpu, mut bus) in cases {
            cpu.state.gpr[reg::RAX] = 0x55;
            assert_eq!(exec(&mut cpu, &mut bus), gp());
            assert_eq!(cpu.state.gpr[reg::RAX], 0x55);
        }
        assert_eq!(
            crate::interp::desc(iced_x86::Code::Rdpmc).mnemonic,
            iced_x86::Mnemonic::Rdpmc
        );
    }
}

//! Model-specific registers and the time-stamp counter: RDMSR, WRMSR,
//! RDTSC, RDTSCP. SDM Vol. 2 "RDMSR", "WRMSR", "RDTSC", "RDTSCP"; Vol. 4
//! Table 2-2 (architectural MSRs); Vol. 3 §2.2.1 (EFER), §5.8.7–5.8.8
//! (SYSENTER, SYSCALL MSRs), §12.12.2 (PAT), §18.17 (TSC).
//!
//! The TSC is virtual: retired instructions + `msr.tsc_offset`, so runs are
//! deterministic.

use super::Table;
use crate::exception::{Exception, Fault};
use crate::memory::Bus;
use crate::mmu::paging::{is_canonical, MAX_PHYS_BITS};
use crate::state::{cr4, efer, reg, SegReg};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

/// MSR indices (ECX values).
pub mod index {
    pub const TSC: u32 = 0x10;
    /// IA32_PLATFORM_ID (read-only, SDM Vol. 4 Table 2-2 "IA32_PLATFORM_ID"):
    /// bits 52:50 name the processor's platform for microcode updates;
    /// 0 here (no microcode to match). Linux's Intel microcode driver
    /// reads it on every Intel processor of family 6 and later.
    pub const PLATFORM_ID: u32 = 0x17;
    pub const APIC_BASE: u32 = 0x1b;
    /// IA32_BIOS_SIGN_ID: microcode revision (reads 0; writes ignored).
    pub const BIOS_SIGN_ID: u32 = 0x8b;
    pub const SYSENTER_CS: u32 = 0x174;
    pub const SYSENTER_ESP: u32 = 0x175;
    pub const SYSENTER_EIP: u32 = 0x176;
    pub const MISC_ENABLE: u32 = 0x1a0;
    pub const PAT: u32 = 0x277;
    pub const EFER: u32 = 0xc000_0080;
    pub const STAR: u32 = 0xc000_0081;
    pub const LSTAR: u32 = 0xc000_0082;
    pub const CSTAR: u32 = 0xc000_0083;
    pub const FMASK: u32 = 0xc000_0084;
    pub const FS_BASE: u32 = 0xc000_0100;
    pub const GS_BASE: u32 = 0xc000_0101;
    pub const KERNEL_GS_BASE: u32 = 0xc000_0102;
    pub const TSC_AUX: u32 = 0xc000_0103;
}

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Rdmsr, rdmsr);
    t.set(Mnemonic::Wrmsr, wrmsr);
    t.set(Mnemonic::Rdtsc, rdtsc);
    t.set(Mnemonic::Rdtscp, rdtscp);
}

/// APIC_BASE: BSP (bit 8), enable (bit 11), base (bits 12..MAXPHYADDR).
/// x2APIC (bit 10) is not supported.
const APIC_BASE_WRITABLE: u64 = (1 << 8) | (1 << 11) | (((1u64 << MAX_PHYS_BITS) - 1) & !0xfff);
/// MISC_ENABLE: only fast-string enable (bit 0) is writable; the rest is
/// reserved or read-only here (XD disable, limit CPUID maxval: 0).
const MISC_ENABLE_WRITABLE: u64 = 1;

fn canonical(v: u64) -> Result<u64, Exception> {
    if is_canonical(v) {
        Ok(v)
    } else {
        Err(Exception::GP(0))
    }
}

/// A PAT value is valid if every entry is a memory type (0 UC, 1 WC, 4 WT,
/// 5 WP, 6 WB, 7 UC-); 2, 3 and bits 7:3 of an entry are reserved.
fn valid_pat(v: u64) -> bool {
    v.to_le_bytes()
        .iter()
        .all(|&b| matches!(b, 0 | 1 | 4 | 5 | 6 | 7))
}

impl Cpu {
    /// RDMSR semantics without the privilege check: the value of MSR
    /// `index`, or #GP(0) for an MSR that does not exist.
    pub fn read_msr(&self, index: u32) -> Result<u64, Exception> {
        let m = &self.state.msr;
        Ok(match index {
            index::TSC => self.state.tsc(),
            index::PLATFORM_ID => 0,
            index::APIC_BASE => m.apic_base,
            index::BIOS_SIGN_ID => 0,
            index::SYSENTER_CS => m.sysenter_cs,
            index::SYSENTER_ESP => m.sysenter_esp,
            index::SYSENTER_EIP => m.sysenter_eip,
            index::MISC_ENABLE => m.misc_enable,
            index::PAT => m.pat,
            index::EFER => self.state.efer,
            index::STAR => m.star,
            index::LSTAR => m.lstar,
            index::CSTAR => m.cstar,
            index::FMASK => m.sfmask,
            index::FS_BASE => self.state.segment(SegReg::Fs).base,
            index::GS_BASE => self.state.segment(SegReg::Gs).base,
            index::KERNEL_GS_BASE => m.kernel_gs_base,
            index::TSC_AUX => m.tsc_aux,
            _ => return Err(Exception::GP(0)),
        })
    }

    /// WRMSR semantics without the privilege check: #GP(0) for an unknown
    /// MSR, reserved bits, or a non-canonical address; nothing changes then.
    pub fn write_msr(&mut self, index: u32, v: u64) -> Result<(), Exception> {
        let m = &mut self.state.msr;
        match index {
            // The TSC reads `v` from now on (and keeps counting).
            index::TSC => m.tsc_offset = v.wrapping_sub(self.state.icount),
            index::APIC_BASE if v & !APIC_BASE_WRITABLE != 0 => return Err(Exception::GP(0)),
            index::APIC_BASE => m.apic_base = v,
            index::BIOS_SIGN_ID => {}
            index::SYSENTER_CS => m.sysenter_cs = v & 0xffff_ffff,
            index::SYSENTER_ESP => m.sysenter_esp = canonical(v)?,
            index::SYSENTER_EIP => m.sysenter_eip = canonical(v)?,
            index::MISC_ENABLE if v & !MISC_ENABLE_WRITABLE != 0 => return Err(Exception::GP(0)),
            index::MISC_ENABLE => m.misc_enable = v,
            index::PAT if !valid_pat(v) => return Err(Exception::GP(0)),
            index::PAT => m.pat = v,
            index::EFER => return self.write_efer(v),
            index::STAR => m.star = v,
            index::LSTAR => m.lstar = canonical(v)?,
            index::CSTAR => m.cstar = canonical(v)?,
            // Bits 63:32 of IA32_FMASK are reserved; they are dropped.
            index::FMASK => m.sfmask = v & 0xffff_ffff,
            index::FS_BASE => self.state.seg[SegReg::Fs as usize].base = canonical(v)?,
            index::GS_BASE => self.state.seg[SegReg::Gs as usize].base = canonical(v)?,
            index::KERNEL_GS_BASE => m.kernel_gs_base = canonical(v)?,
            index::TSC_AUX if v >> 32 != 0 => return Err(Exception::GP(0)),
            index::TSC_AUX => m.tsc_aux = v,
            _ => return Err(Exception::GP(0)),
        }
        Ok(())
    }

    /// IA32_EFER: SCE, LME and NXE are writable; LMA is set and cleared by
    /// the processor (the written value is ignored, as Bochs and QEMU do);
    /// any other bit → #GP(0). Changing LME while paging is on → #GP(0).
    /// A change of NXE flushes the TLB (cached entries carry the NX rule).
    fn write_efer(&mut self, v: u64) -> Result<(), Exception> {
        let writable = efer::SCE | efer::LME | efer::NXE;
        if v & !(writable | efer::LMA) != 0 {
            return Err(Exception::GP(0));
        }
        let old = self.state.efer;
        if (v ^ old) & efer::LME != 0 && self.state.paging() {
            return Err(Exception::GP(0));
        }
        self.state.efer = (v & writable) | (old & efer::LMA);
        if (v ^ old) & efer::NXE != 0 {
            self.tlb.flush_all();
        }
        Ok(())
    }

    /// EDX:EAX := v (each half zero-extended into its 64-bit register).
    fn set_edx_eax(&mut self, v: u64) {
        self.state.gpr[reg::RAX] = v & 0xffff_ffff;
        self.state.gpr[reg::RDX] = v >> 32;
    }

    /// RDTSC / RDTSCP: #GP(0) if CR4.TSD = 1 and CPL > 0.
    fn read_tsc_checked(&self) -> Result<u64, Exception> {
        if self.state.cr4 & cr4::TSD != 0 && self.state.cpl() != 0 {
            return Err(Exception::GP(0));
        }
        Ok(self.state.tsc())
    }
}

fn require_cpl0(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0));
    }
    Ok(())
}

/// RDMSR: EDX:EAX := MSR[ECX]. CPL 0 only (#GP(0)); unknown MSR → #GP(0).
fn rdmsr(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    let index = cpu.state.gpr[reg::RCX] as u32;
    // IA32_APIC_BASE is the platform's local APIC's, when it has one.
    let v = match bus.apic_base() {
        Some(v) if index == index::APIC_BASE => v,
        _ => cpu.read_msr(index)?,
    };
    cpu.set_edx_eax(v);
    Ok(())
}

/// WRMSR: MSR[ECX] := EDX:EAX. CPL 0 only (#GP(0)); see `write_msr`.
fn wrmsr(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    let v = (cpu.state.gpr[reg::RDX] << 32) | (cpu.state.gpr[reg::RAX] & 0xffff_ffff);
    let index = cpu.state.gpr[reg::RCX] as u32;
    if index == index::APIC_BASE {
        match bus.set_apic_base(v) {
            Some(true) => return Ok(()),
            Some(false) => return Err(Exception::GP(0).into()),
            None => {}
        }
    }
    cpu.write_msr(index, v)?;
    Ok(())
}

/// RDTSC: EDX:EAX := TSC (instructions retired before this one + offset).
fn rdtsc(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let t = cpu.read_tsc_checked()?;
    cpu.set_edx_eax(t);
    Ok(())
}

/// RDTSCP: as RDTSC, and ECX := IA32_TSC_AUX.
fn rdtscp(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let t = cpu.read_tsc_checked()?;
    cpu.set_edx_eax(t);
    cpu.state.gpr[reg::RCX] = cpu.state.msr.tsc_aux & 0xffff_ffff;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exception::Exception::GP;
    use crate::interp::descriptor::sys_type::INT_GATE;
    use crate::interp::interrupt::tests::{
        gate32, lm, pm, put, to_user, K_CODE, K_DATA, TSS, U_CODE,
    };
    use crate::interp::tests::{long64, run};
    use crate::state::{reg::*, SegReg};

    const RDMSR: [u8; 2] = [0x0f, 0x32];
    const WRMSR: [u8; 2] = [0x0f, 0x30];
    const RDTSC: [u8; 2] = [0x0f, 0x31];
    const RDTSCP: [u8; 3] = [0x0f, 0x01, 0xf9];

    #[test]
    fn wrmsr_rdmsr_round_trip_through_registers() {
        let code = [WRMSR, RDMSR].concat();
        let (mut cpu, mut bus) = lm(&code);
        cpu.state.gpr[RCX] = 0xffff_ffff_c000_0082; // upper half of RCX ignored
        cpu.state.gpr[RDX] = 0xdead_0000_ffff_8000; // upper halves ignored
        cpu.state.gpr[RAX] = 0xbeef_0000_1234_5678;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.msr.lstar, 0xffff_8000_1234_5678);
        cpu.state.gpr[RAX] = u64::MAX;
        cpu.state.gpr[RDX] = u64::MAX;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[RAX], 0x1234_5678);
        assert_eq!(cpu.state.gpr[RDX], 0xffff_8000);
    }

    /// IA32_PLATFORM_ID reads 0 and is read-only (#GP on WRMSR).
    #[test]
    fn platform_id_reads_zero_and_refuses_writes() {
        let cpu = Cpu::new();
        assert_eq!(cpu.read_msr(index::PLATFORM_ID), Ok(0));
        let mut cpu = Cpu::new();
        assert_eq!(cpu.write_msr(index::PLATFORM_ID, 0), Err(Exception::GP(0)));
    }

    #[test]
    fn unknown_msr_and_cpl3_fault() {
        let (mut cpu, mut bus) = pm(&RDMSR);
        gate32(&mut bus, 13, K_CODE, 0x3000, INT_GATE, 0);
        cpu.state.gpr[RCX] = 0x12345;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x3000);
        assert_eq!(cpu.stats.exceptions[13], 1);
        assert_eq!(cpu.state.gpr[RAX], 0);
        // CPL 3, valid MSR: #GP(0) as well.
        let (mut cpu, mut bus) = pm(&WRMSR);
        to_user(&mut cpu, U_CODE);
        put(&mut bus, TSS + 4, 4, 0x9000);
        put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
        gate32(&mut bus, 13, K_CODE, 0x3000, INT_GATE, 0);
        cpu.state.gpr[RCX] = u64::from(index::STAR);
        cpu.state.gpr[RAX] = 1;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x3000);
        assert_eq!(cpu.state.msr.star, 0);
        for i in [0x0, 0x11, 0x2ff, 0xc000_0085, 0xc000_0104, 0x4000_0000] {
            assert_eq!(cpu.read_msr(i), Err(GP(0)), "{i:#x}");
            assert_eq!(cpu.write_msr(i, 0), Err(GP(0)), "{i:#x}");
        }
    }

    #[test]
    fn msr_round_trips_and_checks() {
        let (mut cpu, _bus) = long64(&[]);
        let round = [
            (index::STAR, 0x0023_0010_dead_beef),
            (index::LSTAR, 0xffff_ffff_8100_0000),
            (index::CSTAR, 0x0000_7fff_ffff_fff0),
            (index::KERNEL_GS_BASE, 0xffff_8880_0000_0000),
            (index::SYSENTER_CS, 0x10),
            (index::SYSENTER_ESP, 0xffff_c900_0000_0000),
            (index::SYSENTER_EIP, 0x1234),
            (index::TSC_AUX, 0xffff_ffff),
            (index::PAT, 0x0007_0406_0007_0406),
            (index::PAT, 0x0105_0406_0700_0106),
            (index::APIC_BASE, 0xfee0_0900),
            (index::MISC_ENABLE, 1),
            (index::FMASK, 0x4_7700),
        ];
        for (i, v) in round {
            cpu.write_msr(i, v).unwrap();
            assert_eq!(cpu.read_msr(i), Ok(v), "{i:#x}");
        }
        // FS/GS bases are the segment-register bases.
        cpu.write_msr(index::FS_BASE, 0x7f00_1234_5000).unwrap();
        cpu.write_msr(index::GS_BASE, 0xffff_8000_0000_0000)
            .unwrap();
        assert_eq!(cpu.state.segment(SegReg::Fs).base, 0x7f00_1234_5000);
        assert_eq!(cpu.state.segment(SegReg::Gs).base, 0xffff_8000_0000_0000);
        assert_eq!(cpu.read_msr(index::GS_BASE), Ok(0xffff_8000_0000_0000));
        let before = cpu.state.clone();
        let bad = [
            (index::LSTAR, 0x0000_8000_0000_0000),
            (index::CSTAR, 0xfff0_0000_0000_0000),
            (index::FS_BASE, 0x8000_0000_0000_0000),
            (index::GS_BASE, 0x0001_0000_0000_0000),
            (index::KERNEL_GS_BASE, 0x0000_8000_0000_0000),
            (index::SYSENTER_EIP, 0x0000_8000_0000_0000),
            (index::TSC_AUX, 1 << 32),
            (index::PAT, 0x0000_0000_0000_0002),
            (index::PAT, 0x0300_0000_0000_0000),
            (index::PAT, 0x0000_0000_0008_0000),
            (index::APIC_BASE, 0xfee0_0000 | (1 << 10)),
            (index::APIC_BASE, 1 << 40),
            (index::MISC_ENABLE, 1 << 34),
        ];
        for (i, v) in bad {
            assert_eq!(cpu.write_msr(i, v), Err(GP(0)), "{i:#x} {v:#x}");
        }
        assert_eq!(cpu.state, before);
        // Bits 63:32 of FMASK are dropped; writes to BIOS_SIGN_ID ignored.
        cpu.write_msr(index::FMASK, 0x1_0000_0200).unwrap();
        assert_eq!(cpu.read_msr(index::FMASK), Ok(0x200));
        cpu.write_msr(index::BIOS_SIGN_ID, 0x5_0000_0000).unwrap();
        assert_eq!(cpu.read_msr(index::BIOS_SIGN_ID), Ok(0));
    }

    #[test]
    fn efer_rules() {
        let (mut cpu, _bus) = long64(&[]);
        let lme_lma = efer::LME | efer::LMA;
        assert_eq!(cpu.read_msr(index::EFER), Ok(lme_lma));
        // SCE and NXE are writable; LMA is kept whatever is written.
        cpu.write_msr(index::EFER, efer::LME | efer::SCE | efer::NXE)
            .unwrap();
        assert_eq!(cpu.state.efer, lme_lma | efer::SCE | efer::NXE);
        // LME cannot change while paging is on; reserved bits fault.
        assert_eq!(cpu.write_msr(index::EFER, efer::SCE), Err(GP(0)));
        assert_eq!(cpu.write_msr(index::EFER, lme_lma | (1 << 9)), Err(GP(0)));
        assert_eq!(cpu.write_msr(index::EFER, lme_lma | (1 << 12)), Err(GP(0)));
        assert_eq!(cpu.state.efer, lme_lma | efer::SCE | efer::NXE);
        // With paging off, LME can change; LMA stays as the processor set it.
        let (mut cpu, _bus) = pm(&[]);
        cpu.write_msr(index::EFER, efer::LME | efer::LMA).unwrap();
        assert_eq!(cpu.state.efer, efer::LME);
        // NXE changes flush the TLB.
        let (mut cpu, mut bus) = long64(&[]);
        cpu.translate(&mut bus, 0x1234, crate::mmu::Access::read(false))
            .unwrap();
        assert!(cpu.tlb.lookup(0x1234).is_some());
        cpu.write_msr(index::EFER, efer::LME | efer::NXE).unwrap();
        assert!(cpu.tlb.lookup(0x1234).is_none());
    }

    #[test]
    fn tsc_write_rdtsc_rdtscp() {
        let code = [WRMSR.as_slice(), &RDTSC, &RDTSCP].concat();
        let (mut cpu, mut bus) = pm(&code);
        cpu.state.icount = 500;
        cpu.state.gpr[RCX] = u64::from(index::TSC);
        cpu.state.gpr[RDX] = 0x1;
        cpu.state.gpr[RAX] = 0x0000_1000;
        run(&mut cpu, &mut bus, 1);
        // TSC counts retired instructions: WRMSR itself has retired.
        run(&mut cpu, &mut bus, 1);
        assert_eq!((cpu.state.gpr[RDX], cpu.state.gpr[RAX]), (1, 0x1001));
        cpu.state.msr.tsc_aux = 0x42;
        run(&mut cpu, &mut bus, 1);
        assert_eq!((cpu.state.gpr[RDX], cpu.state.gpr[RAX]), (1, 0x1002));
        assert_eq!(cpu.state.gpr[RCX], 0x42);
        assert_eq!(cpu.read_msr(index::TSC), Ok(0x1_0000_1003));
        // CR4.TSD: RDTSC/RDTSCP fault at CPL 3 only.
        for bytes in [&RDTSC[..], &RDTSCP[..]] {
            let (mut cpu, mut bus) = pm(bytes);
            to_user(&mut cpu, U_CODE);
            let ins = crate::interp::interrupt::tests::decode(&cpu, bytes);
            let h = crate::interp::desc(ins.code()).handler.unwrap();
            assert!(h(&mut cpu, &mut bus, &ins).is_ok());
            cpu.state.cr4 |= cr4::TSD;
            assert_eq!(h(&mut cpu, &mut bus, &ins), Err(GP(0).into()));
            cpu.state.seg[SegReg::Cs as usize] = crate::interp::interrupt::tests::seg(K_CODE);
            assert!(h(&mut cpu, &mut bus, &ins).is_ok());
        }
    }
}

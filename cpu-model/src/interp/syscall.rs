//! Fast system calls: SYSCALL/SYSRET, SYSENTER/SYSEXIT, and SWAPGS.
//! SDM Vol. 2 "SYSCALL", "SYSRET", "SYSENTER", "SYSEXIT", "SWAPGS";
//! Vol. 3 §5.8.7–5.8.8.
//!
//! These instructions load CS and SS with fixed, flat descriptor caches
//! (base 0, limit 4 GiB, G = 1) without reading the GDT: the selectors come
//! from MSRs and the OS must lay out its GDT to match.
//!
//! SYSCALL/SYSRET follow Intel: they exist only in 64-bit mode (#UD in
//! compatibility and legacy mode, as the SDM pseudo-code says and as
//! CPUID.80000001H:EDX.SYSCALL is documented on Intel: "SYSCALL/SYSRET
//! available in 64-bit mode"). IA32_CSTAR and the legacy STAR[31:0] entry
//! point are AMD features and are not used.

use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::{attr, efer, reg, CpuMode, SegReg, Segment};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Syscall, syscall);
    t.set(Mnemonic::Sysret, sysret);
    t.set(Mnemonic::Sysretq, sysret);
    t.set(Mnemonic::Sysenter, sysenter);
    t.set(Mnemonic::Sysexit, sysexit);
    t.set(Mnemonic::Sysexitq, sysexit);
    t.set(Mnemonic::Swapgs, swapgs);
}

/// The flat code segment these instructions load: type 0xB (execute/read,
/// accessed), S, P, G, DPL `dpl`, and L = 1 (64-bit) or D = 1 (32-bit).
fn flat_code(selector: u16, dpl: u8, long: bool) -> Segment {
    let size = if long { attr::L } else { attr::DB };
    Segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        attrs: 0xb | attr::S | attr::P | attr::G | size | (u16::from(dpl) << attr::DPL_SHIFT),
    }
}

/// The flat stack segment: type 3 (read/write, accessed), S, P, B, G, DPL `dpl`.
fn flat_stack(selector: u16, dpl: u8) -> Segment {
    Segment {
        base: 0,
        limit: 0xffff_ffff,
        selector,
        attrs: 0x3 | attr::S | attr::P | attr::G | attr::DB | (u16::from(dpl) << attr::DPL_SHIFT),
    }
}

/// SYSCALL: RCX = RIP (next instruction), R11 = RFLAGS (RF cleared),
/// RFLAGS &= !IA32_FMASK (and RF cleared), RIP = IA32_LSTAR,
/// CS = STAR[47:32] & 0xFFFC, SS = STAR[47:32] + 8 (as is, RPL included),
/// flat, CPL 0. Outside 64-bit mode or with EFER.SCE = 0: #UD. RSP is
/// not changed. SDM Vol. 2 "SYSCALL".
fn syscall(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    if cpu.state.mode() != CpuMode::Long64 || cpu.state.efer & efer::SCE == 0 {
        return Err(Exception::UD.into());
    }
    let sel = (cpu.state.msr.star >> 32) as u16;
    cpu.state.gpr[reg::RCX] = cpu.state.rip;
    cpu.state.gpr[11] = cpu.state.rflags & !flags::RF;
    cpu.state.rflags = ((cpu.state.rflags & !cpu.state.msr.sfmask & !flags::RF)
        & flags::IMPLEMENTED)
        | flags::FIXED;
    cpu.state.rip = cpu.state.msr.lstar;
    cpu.state.seg[SegReg::Cs as usize] = flat_code(sel & 0xfffc, 0, true);
    cpu.state.seg[SegReg::Ss as usize] = flat_stack(sel.wrapping_add(8), 0);
    Ok(())
}

/// SYSRET / SYSRETQ: back to CPL 3. 64-bit operand size (REX.W): RIP = RCX
/// (non-canonical: #GP(0), raised at CPL 0, before anything changes),
/// CS = (STAR[63:48] + 16) | 3 with L = 1; otherwise RIP = ECX and
/// CS = STAR[63:48] | 3, a 32-bit compatibility-mode segment. SS =
/// (STAR[63:48] + 8) | 3. RFLAGS = (R11 & 0x3C7FD7) | 2 (RF and VM cleared).
/// Outside 64-bit mode or with EFER.SCE = 0: #UD; CPL != 0: #GP(0).
/// SDM Vol. 2 "SYSRET".
fn sysret(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    if cpu.state.mode() != CpuMode::Long64 || cpu.state.efer & efer::SCE == 0 {
        return Err(Exception::UD.into());
    }
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0).into());
    }
    let to64 = ins.mnemonic() == Mnemonic::Sysretq;
    let rcx = cpu.state.gpr[reg::RCX];
    let rip = if to64 {
        if !is_canonical(rcx) {
            return Err(Exception::GP(0).into());
        }
        rcx
    } else {
        rcx & 0xffff_ffff
    };
    let base = (cpu.state.msr.star >> 48) as u16;
    let cs = if to64 { base.wrapping_add(16) } else { base };
    cpu.state.rip = rip;
    cpu.state.rflags = (cpu.state.gpr[11] & 0x003c_7fd7) | flags::FIXED;
    cpu.state.seg[SegReg::Cs as usize] = flat_code(cs | 3, 3, to64);
    cpu.state.seg[SegReg::Ss as usize] = flat_stack(base.wrapping_add(8) | 3, 3);
    Ok(())
}

/// SYSENTER: to CPL 0 at IA32_SYSENTER_CS:IA32_SYSENTER_EIP with the stack
/// IA32_SYSENTER_ESP; CS = SYSENTER_CS & 0xFFFC, SS = CS + 8, flat; 64-bit
/// code in IA-32e mode, else 32-bit (EIP/ESP take the low 32 bits).
/// Clears VM, IF and RF. Real mode or SYSENTER_CS[15:2] = 0: #GP(0).
/// Allowed at any CPL and from virtual-8086 mode. SDM Vol. 2 "SYSENTER".
fn sysenter(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let cs = cpu.state.msr.sysenter_cs as u16;
    if !cpu.state.protected() || cs & 0xfffc == 0 {
        return Err(Exception::GP(0).into());
    }
    let long = cpu.state.long_mode_active();
    let (esp, eip) = (cpu.state.msr.sysenter_esp, cpu.state.msr.sysenter_eip);
    cpu.state.rflags &= !(flags::VM | flags::IF | flags::RF);
    if long {
        cpu.state.gpr[reg::RSP] = esp;
        cpu.state.rip = eip;
    } else {
        cpu.state.gpr[reg::RSP] = esp & 0xffff_ffff;
        cpu.state.rip = eip & 0xffff_ffff;
    }
    let cs = cs & 0xfffc;
    cpu.state.seg[SegReg::Cs as usize] = flat_code(cs, 0, long);
    cpu.state.seg[SegReg::Ss as usize] = flat_stack(cs.wrapping_add(8), 0);
    Ok(())
}

/// SYSEXIT / SYSEXITQ: to CPL 3. 64-bit operand size (REX.W): RIP = RDX,
/// RSP = RCX (non-canonical: #GP(0)), CS = (SYSENTER_CS + 32) | 3 with
/// L = 1; otherwise EIP = EDX, ESP = ECX, CS = (SYSENTER_CS + 16) | 3, a
/// 32-bit segment. SS = CS + 8. SYSENTER_CS[15:2] = 0, real mode, or
/// CPL != 0 (virtual-8086 mode included): #GP(0). SDM Vol. 2 "SYSEXIT".
fn sysexit(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let base = cpu.state.msr.sysenter_cs as u16;
    if !cpu.state.protected() || base & 0xfffc == 0 || cpu.state.cpl() != 0 {
        return Err(Exception::GP(0).into());
    }
    let to64 = ins.mnemonic() == Mnemonic::Sysexitq;
    let (rcx, rdx) = (cpu.state.gpr[reg::RCX], cpu.state.gpr[reg::RDX]);
    let (sp, ip) = if to64 {
        if !is_canonical(rcx) || !is_canonical(rdx) {
            return Err(Exception::GP(0).into());
        }
        (rcx, rdx)
    } else {
        (rcx & 0xffff_ffff, rdx & 0xffff_ffff)
    };
    let cs = base.wrapping_add(if to64 { 32 } else { 16 }) | 3;
    cpu.state.gpr[reg::RSP] = sp;
    cpu.state.rip = ip;
    cpu.state.seg[SegReg::Cs as usize] = flat_code(cs, 3, to64);
    cpu.state.seg[SegReg::Ss as usize] = flat_stack(cs.wrapping_add(8), 3);
    Ok(())
}

/// SWAPGS: exchange GS.base with IA32_KERNEL_GS_BASE. Outside 64-bit mode:
/// #UD; CPL != 0: #GP(0). SDM Vol. 2 "SWAPGS".
fn swapgs(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    if cpu.state.mode() != CpuMode::Long64 {
        return Err(Exception::UD.into());
    }
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0).into());
    }
    let gs = &mut cpu.state.seg[SegReg::Gs as usize].base;
    std::mem::swap(gs, &mut cpu.state.msr.kernel_gs_base);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::descriptor::testutil::*;
    use crate::interp::tests::{long64, prot32, real_mode};
    use crate::state::efer;

    const SYSCALL: [u8; 2] = [0x0f, 0x05];
    const SYSRETQ: [u8; 3] = [0x48, 0x0f, 0x07];
    const SYSRETD: [u8; 2] = [0x0f, 0x07];

    /// Long mode with STAR = kernel 0x10, user base 0x1b (Linux layout).
    fn long_sce(code: &[u8]) -> (Cpu, FlatBus) {
        let (mut cpu, bus) = long64(code);
        cpu.state.efer |= efer::SCE;
        cpu.state.msr.star = (0x1b << 48) | (0x10 << 32);
        cpu.state.msr.lstar = 0xffff_8000_0000_2000;
        cpu.state.msr.sfmask = flags::IF | flags::DF | flags::TF;
        (cpu, bus)
    }

    #[test]
    fn syscall_sysret_round_trip() {
        let (mut cpu, mut bus) = long_sce(&SYSCALL);
        // Kernel entry at LSTAR: map it to the SYSRETQ bytes at 0x2000 by
        // pointing LSTAR at the low half instead (identity map is 1 GiB).
        cpu.state.msr.lstar = 0x2000;
        put(&mut bus, 0x2000, &SYSRETQ);
        cpu.state.seg[SegReg::Cs as usize].selector = 0x2b; // user CS, CPL 3
        cpu.state.seg[SegReg::Ss as usize].selector = 0x23;
        cpu.state.rflags = flags::FIXED | flags::IF | flags::DF | flags::CF | flags::RF;
        cpu.state.gpr[4] = 0x7000;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.rip, 0x2000);
        assert_eq!(cpu.state.gpr[reg::RCX], 0x1002);
        assert_eq!(
            cpu.state.gpr[11],
            flags::FIXED | flags::IF | flags::DF | flags::CF
        );
        assert_eq!(cpu.state.rflags, flags::FIXED | flags::CF);
        assert_eq!(cpu.state.cpl(), 0);
        assert_eq!(*cpu.state.cs(), flat_code(0x10, 0, true));
        assert_eq!(cpu.state.cs().attrs, 0xa09b);
        assert_eq!(*cpu.state.ss(), flat_stack(0x18, 0));
        assert_eq!(cpu.state.ss().attrs, 0xc093);
        assert_eq!(cpu.state.gpr[4], 0x7000, "RSP untouched");
        assert_eq!(cpu.state.mode(), CpuMode::Long64);
        // SYSRETQ: back to 0x1002 at CPL 3 with R11's flags.
        cpu.state.gpr[11] |= flags::RF | flags::VM | (1 << 15);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.rip, 0x1002);
        assert_eq!(
            cpu.state.rflags,
            flags::FIXED | flags::IF | flags::DF | flags::CF
        );
        assert_eq!(*cpu.state.cs(), flat_code(0x2b, 3, true));
        assert_eq!(cpu.state.cs().attrs, 0xa0fb);
        assert_eq!(*cpu.state.ss(), flat_stack(0x23, 3));
        assert_eq!(cpu.state.ss().attrs, 0xc0f3);
        assert_eq!(cpu.state.cpl(), 3);
    }

    #[test]
    fn sysret_to_compat_and_faults() {
        let (mut cpu, mut bus) = long_sce(&SYSRETD);
        cpu.state.gpr[reg::RCX] = 0xffff_ffff_8000_1234;
        cpu.state.gpr[11] = 0;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.rip, 0x8000_1234);
        assert_eq!(cpu.state.rflags, flags::FIXED);
        assert_eq!(cpu.state.cs().selector, 0x1b);
        assert_eq!(cpu.state.mode(), CpuMode::Compat32);
        assert_eq!(cpu.state.ss().selector, 0x23);
        // Non-canonical RCX: #GP(0) at CPL 0, nothing changed.
        let (mut cpu, mut bus) = long_sce(&SYSRETQ);
        cpu.state.gpr[reg::RCX] = 0x0000_8000_0000_0000;
        let before = cpu.state.clone();
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        assert_eq!(cpu.state, before);
        // CPL 3: #GP(0).
        cpu.state.seg[SegReg::Cs as usize].selector = 0x0b;
        cpu.state.gpr[reg::RCX] = 0x1000;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        // SCE clear: #UD (SYSCALL and SYSRET).
        cpu.state.efer &= !efer::SCE;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        let (mut cpu, mut bus) = long64(&SYSCALL);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        // Legacy protected mode and compatibility mode: #UD (Intel).
        let (mut cpu, mut bus) = prot32(&SYSCALL);
        cpu.state.efer |= efer::SCE;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        let (mut cpu, mut bus) = long_sce(&SYSCALL);
        cpu.state.seg[SegReg::Cs as usize] = Descriptor(FLAT_CODE32).to_segment(0x08);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    }

    #[test]
    fn sysenter_sysexit_32() {
        // sysenter at 0x1000; sysexit at 0x3000.
        let (mut cpu, mut bus) = prot32(&[0x0f, 0x34]);
        put(&mut bus, 0x3000, &[0x0f, 0x35]);
        cpu.state.msr.sysenter_cs = 0x0b; // RPL bits ignored
        cpu.state.msr.sysenter_esp = 0x1_0000_9000;
        cpu.state.msr.sysenter_eip = 0x3000;
        cpu.state.seg[SegReg::Cs as usize].selector = 0x1b;
        cpu.state.rflags = flags::FIXED | flags::IF | flags::RF | flags::ZF;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.rip, 0x3000);
        assert_eq!(cpu.state.gpr[4], 0x9000);
        assert_eq!(cpu.state.rflags, flags::FIXED | flags::ZF);
        assert_eq!(*cpu.state.cs(), flat_code(0x08, 0, false));
        assert_eq!(cpu.state.cs().attrs, 0xc09b);
        assert_eq!(*cpu.state.ss(), flat_stack(0x10, 0));
        cpu.state.gpr[reg::RCX] = 0xdead_0000_0000_7000;
        cpu.state.gpr[reg::RDX] = 0x1234;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.rip, 0x1234);
        assert_eq!(cpu.state.gpr[4], 0x7000);
        assert_eq!(*cpu.state.cs(), flat_code(0x1b, 3, false));
        assert_eq!(*cpu.state.ss(), flat_stack(0x23, 3));
        assert_eq!(cpu.state.ss().attrs, 0xc0f3);
        // SYSEXIT at CPL 3, SYSENTER with SYSENTER_CS = 3, real mode.
        cpu.state.rip = 0x3000;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        cpu.state.rip = 0x1000;
        cpu.state.msr.sysenter_cs = 3;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        let (mut cpu, mut bus) = real_mode(&[0x0f, 0x34]);
        cpu.state.msr.sysenter_cs = 0x08;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
    }

    #[test]
    fn sysenter_sysexit_64() {
        // sysenter ; (at 0x3000) sysexitq
        let (mut cpu, mut bus) = long64(&[0x0f, 0x34]);
        put(&mut bus, 0x3000, &[0x48, 0x0f, 0x35]);
        cpu.state.msr.sysenter_cs = 0x10;
        cpu.state.msr.sysenter_esp = 0xffff_8000_0000_9000;
        cpu.state.msr.sysenter_eip = 0x3000;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gpr[4], 0xffff_8000_0000_9000);
        assert_eq!(*cpu.state.cs(), flat_code(0x10, 0, true));
        assert_eq!(cpu.state.ss().selector, 0x18);
        cpu.state.gpr[reg::RCX] = 0x8000_0000_0000;
        cpu.state.gpr[reg::RDX] = 0x1000;
        let before = cpu.state.clone();
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        assert_eq!(cpu.state, before);
        cpu.state.gpr[reg::RCX] = 0x7fff_0000_0000;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.rip, 0x1000);
        assert_eq!(cpu.state.gpr[4], 0x7fff_0000_0000);
        assert_eq!(*cpu.state.cs(), flat_code(0x33, 3, true));
        assert_eq!(cpu.state.ss().selector, 0x3b);
        assert_eq!(cpu.state.mode(), CpuMode::Long64);
    }

    #[test]
    fn swapgs() {
        // swapgs ; swapgs
        let (mut cpu, mut bus) = long64(&[0x0f, 0x01, 0xf8, 0x0f, 0x01, 0xf8]);
        cpu.state.seg[SegReg::Gs as usize].base = 0x1111;
        cpu.state.msr.kernel_gs_base = 0xffff_8000_0000_2222;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.segment(SegReg::Gs).base, 0xffff_8000_0000_2222);
        assert_eq!(cpu.state.msr.kernel_gs_base, 0x1111);
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0).into()));
        let (mut cpu, mut bus) = prot32(&[0x0f, 0x01, 0xf8]);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
    }
}

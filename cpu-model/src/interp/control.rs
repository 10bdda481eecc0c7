//! Control and debug registers and processor-control instructions.
//! SDM Vol. 2 "MOV—Move to/from Control Registers", "MOV—Move to/from Debug
//! Registers", CLTS, LMSW, SMSW, INVLPG, HLT, CLI, STI, WBINVD, INVD;
//! Vol. 3 §2.5 (control registers), §4.4.1 (PDPTE loading), §4.10.4 (TLB
//! invalidation), §17.2 (debug registers).

use super::interrupt::DR7_GD;
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::memory::{Bus, PhysAddr};
use crate::mmu::paging::{is_canonical, MAX_PHYS_BITS};
use crate::state::{cr0, cr4, efer, CpuMode, SegReg};
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Wait, wait);
    t.set(Mnemonic::Clts, clts);
    t.set(Mnemonic::Lmsw, lmsw);
    t.set(Mnemonic::Smsw, smsw);
    t.set(Mnemonic::Invlpg, invlpg);
    t.set(Mnemonic::Hlt, hlt);
    t.set(Mnemonic::Cli, cli);
    t.set(Mnemonic::Sti, sti);
    t.set(Mnemonic::Wbinvd, wbinvd);
    t.set(Mnemonic::Invd, invd);
}

/// CR0 bits that exist; the others are ignored on writes and read as 0.
/// ET is hardwired to 1.
const CR0_VALID: u64 = cr0::PE
    | cr0::MP
    | cr0::EM
    | cr0::TS
    | cr0::ET
    | cr0::NE
    | cr0::WP
    | cr0::AM
    | cr0::NW
    | cr0::CD
    | cr0::PG;
/// CR4 bits of the features every CPU model advertises (TSC: TSD; DE; PSE;
/// PAE; PGE; FXSR: OSFXSR, OSXMMEXCPT) plus PCE; OSXSAVE is added where the
/// model has XSAVE. Setting any other bit (VME, PVI, MCE, SMEP, ...) is
/// #GP(0).
const CR4_VALID: u64 =
    cr4::TSD | cr4::DE | cr4::PSE | cr4::PAE | cr4::PGE | cr4::PCE | cr4::OSFXSR | cr4::OSXMMEXCPT;
/// DR6: bits 4–11 and 16–31 read as 1, bit 12 as 0. SDM Vol. 3 §18.2.3.
const DR6_FIXED: u64 = 0xffff_0ff0;
const DR6_WRITABLE: u64 = 0xe00f;
/// DR7: bit 10 reads as 1; bits 11, 12, 14, 15 as 0. SDM Vol. 3 §18.2.4.
const DR7_FIXED: u64 = 0x400;
const DR7_WRITABLE: u64 = 0xffff_23ff;
/// DR6.BD: the #DB was a general-detect fault.
const DR6_BD: u64 = 1 << 13;

fn require_cpl0(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0));
    }
    Ok(())
}

/// WAIT/FWAIT: #NM if CR0.MP and CR0.TS are both set; otherwise a pending
/// unmasked x87 exception is reported (#MF with CR0.NE). SDM Vol. 2
/// "WAIT/FWAIT", Vol. 3 Table 2-2.
fn wait(cpu: &mut Cpu, bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    let both = crate::state::cr0::MP | crate::state::cr0::TS;
    if cpu.state.cr0 & both == both {
        return Err(Exception::NM.into());
    }
    super::fpu::check_pending(cpu, bus)?;
    Ok(())
}

/// MOV to/from CRn or DRn (the `Mnemonic::Mov` forms whose operand is a
/// control or debug register; the MOV handler in datamov.rs forwards them).
/// The r/m operand is always a register: 32-bit outside 64-bit mode (the
/// upper half of a read CR/DR is dropped), 64-bit in it. Checks in order:
/// #UD for CR1, CR5–CR7, CR9–CR15 (CR8 exists only in 64-bit mode) and
/// DR8–DR15; #GP(0) if CPL > 0; #DB (general detect, DR6.BD) for any DR
/// access while DR7.GD = 1; #UD for DR4/DR5 with CR4.DE = 1 (they alias
/// DR6/DR7 when CR4.DE = 0); then the register's own write rules.
// Reached through the MOV handler of datamov.rs (another family), so unused
// until that lands.
#[cfg_attr(not(test), allow(dead_code))]
pub(super) fn mov_cr_dr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let (to_special, special, gpr) = {
        let r0 = ins.op0_register();
        if r0.is_cr() || r0.is_dr() {
            (true, r0, ins.op1_register())
        } else {
            (false, ins.op1_register(), r0)
        }
    };
    let n = special.number();
    if special.is_cr() {
        if !matches!(n, 0 | 2 | 3 | 4 | 8) {
            return Err(Exception::UD.into());
        }
        require_cpl0(cpu)?;
        if to_special {
            let v = cpu.reg(gpr);
            cpu.write_cr(bus, n, v)?;
        } else {
            // CR8 is the local APIC's TPR when the platform has one.
            let v = match bus.cr8() {
                Some(v) if n == 8 => v,
                _ => cpu.read_cr(n),
            };
            cpu.set_reg(gpr, v);
        }
        return Ok(());
    }
    if !special.is_dr() || n > 7 {
        return Err(Exception::UD.into());
    }
    require_cpl0(cpu)?;
    if cpu.state.dr[7] & DR7_GD != 0 {
        cpu.state.dr[6] = (cpu.state.dr[6] & !0xf) | DR6_BD;
        return Err(Exception::DB.into());
    }
    let n = match n {
        4 | 5 if cpu.state.cr4 & cr4::DE != 0 => return Err(Exception::UD.into()),
        4 | 5 => n + 2,
        _ => n,
    };
    if to_special {
        let v = cpu.reg(gpr);
        cpu.write_dr(n, v)?;
    } else {
        let v = cpu.state.dr[n];
        cpu.set_reg(gpr, v);
    }
    Ok(())
}

impl Cpu {
    /// Value of CRn as MOV from CR reads it (CR8: the TPR, bits 3:0).
    pub fn read_cr(&self, n: usize) -> u64 {
        match n {
            0 => self.state.cr0,
            2 => self.state.cr2,
            3 => self.state.cr3,
            4 => self.state.cr4,
            8 => self.state.cr8 & 0xf,
            _ => 0,
        }
    }

    /// MOV to CRn (n = 0, 2, 3, 4, 8) with all its checks; nothing changes
    /// if it faults.
    pub fn write_cr(&mut self, bus: &mut dyn Bus, n: usize, v: u64) -> Result<(), Exception> {
        match n {
            0 => self.write_cr0(bus, v),
            2 => {
                self.state.cr2 = v;
                Ok(())
            }
            3 => self.write_cr3(bus, v),
            4 => self.write_cr4(bus, v),
            8 => {
                if v & !0xf != 0 {
                    return Err(Exception::GP(0));
                }
                if !bus.set_cr8(v) {
                    self.state.cr8 = v;
                }
                Ok(())
            }
            _ => Err(Exception::UD),
        }
    }

    /// PAE paging (not IA-32e) would be in use with these CR0/CR4 values.
    fn pae_paging(&self, cr0_v: u64, cr4_v: u64) -> bool {
        cr0_v & cr0::PG != 0 && cr4_v & cr4::PAE != 0 && self.state.efer & efer::LME == 0
    }

    /// Loading the PDPTE registers (PAE paging): #GP(0) if a present entry
    /// has a reserved bit set (bits 1, 2, 5–8, 63:MAXPHYADDR). SDM Vol. 3
    /// §4.4.1. (The walker re-reads the PDPTEs; this is only the check.)
    fn check_pdptes(&mut self, bus: &mut dyn Bus, cr3: u64) -> Result<(), Exception> {
        let base = cr3 & 0xffff_ffe0;
        let reserved = 0x1e6 | !((1u64 << MAX_PHYS_BITS) - 1);
        for i in 0..4 {
            let mut b = [0u8; 8];
            bus.read_phys(PhysAddr(base + i * 8), &mut b);
            let e = u64::from_le_bytes(b);
            if e & 1 != 0 && e & reserved != 0 {
                return Err(Exception::GP(0));
            }
        }
        Ok(())
    }

    /// MOV to CR0: bits 63:32 → #GP(0); PG without PE, NW without CD →
    /// #GP(0); setting PG with EFER.LME activates IA-32e mode (EFER.LMA = 1;
    /// #GP(0) if CR4.PAE = 0 or CS.L = 1); clearing PG deactivates it (#GP(0)
    /// in 64-bit mode: leave from compatibility mode). Changes of PG, WP or
    /// CD flush the TLB.
    fn write_cr0(&mut self, bus: &mut dyn Bus, v: u64) -> Result<(), Exception> {
        if v >> 32 != 0 {
            return Err(Exception::GP(0));
        }
        let new = (v & CR0_VALID) | cr0::ET;
        if (new & cr0::PG != 0 && new & cr0::PE == 0) || (new & cr0::NW != 0 && new & cr0::CD == 0)
        {
            return Err(Exception::GP(0));
        }
        let old = self.state.cr0;
        let mut efer_v = self.state.efer;
        if new & cr0::PG != 0 && old & cr0::PG == 0 && efer_v & efer::LME != 0 {
            if self.state.cr4 & cr4::PAE == 0 || self.state.cs().long() {
                return Err(Exception::GP(0));
            }
            efer_v |= efer::LMA;
        }
        if new & cr0::PG == 0 && old & cr0::PG != 0 {
            if self.state.mode() == CpuMode::Long64 {
                return Err(Exception::GP(0));
            }
            efer_v &= !efer::LMA;
        }
        let reload = (old ^ new) & (cr0::PG | cr0::CD | cr0::NW) != 0;
        if reload && self.pae_paging(new, self.state.cr4) {
            self.check_pdptes(bus, self.state.cr3)?;
        }
        self.state.cr0 = new;
        self.state.efer = efer_v;
        if (old ^ new) & (cr0::PG | cr0::WP | cr0::CD) != 0 {
            self.tlb.flush_all();
        }
        Ok(())
    }

    /// MOV to CR3: in IA-32e mode bits 63:MAXPHYADDR are reserved (#GP(0);
    /// no PCIDs, so bit 63 too); in PAE paging the PDPTEs are checked.
    /// Flushes the TLB except global entries (all of it if CR4.PGE = 0).
    fn write_cr3(&mut self, bus: &mut dyn Bus, v: u64) -> Result<(), Exception> {
        if v >> MAX_PHYS_BITS != 0 {
            return Err(Exception::GP(0));
        }
        if self.pae_paging(self.state.cr0, self.state.cr4) {
            self.check_pdptes(bus, v)?;
        }
        self.state.cr3 = v;
        self.tlb.flush_nonglobal(self.state.cr4 & cr4::PGE != 0);
        Ok(())
    }

    /// MOV to CR4: bits outside [`CR4_VALID`] (and OSXSAVE with XSAVE) →
    /// #GP(0); clearing PAE while
    /// IA-32e mode is active → #GP(0). Changes of PGE, PAE or PSE flush the
    /// whole TLB (global entries too).
    fn write_cr4(&mut self, bus: &mut dyn Bus, v: u64) -> Result<(), Exception> {
        let osxsave = if self.model.has_xsave() {
            cr4::OSXSAVE
        } else {
            0
        };
        if v & !(CR4_VALID | osxsave) != 0 {
            return Err(Exception::GP(0));
        }
        if self.state.long_mode_active() && v & cr4::PAE == 0 {
            return Err(Exception::GP(0));
        }
        let old = self.state.cr4;
        let changed = old ^ v;
        if changed & (cr4::PAE | cr4::PGE | cr4::PSE) != 0 && self.pae_paging(self.state.cr0, v) {
            self.check_pdptes(bus, self.state.cr3)?;
        }
        self.state.cr4 = v;
        if changed & (cr4::PGE | cr4::PAE | cr4::PSE | cr4::SMEP) != 0 {
            self.tlb.flush_all();
        }
        Ok(())
    }

    /// MOV to DRn (n = 0–3, 6, 7): DR6/DR7 bits 63:32 → #GP(0); fixed bits
    /// forced to their values.
    fn write_dr(&mut self, n: usize, v: u64) -> Result<(), Exception> {
        match n {
            6 | 7 if v >> 32 != 0 => Err(Exception::GP(0)),
            6 => {
                self.state.dr[6] = (v & DR6_WRITABLE) | DR6_FIXED;
                Ok(())
            }
            7 => {
                self.state.dr[7] = (v & DR7_WRITABLE) | DR7_FIXED;
                Ok(())
            }
            _ => {
                if let Some(r) = self.state.dr.get_mut(n) {
                    *r = v;
                }
                Ok(())
            }
        }
    }
}

/// CLTS: clear CR0.TS. CPL 0 only (#GP(0)).
fn clts(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    cpu.state.cr0 &= !cr0::TS;
    Ok(())
}

/// LMSW r/m16: load CR0 bits 0–3 (PE, MP, EM, TS) from the source; PE can
/// be set but not cleared. CPL 0 only (#GP(0)).
fn lmsw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    let src = cpu.read_op(bus, ins, 0)? & 0xf;
    let c = cpu.state.cr0;
    cpu.state.cr0 = (c & !0xf) | src | (c & cr0::PE);
    Ok(())
}

/// SMSW r/m: store CR0. A memory destination receives bits 15:0; a 16-bit
/// register its low 16 bits; a 32- or 64-bit register the whole of CR0
/// (the SDM calls the upper bits undefined; Intel processors store CR0).
/// Not privileged (CR4.UMIP is not supported).
fn smsw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let v = cpu.state.cr0;
    if ins.op0_kind() == OpKind::Memory {
        let ea = cpu.effective_address(ins);
        cpu.write_mem(bus, Cpu::mem_segment(ins), ea, 2, v & 0xffff)?;
    } else {
        cpu.set_reg(ins.op0_register(), v);
    }
    Ok(())
}

/// INVLPG m: drop the TLB entries for the page holding the linear address
/// of m (global ones too). No segment-limit check; a non-canonical address
/// in 64-bit mode is a no-op. CPL 0 only (#GP(0)).
fn invlpg(cpu: &mut Cpu, _bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    if ins.op0_kind() != OpKind::Memory {
        return Err(Exception::UD.into());
    }
    let ea = cpu.effective_address(ins);
    let seg = Cpu::mem_segment(ins);
    let base = if cpu.state.mode() == CpuMode::Long64 && !matches!(seg, SegReg::Fs | SegReg::Gs) {
        0
    } else {
        cpu.state.segment(seg).base
    };
    let lin = cpu.wrap_linear(base.wrapping_add(ea));
    if cpu.state.long_mode_active() && !is_canonical(lin) {
        return Ok(());
    }
    cpu.tlb.flush_page(lin);
    Ok(())
}

/// HLT: stop until an interrupt, NMI or reset (RIP is already past HLT,
/// the address an interrupt handler returns to). CPL 0 only (#GP(0)).
fn hlt(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    cpu.state.events.halted = true;
    Ok(())
}

/// CLI and STI are allowed in protected mode when CPL <= IOPL (in
/// virtual-8086 mode, IOPL = 3); else #GP(0). VME/PVI are not advertised,
/// so VIF is never used.
fn check_iopl(cpu: &Cpu) -> Result<(), Exception> {
    if cpu.state.protected() && cpu.state.cpl() > cpu.state.iopl() {
        return Err(Exception::GP(0));
    }
    Ok(())
}

/// CLI: IF = 0.
fn cli(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    check_iopl(cpu)?;
    cpu.state.rflags &= !flags::IF;
    Ok(())
}

/// STI: IF = 1; if IF was 0, maskable interrupts stay blocked until after
/// the next instruction (interrupt shadow).
fn sti(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    check_iopl(cpu)?;
    if !cpu.flag(flags::IF) {
        cpu.state.rflags |= flags::IF;
        cpu.state.events.interrupt_shadow = true;
    }
    Ok(())
}

/// WBINVD: write back and invalidate caches — no caches are modelled, so
/// only the CPL 0 check (#GP(0)) remains.
fn wbinvd(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    Ok(())
}

/// INVD: invalidate caches without writing back — as WBINVD (memory is
/// always coherent here).
fn invd(cpu: &mut Cpu, _bus: &mut dyn Bus, _ins: &Instruction) -> Result<(), Fault> {
    require_cpl0(cpu)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::descriptor::sys_type::INT_GATE;
    use crate::interp::interrupt::tests::{
        decode, gate32, get, lm, pm, put, to_user, K_CODE, K_CODE64, K_DATA, TSS, U_CODE,
    };
    use crate::interp::tests::{prot32, run};
    use crate::memory::FlatBus;
    use crate::mmu::Access;
    use crate::state::reg::RAX;
    use crate::CpuMode;

    fn mov(cpu: &mut Cpu, bus: &mut FlatBus, bytes: &[u8], eax: u64) -> Result<(), Fault> {
        cpu.state.gpr[RAX] = eax;
        let ins = decode(cpu, bytes);
        mov_cr_dr(cpu, bus, &ins)
    }

    const CR0_W: &[u8] = &[0x0f, 0x22, 0xc0];
    const CR0_R: &[u8] = &[0x0f, 0x20, 0xc0];
    const CR1_R: &[u8] = &[0x0f, 0x20, 0xc8];
    const CR3_W: &[u8] = &[0x0f, 0x22, 0xd8];
    const CR4_W: &[u8] = &[0x0f, 0x22, 0xe0];
    const CR8_W: &[u8] = &[0x44, 0x0f, 0x22, 0xc0];
    const CR8_R: &[u8] = &[0x44, 0x0f, 0x20, 0xc0];
    const DR0_W: &[u8] = &[0x0f, 0x23, 0xc0];
    const DR0_R: &[u8] = &[0x0f, 0x21, 0xc0];
    const DR4_R: &[u8] = &[0x0f, 0x21, 0xe0];
    const DR5_W: &[u8] = &[0x0f, 0x23, 0xe8];
    const DR6_W: &[u8] = &[0x0f, 0x23, 0xf0];
    const DR7_W: &[u8] = &[0x0f, 0x23, 0xf8];

    fn gp0() -> Result<(), Fault> {
        Err(Exception::GP(0).into())
    }

    #[test]
    fn cr0_rules() {
        let (mut cpu, mut bus) = pm(&[]);
        mov(&mut cpu, &mut bus, CR0_R, 0).unwrap();
        assert_eq!(cpu.state.gpr[RAX], 0x6000_0011);
        // Reserved bits ignored, ET hardwired.
        mov(&mut cpu, &mut bus, CR0_W, 0x7fc1).unwrap();
        assert_eq!(cpu.state.cr0, 0x11);
        let before = cpu.state.clone();
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, cr0::PG), gp0());
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, cr0::PE | cr0::NW), gp0());
        cpu.state.gpr[RAX] = before.gpr[RAX];
        assert_eq!(cpu.state, before);
        mov(
            &mut cpu,
            &mut bus,
            CR0_W,
            cr0::PE | cr0::NW | cr0::CD | cr0::TS,
        )
        .unwrap();
        assert_eq!(cpu.state.cr0, 0x6000_0019);
        // 64-bit mode: bits 63:32 are reserved.
        let (mut cpu, mut bus) = lm(&[]);
        let v = cpu.state.cr0 | (1 << 32);
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, v), gp0());
    }

    #[test]
    fn entering_and_leaving_long_mode() {
        let (mut cpu, mut bus) = prot32(&[]);
        put(&mut bus, 0x70000, 8, 0x71007);
        put(&mut bus, 0x71000, 8, 0x87);
        mov(&mut cpu, &mut bus, CR3_W, 0x70000).unwrap();
        cpu.state.efer = efer::LME;
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, 0x8000_0011), gp0()); // PAE = 0
        mov(&mut cpu, &mut bus, CR4_W, cr4::PAE).unwrap();
        mov(&mut cpu, &mut bus, CR0_W, 0x8000_0011).unwrap();
        assert_eq!(cpu.state.efer, efer::LME | efer::LMA);
        assert_eq!(cpu.state.mode(), CpuMode::Compat32);
        assert_eq!(mov(&mut cpu, &mut bus, CR4_W, 0), gp0());
        // In 64-bit mode paging cannot be turned off.
        cpu.state.seg[SegReg::Cs as usize] = crate::interp::interrupt::tests::seg(K_CODE64);
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, 0x11), gp0());
        cpu.state.seg[SegReg::Cs as usize] = crate::interp::interrupt::tests::seg(K_CODE);
        mov(&mut cpu, &mut bus, CR0_W, 0x11).unwrap();
        assert_eq!(cpu.state.efer, efer::LME);
        assert_eq!(cpu.state.mode(), CpuMode::Protected32);
        // Activating IA-32e mode with CS.L = 1 is refused.
        cpu.state.seg[SegReg::Cs as usize] = crate::interp::interrupt::tests::seg(K_CODE64);
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, 0x8000_0011), gp0());
        assert_eq!(cpu.state.efer, efer::LME);
    }

    #[test]
    fn cr3_cr4_cr8_and_privilege() {
        let (mut cpu, mut bus) = pm(&[]);
        for bad in [cr4::VME, cr4::PVI, cr4::MCE, cr4::UMIP, cr4::SMEP, 1 << 15] {
            assert_eq!(mov(&mut cpu, &mut bus, CR4_W, bad), gp0(), "{bad:#x}");
        }
        let ok = cr4::TSD
            | cr4::DE
            | cr4::PSE
            | cr4::PAE
            | cr4::PGE
            | cr4::PCE
            | cr4::OSFXSR
            | cr4::OSXMMEXCPT;
        mov(&mut cpu, &mut bus, CR4_W, ok).unwrap();
        assert_eq!(cpu.state.cr4, ok);
        // CPL 3: #GP(0); a CR that does not exist is #UD first.
        to_user(&mut cpu, U_CODE);
        assert_eq!(mov(&mut cpu, &mut bus, CR0_R, 0), gp0());
        assert_eq!(mov(&mut cpu, &mut bus, CR1_R, 0), Err(Exception::UD.into()));
        assert_eq!(mov(&mut cpu, &mut bus, DR7_W, 0), gp0());
        // CR8 (64-bit mode): the TPR, bits 3:0.
        let (mut cpu, mut bus) = lm(&[]);
        mov(&mut cpu, &mut bus, CR8_W, 0xf).unwrap();
        mov(&mut cpu, &mut bus, CR8_R, 0).unwrap();
        assert_eq!(cpu.state.gpr[RAX], 0xf);
        assert_eq!(mov(&mut cpu, &mut bus, CR8_W, 0x10), gp0());
        // CR3 bits above MAXPHYADDR are reserved.
        assert_eq!(mov(&mut cpu, &mut bus, CR3_W, 1 << 40), gp0());
        assert_eq!(mov(&mut cpu, &mut bus, CR3_W, 1 << 63), gp0());
        assert_eq!(cpu.state.cr3, 0x70000);
    }

    #[test]
    fn debug_registers() {
        let (mut cpu, mut bus) = pm(&[]);
        mov(&mut cpu, &mut bus, DR7_W, 0).unwrap();
        assert_eq!(cpu.state.dr[7], 0x400);
        mov(&mut cpu, &mut bus, DR7_W, 0xffff_dfff).unwrap();
        assert_eq!(cpu.state.dr[7], 0xffff_07ff);
        mov(&mut cpu, &mut bus, DR6_W, 0).unwrap();
        assert_eq!(cpu.state.dr[6], 0xffff_0ff0);
        mov(&mut cpu, &mut bus, DR6_W, 0xffff_ffff).unwrap();
        assert_eq!(cpu.state.dr[6], 0xffff_efff);
        // DR4/DR5 alias DR6/DR7 while CR4.DE = 0.
        mov(&mut cpu, &mut bus, DR4_R, 0).unwrap();
        assert_eq!(cpu.state.gpr[RAX], 0xffff_efff);
        mov(&mut cpu, &mut bus, DR5_W, 0x1).unwrap();
        assert_eq!(cpu.state.dr[7], 0x401);
        cpu.state.cr4 |= cr4::DE;
        assert_eq!(mov(&mut cpu, &mut bus, DR4_R, 0), Err(Exception::UD.into()));
        assert_eq!(mov(&mut cpu, &mut bus, DR5_W, 0), Err(Exception::UD.into()));
        // General detect (GD is writable): the next DR access is a #DB with
        // DR6.BD set and B0-B3 cleared, and writes nothing.
        mov(&mut cpu, &mut bus, DR7_W, 0xffff_ffff).unwrap();
        assert_eq!(cpu.state.dr[7], 0xffff_27ff);
        cpu.state.dr[6] = 0xffff_0ff3;
        assert_eq!(
            mov(&mut cpu, &mut bus, DR0_W, 0x1234),
            Err(Exception::DB.into())
        );
        assert_eq!(cpu.state.dr[6], 0xffff_2ff0);
        assert_eq!(cpu.state.dr[0], 0);
        // 64-bit mode: DR0-3 hold 64-bit addresses; DR6/DR7 bits 63:32 reserved.
        let (mut cpu, mut bus) = lm(&[]);
        mov(&mut cpu, &mut bus, DR0_W, 0xffff_8000_0000_1000).unwrap();
        mov(&mut cpu, &mut bus, DR0_R, 0).unwrap();
        assert_eq!(cpu.state.gpr[RAX], 0xffff_8000_0000_1000);
        assert_eq!(mov(&mut cpu, &mut bus, DR7_W, 1 << 32), gp0());
        assert_eq!(mov(&mut cpu, &mut bus, DR6_W, 1 << 32), gp0());
    }

    fn read_byte(cpu: &mut Cpu, bus: &mut FlatBus, lin: u64) -> u8 {
        let mut b = [0u8];
        cpu.read_linear(bus, lin, &mut b, Access::read(false))
            .unwrap();
        b[0]
    }

    #[test]
    fn tlb_flush_on_cr3_and_invlpg() {
        let (mut cpu, mut bus) = lm(&[0x0f, 0x01, 0x38, 0x0f, 0x01, 0x38]); // INVLPG [RAX] x2
                                                                            // 0x4000_0000 mapped by 4 KiB pages: PDPT[1] -> PD 0x72000 -> PT 0x73000.
        put(&mut bus, 0x71008, 8, 0x72007);
        put(&mut bus, 0x72000, 8, 0x73007);
        put(&mut bus, 0x73000, 8, 0x5007);
        bus.ram[0x5000] = 0xaa;
        bus.ram[0x6000] = 0xbb;
        let va = 0x4000_0000;
        assert_eq!(read_byte(&mut cpu, &mut bus, va), 0xaa);
        put(&mut bus, 0x73000, 8, 0x6007);
        assert_eq!(read_byte(&mut cpu, &mut bus, va), 0xaa); // stale until flushed
        mov(&mut cpu, &mut bus, CR3_W, 0x70000).unwrap();
        assert_eq!(read_byte(&mut cpu, &mut bus, va), 0xbb);
        // Setting CR4.PGE flushes everything; global pages then survive CR3
        // writes but not INVLPG.
        put(&mut bus, 0x73000, 8, 0x5107);
        mov(&mut cpu, &mut bus, CR4_W, cr4::PAE | cr4::PGE).unwrap();
        assert_eq!(read_byte(&mut cpu, &mut bus, va), 0xaa);
        put(&mut bus, 0x73000, 8, 0x6107);
        mov(&mut cpu, &mut bus, CR3_W, 0x70000).unwrap();
        assert_eq!(read_byte(&mut cpu, &mut bus, va), 0xaa);
        cpu.state.gpr[RAX] = va + 0xabc;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(read_byte(&mut cpu, &mut bus, va), 0xbb);
        // INVLPG at CPL 3: #GP(0).
        to_user(&mut cpu, crate::interp::interrupt::tests::U_CODE64);
        let ins = decode(&cpu, &[0x0f, 0x01, 0x38]);
        assert_eq!(invlpg(&mut cpu, &mut bus, &ins), gp0());
    }

    #[test]
    fn pae_pdpte_reserved_bits() {
        let (mut cpu, mut bus) = prot32(&[]);
        put(&mut bus, 0x70000, 8, 0x71001);
        put(&mut bus, 0x70008, 8, 0x72021); // bit 5 reserved in a PDPTE
        mov(&mut cpu, &mut bus, CR3_W, 0x70000).unwrap(); // paging off: no check
        mov(&mut cpu, &mut bus, CR4_W, cr4::PAE).unwrap();
        assert_eq!(mov(&mut cpu, &mut bus, CR0_W, 0x8000_0011), gp0());
        put(&mut bus, 0x70008, 8, 0x72000); // not present: ignored
        mov(&mut cpu, &mut bus, CR0_W, 0x8000_0011).unwrap();
        put(&mut bus, 0x70018, 8, (1 << 40) | 0x73001); // above MAXPHYADDR
        assert_eq!(mov(&mut cpu, &mut bus, CR3_W, 0x70000), gp0());
    }

    /// A FlatBus with an interrupt controller holding at most one vector.
    struct IrqBus {
        ram: FlatBus,
        irq: Option<u8>,
    }

    impl Bus for IrqBus {
        fn read_phys(&mut self, a: crate::PhysAddr, buf: &mut [u8]) {
            self.ram.read_phys(a, buf)
        }
        fn write_phys(&mut self, a: crate::PhysAddr, data: &[u8]) {
            self.ram.write_phys(a, data)
        }
        fn io_in(&mut self, port: u16, size: u32) -> u32 {
            self.ram.io_in(port, size)
        }
        fn io_out(&mut self, port: u16, size: u32, value: u32) {
            self.ram.io_out(port, size, value)
        }
        fn interrupt_pending(&self) -> bool {
            self.irq.is_some()
        }
        fn acknowledge_interrupt(&mut self) -> Option<u8> {
            self.irq.take()
        }
    }

    #[test]
    fn sti_shadow_then_hlt_then_interrupt() {
        let (mut cpu, mut ram) = pm(&[0xfb, 0xf4, 0xf4]); // STI; HLT; HLT
        gate32(&mut ram, 0x40, K_CODE, 0x1002, INT_GATE, 0);
        cpu.state.rflags &= !flags::IF;
        let mut bus = IrqBus {
            ram,
            irq: Some(0x40),
        };
        cpu.step(&mut bus).unwrap();
        assert!(cpu.state.events.interrupt_shadow && cpu.flag(flags::IF));
        cpu.step(&mut bus).unwrap(); // HLT runs in the STI shadow
        assert!(cpu.state.events.halted);
        assert_eq!(cpu.state.rip, 0x1002);
        cpu.step(&mut bus).unwrap(); // the interrupt wakes the processor
        assert!(!cpu.state.events.halted);
        assert_eq!(cpu.state.rip, 0x1002);
        assert_eq!(get(&bus.ram, 0x7ff4, 4), 0x1002);
        assert!(!cpu.flag(flags::IF));
        cpu.step(&mut bus).unwrap();
        assert_eq!(cpu.step(&mut bus), Ok(crate::interp::StepOutcome::Halted));
        // STI with IF already 1 sets no shadow.
        let (mut cpu, mut ram) = pm(&[0xfb]);
        cpu.step(&mut ram).unwrap();
        assert!(!cpu.state.events.interrupt_shadow);
    }

    #[test]
    fn iopl_and_cpl_checks_fault_with_rf() {
        for (code, iopl, ok) in [
            (0xfa, 0u8, false),
            (0xfb, 0, false),
            (0xfa, 3, true),
            (0xfb, 3, true),
            (0xf4, 3, false),
        ] {
            let (mut cpu, mut bus) = pm(&[code]);
            to_user(&mut cpu, U_CODE);
            cpu.state.rflags |= u64::from(iopl) << 12;
            put(&mut bus, TSS + 4, 4, 0x9000);
            put(&mut bus, TSS + 8, 2, u64::from(K_DATA));
            gate32(&mut bus, 13, K_CODE, 0x3000, INT_GATE, 0);
            run(&mut cpu, &mut bus, 1);
            if ok {
                assert_eq!(cpu.state.rip, 0x1001);
                continue;
            }
            assert_eq!(cpu.state.rip, 0x3000, "{code:#x}");
            assert_eq!(get(&bus, 0x9000 - 24, 4), 0); // error code
            assert_eq!(get(&bus, 0x9000 - 20, 4), 0x1000);
            assert_eq!(get(&bus, 0x9000 - 12, 4) & flags::RF, flags::RF);
        }
    }

    #[test]
    fn clts_lmsw_smsw_wbinvd() {
        // CLTS; LMSW AX; SMSW EAX; SMSW AX (16-bit); WBINVD; INVD
        let code = [
            0x0f, 0x06, 0x0f, 0x01, 0xf0, 0x0f, 0x01, 0xe0, 0x66, 0x0f, 0x01, 0xe0, 0x0f, 0x09,
            0x0f, 0x08,
        ];
        let (mut cpu, mut bus) = pm(&code);
        cpu.state.cr0 |= cr0::TS;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.cr0, 0x6000_0011);
        cpu.state.gpr[RAX] = 0xfff6; // PE clear in the source: stays set
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.cr0, 0x6000_0017);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[RAX], 0x6000_0017);
        cpu.state.gpr[RAX] = 0x1234_5678;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[RAX], 0x1234_0017);
        run(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.rip, 0x1010);
        // At CPL 3 only SMSW is allowed.
        for (bytes, ok) in [
            (&[0x0f, 0x06][..], false),
            (&[0x0f, 0x01, 0xf0], false),
            (&[0x0f, 0x09], false),
            (&[0x0f, 0x08], false),
            (&[0x0f, 0x01, 0xe0], true),
        ] {
            let (mut cpu, mut bus) = pm(bytes);
            to_user(&mut cpu, U_CODE);
            let ins = decode(&cpu, bytes);
            let h = crate::interp::desc(ins.code()).handler.unwrap();
            assert_eq!(h(&mut cpu, &mut bus, &ins).is_ok(), ok, "{bytes:x?}");
        }
    }
}

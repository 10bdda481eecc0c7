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
/// CR4 bits of the features CPUID advertises (TSC: TSD; DE; PSE; PAE; PGE)
/// plus PCE. Setting any other bit (VME, PVI, MCE, OSFXSR, SMEP, ...) is #GP(0).
const CR4_VALID: u64 = cr4::TSD | cr4::DE | cr4::PSE | cr4::PAE | cr4::PGE | cr4::PCE;
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

/// MOV to/from CRn or DRn (the `Mnemonic::Mov` forms whose operand is a
/// control or debug register; the MOV handler in datamov.rs forwards them).
/// The r/m operand is always a register: 32-bit outside 64-bit mode (the
/// upper half of a read CR/DR is dropped), 64-bit in it. Checks in order:
/// #UD for CR1, CR5–CR7, CR9–CR15 (CR8 exists only in 64-bit mode) and
/// DR8–DR15; #GP(0) if CPL > 0; #DB (general detect, DR6.BD) for any DR
/// access while DR7.GD = 1; #UD for DR4/DR5 with CR4.DE = 1 (they alias
/// DR6/DR7 when CR4.DE = 0); then the register's own write rules.
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
            let v = cpu.read_cr(n);
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
                self.state.cr8 = v;
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

    /// MOV to CR4: bits outside [`CR4_VALID`] → #GP(0); clearing PAE while
    /// IA-32e mode is active → #GP(0). Changes of PGE, PAE or PSE flush the
    /// whole TLB (global entries too).
    fn write_cr4(&mut self, bus: &mut dyn Bus, v: u64) -> Result<(), Exception> {
        if v & !CR4_VALID != 0 {
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

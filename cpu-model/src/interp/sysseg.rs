//! System-segment instructions: LLDT, SLDT, LTR, STR (SDM Vol. 2 "LLDT",
//! "SLDT", "LTR", "STR"; Vol. 3 §3.5.1, §8.2.4), and the selector checks
//! for unprivileged code: LAR, LSL, VERR, VERW, ARPL (SDM Vol. 2 "LAR",
//! "LSL", "VERR/VERW", "ARPL"; Vol. 3 §5.10).
//!
//! All are #UD in real and virtual-8086 mode. The selector checks never
//! fault on a bad selector: the answer is ZF (1 = valid); only ZF changes,
//! the other status flags keep their values.

use super::descriptor::{null_segment, sys_type, Descriptor};
use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags;
use crate::memory::Bus;
use crate::mmu::paging::is_canonical;
use crate::state::CpuMode;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Lar, lar_lsl);
    t.set(Mnemonic::Lsl, lar_lsl);
    t.set(Mnemonic::Verr, verr_verw);
    t.set(Mnemonic::Verw, verr_verw);
    t.set(Mnemonic::Arpl, arpl);
    t.set(Mnemonic::Lldt, lldt);
    t.set(Mnemonic::Sldt, sldt_str);
    t.set(Mnemonic::Ltr, ltr);
    t.set(Mnemonic::Str, sldt_str);
}

/// #UD in real and virtual-8086 mode (LLDT, SLDT, LTR, STR, LAR, LSL,
/// VERR, VERW, ARPL).
pub(super) fn protected_only(cpu: &Cpu) -> Result<(), Exception> {
    if !cpu.state.protected() || cpu.state.v86() {
        return Err(Exception::UD);
    }
    Ok(())
}

/// Read a system descriptor from the GDT for LLDT/LTR: TI = 1 or beyond the
/// GDT limit (16 bytes in IA-32e mode): #GP(selector). Returns the low half
/// and, in IA-32e mode, the high half, with its linear address.
fn read_gdt_system(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    selector: u16,
) -> Result<(Descriptor, Option<u64>, u64), Exception> {
    let code = selector & 0xfffc;
    if selector & 4 != 0 {
        return Err(Exception::GP(code));
    }
    let long = cpu.state.long_mode_active();
    let size = if long { 16 } else { 8 };
    let lin = cpu
        .descriptor_address(selector, size)
        .ok_or(Exception::GP(code))?;
    let desc = Descriptor(cpu.read_system(bus, lin, 8)?);
    let high = if long {
        Some(cpu.read_system(bus, lin.wrapping_add(8), 8)?)
    } else {
        None
    };
    Ok((desc, high, lin))
}

/// LLDT r/m16: load LDTR from an LDT descriptor in the GDT (16 bytes in
/// IA-32e mode, where a non-canonical base is #GP(selector)). A null
/// selector leaves LDTR unusable. Not an LDT descriptor: #GP(selector); not
/// present: #NP(selector). CPL > 0: #GP(0); real/virtual-8086 mode: #UD.
/// SDM Vol. 2 "LLDT".
fn lldt(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    protected_only(cpu)?;
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0).into());
    }
    let selector = cpu.read_op(bus, ins, 0)? as u16;
    let code = selector & 0xfffc;
    if code == 0 {
        cpu.state.ldtr = null_segment(selector);
        return Ok(());
    }
    let (desc, high, _) = read_gdt_system(cpu, bus, selector)?;
    if desc.is_segment() || desc.typ() != sys_type::LDT {
        return Err(Exception::GP(code).into());
    }
    if !desc.present() {
        return Err(Exception::NP(code).into());
    }
    let mut cache = desc.to_segment(selector);
    if let Some(high) = high {
        cache.base = desc.base64(high);
        if !is_canonical(cache.base) {
            return Err(Exception::GP(code).into());
        }
    }
    cpu.state.ldtr = cache;
    Ok(())
}

/// LTR r/m16: load TR from an available TSS descriptor in the GDT (16-bit
/// or 32-bit; in IA-32e mode only the 16-byte 64-bit TSS, whose base must
/// be canonical) and mark it busy in memory. Null selector: #GP(0); not an
/// available TSS: #GP(selector); not present: #NP(selector). CPL > 0:
/// #GP(0); real/virtual-8086 mode: #UD. SDM Vol. 2 "LTR".
fn ltr(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    protected_only(cpu)?;
    if cpu.state.cpl() != 0 {
        return Err(Exception::GP(0).into());
    }
    let selector = cpu.read_op(bus, ins, 0)? as u16;
    let code = selector & 0xfffc;
    if code == 0 {
        return Err(Exception::GP(0).into());
    }
    let (desc, high, lin) = read_gdt_system(cpu, bus, selector)?;
    let available = match desc.typ() {
        sys_type::TSS_AVAIL => true,
        sys_type::TSS16_AVAIL => high.is_none(),
        _ => false,
    };
    if desc.is_segment() || !available {
        return Err(Exception::GP(code).into());
    }
    if !desc.present() {
        return Err(Exception::NP(code).into());
    }
    let mut cache = desc.to_segment(selector);
    if let Some(high) = high {
        cache.base = desc.base64(high);
        if !is_canonical(cache.base) {
            return Err(Exception::GP(code).into());
        }
    }
    // Busy bit: type bit 1, in byte 5.
    let byte5 = ((desc.0 >> 40) & 0xff) | 0x2;
    cpu.write_system(bus, lin.wrapping_add(5), 1, byte5)?;
    cache.attrs |= 0x2;
    cpu.state.tr = cache;
    Ok(())
}

/// SLDT/STR r/m16: store the LDTR/TR selector; a 32/64-bit register
/// destination gets it zero-extended, memory always gets 16 bits.
/// Real/virtual-8086 mode: #UD; CR4.UMIP at CPL > 0: #GP(0).
/// SDM Vol. 2 "SLDT", "STR".
fn sldt_str(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    protected_only(cpu)?;
    super::segload::umip_check(cpu)?;
    let selector = if ins.mnemonic() == Mnemonic::Sldt {
        cpu.state.ldtr.selector
    } else {
        cpu.state.tr.selector
    };
    cpu.write_op(bus, ins, 0, u64::from(selector))?;
    Ok(())
}

/// The descriptor of `selector` if it is visible to LAR (`lar`) or LSL
/// at the CPL and the selector's RPL: not null, inside the GDT/LDT, of
/// a type the instruction accepts, and (except conforming code) with
/// DPL >= max(CPL, RPL). Accepted system types: LAR 1, 2, 3, 4, 5, 9,
/// B, C; LSL 1, 2, 3, 9, B; in IA-32e mode LAR 2, 9, B, C and LSL 2, 9,
/// B, whose 16-byte descriptors must then lie wholly inside the table.
/// SDM Vol. 2 "LAR" Table 3-53, "LSL" Table 3-62.
fn visible_descriptor(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    selector: u16,
    lar: bool,
) -> Result<Option<Descriptor>, Exception> {
    if selector & 0xfffc == 0 {
        return Ok(None);
    }
    let Some(desc) = cpu.read_descriptor(bus, selector)? else {
        return Ok(None);
    };
    let cpl = cpu.state.cpl();
    let rpl = (selector & 3) as u8;
    let privileged = desc.dpl() < cpl || desc.dpl() < rpl;
    if desc.is_segment() {
        return Ok((desc.is_conforming() || !privileged).then_some(desc));
    }
    use sys_type::*;
    let long = cpu.state.long_mode_active();
    let valid = match (lar, long) {
        (true, true) => matches!(desc.typ(), LDT | TSS_AVAIL | TSS_BUSY | CALL_GATE),
        (false, true) => matches!(desc.typ(), LDT | TSS_AVAIL | TSS_BUSY),
        (true, false) => matches!(
            desc.typ(),
            TSS16_AVAIL
                | LDT
                | TSS16_BUSY
                | CALL_GATE16
                | TASK_GATE
                | TSS_AVAIL
                | TSS_BUSY
                | CALL_GATE
        ),
        (false, false) => matches!(
            desc.typ(),
            TSS16_AVAIL | LDT | TSS16_BUSY | TSS_AVAIL | TSS_BUSY
        ),
    };
    if !valid || privileged || (long && cpu.descriptor_address(selector, 16).is_none()) {
        return Ok(None);
    }
    Ok(Some(desc))
}

/// LAR r, r/m16 and LSL r, r/m16. LAR loads the access rights: bytes 5
/// and 6 of the descriptor in place (16-bit operand: `& 0xff00`; 32/64-bit:
/// `& 0x00ff_ff00`, zero-extended; the SDM leaves bits 16..19 — the limit's
/// top nibble — undefined, and we return them as stored, as Bochs does).
/// LSL loads the byte-granular limit (G applied; 16-bit operand: low 16
/// bits). ZF = 1 on success; on failure ZF = 0 and the destination is
/// unchanged. SDM Vol. 2 "LAR", "LSL".
fn lar_lsl(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    protected_only(cpu)?;
    let selector = cpu.read_op(bus, ins, 1)? as u16;
    let lar = ins.mnemonic() == Mnemonic::Lar;
    let Some(desc) = visible_descriptor(cpu, bus, selector, lar)? else {
        cpu.set_flags(flags::ZF, 0);
        return Ok(());
    };
    let wide = Cpu::op_size(ins, 0) > 2;
    let value = if lar {
        let high = desc.0 >> 32;
        if wide {
            high & 0x00ff_ff00
        } else {
            high & 0xff00
        }
    } else if wide {
        u64::from(desc.limit())
    } else {
        u64::from(desc.limit()) & 0xffff
    };
    cpu.set_reg(ins.op0_register(), value);
    cpu.set_flags(flags::ZF, flags::ZF);
    Ok(())
}

/// VERR/VERW r/m16: ZF = 1 if the segment is readable (VERR: data, or
/// readable code) or writable (VERW: writable data) at the CPL and RPL:
/// null selectors, selectors beyond the table, system descriptors fail;
/// data and non-conforming code need DPL >= max(CPL, RPL); readable
/// conforming code passes VERR at any level. SDM Vol. 2 "VERR/VERW".
fn verr_verw(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    protected_only(cpu)?;
    let selector = cpu.read_op(bus, ins, 0)? as u16;
    let ok = if selector & 0xfffc == 0 {
        false
    } else {
        match cpu.read_descriptor(bus, selector)? {
            None => false,
            Some(desc) => {
                let cpl = cpu.state.cpl();
                let rpl = (selector & 3) as u8;
                let visible = desc.dpl() >= cpl && desc.dpl() >= rpl;
                if ins.mnemonic() == Mnemonic::Verr {
                    desc.is_readable() && (visible || desc.is_conforming())
                } else {
                    desc.is_writable_data() && visible
                }
            }
        }
    };
    cpu.set_flags(flags::ZF, if ok { flags::ZF } else { 0 });
    Ok(())
}

/// ARPL r/m16, r16: if the destination's RPL is below the source's, raise
/// it to the source's and set ZF (only the low 16 bits of a register
/// destination are written); else clear ZF and write nothing. #UD in real
/// and virtual-8086 mode; in 64-bit mode opcode 63 is MOVSXD (iced decodes
/// it so), so ARPL never reaches here there. SDM Vol. 2 "ARPL".
fn arpl(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    protected_only(cpu)?;
    if cpu.state.mode() == CpuMode::Long64 {
        return Err(Exception::UD.into());
    }
    let dest = cpu.read_op(bus, ins, 0)? & 0xffff;
    let src = cpu.reg(ins.op1_register()) & 0xffff;
    if dest & 3 < src & 3 {
        let v = (dest & !3) | (src & 3);
        if ins.op0_kind() == OpKind::Register {
            let n = ins.op0_register().number();
            if let Some(r) = cpu.state.gpr.get_mut(n) {
                *r = (*r & !0xffff) | v;
            }
        } else {
            let ea = cpu.effective_address(ins);
            cpu.write_mem(bus, Cpu::mem_segment(ins), ea, 2, v)?;
        }
        cpu.set_flags(flags::ZF, flags::ZF);
    } else {
        cpu.set_flags(flags::ZF, 0);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::descriptor::testutil::*;
    use crate::interp::tests::{long64, prot32, real_mode};
    use crate::state::{attr, SegReg};

    fn zf(cpu: &Cpu) -> bool {
        cpu.flag(flags::ZF)
    }

    fn gdt32() -> Vec<u64> {
        vec![
            0,
            FLAT_CODE32,
            seg_desc(0x1000, 0xabcde, 0xf2, 0xd), // 2: data DPL3, G, D, AVL
            seg_desc(0, 0xfff, 0x92, 0x0),        // 3: data DPL0
            seg_desc(0, 0xfff, 0x9e, 0x0),        // 4: conforming readable DPL0
            seg_desc(0, 0xfff, 0x98, 0x0),        // 5: exec-only DPL0
            seg_desc(0x6000, 0x67, 0xe9, 0x0),    // 6: 32-bit TSS DPL3
            gate_desc(0x08, 0x1000, 0xe4, 0),     // 7: 16-bit call gate DPL3
            gate_desc(0x08, 0x1000, 0xee, 0),     // 8: interrupt gate DPL3
            seg_desc(0, 0xfff, 0xf0, 0x0),        // 9: read-only data DPL3
        ]
    }

    /// Run `lar/lsl/verr/verw` with the selector in EBX, at CPL `cpl`.
    fn check(code: &[u8], sel: u16, cpl: u16, eax: u64) -> (bool, u64) {
        let (mut cpu, mut bus) = prot32(code);
        setup_gdt(&mut cpu, &mut bus, &gdt32());
        cpu.state.seg[SegReg::Cs as usize].selector = 0x08 | cpl;
        cpu.state.gpr[0] = eax;
        cpu.state.gpr[3] = u64::from(sel);
        cpu.state.rflags |= flags::CF;
        exec(&mut cpu, &mut bus).unwrap();
        assert!(cpu.flag(flags::CF), "other flags untouched");
        (zf(&cpu), cpu.state.gpr[0])
    }

    const LAR32: &[u8] = &[0x0f, 0x02, 0xc3]; // lar eax,ebx
    const LAR16: &[u8] = &[0x66, 0x0f, 0x02, 0xc3]; // lar ax,bx
    const LSL32: &[u8] = &[0x0f, 0x03, 0xc3]; // lsl eax,ebx
    const LSL16: &[u8] = &[0x66, 0x0f, 0x03, 0xc3]; // lsl ax,bx
    const VERR: &[u8] = &[0x0f, 0x00, 0xe3]; // verr bx
    const VERW: &[u8] = &[0x0f, 0x00, 0xeb]; // verw bx

    #[test]
    fn lar() {
        let junk = 0xdead_beef_dead_beef;
        assert_eq!(check(LAR32, 0x13, 3, junk), (true, 0x00da_f200));
        assert_eq!(check(LAR16, 0x13, 3, junk), (true, 0xdead_beef_dead_f200));
        assert_eq!(check(LAR32, 0x18, 0, junk), (true, 0x0000_9200));
        // DPL 0 data at CPL 3 or RPL 3: invisible, destination unchanged.
        assert_eq!(check(LAR32, 0x18, 3, junk), (false, junk));
        assert_eq!(check(LAR32, 0x1b, 0, junk), (false, junk));
        // Conforming code: visible at any level.
        assert_eq!(check(LAR32, 0x23, 3, junk), (true, 0x9e00));
        assert_eq!(check(LAR32, 0x2b, 3, junk), (false, junk));
        // System types: TSS and call gate yes, interrupt gate no.
        assert_eq!(check(LAR32, 0x33, 3, 0), (true, 0xe900));
        assert_eq!(check(LAR32, 0x3b, 3, 0), (true, 0xe400));
        assert_eq!(check(LAR32, 0x43, 3, 0), (false, 0));
        // Null, beyond the GDT.
        assert_eq!(check(LAR32, 0x3, 0, 0), (false, 0));
        assert_eq!(check(LAR32, 0x50, 0, 0), (false, 0));
    }

    #[test]
    fn lsl() {
        assert_eq!(check(LSL32, 0x13, 3, 0), (true, 0xabcd_efff));
        assert_eq!(check(LSL16, 0x13, 3, 0x5555_0000), (true, 0x5555_efff));
        assert_eq!(check(LSL32, 0x18, 0, 0), (true, 0xfff));
        assert_eq!(check(LSL32, 0x33, 3, 0), (true, 0x67));
        // Call gates have no limit.
        assert_eq!(check(LSL32, 0x3b, 3, 7), (false, 7));
        assert_eq!(check(LSL32, 0x18, 3, 7), (false, 7));
    }

    #[test]
    fn verr_verw() {
        assert!(check(VERR, 0x13, 3, 0).0);
        assert!(check(VERW, 0x13, 3, 0).0);
        assert!(!check(VERR, 0x18, 3, 0).0);
        assert!(!check(VERR, 0x1b, 0, 0).0);
        assert!(check(VERR, 0x23, 3, 0).0, "conforming readable code");
        assert!(!check(VERW, 0x23, 0, 0).0);
        assert!(!check(VERR, 0x28, 0, 0).0, "execute-only");
        assert!(check(VERR, 0x4b, 3, 0).0);
        assert!(!check(VERW, 0x4b, 3, 0).0, "read-only data");
        assert!(!check(VERR, 0x33, 3, 0).0, "system");
        assert!(!check(VERR, 0, 0, 0).0);
        assert!(!check(VERW, 0x50, 0, 0).0);
    }

    #[test]
    fn long_mode_types() {
        // lar eax,ebx ; lsl eax,ebx (64-bit mode)
        let (mut cpu, mut bus) = long64(&[0x0f, 0x02, 0xc3]);
        let gdt = [
            0,
            FLAT_CODE64,
            seg_desc(0x6000, 0x67, 0x89, 0), // 2-3: 64-bit TSS
            0,
            seg_desc(0x6000, 0x67, 0x81, 0), // 4: 16-bit TSS: not in IA-32e mode
            seg_desc(0x6000, 0x67, 0x89, 0), // 5: TSS whose high half is cut
        ];
        setup_gdt(&mut cpu, &mut bus, &gdt);
        for (sel, ok) in [(0x10, true), (0x20, false), (0x28, false)] {
            cpu.state.rip = 0x1000;
            cpu.state.gpr[0] = 0;
            cpu.state.gpr[3] = sel;
            exec(&mut cpu, &mut bus).unwrap();
            assert_eq!(zf(&cpu), ok, "selector {sel:#x}");
            assert_eq!(cpu.state.gpr[0], if ok { 0x8900 } else { 0 });
        }
    }

    #[test]
    fn arpl() {
        // arpl ax,bx ; arpl [0x3000],bx
        let (mut cpu, mut bus) = prot32(&[0x63, 0xd8, 0x63, 0x1d, 0x00, 0x30, 0x00, 0x00]);
        cpu.state.gpr[0] = 0xffff_0010;
        cpu.state.gpr[3] = 0x0002;
        put(&mut bus, 0x3000, &[0x1b, 0x00]);
        exec(&mut cpu, &mut bus).unwrap();
        assert!(zf(&cpu));
        assert_eq!(cpu.state.gpr[0], 0xffff_0012);
        exec(&mut cpu, &mut bus).unwrap();
        assert!(!zf(&cpu));
        assert_eq!(get(&bus, 0x3000, 2), 0x1b);
        let (mut cpu, mut bus) = real_mode(&[0x63, 0xd8]);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        for code in [LAR32, LSL32, VERR, VERW] {
            let (mut cpu, mut bus) = real_mode(code);
            assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
            // Virtual-8086 mode too.
            let (mut cpu, mut bus) = real_mode(code);
            cpu.state.cr0 |= crate::state::cr0::PE;
            cpu.state.rflags |= flags::VM;
            assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        }
    }

    #[test]
    fn lldt_ltr_sldt_str_32() {
        // lldt ax ; ltr bx ; sldt ecx ; str [0x3000]
        let code = [
            0x0f, 0x00, 0xd0, 0x0f, 0x00, 0xdb, 0x0f, 0x00, 0xc1, 0x0f, 0x00, 0x0d, 0x00, 0x30, 0,
            0,
        ];
        let (mut cpu, mut bus) = prot32(&code);
        let gdt = [
            0,
            FLAT_CODE32,
            FLAT_DATA,
            seg_desc(0x5000, 0x3f, 0x82, 0), // 3: LDT
            seg_desc(0x6000, 0x67, 0x89, 0), // 4: available 32-bit TSS
            seg_desc(0x6000, 0x67, 0x09, 0), // 5: TSS not present
            seg_desc(0x6000, 0x67, 0x8b, 0), // 6: busy TSS
            seg_desc(0x5000, 0x3f, 0x02, 0), // 7: LDT not present
        ];
        setup_gdt(&mut cpu, &mut bus, &gdt);
        cpu.state.gpr[0] = 0x1b; // RPL kept in LDTR.selector
        cpu.state.gpr[3] = 0x20;
        cpu.state.gpr[1] = 0xffff_ffff;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.ldtr.base, 0x5000);
        assert_eq!(cpu.state.ldtr.limit, 0x3f);
        assert_eq!(cpu.state.ldtr.selector, 0x1b);
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.tr.base, 0x6000);
        assert_eq!(cpu.state.tr.attrs & attr::TYPE_MASK, 0xb);
        assert_eq!(bus.ram[GDT_BASE + 0x20 + 5], 0x8b, "busy in memory");
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gpr[1], 0x1b, "zero-extended into ECX");
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(&bus.ram[0x3000..0x3002], &[0x20, 0x00]);

        let run_at = |cpu: &mut Cpu, bus: &mut FlatBus, rip: u64| {
            cpu.state.rip = 0x1000 + rip;
            exec(cpu, bus)
        };
        // LTR of the (now busy) TSS, of a non-present one, of an LDT, of null.
        assert_eq!(
            run_at(&mut cpu, &mut bus, 3),
            Err(Exception::GP(0x20).into())
        );
        cpu.state.gpr[3] = 0x28;
        assert_eq!(
            run_at(&mut cpu, &mut bus, 3),
            Err(Exception::NP(0x28).into())
        );
        cpu.state.gpr[3] = 0x18;
        assert_eq!(
            run_at(&mut cpu, &mut bus, 3),
            Err(Exception::GP(0x18).into())
        );
        cpu.state.gpr[3] = 0x3;
        assert_eq!(run_at(&mut cpu, &mut bus, 3), Err(Exception::GP(0).into()));
        cpu.state.gpr[3] = 0x24;
        assert_eq!(
            run_at(&mut cpu, &mut bus, 3),
            Err(Exception::GP(0x24).into())
        );
        // LLDT: not an LDT, not present, beyond the GDT, null.
        cpu.state.gpr[0] = 0x20;
        assert_eq!(
            run_at(&mut cpu, &mut bus, 0),
            Err(Exception::GP(0x20).into())
        );
        cpu.state.gpr[0] = 0x38;
        assert_eq!(
            run_at(&mut cpu, &mut bus, 0),
            Err(Exception::NP(0x38).into())
        );
        cpu.state.gpr[0] = 0x40;
        assert_eq!(
            run_at(&mut cpu, &mut bus, 0),
            Err(Exception::GP(0x40).into())
        );
        cpu.state.gpr[0] = 0;
        run_at(&mut cpu, &mut bus, 0).unwrap();
        assert!(cpu.state.ldtr.unusable());
        // CPL 3: LLDT/LTR #GP(0); SLDT is allowed.
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        assert_eq!(run_at(&mut cpu, &mut bus, 0), Err(Exception::GP(0).into()));
        assert_eq!(run_at(&mut cpu, &mut bus, 3), Err(Exception::GP(0).into()));
        run_at(&mut cpu, &mut bus, 6).unwrap();
        assert_eq!(cpu.state.gpr[1], 0);
    }

    #[test]
    fn system_instructions_ud_in_real_mode() {
        for code in [
            &[0x0f, 0x00, 0xd0][..], // lldt ax
            &[0x0f, 0x00, 0xc0],     // sldt ax
            &[0x0f, 0x00, 0xc8],     // str ax
            &[0x0f, 0x00, 0xd8],     // ltr ax
        ] {
            let (mut cpu, mut bus) = real_mode(code);
            assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
            // Virtual-8086 mode too.
            let (mut cpu, mut bus) = real_mode(code);
            cpu.state.cr0 |= crate::state::cr0::PE;
            cpu.state.rflags |= flags::VM;
            assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::UD.into()));
        }
    }

    #[test]
    fn long_mode_lldt_ltr_16_byte() {
        // lldt ax ; ltr bx
        let (mut cpu, mut bus) = long64(&[0x0f, 0x00, 0xd0, 0x0f, 0x00, 0xdb]);
        let gdt = [
            0,
            FLAT_CODE64,
            FLAT_DATA,
            seg_desc(0x5000, 0x3f, 0x82, 0), // 3-4: LDT, base high 0x0000_7fff
            0x7fff,
            seg_desc(0x6000, 0x67, 0x89, 0), // 5-6: 64-bit TSS, base high 0x8000 (non-canonical)
            0x8000,
            seg_desc(0x6000, 0x67, 0x81, 0), // 7-8: 16-bit TSS: invalid in long mode
            0,
        ];
        setup_gdt(&mut cpu, &mut bus, &gdt);
        cpu.state.gpr[0] = 0x18;
        cpu.state.gpr[3] = 0x28;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.ldtr.base, 0x7fff_0000_5000);
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0x28).into()));
        assert_eq!(bus.ram[GDT_BASE + 0x28 + 5], 0x89, "not marked busy");
        cpu.state.rip = 0x1003;
        cpu.state.gpr[3] = 0x38;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0x38).into()));
        // The 16-byte descriptor must fit: limit 0x47 cuts entry 8.
        cpu.state.rip = 0x1003;
        bus.ram[GDT_BASE + 0x38 + 5] = 0x89;
        cpu.state.gdtr.limit = 0x3f + 7;
        assert_eq!(exec(&mut cpu, &mut bus), Err(Exception::GP(0x38).into()));
        cpu.state.gdtr.limit = 0x47;
        cpu.state.rip = 0x1003;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.tr.selector, 0x38);
        assert_eq!(cpu.state.tr.attrs & attr::TYPE_MASK, 0xb);
    }
}

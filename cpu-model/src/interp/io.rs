//! Port I/O: IN, OUT, and the I/O permission check shared with INS/OUTS.
//! SDM Vol. 1 Chapter 19 ("Input/Output"), §19.5 (protected-mode I/O);
//! Vol. 2 "IN—Input From Port", "OUT—Output to Port".

use super::Table;
use crate::exception::{Exception, Fault};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, OpKind, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::In, in_);
    t.set(Mnemonic::Out, out);
}

/// Offset of the I/O map base field in a 32-bit or 64-bit TSS.
const TSS_IOMAP_BASE: u64 = 0x66;
/// Smallest limit of a TSS that holds the I/O map base field.
const TSS_MIN_LIMIT: u32 = 0x67;

impl Cpu {
    /// May the current program access `size` bytes of I/O space at `port`?
    /// SDM Vol. 1 §19.5.1 (IOPL) and §19.5.2 (I/O permission bit map).
    ///
    /// Always in real mode; in protected mode when CPL ≤ IOPL (never
    /// short-cut in virtual-8086 mode). Otherwise TR must hold a 32/64-bit
    /// TSS with a limit of at least 0x67; the bitmap starts at the 16-bit
    /// offset at TSS+0x66, and every bit for `port..port+size` must be 0.
    /// Like hardware, two bytes of the bitmap are read (the byte holding
    /// the first port's bit and the next), and both must lie within the
    /// TSS limit. Any failure is #GP(0).
    pub fn check_io_permission(
        &mut self,
        bus: &mut dyn Bus,
        port: u16,
        size: u32,
    ) -> Result<(), Exception> {
        let st = &self.state;
        if !st.protected() || (!st.v86() && st.cpl() <= st.iopl()) {
            return Ok(());
        }
        let tr = st.tr;
        let typ = tr.attrs & crate::state::attr::TYPE_MASK;
        let tss32 = tr.is_system() && (typ == 0x9 || typ == 0xb);
        if !tss32 || !tr.present() || tr.limit < TSS_MIN_LIMIT {
            return Err(Exception::GP(0));
        }
        let base = self.read_system(bus, tr.base.wrapping_add(TSS_IOMAP_BASE), 2)?;
        let offset = base + u64::from(port / 8);
        if offset + 1 > u64::from(tr.limit) {
            return Err(Exception::GP(0));
        }
        let bits = self.read_system(bus, tr.base.wrapping_add(offset), 2)?;
        let mask = ((1u64 << size) - 1) << (port % 8);
        if bits & mask != 0 {
            return Err(Exception::GP(0));
        }
        Ok(())
    }
}

/// The port of an IN/OUT: an imm8 operand or DX.
fn port(cpu: &Cpu, ins: &Instruction, i: u32) -> u16 {
    match ins.op_kind(i) {
        OpKind::Immediate8 => u16::from(ins.immediate8()),
        _ => cpu.reg(Register::DX) as u16,
    }
}

/// IN AL/AX/EAX, imm8/DX — SDM Vol. 2 "IN—Input From Port". The
/// accumulator is written with x86-64 merge rules (IN EAX zero-extends
/// RAX). No flags.
fn in_(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let dst = ins.op0_register();
    let size = dst.size() as u32;
    let p = port(cpu, ins, 1);
    cpu.check_io_permission(bus, p, size)?;
    let v = bus.io_in(p, size);
    cpu.set_reg(dst, u64::from(v));
    Ok(())
}

/// OUT imm8/DX, AL/AX/EAX — SDM Vol. 2 "OUT—Output to Port". No flags.
fn out(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let src = ins.op1_register();
    let size = src.size() as u32;
    let p = port(cpu, ins, 0);
    cpu.check_io_permission(bus, p, size)?;
    let v = cpu.reg(src);
    bus.io_out(p, size, v as u32);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flags;
    use crate::interp::tests::{long64, prot32, real_mode, run};
    use crate::memory::FlatBus;
    use crate::state::SegReg;
    use iced_x86::code_asm::*;

    use crate::interp::tests::asm;

    use crate::interp::tests::exec;

    #[test]
    fn in_out_all_sizes_real_mode() {
        let code = asm(16, |a| {
            a.out(0xe9, al)?;
            a.out(dx, ax)?;
            a.out(dx, eax)?;
            a.in_(al, 0x60)?;
            a.in_(ax, dx)?;
            a.in_(eax, dx)?;
            Ok(())
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[0] = 0x1234_5678;
        cpu.state.gpr[2] = 0x3f8;
        run(&mut cpu, &mut bus, 3);
        assert_eq!(
            bus.io_log,
            vec![(0xe9, 1, 0x78), (0x3f8, 2, 0x5678), (0x3f8, 4, 0x1234_5678)]
        );
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x1234_56ff);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0x1234_ffff);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[0], 0xffff_ffff);
    }

    #[test]
    fn in_eax_zero_extends_in_64_bit_mode() {
        let code = asm(64, |a| a.in_(eax, dx));
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[0] = 0x5555_5555_0000_0000;
        exec(&mut cpu, &mut bus).unwrap();
        assert_eq!(cpu.state.gpr[0], 0xffff_ffff);
    }

    /// Protected mode at CPL 3 with the TSS at 0x8000 (limit `limit`) and
    /// the bitmap at TSS+0x68.
    fn user_with_bitmap(code: &[u8], limit: u32) -> (Cpu, FlatBus) {
        let (mut cpu, mut bus) = prot32(code);
        cpu.state.seg[SegReg::Cs as usize].selector |= 3;
        cpu.state.tr.base = 0x8000;
        cpu.state.tr.limit = limit;
        bus.ram[0x8066..0x8068].copy_from_slice(&0x68u16.to_le_bytes());
        // Deny everything, then allow ports 0x10..0x17 and 0x3f8..0x3ff,
        // except 0x3fa.
        bus.ram[0x8068..0x8068 + 0x2000].fill(0xff);
        bus.ram[0x8068 + 2] = 0;
        bus.ram[0x8068 + 0x3f8 / 8] = 0x04;
        (cpu, bus)
    }

    #[test]
    fn io_bitmap() {
        let out = |port: u16, wide: bool| {
            let code = if wide {
                asm(32, |a| a.out(dx, eax)).to_vec()
            } else {
                asm(32, |a| a.out(dx, al)).to_vec()
            };
            let (mut cpu, mut bus) = user_with_bitmap(&code, 0x68 + 0x2000);
            cpu.state.gpr[2] = u64::from(port);
            let r = exec(&mut cpu, &mut bus);
            (r, bus.io_log.len())
        };
        assert_eq!(out(0x10, false), (Ok(()), 1));
        assert_eq!(out(0x17, false), (Ok(()), 1));
        assert_eq!(out(0x14, true), (Ok(()), 1), "0x14..0x17 all allowed");
        assert_eq!(
            out(0x15, true).0,
            Err(Fault::Exception(Exception::GP(0))),
            "0x18 denied"
        );
        assert_eq!(out(0x0f, false).0, Err(Fault::Exception(Exception::GP(0))));
        assert_eq!(out(0x3f8, false), (Ok(()), 1));
        assert_eq!(out(0x3fa, false).0, Err(Fault::Exception(Exception::GP(0))));
        assert_eq!(out(0x3f8, true).0, Err(Fault::Exception(Exception::GP(0))));
        assert_eq!(out(0x3fb, true), (Ok(()), 1));
        assert_eq!(out(0x3fc, true), (Ok(()), 1));
        assert_eq!(
            out(0x3fd, true).0,
            Err(Fault::Exception(Exception::GP(0))),
            "0x400 denied"
        );
    }

    #[test]
    fn io_bitmap_limits() {
        let code = asm(32, |a| a.in_(al, 0x10));
        // Both bitmap bytes (0x6a, 0x6b) within the limit: allowed.
        let (mut cpu, mut bus) = user_with_bitmap(&code, 0x6b);
        assert_eq!(exec(&mut cpu, &mut bus), Ok(()));
        // Only the first byte within the limit: #GP(0).
        let (mut cpu, mut bus) = user_with_bitmap(&code, 0x6a);
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        assert_eq!(cpu.state.gpr[0], 0);
        // TSS too small for the map base.
        let (mut cpu, mut bus) = user_with_bitmap(&code, 0x66);
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        // A 16-bit TSS has no bitmap.
        let (mut cpu, mut bus) = user_with_bitmap(&code, 0x6b);
        cpu.state.tr.attrs = (cpu.state.tr.attrs & !0xf) | 0x3;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
    }

    #[test]
    fn iopl_and_cpl() {
        let code = asm(32, |a| a.out(0x80, al));
        // CPL 3 with IOPL 3: no bitmap consulted (the TSS limit is tiny).
        let (mut cpu, mut bus) = user_with_bitmap(&code, 0);
        cpu.state.rflags |= flags::IOPL;
        assert_eq!(exec(&mut cpu, &mut bus), Ok(()));
        // CPL 0, IOPL 0: allowed.
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.tr.limit = 0;
        assert_eq!(exec(&mut cpu, &mut bus), Ok(()));
        // CPL 1 > IOPL 0 with no usable bitmap: #GP(0).
        let (mut cpu, mut bus) = prot32(&code);
        cpu.state.seg[SegReg::Cs as usize].selector |= 1;
        cpu.state.tr.limit = 0;
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::GP(0)))
        );
        assert!(bus.io_log.is_empty());
        // Virtual-8086 mode consults the bitmap even with IOPL 3.
        let mut cpu = Cpu::new();
        cpu.state.cr0 |= crate::state::cr0::PE;
        cpu.state.rflags |= flags::VM | flags::IOPL;
        cpu.state.tr.limit = 0;
        let mut bus = FlatBus::new(0x10000);
        assert_eq!(
            cpu.check_io_permission(&mut bus, 0x80, 1),
            Err(Exception::GP(0))
        );
        cpu.state.cr0 = 0;
        assert_eq!(cpu.check_io_permission(&mut bus, 0x80, 1), Ok(()));
    }
}

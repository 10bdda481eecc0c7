//! Multiply and divide: MUL, IMUL (one-, two- and three-operand forms),
//! DIV, IDIV. SDM Vol. 2 "MUL", "IMUL", "DIV", "IDIV".
//!
//! Products and quotients are computed in u128 / i128, so no operand size
//! can overflow the host arithmetic.

use super::Table;
use crate::exception::{Exception, Fault};
use crate::flags::{self, CF, OF, STATUS};
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic, Register};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Mul, mul);
    t.set(Mnemonic::Imul, imul);
    t.set(Mnemonic::Div, div);
    t.set(Mnemonic::Idiv, idiv);
}

/// The implicit accumulator pair of a one-operand multiply or divide:
/// (low, high) registers. 8-bit forms use AL/AH (AX as a whole).
fn acc_regs(size: u32) -> (Register, Register) {
    match size {
        1 => (Register::AL, Register::AH),
        2 => (Register::AX, Register::DX),
        4 => (Register::EAX, Register::EDX),
        _ => (Register::RAX, Register::RDX),
    }
}

/// Flags of a multiply: CF = OF = `overflow`; SF, ZF, PF from the low
/// half of the result (the destination); AF = 0. The SDM leaves SF, ZF,
/// AF and PF undefined; this choice matches Bochs and QEMU and is masked
/// by the host oracle.
fn mul_flags(cpu: &mut Cpu, low: u64, size: u32, overflow: bool) {
    let mut f = flags::szp(low, size);
    if overflow {
        f |= CF | OF;
    }
    cpu.set_flags(STATUS, f);
}

/// Write a double-width result to the accumulator pair (AX for 8-bit).
fn write_acc(cpu: &mut Cpu, size: u32, low: u64, high: u64) {
    let (lo, hi) = acc_regs(size);
    if size == 1 {
        cpu.set_reg(Register::AX, ((high & 0xff) << 8) | (low & 0xff));
    } else {
        cpu.set_reg(lo, low);
        cpu.set_reg(hi, high);
    }
}

/// MUL r/m: unsigned AX = AL * src, DX:AX = AX * src, EDX:EAX, RDX:RAX.
/// CF = OF = (upper half != 0). SF, ZF, PF from the lower half, AF = 0
/// (undefined per the SDM; see [`mul_flags`]). SDM Vol. 2 "MUL".
fn mul(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let m = flags::mask(size);
    let src = cpu.read_op(bus, ins, 0)? & m;
    let a = cpu.reg(acc_regs(size).0);
    let p = u128::from(a) * u128::from(src);
    let bits = size * 8;
    let low = (p as u64) & m;
    let high = ((p >> bits) as u64) & m;
    write_acc(cpu, size, low, high);
    mul_flags(cpu, low, size, high != 0);
    Ok(())
}

/// `v` of `size` bytes as a signed 128-bit value.
fn signed(v: u64, size: u32) -> i128 {
    i128::from(flags::sign_extend(v, size) as i64)
}

/// IMUL, signed. One operand: the accumulator pair gets the full product
/// and CF = OF = (the product does not fit the lower half, i.e. the upper
/// half is not its sign extension). Two operands (`r, r/m`) and three
/// operands (`r, r/m, imm`): the destination register gets the truncated
/// product and CF = OF = (truncation changed the value). SF, ZF, PF from
/// the destination / lower half, AF = 0 (undefined; see [`mul_flags`]).
/// SDM Vol. 2 "IMUL".
fn imul(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let m = flags::mask(size);
    let bits = size * 8;
    match ins.op_count() {
        1 => {
            let src = signed(cpu.read_op(bus, ins, 0)?, size);
            let a = signed(cpu.reg(acc_regs(size).0), size);
            let p = a.wrapping_mul(src);
            let low = (p as u64) & m;
            let high = ((p >> bits) as u64) & m;
            write_acc(cpu, size, low, high);
            mul_flags(cpu, low, size, p != signed(low, size));
        }
        n => {
            let (x, y) = if n == 2 {
                (cpu.read_op(bus, ins, 0)?, cpu.read_op(bus, ins, 1)?)
            } else {
                (cpu.read_op(bus, ins, 1)?, cpu.read_op(bus, ins, 2)?)
            };
            // Immediates come sign-extended from iced; truncate then
            // sign-extend from the operand size.
            let p = signed(x & m, size).wrapping_mul(signed(y & m, size));
            let low = (p as u64) & m;
            cpu.write_op(bus, ins, 0, low)?;
            mul_flags(cpu, low, size, p != signed(low, size));
        }
    }
    Ok(())
}

/// The double-width dividend of a one-operand divide: AX, DX:AX,
/// EDX:EAX or RDX:RAX, as an unsigned value.
fn dividend(cpu: &Cpu, size: u32) -> u128 {
    let (lo, hi) = acc_regs(size);
    if size == 1 {
        return u128::from(cpu.reg(Register::AX));
    }
    (u128::from(cpu.reg(hi)) << (size * 8)) | u128::from(cpu.reg(lo))
}

/// DIV r/m: unsigned divide of the double-width accumulator by src;
/// quotient to AL/AX/EAX/RAX, remainder to AH/DX/EDX/RDX. #DE if src = 0
/// or the quotient does not fit. All six status flags are undefined: left
/// unchanged. SDM Vol. 2 "DIV".
fn div(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let m = flags::mask(size);
    let src = u128::from(cpu.read_op(bus, ins, 0)? & m);
    if src == 0 {
        return Err(Exception::DE.into());
    }
    let n = dividend(cpu, size);
    let q = n / src;
    let r = n % src;
    if q > u128::from(m) {
        return Err(Exception::DE.into());
    }
    write_acc(cpu, size, q as u64, r as u64);
    Ok(())
}

/// IDIV r/m: signed divide, quotient truncated toward zero, remainder
/// with the sign of the dividend. #DE if src = 0 or the quotient is out of
/// the signed range (including the most negative dividend divided by −1).
/// Flags undefined: left unchanged. SDM Vol. 2 "IDIV".
fn idiv(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 0);
    let m = flags::mask(size);
    let bits = size * 8;
    let src = signed(cpu.read_op(bus, ins, 0)?, size);
    if src == 0 {
        return Err(Exception::DE.into());
    }
    // Sign-extend the 2*bits-bit dividend to i128.
    let shift = 128 - 2 * bits;
    let n = ((dividend(cpu, size) << shift) as i128) >> shift;
    // checked_*: i128::MIN / -1 (a 64-bit IDIV of RDX:RAX = 2^127 by -1).
    let (Some(q), Some(r)) = (n.checked_div(src), n.checked_rem(src)) else {
        return Err(Exception::DE.into());
    };
    let half = 1i128 << (bits - 1);
    if q < -half || q >= half {
        return Err(Exception::DE.into());
    }
    write_acc(cpu, size, (q as u64) & m, (r as u64) & m);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::alu::testutil::*;
    use crate::exception::{Exception, Fault};
    use crate::interp::tests::{long64, real_mode, run};
    use crate::state::reg;

    /// Run `f` in 64-bit mode with RAX = `a`, RDX = `d`, RBX = `b`;
    /// return the handler result, RAX, RDX and the status flags.
    fn md(
        a: u64,
        d: u64,
        b: u64,
        f: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    ) -> (Result<(), Fault>, u64, u64, u64) {
        let (mut cpu, mut bus) = long64(&asm(64, f));
        cpu.state.gpr[reg::RAX] = a;
        cpu.state.gpr[reg::RDX] = d;
        cpu.state.gpr[reg::RBX] = b;
        cpu.state.rflags |= AF;
        let r = exec(&mut cpu, &mut bus);
        (
            r,
            cpu.state.gpr[reg::RAX],
            cpu.state.gpr[reg::RDX],
            status(&cpu),
        )
    }

    const DE: Result<(), Fault> = Err(Fault::Exception(Exception::DE));

    #[test]
    fn mul_all_sizes() {
        // AX = AL * BL; the rest of RAX is kept.
        assert_eq!(
            md(0x1122_3344_5566_77ff, 0, 0xff, |a| a.mul(bl)),
            (Ok(()), 0x1122_3344_5566_fe01, 0, CF | OF)
        );
        assert_eq!(md(0x10, 0, 0x0f, |a| a.mul(bl)), (Ok(()), 0xf0, 0, SF | PF));
        assert_eq!(
            md(0xffff, 7, 0xffff, |a| a.mul(bx)),
            (Ok(()), 0x0001, 0xfffe, CF | OF)
        );
        // 32-bit results zero-extend RAX and RDX.
        assert_eq!(
            md(0xffff_ffff_ffff_ffff, u64::MAX, 2, |a| a.mul(ebx)),
            (Ok(()), 0xffff_fffe, 1, SF | CF | OF)
        );
        assert_eq!(
            md(u64::MAX, 0, u64::MAX, |a| a.mul(rbx)),
            (Ok(()), 1, u64::MAX - 1, CF | OF)
        );
        assert_eq!(md(0, 5, 12345, |a| a.mul(rbx)), (Ok(()), 0, 0, ZF | PF));
    }

    #[test]
    fn imul_one_operand() {
        // -1 * -1 = 1 fits: CF = OF = 0.
        assert_eq!(md(0xff, 0, 0xff, |a| a.imul(bl)), (Ok(()), 0x0001, 0, 0));
        // -128 * -1 = 128 does not fit in AL.
        assert_eq!(
            md(0x80, 0, 0xff, |a| a.imul(bl)),
            (Ok(()), 0x0080, 0, SF | CF | OF)
        );
        // -2 * 3 = -6 in DX:AX, fits.
        assert_eq!(
            md(0xfffe, 0, 3, |a| a.imul(bx)),
            (Ok(()), 0xfffa, 0xffff, SF | PF)
        );
        assert_eq!(
            md(0x4000_0000, 0, 2, |a| a.imul(ebx)),
            (Ok(()), 0x8000_0000, 0, SF | CF | OF | PF)
        );
        assert_eq!(
            md(i64::MIN as u64, 0, u64::MAX, |a| a.imul(rbx)),
            (Ok(()), i64::MIN as u64, 0, SF | CF | OF | PF)
        );
        assert_eq!(
            md(u64::MAX, 0, 5, |a| a.imul(rbx)),
            (Ok(()), (-5i64) as u64, u64::MAX, SF)
        );
    }

    #[test]
    fn imul_two_and_three_operands() {
        assert_eq!(md(7, 9, 6, |a| a.imul_2(eax, ebx)), (Ok(()), 42, 9, 0));
        assert_eq!(
            md(0x8000, 0, 0xffff, |a| a.imul_2(ax, bx)),
            (Ok(()), 0x8000, 0, SF | CF | OF | PF)
        );
        assert_eq!(
            md(0, 0, 0x1_0000_0000, |a| a.imul_2(rax, rbx)),
            (Ok(()), 0, 0, ZF | PF)
        );
        // r64, r/m64, imm8 (sign-extended -2).
        assert_eq!(
            md(0, 0, 21, |a| a.imul_3(rax, rbx, -2)),
            (Ok(()), (-42i64) as u64, 0, SF)
        );
        // r16, r/m16, imm16 overflow.
        assert_eq!(
            md(0xdead_0000, 0, 0x100, |a| a.imul_3(ax, bx, 0x100)),
            (Ok(()), 0xdead_0000, 0, ZF | PF | CF | OF)
        );
        // r32, r/m32, imm32: 32-bit write zero-extends.
        assert_eq!(
            md(u64::MAX, 0, 3, |a| a.imul_3(eax, ebx, 0x1000_0000)),
            (Ok(()), 0x3000_0000, 0, PF)
        );
        // r64 * imm32 sign-extended: 2^62 * 2 overflows.
        assert_eq!(
            md(0, 0, 1 << 62, |a| a.imul_3(rax, rbx, 2)),
            (Ok(()), 1 << 63, 0, SF | CF | OF | PF)
        );
    }

    #[test]
    fn div_results_and_faults() {
        assert_eq!(
            md(0x1234_0007, 0, 2, |a| a.div(bl)),
            (Ok(()), 0x1234_0103, 0, AF)
        );
        assert_eq!(md(0x00ff, 0, 1, |a| a.div(bl)), (Ok(()), 0x00ff, 0, AF));
        // Quotient 0x100 does not fit AL.
        assert_eq!(md(0x0100, 0, 1, |a| a.div(bl)).0, DE);
        assert_eq!(md(5, 0, 0, |a| a.div(bl)).0, DE);
        assert_eq!(
            md(0x0005, 0x0001, 0x10, |a| a.div(bx)),
            (Ok(()), 0x1000, 5, AF)
        );
        assert_eq!(md(0, 0x10, 0x10, |a| a.div(bx)).0, DE);
        assert_eq!(
            md(0xffff_ffff, 0xffff_fffe, 0xffff_ffff, |a| a.div(ebx)),
            (Ok(()), 0xffff_ffff, 0xffff_fffe, AF)
        );
        assert_eq!(md(0, 1, 2, |a| a.div(rbx)), (Ok(()), 1 << 63, 0, AF));
        assert_eq!(md(0, 1, 1, |a| a.div(rbx)).0, DE);
        assert_eq!(md(1, 0, 0, |a| a.div(rbx)).0, DE);
    }

    #[test]
    fn idiv_results_and_faults() {
        // -7 / 2 = -3 rem -1.
        assert_eq!(md(0xfff9, 0, 2, |a| a.idiv(bl)), (Ok(()), 0xfffd, 0, AF));
        // 7 / -2 = -3 rem 1.
        assert_eq!(md(7, 0, 0xfe, |a| a.idiv(bl)), (Ok(()), 0x01fd, 0, AF));
        // -128 / 1 fits; 128 / 1 does not; -128 / -1 does not.
        assert_eq!(md(0xff80, 0, 1, |a| a.idiv(bl)), (Ok(()), 0x0080, 0, AF));
        assert_eq!(md(0x0080, 0, 1, |a| a.idiv(bl)).0, DE);
        assert_eq!(md(0xff80, 0, 0xff, |a| a.idiv(bl)).0, DE);
        assert_eq!(md(0x8000, 0xffff, 0xffff, |a| a.idiv(bx)).0, DE);
        assert_eq!(
            md(0x8000_0000, 0xffff_ffff, u64::MAX, |a| a.idiv(ebx)).0,
            DE
        );
        assert_eq!(
            md(0, 0x8000_0000_0000_0000, u64::MAX, |a| a.idiv(rbx)).0,
            DE
        );
        assert_eq!(
            md(i64::MIN as u64, u64::MAX, u64::MAX, |a| a.idiv(rbx)).0,
            DE
        );
        assert_eq!(md(1, 0, 0, |a| a.idiv(rbx)).0, DE);
        // -2^63 / 1 fits.
        assert_eq!(
            md(i64::MIN as u64, u64::MAX, 1, |a| a.idiv(rbx)),
            (Ok(()), i64::MIN as u64, 0, AF)
        );
        // -100 / 7 = -14 rem -2 (32-bit, zero-extended into RAX/RDX).
        assert_eq!(
            md((-100i64) as u64, u64::MAX, 7, |a| a.idiv(ebx)),
            (Ok(()), (-14i32) as u32 as u64, (-2i32) as u32 as u64, AF)
        );
    }

    #[test]
    fn memory_operands() {
        let code = asm(64, |a| {
            a.mul(qword_ptr(rbx))?;
            a.imul_3(ecx, dword_ptr(rbx + 8), 3)?;
            a.idiv(word_ptr(rbx + 16))
        });
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.gpr[reg::RBX] = 0x3000;
        cpu.state.gpr[reg::RAX] = 1 << 32;
        wr(&mut bus, 0x3000, 8, 1 << 33);
        wr(&mut bus, 0x3008, 4, 0xffff_fffd);
        wr(&mut bus, 0x3010, 2, 0xfffd);
        exec_n(&mut cpu, &mut bus, 2);
        assert_eq!(cpu.state.gpr[reg::RAX], 0);
        assert_eq!(cpu.state.gpr[reg::RDX], 2);
        assert_eq!(cpu.state.gpr[reg::RCX], 0xffff_fff7);
        // DX:AX = 0x0002_0000 / -3 = -43690 — out of range.
        assert_eq!(
            exec(&mut cpu, &mut bus),
            Err(Fault::Exception(Exception::DE))
        );
    }

    #[test]
    fn divide_error_delivered_in_real_mode() {
        // DIV BL with BL = 0 at 0x1000; IVT[0] -> 0000:3000.
        let code = asm(16, |a| a.div(bl));
        let (mut cpu, mut bus) = real_mode(&code);
        bus.ram[0..4].copy_from_slice(&[0x00, 0x30, 0x00, 0x00]);
        cpu.state.gpr[reg::RAX] = 0x1234;
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.rip, 0x3000);
        assert_eq!(cpu.stats.exceptions[0], 1);
        // #DE is a fault: the pushed IP is the DIV itself; AX unchanged.
        assert_eq!(cpu.state.gpr[reg::RSP], 0x8000 - 6);
        assert_eq!(rd(&bus, 0x7ffa, 2), 0x1000);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x1234);
    }

    #[test]
    fn real_mode_forms() {
        let code = asm(16, |a| {
            a.mul(word_ptr(si))?;
            a.div(cx)?;
            a.imul_3(dx, ax, 10)
        });
        let (mut cpu, mut bus) = real_mode(&code);
        cpu.state.gpr[reg::RAX] = 0x1234;
        cpu.state.gpr[reg::RCX] = 0x100;
        cpu.state.gpr[reg::RSI] = 0x2000;
        wr(&mut bus, 0x2000, 2, 0x100);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x3400);
        assert_eq!(cpu.state.gpr[reg::RDX], 0x0012);
        assert_eq!(status(&cpu) & (CF | OF), CF | OF);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RAX], 0x1234);
        assert_eq!(cpu.state.gpr[reg::RDX], 0);
        run(&mut cpu, &mut bus, 1);
        assert_eq!(cpu.state.gpr[reg::RDX], 0xb608);
        assert_eq!(status(&cpu) & (CF | OF), CF | OF);
    }
}

//! CRC32 (SSE4.2) — SDM Vol. 2A "CRC32 — Accumulate CRC32 Value".
//!
//! F2 0F 38 F0 /r: CRC32 r32, r/m8 (REX.W: r64, r/m8); F2 0F 38 F1 /r:
//! CRC32 r32, r/m16 (66) or r/m32, REX.W: r64, r/m64. The CRC-32C
//! (Castagnoli) polynomial 11EDC6F41H on bit-reflected data: the SDM's
//! TEMP1 = BIT_REFLECT(SRC), TEMP2 = BIT_REFLECT(DEST[31:0]), ... is, with
//! the reflections folded in, the usual LSB-first update with the
//! reflected polynomial 82F63B78H, one source byte after another from the
//! least significant, and no inversion before or after (software that
//! wants the standard CRC-32C inverts the accumulator itself).
//!
//! The destination is 32 bits wide in every form: the r64 forms write
//! DEST[63:32] = 0, and the r32 forms zero bits 63:32 as every 32-bit
//! write does. Flags are unchanged. It is an integer instruction: neither
//! CR0.EM/TS nor CR4.OSFXSR matter (SDM Vol. 3 Table 13-1 lists the
//! SSE4.2 integer instructions CRC32 and POPCNT apart). LOCK is #UD
//! (rejected by the decoder).

use super::Table;
use crate::exception::Fault;
use crate::memory::Bus;
use crate::Cpu;
use iced_x86::{Instruction, Mnemonic};

pub(super) fn register(t: &mut Table) {
    t.set(Mnemonic::Crc32, crc32);
}

/// The bit-reflected CRC-32C polynomial (11EDC6F41H without its x^32
/// term, bits reversed).
pub const CRC32C_REFLECTED: u32 = 0x82f6_3b78;

/// The CRC32 instruction's update of accumulator `crc` by the `size`
/// low bytes of `src`, least significant byte first.
pub fn crc32c_update(mut crc: u32, src: u64, size: u32) -> u32 {
    for i in 0..size {
        crc ^= u32::from((src >> (8 * i)) as u8);
        for _ in 0..8 {
            let lsb = crc & 1;
            crc = (crc >> 1) ^ (CRC32C_REFLECTED & lsb.wrapping_neg());
        }
    }
    crc
}

/// CRC32 r32/r64, r/m8/16/32/64: only DEST[31:0] is an input.
fn crc32(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    let size = Cpu::op_size(ins, 1);
    let src = cpu.read_op(bus, ins, 1)?;
    let acc = cpu.reg(ins.op0_register()) as u32;
    let r = crc32c_update(acc, src, size);
    // A 64-bit register gets the result zero-extended (DEST[63:32] = 0),
    // as a 32-bit one does by the merge rule.
    cpu.set_reg(ins.op0_register(), u64::from(r));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::FlatBus;
    use crate::state::{attr, cr0, efer, SegReg, Segment};

    /// The standard CRC-32C of a byte string: initial value and final
    /// XOR all ones around the instruction's update.
    fn crc32c(bytes: &[u8]) -> u32 {
        !bytes
            .iter()
            .fold(!0u32, |c, &b| crc32c_update(c, u64::from(b), 1))
    }

    /// Known CRC-32C values: the check value of "123456789" (RFC 3720
    /// B.4 / the CRC catalogue) and the iSCSI test vectors of RFC 3720
    /// B.4 (32 bytes of zeros, of ones, ascending, descending).
    #[test]
    fn known_crc32c_vectors() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let up: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&up), 0x46dd_794e);
        let down: Vec<u8> = (0..32).rev().collect();
        assert_eq!(crc32c(&down), 0x113f_db5c);
    }

    /// Wider updates are the byte updates in little-endian order.
    #[test]
    fn wide_updates_are_byte_updates_in_order() {
        let v = 0x0123_4567_89ab_cdefu64;
        for size in [2u32, 4, 8] {
            let bytewise = (0..size).fold(0x1234_5678u32, |c, i| {
                crc32c_update(c, (v >> (8 * i)) & 0xff, 1)
            });
            assert_eq!(crc32c_update(0x1234_5678, v, size), bytewise);
        }
    }

    /// 64-bit flat machine with `code` at 0x1000; CR4.OSFXSR deliberately
    /// clear (CRC32 does not need it) and CR0.TS set (nor that).
    fn run(code: &[u8], gpr: &[(usize, u64)], data: &[u8]) -> Cpu {
        let mut bus = FlatBus::new(0x10000);
        bus.ram[0x1000..0x1000 + code.len()].copy_from_slice(code);
        bus.ram[0x2000..0x2000 + data.len()].copy_from_slice(data);
        let mut cpu = Cpu::new();
        let s = &mut cpu.state;
        s.cr0 = cr0::PE | cr0::ET | cr0::TS | cr0::EM;
        s.efer = efer::LMA | efer::LME;
        let data_seg = Segment {
            base: 0,
            limit: 0xffff_ffff,
            selector: 0x10,
            attrs: attr::P | attr::S | attr::RW | attr::ACCESSED | attr::DB | attr::G,
        };
        for seg in SegReg::ALL {
            s.seg[seg as usize] = data_seg;
        }
        s.seg[SegReg::Cs as usize] = Segment {
            selector: 0x08,
            attrs: attr::P | attr::S | attr::CODE | attr::RW | attr::ACCESSED | attr::L | attr::G,
            ..data_seg
        };
        s.rip = 0x1000;
        for &(r, v) in gpr {
            s.gpr[r] = v;
        }
        let rflags = s.rflags;
        cpu.execute(&mut bus).expect("crc32 runs");
        assert_eq!(cpu.state.rflags, rflags, "flags unchanged");
        assert_eq!(cpu.state.rip, 0x1000 + code.len() as u64);
        cpu
    }

    #[test]
    fn every_form_in_64_bit_mode() {
        let acc = 0xdead_beef_1234_5678u64;
        let src = 0x0123_4567_89ab_cdefu64;
        let want = |size| u64::from(crc32c_update(acc as u32, src, size));
        // crc32 eax, cl / crc32 rax, cl
        for (code, size) in [
            (&[0xf2, 0x0f, 0x38, 0xf0, 0xc1][..], 1),
            (&[0xf2, 0x48, 0x0f, 0x38, 0xf0, 0xc1][..], 1),
            (&[0x66, 0xf2, 0x0f, 0x38, 0xf1, 0xc1][..], 2),
            (&[0xf2, 0x0f, 0x38, 0xf1, 0xc1][..], 4),
            (&[0xf2, 0x48, 0x0f, 0x38, 0xf1, 0xc1][..], 8),
        ] {
            let cpu = run(code, &[(0, acc), (1, src)], &[]);
            assert_eq!(cpu.state.gpr[0], want(size), "{code:x?}");
            assert_eq!(cpu.state.gpr[1], src);
        }
        // crc32 r9d, byte [rbx]; crc32 r9, qword [rbx]
        let mem = src.to_le_bytes();
        let cpu = run(
            &[0xf2, 0x44, 0x0f, 0x38, 0xf0, 0x0b],
            &[(9, acc), (3, 0x2000)],
            &mem,
        );
        assert_eq!(cpu.state.gpr[9], want(1));
        let cpu = run(
            &[0xf2, 0x4c, 0x0f, 0x38, 0xf1, 0x0b],
            &[(9, acc), (3, 0x2000)],
            &mem,
        );
        assert_eq!(cpu.state.gpr[9], want(8));
        // crc32 eax, ah: the high-byte source
        let cpu = run(&[0xf2, 0x0f, 0x38, 0xf0, 0xc4], &[(0, acc)], &[]);
        assert_eq!(
            cpu.state.gpr[0],
            u64::from(crc32c_update(acc as u32, 0x56, 1))
        );
    }
}

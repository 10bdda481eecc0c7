//! Instruction fetch through segmentation and paging, and decoding with
//! iced-x86. SDM Vol. 2 §2.1 (instruction format, 15-byte limit).
//!
//! Bytes are fetched up to the end of the current page first; only when the
//! decoder needs more are the bytes of the next page fetched, so a page
//! fault on the second page is raised only for instructions that really
//! extend into it (with CR2 = the first byte of that page).

use crate::exception::Exception;
use crate::mmu::paging;
use crate::mmu::Access;
use crate::state::CpuMode;
use crate::Bus;
use crate::Cpu;
use iced_x86::{Decoder, DecoderError, DecoderOptions, Instruction};

const MAX_LEN: usize = 15;

impl Cpu {
    /// Fetch and decode the instruction at CS:RIP.
    pub fn fetch_decode(&mut self, bus: &mut dyn Bus) -> Result<Instruction, Exception> {
        let mode = self.state.mode();
        let rip = self.state.rip;
        let cs = *self.state.cs();
        // Bytes addressable before the CS limit (or the canonical boundary).
        let (lin, avail) = if mode == CpuMode::Long64 {
            if !paging::is_canonical(rip) {
                return Err(Exception::GP(0));
            }
            (rip, MAX_LEN)
        } else {
            if rip > u64::from(cs.limit) {
                return Err(Exception::GP(0));
            }
            let room = u64::from(cs.limit) - rip + 1;
            (
                cs.base.wrapping_add(rip) & 0xffff_ffff,
                room.min(MAX_LEN as u64) as usize,
            )
        };
        let user = self.state.cpl() == 3;
        let mut bytes = [0u8; MAX_LEN];
        let in_page = ((0x1000 - (lin & 0xfff)) as usize).min(avail);
        let phys = self.translate(bus, lin, Access::exec(user))?;
        bus.read_phys(phys, &mut bytes[..in_page]);
        let bitness = mode.bitness();
        let mut ins = Instruction::default();
        let mut have = in_page;
        loop {
            let mut dec = Decoder::with_ip(bitness, &bytes[..have], rip, DecoderOptions::NONE);
            dec.decode_out(&mut ins);
            match dec.last_error() {
                DecoderError::NoMoreBytes if have < avail => {
                    // Needs the next page.
                    let next = self.wrap_linear(lin.wrapping_add(have as u64));
                    let phys2 = self.translate(bus, next, Access::exec(user))?;
                    bus.read_phys(phys2, &mut bytes[have..avail]);
                    have = avail;
                }
                // Past the CS limit, or longer than 15 bytes.
                DecoderError::NoMoreBytes => return Err(Exception::GP(0)),
                // Fifteen prefix bytes and still no opcode: the instruction
                // exceeds the 15-byte limit, #GP(0) rather than #UD.
                // SDM Vol. 3 §6.15 "Interrupt 13".
                _ if ins.code() == iced_x86::Code::INVALID
                    && have == MAX_LEN
                    && bytes.iter().all(|&b| is_prefix(b, bitness)) =>
                {
                    return Err(Exception::GP(0))
                }
                _ => return Ok(ins),
            }
        }
    }
}

/// A legacy prefix byte, or REX in 64-bit code.
fn is_prefix(b: u8, bitness: u32) -> bool {
    matches!(
        b,
        0x26 | 0x2e | 0x36 | 0x3e | 0x64 | 0x65 | 0x66 | 0x67 | 0xf0 | 0xf2 | 0xf3
    ) || (bitness == 64 && (0x40..=0x4f).contains(&b))
}

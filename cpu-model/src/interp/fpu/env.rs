//! FNSTENV/FSTENV, FLDENV, FNSAVE/FSAVE and FRSTOR (SDM Vol. 2 under each
//! mnemonic; the images: Vol. 1 §8.1.10, Figures 8-9 to 8-12).
//!
//! The environment image is 14 bytes (16-bit operand size) or 28 bytes
//! (32-bit; 64-bit mode uses it too unless a 66h prefix selects the
//! 16-bit one), in the real-mode layout in real-address and
//! virtual-8086 mode and in the protected-mode layout otherwise:
//!
//! | offset | 32-bit protected (Fig. 8-9) | 32-bit real (Fig. 8-10) |
//! |---|---|---|
//! | 0  | FCW | FCW |
//! | 4  | FSW | FSW |
//! | 8  | FTW (full) | FTW (full) |
//! | 12 | FIP[31:0] | FIP[15:0] |
//! | 16 | FOP in 26:16, FCS in 15:0 | FIP[31:16] in 27:12, FOP in 10:0 |
//! | 20 | FDP[31:0] | FDP[15:0] |
//! | 24 | FDS in 15:0 | FDP[31:16] in 27:12 |
//!
//! | offset | 16-bit protected (Fig. 8-11) | 16-bit real (Fig. 8-12) |
//! |---|---|---|
//! | 0  | FCW | FCW |
//! | 2  | FSW | FSW |
//! | 4  | FTW (full) | FTW (full) |
//! | 6  | FIP[15:0] | FIP[15:0] |
//! | 8  | FCS | FIP[19:16] in 15:12, FOP in 10:0 |
//! | 10 | FDP[15:0] | FDP[15:0] |
//! | 12 | FDS | FDP[19:16] in 15:12 |
//!
//! Bits the figures mark reserved (the upper halves of the 32-bit
//! formats' FCW, FSW, FTW and FDS dwords, and of the real-mode FIP[15:0]
//! and FDP[15:0] dwords) are stored as 1s, as Intel processors do; bits
//! the figures show as 0 (31:27 of the FCS/FOP dword, 31:28 and 11 of
//! the real-mode FIP dword, 31:28 and 11:0 of the FDP one, and the
//! 16-bit real format's likewise) are stored as 0s. Loads ignore them.
//!
//! The real-mode pointers are 20-bit (16-bit format) or 32-bit linear
//! addresses: FCS * 16 + FIP as the last x87 instruction recorded them.
//! Loading one leaves FCS (FDS) 0 and the linear address in FIP (FDP),
//! which stores back unchanged.
//!
//! FSAVE's image is the environment followed by ST(0)..ST(7), 10 bytes
//! each (significand, then sign and exponent): 94 or 108 bytes.

use super::{check_available, check_pending, prologue, update_summary, Table};
use crate::exception::Fault;
use crate::fxstate::{FxState, X87Reg, FCW_INIT};
use crate::memory::Bus;
use crate::state::{CpuMode, CpuState};
use crate::Cpu;
use iced_x86::{Instruction, MemorySize, Mnemonic};

pub(super) fn register(t: &mut Table) {
    use Mnemonic::*;
    t.set(Fnstenv, fstenv);
    t.set(Fstenv, fstenv);
    t.set(Fldenv, fldenv);
    t.set(Fnsave, fsave);
    t.set(Fsave, fsave);
    t.set(Frstor, frstor);
}

/// The tags of the full tag word (SDM Vol. 1 §8.1.7, Figure 8-7).
pub(super) mod tag {
    pub const VALID: u16 = 0b00;
    pub const ZERO: u16 = 0b01;
    /// NaN, infinity, denormal, or an unsupported format (unnormal,
    /// pseudo-NaN, pseudo-infinity, pseudo-denormal).
    pub const SPECIAL: u16 = 0b10;
    pub const EMPTY: u16 = 0b11;
}

/// FCW bits 0-5: the exception masks.
const FCW_MASKS: u16 = 0x3f;

/// The reserved upper half of a 32-bit image's 16-bit fields.
const RESERVED: u32 = 0xffff_0000;

/// The image layout an instruction uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Layout {
    /// Figure 8-12: 14 bytes, real-address or virtual-8086 mode.
    Real16,
    /// Figure 8-10: 28 bytes, real-address or virtual-8086 mode.
    Real32,
    /// Figure 8-11: 14 bytes, protected mode.
    Prot16,
    /// Figure 8-9: 28 bytes, protected mode (64-bit mode too).
    Prot32,
}

impl Layout {
    /// The operand size (iced's m14/m94 or m28/m108 forms) and the mode.
    fn of(cpu: &Cpu, ins: &Instruction) -> Layout {
        let wide = matches!(
            ins.memory_size(),
            MemorySize::FpuEnv28 | MemorySize::FpuState108
        );
        let real = matches!(cpu.state.mode(), CpuMode::Real | CpuMode::Virtual8086);
        match (real, wide) {
            (true, false) => Layout::Real16,
            (true, true) => Layout::Real32,
            (false, false) => Layout::Prot16,
            (false, true) => Layout::Prot32,
        }
    }

    /// Bytes of the environment image: 14 or 28.
    pub(super) fn env_len(self) -> usize {
        match self {
            Layout::Real16 | Layout::Prot16 => 14,
            Layout::Real32 | Layout::Prot32 => 28,
        }
    }
}

/// The tag of a non-empty register from its contents.
pub(super) fn tag_of(r: X87Reg) -> u16 {
    let exp = r.sign_exp & 0x7fff;
    let integer = r.signif >> 63 != 0;
    match exp {
        0 if r.signif == 0 => tag::ZERO,
        // Denormal, pseudo-denormal; infinity, NaN, pseudo-infinity,
        // pseudo-NaN.
        0 | 0x7fff => tag::SPECIAL,
        // Unnormal.
        _ if !integer => tag::SPECIAL,
        _ => tag::VALID,
    }
}

/// The full tag word: bits 2n+1:2n are the tag of physical register Rn,
/// which is ST((n - TOP) mod 8).
pub(super) fn full_tag_word(fx: &FxState) -> u16 {
    let top = usize::from(fx.top());
    (0..8).fold(0, |word, n| {
        let t = if fx.ftw & (1 << n) == 0 {
            tag::EMPTY
        } else {
            tag_of(fx.st[(n + 8 - top) & 7])
        };
        word | t << (2 * n)
    })
}

/// The abridged tag word of a full one: Rn is empty when its tag is 11B.
pub(super) fn abridged_tag(full: u16) -> u8 {
    (0..8).fold(0, |a, n| {
        if (full >> (2 * n)) & 3 == tag::EMPTY {
            a
        } else {
            a | 1 << n
        }
    })
}

/// A real-mode pointer: the linear address of selector:offset.
fn linear(selector: u16, offset: u64) -> u32 {
    (u32::from(selector) << 4).wrapping_add(offset as u32)
}

/// The environment image of `st` in `layout` into `out` (its first
/// `layout.env_len()` bytes).
pub(super) fn store_env(st: &CpuState, layout: Layout, out: &mut [u8]) {
    let fx = &st.fx;
    let (fcw, fsw, ftw) = (fx.fcw, fx.fsw, full_tag_word(fx));
    let fop = fx.fop & 0x7ff;
    match layout {
        Layout::Prot32 => put_dwords(
            out,
            [
                RESERVED | u32::from(fcw),
                RESERVED | u32::from(fsw),
                RESERVED | u32::from(ftw),
                fx.fip as u32,
                u32::from(fop) << 16 | u32::from(st.fcs),
                fx.fdp as u32,
                RESERVED | u32::from(st.fds),
            ],
        ),
        Layout::Real32 => {
            let ip = linear(st.fcs, fx.fip);
            let dp = linear(st.fds, fx.fdp);
            put_dwords(
                out,
                [
                    RESERVED | u32::from(fcw),
                    RESERVED | u32::from(fsw),
                    RESERVED | u32::from(ftw),
                    RESERVED | (ip & 0xffff),
                    (ip >> 16) << 12 | u32::from(fop),
                    RESERVED | (dp & 0xffff),
                    (dp >> 16) << 12,
                ],
            )
        }
        Layout::Prot16 => put_words(
            out,
            [fcw, fsw, ftw, fx.fip as u16, st.fcs, fx.fdp as u16, st.fds],
        ),
        Layout::Real16 => {
            let ip = linear(st.fcs, fx.fip);
            let dp = linear(st.fds, fx.fdp);
            put_words(
                out,
                [
                    fcw,
                    fsw,
                    ftw,
                    ip as u16,
                    (((ip >> 16) & 0xf) as u16) << 12 | fop,
                    dp as u16,
                    (((dp >> 16) & 0xf) as u16) << 12,
                ],
            )
        }
    }
}

/// Load the environment image `img` (`layout.env_len()` bytes) into `st`:
/// FCW, FSW (TOP with it: the registers keep their values, so the stack
/// order is rotated to the new TOP), the tags (empty or not), the
/// pointers and FOP. FSW.ES and B then follow the loaded exception flags
/// and masks, as for FLDCW (see `fldenv`).
pub(super) fn load_env(st: &mut CpuState, layout: Layout, img: &[u8]) {
    let w = |i: usize| u16::from_le_bytes([img[2 * i], img[2 * i + 1]]);
    let d =
        |i: usize| u32::from_le_bytes([img[4 * i], img[4 * i + 1], img[4 * i + 2], img[4 * i + 3]]);
    // (FCW, FSW, FTW, FIP, FCS, FOP, FDP, FDS)
    let (fcw, fsw, ftw, fip, fcs, fop, fdp, fds) = match layout {
        Layout::Prot32 => (
            d(0) as u16,
            d(1) as u16,
            d(2) as u16,
            d(3),
            d(4) as u16,
            (d(4) >> 16) as u16,
            d(5),
            d(6) as u16,
        ),
        Layout::Real32 => (
            d(0) as u16,
            d(1) as u16,
            d(2) as u16,
            (d(4) & 0x0fff_f000) << 4 | (d(3) & 0xffff),
            0,
            d(4) as u16,
            (d(6) & 0x0fff_f000) << 4 | (d(5) & 0xffff),
            0,
        ),
        // Figure 8-11 has no opcode field: FOP is 0.
        Layout::Prot16 => (
            w(0),
            w(1),
            w(2),
            u32::from(w(3)),
            w(4),
            0,
            u32::from(w(5)),
            w(6),
        ),
        Layout::Real16 => (
            w(0),
            w(1),
            w(2),
            u32::from(w(4) & 0xf000) << 4 | u32::from(w(3)),
            0,
            w(4),
            u32::from(w(6) & 0xf000) << 4 | u32::from(w(5)),
            0,
        ),
    };
    let fx = &mut st.fx;
    let old_top = fx.top();
    fx.fcw = crate::fxstate::fcw_loaded(fcw);
    fx.fsw = fsw;
    update_summary(&mut fx.fsw, fx.fcw);
    let shift = fx.top().wrapping_sub(old_top) & 7;
    fx.st.rotate_left(usize::from(shift));
    fx.ftw = abridged_tag(ftw);
    fx.fip = u64::from(fip);
    fx.fdp = u64::from(fdp);
    fx.fop = fop & 0x7ff;
    st.fcs = fcs;
    st.fds = fds;
}

fn put_dwords(out: &mut [u8], v: [u32; 7]) {
    for (i, x) in v.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&x.to_le_bytes());
    }
}

fn put_words(out: &mut [u8], v: [u16; 7]) {
    for (i, x) in v.iter().enumerate() {
        out[2 * i..2 * i + 2].copy_from_slice(&x.to_le_bytes());
    }
}

/// The FN* forms skip the pending-exception check the F* forms (FWAIT
/// first) make. (The decoder takes a 9B byte as an FWAIT of its own, so
/// FSTENV/FSAVE arrive here only as instructions built whole, e.g. by an
/// assembler for `execute_decoded`.)
fn store_prologue(cpu: &Cpu, bus: &dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    check_available(cpu)?;
    if matches!(ins.mnemonic(), Mnemonic::Fstenv | Mnemonic::Fsave) {
        check_pending(cpu, bus)?;
    }
    Ok(())
}

/// Write the whole image at the memory operand, or nothing.
fn write_image(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    img: &[u8],
) -> Result<(), Fault> {
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    cpu.probe_write_mem(bus, seg, off, img.len() as u32)?;
    cpu.write_mem_block(bus, seg, off, img)?;
    Ok(())
}

fn read_image(
    cpu: &mut Cpu,
    bus: &mut dyn Bus,
    ins: &Instruction,
    img: &mut [u8],
) -> Result<(), Fault> {
    let seg = Cpu::mem_segment(ins);
    let off = cpu.effective_address(ins);
    cpu.read_mem_block(bus, seg, off, img)?;
    Ok(())
}

/// FNSTENV/FSTENV m14/m28 — SDM Vol. 2 "FSTENV/FNSTENV": store the
/// environment, then mask every exception (FCW bits 0-5 set; with nothing
/// left unmasked, FSW.ES and B clear). C0-C3 are undefined (kept).
fn fstenv(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    store_prologue(cpu, bus, ins)?;
    let layout = Layout::of(cpu, ins);
    let mut img = [0u8; 28];
    let img = &mut img[..layout.env_len()];
    store_env(&cpu.state, layout, img);
    write_image(cpu, bus, ins, img)?;
    let fx = &mut cpu.state.fx;
    fx.fcw |= FCW_MASKS;
    update_summary(&mut fx.fsw, fx.fcw);
    Ok(())
}

/// FLDENV m14/m28 — SDM Vol. 2 "FLDENV". A waiting instruction: a pending
/// exception is reported first. The SDM's Operation loads FSW from the
/// image and says an unmasked exception flag in it is generated at the
/// next waiting instruction; xlat keeps ES (and B) consistent with that
/// by deriving them from the loaded flags and masks, as FLDCW does, so an
/// image's own ES bit does not matter.
fn fldenv(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    let layout = Layout::of(cpu, ins);
    let mut img = [0u8; 28];
    let img = &mut img[..layout.env_len()];
    read_image(cpu, bus, ins, img)?;
    load_env(&mut cpu.state, layout, img);
    Ok(())
}

/// FNSAVE/FSAVE m94/m108 — SDM Vol. 2 "FSAVE/FNSAVE": the environment,
/// ST(0)..ST(7), then the FNINIT initialization (only once the image is
/// written: a fault leaves the unit as it was).
fn fsave(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    store_prologue(cpu, bus, ins)?;
    let layout = Layout::of(cpu, ins);
    let n = layout.env_len();
    let mut img = [0u8; 108];
    let img = &mut img[..n + 80];
    store_env(&cpu.state, layout, img);
    for (i, r) in cpu.state.fx.st.iter().enumerate() {
        let at = n + 10 * i;
        img[at..at + 8].copy_from_slice(&r.signif.to_le_bytes());
        img[at + 8..at + 10].copy_from_slice(&r.sign_exp.to_le_bytes());
    }
    write_image(cpu, bus, ins, img)?;
    init(&mut cpu.state);
    Ok(())
}

/// What FNINIT does (see `fninit` in mod.rs): FCW 037FH, FSW 0, all
/// registers empty, the pointers and FOP 0; the register values stay.
fn init(st: &mut CpuState) {
    let fx = &mut st.fx;
    fx.fcw = FCW_INIT;
    fx.fsw = 0;
    fx.ftw = 0;
    fx.fop = 0;
    fx.fip = 0;
    fx.fdp = 0;
    st.fcs = 0;
    st.fds = 0;
}

/// FRSTOR m94/m108 — SDM Vol. 2 "FRSTOR": the environment as FLDENV
/// loads it, and ST(0)..ST(7) from the image (the tags of the non-empty
/// ones follow from their contents whenever they are stored again).
fn frstor(cpu: &mut Cpu, bus: &mut dyn Bus, ins: &Instruction) -> Result<(), Fault> {
    prologue(cpu, bus)?;
    let layout = Layout::of(cpu, ins);
    let n = layout.env_len();
    let mut img = [0u8; 108];
    let img = &mut img[..n + 80];
    read_image(cpu, bus, ins, img)?;
    load_env(&mut cpu.state, layout, img);
    for (i, r) in cpu.state.fx.st.iter_mut().enumerate() {
        let at = n + 10 * i;
        let mut s = [0u8; 8];
        s.copy_from_slice(&img[at..at + 8]);
        *r = X87Reg {
            signif: u64::from_le_bytes(s),
            sign_exp: u16::from_le_bytes([img[at + 8], img[at + 9]]),
            reserved: [0; 6],
        };
    }
    Ok(())
}

#[cfg(test)]
#[path = "env_tests.rs"]
mod tests;

//! The x87, MMX and SSE register state, kept as the FXSAVE image (64-bit
//! format) it is saved as: SDM Vol. 1 §10.5.1, Tables 10-2 and 10-3.
//!
//! Keeping the state in this layout makes FXSAVE/FXRSTOR a copy (plus the
//! 32-bit format's FCS/FDS, kept beside it in `CpuState`), and lets
//! generated code hand the image to the host's own FXRSTOR/FXSAVE.
//!
//! - `st[i]` is ST(i), in stack order, as FXSAVE stores them; the
//!   physical register Rn holding ST(i) is n = (TOP + i) mod 8. MMX
//!   register MMn is the significand of Rn (every MMX instruction but
//!   EMMS sets TOP to 0, after which ST(n) = Rn).
//! - `ftw` is the abridged tag word: bit n set when Rn is not empty. The
//!   full tag (valid, zero, special) follows from the register's contents
//!   whenever FSTENV/FSAVE need it.

/// Default FCW after FNINIT: all exceptions masked, 64-bit precision,
/// round to nearest.
pub const FCW_INIT: u16 = 0x037f;
/// The FCW a load keeps of `v`: bit 6 reads as 1 and bits 15:13 as 0
/// (reserved), whatever is loaded (as the hardware and Bochs do; FLDCW,
/// FLDENV, FRSTOR, FXRSTOR).
pub fn fcw_loaded(v: u16) -> u16 {
    (v & 0x1f3f) | 0x0040
}

/// FCW after power-up or RESET (SDM Vol. 3 Table 10-1).
pub const FCW_RESET: u16 = 0x0040;
/// MXCSR after power-up, RESET or INIT: all exceptions masked.
pub const MXCSR_RESET: u32 = 0x1f80;
/// The MXCSR bits that can be set (DAZ included); the value FXSAVE
/// stores in the MXCSR_MASK field. A set bit outside it makes FXRSTOR and
/// LDMXCSR raise #GP(0).
pub const MXCSR_MASK: u32 = 0x0000_ffff;

/// FSW bits.
pub mod fsw {
    /// Exception flags IE, DE, ZE, OE, UE, PE.
    pub const EXCEPTIONS: u16 = 0x3f;
    pub const SF: u16 = 1 << 6;
    /// Error summary: an unmasked exception is pending.
    pub const ES: u16 = 1 << 7;
    pub const C0: u16 = 1 << 8;
    pub const C1: u16 = 1 << 9;
    pub const C2: u16 = 1 << 10;
    pub const TOP_SHIFT: u16 = 11;
    pub const TOP: u16 = 7 << TOP_SHIFT;
    pub const C3: u16 = 1 << 14;
    pub const B: u16 = 1 << 15;
}

/// One x87 register as FXSAVE stores it: the 80-bit value in bytes 0..10
/// (significand, then sign and exponent), six reserved bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct X87Reg {
    /// Significand (bit 63 the explicit integer bit); MMn when used as an
    /// MMX register.
    pub signif: u64,
    /// Sign (bit 15) and biased exponent (bits 14:0).
    pub sign_exp: u16,
    pub reserved: [u8; 6],
}

/// The FXSAVE image (64-bit format). 512 bytes, 16-byte aligned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct FxState {
    pub fcw: u16,
    pub fsw: u16,
    /// Abridged tag word: bit n set when physical register Rn is not
    /// empty.
    pub ftw: u8,
    pub reserved1: u8,
    /// Last x87 opcode (11 bits).
    pub fop: u16,
    /// Last x87 instruction pointer (offset; the 32-bit format stores its
    /// low 32 bits beside FCS).
    pub fip: u64,
    /// Last x87 data (operand) pointer.
    pub fdp: u64,
    pub mxcsr: u32,
    pub mxcsr_mask: u32,
    /// ST(0)..ST(7), stack order.
    pub st: [X87Reg; 8],
    /// XMM0..XMM15, little-endian bytes.
    pub xmm: [[u8; 16]; 16],
    /// Bytes 416..511: reserved (416..463) and available to software
    /// (464..511); FXSAVE leaves them alone in memory.
    pub reserved: [u8; 96],
}

const _: () = {
    assert!(core::mem::size_of::<FxState>() == 512);
    assert!(core::mem::offset_of!(FxState, fip) == 8);
    assert!(core::mem::offset_of!(FxState, mxcsr) == 24);
    assert!(core::mem::offset_of!(FxState, st) == 32);
    assert!(core::mem::offset_of!(FxState, xmm) == 160);
    assert!(core::mem::size_of::<X87Reg>() == 16);
};

impl Default for FxState {
    fn default() -> Self {
        FxState::reset()
    }
}

/// Which FXSAVE format: the 64-bit one (REX.W in 64-bit mode: 64-bit FIP
/// and FDP) or the legacy one (32-bit FIP and FDP with FCS and FDS).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FxFormat {
    Legacy,
    Wide,
}

impl FxState {
    /// The state after power-up or RESET (SDM Vol. 3 Table 10-1): FCW
    /// 0040H, FSW 0, tag word 5555H (every register +0.0, tagged zero, so
    /// none is empty), MXCSR 1F80H, everything else zero.
    pub fn reset() -> FxState {
        FxState {
            fcw: FCW_RESET,
            fsw: 0,
            ftw: 0xff,
            reserved1: 0,
            fop: 0,
            fip: 0,
            fdp: 0,
            mxcsr: MXCSR_RESET,
            mxcsr_mask: MXCSR_MASK,
            st: [X87Reg::default(); 8],
            xmm: [[0; 16]; 16],
            reserved: [0; 96],
        }
    }

    /// TOP, the physical register number of ST(0).
    pub fn top(&self) -> u8 {
        ((self.fsw & fsw::TOP) >> fsw::TOP_SHIFT) as u8
    }

    /// The image FXSAVE writes, `len` bytes of it (288 outside 64-bit mode:
    /// XMM0-7 only; 416 in it), in `format`, with the 32-bit format's
    /// selectors `fcs` and `fds`. XMM registers and MXCSR are stored only
    /// when `sse` (CR4.OSFXSR; the SDM leaves it to the implementation,
    /// and xlat does as QEMU), MXCSR_MASK with them.
    pub fn save(&self, format: FxFormat, fcs: u16, fds: u16, sse: bool, out: &mut [u8]) {
        put(out, 0, &self.fcw.to_le_bytes());
        put(out, 2, &self.fsw.to_le_bytes());
        put(out, 4, &[self.ftw, 0]);
        put(out, 6, &(self.fop & 0x7ff).to_le_bytes());
        match format {
            FxFormat::Wide => {
                put(out, 8, &self.fip.to_le_bytes());
                put(out, 16, &self.fdp.to_le_bytes());
            }
            FxFormat::Legacy => {
                put(out, 8, &(self.fip as u32).to_le_bytes());
                put(out, 12, &u32::from(fcs).to_le_bytes());
                put(out, 16, &(self.fdp as u32).to_le_bytes());
                put(out, 20, &u32::from(fds).to_le_bytes());
            }
        }
        if sse {
            put(out, 24, &self.mxcsr.to_le_bytes());
            put(out, 28, &self.mxcsr_mask.to_le_bytes());
        }
        for (i, r) in self.st.iter().enumerate() {
            let at = 32 + 16 * i;
            put(out, at, &r.signif.to_le_bytes());
            put(out, at + 8, &r.sign_exp.to_le_bytes());
            put(out, at + 10, &[0; 6]);
        }
        if sse {
            for (i, x) in self.xmm.iter().enumerate() {
                put(out, 160 + 16 * i, x);
            }
        }
    }

    /// Load the image FXRSTOR reads (`img`: 288 or 416 bytes, see
    /// `save`); returns the 32-bit format's (FCS, FDS). MXCSR must have
    /// been checked against [`MXCSR_MASK`] by the caller.
    pub fn restore(&mut self, format: FxFormat, sse: bool, img: &[u8]) -> (u16, u16) {
        let u16_at = |at: usize| u16::from_le_bytes([get(img, at), get(img, at + 1)]);
        let u32_at = |at: usize| u32::from(u16_at(at)) | u32::from(u16_at(at + 2)) << 16;
        let u64_at = |at: usize| u64::from(u32_at(at)) | u64::from(u32_at(at + 4)) << 32;
        self.fcw = fcw_loaded(u16_at(0));
        self.fsw = u16_at(2);
        self.ftw = get(img, 4);
        self.fop = u16_at(6) & 0x7ff;
        let sel = match format {
            FxFormat::Wide => {
                self.fip = u64_at(8);
                self.fdp = u64_at(16);
                (0, 0)
            }
            FxFormat::Legacy => {
                self.fip = u64::from(u32_at(8));
                self.fdp = u64::from(u32_at(16));
                (u16_at(12), u16_at(20))
            }
        };
        if sse {
            self.mxcsr = u32_at(24);
        }
        for (i, r) in self.st.iter_mut().enumerate() {
            let at = 32 + 16 * i;
            r.signif = u64_at(at);
            r.sign_exp = u16_at(at + 8);
        }
        if sse {
            let n = ((img.len().saturating_sub(160)) / 16).min(16);
            for (i, x) in self.xmm.iter_mut().enumerate().take(n) {
                for (k, b) in x.iter_mut().enumerate() {
                    *b = get(img, 160 + 16 * i + k);
                }
            }
        }
        sel
    }
}

fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = out.get_mut(at..at + bytes.len()) {
        dst.copy_from_slice(bytes);
    }
}

fn get(img: &[u8], at: usize) -> u8 {
    img.get(at).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_and_restore_both_formats() {
        let mut s = FxState::reset();
        s.fcw = 0x027f;
        s.fsw = 0x3800 | fsw::C1;
        s.ftw = 0x81;
        s.fop = 0xfff; // 11 bits kept
        s.fip = 0x1122_3344_5566_7788;
        s.fdp = 0x99aa_bbcc_ddee_ff00;
        s.mxcsr = 0x1fbf;
        s.st[3] = X87Reg {
            signif: 0x8000_0000_0000_0001,
            sign_exp: 0xbfff,
            reserved: [0; 6],
        };
        s.xmm[15] = [0x5a; 16];
        let mut img = [0xeeu8; 512];
        s.save(FxFormat::Wide, 0x10, 0x18, true, &mut img[..416]);
        assert_eq!(
            &img[0..8],
            &[0x7f, 0x02, 0x00, 0x38 | 0x02, 0x81, 0, 0xff, 0x07]
        );
        assert_eq!(&img[8..16], &0x1122_3344_5566_7788u64.to_le_bytes());
        assert_eq!(&img[24..32], &[0xbf, 0x1f, 0, 0, 0xff, 0xff, 0, 0]);
        assert_eq!(&img[80..90], &[1, 0, 0, 0, 0, 0, 0, 0x80, 0xff, 0xbf]);
        assert_eq!(&img[90..96], &[0; 6]);
        assert_eq!(img[400..416], [0x5a; 16]);
        assert_eq!(img[416], 0xee, "reserved bytes untouched");
        let mut t = FxState::reset();
        assert_eq!(t.restore(FxFormat::Wide, true, &img[..416]), (0, 0));
        assert_eq!(t.fip, s.fip);
        assert_eq!((t.st, t.xmm, t.mxcsr, t.ftw), (s.st, s.xmm, s.mxcsr, s.ftw));
        assert_eq!(t.fop, 0x7ff);

        let mut img = [0u8; 288];
        s.save(FxFormat::Legacy, 0x10, 0x18, true, &mut img);
        assert_eq!(&img[8..16], &[0x88, 0x77, 0x66, 0x55, 0x10, 0, 0, 0]);
        assert_eq!(&img[16..24], &[0x00, 0xff, 0xee, 0xdd, 0x18, 0, 0, 0]);
        let mut t = FxState::reset();
        assert_eq!(t.restore(FxFormat::Legacy, true, &img), (0x10, 0x18));
        assert_eq!((t.fip, t.fdp), (0x5566_7788, 0xddee_ff00));
        assert_eq!(t.xmm[7], s.xmm[7]);
        assert_eq!(t.xmm[15], [0; 16], "XMM8-15 not in a 288-byte image");

        // Without CR4.OSFXSR neither MXCSR nor XMM is stored or loaded.
        let mut img = [0u8; 416];
        s.save(FxFormat::Wide, 0, 0, false, &mut img);
        assert_eq!(&img[24..32], &[0; 8]);
        assert_eq!(img[400..416], [0; 16]);
        let mut t = FxState::reset();
        t.restore(FxFormat::Wide, false, &img);
        assert_eq!(t.mxcsr, MXCSR_RESET);
    }

    #[test]
    fn reset_values() {
        let s = FxState::reset();
        assert_eq!((s.fcw, s.fsw, s.ftw, s.mxcsr), (0x40, 0, 0xff, 0x1f80));
        assert_eq!(s.top(), 0);
    }
}

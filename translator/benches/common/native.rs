//! Running assembled x86-64 machine code natively, in-process: the one
//! module of the benches with `unsafe`.

use memmap2::{Mmap, MmapMut};

/// A native CRC-32 routine (`common::native_crc_code`) in executable memory.
#[derive(Debug)]
pub struct NativeCrc {
    code: Mmap,
}

/// `crc32(buf, len, table)` as assembled by `native_crc_code`.
type CrcFn = unsafe extern "sysv64" fn(*const u8, u64, *const u32) -> u32;

impl NativeCrc {
    /// Map `code` (the output of `native_crc_code`) read-only and
    /// executable.
    pub fn new(code: &[u8]) -> std::io::Result<NativeCrc> {
        let mut m = MmapMut::map_anon(code.len().max(1))?;
        m.copy_from_slice(code);
        Ok(NativeCrc {
            code: m.make_exec()?,
        })
    }

    /// CRC-32 of `buf` (not empty) with `table` (256 entries).
    pub fn crc32(&self, buf: &[u8], table: &[u32; 256]) -> u32 {
        assert!(!buf.is_empty(), "the loop runs at least once");
        // SAFETY: the mapping holds exactly the bytes of `native_crc_code`,
        // a System V function of this signature (it only reads `len` bytes
        // from `buf` and entries 0..=255 of `table`, touches only
        // caller-saved registers and returns with `ret`); it lives as long
        // as `self`.
        let f: CrcFn = unsafe { std::mem::transmute::<*const u8, CrcFn>(self.code.as_ptr()) };
        // SAFETY: `buf` is valid for `buf.len()` (> 0) bytes and `table`
        // for 256 u32 reads, as the routine requires.
        unsafe { f(buf.as_ptr(), buf.len() as u64, table.as_ptr()) }
    }
}

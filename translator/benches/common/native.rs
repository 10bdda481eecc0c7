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

/// A native kernel `f(src: *const u8, len: u64, dst: *mut u8) -> u64` in
/// executable memory (the SSE workloads of `common::sse`).
#[derive(Debug)]
pub struct NativeKernel {
    code: Mmap,
}

type KernelFn = unsafe extern "sysv64" fn(*const u8, u64, *mut u8) -> u64;

impl NativeKernel {
    /// Map `code` read-only and executable. The code must be a System V
    /// function of `KernelFn`'s signature that reads only `src[..len]`,
    /// reads and writes only `dst[..len]`, needs both 16-byte aligned,
    /// touches only caller-saved registers and returns with `ret` (the
    /// kernels of `common::sse` are built so).
    pub fn new(code: &[u8]) -> std::io::Result<NativeKernel> {
        let mut m = MmapMut::map_anon(code.len().max(1))?;
        m.copy_from_slice(code);
        Ok(NativeKernel {
            code: m.make_exec()?,
        })
    }

    /// Run the kernel over `src` and `dst` (same length, a positive
    /// multiple of 64 bytes, 16-byte aligned).
    pub fn run(&self, src: &[u8], dst: &mut [u8]) -> u64 {
        assert!(src.len() == dst.len() && !src.is_empty() && src.len().is_multiple_of(64));
        assert!(src.as_ptr().align_offset(16) == 0 && dst.as_ptr().align_offset(16) == 0);
        // SAFETY: the mapping holds the bytes given to `new`, a function
        // of this signature under the contract stated there; it lives as
        // long as `self`.
        let f: KernelFn = unsafe { std::mem::transmute::<*const u8, KernelFn>(self.code.as_ptr()) };
        // SAFETY: `src` and `dst` are valid, aligned and of the length
        // passed, as the contract requires; `dst` is borrowed mutably.
        unsafe { f(src.as_ptr(), src.len() as u64, dst.as_mut_ptr()) }
    }
}

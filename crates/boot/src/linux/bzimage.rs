//! The Linux bzImage loader (Documentation/arch/x86/boot.rst, "The Real-Mode
//! Kernel Header", "Loading The Rest of The Kernel", "32-bit Boot Protocol",
//! "64-bit Boot Protocol").
//!
//! The image is the real-mode setup (setup_sects + 1 sectors of 512 bytes,
//! with the setup header at 0x1F1) followed by the protected-mode kernel
//! (syssize paragraphs; a signed Debian kernel has its signature after
//! them). Only the protected-mode kernel is loaded: the 32- and 64-bit
//! protocols skip the real-mode code, and the loader fills the zero page
//! the setup code would have.
//!
//! Checks, each its own error: "HdrS" and boot_flag 0xAA55, protocol 2.06
//! or later (cmdline_size; 2.10 adds init_size and pref_address, 2.12
//! xloadflags, 2.14 acpi_rsdp_addr), LOADED_HIGH (a zImage loads at
//! 0x10000: not supported), the setup and the kernel inside the file.
//!
//! Where it goes: at pref_address when the kernel is relocatable and
//! pref_address is aligned to kernel_alignment and the kernel's whole
//! footprint (init_size bytes) fits in RAM there; else at 1 MiB
//! (code32_start's default). The footprint the kernel uses before it reads
//! the memory map is init_size bytes from its runtime address: the load
//! address for a relocatable kernel loaded aligned (Linux's decompressor
//! rounds up to kernel_alignment and never runs below pref_address,
//! arch/x86/boot/compressed/head_64.S), pref_address for a kernel that is
//! not relocatable. The plan claims all of it so nothing is put there.
//!
//! Entry: the 64-bit entry (load address + 0x200) when xloadflags has
//! XLF_KERNEL_64, else the 32-bit entry at the load address.

use super::{finish, KernelSetup, LinuxError, LinuxParams};
use crate::layout::{MemoryLayout, Placer, HIGH_MEMORY_START};
use crate::plan::{Blob, BootPlan, EntryMode, KernelFormat};
use linux_loader::loader::bootparam::{boot_params, setup_header, LOADED_HIGH, XLF_KERNEL_64};
use std::borrow::Cow;
use thiserror::Error;
use vm_memory::ByteValued;

/// Offset of the setup header in the image and in the zero page.
const HEADER_OFFSET: usize = 0x1f1;
/// "HdrS" at 0x202.
const HEADER_MAGIC: u32 = 0x5372_6448;
const BOOT_FLAG: u16 = 0xaa55;
/// The oldest protocol taken: 2.06 has cmdline_size and every field the
/// 32-bit protocol needs.
pub const MIN_PROTOCOL: u16 = 0x0206;
/// The 64-bit entry is this far into the protected-mode kernel.
const STARTUP_64_OFFSET: u64 = 0x200;
/// Default load address of a bzImage (code32_start's default).
const DEFAULT_LOAD_ADDR: u64 = 0x10_0000;
/// initrd_addr_max before protocol 2.03.
const OLD_INITRD_ADDR_MAX: u64 = 0x37ff_ffff;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BzImageError {
    #[error("not a Linux bzImage (no \"HdrS\" setup header at 0x202)")]
    NotBzImage,
    #[error("the bzImage is truncated: {len} bytes, its setup header needs at least {need}")]
    Truncated { len: usize, need: usize },
    #[error("bad boot_flag {0:#06x} in the setup header (0xaa55 expected)")]
    BadBootFlag(u16),
    #[error("boot protocol {}.{:02} is too old; 2.06 or later is needed", .0 >> 8, .0 & 0xff)]
    ProtocolTooOld(u16),
    #[error("the kernel is a zImage (not LOADED_HIGH); only bzImages are supported")]
    NotLoadedHigh,
    #[error("setup_sects {sects} puts the protected-mode kernel at {offset:#x}, beyond the file ({len:#x} bytes)")]
    SetupBeyondFile { sects: u32, offset: u64, len: usize },
    #[error("the setup header declares no protected-mode kernel (syssize 0)")]
    EmptyKernel,
    #[error("the setup header declares a {declared:#x}-byte kernel but only {available:#x} bytes follow the setup")]
    KernelBeyondFile { declared: u64, available: u64 },
    #[error("the kernel has XLF_KERNEL_64 but is only {0:#x} bytes long, which ends before its 64-bit entry at 0x200")]
    NoRoomFor64BitEntry(u64),
    #[error(transparent)]
    Linux(#[from] LinuxError),
}

/// The header fields the loader uses, read from the image.
struct Header {
    raw: setup_header,
    protocol: u16,
    setup_len: u64,
    kernel_len: u64,
}

fn read_header(image: &[u8]) -> Result<Header, BzImageError> {
    let u16_at = |off: usize| u16::from_le_bytes([image[off], image[off + 1]]);
    let magic = image
        .get(0x202..0x206)
        .map(|m| u32::from_le_bytes([m[0], m[1], m[2], m[3]]));
    if magic != Some(HEADER_MAGIC) {
        return Err(BzImageError::NotBzImage);
    }
    let header_end = HEADER_OFFSET + std::mem::size_of::<setup_header>();
    if image.len() < header_end {
        return Err(BzImageError::Truncated {
            len: image.len(),
            need: header_end,
        });
    }
    let boot_flag = u16_at(0x1fe);
    if boot_flag != BOOT_FLAG {
        return Err(BzImageError::BadBootFlag(boot_flag));
    }
    // In bounds (checked above); alignment 1 (packed), so this cannot fail.
    let raw = *setup_header::from_slice(&image[HEADER_OFFSET..header_end])
        .ok_or(BzImageError::NotBzImage)?;
    let protocol = raw.version;
    if protocol < MIN_PROTOCOL {
        return Err(BzImageError::ProtocolTooOld(protocol));
    }
    if raw.loadflags & LOADED_HIGH == 0 {
        return Err(BzImageError::NotLoadedHigh);
    }
    let sects = match raw.setup_sects {
        0 => 4,
        n => u32::from(n),
    };
    let setup_len = (u64::from(sects) + 1) * 512;
    if setup_len > image.len() as u64 {
        return Err(BzImageError::SetupBeyondFile {
            sects,
            offset: setup_len,
            len: image.len(),
        });
    }
    let kernel_len = u64::from(raw.syssize) * 16;
    if kernel_len == 0 {
        return Err(BzImageError::EmptyKernel);
    }
    let available = image.len() as u64 - setup_len;
    if kernel_len > available {
        return Err(BzImageError::KernelBeyondFile {
            declared: kernel_len,
            available,
        });
    }
    Ok(Header {
        raw,
        protocol,
        setup_len,
        kernel_len,
    })
}

/// Whether `image` has a bzImage setup header ("HdrS" at 0x202).
pub fn is_bzimage(image: &[u8]) -> bool {
    image.get(0x202..0x206) == Some(HEADER_MAGIC.to_le_bytes().as_slice())
}

/// Plans the boot of the bzImage `image`.
pub fn load<'a>(
    image: &'a [u8],
    layout: &MemoryLayout,
    params: &LinuxParams<'a>,
) -> Result<BootPlan<'a>, BzImageError> {
    let header = read_header(image)?;
    let hdr = header.raw;
    let has = |version: u16| header.protocol >= version;

    let relocatable = hdr.relocatable_kernel != 0;
    let alignment = u64::from(hdr.kernel_alignment);
    let (pref_address, init_size) = if has(0x020a) {
        (hdr.pref_address, u64::from(hdr.init_size))
    } else {
        (DEFAULT_LOAD_ADDR, 0)
    };
    // Before 2.10 nothing tells how much memory the kernel needs beyond
    // its own bytes.
    let footprint_len = init_size.max(header.kernel_len);
    let aligned = |addr: u64| !alignment.is_power_of_two() || addr % alignment == 0;
    let pref_fits = pref_address
        .checked_add(footprint_len)
        .is_some_and(|end| end <= layout.ram_size());
    let load_addr = if relocatable
        && has(0x020a)
        && pref_address >= HIGH_MEMORY_START
        && aligned(pref_address)
        && pref_fits
    {
        pref_address
    } else {
        DEFAULT_LOAD_ADDR
    };
    let runtime_addr = if relocatable {
        let rounded = if alignment.is_power_of_two() {
            load_addr.next_multiple_of(alignment)
        } else {
            load_addr
        };
        if has(0x020a) {
            rounded.max(pref_address)
        } else {
            rounded
        }
    } else if has(0x020a) {
        pref_address
    } else {
        load_addr
    };

    let mut placer = Placer::new(layout);
    let kernel_end = load_addr + header.kernel_len;
    let footprint_start = load_addr.min(runtime_addr);
    let footprint_end = runtime_addr.saturating_add(footprint_len).max(kernel_end);
    placer
        .claim("kernel", footprint_start, footprint_end - footprint_start)
        .map_err(LinuxError::from)?;
    let kernel_blob = Blob {
        name: "kernel".into(),
        addr: load_addr,
        bytes: Cow::Borrowed(
            &image[header.setup_len as usize..(header.setup_len + header.kernel_len) as usize],
        ),
        zero_fill: 0,
    };

    let (entry_mode, entry_rip) = if has(0x020c) && hdr.xloadflags & XLF_KERNEL_64 != 0 {
        if header.kernel_len <= STARTUP_64_OFFSET {
            return Err(BzImageError::NoRoomFor64BitEntry(header.kernel_len));
        }
        (EntryMode::Long64, load_addr + STARTUP_64_OFFSET)
    } else {
        (EntryMode::Protected32, load_addr)
    };

    // The zero page starts as a copy of the image's setup header, as far
    // as the header says it goes (0x202 + the byte at 0x201, the jump over
    // it) but never past the zero page's end of it (0x290).
    let mut bp = boot_params::default();
    let declared_end = 0x202 + usize::from(image[0x201]);
    let copy_end = declared_end
        .clamp(HEADER_OFFSET + std::mem::size_of::<setup_header>(), 0x290)
        .min(image.len());
    bp.as_mut_slice()[HEADER_OFFSET..copy_end].copy_from_slice(&image[HEADER_OFFSET..copy_end]);
    // The 32-bit entry reads where it was loaded from code32_start.
    bp.hdr.code32_start = load_addr as u32;

    let setup = KernelSetup {
        boot_params: bp,
        cmdline_max: u64::from(hdr.cmdline_size),
        initrd_addr_max: if has(0x0203) {
            u64::from(hdr.initrd_addr_max)
        } else {
            OLD_INITRD_ADDR_MAX
        },
        takes_rsdp: has(0x020e),
        entry_mode,
        entry_rip,
        kernel_blobs: vec![kernel_blob],
    };
    let (blobs, entry) = finish(setup, params, layout, &mut placer)?;
    Ok(BootPlan {
        format: KernelFormat::BzImage {
            protocol: header.protocol,
        },
        blobs,
        entry,
    })
}

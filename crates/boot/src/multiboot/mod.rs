//! The Multiboot (v1) loader (Multiboot Specification version 0.6.96).
//!
//! §3.1 "OS image format": the header is a 32-bit aligned structure within
//! the first 8192 bytes: magic 0x1BADB002, flags, checksum (the three sum
//! to 0 mod 2^32). Flags 0..15 are requirements a loader must meet or
//! refuse the image: bit 0 (modules page-aligned: they always are here),
//! bit 1 (memory information: always given), bit 2 (video mode table:
//! accepted without one, as QEMU does; the info structure's flags 11 and
//! 12 stay clear, which tells the kernel there is none); any other bit in
//! 3..15 is refused. Bit 16 says the header's address fields are valid
//! (the "a.out kludge"): the image is then loaded by them (GRUB's rule);
//! without it the image must be an ELF32 x86 executable, loaded by its
//! program headers at their physical addresses.
//!
//! §3.2 "Machine state" is in `entry.rs`. The information structure, its
//! memory map, the command line and the module list go in one blob after
//! the kernel (as QEMU places them), the modules page-aligned after it.
//!
//! Command lines follow QEMU: the kernel's is the file name, a space, and
//! the `-append` text; each module's is its whole `-initrd` entry (file
//! name and arguments), see [`parse_module_list`].

mod info;

use crate::elf::{self, ElfError, EM_386};
use crate::entry;
use crate::layout::{LayoutError, MemoryLayout, Placer};
use crate::plan::{Blob, BootPlan, KernelFormat};
use info::{InfoLayout, PlacedModule};
use std::borrow::Cow;
use thiserror::Error;

pub const HEADER_MAGIC: u32 = 0x1bad_b002;
/// How far into the image the header may start (it must end within it).
const SEARCH_LEN: usize = 8192;
const FLAG_PAGE_ALIGN: u32 = 1 << 0;
const FLAG_MEMORY_INFO: u32 = 1 << 1;
const FLAG_VIDEO_MODE: u32 = 1 << 2;
const FLAG_AOUT_KLUDGE: u32 = 1 << 16;
const UNDERSTOOD_REQUIREMENTS: u32 = FLAG_PAGE_ALIGN | FLAG_MEMORY_INFO | FLAG_VIDEO_MODE;
const PAGE: u64 = 0x1000;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum MultibootError {
    #[error(
        "no Multiboot header (magic 0x1badb002 with a valid checksum) in the first 8192 bytes"
    )]
    NoHeader,
    #[error("the Multiboot header at {offset:#x} has a bad checksum")]
    BadChecksum { offset: usize },
    #[error("the Multiboot header at {offset:#x} is cut off by the end of the image or of its first 8192 bytes")]
    TruncatedHeader { offset: usize },
    #[error("the kernel requires Multiboot features xlat does not provide (flags {0:#x})")]
    UnsupportedRequirements(u32),
    #[error("bad a.out kludge addresses: {0}")]
    BadAddresses(String),
    #[error(
        "the Multiboot kernel is not an ELF file and its header has no address fields (flag 16)"
    )]
    NotElfNoAddresses,
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("the Multiboot kernel is a {0}-bit ELF file for machine {1}; a 32-bit x86 ELF file is needed")]
    WrongElfClass(u32, u16),
    #[error("the {what} command line contains a NUL byte")]
    CmdlineNul { what: String },
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

/// The header fields the loader uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    /// Offset of the magic in the image.
    pub offset: usize,
    pub flags: u32,
    /// header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr,
    /// when flag 16 is set.
    pub addresses: Option<[u32; 5]>,
}

fn u32_at(image: &[u8], off: usize) -> Option<u32> {
    let b = image.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// The first header with a valid checksum in the first 8192 bytes.
pub fn find_header(image: &[u8]) -> Result<Header, MultibootError> {
    let window = &image[..image.len().min(SEARCH_LEN)];
    let mut bad_checksum = None;
    for offset in (0..window.len().saturating_sub(11)).step_by(4) {
        if u32_at(window, offset) != Some(HEADER_MAGIC) {
            continue;
        }
        let (Some(flags), Some(checksum)) =
            (u32_at(window, offset + 4), u32_at(window, offset + 8))
        else {
            continue;
        };
        if HEADER_MAGIC.wrapping_add(flags).wrapping_add(checksum) != 0 {
            bad_checksum.get_or_insert(offset);
            continue;
        }
        let addresses = if flags & FLAG_AOUT_KLUDGE != 0 {
            let mut a = [0u32; 5];
            for (i, slot) in a.iter_mut().enumerate() {
                *slot = u32_at(window, offset + 12 + 4 * i)
                    .ok_or(MultibootError::TruncatedHeader { offset })?;
            }
            Some(a)
        } else {
            None
        };
        return Ok(Header {
            offset,
            flags,
            addresses,
        });
    }
    Err(match bad_checksum {
        Some(offset) => MultibootError::BadChecksum { offset },
        None => MultibootError::NoHeader,
    })
}

/// Whether `image` has a valid Multiboot header.
pub fn is_multiboot(image: &[u8]) -> bool {
    find_header(image).is_ok()
}

/// A boot module and its string.
#[derive(Clone, Copy, Debug)]
pub struct MultibootModule<'a> {
    pub bytes: &'a [u8],
    pub cmdline: &'a str,
}

/// What the user gives a Multiboot boot besides the kernel.
#[derive(Clone, Copy, Debug, Default)]
pub struct MultibootParams<'a> {
    /// The kernel's command line, as the kernel sees it (QEMU: the file
    /// name, a space, the `-append` text).
    pub cmdline: &'a str,
    pub modules: &'a [MultibootModule<'a>],
}

/// One entry of a `-initrd` module list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleSpec {
    /// The file to load: the entry up to its first space.
    pub path: String,
    /// The module's string: the whole entry, file name included (QEMU).
    pub cmdline: String,
}

/// Splits QEMU's `-initrd "file1 args,file2"` into modules: entries are
/// separated by commas (",," is a comma inside an entry), each is a file
/// name optionally followed by a space and arguments. Empty entries are
/// dropped.
pub fn parse_module_list(list: &str) -> Vec<ModuleSpec> {
    let mut entries = Vec::new();
    let mut current = String::new();
    let mut chars = list.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ',' {
            if chars.peek() == Some(&',') {
                chars.next();
                current.push(',');
            } else {
                entries.push(std::mem::take(&mut current));
            }
        } else {
            current.push(c);
        }
    }
    entries.push(current);
    entries
        .into_iter()
        .filter(|e| !e.trim().is_empty())
        .map(|e| ModuleSpec {
            path: e.split(' ').next().unwrap_or_default().to_string(),
            cmdline: e,
        })
        .collect()
}

/// The kernel image's pieces: (physical address, bytes, zero fill).
type Pieces<'a> = Vec<(u64, &'a [u8], u64)>;

/// The a.out kludge (§3.1.3): the image from the text start up to
/// load_end_addr at load_addr, then BSS up to bss_end_addr.
fn aout_pieces<'a>(
    image: &'a [u8],
    header: &Header,
    a: [u32; 5],
) -> Result<(Pieces<'a>, u64), MultibootError> {
    let [header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr] = a.map(u64::from);
    let bad = |s: String| MultibootError::BadAddresses(s);
    if load_addr > header_addr {
        return Err(bad(format!(
            "load_addr {load_addr:#x} above header_addr {header_addr:#x}"
        )));
    }
    let header_offset = header.offset as u64;
    let text_offset = header_offset
        .checked_sub(header_addr - load_addr)
        .ok_or_else(|| bad(format!("header_addr - load_addr ({:#x}) is more than the header's offset in the file ({header_offset:#x})", header_addr - load_addr)))?;
    let file_left = image.len() as u64 - text_offset;
    let load_len = if load_end_addr == 0 {
        file_left
    } else {
        if load_end_addr <= load_addr {
            return Err(bad(format!(
                "load_end_addr {load_end_addr:#x} not above load_addr {load_addr:#x}"
            )));
        }
        load_end_addr - load_addr
    };
    if load_len > file_left {
        return Err(bad(format!(
            "{load_len:#x} bytes to load from file offset {text_offset:#x}, but the file has {file_left:#x}"
        )));
    }
    let load_end = load_addr + load_len;
    let bss_len = if bss_end_addr == 0 {
        0
    } else {
        bss_end_addr.checked_sub(load_end).ok_or_else(|| {
            bad(format!(
                "bss_end_addr {bss_end_addr:#x} below the end of the loaded image {load_end:#x}"
            ))
        })?
    };
    if entry_addr < load_addr || entry_addr >= load_end + bss_len {
        return Err(bad(format!(
            "entry_addr {entry_addr:#x} outside the image {load_addr:#x}..{:#x}",
            load_end + bss_len
        )));
    }
    // In bounds: text_offset + load_len <= image.len() by the checks above.
    let bytes = &image[text_offset as usize..(text_offset + load_len) as usize];
    Ok((vec![(load_addr, bytes, bss_len)], entry_addr))
}

fn elf_pieces(image: &[u8]) -> Result<(Pieces<'_>, u64), MultibootError> {
    let elf = elf::parse(image)?;
    if elf.is_64 || elf.machine != EM_386 {
        return Err(MultibootError::WrongElfClass(
            if elf.is_64 { 64 } else { 32 },
            elf.machine,
        ));
    }
    let entry = elf.physical_entry()?;
    let pieces = elf
        .segments
        .iter()
        .map(|s| (s.paddr, s.bytes, s.memsz - s.bytes.len() as u64))
        .collect();
    Ok((pieces, entry))
}

/// Plans the boot of the Multiboot kernel `image`.
pub fn load<'a>(
    image: &'a [u8],
    layout: &MemoryLayout,
    params: &MultibootParams<'a>,
) -> Result<BootPlan<'a>, MultibootError> {
    let header = find_header(image)?;
    let unsupported = header.flags & 0xffff & !UNDERSTOOD_REQUIREMENTS;
    if unsupported != 0 {
        return Err(MultibootError::UnsupportedRequirements(unsupported));
    }
    let (pieces, entry_rip) = match header.addresses {
        Some(a) => aout_pieces(image, &header, a)?,
        None if elf::is_elf(image) => elf_pieces(image)?,
        None => return Err(MultibootError::NotElfNoAddresses),
    };
    if params.cmdline.contains('\0') {
        return Err(MultibootError::CmdlineNul {
            what: "kernel".into(),
        });
    }
    if let Some(i) = params.modules.iter().position(|m| m.cmdline.contains('\0')) {
        return Err(MultibootError::CmdlineNul {
            what: format!("module {i}"),
        });
    }

    let mut placer = Placer::new(layout);
    let mut blobs = Vec::new();
    let mut kernel_end = 0;
    for (i, &(addr, bytes, zero_fill)) in pieces.iter().enumerate() {
        let name = format!("kernel segment {i}");
        let len = bytes.len() as u64 + zero_fill;
        placer.claim(&name, addr, len)?;
        kernel_end = kernel_end.max(addr + len);
        blobs.push(Blob {
            name,
            addr,
            bytes: Cow::Borrowed(bytes),
            zero_fill,
        });
    }

    let map = layout.e820();
    let module_cmdlines: Vec<&str> = params.modules.iter().map(|m| m.cmdline).collect();
    let info_layout = InfoLayout::new(map.len(), params.cmdline, &module_cmdlines);
    let info_addr = placer.place_low("multiboot info", info_layout.len as u64, kernel_end, PAGE)?;
    let mut placed = Vec::with_capacity(params.modules.len());
    let mut next = info_addr + info_layout.len as u64;
    for (i, m) in params.modules.iter().enumerate() {
        let name = format!("module {i}");
        let len = m.bytes.len() as u64;
        let start = placer.place_low(&name, len, next, PAGE)?;
        next = start + len;
        placed.push(PlacedModule {
            start,
            end: start + len,
            cmdline: m.cmdline,
        });
        blobs.push(Blob {
            name,
            addr: start,
            bytes: Cow::Borrowed(m.bytes),
            zero_fill: 0,
        });
    }
    let info_bytes = info::build(&info_layout, info_addr, &map, params.cmdline, &placed);
    blobs.push(Blob {
        name: "multiboot info".into(),
        addr: info_addr,
        bytes: Cow::Owned(info_bytes),
        zero_fill: 0,
    });
    Ok(BootPlan {
        format: KernelFormat::Multiboot {
            aout_kludge: header.addresses.is_some(),
        },
        blobs,
        entry: entry::multiboot(entry_rip, info_addr, info_layout.gdt_addr(info_addr)),
    })
}

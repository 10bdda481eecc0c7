//! The loadable segments of an ELF executable (System V ABI, "Program
//! Loading"; ELF-64 Object File Format), for the vmlinux and Multiboot ELF
//! loaders. goblin reads the file header and the program headers; nothing
//! else of the file (sections, symbols) is parsed, so a hostile image has
//! the least surface. Segments load at their physical addresses (p_paddr),
//! as boot loaders do: no paging is on when these kernels start.

use goblin::container::{Container, Ctx, Endian};
use goblin::elf::program_header::{ProgramHeader, PT_LOAD};
use goblin::elf::Elf;
use thiserror::Error;

/// e_machine values the loaders accept.
pub const EM_386: u16 = 3;
pub const EM_X86_64: u16 = 62;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("malformed ELF header or program headers: {0}")]
    Malformed(String),
    #[error("a big-endian ELF file cannot hold x86 code")]
    BigEndian,
    #[error("ELF file for machine {0}, not x86 (3) or x86-64 (62)")]
    WrongMachine(u16),
    #[error("ELF program header {index}: {problem}")]
    BadSegment { index: usize, problem: String },
    #[error("ELF file has no loadable (PT_LOAD) segment")]
    NoLoadableSegment,
    #[error("ELF entry point {0:#x} is in no loaded segment (virtual or physical)")]
    EntryOutsideSegments(u64),
}

/// A PT_LOAD segment: `bytes` (the file's part) at `paddr`, then zeros up
/// to `memsz`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadSegment<'a> {
    /// Index of its program header.
    pub index: usize,
    pub paddr: u64,
    pub vaddr: u64,
    pub bytes: &'a [u8],
    pub memsz: u64,
}

/// What the loaders need of an ELF executable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfImage<'a> {
    pub is_64: bool,
    pub machine: u16,
    pub entry: u64,
    pub segments: Vec<LoadSegment<'a>>,
}

/// Whether `image` starts with the ELF magic.
pub fn is_elf(image: &[u8]) -> bool {
    image.starts_with(b"\x7fELF")
}

/// Reads the header and the PT_LOAD segments of `image`, checking every
/// offset and size against the file and against 64-bit wrap-around.
pub fn parse(image: &[u8]) -> Result<ElfImage<'_>, ElfError> {
    if !is_elf(image) {
        return Err(ElfError::NotElf);
    }
    let header = Elf::parse_header(image).map_err(|e| ElfError::Malformed(e.to_string()))?;
    let container = header
        .container()
        .map_err(|e| ElfError::Malformed(e.to_string()))?;
    let endian = header
        .endianness()
        .map_err(|e| ElfError::Malformed(e.to_string()))?;
    if endian != Endian::Little {
        return Err(ElfError::BigEndian);
    }
    if header.e_machine != EM_386 && header.e_machine != EM_X86_64 {
        return Err(ElfError::WrongMachine(header.e_machine));
    }
    let ctx = Ctx::new(container, endian);
    if usize::from(header.e_phentsize) != ProgramHeader::size(ctx) {
        return Err(ElfError::Malformed(format!(
            "program header size {} instead of {}",
            header.e_phentsize,
            ProgramHeader::size(ctx)
        )));
    }
    let phoff = usize::try_from(header.e_phoff)
        .map_err(|_| ElfError::Malformed("program headers beyond the file".into()))?;
    // goblin bounds the count by the file's length before it allocates.
    let headers = ProgramHeader::parse(image, phoff, usize::from(header.e_phnum), ctx)
        .map_err(|e| ElfError::Malformed(e.to_string()))?;
    let mut segments = Vec::new();
    for (index, ph) in headers.iter().enumerate() {
        if ph.p_type != PT_LOAD || ph.p_memsz == 0 {
            continue;
        }
        let bad = |problem: String| ElfError::BadSegment { index, problem };
        if ph.p_filesz > ph.p_memsz {
            return Err(bad(format!(
                "file size {:#x} larger than memory size {:#x}",
                ph.p_filesz, ph.p_memsz
            )));
        }
        let file_end = ph
            .p_offset
            .checked_add(ph.p_filesz)
            .filter(|&end| end <= image.len() as u64)
            .ok_or_else(|| {
                bad(format!(
                    "bytes {:#x}+{:#x} beyond the end of the file ({:#x} bytes)",
                    ph.p_offset,
                    ph.p_filesz,
                    image.len()
                ))
            })?;
        if ph.p_paddr.checked_add(ph.p_memsz).is_none() {
            return Err(bad(format!(
                "physical range {:#x}+{:#x} wraps around",
                ph.p_paddr, ph.p_memsz
            )));
        }
        segments.push(LoadSegment {
            index,
            paddr: ph.p_paddr,
            vaddr: ph.p_vaddr,
            // In bounds: checked just above.
            bytes: &image[ph.p_offset as usize..file_end as usize],
            memsz: ph.p_memsz,
        });
    }
    if segments.is_empty() {
        return Err(ElfError::NoLoadableSegment);
    }
    Ok(ElfImage {
        is_64: container == Container::Big,
        machine: header.e_machine,
        entry: header.e_entry,
        segments,
    })
}

impl ElfImage<'_> {
    /// The entry point as a physical address. An e_entry inside a
    /// segment's physical range is physical already (Linux links vmlinux
    /// with ENTRY(phys_startup_64), and its virtual addresses are in the
    /// top 2 GiB, so it cannot be meant otherwise); else one inside a
    /// segment's virtual range is translated through that segment, as GRUB
    /// does for Multiboot ELF kernels.
    pub fn physical_entry(&self) -> Result<u64, ElfError> {
        let e = self.entry;
        let within = |start: u64, len: u64| e >= start && e - start < len;
        if self.segments.iter().any(|s| within(s.paddr, s.memsz)) {
            return Ok(e);
        }
        if let Some(s) = self.segments.iter().find(|s| within(s.vaddr, s.memsz)) {
            return Ok(s.paddr + (e - s.vaddr));
        }
        Err(ElfError::EntryOutsideSegments(e))
    }
}

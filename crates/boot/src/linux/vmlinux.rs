//! The Linux ELF vmlinux loader: the uncompressed kernel's PT_LOAD segments
//! at their physical addresses, entered at e_entry, which Linux links as a
//! physical address (arch/x86/kernel/vmlinux.lds.S: ENTRY(phys_startup_64),
//! or phys_startup_32 for a 32-bit kernel). A 64-bit (ELFCLASS64, x86-64)
//! vmlinux is entered through the 64-bit boot protocol, a 32-bit one
//! through the 32-bit protocol (Documentation/arch/x86/boot.rst), with a
//! zero page the loader fills from scratch: a vmlinux has no setup header,
//! so only the fields a boot loader writes are set (boot_flag and "HdrS" so
//! the page reads as a loader's, the command line, the initrd, the memory
//! map, acpi_rsdp_addr), as Firecracker does for the same kind of boot.
//!
//! Without a header to say so, the command line is limited to what x86
//! Linux keeps (COMMAND_LINE_SIZE, 2048 with the NUL) and the initrd is
//! kept below 2 GiB (initrd_addr_max of every 64-bit bzImage).

use super::{finish, KernelSetup, LinuxError, LinuxParams};
use crate::elf::{self, ElfError, EM_386, EM_X86_64};
use crate::layout::{MemoryLayout, Placer};
use crate::plan::{Blob, BootPlan, EntryMode, KernelFormat};
use linux_loader::loader::bootparam::boot_params;
use std::borrow::Cow;
use thiserror::Error;

/// COMMAND_LINE_SIZE of x86 Linux, less the NUL.
const CMDLINE_MAX: u64 = 2047;
const INITRD_ADDR_MAX: u64 = 0x7fff_ffff;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum VmlinuxError {
    #[error(transparent)]
    Elf(#[from] ElfError),
    #[error("a {class}-bit ELF file for machine {machine} is not an x86 Linux kernel")]
    WrongClass { class: u32, machine: u16 },
    #[error(transparent)]
    Linux(#[from] LinuxError),
}

/// Plans the boot of the ELF vmlinux `image`.
pub fn load<'a>(
    image: &'a [u8],
    layout: &MemoryLayout,
    params: &LinuxParams<'a>,
) -> Result<BootPlan<'a>, VmlinuxError> {
    let elf = elf::parse(image)?;
    let entry_mode = match (elf.is_64, elf.machine) {
        (true, EM_X86_64) => EntryMode::Long64,
        (false, EM_386) => EntryMode::Protected32,
        (is_64, machine) => {
            return Err(VmlinuxError::WrongClass {
                class: if is_64 { 64 } else { 32 },
                machine,
            })
        }
    };
    let entry_rip = elf.physical_entry()?;

    let mut placer = Placer::new(layout);
    let mut kernel_blobs = Vec::new();
    for seg in &elf.segments {
        let name = format!("kernel segment {}", seg.index);
        placer
            .claim(&name, seg.paddr, seg.memsz)
            .map_err(LinuxError::from)?;
        kernel_blobs.push(Blob {
            name,
            addr: seg.paddr,
            bytes: Cow::Borrowed(seg.bytes),
            zero_fill: seg.memsz - seg.bytes.len() as u64,
        });
    }

    let mut bp = boot_params::default();
    bp.hdr.boot_flag = 0xaa55;
    bp.hdr.header = 0x5372_6448; // "HdrS"
    let setup = KernelSetup {
        boot_params: bp,
        cmdline_max: CMDLINE_MAX,
        initrd_addr_max: INITRD_ADDR_MAX,
        takes_rsdp: true,
        entry_mode,
        entry_rip,
        kernel_blobs,
    };
    let (blobs, entry) = finish(setup, params, layout, &mut placer)?;
    Ok(BootPlan {
        format: KernelFormat::Vmlinux,
        blobs,
        entry,
    })
}

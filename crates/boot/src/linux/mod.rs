//! Direct boot of Linux: the parts of the x86 boot protocol
//! (Documentation/arch/x86/boot.rst) shared by the bzImage and the ELF
//! vmlinux loaders: the zero page (`struct boot_params`), the command line,
//! the initrd and the memory map.
//!
//! The structures are rust-vmm's `linux-loader` (`loader::bootparam`, a
//! transcription of arch/x86/include/uapi/asm/bootparam.h with layout
//! assertions), built without its loaders: those write into a
//! `vm_memory::GuestMemory` and do not check what this crate checks, while
//! a plan here is data. The crate builds without KVM; only its structures
//! and vm-memory's `ByteValued` (safe byte views of them) are used.
//!
//! Fixed places in low memory, as QEMU and Firecracker use them:
//! the GDT at 0x500, the zero page at 0x7000, the page tables for 64-bit
//! entry at 0x9000..0xF000 and the command line at 0x20000. The initrd goes
//! as high as `initrd_addr_max` and RAM allow, page-aligned.

pub mod bzimage;
pub mod vmlinux;

use crate::entry::{self, GDT_ADDR, PAGE_TABLES_ADDR, PAGE_TABLES_LEN};
use crate::layout::{LayoutError, MemoryLayout, Placer};
use crate::plan::{Blob, EntryMode, EntryState};
use linux_loader::loader::bootparam::{boot_e820_entry, boot_params, E820_MAX_ENTRIES_ZEROPAGE};
use std::borrow::Cow;
use thiserror::Error;
use vm_memory::ByteValued;

/// Where the zero page goes.
pub const ZERO_PAGE_ADDR: u64 = 0x7000;
/// Where the command line goes (boot.rst: anywhere from the end of the
/// setup heap to 0xA0000; the 32- and 64-bit protocols have no heap).
pub const CMDLINE_ADDR: u64 = 0x2_0000;
/// Room for the command line with its NUL, up to the next 64 KiB.
pub const CMDLINE_ROOM: u64 = 0x1_0000;
/// type_of_loader for a boot loader without an assigned ID (boot.rst).
const LOADER_TYPE_UNDEFINED: u8 = 0xff;
/// vid_mode "normal" (80x25 text), as QEMU passes without `vga=`.
const VID_MODE_NORMAL: u16 = 0xffff;
/// Page alignment of the initrd (boot.rst: "page aligned").
const PAGE: u64 = 0x1000;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum LinuxError {
    #[error("the kernel command line is {len} bytes; this kernel accepts at most {max}")]
    CmdlineTooLong { len: usize, max: u64 },
    #[error("the kernel command line contains a NUL byte")]
    CmdlineNul,
    #[error("the initrd is empty")]
    EmptyInitrd,
    #[error("the initrd ({len:#x} bytes) does not fit in guest RAM below {limit:#x} (the kernel's initrd_addr_max or the end of RAM), above the kernel")]
    InitrdTooLarge { len: u64, limit: u64 },
    #[error(transparent)]
    Layout(#[from] LayoutError),
}

/// What the user gives a Linux boot besides the kernel.
#[derive(Clone, Copy, Debug, Default)]
pub struct LinuxParams<'a> {
    /// The command line (`-append`), without a NUL.
    pub cmdline: &'a str,
    /// The initial ramdisk (`-initrd`), loaded as is.
    pub initrd: Option<&'a [u8]>,
    /// The ACPI RSDP's physical address for `boot_params.acpi_rsdp_addr`
    /// (protocol 2.14); `None` lets the kernel scan the BIOS area for it.
    pub acpi_rsdp: Option<u64>,
}

/// What the kernel-format loaders found, for the shared part to finish.
pub(crate) struct KernelSetup<'a> {
    /// The zero page with the setup header already in it.
    pub boot_params: boot_params,
    /// Longest command line the kernel takes, without the NUL.
    pub cmdline_max: u64,
    /// Highest address the initrd may occupy, inclusive.
    pub initrd_addr_max: u64,
    /// Whether the kernel reads `acpi_rsdp_addr` (protocol 2.14).
    pub takes_rsdp: bool,
    pub entry_mode: EntryMode,
    pub entry_rip: u64,
    /// The kernel's blobs, already claimed in the placer.
    pub kernel_blobs: Vec<Blob<'a>>,
}

/// The blobs and entry state shared by both Linux loaders: claims the
/// fixed low-memory pieces, the command line and the initrd (placed after
/// the kernel claimed its own ranges), fills the zero page.
pub(crate) fn finish<'a>(
    mut setup: KernelSetup<'a>,
    params: &LinuxParams<'a>,
    layout: &MemoryLayout,
    placer: &mut Placer,
) -> Result<(Vec<Blob<'a>>, EntryState), LinuxError> {
    let bp = &mut setup.boot_params;
    let mut blobs = std::mem::take(&mut setup.kernel_blobs);

    let gdt = entry::gdt(setup.entry_mode);
    placer.claim("GDT", GDT_ADDR, gdt.len() as u64)?;
    blobs.push(owned("GDT", GDT_ADDR, gdt));
    placer.claim("boot_params", ZERO_PAGE_ADDR, 4096)?;
    if setup.entry_mode == EntryMode::Long64 {
        placer.claim("page tables", PAGE_TABLES_ADDR, PAGE_TABLES_LEN)?;
        blobs.push(owned(
            "page tables",
            PAGE_TABLES_ADDR,
            entry::identity_page_tables(),
        ));
    }

    // The command line, NUL-terminated.
    let cmdline = params.cmdline.as_bytes();
    if cmdline.contains(&0) {
        return Err(LinuxError::CmdlineNul);
    }
    let cmdline_max = setup.cmdline_max.min(CMDLINE_ROOM - 1);
    if cmdline.len() as u64 > cmdline_max {
        return Err(LinuxError::CmdlineTooLong {
            len: cmdline.len(),
            max: cmdline_max,
        });
    }
    let mut cmdline_bytes = cmdline.to_vec();
    cmdline_bytes.push(0);
    placer.claim("command line", CMDLINE_ADDR, cmdline_bytes.len() as u64)?;
    blobs.push(owned("command line", CMDLINE_ADDR, cmdline_bytes));
    bp.hdr.cmd_line_ptr = CMDLINE_ADDR as u32;
    bp.ext_cmd_line_ptr = 0;

    // The initrd, as high as allowed.
    bp.hdr.ramdisk_image = 0;
    bp.hdr.ramdisk_size = 0;
    bp.ext_ramdisk_image = 0;
    bp.ext_ramdisk_size = 0;
    if let Some(initrd) = params.initrd {
        if initrd.is_empty() {
            return Err(LinuxError::EmptyInitrd);
        }
        let len = initrd.len() as u64;
        let limit = setup
            .initrd_addr_max
            .saturating_add(1)
            .min(layout.ram_size());
        let addr = placer
            .place_high("initrd", len, limit, PAGE)
            .map_err(|e| match e {
                LayoutError::NoRoom { .. } => LinuxError::InitrdTooLarge { len, limit },
                other => LinuxError::Layout(other),
            })?;
        // Both below 4 GiB: the limit is at most the RAM size, at most 4 GiB.
        bp.hdr.ramdisk_image = addr as u32;
        bp.hdr.ramdisk_size = len as u32;
        blobs.push(Blob {
            name: "initrd".into(),
            addr,
            bytes: Cow::Borrowed(initrd),
            zero_fill: 0,
        });
    }

    bp.hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
    bp.hdr.vid_mode = VID_MODE_NORMAL;
    // No setup_data list: the image's field is the kernel's, not ours.
    bp.hdr.setup_data = 0;
    bp.hdr.hardware_subarch = 0;
    if setup.takes_rsdp {
        bp.acpi_rsdp_addr = params.acpi_rsdp.unwrap_or(0);
    }

    let map = layout.e820();
    // At most five entries (see layout.rs), far below the zero page's 128.
    debug_assert!(map.len() <= E820_MAX_ENTRIES_ZEROPAGE);
    bp.e820_entries = map.len().min(E820_MAX_ENTRIES_ZEROPAGE) as u8;
    for (slot, e) in bp.e820_table.iter_mut().zip(&map) {
        *slot = boot_e820_entry {
            addr: e.addr,
            size: e.size,
            r#type: e.kind as u32,
        };
    }
    blobs.push(owned(
        "boot_params",
        ZERO_PAGE_ADDR,
        setup.boot_params.as_slice().to_vec(),
    ));

    let state = entry::linux(setup.entry_mode, setup.entry_rip, ZERO_PAGE_ADDR);
    Ok((blobs, state))
}

fn owned(name: &str, addr: u64, bytes: Vec<u8>) -> Blob<'static> {
    Blob {
        name: name.into(),
        addr,
        bytes: Cow::Owned(bytes),
        zero_fill: 0,
    }
}

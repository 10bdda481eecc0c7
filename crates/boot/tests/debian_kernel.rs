//! The bzImage loader on Debian's real kernel, as tools/debian-guest.sh
//! caches it (or $XLAT_GUEST_KERNEL and $XLAT_GUEST_INITRD). Ignored by
//! default: run `tools/debian-guest.sh`, then
//! `cargo test -p boot --test debian_kernel -- --ignored`.

mod common;

use boot::linux::bzimage;
use boot::{
    BzImageError, EntryMode, KernelFormat, LayoutError, LinuxError, LinuxParams, MemoryLayout,
};
use common::*;
use std::path::{Path, PathBuf};

fn cache_dir() -> PathBuf {
    match std::env::var_os("XLAT_GUEST_CACHE") {
        Some(d) => PathBuf::from(d),
        None => Path::new(&std::env::var_os("HOME").expect("HOME")).join(".cache/xlat/debian"),
    }
}

/// The first file under `dir` (searched two levels down) whose name starts
/// with `prefix`.
fn find(dir: &Path, prefix: &str, depth: u32) -> Option<PathBuf> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in &entries {
        let name = p.file_name()?.to_string_lossy().into_owned();
        if p.is_file() && name.starts_with(prefix) {
            return Some(p.clone());
        }
    }
    if depth == 0 {
        return None;
    }
    entries
        .iter()
        .filter(|p| p.is_dir())
        .find_map(|p| find(p, prefix, depth - 1))
}

#[test]
#[ignore = "needs Debian's kernel: run tools/debian-guest.sh first"]
fn debian_bzimage_plans_a_64bit_boot() {
    let kernel_path = std::env::var_os("XLAT_GUEST_KERNEL")
        .map(PathBuf::from)
        .or_else(|| find(&cache_dir().join("unpacked"), "vmlinuz-", 3))
        .expect("no Debian kernel: run tools/debian-guest.sh (or set XLAT_GUEST_KERNEL)");
    let initrd_path = std::env::var_os("XLAT_GUEST_INITRD")
        .map(PathBuf::from)
        .or_else(|| find(&cache_dir(), "initramfs-", 0));
    let image = std::fs::read(&kernel_path).unwrap();
    let initrd = initrd_path.map(|p| std::fs::read(p).unwrap());

    let layout = MemoryLayout::new(256 << 20, Some(0xe0000..0x100000)).unwrap();
    let params = LinuxParams {
        cmdline: "console=ttyS0",
        initrd: initrd.as_deref(),
        acpi_rsdp: Some(0xf0000),
    };
    let plan = bzimage::load(&image, &layout, &params).unwrap();
    check_plan_invariants(&plan, &layout);

    let KernelFormat::BzImage { protocol } = plan.format else {
        panic!("{:?}", plan.format)
    };
    assert!(protocol >= 0x020e, "protocol {protocol:#x}");
    assert_eq!(plan.entry.mode, EntryMode::Long64);
    let pref = get64(&image, 0x258);
    let kernel = plan.blob("kernel").unwrap();
    assert_eq!(kernel.addr, pref);
    assert_eq!(plan.entry.rip, pref + 0x200);
    let setup_len = (usize::from(image[0x1f1]).max(1) + 1) * 512;
    assert_eq!(kernel.bytes.len(), get32(&image, 0x1f4) as usize * 16);
    assert_eq!(
        &kernel.bytes[..],
        &image[setup_len..setup_len + kernel.bytes.len()]
    );
    if let Some(initrd) = &initrd {
        let blob = plan.blob("initrd").unwrap();
        assert_eq!(blob.addr, ((256 << 20) - initrd.len() as u64) & !0xfff);
        assert_eq!(blob.bytes.len(), initrd.len());
    }
    eprintln!(
        "{}: protocol {}.{:02}, kernel {:#x} bytes at {:#x} (init_size {:#x}), initrd {:?}",
        kernel_path.display(),
        protocol >> 8,
        protocol & 0xff,
        kernel.bytes.len(),
        kernel.addr,
        get32(&image, 0x260),
        plan.blob("initrd").map(|b| (b.addr, b.bytes.len())),
    );

    // 64 MiB cannot hold the kernel's footprint (init_size from 16 MiB).
    let small = MemoryLayout::new(64 << 20, None).unwrap();
    match bzimage::load(&image, &small, &params) {
        Err(BzImageError::Linux(LinuxError::Layout(LayoutError::OutsideRam { what, .. }))) => {
            assert_eq!(what, "kernel")
        }
        other => panic!("{other:?}"),
    }
}

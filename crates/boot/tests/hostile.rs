//! Random mutations of valid images through the format detection and every
//! loader: no input may panic, and any plan that comes back must keep the
//! invariants (blobs in usable RAM, disjoint, entry inside one, nothing
//! allocated beyond the small fixed structures).

mod common;

use boot::{KernelParams, MemoryLayout, MultibootModule};
use common::*;
use std::borrow::Cow;

const INTERESTING: [u32; 9] = [
    0,
    1,
    0x200,
    0x10_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_f000,
    0xffff_ffff,
    0x1bad_b002,
];

fn bases() -> Vec<(&'static str, Vec<u8>)> {
    let mut text = multiboot_header(0x3, None);
    text.resize(0x800, 0x90);
    let mb_elf = elf32(3, 0x10_0010, &[(0x10_0000, 0x10_0000, text, 0x2000)]);
    let load = 0x20_0000u32;
    let mut mb_aout = multiboot_header(0x1_0003, Some([load, load, 0, load + 0x3000, load + 0x30]));
    mb_aout.resize(0x1000, 0xf4);
    let vmlinux = elf64(
        0x100_0000,
        &[
            (0xffff_ffff_8100_0000, 0x100_0000, pattern(0x800, 4), 0x800),
            (0xffff_ffff_8120_0000, 0x120_0000, pattern(0x400, 5), 0x4000),
        ],
    );
    let bz = BzSpec {
        kernel_len: 0x1000,
        init_size: 0x10_0000,
        ..BzSpec::default()
    }
    .build();
    vec![
        ("bzImage", bz),
        ("vmlinux", vmlinux),
        ("multiboot ELF", mb_elf),
        ("multiboot a.out", mb_aout),
    ]
}

fn mutate(rng: &mut Rng, image: &mut Vec<u8>) {
    for _ in 0..1 + rng.below(6) {
        if image.is_empty() {
            return;
        }
        let len = image.len() as u64;
        // Most mutations hit the headers, where the parsing is.
        let pos = if rng.below(4) != 0 {
            rng.below(len.min(0x300))
        } else {
            rng.below(len)
        } as usize;
        match rng.below(5) {
            0 => image[pos] = rng.next() as u8,
            1 => image[pos] ^= 1 << rng.below(8),
            2 if pos + 4 <= image.len() => {
                let v = INTERESTING[rng.below(INTERESTING.len() as u64) as usize];
                let v = if rng.below(3) == 0 {
                    v.wrapping_add(rng.below(0x2000) as u32)
                } else {
                    v
                };
                put32(image, pos & !3, v);
            }
            3 => image.truncate(rng.below(len + 1) as usize),
            _ => {
                let extra = rng.below(0x400) as usize;
                image.extend((0..extra).map(|_| rng.next() as u8));
            }
        }
    }
}

#[test]
fn random_mutations_never_panic() {
    let initrd = pattern(0x3000, 8);
    let modules = [
        MultibootModule {
            bytes: &initrd,
            cmdline: "m0 x",
        },
        MultibootModule {
            bytes: &initrd[..10],
            cmdline: "m1",
        },
    ];
    let layouts = [
        MemoryLayout::new(0x10_1000, None).unwrap(),
        MemoryLayout::new(17 << 20, Some(0xe0000..0x100000)).unwrap(),
        MemoryLayout::new(64 << 20, Some((64 << 20) - 0x10000..64 << 20)).unwrap(),
        MemoryLayout::new(1 << 32, None).unwrap(),
    ];
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let mut outcomes = std::collections::BTreeMap::<String, u32>::new();
    for (name, base) in bases() {
        for _ in 0..5000 {
            let mut image = base.clone();
            mutate(&mut rng, &mut image);
            let layout = &layouts[rng.below(layouts.len() as u64) as usize];
            let params = KernelParams {
                cmdline: "console=ttyS0",
                multiboot_cmdline: "kernel console=ttyS0",
                initrd: if rng.below(2) == 0 {
                    Some(&initrd)
                } else {
                    None
                },
                modules: &modules[..rng.below(3) as usize],
                acpi_rsdp: Some(0xf0000),
            };
            match boot::load(&image, layout, &params) {
                Ok(plan) => {
                    check_plan_invariants(&plan, layout);
                    let owned: usize = plan
                        .blobs
                        .iter()
                        .filter(|b| matches!(b.bytes, Cow::Owned(_)))
                        .map(|b| b.bytes.len())
                        .sum();
                    assert!(owned <= 0x10000, "{name}: {owned} bytes allocated");
                    *outcomes.entry(format!("{name}: ok")).or_default() += 1;
                }
                Err(e) => {
                    // Every error renders as a message.
                    assert!(!e.to_string().is_empty());
                    *outcomes.entry(format!("{name}: error")).or_default() += 1;
                }
            }
        }
    }
    eprintln!("{outcomes:?}");
    // The mutations must leave some images loadable and break others, or
    // the loop tests nothing.
    for (name, _) in bases() {
        for outcome in ["ok", "error"] {
            let key = format!("{name}: {outcome}");
            assert!(
                outcomes.get(&key).copied().unwrap_or(0) > 50,
                "{key}: {outcomes:?}"
            );
        }
    }
}

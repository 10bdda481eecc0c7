//! Command-line behaviour of `xlat run`: arguments, files and exit statuses.
//!
//! The small ROMs here are assembled with iced-x86's code assembler (see
//! `common`).

mod common;

use common::*;
use std::path::Path;

#[test]
fn bad_arguments_exit_2() {
    let r = ud2_rom();
    let r = r.to_str().unwrap();
    for args in [
        vec!["run"],
        vec!["frobnicate"],
        vec!["run", "--bios", r, "--engine", "qemu"],
        vec!["run", "--bios", r, "-m", "0"],
        vec!["run", "--bios", r, "-m", "6K"],
        vec!["run", "--bios", r, "-m", "4G"],
        vec!["run", "--bios", r, "--memory", "12Q"],
        vec!["run", "--bios", r, "--max-insns", "-1"],
    ] {
        let o = xlat(&args);
        assert_eq!(status(&o), 2, "{args:?}: {}", stderr(&o));
    }
}

/// `-kernel` (QEMU's spelling) with files that are not kernels: one line
/// naming the reason, status 2, nothing run; an endless stream is refused
/// after RAM's size, not slurped.
#[test]
fn bad_kernels_exit_2() {
    let junk = tmp("junk-kernel.bin");
    std::fs::write(&junk, vec![0x5au8; 100_000]).unwrap();
    let r = ud2_rom();
    for (args, want) in [
        (
            vec!["run", "-kernel", junk.to_str().unwrap()],
            "neither a Linux bzImage",
        ),
        (
            vec!["run", "-kernel", "/dev/zero", "-m", "8M"],
            "larger than the guest's RAM",
        ),
        (
            vec!["run", "-kernel", "/nonexistent/k"],
            "cannot read kernel",
        ),
        (
            vec![
                "run",
                "--kernel",
                junk.to_str().unwrap(),
                "-initrd",
                "/nonexistent/i",
            ],
            "cannot read initrd",
        ),
        (
            vec![
                "run",
                "--bios",
                r.to_str().unwrap(),
                "-kernel",
                junk.to_str().unwrap(),
            ],
            "cannot be used with",
        ),
        (vec!["run", "-initrd", junk.to_str().unwrap()], "--kernel"),
    ] {
        let o = xlat(&args);
        assert_eq!(status(&o), 2, "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn unreadable_or_ill_sized_files_exit_2() {
    let o = xlat(&["run", "--bios", "/nonexistent/rom.bin"]);
    assert_eq!(status(&o), 2);
    assert!(
        stderr(&o).contains("cannot read BIOS image"),
        "{}",
        stderr(&o)
    );
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));

    for size in [0usize, 1000, 3 << 10, (16 << 20) + 2048] {
        let p = tmp("odd.bin");
        std::fs::write(&p, vec![0u8; size]).unwrap();
        let o = xlat(&["run", "--bios", p.to_str().unwrap()]);
        assert_eq!(status(&o), 2, "size {size}");
        assert!(stderr(&o).contains("multiple of 2 KiB"), "{}", stderr(&o));
    }

    let r = ud2_rom();
    let o = run_rom(&r, &["--debugcon", "/nonexistent/dir/log"]);
    assert_eq!(status(&o), 2);
    assert!(stderr(&o).contains("debug-console file"), "{}", stderr(&o));
    let o = run_rom(&r, &["--post-log", "/nonexistent/dir/log"]);
    assert_eq!(status(&o), 2);
    assert!(stderr(&o).contains("POST log"), "{}", stderr(&o));
}

#[test]
fn instruction_limit_exits_5_and_warns_about_unimplemented() {
    let r = ud2_rom();
    let o = xlat(&[
        "run",
        "--bios",
        r.to_str().unwrap(),
        "--max-insns",
        "1000",
        "--stats",
        "-m",
        "1M",
    ]);
    assert_eq!(status(&o), 5, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("instruction limit reached"), "{e}");
    assert!(e.contains("after 1000 steps"), "{e}");
    assert!(e.contains("mode=real cpl=0"), "{e}");
    assert!(e.contains("exceptions by vector: #6="), "{e}");
    assert!(e.contains("instructions retired:"), "{e}");
    assert!(e.contains("unimplemented instructions met:"), "{e}");
}

/// COM1 as QEMU's -serial: `file:PATH` (and `-serial` with one dash) gets
/// the guest's bytes, `none` drops them, stdout is the default; an
/// uncreatable file is status 2 before the run.
#[test]
fn serial_output_goes_where_serial_says() {
    let r = rom(
        |a| {
            a.mov(dx, 0x3f8)?;
            for c in *b"hi\n" {
                a.mov(al, c as u32)?;
                a.out(dx, al)?;
            }
            a.mov(al, 0)?;
            a.out(0xf4, al)?;
            a.hlt()
        },
        &[],
    );
    let log = tmp("com1.log");
    let spec = format!("file:{}", log.display());
    let o = run_rom(&r, &["-serial", &spec]);
    assert_eq!(status(&o), 1, "{}", stderr(&o));
    assert_eq!(std::fs::read(&log).unwrap(), b"hi\n");
    let o = run_rom(&r, &["--serial", "none"]);
    assert_eq!(status(&o), 1, "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let o = run_rom(&r, &[]);
    assert_eq!(o.stdout, b"hi\n");
    let o = run_rom(&r, &["--serial", "file:/nonexistent/dir/com1"]);
    assert_eq!(status(&o), 2);
    assert!(stderr(&o).contains("serial output file"), "{}", stderr(&o));
}

#[test]
fn small_bios_images_are_accepted() {
    // A 2 KiB image: the reset vector is at offset 0x7F0; a self-jump.
    let mut img = vec![0u8; 2048];
    img[0x7f0..0x7f2].copy_from_slice(&[0xeb, 0xfe]);
    let p = tmp("small.bin");
    std::fs::write(&p, img).unwrap();
    let o = xlat(&["run", "--bios", p.to_str().unwrap(), "--max-insns", "10"]);
    assert_eq!(status(&o), 5, "{}", stderr(&o));
}

// The tests below need the interpreter's MOV, OUT, HLT, CLI/STI, LIDT,
// LGDT, MOV CR0 and far JMP handlers.

#[test]
fn debug_exit_status_and_debugcon_file() {
    let r = rom(
        |a| {
            for c in *b"ok\n" {
                a.mov(al, c as u32)?;
                a.out(0xe9, al)?;
            }
            a.mov(al, 0x80)?;
            a.out(0x80, al)?;
            a.mov(dx, 0x190)?;
            a.mov(ax, 0x1234)?;
            a.out(dx, ax)?;
            a.mov(al, 0x10)?;
            a.out(0xf4, al)?;
            a.hlt()
        },
        &[],
    );
    let log = tmp("debugcon.log");
    let post = tmp("post.log");
    let o = run_rom(
        &r,
        &[
            "--debugcon",
            log.to_str().unwrap(),
            "--post-log",
            post.to_str().unwrap(),
        ],
    );
    assert_eq!(status(&o), 0x21, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("debug-exit value 0x10"),
        "{}",
        stderr(&o)
    );
    assert_eq!(std::fs::read(&log).unwrap(), b"ok\n");
    assert_eq!(
        std::fs::read_to_string(&post).unwrap(),
        "port=0x80 value=0x80\nport=0x190 value=0x1234\n"
    );
}

#[test]
fn debugcon_defaults_to_stdout() {
    let r = rom(
        |a| {
            a.mov(al, b'A' as u32)?;
            a.out(0xe9, al)?;
            a.xor(eax, eax)?;
            a.out(0xf4, eax)
        },
        &[],
    );
    let o = run_rom(&r, &[]);
    assert_eq!(status(&o), 1, "{}", stderr(&o));
    assert_eq!(o.stdout, b"A");
}

#[test]
fn halt_that_nothing_can_wake_exits_0() {
    let o = run_rom(&rom(|a| a.hlt(), &[]), &[]);
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("halted with IF=0"), "{e}");
    assert!(e.contains("cs:ip=f000:1"), "{e}");
    assert_eq!(e.lines().count(), 1, "{e}");

    // IF = 1 with every input of the PIC masked: the PIT's IRQ 0 (which
    // runs from power-on, as on a PC) cannot wake it either.
    let o = run_rom(
        &rom(
            |a| {
                a.mov(al, 0xff)?;
                a.out(0x21, al)?;
                a.sti()?;
                a.hlt()
            },
            &[],
        ),
        &[],
    );
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("halted with IF=1"), "{}", stderr(&o));
}

#[test]
fn triple_fault_exits_4() {
    // LIDT with limit 0, then #UD: the IVT entry is out of bounds (#GP),
    // which is again out of bounds (#DF), which is too: shutdown.
    let r = rom(
        |a| {
            a.lidt(ptr(0x800).cs())?;
            a.ud2()
        },
        &[(0x800, &[0, 0, 0, 0, 0, 0])],
    );
    let o = run_rom(&r, &[]);
    assert_eq!(status(&o), 4, "{}", stderr(&o));
    assert!(stderr(&o).contains("triple fault"), "{}", stderr(&o));
}

#[test]
fn task_switch_is_unsupported_exit_3() {
    // Protected mode, then a far JMP to a TSS descriptor: a task switch,
    // which xlat reports instead of emulating.
    let gdtr: [u8; 6] = [0x0f, 0x00, 0x10, 0x08, 0x0f, 0x00]; // limit 15, base 0xF0810
    let gdt: [u8; 16] = [
        0, 0, 0, 0, 0, 0, 0, 0, // null
        0x67, 0x00, 0x00, 0x10, 0x00, 0x89, 0x00, 0x00, // 32-bit TSS at 0x1000
    ];
    let r = rom(
        |a| {
            a.lgdt(ptr(0x800).cs())?;
            a.mov(eax, cr0)?;
            a.or(eax, 1)?;
            a.mov(cr0, eax)?;
            a.db(&[0xea, 0x00, 0x00, 0x08, 0x00]) // jmp 0008:0000
        },
        &[(0x800, &gdtr), (0x810, &gdt)],
    );
    let o = run_rom(&r, &[]);
    assert_eq!(status(&o), 3, "{}", stderr(&o));
    let e = stderr(&o);
    assert!(e.contains("unsupported"), "{e}");
    assert!(e.contains("mode=prot16"), "{e}");
}

/// `--stats-json FILE` writes one JSON object; the translator's fields are
/// there with the JIT (loop.bin: the CRC/LCG compute ROM) and absent with
/// the interpreter.
#[test]
fn stats_json_reports_the_run() {
    let rom = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-roms/loop.bin");
    let json = tmp("stats.json");
    let o = xlat(&[
        "run",
        "--bios",
        rom.to_str().unwrap(),
        "--engine",
        "jit",
        "--stats-json",
        json.to_str().unwrap(),
        "--debugcon",
        tmp("debugcon.txt").to_str().unwrap(),
    ]);
    assert_eq!(status(&o), 1, "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["engine"], "jit");
    assert!(v["guest_instructions"].as_u64().unwrap() > 0, "{v}");
    // The target for a loop-heavy ROM: at least 99.9% of block
    // entries served from the cache, and no full flush.
    let rate = v["cache_hit_rate"].as_f64().expect("cache_hit_rate");
    assert!((0.999..=1.0).contains(&rate), "{v}");
    assert_eq!(v["flushes"].as_u64(), Some(0), "{v}");
    assert!(v["blocks_translated"].as_u64().unwrap() > 0, "{v}");
    assert!(v["run_time_ns"].as_u64().is_some(), "{v}");
    assert!(v["invalidations"].is_object(), "{v}");
    assert!(v["monitor_calls"].is_object(), "{v}");

    let r = ud2_rom();
    let json = tmp("stats-interp.json");
    let o = run_rom(
        &r,
        &[
            "--engine",
            "interp",
            "-m",
            "1M",
            "--stats-json",
            json.to_str().unwrap(),
        ],
    );
    // Zeroed RAM: the #UD handler at 0000:0000 ends in a halt.
    assert_eq!(status(&o), 0, "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(v["engine"], "interp");
    assert!(v["guest_instructions"].as_u64().unwrap() > 0, "{v}");
    assert!(v["exceptions"]["6"].as_u64().unwrap() > 0, "{v}");
    assert!(v.get("cache_hit_rate").is_none(), "{v}");
}

/// `--tcache-size` bounds the translation cache: alu-real.bin translates
/// about 2.4 MB of host code, so a 64K cache must evict (and the default
/// one must not) with the same output; sizes out of 64K..1G or malformed
/// are usage errors (status 2).
#[test]
fn tcache_size_bounds_the_cache() {
    let rom = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../test-roms/alu-real.bin");
    let rom = rom.to_str().unwrap();
    let stats = |extra: &[&str], name: &str| {
        let json = tmp(name);
        let mut args = vec!["run", "--bios", rom, "--stats-json", json.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = xlat(&args);
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        (o, v)
    };
    let (big, vb) = stats(&[], "tcache-default.json");
    let (small, vs) = stats(&["--tcache-size", "64K"], "tcache-64k.json");
    assert_eq!(status(&small), status(&big), "{}", stderr(&small));
    assert_eq!(small.stdout, big.stdout);
    assert_eq!(vb["evictions"].as_u64(), Some(0), "{vb}");
    assert!(vs["evictions"].as_u64().unwrap() > 0, "{vs}");
    assert!(vs["code_cache_bytes"].as_u64().unwrap() <= 64 << 10, "{vs}");
    for bad in ["1K", "2G", "12Q", "lots", ""] {
        let o = xlat(&["run", "--bios", rom, "--tcache-size", bad]);
        assert_eq!(status(&o), 2, "{bad:?}: {}", stderr(&o));
    }
}

/// Debug-exit values keep QEMU's status `(v << 1) | 1` truncated to 8 bits,
/// and the last stderr line says where a status that looks like a death by
/// signal (129 and up) or a truncated one came from.
#[test]
fn large_debug_exit_values_are_explained() {
    for (v, code, says) in [
        (0x3f, 127, "debug-exit value 0x3f (exit status 127)"),
        (
            0x40,
            129,
            "debug-exit value 0x40 (exit status 129, from the guest, not a signal)",
        ),
        (
            0x80,
            1,
            "debug-exit value 0x80 (exit status 1 = (0x80 << 1) | 1 truncated to 8 bits)",
        ),
        (
            0xc0,
            129,
            "debug-exit value 0xc0 (exit status 129 = (0xc0 << 1) | 1 truncated to 8 bits, \
             from the guest, not a signal)",
        ),
    ] {
        let r = rom(
            |a| {
                a.mov(al, v)?;
                a.out(0xf4, al)?;
                a.hlt()
            },
            &[],
        );
        let o = run_rom(&r, &[]);
        assert_eq!(status(&o), code, "{}", stderr(&o));
        let e = stderr(&o);
        assert!(e.lines().last().unwrap_or("").contains(says), "{e}");
    }
}

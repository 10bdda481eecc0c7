//! Helpers shared by the command-line tests: temporary paths, small ROMs
//! assembled with iced-x86's code assembler (code at F000:0000, a far jump
//! to it at the reset vector, offset 0xFFF0, data at fixed offsets), and
//! running the `xlat` binary.
#![allow(dead_code)]

pub use iced_x86::code_asm::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

pub const ROM_SIZE: usize = 64 << 10;

/// A fresh path under cargo's per-test temporary directory.
pub fn tmp(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("cli-{}-{n}-{name}", std::process::id()))
}

/// A 64 KiB ROM: 16-bit `code` at offset 0, `data` pieces at their offsets,
/// `jmp f000:0000` at the reset vector.
pub fn rom(
    code: impl FnOnce(&mut CodeAssembler) -> Result<(), IcedError>,
    data: &[(usize, &[u8])],
) -> PathBuf {
    let mut a = CodeAssembler::new(16).unwrap();
    code(&mut a).unwrap();
    let bytes = a.assemble(0).unwrap();
    let mut img = vec![0u8; ROM_SIZE];
    img[..bytes.len()].copy_from_slice(&bytes);
    for (at, d) in data {
        img[*at..*at + d.len()].copy_from_slice(d);
    }
    img[0xfff0..0xfff5].copy_from_slice(&[0xea, 0x00, 0x00, 0x00, 0xf0]);
    let p = tmp("rom.bin");
    std::fs::write(&p, img).unwrap();
    p
}

pub fn xlat(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xlat"))
        .args(args)
        .output()
        .expect("run xlat")
}

pub fn run_rom(rom: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "run",
        "--bios",
        rom.to_str().unwrap(),
        "--max-insns",
        "100000",
    ];
    args.extend_from_slice(extra);
    xlat(&args)
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn status(o: &Output) -> i32 {
    o.status.code().expect("exited normally")
}

/// A ROM whose first instruction is UD2: with the IVT in zeroed RAM, every
/// vector leads to 0000:0000, where `add [bx+si], al` (00 00) runs.
pub fn ud2_rom() -> PathBuf {
    rom(|a| a.ud2(), &[])
}

/// Run xlat with `args` and at most `max_vm_kib` KiB of address space (if
/// given, through `sh -c 'ulimit -v'`), killing it after `limit`: `None`
/// if it was still running then. For inputs that could make it read or
/// allocate without end.
pub fn xlat_within(
    args: &[&str],
    limit: std::time::Duration,
    max_vm_kib: Option<u64>,
) -> Option<Output> {
    use std::process::Stdio;
    let bin = env!("CARGO_BIN_EXE_xlat");
    let mut cmd = match max_vm_kib {
        Some(kib) => {
            let mut c = Command::new("sh");
            c.arg("-c")
                .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
                .arg(bin);
            c
        }
        None => Command::new(bin),
    };
    let mut child = cmd
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run xlat");
    let deadline = std::time::Instant::now() + limit;
    while child.try_wait().expect("wait for xlat").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Some(child.wait_with_output().expect("collect xlat's output"))
}

//! The whole chain behind a broken memory fast path: generated code that
//! reads a guard page of guest memory must end the process with one
//! `xlat: internal error` line naming its block, and status 70.
//!
//! The bus below is wrong on purpose: for one page, `host_page` returns
//! the host address one page before a guarded region (inside its leading
//! guard). The first access to that page takes the slow path and fills
//! the fast path's TLB with that address; the next one, in generated
//! code, reads the guard. It runs in a child process (this test binary
//! again, selected by an environment variable). A second child's bus
//! returns an unmapped address outside any guest memory: a fault of
//! generated code is reported by its host PC alone.

mod common;
use common::*;
use cpu_model::memory::FlatBus;
use cpu_model::{Bus, PhysAddr};
use guestmem::fault::INTERNAL_ERROR_STATUS;
use guestmem::GuardedRegion;
use iced_x86::code_asm::*;
use std::process::Command;
use std::ptr::NonNull;
use translator::{Jit, JitConfig};

const CHILD: &str = "XLAT_TRANSLATOR_GUARD_CHILD";
/// The page whose host address is wrong.
const DATA: u64 = 0x3000;

struct WrongPageBus {
    flat: FlatBus,
    region: GuardedRegion,
    /// Hand out an address outside any guest memory instead.
    wild: bool,
}

impl Bus for WrongPageBus {
    fn read_phys(&mut self, addr: PhysAddr, buf: &mut [u8]) {
        self.flat.read_phys(addr, buf)
    }
    fn write_phys(&mut self, addr: PhysAddr, data: &[u8]) {
        self.flat.write_phys(addr, data)
    }
    fn io_in(&mut self, port: u16, size: u32) -> u32 {
        self.flat.io_in(port, size)
    }
    fn io_out(&mut self, port: u16, size: u32, value: u32) {
        self.flat.io_out(port, size, value)
    }
    fn host_page(&mut self, page: PhysAddr, write: bool) -> Option<NonNull<u8>> {
        if page.0 == DATA && self.wild {
            // Never mapped in a Linux process (below mmap_min_addr).
            NonNull::new(0x1000 as *mut u8)
        } else if page.0 == DATA {
            NonNull::new(self.region.as_mut_ptr().wrapping_sub(4096))
        } else {
            self.flat.host_page(page, write)
        }
    }
}

/// Flat 32-bit code at 0x1000: a loop reading the wrong page ten times.
fn child(wild: bool) -> ! {
    let code = asm(32, |a| {
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.mov(eax, dword_ptr(DATA)).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
    });
    let (mut cpu, flat) = prot32(&code);
    cpu.state.gpr[1] = 10;
    let mut bus = WrongPageBus {
        flat,
        region: GuardedRegion::new(0x1000).unwrap(),
        wild,
    };
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    let r = jit.run(&mut cpu, &mut bus, 1000);
    eprintln!("the guard page was never read: {r:?}, {:?}", jit.stats());
    std::process::exit(1);
}

/// Run `test` in a child with `mode`; its one `xlat:` stderr line after
/// exit status 70.
fn reported(test: &str, mode: &str) -> String {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(INTERNAL_ERROR_STATUS),
        "{:?}\n{stderr}",
        out.status
    );
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with("xlat:")).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(
        line.starts_with("xlat: internal error: host fault (SIGSEGV) at host address 0x"),
        "{line}"
    );
    assert!(
        line.contains(", in translated code of the block at guest RIP 0x1000 (block "),
        "{line}"
    );
    line.to_string()
}

#[test]
fn generated_code_reading_a_guard_page_is_reported() {
    if std::env::var_os(CHILD).is_some() {
        child(false);
    }
    let line = reported("generated_code_reading_a_guard_page_is_reported", "guard");
    assert!(
        line.contains(", in the guard region of the guest memory reservation 0x"),
        "{line}"
    );
}

#[test]
fn generated_code_faulting_outside_guest_memory_is_reported() {
    if std::env::var_os(CHILD).is_some() {
        child(true);
    }
    let line = reported(
        "generated_code_faulting_outside_guest_memory_is_reported",
        "wild",
    );
    assert!(line.contains("at host address 0x1000, "), "{line}");
    assert!(!line.contains("guest memory"), "{line}");
}

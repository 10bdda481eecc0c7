//! Guest isolation (issue #16): an instruction whose inline fast path is
//! warm on one page, then used once on an address whose first bytes lie
//! on the page before it, must do exactly what the interpreter does. The
//! two linear pages map to physical pages that are not neighbours, so a
//! fast path that applied the second page's host translation to the
//! first page's bytes would read or write the wrong host bytes (and skip
//! the first page's checks). Also: MOV CR3 with the same value after a
//! PTE change must end the block. Each case runs the interpreter
//! (`Cpu::execute`, exceptions returned) and the translator with the
//! default and with a 64 KiB cache, and compares registers, the fault,
//! CR2 and all of memory.

mod common;
use common::*;
use cpu_model::exception::{Exception, Fault};
use cpu_model::memory::FlatBus;
use cpu_model::state::{cr0, SegReg};
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

/// The address table the loops read their operand address from.
const TABLE: u64 = 0x8000;
const PD: usize = 0x80000;
const PT0: usize = 0x81000;
const PT1: usize = 0x82000;
/// 0x400000: linear page B (PT1[0]), on physical page `PHYS_B`.
const PAGE_B: u64 = 0x40_0000;
const PHYS_B: u64 = 0x2_0000;
/// Linear page A, 0x3FF000 (PT0[0x3ff]), is on `PHYS_A` when mapped.
const PHYS_A: u64 = 0x5_0000;

const P: u32 = 1;
const W: u32 = 2;
const U: u32 = 4;

/// 32-bit paging: identity below 2 MiB (user, writable), B on `PHYS_B`,
/// A as `a_flags` says (0: not present).
fn paged32(code: &[u8], a_flags: u32, b_flags: u32) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = prot32(code);
    let mut put = |at: usize, v: u32| bus.ram[at..at + 4].copy_from_slice(&v.to_le_bytes());
    put(PD, PT0 as u32 | P | W | U);
    put(PD + 4, PT1 as u32 | P | W | U);
    for i in 0..0x200 {
        put(PT0 + i * 4, (i as u32) << 12 | P | W | U);
    }
    put(PT0 + 0x3ff * 4, PHYS_A as u32 | a_flags);
    put(PT1, PHYS_B as u32 | b_flags);
    cpu.state.cr3 = PD as u64;
    cpu.state.cr0 |= cr0::PG | cr0::WP;
    for (i, b) in bus.ram[PHYS_A as usize..PHYS_A as usize + 0x1000]
        .iter_mut()
        .enumerate()
    {
        *b = 0xa0 ^ i as u8;
    }
    for (i, b) in bus.ram[PHYS_B as usize..PHYS_B as usize + 0x1000]
        .iter_mut()
        .enumerate()
    {
        *b = 0xb0 ^ (i as u8).rotate_left(3);
    }
    (cpu, bus)
}

/// Ring 3 with flat user segments (the TSS is never needed: every fault
/// is returned, not delivered).
fn to_user(cpu: &mut Cpu) {
    use cpu_model::interp::descriptor::Descriptor;
    let code = Descriptor(0x00cf_fb00_0000_ffff);
    let data = Descriptor(0x00cf_f300_0000_ffff);
    for s in SegReg::ALL {
        cpu.state.seg[s as usize] = data.to_segment(0x23);
    }
    cpu.state.seg[SegReg::Cs as usize] = code.to_segment(0x1b);
}

/// A loop of `iters` passes that loads rSI from the table (one address a
/// pass, `addrs` in order) and runs `body` (which uses rSI) with the same
/// instruction each time, then HLT.
fn crossing_loop(bits: u32, addrs: &[u64], body: impl Fn(&mut CodeAssembler)) -> Vec<u8> {
    asm(bits, |a| {
        let mut top = a.create_label();
        a.xor(ecx, ecx).unwrap();
        a.set_label(&mut top).unwrap();
        if bits == 64 {
            a.mov(rsi, qword_ptr(rcx * 8 + TABLE)).unwrap();
        } else {
            a.mov(esi, dword_ptr(ecx * 8 + TABLE as i32)).unwrap();
        }
        body(a);
        a.inc(ecx).unwrap();
        a.cmp(ecx, addrs.len() as u32).unwrap();
        a.jne(top).unwrap();
        a.hlt().unwrap();
    })
}

fn put_table(bus: &mut FlatBus, addrs: &[u64]) {
    for (i, a) in addrs.iter().enumerate() {
        let at = TABLE as usize + i * 8;
        bus.ram[at..at + 8].copy_from_slice(&a.to_le_bytes());
    }
}

/// How a run ended.
#[derive(Debug, PartialEq, Eq)]
enum End {
    Halted,
    Fault(Exception),
}

/// Run the interpreter and the translator (default and 64 KiB caches)
/// from the same start; everything must agree. Returns the end and the
/// interpreter's CPU and bus.
fn agree(cpu: Cpu, bus: FlatBus) -> (End, Cpu, FlatBus) {
    let (mut rc, mut rb) = (clone_cpu(&cpu), bus.clone());
    let mut end = None;
    for _ in 0..10_000 {
        if rc.state.events.halted {
            end = Some(End::Halted);
            break;
        }
        match rc.execute(&mut rb) {
            Ok(_) => {}
            Err(Fault::Exception(e)) => {
                end = Some(End::Fault(e));
                break;
            }
            Err(f) => panic!("interpreter: {f:?}"),
        }
    }
    let end = end.expect("the interpreter neither halted nor faulted");
    for cache in [JitConfig::default().cache_bytes, 64 << 10] {
        let (mut c, mut b) = (clone_cpu(&cpu), bus.clone());
        let mut jit = Jit::new(JitConfig {
            deliver_exceptions: false,
            cache_bytes: cache,
            ..JitConfig::default()
        })
        .unwrap();
        let got = match jit.run(&mut c, &mut b, 10_000).unwrap() {
            JitExit::Halted => End::Halted,
            JitExit::Exception(e) => End::Fault(e),
            other => panic!("translator: {other:?}"),
        };
        assert_eq!(got, end, "end (cache {cache})");
        assert_eq!(c.state.rip, rc.state.rip, "rip (cache {cache})");
        assert_eq!(c.state.gpr, rc.state.gpr, "registers (cache {cache})");
        assert_eq!(c.state.cr2, rc.state.cr2, "CR2 (cache {cache})");
        assert_eq!(c.state.rflags, rc.state.rflags, "rflags (cache {cache})");
        if let Some(i) = (0..rb.ram.len()).find(|&i| rb.ram[i] != b.ram[i]) {
            panic!(
                "memory differs at {i:#x}: {:#x} != {:#x} (cache {cache})",
                b.ram[i], rb.ram[i]
            );
        }
        assert!(
            jit.stats().native_instructions > 0,
            "the translator ran nothing natively"
        );
    }
    (end, rc, rb)
}

fn pf(addr: u64, code: u32) -> End {
    End::Fault(Exception::PF {
        addr,
        code: code as _,
    })
}

/// Warm at B, then from 2 bytes before B: 4 warm passes and one crossing.
fn warm_then_cross(size: u64) -> Vec<u64> {
    let mut v = vec![PAGE_B + 0x10, PAGE_B + 0x20, PAGE_B + 0x30, PAGE_B + 0x40];
    v.push(PAGE_B - size / 2);
    v
}

#[test]
fn load_crossing_into_a_not_present_page_faults() {
    let addrs = warm_then_cross(4);
    let code = crossing_loop(32, &addrs, |a| {
        a.add(eax, dword_ptr(esi)).unwrap();
    });
    let (cpu, mut bus) = paged32(&code, 0, P | W);
    put_table(&mut bus, &addrs);
    let (end, ..) = agree(cpu, bus);
    assert_eq!(end, pf(PAGE_B - 2, 0));
}

#[test]
fn store_crossing_into_a_not_present_page_faults_and_writes_nothing() {
    let addrs = warm_then_cross(4);
    let code = crossing_loop(32, &addrs, |a| {
        a.mov(dword_ptr(esi), edx).unwrap();
    });
    let (mut cpu, mut bus) = paged32(&code, 0, P | W);
    put_table(&mut bus, &addrs);
    cpu.state.gpr[2] = 0x1122_3344;
    let (end, _, bus) = agree(cpu, bus);
    assert_eq!(end, pf(PAGE_B - 2, 2));
    assert_eq!(bus.ram[PHYS_B as usize..][..2], [0xb0, 0xb8], "B untouched");
}

/// Loads and read-modify-write forms crossing from A (mapped elsewhere)
/// into B: the bytes must come from A's physical page.
#[test]
fn accesses_crossing_between_distant_physical_pages() {
    type Body = fn(&mut CodeAssembler);
    let bodies: [(u64, Body); 9] = [
        (4, |a| a.mov(eax, dword_ptr(esi)).unwrap()),
        (4, |a| a.add(dword_ptr(esi), edx).unwrap()),
        (2, |a| a.inc(word_ptr(esi)).unwrap()),
        (4, |a| {
            a.cmp(dword_ptr(esi), edx).unwrap();
            a.setb(bl).unwrap();
            a.add(edi, ebx).unwrap();
        }),
        (2, |a| a.movzx(eax, word_ptr(esi)).unwrap()),
        (4, |a| {
            a.cmp(ecx, 2).unwrap();
            a.cmovae(eax, dword_ptr(esi)).unwrap();
        }),
        (4, |a| a.imul_3(eax, dword_ptr(esi), 0x0001_2345).unwrap()),
        (4, |a| a.mov(dword_ptr(esi), ecx).unwrap()),
        (2, |a| a.neg(word_ptr(esi)).unwrap()),
    ];
    for (i, (size, body)) in bodies.iter().enumerate() {
        let addrs = warm_then_cross(*size);
        let code = crossing_loop(32, &addrs, |a| {
            body(a);
            a.add(edi, eax).unwrap();
        });
        let (mut cpu, mut bus) = paged32(&code, P | W, P | W);
        put_table(&mut bus, &addrs);
        cpu.state.gpr[2] = 0x0bad_cafe;
        let (end, ..) = agree(cpu, bus);
        assert_eq!(end, End::Halted, "body {i}");
    }
}

/// At CPL 3: a load starting on a supervisor page and a store starting
/// on a read-only page, each warm on the user/writable page after it.
#[test]
fn user_mode_crossing_into_protected_pages_faults() {
    for (write, a_flags, want) in [(false, P | W, 4 | 1), (true, P | U, 4 | 2 | 1)] {
        let addrs = warm_then_cross(4);
        let code = crossing_loop(32, &addrs, |a| {
            if write {
                a.mov(dword_ptr(esi), ecx).unwrap();
            } else {
                a.add(eax, dword_ptr(esi)).unwrap();
            }
        });
        let (mut cpu, mut bus) = paged32(&code, a_flags, P | W | U);
        put_table(&mut bus, &addrs);
        to_user(&mut cpu);
        let (end, ..) = agree(cpu, bus);
        assert_eq!(end, pf(PAGE_B - 2, want), "write {write}");
    }
}

/// PUSH, POP, CALL and RET with the stack slot crossing from A into B
/// (the warm passes use B).
#[test]
fn stack_accesses_crossing_between_distant_physical_pages() {
    type Body = fn(&mut CodeAssembler);
    let bodies: [Body; 2] = [
        |a| {
            a.lea(esp, dword_ptr(esi + 4)).unwrap();
            a.push(ecx).unwrap();
            a.pop(eax).unwrap();
            a.push(0x5a5a_5a5a).unwrap();
            a.pop(edx).unwrap();
            a.add(edi, edx).unwrap();
        },
        |a| {
            // The return address crosses from A to B; RET reads it back.
            let mut f = a.create_label();
            let mut over = a.create_label();
            a.lea(esp, dword_ptr(esi + 4)).unwrap();
            a.call(f).unwrap();
            a.jmp(over).unwrap();
            a.set_label(&mut f).unwrap();
            a.add(edi, dword_ptr(esp)).unwrap();
            a.ret().unwrap();
            a.set_label(&mut over).unwrap();
        },
    ];
    for (i, body) in bodies.iter().enumerate() {
        let addrs = warm_then_cross(4);
        let code = crossing_loop(32, &addrs, body);
        let (cpu, mut bus) = paged32(&code, P | W, P | W);
        put_table(&mut bus, &addrs);
        let (end, cpu, _) = agree(cpu, bus);
        assert_eq!(end, End::Halted, "body {i} at {:#x}", cpu.state.rip);
    }
}

/// 64-bit mode: page 0 and the last page of the address space (on a
/// distant physical page), and the canonical boundary.
fn long_paged(code: &[u8]) -> (Cpu, FlatBus) {
    let (cpu, mut bus) = long64(code);
    let mut put = |at: usize, v: u64| bus.ram[at..at + 8].copy_from_slice(&v.to_le_bytes());
    // PML4[511] -> 0x72000 -> [511] 0x73000 -> [511] 0x74000 -> [511] 0x30000.
    put(0x70000 + 511 * 8, 0x72000 | 7);
    put(0x72000 + 511 * 8, 0x73000 | 7);
    put(0x73000 + 511 * 8, 0x74000 | 7);
    put(0x74000 + 511 * 8, 0x30000 | 7);
    // PML4[256] (0xFFFF8000_00000000) -> 0x75000 -> [0] 0x76000 -> [0] 0x77000 -> [0] 0x31000.
    put(0x70000 + 256 * 8, 0x75000 | 7);
    put(0x75000, 0x76000 | 7);
    put(0x76000, 0x77000 | 7);
    put(0x77000, 0x31000 | 7);
    for (i, b) in bus.ram[0x30000..0x32000].iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(7) ^ 0x5c;
    }
    (cpu, bus)
}

#[test]
fn long_mode_access_wrapping_at_2_pow_64() {
    for write in [false, true] {
        let addrs = [0x10, 0x20, 0x30, 0x40, u64::MAX - 1];
        let code = crossing_loop(64, &addrs, |a| {
            if write {
                a.mov(dword_ptr(rsi), ecx).unwrap();
            } else {
                a.add(eax, dword_ptr(rsi)).unwrap();
            }
        });
        let (cpu, mut bus) = long_paged(&code);
        put_table(&mut bus, &addrs);
        let (end, ..) = agree(cpu, bus);
        assert_eq!(end, End::Halted, "write {write}");
    }
}

#[test]
fn long_mode_non_canonical_start_faults() {
    let b = 0xffff_8000_0000_0000u64;
    let addrs = [b + 0x10, b + 0x20, b + 0x30, b + 0x40, b - 4];
    let code = crossing_loop(64, &addrs, |a| {
        a.add(rax, qword_ptr(rsi)).unwrap();
    });
    let (cpu, mut bus) = long_paged(&code);
    put_table(&mut bus, &addrs);
    let (end, ..) = agree(cpu, bus);
    assert_eq!(end, End::Fault(Exception::GP(0)));
}

/// Code on linear page 0x400000 (physical `PHYS_B`) rewrites its own PTE
/// to point at `PHYS_A`, which holds other code at the same offset, and
/// reloads CR3 with the same value: the next instruction comes from
/// `PHYS_A` (SDM Vol. 3A 4.10.4.1: MOV to CR3 invalidates the TLB, and is
/// serializing). Both copies loop through chained blocks first.
#[test]
fn mov_cr3_with_the_same_value_refetches_the_code() {
    // At 0x400000 (both copies, differing in the marker): set the PTE,
    // MOV CR3, then `mov eax, marker; hlt` — after a few passes through a
    // chained loop on the same page.
    let version = |marker: u32| {
        let mut a = CodeAssembler::new(32).unwrap();
        let mut top = a.create_label();
        a.mov(ecx, 4).unwrap();
        a.set_label(&mut top).unwrap();
        a.add(edx, ecx).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
        a.mov(dword_ptr(PT1 as u32), (PHYS_A as u32) | P | W | U)
            .unwrap();
        a.mov(eax, cr3).unwrap();
        a.mov(cr3, eax).unwrap();
        a.mov(eax, marker).unwrap();
        a.hlt().unwrap();
        a.assemble(PAGE_B).unwrap()
    };
    let enter = asm(32, |a| {
        a.mov(eax, PAGE_B as u32).unwrap();
        a.jmp(eax).unwrap();
    });
    let (cpu, mut bus) = paged32(&enter, P | W, P | W | U);
    for (phys, marker) in [(PHYS_B, 0xb), (PHYS_A, 0xa)] {
        let v = version(marker);
        bus.ram[phys as usize..phys as usize + v.len()].copy_from_slice(&v);
    }
    let (end, cpu, _) = agree(cpu, bus);
    assert_eq!(end, End::Halted);
    assert_eq!(cpu.state.gpr[0], 0xa);

    // The same with the page made not present: #PF at the instruction
    // after MOV CR3.
    let v = version(0xb);
    let (cpu, mut bus) = paged32(&enter, P | W, P | W | U);
    bus.ram[PHYS_B as usize..PHYS_B as usize + v.len()].copy_from_slice(&v);
    // Patch the stored PTE value: not present (flags 0).
    let at = v
        .windows(4)
        .position(|w| w == ((PHYS_A as u32) | P | W | U).to_le_bytes())
        .expect("PTE immediate");
    bus.ram[PHYS_B as usize + at..][..4].copy_from_slice(&0u32.to_le_bytes());
    let (end, cpu, _) = agree(cpu, bus);
    // `mov eax, cr3` (3 bytes) and `mov cr3, eax` (3) precede the marker.
    let marker_at = PAGE_B + at as u64 + 4 + 6;
    assert_eq!(end, pf(marker_at, 0));
    assert_eq!(cpu.state.rip, marker_at);
}

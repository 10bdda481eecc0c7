//! Aligned SSE forms whose m128 becomes misaligned after the fast path is
//! warm (the first pass fills the host TLB and the instruction's micro
//! slot; a later pass must still raise #GP(0), from the interpreter, at
//! the same instruction with the same state), and unaligned forms and
//! page-crossing operands on a warm path, under both engines.

mod common;
use common::*;
use cpu_model::exception::{Exception, Fault};
use cpu_model::memory::FlatBus;
use cpu_model::state::cr4;
use cpu_model::Cpu;
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

const DATA: u64 = 0x20000;

/// `body(a)` in a loop of 4 passes (edi counts) that adds `step` to rcx
/// after each pass; rbx = DATA + `base`.
fn program(step: i32, body: impl Fn(&mut CodeAssembler)) -> Vec<u8> {
    asm(64, |a| {
        let mut top = a.create_label();
        a.mov(edi, 4).unwrap();
        a.xor(ecx, ecx).unwrap();
        a.set_label(&mut top).unwrap();
        body(a);
        a.add(rcx, step).unwrap();
        a.dec(edi).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
    })
}

fn machine(code: &[u8], base: u64) -> (Cpu, FlatBus) {
    let (mut cpu, mut bus) = long64(code);
    cpu.state.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    cpu.state.gpr[3] = DATA + base;
    for (k, b) in bus.ram[DATA as usize..DATA as usize + 0x3000]
        .iter_mut()
        .enumerate()
    {
        *b = (k * 7 + 3) as u8;
    }
    (cpu, bus)
}

/// Both engines (exceptions not delivered); every bit compared; the fault.
fn both(cpu: &Cpu, bus: &FlatBus) -> Option<Exception> {
    let (mut c1, mut b1) = (clone_cpu(cpu), bus.clone());
    let mut f1 = None;
    for _ in 0..100_000 {
        let hlt = b1.ram[c1.state.rip as usize] == 0xf4;
        match c1.execute(&mut b1) {
            Ok(_) if hlt => break,
            Ok(_) => {}
            Err(Fault::Exception(e)) => {
                f1 = Some(e);
                break;
            }
            Err(f) => panic!("{f:?}"),
        }
    }
    let (mut c2, mut b2) = (clone_cpu(cpu), bus.clone());
    let mut jit = Jit::new(JitConfig {
        deliver_exceptions: false,
        ..JitConfig::default()
    })
    .unwrap();
    let f2 = match jit.run(&mut c2, &mut b2, 100_000).expect("no stop") {
        JitExit::Exception(e) => Some(e),
        JitExit::Halted => None,
        other => panic!("{other:?}"),
    };
    assert_eq!(f1, f2, "fault");
    assert!(
        c1.state == c2.state,
        "state: {:x?} vs {:x?}",
        c1.state,
        c2.state
    );
    assert!(b1.ram == b2.ram, "memory");
    f1
}

/// The aligned forms, misaligned on the second pass (rcx = 0, then 24):
/// the first pass filled the TLB and the micro slot, so the second runs
/// on the warm fast path, whose alignment test must send it to the
/// interpreter for its #GP(0).
#[test]
fn aligned_forms_fault_when_misaligned_on_a_warm_path() {
    type Body = fn(&mut CodeAssembler);
    let bodies: [(&str, Body); 5] = [
        ("movaps load", |a| {
            a.movaps(xmm0, xmmword_ptr(rbx + rcx)).unwrap()
        }),
        ("movdqa store", |a| {
            a.movdqa(xmmword_ptr(rbx + rcx), xmm1).unwrap()
        }),
        ("mulps", |a| a.mulps(xmm2, xmmword_ptr(rbx + rcx)).unwrap()),
        ("paddd", |a| a.paddd(xmm3, xmmword_ptr(rbx + rcx)).unwrap()),
        ("pshufd", |a| {
            a.pshufd(xmm4, xmmword_ptr(rbx + rcx), 0x1b).unwrap()
        }),
    ];
    for (name, body) in bodies {
        let code = program(24, body);
        let (cpu, bus) = machine(&code, 0x100);
        assert_eq!(both(&cpu, &bus), Some(Exception::GP(0)), "{name}");
    }
}

/// Unaligned forms and narrower operands at every offset across a page
/// boundary on a warm path: no fault, the same bytes.
#[test]
fn unaligned_and_page_crossing_operands_on_a_warm_path() {
    for step in [1, 3, 7, 8, 13] {
        let code = program(step, |a| {
            a.movdqu(xmm0, xmmword_ptr(rbx + rcx)).unwrap();
            a.movups(xmmword_ptr(rbx + rcx + 0x20), xmm0).unwrap();
            a.movsd_2(xmm1, qword_ptr(rbx + rcx + 3)).unwrap();
            a.movss(dword_ptr(rbx + rcx + 0x41), xmm1).unwrap();
            a.crc32(rax, qword_ptr(rbx + rcx + 5)).unwrap();
            a.movq(qword_ptr(rbx + rcx + 0x50), xmm0).unwrap();
        });
        // The accesses walk over the page boundary at DATA + 0x1000.
        let (cpu, bus) = machine(&code, 0xff0 - 3 * step as u64);
        assert_eq!(both(&cpu, &bus), None, "step {step}");
    }
}

/// A RET that the return cache would send straight into a block of
/// native floating point translated while every exception was masked,
/// after LDMXCSR unmasked one: the return cache is dropped with the
/// change (`FastKey`), the block is looked up for the new MXCSR and the
/// division by zero raises #XM in both engines (a stale jump would run
/// DIVPS natively with ZM clear: SIGFPE).
#[test]
fn return_cache_respects_mxcsr_masks() {
    let code = asm(64, |a| {
        let mut top = a.create_label();
        let mut f = a.create_label();
        a.mov(edi, 2).unwrap();
        a.set_label(&mut top).unwrap();
        a.call(f).unwrap();
        a.movaps(xmm2, xmm0).unwrap();
        a.divps(xmm2, xmm1).unwrap();
        a.ldmxcsr(dword_ptr(rbx)).unwrap();
        a.dec(edi).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
        a.set_label(&mut f).unwrap();
        a.ret().unwrap();
    });
    let (mut cpu, mut bus) = machine(&code, 0);
    cpu.state.gpr[4] = 0x8000;
    cpu.state.fx.xmm[0] = 1.5f32.to_bits().to_le_bytes().repeat(4).try_into().unwrap();
    cpu.state.fx.xmm[1] = [0; 16];
    // ZM (bit 9) clear.
    bus.ram[DATA as usize..DATA as usize + 4].copy_from_slice(&0x1d80u32.to_le_bytes());
    assert_eq!(both(&cpu, &bus), Some(Exception::XM));
}

/// Two arrays whose pages share a host TLB entry (1 MiB apart), walked in
/// step by a MOVDQU copy: the slow path's fill of the instruction's micro
/// slot keeps both on the fast path (one slow access per page and
/// operand, not one per access).
#[test]
fn arrays_sharing_a_tlb_entry_stay_on_the_fast_path() {
    let code = asm(64, |a| {
        let mut top = a.create_label();
        a.xor(ecx, ecx).unwrap();
        a.set_label(&mut top).unwrap();
        a.movdqu(xmm0, xmmword_ptr(rsi + rcx)).unwrap();
        a.movdqu(xmmword_ptr(rdi + rcx), xmm0).unwrap();
        a.add(ecx, 16).unwrap();
        a.cmp(ecx, 0x2000).unwrap();
        a.jb(top).unwrap();
        a.hlt().unwrap();
    });
    let (mut cpu, bus) = machine(&code, 0);
    cpu.state.gpr[6] = DATA;
    cpu.state.gpr[7] = DATA + 0x10_0000;
    let (mut c2, mut b2) = (clone_cpu(&cpu), bus.clone());
    let mut jit = Jit::new(JitConfig::default()).unwrap();
    assert_eq!(jit.run(&mut c2, &mut b2, 100_000).unwrap(), JitExit::Halted);
    both(&cpu, &bus);
    let slow = jit.stats().memory_helper_calls;
    assert!(slow <= 8, "{slow} slow accesses for 2 x 2 pages");
}

/// 16-bit code (real mode with CR4.OSFXSR): 16-bit addressing through
/// the segment windows, warm after the first pass; the second pass's
/// MOVDQA store is misaligned (#GP).
#[test]
fn real_mode_sse_on_a_warm_path() {
    let code = asm(16, |a| {
        let mut top = a.create_label();
        a.mov(cx, 4).unwrap();
        a.xor(si, si).unwrap();
        a.set_label(&mut top).unwrap();
        a.movups(xmm0, xmmword_ptr(bx + si + 3)).unwrap();
        a.addps(xmm0, xmmword_ptr(bx + 0x10)).unwrap();
        a.crc32(eax, word_ptr(bx + si + 5)).unwrap();
        a.movd(edx, xmm0).unwrap();
        a.movdqa(xmmword_ptr(bx + si + 0x40), xmm0).unwrap();
        // The second pass is misaligned by 8 for MOVDQA.
        a.add(si, 24).unwrap();
        a.dec(cx).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
    });
    let (mut cpu, mut bus) = real_mode(&code);
    cpu.state.cr4 |= cr4::OSFXSR | cr4::OSXMMEXCPT;
    cpu.state.gpr[3] = 0x2000;
    for (k, b) in bus.ram[0x2000..0x2100].iter_mut().enumerate() {
        *b = (k * 13 + 1) as u8;
    }
    assert_eq!(both(&cpu, &bus), Some(Exception::GP(0)));
}

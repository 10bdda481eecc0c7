//! Golden tests of generated host code: a few blocks are translated with
//! fixed runtime addresses, disassembled with iced's Intel formatter and
//! compared to translator/tests/golden/<name>.txt. Run with `BLESS=1` to
//! rewrite the files after an intended change (and review the diff).

mod common;
use common::CODE;
use iced_x86::code_asm::*;
use iced_x86::{Decoder, DecoderOptions, Formatter, IntelFormatter};
use translator::emit::{emit_block, Addrs, SimdEnv};
use translator::{plan_block, PlanOptions};

const ADDRS: Addrs = Addrs {
    exit_common: 0x7777_0000,
    monitor: 0x7777_1000,
    mem_read: 0x7777_3000,
    mem_write: 0x7777_4000,
    stack: 0x7777_5000,
    simd_slow: 0x7777_7000,
    fill: 0x7777_9000,
};
const SLOTS: [u64; 2] = [0x7777_2000, 0x7777_2008];

fn disasm(code: &[u8]) -> String {
    let mut dec = Decoder::with_ip(64, code, 0, DecoderOptions::NONE);
    let mut f = IntelFormatter::new();
    f.options_mut().set_hex_prefix("0x");
    f.options_mut().set_hex_suffix("");
    let mut out = String::new();
    for ins in &mut dec {
        let mut s = String::new();
        f.format(&ins, &mut s);
        out.push_str(&format!("{:04x}  {s}\n", ins.ip()));
    }
    out
}

fn golden(name: &str, bits: u32, f: impl FnOnce(&mut CodeAssembler)) {
    golden_with(name, bits, PlanOptions::default(), f)
}

/// SSE available, all SIMD exceptions masked, CRC32 allowed (and the
/// x87 unavailable: its instructions are monitor calls).
fn simd_options() -> PlanOptions {
    PlanOptions {
        simd: SimdEnv {
            sse: true,
            fp_masked: true,
            crc32: true,
            x87: false,
        },
        ..PlanOptions::default()
    }
}

/// As `simd_options`, with every x87 exception masked and none pending:
/// the common x87 instructions are native.
fn x87_options() -> PlanOptions {
    let mut o = simd_options();
    o.simd.x87 = true;
    o
}

fn golden_with(name: &str, bits: u32, opts: PlanOptions, f: impl FnOnce(&mut CodeAssembler)) {
    let mut a = CodeAssembler::new(bits).unwrap();
    f(&mut a);
    let guest = a.assemble(CODE).unwrap();
    let plan = plan_block(&guest, CODE, bits, 0xffff_ffff, &opts);
    let emitted = emit_block(&plan, bits, &ADDRS, SLOTS, 0x7777_6000, &|i| {
        0x7777_8000 + 0x100 * i as u64
    })
    .unwrap();
    let mut text = String::new();
    for p in &plan {
        text.push_str(&format!(
            "; guest {:x}: {} ({:?})\n",
            p.ins.ip(),
            p.ins,
            p.kind
        ));
    }
    text.push_str(&disasm(&emitted.code));
    let path = format!("{}/tests/golden/{name}.txt", env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{path} missing: run with BLESS=1"));
    assert!(
        want == text,
        "{name}: generated code changed (BLESS=1 to accept):\n{text}"
    );
}

#[test]
fn golden_alu_and_jcc() {
    golden("alu_jcc_64", 64, |a| {
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.add(rax, rbx).unwrap();
        a.xor(ah, cl).unwrap();
        a.dec(r15d).unwrap();
        a.jnz(top).unwrap();
    });
}

#[test]
fn golden_monitor_call() {
    golden("monitor_32", 32, |a| {
        a.mov(eax, 5).unwrap();
        a.mov(dword_ptr(ebx), eax).unwrap();
        a.add(ecx, dword_ptr(ebx + 4)).unwrap();
        a.inc(dword_ptr(ebx + 8)).unwrap();
        a.push(eax).unwrap();
        a.shl(eax, 3).unwrap();
        a.hlt().unwrap();
    });
}

#[test]
fn golden_lea_setcc_cmov_16() {
    golden("lea_setcc_cmov_16", 16, |a| {
        a.lea(si, word_ptr(bx + di + 0x10)).unwrap();
        a.cmp(si, 7).unwrap();
        a.setl(dh).unwrap();
        a.cmovg(ax, cx).unwrap();
        a.movsx(edx, dh).unwrap();
        a.jmp(0x2000u64).unwrap();
    });
}

/// The table-driven CRC-32 loop of the benchmarks (translator/benches):
/// two memory reads through the inline fast path, fused DEC/JNZ.
#[test]
fn golden_crc_loop_64() {
    golden("crc_loop_64", 64, |a| {
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.movzx(edx, byte_ptr(rsi)).unwrap();
        a.xor(edx, eax).unwrap();
        a.and(edx, 0xff).unwrap();
        a.shr(eax, 8).unwrap();
        a.xor(eax, dword_ptr(rdi + rdx * 4)).unwrap();
        a.inc(rsi).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
    });
}

/// The dot-product loop: an aligned m128 load (alignment test, MOVUPS into
/// XMM1, the register form), packed FP under the guest's MXCSR (LDMXCSR at
/// entry, STMXCSR/LDMXCSR of the host's at every exit), a loop back that
/// keeps it.
#[test]
fn golden_sse_dot_product_64() {
    golden_with("sse_dot_64", 64, simd_options(), |a| {
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.movaps(xmm1, xmmword_ptr(rsi + rcx * 8)).unwrap();
        a.mulps(xmm1, xmmword_ptr(rdi + rcx * 8)).unwrap();
        a.addps(xmm0, xmm1).unwrap();
        a.comiss(xmm0, xmm2).unwrap();
        a.sub(ecx, 2).unwrap();
        a.jnz(top).unwrap();
    });
}

/// Moves and integer SSE (no MXCSR), GPR operands, a store, CRC32 of a
/// high-byte register and of memory, 32-bit code.
#[test]
fn golden_sse_int_crc32_32() {
    golden_with("sse_int_crc32_32", 32, simd_options(), |a| {
        a.movdqu(xmm3, xmmword_ptr(esi)).unwrap();
        a.paddd(xmm3, xmm4).unwrap();
        a.pshufd(xmm5, xmm3, 0x1b).unwrap();
        a.movdqa(xmmword_ptr(edi + 16), xmm5).unwrap();
        a.movd(eax, xmm5).unwrap();
        a.pmovmskb(edx, xmm3).unwrap();
        a.movss(xmm6, dword_ptr(esi + 4)).unwrap();
        a.crc32(eax, ch).unwrap();
        a.crc32(eax, dword_ptr(esi + 8)).unwrap();
        a.hlt().unwrap();
    });
}

/// Without the assumptions (CR0.TS set, unmasked exceptions, no SSE4.2):
/// monitor calls.
#[test]
fn golden_sse_monitor_64() {
    golden("sse_monitor_64", 64, |a| {
        a.addps(xmm0, xmm1).unwrap();
        a.crc32(eax, cl).unwrap();
        a.hlt().unwrap();
    });
}

/// The MOVDQU copy loop of `examples/ssebench.rs` (unaligned forms, a
/// load and a store, guest XMM0 cached in a host register).
#[test]
fn golden_sse_memcpy_64() {
    golden_with("sse_memcpy_64", 64, simd_options(), |a| {
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.movdqu(xmm0, xmmword_ptr(rsi + rdx)).unwrap();
        a.movdqu(xmmword_ptr(rdi + rdx), xmm0).unwrap();
        a.add(rdx, 16).unwrap();
        a.cmp(rdx, rcx).unwrap();
        a.jb(top).unwrap();
    });
}

/// The x87 dot-product loop of `examples/ssebench.rs`: FLD m64 and FMUL
/// m64 through the inline fast path (with FOP/FIP/FCS and FDP/FDS stores),
/// FADDP on registers, the guest's x87 loaded by FXRSTOR64 at entry and
/// saved by FXSAVE64 + FNINIT + copy at every exit (and around the slow
/// forms' monitor calls), a loop back that keeps it loaded; then FCOMI
/// (flags, C1 cleared) and FNSTSW AX.
#[test]
fn golden_x87_loop_64() {
    golden_with("x87_loop_64", 64, x87_options(), |a| {
        let mut top = a.create_label();
        a.set_label(&mut top).unwrap();
        a.fld(qword_ptr(rsi + rcx * 8)).unwrap();
        a.fmul(qword_ptr(rdi + rcx * 8)).unwrap();
        a.faddp(st1, st0).unwrap();
        a.fcomi(st0, st1).unwrap();
        a.fnstsw(ax).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
    });
}

//! SSE4.2's compares: each aggregation, format, polarity and output of the
//! string compares on values worked out by hand from SDM Vol. 2 §4.1,
//! then the instructions themselves (lengths from EAX/EDX or RAX/RDX,
//! null termination, flags, ECX/XMM0, no alignment rule) and PCMPGTQ.

use super::super::super::tests::{asm, exec, long64, prot32};
use super::{compare, greater_quadwords, index, mask_of, Outcome, Strings, V};
use crate::exception::Exception;
use crate::flags::{AF, CF, OF, PF, SF, ZF};
use crate::state::cr4;
use iced_x86::code_asm::*;

// imm8 fields.
const UBYTES: u8 = 0;
const UWORDS: u8 = 1;
const SBYTES: u8 = 2;
const SWORDS: u8 = 3;
const EQUAL_ANY: u8 = 0 << 2;
const RANGES: u8 = 1 << 2;
const EQUAL_EACH: u8 = 2 << 2;
const EQUAL_ORDERED: u8 = 3 << 2;
const NEGATIVE: u8 = 1 << 4;
const MASKED_POSITIVE: u8 = 2 << 4;
const MASKED_NEGATIVE: u8 = 3 << 4;
const MOST_SIGNIFICANT: u8 = 1 << 6;

fn bytes(s: &[u8]) -> V {
    let mut v = [0u8; 16];
    v[..s.len()].copy_from_slice(s);
    v
}

fn words(s: &[i16]) -> V {
    let mut v = [0u8; 16];
    for (i, w) in s.iter().enumerate() {
        v[2 * i..2 * i + 2].copy_from_slice(&w.to_le_bytes());
    }
    v
}

fn run(imm: u8, a: V, len_a: usize, b: V, len_b: usize) -> Outcome {
    compare(imm, &Strings { a, len_a, b, len_b })
}

fn res(imm: u8, a: V, len_a: usize, b: V, len_b: usize) -> u16 {
    run(imm, a, len_a, b, len_b).int_res2
}

#[test]
fn equal_any_and_the_polarities() {
    let (a, b) = (bytes(b"aeiou"), bytes(b"hello world"));
    // The vowels of "hello world" are at 1, 4 and 7.
    let o = run(UBYTES | EQUAL_ANY, a, 5, b, 11);
    assert_eq!(o.int_res2, 0x0092);
    // Both strings end before 16 bytes: ZF and SF; IntRes2[0] = 0.
    assert_eq!(o.flags, CF | ZF | SF);
    assert_eq!(
        res(UBYTES | EQUAL_ANY | MASKED_POSITIVE, a, 5, b, 11),
        0x0092
    );
    // Negative: every bit of the 16 flipped, also past b's end.
    assert_eq!(res(UBYTES | EQUAL_ANY | NEGATIVE, a, 5, b, 11), 0xff6d);
    // Masked negative: only the 11 valid bits flipped.
    let o = run(UBYTES | EQUAL_ANY | MASKED_NEGATIVE, a, 5, b, 11);
    assert_eq!(o.int_res2, 0x076d);
    assert_eq!(o.flags, CF | ZF | SF | OF);
    // An invalid element of a is not in the set: a = "aei" leaves out
    // the o of "hello" and "world". Full lengths clear ZF and SF.
    assert_eq!(res(UBYTES | EQUAL_ANY, a, 3, b, 11), 0x0002);
    let o = run(UBYTES | EQUAL_ANY, bytes(b"z"), 1, [b'a'; 16], 16);
    assert_eq!(
        o,
        Outcome {
            int_res2: 0,
            flags: SF
        }
    );
    // Words: 0x0161 is not the byte 'a'.
    let w = words(&[0x61, 0x161, 0x62]);
    assert_eq!(res(UWORDS | EQUAL_ANY, words(&[0x161]), 1, w, 3), 0b010);
}

#[test]
fn ranges_signed_and_unsigned() {
    // [a-z] and [A-Z] over "Hi, World!".
    let a = bytes(b"azAZ");
    let b = bytes(b"Hi, World!");
    assert_eq!(res(UBYTES | RANGES, a, 4, b, 10), 0x01f3);
    // A lone lower bound (odd length) is no range: only [a-z] is left.
    assert_eq!(res(UBYTES | RANGES, a, 3, b, 10), 0x01e2);
    // Signed words [-5, 5] over -6, -5, 0, 5, 6, -32768, 32767, 3.
    let a = words(&[-5, 5]);
    let b = words(&[-6, -5, 0, 5, 6, i16::MIN, i16::MAX, 3]);
    let o = run(SWORDS | RANGES, a, 2, b, 8);
    assert_eq!(o.int_res2, 0x8e);
    assert_eq!(o.flags, CF | SF);
    // Unsigned, [0xfffb, 5] is empty.
    assert_eq!(res(UWORDS | RANGES, a, 2, b, 8), 0);
    // Unsigned bytes [0x05, 0xfb] against signed bytes [5, -5] (empty).
    let a = bytes(&[0x05, 0xfb]);
    let b = bytes(&[0x04, 0x05, 0x80, 0xfb, 0xfc, 0x7f]);
    assert_eq!(res(UBYTES | RANGES, a, 2, b, 6), 0b10_1110);
    assert_eq!(res(SBYTES | RANGES, a, 2, b, 6), 0);
    // Negative polarity on words: 8 bits.
    assert_eq!(res(UWORDS | RANGES | NEGATIVE, a, 2, b, 3), 0xff);
}

#[test]
fn equal_each_with_invalid_elements() {
    let a = bytes(b"abcdef");
    let b = bytes(b"abXdeZgh");
    // Equal at 0, 1, 3, 4; 6 and 7 valid only in b: false; from 8 both
    // invalid: true.
    let o = run(UBYTES | EQUAL_EACH, a, 6, b, 8);
    assert_eq!(o.int_res2, 0xff1b);
    assert_eq!(o.flags, CF | ZF | SF | OF);
    assert_eq!(res(UBYTES | EQUAL_EACH | NEGATIVE, a, 6, b, 8), 0x00e4);
    assert_eq!(
        res(UBYTES | EQUAL_EACH | MASKED_NEGATIVE, a, 6, b, 8),
        0xffe4
    );
    // Signed and unsigned equality is the same.
    let w = words(&[-1, 2, 3]);
    assert_eq!(res(SWORDS | EQUAL_EACH, w, 3, w, 2), 0b1111_1011);
    assert_eq!(res(UWORDS | EQUAL_EACH, w, 3, w, 2), 0b1111_1011);
}

#[test]
fn equal_ordered_substrings() {
    let b = bytes(b"hello lo");
    assert_eq!(res(UBYTES | EQUAL_ORDERED, bytes(b"lo"), 2, b, 8), 0x0048);
    // A needle running past the end of the 16 elements matches as far as
    // it goes: "ab" at 15 of a full-length b.
    let mut full = [b'x'; 16];
    full[15] = b'a';
    let o = run(UBYTES | EQUAL_ORDERED, bytes(b"ab"), 2, full, 16);
    assert_eq!(o.int_res2, 0x8000);
    assert_eq!(o.flags, CF | SF);
    // ... but not past the end of a shorter b.
    assert_eq!(res(UBYTES | EQUAL_ORDERED, bytes(b"ab"), 2, full, 15), 0);
    // The empty needle is everywhere.
    assert_eq!(res(UBYTES | EQUAL_ORDERED, bytes(b""), 0, b, 8), 0xffff);
    assert_eq!(res(UWORDS | EQUAL_ORDERED, bytes(b""), 0, b, 0), 0xff);
    // Words: [2, 3] in 1, 2, 3, 2, 3.
    let b = words(&[1, 2, 3, 2, 3]);
    assert_eq!(
        res(SWORDS | EQUAL_ORDERED, words(&[2, 3]), 2, b, 5),
        0b0_1010
    );
}

#[test]
fn outputs_index_and_mask() {
    assert_eq!(index(UBYTES, 0x0092), 1);
    assert_eq!(index(UBYTES | MOST_SIGNIFICANT, 0x0092), 7);
    assert_eq!(index(UBYTES | MOST_SIGNIFICANT, 0x8000), 15);
    assert_eq!(index(UBYTES, 0), 16);
    assert_eq!(index(UWORDS | MOST_SIGNIFICANT, 0), 8);
    assert_eq!(index(SWORDS, 0x80), 7);
    assert_eq!(mask_of(UBYTES, 0x8092), bytes(&[0x92, 0x80]));
    assert_eq!(mask_of(SWORDS, 0x81), bytes(&[0x81]));
    let mut expanded = [0u8; 16];
    for i in [1, 4, 7, 15] {
        expanded[i] = 0xff;
    }
    assert_eq!(mask_of(UBYTES | MOST_SIGNIFICANT, 0x8092), expanded);
    assert_eq!(
        mask_of(SWORDS | MOST_SIGNIFICANT, 0x81),
        words(&[-1, 0, 0, 0, 0, 0, 0, -1])
    );
}

#[test]
fn pcmpgtq_lanes_are_signed() {
    let q = |x: i64, y: i64| {
        let mut v = [0u8; 16];
        v[..8].copy_from_slice(&x.to_le_bytes());
        v[8..].copy_from_slice(&y.to_le_bytes());
        v
    };
    assert_eq!(greater_quadwords(&q(1, -1), &q(0, 0)), q(-1, 0));
    assert_eq!(greater_quadwords(&q(i64::MIN, 5), &q(i64::MAX, 5)), q(0, 0));
    assert_eq!(
        greater_quadwords(&q(i64::MAX, 0), &q(i64::MIN, -1)),
        q(-1, -1)
    );
}

/// The flags an instruction left, of the six it writes.
fn status(rflags: u64) -> u64 {
    rflags & (CF | PF | AF | ZF | SF | OF)
}

#[test]
fn explicit_lengths_from_eax_edx_or_rax_rdx() {
    // Equal each over two equal 16-byte strings: IntRes1 is all ones
    // whatever the lengths, unless exactly one of a pair is valid.
    let code = asm(64, |a| {
        a.pcmpestri(xmm1, xmmword_ptr(0x3001), 0x40 | 0x08)?;
        a.mov(r8, rcx)?;
        a.pcmpestri64(xmm1, xmmword_ptr(0x3001), 0x08)?;
        a.mov(r9, rcx)?;
        a.pcmpestrm(xmm1, xmmword_ptr(0x3001), 0x48)?;
        a.pcmpestrm64(xmm1, xmm2, 0x48)
    });
    let (mut cpu, mut bus) = long64(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    bus.ram[0x3001..0x3011].copy_from_slice(b"0123456789abcdef");
    cpu.state.fx.xmm[1] = *b"0123456789abcdef";
    cpu.state.fx.xmm[2] = *b"0123456789abcdef";
    // EAX = -3 (length 3), EDX = 100 (16); RAX's high half makes it a
    // huge negative number under REX.W (16), RDX = 3 there.
    cpu.state.gpr[0] = 0xffff_fffd_ffff_fffd;
    cpu.state.gpr[2] = 0x0000_0003_0000_0064;
    cpu.state.gpr[1] = u64::MAX;
    cpu.state.rflags |= PF | AF;
    // 32-bit lengths 3 and 16: equal at 0..3, a invalid from 3: the most
    // significant set bit is 2; the upper half of RCX is cleared.
    exec(&mut cpu, &mut bus).unwrap();
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.gpr[8], 2);
    assert_eq!(status(cpu.state.rflags), CF | SF | OF);
    // 64-bit lengths 16 and 0x3_0000_0064 (16): all equal.
    exec(&mut cpu, &mut bus).unwrap();
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.gpr[9], 0);
    assert_eq!(status(cpu.state.rflags), CF | OF);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], bytes(&[0xff, 0xff, 0xff]));
    // i64::MIN's absolute value does not fit: still saturated.
    cpu.state.gpr[0] = 1 << 63;
    cpu.state.gpr[2] = 5;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], bytes(&[0xff; 5]));
    assert_eq!(status(cpu.state.rflags), CF | ZF | OF);
}

#[test]
fn implicit_lengths_stop_at_the_first_null() {
    let code = asm(32, |a| {
        a.pcmpistri(xmm1, xmmword_ptr(0x3003), EQUAL_ORDERED as i32)?;
        a.pcmpistrm(xmm1, xmm2, (UWORDS | EQUAL_ANY | NEGATIVE) as i32)
    });
    let (mut cpu, mut bus) = prot32(&code);
    cpu.state.cr4 |= cr4::OSFXSR;
    bus.ram[0x3003..0x3013].copy_from_slice(b"say hello\0hello!");
    cpu.state.fx.xmm[1] = bytes(b"hello");
    cpu.state.gpr[1] = 0xdead_beef;
    exec(&mut cpu, &mut bus).unwrap();
    // "hello" at 4; the "hello" after the null does not count.
    assert_eq!(cpu.state.gpr[1], 4);
    assert_eq!(status(cpu.state.rflags), CF | ZF | SF);
    // Words: "he", "ll", "o\0" then a null word at 3. xmm2: 0x6568
    // ("he") and 0x0041 (not null): every word valid, only "he" in the
    // set, the rest negated.
    cpu.state.fx.xmm[2] = words(&[0x6568, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41, 0x41]);
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], bytes(&[0xfe]));
    assert_eq!(status(cpu.state.rflags), CF | SF);
}

#[test]
fn availability_and_alignment() {
    // No alignment rule for the string compares; PCMPGTQ's m128 has the
    // legacy one.
    let code = asm(32, |a| {
        a.pcmpistri(xmm0, xmmword_ptr(0x3001), 0)?;
        a.pcmpgtq(xmm0, xmmword_ptr(0x3010))?;
        a.pcmpgtq(xmm0, xmmword_ptr(0x3008))
    });
    let (mut cpu, mut bus) = prot32(&code);
    assert_eq!(exec(&mut cpu, &mut bus).unwrap_err(), Exception::UD.into());
    cpu.state.cr4 |= cr4::OSFXSR;
    cpu.state.cr0 |= crate::state::cr0::TS;
    assert_eq!(exec(&mut cpu, &mut bus).unwrap_err(), Exception::NM.into());
    cpu.state.cr0 &= !crate::state::cr0::TS;
    exec(&mut cpu, &mut bus).unwrap();
    cpu.state.fx.xmm[0] = [0x7f; 16];
    bus.ram[0x3010..0x3020].copy_from_slice(&[0x80; 16]);
    // The high quadword 0x7f80...80 is above 0x7f7f...7f.
    bus.ram[0x301f] = 0x7f;
    exec(&mut cpu, &mut bus).unwrap();
    assert_eq!(cpu.state.fx.xmm[0], {
        let mut r = [0xff; 16];
        r[8..].fill(0);
        r
    });
    assert_eq!(
        exec(&mut cpu, &mut bus).unwrap_err(),
        Exception::GP(0).into()
    );
}

//! SSE workloads for `examples/ssebench.rs`: a float dot product (MOVAPS,
//! MULPS, ADDPS over two arrays), a copy with MOVDQU and a CRC-32C loop
//! (CRC32 r64, m64); and x87 ones: a double dot product (FLD m64, FMUL
//! m64, FADDP) and a polynomial evaluated in registers for every double of
//! an array (FLD m64, the constants, FMUL/FADDP/FSUBRP on registers, FSTP
//! ST(1)), both summed in ST0 and stored to rax. Each kernel body is assembled once as a native System
//! V function `f(src, len, dst) -> rax` and once as a 64-bit guest with
//! the same registers (rsi = src, rcx = len, rdi = dst), ending in HLT.

use super::{Guest, Mode};
use iced_x86::code_asm::*;

/// Where the guest's source and destination arrays are.
pub const SRC: u64 = 0x20_0000;
pub const DST: u64 = 0x40_0000;

pub const KERNELS: [&str; 5] = ["dot", "memcpy", "crc32c", "x87dot", "x87poly"];

/// Does kernel `name` leave all 64 bits of rax defined (else the low 32)?
pub fn result_is_64_bits(name: &str) -> bool {
    matches!(name, "memcpy" | "x87dot" | "x87poly")
}

/// The loop of kernel `name`: rsi = src, rdi = dst, rcx = len (bytes, a
/// multiple of 64); result in rax.
fn body(a: &mut CodeAssembler, name: &str) -> Result<(), IcedError> {
    let mut top = a.create_label();
    a.xor(edx, edx)?;
    match name {
        "dot" => {
            // sum of src[i] * dst[i] over the floats, then the four lanes
            // added; the f32 bits in eax.
            a.xorps(xmm0, xmm0)?;
            a.set_label(&mut top)?;
            a.movaps(xmm1, xmmword_ptr(rsi + rdx))?;
            a.mulps(xmm1, xmmword_ptr(rdi + rdx))?;
            a.addps(xmm0, xmm1)?;
            a.add(rdx, 16)?;
            a.cmp(rdx, rcx)?;
            a.jb(top)?;
            a.movhlps(xmm1, xmm0)?;
            a.addps(xmm0, xmm1)?;
            a.movaps(xmm1, xmm0)?;
            a.shufps(xmm1, xmm1, 0x55)?;
            a.addss(xmm0, xmm1)?;
            a.movd(eax, xmm0)?;
        }
        "x87dot" => {
            // sum of src[i] * dst[i] over the doubles (rounded to 64 bits
            // when stored).
            a.fninit()?;
            a.fldz()?;
            a.set_label(&mut top)?;
            a.fld(qword_ptr(rsi + rdx))?;
            a.fmul(qword_ptr(rdi + rdx))?;
            a.faddp(st1, st0)?;
            a.add(rdx, 8)?;
            a.cmp(rdx, rcx)?;
            a.jb(top)?;
            store_st0(a)?;
        }
        "x87poly" => {
            // sum of p(x) = ((((x + 1) x + pi) x - log2 e) x + 1) x over
            // the doubles x of src, by Horner in registers.
            a.fninit()?;
            a.fldz()?;
            a.set_label(&mut top)?;
            a.fld(qword_ptr(rsi + rdx))?; // x, sum
            a.fld(st0)?; // acc = x
            a.fld1()?;
            a.faddp(st1, st0)?; // acc = x + 1
            a.fmul_2(st0, st1)?;
            a.fldpi()?;
            a.faddp(st1, st0)?;
            a.fmul_2(st0, st1)?;
            a.fldl2e()?;
            a.fsubp(st1, st0)?;
            a.fmul_2(st0, st1)?;
            a.fld1()?;
            a.faddp(st1, st0)?;
            a.fmul_2(st0, st1)?; // acc, x, sum
            a.fstp(st1)?; // acc, sum
            a.faddp(st1, st0)?; // sum
            a.add(rdx, 8)?;
            a.cmp(rdx, rcx)?;
            a.jb(top)?;
            store_st0(a)?;
        }
        "memcpy" => {
            a.set_label(&mut top)?;
            a.movdqu(xmm0, xmmword_ptr(rsi + rdx))?;
            a.movdqu(xmmword_ptr(rdi + rdx), xmm0)?;
            a.add(rdx, 16)?;
            a.cmp(rdx, rcx)?;
            a.jb(top)?;
            a.mov(rax, rdx)?;
        }
        _ => {
            // The standard CRC-32C: initial value and final XOR all ones.
            a.mov(eax, -1i32)?;
            a.set_label(&mut top)?;
            a.crc32(rax, qword_ptr(rsi + rdx))?;
            a.add(rdx, 8)?;
            a.cmp(rdx, rcx)?;
            a.jb(top)?;
            a.not(eax)?;
        }
    }
    Ok(())
}

/// rax := ST0 as a double, popped (the x87 stack left empty).
fn store_st0(a: &mut CodeAssembler) -> Result<(), IcedError> {
    a.sub(rsp, 8)?;
    a.fstp(qword_ptr(rsp))?;
    a.pop(rax)
}

/// Kernel `name` as a native function `f(src, len, dst) -> rax`.
pub fn native_code(name: &str) -> Vec<u8> {
    let mut a = CodeAssembler::new(64).unwrap();
    // rdi = src, rsi = len, rdx = dst -> rsi = src, rcx = len, rdi = dst.
    a.mov(rcx, rsi).unwrap();
    a.mov(rsi, rdi).unwrap();
    a.mov(rdi, rdx).unwrap();
    body(&mut a, name).unwrap();
    a.ret().unwrap();
    a.assemble(0).unwrap()
}

/// Kernel `name` as a 64-bit guest over `src` and `dst` (at `SRC`, `DST`),
/// with CR4.OSFXSR set and the reset MXCSR, ending in HLT.
pub fn guest(name: &str, src: &[u8], dst: &[u8]) -> Guest {
    let mut a = CodeAssembler::new(64).unwrap();
    a.mov(rsi, SRC).unwrap();
    a.mov(rdi, DST).unwrap();
    a.mov(rcx, src.len() as u64).unwrap();
    body(&mut a, name).unwrap();
    a.hlt().unwrap();
    let code = a.assemble(super::CODE).unwrap();
    let mut g = Guest::new(Mode::Long64, &code, &[(SRC, src), (DST, dst)]);
    g.cpu.cr4 |= cpu_model::state::cr4::OSFXSR;
    g
}

/// `n` bytes of doubles in [-1, 1) (deterministic).
pub fn doubles(n: usize, seed: u64) -> Vec<u8> {
    let raw = super::random_bytes(n, seed);
    raw.chunks(8)
        .flat_map(|c| {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            let f = (v >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            f.to_le_bytes()
        })
        .collect()
}

/// `n` bytes of floats in [-1, 1) (deterministic).
pub fn floats(n: usize, seed: u64) -> Vec<u8> {
    let raw = super::random_bytes(n, seed);
    raw.chunks(4)
        .flat_map(|c| {
            let v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            let f = (v as f32 / u32::MAX as f32) * 2.0 - 1.0;
            f.to_le_bytes()
        })
        .collect()
}

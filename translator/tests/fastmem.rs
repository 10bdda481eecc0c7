//! The inline memory fast path against the interpreter: loops of random
//! memory instructions (so that every access after the first takes the
//! fast path) with every addressing form, segment bases and overrides,
//! page-crossing and limit-edge offsets; faults at the segment limit
//! after a warm fast path; and self-modifying code written by a store
//! whose page had a warm write entry.

mod common;
use common::*;
use cpu_model::exception::Exception;
use cpu_model::flags;
use cpu_model::interp::descriptor::Descriptor;
use cpu_model::state::SegReg;
use iced_x86::code_asm::*;
use translator::{Jit, JitConfig, JitExit};

/// Iterations of each generated loop.
const ITER: u32 = 6;

/// One random memory instruction on `m` (size given by `size`), with
/// register operands from the accumulator set (never the address or loop
/// registers). Returns whether it accesses memory.
fn mem_ins(a: &mut CodeAssembler, r: &mut Rng, m: AsmMemoryOperand, size: u32) -> bool {
    let x = r.next();
    let imm = r.next() as i32 >> (x % 24);
    let res = match (size, x % 16) {
        (8, 8) => a.imul_2(rax, qword_ptr(m)),
        (8, 9) => a.imul_3(rdx, qword_ptr(m), imm),
        (4, 8) => a.imul_3(edx, dword_ptr(m), imm),
        (4, 9) => a.imul_2(eax, dword_ptr(m)),
        (2, 8) => a.imul_2(dx, word_ptr(m)),
        (2, 9) => a.imul_3(ax, word_ptr(m), imm as i16 as i32),
        (_, 8) => a.mov(dl, byte_ptr(m)),
        (_, 9) => a.adc(byte_ptr(m), dl),
        (8, 0) => a.mov(rax, qword_ptr(m)),
        (8, 1) => a.mov(qword_ptr(m), rdx),
        (8, 2) => a.add(qword_ptr(m), rax),
        (8, 3) => a.sub(rdx, qword_ptr(m)),
        (8, 4) => a.xor(qword_ptr(m), imm),
        (8, 5) => a.cmovl(rax, qword_ptr(m)),
        (8, 6) => a.neg(qword_ptr(m)),
        (8, 7) => a.movsxd(rdx, dword_ptr(m)),
        (4, 0) => a.mov(eax, dword_ptr(m)),
        (4, 1) => a.mov(dword_ptr(m), edx),
        (4, 2) => a.adc(dword_ptr(m), eax),
        (4, 3) => a.sbb(edx, dword_ptr(m)),
        (4, 4) => a.and(dword_ptr(m), imm),
        (4, 5) => a.cmovbe(edx, dword_ptr(m)),
        (4, 6) => a.inc(dword_ptr(m)),
        (4, 7) => a.cmp(dword_ptr(m), eax),
        (2, 0) => a.mov(ax, word_ptr(m)),
        (2, 1) => a.mov(word_ptr(m), dx),
        (2, 2) => a.or(word_ptr(m), ax),
        (2, 3) => a.movzx(edx, word_ptr(m)),
        (2, 4) => a.dec(word_ptr(m)),
        (2, 5) => a.test(word_ptr(m), dx),
        (2, 6) => a.not(word_ptr(m)),
        (2, 7) => a.sub(word_ptr(m), imm as i16 as i32),
        (_, 0) => a.mov(al, byte_ptr(m)),
        (_, 1) => a.mov(byte_ptr(m), dh),
        (_, 2) => a.add(byte_ptr(m), ah),
        (_, 3) => a.movzx(eax, byte_ptr(m)),
        (_, 4) => a.movsx(dx, byte_ptr(m)),
        (_, 5) => a.xor(dl, byte_ptr(m)),
        (_, 6) => a.mov(byte_ptr(m), imm as u8 as u32),
        (_, 7) => a.sbb(byte_ptr(m), al),
        // A register instruction between accesses (flags, values).
        (_, 10) => a.add(eax, edx),
        (_, 11) => a.rol(edx, 3),
        (_, 12) => a.stc(),
        (_, 13) => a.xchg(ax, dx),
        (_, 14) => a.lea(edx, dword_ptr(eax + edx * 2 + 1)),
        _ => a.inc(eax),
    };
    res.unwrap();
    x % 16 < 10
}

/// An offset near a page edge or anywhere in the 8 KiB test window.
fn offset(r: &mut Rng) -> i32 {
    let x = r.next();
    match x % 4 {
        0 => 0x0ff8 + ((x >> 8) % 16) as i32, // around the first page edge
        1 => 0x1ff0 + ((x >> 8) % 12) as i32, // the end of the window
        _ => ((x >> 8) % 0x2000) as i32,
    }
}

/// 64-bit: ES/DS/SS bases ignored, FS/GS bases applied; 64-bit and
/// 32-bit (addr32) addressing; base, index and scale; RIP-relative.
#[test]
fn random_memory_loops_64() {
    let mut r = Rng(0x5eed_0000_0064_0001);
    let (mut helper_calls, mut accesses) = (0, 0);
    for _ in 0..300 {
        let mut mem_count = 0;
        let mut a = CodeAssembler::new(64).unwrap();
        let mut top = a.create_label();
        let mut data = a.create_label();
        a.mov(r15d, ITER).unwrap();
        a.set_label(&mut top).unwrap();
        for _ in 0..1 + r.next() % 12 {
            let x = r.next();
            let off = offset(&mut r);
            let size = 1 << (x % 4);
            let scale = 1 << ((x >> 4) % 4);
            // rsi = window start + part of the offset, rdi = the rest / scale.
            let idx = (off / 3) / scale;
            let base = 0x4000 + off - idx * scale;
            a.mov(esi, base as u32).unwrap();
            a.mov(edi, idx as u32).unwrap();
            let seg = (x >> 8) % 6;
            let m = match (x >> 12) % 5 {
                0 => qword_ptr(rsi + rdi * scale),
                1 => qword_ptr(rsi + (0x4000 + off - base)),
                2 => qword_ptr(esi + edi * scale),
                3 => qword_ptr(data),
                _ => qword_ptr(rdi * scale + base),
            };
            let m = match seg {
                0 => m.fs(),
                1 => m.gs(),
                2 => m.es(),
                3 => m.ss(),
                _ => m,
            };
            mem_count += u64::from(mem_ins(&mut a, &mut r, m, size));
        }
        a.dec(r15d).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
        a.set_label(&mut data).unwrap();
        a.db(&[0x11; 16]).unwrap();
        let code = a.assemble(CODE).unwrap();
        let (mut cpu, mut bus) = long64(&code);
        cpu.state.seg[SegReg::Fs as usize].base = 0x2_0000;
        cpu.state.seg[SegReg::Gs as usize].base = 0x3_0000;
        cpu.state.gpr[0] = r.next();
        cpu.state.gpr[2] = r.next();
        cpu.state.rflags = flags::FIXED | (r.next() & flags::STATUS);
        for base in [0x4000, 0x2_4000, 0x3_4000] {
            for b in &mut bus.ram[base..base + 0x2000] {
                *b = r.next() as u8;
            }
        }
        let (_, _, jit) = compare(cpu, bus, 2000);
        helper_calls += jit.stats().memory_helper_calls;
        accesses += mem_count * u64::from(ITER);
    }
    eprintln!("64: {helper_calls} helper calls for {accesses} memory instructions");
    assert!(helper_calls * 3 < accesses, "{helper_calls} / {accesses}");
}

/// 32-bit protected mode with a different base per segment register, and
/// 16-bit addressing in real mode (offsets wrap at 64 KiB).
#[test]
fn random_memory_loops_32_and_16() {
    let mut r = Rng(0x5eed_0000_0032_0001);
    let (mut helper_calls, mut accesses) = (0, 0);
    for round in 0..300 {
        let mut mem_count = 0;
        let bits = if round % 3 == 2 { 16 } else { 32 };
        let mut a = CodeAssembler::new(bits).unwrap();
        let mut top = a.create_label();
        a.mov(ebp, ITER).unwrap();
        a.set_label(&mut top).unwrap();
        for _ in 0..1 + r.next() % 12 {
            let x = r.next();
            let off = offset(&mut r);
            let size = 1 << (x % 3);
            let seg = (x >> 8) % 6;
            let m = if bits == 16 {
                // [bx+si+disp] with bx + si + disp wrapping past 0xffff
                // now and then.
                let bx_v = if x & 0x100 != 0 { 0xf000u32 } else { 0x100 };
                a.mov(bx, bx_v).unwrap();
                a.mov(si, 0x2000u32).unwrap();
                let disp = (off as u32).wrapping_sub(0x2000).wrapping_sub(bx_v) as i32;
                word_ptr(bx + si + (disp as i16 as i32))
            } else {
                let scale = 1 << ((x >> 4) % 4);
                let idx = (off / 5) / scale;
                a.mov(esi, (0x4000 + off - idx * scale) as u32).unwrap();
                a.mov(edi, idx as u32).unwrap();
                dword_ptr(esi + edi * scale)
            };
            let m = match seg {
                0 => m.fs(),
                1 => m.gs(),
                2 => m.es(),
                3 => m.ss(),
                _ => m,
            };
            mem_count += u64::from(mem_ins(&mut a, &mut r, m, size.min(4)));
        }
        a.dec(ebp).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
        let code = a.assemble(CODE).unwrap();
        let (mut cpu, mut bus) = if bits == 32 {
            let (mut cpu, bus) = prot32(&code);
            // Data segments with distinct bases (CS stays flat).
            for (k, s) in [SegReg::Es, SegReg::Ss, SegReg::Ds, SegReg::Fs, SegReg::Gs]
                .into_iter()
                .enumerate()
            {
                let base = 0x1_0000 * (k as u64 + 1);
                let d = Descriptor(0x00cf_9300_0000_ffff | (base << 16));
                cpu.state.seg[s as usize] = d.to_segment(0x10);
            }
            (cpu, bus)
        } else {
            let (mut cpu, bus) = real_mode(&code);
            for (k, s) in [SegReg::Es, SegReg::Ss, SegReg::Ds, SegReg::Fs, SegReg::Gs]
                .into_iter()
                .enumerate()
            {
                cpu.state.seg[s as usize] =
                    cpu_model::state::Segment::real_mode(0x1000 * (k as u16 + 1));
            }
            (cpu, bus)
        };
        cpu.state.gpr[0] = r.next() & 0xffff_ffff;
        cpu.state.gpr[2] = r.next() & 0xffff_ffff;
        cpu.state.rflags = flags::FIXED | (r.next() & flags::STATUS);
        for b in &mut bus.ram[0x1_0000..0x6_0000] {
            *b = r.next() as u8;
        }
        let (_, _, jit) = compare(cpu, bus, 3000);
        helper_calls += jit.stats().memory_helper_calls;
        accesses += mem_count * u64::from(ITER);
    }
    // Most accesses after the first iteration hit the host TLB.
    eprintln!("32/16: {helper_calls} helper calls for {accesses} memory instructions");
    assert!(helper_calls * 3 < accesses, "{helper_calls} / {accesses}");
}

/// Run `cpu` by `Cpu::execute` to its first fault and, from the same
/// start, under a JIT that returns exceptions: both must stop at `want`
/// with the same RIP and registers. Returns the JIT's CPU.
fn same_fault(
    cpu: cpu_model::Cpu,
    bus: cpu_model::memory::FlatBus,
    want: Exception,
) -> cpu_model::Cpu {
    let (mut ref_cpu, mut ref_bus) = (clone_cpu(&cpu), bus.clone());
    let ref_fault = loop {
        if let Err(e) = ref_cpu.execute(&mut ref_bus) {
            break e;
        }
    };
    assert_eq!(ref_fault, cpu_model::exception::Fault::Exception(want));
    let (mut cpu, mut bus) = (cpu, bus);
    let mut jit = Jit::new(JitConfig {
        deliver_exceptions: false,
        ..JitConfig::default()
    })
    .unwrap();
    let exit = jit.run(&mut cpu, &mut bus, 1000).unwrap();
    assert_eq!(exit, JitExit::Exception(want));
    assert_eq!(cpu.state.rip, ref_cpu.state.rip);
    assert_eq!(cpu.state.gpr, ref_cpu.state.gpr);
    cpu
}

/// A warm fast path must not skip the limit check: with DS limit 0x3fff,
/// a loop reads the dword at 0x3ffc (last allowed) and then one byte
/// further, which must raise #GP(0) at that instruction with the state as
/// the interpreter leaves it.
#[test]
fn limit_fault_after_a_warm_fast_path() {
    let code = asm(32, |a| {
        let mut top = a.create_label();
        a.mov(ecx, 5).unwrap();
        a.mov(esi, 0x3ffc).unwrap();
        a.set_label(&mut top).unwrap();
        a.add(eax, dword_ptr(esi)).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
        a.inc(esi).unwrap();
        a.add(eax, dword_ptr(esi)).unwrap();
        a.hlt().unwrap();
    });
    let (mut cpu, mut bus) = prot32(&code);
    let d = Descriptor(0x0040_9300_0000_3fff); // base 0, limit 0x3fff, byte granular
    cpu.state.seg[SegReg::Ds as usize] = d.to_segment(0x10);
    bus.ram[0x3ffc..0x4000].copy_from_slice(&7u32.to_le_bytes());
    let cpu = same_fault(cpu, bus, Exception::GP(0));
    assert_eq!(cpu.state.gpr[0], 35);
}

/// A store whose page had a warm write entry (in the TLB and in the
/// store's own micro slot), then holds translated code: the next store
/// through the same instruction must still invalidate the code (it goes
/// through the bus, not the host TLB).
#[test]
fn stores_to_a_page_that_became_code_are_seen() {
    // A data store to the page first (its slow path enters the page for
    // writing); then a loop: patch the immediate of `mov al, imm` at
    // 0x3000 with CL (a TLB hit the first time, copied into the store's
    // micro slot), run it (jump there and back), accumulate AL in BL.
    let code = asm(64, |a| {
        let mut top = a.create_label();
        let mut back = a.create_label();
        a.mov(byte_ptr(0x3100), 0).unwrap(); // same page, data
        a.mov(ecx, 4).unwrap();
        a.xor(ebx, ebx).unwrap();
        a.set_label(&mut top).unwrap();
        a.mov(byte_ptr(0x3001), cl).unwrap();
        a.jmp(0x3000u64).unwrap();
        a.set_label(&mut back).unwrap();
        a.add(bl, al).unwrap();
        a.dec(ecx).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
    });
    let (cpu, mut bus) = long64(&code);
    // At 0x3000: mov al, 0; jmp back (the loop's `add bl, al`).
    // `add bl, al; dec ecx; jnz top; hlt` are the last 7 bytes.
    let back = CODE + code.len() as u64 - 7;
    assert_eq!(bus.ram[back as usize..back as usize + 2], [0x00, 0xc3]);
    let rel = back as i64 - (0x3000 + 2 + 5);
    bus.ram[0x3000..0x3002].copy_from_slice(&[0xb0, 0x00]);
    bus.ram[0x3002] = 0xe9;
    bus.ram[0x3003..0x3007].copy_from_slice(&(rel as i32).to_le_bytes());
    // Without the self-modifying-code cooldown, which would interpret the
    // page after the first unprofitable write: every store finds it
    // translated again.
    let (cpu, _, jit) = compare_with(no_cooldowns(), cpu, bus, 1000);
    assert_eq!(cpu.state.gpr[3] & 0xff, 4 + 3 + 2 + 1);
    assert!(jit.stats().invalidations.get("smc").copied().unwrap_or(0) >= 3);
}

/// PUSH/POP loops (registers, immediates, rSP itself, 16-bit operands) in
/// 64-bit mode and 32-bit protected mode, on a 32-bit and on a 16-bit
/// stack (SS.B = 0: the inline path's width check fails and the
/// interpreter does it), with the stack pointer near a page edge.
#[test]
fn push_pop_loops() {
    let mut r = Rng(0x5eed_0000_5757_0001);
    let (mut helper_calls, mut accesses) = (0u64, 0u64);
    for round in 0..240 {
        let (bits, small_stack) = match round % 3 {
            0 => (64, false),
            1 => (32, false),
            _ => (32, true),
        };
        let mut a = CodeAssembler::new(bits).unwrap();
        let mut top = a.create_label();
        let mut stack_ops = 0;
        a.mov(ebp, ITER).unwrap();
        a.set_label(&mut top).unwrap();
        // Bytes pushed so far in this iteration (POPs only when there is
        // something of theirs to pop).
        let mut depth = 0i32;
        let wide = if bits == 64 { 8 } else { 4 };
        for _ in 0..2 + r.next() % 10 {
            let x = r.next();
            let (res, delta) = match x % 7 {
                0 if bits == 64 => (a.push(rax), wide),
                0 => (a.push(eax), wide),
                1 if bits == 64 => (a.push(rsp), wide),
                1 => (a.push(esp), wide),
                2 => (a.push((x >> 8) as i32), wide),
                3 => (a.push(dx), 2),
                4 if depth >= wide && bits == 64 => (a.pop(rcx), -wide),
                4 if depth >= wide => (a.pop(ecx), -wide),
                5 if depth >= wide && bits == 64 => (a.pop(rdx), -wide),
                5 if depth >= wide => (a.pop(edx), -wide),
                _ if depth >= 2 => (a.pop(si), -2),
                _ => (a.nop(), 0),
            };
            res.unwrap();
            depth += delta;
            stack_ops += u64::from(delta != 0);
        }
        // Rebalance so the loop does not run away with the stack (with
        // POPs, which keep the bits of rSP above the stack width).
        for _ in 0..depth / 2 {
            a.pop(si).unwrap();
            stack_ops += 1;
        }
        a.dec(ebp).unwrap();
        a.jnz(top).unwrap();
        a.hlt().unwrap();
        let code = a.assemble(CODE).unwrap();
        let (mut cpu, bus) = if bits == 64 {
            long64(&code)
        } else {
            prot32(&code)
        };
        if small_stack {
            // A 16-bit stack segment (SS.B = 0) under 32-bit code.
            let d = Descriptor(0x000f_9300_0000_ffff);
            cpu.state.seg[SegReg::Ss as usize] = d.to_segment(0x18);
        }
        cpu.state.gpr[4] = 0x8008 + (r.next() % 16);
        if bits == 32 {
            // Bits above the stack width are kept by every stack access.
            cpu.state.gpr[4] |= r.next() << 32;
        }
        cpu.state.gpr[0] = r.next();
        cpu.state.gpr[2] = r.next();
        let (_, _, jit) = compare(cpu, bus, 3000);
        if !small_stack {
            helper_calls += jit.stats().memory_helper_calls;
            accesses += stack_ops * u64::from(ITER);
        }
    }
    eprintln!("push/pop: {helper_calls} helper calls for {accesses} stack accesses");
    assert!(helper_calls * 3 < accesses, "{helper_calls} / {accesses}");
}

/// CALL rel / RET / RET imm16 run natively: recursion (fib), a
/// callee-pops argument, the `call $+5; pop` idiom, and a 16-bit
/// operand-size call, in 64-bit, 32-bit (32- and 16-bit stack) and real
/// mode; all against the interpreter.
#[test]
fn calls_and_returns() {
    for (bits, small_stack) in [(64, false), (32, false), (32, true), (16, true)] {
        let code = asm(bits, |a| {
            let mut fib = a.create_label();
            let mut base = a.create_label();
            let mut callee_pops = a.create_label();
            let mut next = a.create_label();
            let mut done = a.create_label();
            a.mov(ecx, 12).unwrap();
            a.call(fib).unwrap();
            // call $+5; pop: the address of `next`.
            a.call(next).unwrap();
            a.set_label(&mut next).unwrap();
            match bits {
                64 => a.pop(rdx).unwrap(),
                32 => a.pop(edx).unwrap(),
                _ => a.pop(dx).unwrap(),
            }
            // An argument popped by the callee.
            match bits {
                64 => a.push(rax).unwrap(),
                32 => a.push(eax).unwrap(),
                _ => a.push(ax).unwrap(),
            }
            a.call(callee_pops).unwrap();
            a.jmp(done).unwrap();
            // fib(ecx) into eax, recursively (ebx, esi scratch).
            a.set_label(&mut fib).unwrap();
            a.cmp(ecx, 2).unwrap();
            a.jb(base).unwrap();
            match bits {
                64 => a.push(rcx).unwrap(),
                32 => a.push(ecx).unwrap(),
                _ => a.push(cx).unwrap(),
            }
            a.dec(ecx).unwrap();
            a.call(fib).unwrap();
            match bits {
                64 => a.pop(rcx).unwrap(),
                32 => a.pop(ecx).unwrap(),
                _ => a.pop(cx).unwrap(),
            }
            match bits {
                64 => a.push(rax).unwrap(),
                32 => a.push(eax).unwrap(),
                _ => a.push(ax).unwrap(),
            }
            a.sub(ecx, 2).unwrap();
            a.call(fib).unwrap();
            match bits {
                64 => a.pop(rbx).unwrap(),
                32 => a.pop(ebx).unwrap(),
                _ => a.pop(bx).unwrap(),
            }
            a.add(eax, ebx).unwrap();
            a.add(ecx, 2).unwrap();
            a.ret().unwrap();
            a.set_label(&mut base).unwrap();
            a.mov(eax, ecx).unwrap();
            a.ret().unwrap();
            a.set_label(&mut callee_pops).unwrap();
            a.inc(esi).unwrap();
            a.ret_1(if bits == 64 { 8 } else { bits / 8 }).unwrap();
            a.set_label(&mut done).unwrap();
            a.hlt().unwrap();
        });
        let (mut cpu, bus) = match bits {
            64 => long64(&code),
            32 => prot32(&code),
            _ => real_mode(&code),
        };
        if small_stack && bits == 32 {
            let d = Descriptor(0x000f_9300_0000_ffff);
            cpu.state.seg[SegReg::Ss as usize] = d.to_segment(0x18);
        }
        let (cpu, _, jit) = compare(cpu, bus, 100_000);
        assert_eq!(cpu.state.gpr[0] & 0xffff, 144, "fib(12) in {bits}-bit code");
        let calls = jit.stats().monitor_calls.get("call").copied().unwrap_or(0);
        let rets = jit.stats().monitor_calls.get("ret").copied().unwrap_or(0);
        if !small_stack {
            // The first call and return of each page go through the
            // interpreter; the rest are native.
            assert!(
                calls + rets < 20,
                "{bits}: {calls} calls, {rets} returns in monitor"
            );
            // fib(12) returns 465 times; most returns jump straight into
            // the block they return to (the return cache), without a
            // dispatcher lookup.
            let lookups = jit.stats().cache_lookups;
            assert!(lookups < 100, "{bits}: {lookups} lookups");
        }
    }
}

/// RET to a non-canonical address faults (#GP(0)) at the RET with RSP
/// unchanged, after the same RET went natively once.
#[test]
fn ret_to_a_non_canonical_address_faults_precisely() {
    let code = asm(64, |a| {
        let mut f = a.create_label();
        a.call(f).unwrap();
        a.mov(rax, 0x8000_0000_0000_0000u64).unwrap();
        a.push(rax).unwrap();
        a.jmp(f).unwrap();
        a.set_label(&mut f).unwrap();
        a.inc(ecx).unwrap();
        a.ret().unwrap();
    });
    let (cpu, bus) = long64(&code);
    let cpu = same_fault(cpu, bus, Exception::GP(0));
    assert_eq!(cpu.state.gpr[1], 2);
}

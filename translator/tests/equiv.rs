//! The JIT against the interpreter: same programs, same final state.

mod common;
use common::*;
use cpu_model::flags;
use iced_x86::code_asm::*;

/// A loop over the natively translated instructions in 64-bit code.
fn alu64(a: &mut CodeAssembler) {
    let mut top = a.create_label();
    a.mov(r15d, 40).unwrap();
    a.set_label(&mut top).unwrap();
    a.add(rax, rbx).unwrap();
    a.adc(ecx, edx).unwrap();
    a.sub(si, di).unwrap();
    a.sbb(r8b, r9b).unwrap();
    a.and(r10, 0x7fff_ff0f).unwrap();
    a.or(r11d, -3).unwrap();
    a.xor(ah, bl).unwrap();
    a.xor(bh, ch).unwrap();
    a.cmp(r12, r13).unwrap();
    a.setl(dl).unwrap();
    a.setbe(dh).unwrap();
    a.test(r14w, 0x8001).unwrap();
    a.cmovs(rsi, r8).unwrap();
    a.cmovo(edi, eax).unwrap();
    a.cmovp(bp, cx).unwrap();
    a.inc(r9).unwrap();
    a.dec(r10w).unwrap();
    a.neg(r11b).unwrap();
    a.not(r12d).unwrap();
    a.shl(rax, 3).unwrap();
    a.shr(ebx, 1).unwrap();
    a.sar(cx, 5).unwrap();
    a.shl(dil, 7).unwrap();
    a.lea(r13, qword_ptr(rax + rbx * 4 + 0x1234)).unwrap();
    a.lea(r14d, dword_ptr(rsi + rdi - 7)).unwrap();
    a.lea(bp, word_ptr(rbp + rcx * 2)).unwrap();
    a.movzx(edx, ah).unwrap();
    a.movsx(esi, bh).unwrap();
    a.movsx(eax, r9w).unwrap();
    a.movsxd(rbx, r10d).unwrap();
    a.mov(r8, 0x1234_5678_9abc_def0u64).unwrap();
    a.mov(r8w, r12w).unwrap();
    a.adc(rdx, -1).unwrap();
    a.sbb(ecx, 0x10).unwrap();
    a.dec(r15d).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
}

fn random_regs(cpu: &mut cpu_model::Cpu, seed: u64) {
    let mut r = Rng(seed | 1);
    for (i, g) in cpu.state.gpr.iter_mut().enumerate() {
        if i != 4 {
            *g = r.next();
        }
    }
    cpu.state.rflags = flags::FIXED | (r.next() & flags::STATUS);
}

#[test]
fn alu_loop_64() {
    for seed in 1..20 {
        let (mut cpu, bus) = long64(&asm(64, alu64));
        random_regs(&mut cpu, seed);
        let (_, _, jit) = compare(cpu, bus, 10_000);
        let s = jit.stats();
        assert!(s.native_instructions > 1000, "{s:?}");
        assert!(s.chains_made >= 1, "{s:?}");
        assert!(s.chained_transitions >= 30, "{s:?}");
    }
}

/// The same kind of loop in 32-bit and 16-bit code.
fn alu32(a: &mut CodeAssembler) {
    let mut top = a.create_label();
    a.mov(ebp, 30).unwrap();
    a.set_label(&mut top).unwrap();
    a.add(eax, ebx).unwrap();
    a.adc(cl, dh).unwrap();
    a.sub(si, di).unwrap();
    a.sbb(edx, 0x1234).unwrap();
    a.and(ebx, esi).unwrap();
    a.or(ax, -3).unwrap();
    a.xor(ah, bl).unwrap();
    a.cmp(ecx, edx).unwrap();
    a.setg(bl).unwrap();
    a.cmovae(edi, eax).unwrap();
    a.inc(esi).unwrap();
    a.dec(di).unwrap();
    a.neg(ch).unwrap();
    a.not(eax).unwrap();
    a.shl(eax, 3).unwrap();
    a.shr(bx, 1).unwrap();
    a.sar(ecx, 31).unwrap();
    a.lea(edi, dword_ptr(eax + ebx * 8 + 0x1000)).unwrap();
    a.lea(si, word_ptr(ebx + 2)).unwrap();
    a.movzx(edx, al).unwrap();
    a.movsx(ebx, cx).unwrap();
    a.dec(ebp).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
}

#[test]
fn alu_loop_32() {
    for seed in 1..10 {
        let (mut cpu, bus) = prot32(&asm(32, alu32));
        random_regs(&mut cpu, seed);
        for g in &mut cpu.state.gpr {
            *g &= 0xffff_ffff;
        }
        compare(cpu, bus, 10_000);
    }
}

fn alu16(a: &mut CodeAssembler) {
    let mut top = a.create_label();
    a.mov(bp, 25).unwrap();
    a.set_label(&mut top).unwrap();
    a.add(ax, bx).unwrap();
    a.adc(cl, dh).unwrap();
    a.sub(si, di).unwrap();
    a.xor(eax, ecx).unwrap();
    a.cmp(dx, 7).unwrap();
    a.setle(bl).unwrap();
    a.cmovb(di, ax).unwrap();
    a.lea(si, word_ptr(bx + si + 0x10)).unwrap();
    a.lea(edx, dword_ptr(eax + ecx * 2)).unwrap();
    a.shl(ax, 15).unwrap();
    a.movsx(cx, al).unwrap();
    a.dec(bp).unwrap();
    a.jnz(top).unwrap();
    a.hlt().unwrap();
}

#[test]
fn alu_loop_16() {
    for seed in 1..10 {
        let (mut cpu, bus) = real_mode(&asm(16, alu16));
        random_regs(&mut cpu, seed);
        for g in &mut cpu.state.gpr {
            *g &= 0xffff;
        }
        cpu.state.gpr[4] = 0x8000;
        compare(cpu, bus, 5_000);
    }
}

/// Memory, stack and calls: monitor calls in the middle of blocks.
fn mixed64(a: &mut CodeAssembler) {
    let mut top = a.create_label();
    let mut func = a.create_label();
    a.mov(rsp, 0x8000u64).unwrap();
    a.mov(ecx, 20).unwrap();
    a.mov(rbx, 0x3000u64).unwrap();
    a.set_label(&mut top).unwrap();
    a.mov(qword_ptr(rbx + rcx * 8), rcx).unwrap();
    a.add(rax, qword_ptr(rbx + rcx * 8)).unwrap();
    a.push(rax).unwrap();
    a.call(func).unwrap();
    a.pop(rdx).unwrap();
    a.imul_3(rdx, rdx, 3).unwrap();
    a.rdtsc().unwrap();
    a.loop_(top).unwrap();
    a.hlt().unwrap();
    a.set_label(&mut func).unwrap();
    a.xor(eax, 0x55).unwrap();
    a.shl(rax, 1).unwrap();
    a.ret().unwrap();
}

#[test]
fn mixed_monitor_calls() {
    let (cpu, bus) = long64(&asm(64, mixed64));
    let (_, _, jit) = compare(cpu, bus, 10_000);
    let s = jit.stats();
    assert!(
        s.monitor_calls.get("rdtsc").copied().unwrap_or(0) >= 20,
        "{s:?}"
    );
}

/// Every budget stops at exactly the same point as that many steps.
#[test]
fn budget_is_exact() {
    for budget in 0..120 {
        let (mut cpu, bus) = long64(&asm(64, mixed64));
        random_regs(&mut cpu, 7);
        cpu.state.rflags &= !flags::IF;
        compare(cpu, bus, budget);
    }
}

/// STD/CLD (native, on the guest RFLAGS) steer the next string
/// instruction (a monitor call).
#[test]
fn direction_flag_ops() {
    let (cpu, mut bus) = long64(&asm(64, |a| {
        a.mov(esi, 0x3010).unwrap();
        a.std().unwrap();
        a.lodsb().unwrap();
        a.mov(ebx, eax).unwrap();
        a.cld().unwrap();
        a.lodsb().unwrap();
        a.stc().unwrap();
        a.cmc().unwrap();
        a.hlt().unwrap();
    }));
    bus.ram[0x300f] = 0x11;
    bus.ram[0x3010] = 0x22;
    let (cpu, _, _) = compare(cpu, bus, 100);
    assert_eq!(cpu.state.gpr[3] & 0xff, 0x22);
    assert_eq!(cpu.state.gpr[0] & 0xff, 0x11);
    assert_eq!(cpu.state.gpr[6], 0x3010);
    assert_eq!(cpu.state.rflags & (flags::DF | flags::CF), 0);
}

"""stress_long.py: generates stress-long.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
A long pseudo-random instruction mix in 64-bit mode: a 64-bit LCG picks,
ITERATIONS times, one of 24 operations (64-, 32-, 16- and 8-bit ALU ops with
flags in and out, shifts and rotates, MUL/IMUL, DIV, BSF/BSR, BSWAP, XADD,
CMOVcc/SETcc, SHLD, ADC/SBB chains, MOVSX/MOVZX, LEA with scaled index)
and two of sixteen registers kept in memory (or an immediate), and folds
the result and the flags the SDM defines for the operation (a per-operation
mask) into a checksum. Every 32768 iterations a line "i=<iter>
sum=<checksum>" is printed; at the end the sixteen registers.
"""

r = Rom("stress-long.asm", DOC)
ITER = 0x30000
r.raw([
    "lea rsi, [rel init_regs]", "mov edi, REGS", "mov ecx, 16", ".init:", "mov rax, [rsi]",
    "mov [rdi], rax", "add rsi, 8", "add rdi, 8", "dec ecx", "jnz .init",
    "mov qword [FLAGS_IN], 2", "mov rax, 0x0123456789abcdef", "mov [SUM], rax",
    "mov rax, 0x9e3779b97f4a7c15", "mov [SEED], rax",
    "xor r15, r15",
    "lea r14, [rel ops]",
    ".loop:",
    # x = x * 6364136223846793005 + 1442695040888963407
    "mov rax, [SEED]", "mov rcx, 6364136223846793005", "imul rax, rcx",
    "mov rcx, 1442695040888963407", "add rax, rcx", "mov [SEED], rax",
    "mov rdx, rax", "shr rdx, 40", "and edx, 0xff", "imul edx, edx, 24", "shr edx, 8",
    "mov rbx, rax", "shr rbx, 33", "and ebx, 15",        # dst
    "mov rdi, rax", "shr rdi, 37", "and edi, 15",        # src
    "mov rsi, [REGS + rdi * 8]",
    "bt rax, 61", "jnc .reg", "mov rsi, rax", "ror rsi, 17", ".reg:",
    "push rbx",
    "mov rax, [REGS + rbx * 8]", "mov rbx, rsi",
    "mov r13, [r14 + rdx * 8]",
    "push qword [FLAGS_IN]", "popfq",
    "call r13",
    "pushfq", "pop rdx", "and rdx, [MASK]",
    "pop rbx", "mov [REGS + rbx * 8], rax",
    "mov [FLAGS_IN], rdx", "or qword [FLAGS_IN], 2",
    "mov rsi, [SUM]", "rol rsi, 7", "xor rsi, rax", "xor rsi, rdx", "add rsi, r15",
    "mov [SUM], rsi",
    "inc r15", "test r15d, 0x7fff", "jnz .noprint",
    "lea rsi, [rel msg_i]", "call puts64", "mov rax, r15", "mov ecx, 8", "call hex64",
    "lea rsi, [rel msg_sum]", "call puts64", "mov rax, [SUM]", "mov ecx, 16", "call hex64",
    "mov al, 10", "out DEBUGCON, al",
    ".noprint:",
    f"cmp r15, {ITER:#x}", "jb .loop",
    "xor ebx, ebx", ".final:",
    "mov al, 'r'", "out DEBUGCON, al", "mov rax, rbx", "mov ecx, 1", "call hex64",
    "mov al, '='", "out DEBUGCON, al", "mov rax, [REGS + rbx * 8]", "mov ecx, 16",
    "call hex64", "mov al, 10", "out DEBUGCON, al",
    "inc ebx", "cmp ebx, 16", "jb .final",
])
OPS = [
    ("0x8d5", ["add rax, rbx"]), ("0x8d5", ["adc rax, rbx"]), ("0x8d5", ["sub rax, rbx"]),
    ("0x8d5", ["sbb eax, ebx"]), ("0x8c5", ["and rax, rbx"]), ("0x8c5", ["or eax, ebx"]),
    ("0x8c5", ["xor rax, rbx"]), ("0x8d5", ["adc al, bl"]), ("0x8d5", ["sbb ax, bx"]),
    ("0x8d5", ["inc rax"]), ("0x8d5", ["neg eax"]),
    ("0", ["push rcx", "mov ecx, ebx", "shl rax, cl", "pop rcx"]),
    ("0", ["push rcx", "mov ecx, ebx", "sar rax, cl", "pop rcx"]),
    ("0", ["push rcx", "mov ecx, ebx", "rol eax, cl", "pop rcx"]),
    ("0x801", ["rcr rax, 1"]), ("0x801", ["imul rax, rbx"]),
    ("0x801", ["push rdx", "mul rbx", "xor rax, rdx", "pop rdx"]),
    ("0", ["push rdx", "xor edx, edx", "or rbx, 1", "div rbx", "add rax, rdx", "pop rdx"]),
    ("0x40", ["bts rbx, 40", "bsr rax, rbx"]), ("0x8d5", ["bswap rax"]),
    ("0x8d5", ["xadd rax, rbx"]), ("0x8d5", ["cmp rax, rbx", "cmovl rax, rbx", "setbe bl",
                                             "movzx ebx, bl", "add rax, rbx"]),
    ("0x8d5", ["movsx rbx, bx", "lea rax, [rax + rbx * 4 + 0x77]"]),
    ("0", ["push rcx", "mov ecx, ebx", "shld rax, rbx, cl", "pop rcx"]),
]
assert len(OPS) == 24
ex = ["REGS     equ 0x2000", "FLAGS_IN equ 0x2080", "SUM      equ 0x2088",
      "SEED     equ 0x2090", "MASK     equ 0x2098", "ops:"]
ex += [f"    dq ROMBASE + op{i}" for i in range(24)]
for i, (m, code) in enumerate(OPS):
    ex.append(f"op{i}:")
    ex.append(f"    mov qword [MASK], {m}")
    ex += ["    " + c for c in code]
    ex.append("    ret")
ex += ["init_regs:", "    dq 0, 1, 0x7fffffffffffffff, 0x8000000000000000, -1, 0x123456789abcdef0",
       "    dq 0xdeadbeefcafebabe, 0x8000, 0x80000000, 0xffffffff, 0x7fffffff, 2, 3, 5, 7, 11",
       "msg_i: db \"i=\", 0", "msg_sum: db \" sum=\", 0",
       "msg_hello: db `stress: LCG-driven 64-bit ALU mix\\n`, 0"]
r.extra = "\n".join(ex) + "\n"
sys.stdout.write(r.emit())

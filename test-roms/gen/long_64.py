"""long_64.py: generates long-64.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
64-bit mode: 64-bit ALU ops over edge values with flags, the 32-bit
zero-extension and 8/16-bit merge rules, REX byte registers (SIL, R8B,
AH without REX), MOVSXD, MOV r64, imm64, sign-extended imm32, 64-bit
shifts (counts masked to 6 bits), MUL/IMUL/DIV/IDIV at 64 bits (#DE),
RIP-relative addressing, CMPXCHG16B (equal, different, #GP(0) when not
16-byte aligned), SWAPGS with GS.base / KERNEL_GS_BASE (and #GP(0) at
CPL 3), non-canonical addresses (#GP(0) for data, #SS(0) for RSP-based
accesses), an interrupt gate with IST1 (the
handler's frame on the IST stack), and compatibility mode (32-bit and
16-bit code segments with L = 0: operand sizes, PUSH width, 0x40 as INC,
far transfers back to 64-bit code; the 16-bit code runs from a RAM copy
below 64 KiB).

Not tested: a branch to a non-canonical target. Intel faults on the branch
(RIP = the branch, SDM Vol. 2 "JMP"), AMD and QEMU on the target, so it is
vendor-dependent.

QEMU is wrong for non-canonical stack accesses; long-64.qemu-fix.patch turns
its log into the SDM-correct one (Bochs's): QEMU raises #GP(0) for every
non-canonical address, so PUSH with a non-canonical RSP ends in #DF (the
#GP cannot be pushed either) and MOV from [RBP] gives #GP. SDM Vol. 2
"PUSH" and "MOV", 64-bit mode exceptions: "#SS(0) If a memory address
referencing the SS segment is in a non-canonical form" (#SS and #DF use
IST1, so both are delivered on a good stack).
"""

r = Rom("long-64.asm", DOC)
t = r.test
ALL, LOGIC = 0x08d5, 0x08c5
PAIRS = [(0, 0), (1, 0xffffffffffffffff), (0x7fffffffffffffff, 1),
         (0x8000000000000000, 0x8000000000000000), (0xffffffff, 1),
         (0x123456789abcdef0, 0x0fedcba987654321)]
for op in ["add", "adc", "sub", "sbb", "and", "or", "xor", "cmp"]:
    for a, b in PAIRS:
        t(f"{op} {a:x},{b:x}", [f"{op} rax, rbx"], regs=("rax",),
          mask=LOGIC if op in ("and", "or", "xor") else ALL, f_in=0x0803,
          setup={"rax": a, "rbx": b})
for op in ["inc", "dec", "neg", "not"]:
    for a in [0, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff]:
        t(f"{op} {a:x}", [f"{op} rax"], regs=("rax",), f_in=0x0803, setup={"rax": a})
M = 0xaaaaaaaaaaaaaaaa
t("32-bit op zero-extends", ["add eax, ebx"], regs=("rax",), setup={"rax": M, "rbx": 1})
t("mov r32 zero-extends", ["mov eax, -1"], regs=("rax",), setup={"rax": M})
t("16-bit op merges", ["add ax, bx"], regs=("rax",), setup={"rax": M, "rbx": 0x5556})
t("8-bit op merges", ["mov al, 0x11", "mov ah, 0x22"], regs=("rax",), setup={"rax": M})
t("sil/dil/r8b", ["mov sil, 0x33", "mov dil, 0x44", "mov r8b, 0x55", "mov r9w, 0x6666"],
  regs=("rsi", "rdi", "r8", "r9"), setup={"rsi": M, "rdi": M, "r8": M, "r9": M})
t("movsxd", ["movsxd rax, ebx"], regs=("rax",), setup={"rbx": 0x1234567880000000})
t("mov imm64", ["mov rax, 0x0123456789abcdef"], regs=("rax",))
t("imm32 sign-extended", ["mov rax, 0", "add rax, -2", "mov rbx, 0", "or rbx, 0x7fffffff"],
  regs=("rax", "rbx"))
for op in ["shl", "shr", "sar", "rol", "ror"]:
    for c in [1, 31, 32, 63, 64]:
        mc = c & 63
        m = 0x08d5 if mc == 0 else ((0x00d5 if op in ("rol", "ror") else 0x00c5) |
                                    (0x800 if mc == 1 else 0))
        if op in ("rol", "ror") and mc:
            m = 0x0001 | (0x800 if mc == 1 else 0) | 0x00d4
        t(f"{op} {c}", [f"{op} rax, cl"], regs=("rax",), mask=m, f_in=0x0803,
          setup={"rax": 0x8000000180000001, "rcx": c})
for a, b in [(0xffffffffffffffff, 0xffffffffffffffff), (0x8000000000000000, 2),
             (0x123456789, 0x987654321)]:
    t(f"mul {a:x},{b:x}", ["mul rbx"], regs=("rax", "rdx"), mask=0x0801,
      setup={"rax": a, "rbx": b})
    t(f"imul {a:x},{b:x}", ["imul rbx"], regs=("rax", "rdx"), mask=0x0801,
      setup={"rax": a, "rbx": b})
    t(f"imul2 {a:x},{b:x}", ["imul rax, rbx"], regs=("rax",), mask=0x0801,
      setup={"rax": a, "rbx": b})
for d, a, b in [(0, 100, 7), (1, 0, 2), (2, 0, 2), (0xffffffffffffffff, 0xfffffffffffffff9, 2),
                (0xffffffffffffffff, 0x8000000000000000, 0xffffffffffffffff), (5, 5, 0)]:
    t(f"div {d:x}:{a:x}/{b:x}", ["div rbx"], regs=("rax", "rdx"), mask=0,
      setup={"rax": a, "rdx": d, "rbx": b})
    t(f"idiv {d:x}:{a:x}/{b:x}", ["idiv rbx"], regs=("rax", "rdx"), mask=0,
      setup={"rax": a, "rdx": d, "rbx": b})
# RIP-relative
t("rip-relative lea/load", ["lea rax, [rel .here]", ".here:", "mov rbx, [rel .data]",
                            "jmp .over", ".data: dq 0x1122334455667788", ".over:"],
  regs=("rax", "rbx"))
t("rip-relative store", ["lea rdi, [0x600]", "mov qword [0x600], 0", "mov rax, 0x99",
                         "mov rbx, [abs 0x600]", "mov [abs 0x600], rax", "mov rcx, [0x600]"],
  regs=("rbx", "rcx"))
# CMPXCHG16B
INIT = ["mov qword [0x610], 0x1111", "mov qword [0x618], 0x2222"]
t("cmpxchg16b equal", INIT + ["mov rax, 0x1111", "mov rdx, 0x2222", "mov rbx, 0x3333",
                              "mov rcx, 0x4444", "cmpxchg16b [0x610]", "mov rsi, [0x610]",
                              "mov rdi, [0x618]"],
  regs=("rax", "rdx", "rsi", "rdi"), mask=0x40)
t("cmpxchg16b differ", INIT + ["mov rax, 0x1111", "mov rdx, 0x9999", "mov rbx, 0x3333",
                               "mov rcx, 0x4444", "cmpxchg16b [0x610]", "mov rsi, [0x610]",
                               "mov rdi, [0x618]"],
  regs=("rax", "rdx", "rsi", "rdi"), mask=0x40)
t("cmpxchg16b misaligned", ["cmpxchg16b [0x618]"], mask=0)
# SWAPGS
r.raw(["mov ecx, 0xc0000101", "mov eax, 0x640", "xor edx, edx", "wrmsr",
       "mov ecx, 0xc0000102", "mov eax, 0x680", "wrmsr",
       "mov qword [0x640], 0x4040", "mov qword [0x680], 0x8080"])
t("swapgs", ["mov rax, [gs:0]", "swapgs", "mov rbx, [gs:0]", "mov ecx, 0xc0000101", "rdmsr",
             "mov rsi, rax", "mov ecx, 0xc0000102", "rdmsr", "mov rdi, rax", "swapgs",
             "mov rcx, [gs:0]", "mov rax, [gs:0]"], regs=("rax", "rbx", "rcx", "rsi", "rdi"),
  mask=0)
t("swapgs cpl3", ["push 0x2b", "push STACK3", "push 0x2", "push 0x33", "lea rax, [rel .u1]",
                  "push rax", "iretq", ".u1:", "swapgs"], mask=0)
# canonical
t("load non-canonical", ["mov rax, 0x0000800000000000", "mov rbx, [rax]"], regs=("rax",),
  mask=0)
t("store non-canonical high", ["mov rax, 0xffff7fffffffffff", "mov [rax], rbx"], mask=0)
t("rsp-based non-canonical", ["mov rbx, rsp", "mov rsp, 0x0000800000000010", "push rax"],
  regs=("rbx",), mask=0)
t("rbp-based non-canonical", ["mov rbp, 0x0000800000000000", "mov rax, [rbp]"], mask=0)
t("canonical high ok", ["mov rax, 0xffff800000000000", "lea rbx, [rax - 1]"],
  regs=("rax", "rbx"), mask=0)
# IST
t("int 0x81 ist1", ["int 0x81"], mask=0)
t("int 0x80 no ist", ["int 0x80"], mask=0)
# compatibility mode
t("compat 32", ["mov rbx, rsp", "push 0x48", "lea rax, [rel .c32]", "push rax", "retfq",
                "bits 32", ".c32:", "mov eax, 0x7fffffff", "db 0x40", "push eax", "mov ecx, esp",
                "pop edx", "mov esi, 0", "mov si, cs", "jmp 0x10:ROMBASE + .back", "bits 64",
                ".back:", "sub rbx, rcx"], regs=("rax", "rbx", "rdx", "rsi"))
t("compat 16", ["lea rsi, [rel .c16]", "mov edi, 0x5000", "mov ecx, .c16end - .c16",
                "rep movsb", "mov rbx, rsp", "push 0x50", "push 0x5000", "retfq",
                "bits 16", ".c16:", "mov eax, 0x12345678", "mov ax, 0x1111", "push ax",
                "mov ecx, esp", "pop dx", "mov si, cs", "jmp dword 0x10:ROMBASE + .back16",
                ".c16end:", "bits 64", ".back16:", "sub rbx, rcx"], regs=("rax", "rbx", "rdx", "rsi"),
  setup={"rdx": 0, "rsi": 0})
t("compat cpl3 int 0x80", ["push 0x2b", "push STACK3", "push 0x2", "push 0x23",
                           "lea rax, [rel .u2]", "push rax", "iretq", "bits 32", ".u2:",
                           "mov eax, 0x77", "int 0x80", "bits 64"], regs=("rax",), mask=0)
r.extra = 'msg_hello: db `64-bit mode\\n`, 0\n'
sys.stdout.write(r.emit())

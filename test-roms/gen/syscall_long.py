"""syscall_long.py: generates syscall-long.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
SYSCALL/SYSRET details beyond exceptions-long (SDM Vol. 2 "SYSCALL",
"SYSRET"): selectors derived from STAR (SYSCALL: CS = STAR[47:32], SS = +8;
SYSRET: CS = STAR[63:48] + 16 (64-bit) or + 0 (32-bit), SS = + 8, RPL 3),
RCX/R11 as saved by SYSCALL, RFLAGS restored by SYSRET from R11 with RF and
VM cleared, SYSRET with 32-bit operand size into compatibility mode (EIP =
ECX), #UD for SYSCALL with EFER.SCE = 0, #GP(0) for SYSRET at CPL 3. SFMASK masks every status flag (QEMU clears
them on SYSCALL whatever SFMASK says), and SYSCALL is only executed in
64-bit mode (in compatibility mode it is #UD on Intel but allowed on AMD;
the same holds for SYSRET in compatibility mode, also not tested).

QEMU does not clear VM and RF when SYSRET loads RFLAGS from R11 (it then
faults on the next instruction); syscall-long.qemu-fix.patch makes the log
the SDM-correct one, Bochs's: SDM Vol. 2 "SYSRET", RFLAGS ← (R11 & 3C7FD7H)
| 2.
"""

r = Rom("syscall-long.asm", DOC)
r.raw(["mov ecx, 0xc0000081", "xor eax, eax", "mov edx, (0x20 << 16) | 0x10", "wrmsr",
       "mov ecx, 0xc0000082", "lea rax, [rel sc_entry]", "mov rdx, rax", "shr rdx, 32",
       "wrmsr",
       "mov ecx, 0xc0000084", "mov eax, 0x47fd7", "xor edx, edx", "wrmsr"])
SHOW = ["mov rax, [0x700]", "mov rbx, [0x708]", "mov rcx, [0x710]", "mov rdx, [0x718]",
        "mov rsi, [0x720]"]
R5 = ("rax", "rbx", "rcx", "rdx", "rsi")
t = r.test
t("sysretq then syscall", ["lea rcx, [rel .u0]", "mov r11, 0x0cd7", "mov rsp, STACK3",
                           "o64 sysret", ".u0:", "pushfq", "pop rbx", "mov [0x740], rbx",
                           "xor ebx, ebx", "mov bx, cs", "mov [0x748], rbx", "mov bx, ss",
                           "mov [0x750], rbx", "syscall", ".after0:"], mask=0)
t("  in ring 3: rflags cs ss", ["mov rax, [0x740]", "mov rbx, [0x748]", "mov rcx, [0x750]"],
  regs=("rax", "rbx", "rcx"), mask=0)
t("  in the handler: rcx r11 cs ss rflags", SHOW, regs=R5, mask=0)
t("sysret clears rf vm", ["lea rcx, [rel .u1]", "mov r11, 0x70cd7", "mov rsp, STACK3",
                          "o64 sysret", ".u1:", "pushfq", "pop rax", "cld", "int 0x80"],
  regs=("rax",), mask=0)
t("sysretd to compat", ["lea rcx, [rel .u2]", "mov r11, 0x0803", "mov rsp, STACK3",
                        "sysret", "bits 32", ".u2:", "pushfd", "pop eax", "xor ebx, ebx",
                        "mov bx, cs", "mov ecx, esp", "int 0x80", "bits 64"],
  regs=("rax", "rbx", "rcx"), mask=0)
t("sysret at cpl3", ["push 0x2b", "push STACK3", "push 0x2", "push 0x33",
                     "lea rax, [rel .u3]", "push rax", "iretq", ".u3:", "o64 sysret"], mask=0)
t("syscall with sce=0", ["mov ecx, 0xc0000080", "rdmsr", "and eax, ~1", "wrmsr", "syscall"],
  mask=0)
r.raw(["mov ecx, 0xc0000080", "rdmsr", "or eax, 1", "wrmsr"])
r.extra = r"""
; SYSCALL entry: record RCX, R11, CS, SS, RFLAGS, back to CPL-0 test code
sc_entry:
    mov [0x700], rcx
    mov [0x708], r11
    xor eax, eax
    mov ax, cs
    mov [0x710], rax
    mov ax, ss
    mov [0x718], rax
    pushfq
    pop rax
    mov [0x720], rax
    mov rsp, STACK0
    jmp [RESUME]
msg_hello: db `SYSCALL and SYSRET\n`, 0
"""
sys.stdout.write(r.emit())

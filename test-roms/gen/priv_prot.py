"""priv_prot.py: generates priv-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Privilege transitions in 32-bit protected mode: IRET to CPL 3 and CPL 2
(the data segment registers a lower privilege may not use are nulled),
interrupts from CPL 3 and 2 (stack switch to TSS.ESP0, the pushed SS:ESP),
SYSENTER/SYSEXIT (SYSENTER_CS/ESP/EIP MSRs, the flat selectors derived
from SYSENTER_CS, #GP(0) for SYSENTER with SYSENTER_CS = 0 and for SYSEXIT
at CPL 3), IOPL and the TSS I/O permission bitmap (an allowed port at CPL 3
really writes to the debug console; denied ports, a word access straddling
an allowed and a denied port, IOPL = 3 overriding the bitmap), POPFD at
CPL 3 (IOPL and IF unchanged), and privileged instructions at CPL 3 (#GP(0)):
HLT, MOV CR/DR, LGDT, LIDT, LLDT, LTR, INVLPG, CLTS, RDMSR, WRMSR, RDTSC
with CR4.TSD = 1, CLI with IOPL = 0.
"""

r = Rom("priv-prot.asm", DOC)


def to_ring3(i, eflags=0x002):
    return ["mov ax, 0x23", "mov ds, ax", "mov es, ax", "push dword 0x23",
            "push dword STACK3", f"push dword {eflags:#x}", "push dword 0x1b",
            f"push dword ROMBASE + .u{i}", "iretd", f".u{i}:"]


A = ("eax",)
t = r.test
t("iret to cpl3", to_ring3(0) + ["mov eax, 0", "mov ax, cs", "mov ebx, 0", "mov bx, ss",
                                 "mov ecx, esp", "mov edx, 0", "mov dx, fs", "int 0x80"],
  regs=("eax", "ebx", "ecx", "edx"), mask=0)
t("iret to cpl2", ["mov ax, 0x10", "mov fs, ax", "mov ax, 0x9a", "mov ds, ax",
                   "push dword 0x9a", "push dword STACK3", "push dword 0x002",
                   "push dword 0x92", "push dword ROMBASE + .c2", "iretd", ".c2:",
                   "mov eax, 0", "mov ax, cs", "mov ebx, 0", "mov bx, ds", "mov edx, 0",
                   "mov dx, fs", "int 0x80"], regs=("eax", "ebx", "edx"), mask=0)
# SYSENTER / SYSEXIT
r.raw(["mov ecx, 0x174", "mov eax, 0x08", "xor edx, edx", "wrmsr",
       "mov ecx, 0x175", "mov eax, 0x8800", "wrmsr"])
t("sysexit/sysenter", [
    "mov ecx, 0x176", "mov eax, ROMBASE + .se", "xor edx, edx", "wrmsr",
    "mov ecx, STACK3 - 0x10", "mov edx, ROMBASE + .user", "sysexit",
    ".user:", "mov eax, 0", "mov ax, cs", "mov ebx, 0", "mov bx, ss", "mov [0x600], eax",
    "mov [0x604], ebx", "mov [0x608], esp", "sysenter",
    ".se:", "mov eax, 0", "mov ax, cs", "mov ebx, 0", "mov bx, ss", "mov ecx, esp",
    "mov edx, [0x600]", "mov esi, [0x604]", "mov edi, [0x608]", "mov esp, STACK0"],
  regs=("eax", "ebx", "ecx", "edx", "esi", "edi"), mask=0)
t("sysexit at cpl3", to_ring3(1) + ["mov ecx, STACK3", "mov edx, 0", "sysexit"], mask=0)
t("sysenter cs=0", ["mov ecx, 0x174", "xor eax, eax", "xor edx, edx", "wrmsr", "sysenter"],
  mask=0)
r.raw(["mov ecx, 0x174", "mov eax, 0x08", "xor edx, edx", "wrmsr"])
# I/O permission bitmap: allow 0xe9 only
r.raw(["and byte [TSS + 0x68 + 0xe9 / 8], ~(1 << (0xe9 & 7))"])
t("cpl3 out e9 allowed", to_ring3(2) + ["mov al, '!'", "out 0xe9, al", "mov al, ' '",
                                        "out 0xe9, al", "int 0x80"], mask=0)
t("cpl3 out ea denied", to_ring3(3) + ["out 0xea, al"], mask=0)
t("cpl3 out word e8 denied", to_ring3(4) + ["mov dx, 0xe8", "out dx, ax"], mask=0)
t("cpl3 in e9 allowed", to_ring3(5) + ["in al, 0xe9", "int 0x80"], mask=0)
t("cpl3 insb 0x80 denied", to_ring3(6) + ["mov edi, 0x700", "mov dx, 0x80", "insb"],
  mask=0)
t("cpl3 iopl3 out 0x80", to_ring3(7, 0x3002) + ["mov al, 0x12", "out 0x80, al", "cli",
                                                "pushfd", "pop eax", "int 0x80"],
  regs=A, mask=0x3202)
t("cpl3 popfd iopl", to_ring3(8) + ["push dword 0x3202", "popfd", "pushfd", "pop eax",
                                    "int 0x80"], regs=A, mask=0x3202)
t("cpl3 cli iopl0", to_ring3(9) + ["cli"], mask=0)
for i, ins in enumerate(["hlt", "mov eax, cr0", "mov cr3, eax", "mov eax, dr7",
                         "lgdt [0x600]", "lidt [0x600]", "lldt ax", "ltr ax",
                         "invlpg [0]", "clts", "rdmsr", "wrmsr", "mov eax, cr4"]):
    t(f"cpl3 {ins}", to_ring3(10 + i) + ["xor eax, eax", ins], mask=0)
r.raw(["mov eax, cr4", "or eax, 4", "mov cr4, eax"])
t("cpl3 rdtsc tsd", to_ring3(30) + ["rdtsc"], mask=0)
r.raw(["mov eax, cr4", "and eax, ~4", "mov cr4, eax"])
r.extra = 'msg_hello: db `privilege transitions\\n`, 0\n'
sys.stdout.write(r.emit())

"""gates_long.py: generates gates-long.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
64-bit call gates (16-byte descriptors, SDM Vol. 3 5.8.3.1 and 5.8.5,
Vol. 2 "CALL", "JMP", "RET"): a far CALL through a DPL-3 gate at the same
privilege (CS and RIP pushed as 8-byte slots), from CPL 3 to CPL 0 (the new
RSP from TSS.RSP0, the old SS:RSP and CS:RIP pushed, no parameters copied),
RETF (64-bit operand size) back to CPL 3 (SS:RSP popped), a JMP through a
gate at the same privilege, and the checks: a DPL-0 gate called from CPL 3
(#GP(gate)), a gate whose upper type field is not 0 (#GP(gate)), a JMP
through a gate to a more privileged segment from CPL 3 (#GP(code
selector)). The far pointers are m16:32 (the REX.W m16:64 form is Intel-only).
"""

r = Rom("gates-long.asm", DOC)


def gate(sel, dpl, upper_type=0):
    return ["lea rax, [rel gate_target]", "mov rbx, rax", "and eax, 0xffff",
            "or eax, 0x10 << 16", f"mov [GDT_RAM + {sel:#x}], eax",
            "mov rax, rbx", "and eax, 0xffff0000", f"or eax, {0x8c00 | (dpl << 13):#x}",
            f"mov [GDT_RAM + {sel:#x} + 4], eax", "shr rbx, 32",
            f"mov [GDT_RAM + {sel:#x} + 8], ebx",
            f"mov dword [GDT_RAM + {sel:#x} + 12], {upper_type << 8:#x}"]


r.raw(gate(0x58, 3) + gate(0x68, 0) + gate(0x78, 3, upper_type=0xc) +
      ["mov word [0x650], 0x87", "mov qword [0x652], GDT_RAM", "lgdt [0x650]",
       # far pointers (m16:32): offset ignored for gates
       "mov dword [0x660], 0", "mov word [0x664], 0x5b",
       "mov dword [0x668], 0", "mov word [0x66c], 0x6b",
       "mov dword [0x670], 0", "mov word [0x674], 0x7b",
       "mov dword [0x678], 0", "mov word [0x67c], 0x58", "mov qword [0x730], 1"])
R = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi")
t = r.test
SHOW = ["mov rax, [0x700]", "mov rbx, [0x708]", "mov rcx, [0x710]", "mov rdx, [0x718]",
        "mov rsi, [0x720]", "mov rdi, [0x728]"]
t("call gate cpl0", ["call far dword [0x678]"] + SHOW, regs=R, mask=0)


def to3(i):
    return ["push 0x2b", "push STACK3", "push 0x2", "push 0x33", f"lea rax, [rel .u{i}]",
            "push rax", "iretq", f".u{i}:"]


t("call gate cpl3->0", to3(0) + ["call far dword [0x660]", "mov r8, rsp", "mov r9, 0",
                                  "mov r9w, ss", "int 0x80"], regs=("r8", "r9"), mask=0)
t("  (frame seen by the target)", SHOW, regs=R, mask=0)
t("dpl0 gate from cpl3", to3(1) + ["call far dword [0x668]"], mask=0)
t("gate upper type != 0", ["call far dword [0x670]"], mask=0)
t("jmp gate cpl0", ["mov qword [0x730], 0", "jmp far dword [0x678]"], mask=0)
t("  (frame seen by the target)", SHOW, regs=R, mask=0)
t("jmp gate cpl3 to cpl0 code", to3(2) + ["jmp far dword [0x660]"], mask=0)
r.extra = r"""
; gate_target: record RSP, the frame and CS, return with RETF (64-bit)
gate_target:
    mov [0x700], rsp
    mov rax, [rsp]
    mov [0x708], rax
    mov rax, [rsp + 8]
    mov [0x710], rax
    mov rax, [rsp + 16]
    mov [0x718], rax
    mov rax, [rsp + 24]
    mov [0x720], rax
    xor eax, eax
    mov ax, cs
    mov [0x728], rax
    cmp qword [0x730], 0        ; reached by JMP: no return address
    jne .ret
    mov qword [0x730], 1
    jmp [RESUME]
.ret:
    o64 retf
msg_hello: db `64-bit call gates\n`, 0
"""
sys.stdout.write(r.emit())

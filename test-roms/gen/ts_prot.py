"""ts_prot.py: generates ts-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
#TS (invalid TSS) and #SS raised by the stack switch of an interrupt from
CPL 3 to CPL 0 (SDM Vol. 3 6.12.1 and "Interrupt 10", Vol. 2 "INT n"
pseudo-code): TSS.SS0 null, beyond the GDT limit, with RPL != 0, naming a
read-only segment, a DPL-3 segment, a code segment: #TS(selector, EXT = 0
for INT n); TSS.SS0 not present: #SS(selector). The #TS and #SS gates lead
to a conforming code segment, so they run at CPL 3 without a stack switch
(which would fail again): that handler prints the frame
("#0a err=... eip=... cs=... f=...", no SS:ESP since the privilege does not
change), repairs TSS.SS0 and returns to CPL 0 with INT 0x80.
The user code runs with IOPL = 3 so the CPL-3 handler can write to the
debug console.
"""

r = Rom("ts-prot.asm", DOC)
r.raw([
    # vectors 10 and 12 through the conforming segment 0x58, DPL 0 gates
    "mov eax, ROMBASE + ts_handler", "mov ecx, eax", "and ecx, 0xffff", "or ecx, 0x58 << 16",
    "and eax, 0xffff0000", "or eax, 0x8e00",
    "mov [IDT + 10 * 8], ecx", "mov [IDT + 10 * 8 + 4], eax",
    "mov [IDT + 12 * 8], ecx", "mov [IDT + 12 * 8 + 4], eax",
])


def user(i, ss0):
    return [f"mov word [TSS + 8], {ss0:#x}",
            "mov ax, 0x23", "mov ds, ax", "mov es, ax", "push dword 0x23",
            "push dword STACK3", "push dword 0x3002", "push dword 0x1b",
            f"push dword ROMBASE + .u{i}", "iretd", f".u{i}:", "mov eax, 0x1234", "int 0x40"]


# INT 0x40: a DPL-3 gate to CPL 0 (the stack switch is what fails)
r.raw(["mov eax, [IDT + 0x80 * 8]", "mov [IDT + 0x40 * 8], eax",
       "mov eax, [IDT + 0x80 * 8 + 4]", "mov [IDT + 0x40 * 8 + 4], eax"])
t = r.test
for i, (name, ss0) in enumerate([("ss0 ok", 0x10), ("ss0 null", 0x00), ("ss0 beyond gdt", 0x1f8),
                                  ("ss0 rpl 3", 0x13), ("ss0 read-only", 0x48),
                                  ("ss0 dpl 3", 0x20), ("ss0 code", 0x80),
                                  ("ss0 not present", 0x38), ("ss0 dpl1 data", 0x60)]):
    t(name, user(i, ss0), regs=("eax",), mask=0)
r.raw(["mov word [TSS + 8], 0x10"])
r.extra = r"""
; #TS / #SS handler at CPL 3 (conforming code, no stack switch).
; Stack: error code, EIP, CS, EFLAGS.
ts_handler:
    mov al, '#'
    out DEBUGCON, al
    mov eax, [esp + 8]          ; CS: tells nothing about the vector, so
    mov eax, 0x0a               ; tell #TS from #SS by the TSS.SS0 value
    cmp word [TSS + 8], 0x38
    jne .v
    mov eax, 0x0c
.v: mov ecx, 2
    call hex32
    mov esi, ROMBASE + msg_err
    call puts32
    mov eax, [esp]
    mov ecx, 4
    call hex32
    mov esi, ROMBASE + msg_eip
    call puts32
    mov eax, [esp + 4]
    mov ecx, 8
    call hex32
    mov esi, ROMBASE + msg_cs
    call puts32
    mov eax, [esp + 8]
    mov ecx, 4
    call hex32
    mov esi, ROMBASE + msg_f
    call puts32
    mov eax, [esp + 12]
    and eax, 0x3fd7
    mov ecx, 4
    call hex32
    mov al, ' '
    out DEBUGCON, al
    mov word [TSS + 8], 0x10
    int 0x80
msg_hello: db `#TS and #SS from the stack switch\n`, 0
"""
sys.stdout.write(r.emit())

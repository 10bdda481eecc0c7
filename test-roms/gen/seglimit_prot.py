"""seglimit_prot.py: generates seglimit-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Segment limit and type checks on ordinary data accesses in 32-bit
protected mode (SDM Vol. 3 5.3 "Limit Checking", 5.4 "Type Checking",
Vol. 2 "MOV" exceptions): a byte-granular 4 KiB data segment (last byte,
last dword, one past), an expand-down segment with B = 1 (offsets above
the limit up to 0xFFFFFFFF are valid), an expand-down segment with G = 1
and limit 0xFFFFF (no valid offset at all), a write to a read-only data
segment, a write through a readable code segment in DS, a data access
through a null DS, and a read through CS from an execute-only segment.

REFERENCE: QEMU's TCG performs none of these checks, so the expected log
is Bochs's: seglimit-prot.qemu-fix.patch turns QEMU's log into it, and
every line it changes is a check QEMU does not make.
"""

r = Rom("seglimit-prot.asm", DOC)
t = r.test
A = ("eax",)


def ds(sel, code, name, regs=A):
    t(name, [f"mov ax, {sel:#x}", "mov ds, ax", "xor eax, eax"] + code, regs=regs, mask=0)


ds(0x30, ["mov al, [0xfff]"], "limit 0xfff: byte at 0xfff")
ds(0x30, ["mov eax, [0xffc]"], "limit 0xfff: dword at 0xffc")
ds(0x30, ["mov eax, [0xffd]"], "limit 0xfff: dword at 0xffd")
ds(0x30, ["mov al, [0x1000]"], "limit 0xfff: byte at 0x1000")
ds(0x30, ["mov ebx, 0xfffffff0", "mov al, [ebx + 0x20]"], "limit 0xfff: wrapped offset 0x10")
t("es limit: stosd at 0xffe", ["mov ax, 0x30", "mov es, ax", "mov edi, 0xffe", "stosd"],
  mask=0)
ds(0x40, ["mov al, [0x1000]"], "expand-down: byte at 0x1000")
ds(0x40, ["mov al, [0xfff]"], "expand-down: byte at 0xfff")
ds(0x40, ["mov ebx, 0xffffffff", "mov al, [ebx]"], "expand-down: byte at 0xffffffff")
ds(0x40, ["mov ebx, 0xfffffffd", "mov eax, [ebx]"], "expand-down: dword at 0xfffffffd")
ds(0xa8, ["mov ebx, 0x80000000", "mov al, [ebx]"], "expand-down g=1: any offset")
ds(0x48, ["mov al, [0x600]", "mov [0x600], al"], "read-only: write")
ds(0x80, ["mov eax, [0x600]", "mov [0x600], eax"], "readable code in ds: write")
t("null ds: read", ["xor eax, eax", "mov ds, ax", "mov eax, [0x600]"], mask=0)
t("null es: movsb", ["xor eax, eax", "mov es, ax", "mov esi, 0x600", "mov edi, 0x700", "movsb"],
  mask=0)
t("execute-only cs: read via cs", ["jmp 0x50:ROMBASE + .x", ".x:", "mov eax, [cs:0x600]"],
  mask=0)
r.raw(["jmp 0x08:ROMBASE + .back", ".back:"])
r.extra = 'msg_hello: db `segment limit and type checks on data accesses\\n`, 0\n'
sys.stdout.write(r.emit())

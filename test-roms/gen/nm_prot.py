"""nm_prot.py: generates nm-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
#NM (device not available) in protected mode, SDM Vol. 3 2.5 (CR0.EM, TS,
MP) and Table 2-2 "Action Taken by x87 FPU Instructions for Different
Combinations of EM, MP, and TS":
- EM = 1: an x87 instruction (FNINIT, FLD1, FNSTSW) raises #NM; WAIT does not;
- TS = 1, MP = 1: x87 instructions and WAIT raise #NM;
- TS = 1, MP = 0: x87 instructions raise #NM, WAIT does not;
- CLTS clears TS (CR0 read back), after which WAIT runs.
No x87 instruction is executed with EM = TS = 0: whether an FPU is present
is CPU-model dependent (xlat advertises none), and with EM or TS set the
#NM does not depend on it.
"""

r = Rom("nm-prot.asm", DOC)
A = ("eax",)
t = r.test


def cr0(set_bits, clear_bits):
    return ["mov eax, cr0", f"and eax, ~{clear_bits:#x}", f"or eax, {set_bits:#x}", "mov cr0, eax"]


r.raw(cr0(0x4, 0xa))          # EM=1, TS=0, MP=0
t("em=1 fninit", ["fninit"], mask=0)
t("em=1 fld1", ["fld1"], mask=0)
t("em=1 fnstsw", ["fnstsw ax"], mask=0)
t("em=1 wait", ["mov eax, 1", "wait", "mov eax, 2"], regs=A, mask=0)
r.raw(cr0(0xa, 0x4))          # EM=0, TS=1, MP=1
t("ts=1 mp=1 wait", ["mov eax, 3", "wait", "mov eax, 4"], regs=A, mask=0)
t("ts=1 mp=1 fninit", ["fninit"], mask=0)
r.raw(cr0(0x8, 0x6))          # TS=1, MP=0
t("ts=1 mp=0 wait", ["mov eax, 5", "wait", "mov eax, 6"], regs=A, mask=0)
t("ts=1 mp=0 fld1", ["fld1"], mask=0)
t("clts", ["clts", "mov eax, cr0", "and eax, 0xe"], regs=A, mask=0)
r.raw(cr0(0x2, 0xc))          # MP=1, TS=0
t("ts=0 mp=1 wait", ["mov eax, 7", "wait", "mov eax, 8"], regs=A, mask=0)
r.raw(cr0(0x0, 0xe))
r.extra = 'msg_hello: db `#NM: CR0.EM, TS, MP\\n`, 0\n'
sys.stdout.write(r.emit())

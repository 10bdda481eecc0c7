"""cr_prot.py: generates cr-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Control and debug register checks in 32-bit protected mode (SDM Vol. 2
"MOV—Move to/from Control Registers", "MOV—Move to/from Debug Registers",
"LMSW", "SMSW", Vol. 3 2.5): #GP(0) for enabling paging with
EFER.LME = 1 and CR4.PAE = 0; LMSW sets but cannot clear PE and changes only
the low four bits; SMSW (16-bit result; the upper half of a 32-bit register
destination is undefined and masked); CR2 is writable; DR4/DR5 alias
DR6/DR7 when CR4.DE = 0 and raise #UD when CR4.DE = 1; the fixed bits of
DR6/DR7 as read back.

Not tested: CR0 with PG = 1 and PE = 0, CR0 with NW = 1 and CD = 0, and
a reserved CR4 bit. The SDM requires #GP(0) for all three; QEMU 7.2 loads
the first (and then triple-faults) and hangs, without raising any
exception, on the other two (also after a valid CD = NW = 1), so there is
no QEMU log to correct.

QEMU also lets CR0.PG be set with EFER.LME = 1 and CR4.PAE = 0 (it then
runs with 32-bit paging); cr-prot.qemu-fix.patch makes that #GP(0), as in
Bochs and the SDM (Vol. 2 "MOV—Move to/from Control Registers", Protected
Mode Exceptions: "#GP(0) ... If an attempt is made to activate IA-32e mode
and PAE is disabled").
"""

r = Rom("cr-prot.asm", DOC)
A = ("eax",)
t = r.test
t("cr4 pse/pge/de read back", ["mov eax, cr4", "mov ebx, eax", "or eax, 0x98", "mov cr4, eax",
                               "mov eax, cr4", "mov cr4, ebx"], regs=A, mask=0)
t("paging with lme, no pae", ["mov eax, PD", "mov cr3, eax", "mov ecx, 0xc0000080", "rdmsr",
                              "or eax, 0x100", "wrmsr", "mov eax, cr0",
                              "or eax, 0x80000000", "mov cr0, eax"], mask=0)
r.raw(["mov ecx, 0xc0000080", "rdmsr", "and eax, ~0x100", "wrmsr"])
t("efer read back", ["mov ecx, 0xc0000080", "rdmsr"], regs=("eax", "edx"), mask=0)
t("lmsw cannot clear pe", ["mov eax, cr0", "mov ebx, eax", "mov ax, 0xfff0", "lmsw ax",
                           "mov eax, cr0", "mov cr0, ebx"], regs=A, mask=0)
t("lmsw sets mp/em/ts", ["mov eax, cr0", "mov ebx, eax", "mov ax, 0x000f", "lmsw ax",
                         "mov eax, cr0", "mov cr0, ebx"], regs=A, mask=0)
t("smsw", ["mov eax, 0xaaaaaaaa", "smsw ax", "smsw [0x600]", "movzx ebx, word [0x600]"],
  regs=("eax", "ebx"), mask=0)
t("smsw r32 low half", ["smsw eax", "and eax, 0xffff"], regs=A, mask=0)
t("cr2 write", ["mov eax, 0x12345678", "mov cr2, eax", "xor eax, eax", "mov eax, cr2"],
  regs=A, mask=0)
t("dr4/dr5 alias, de=0", ["mov eax, 0x55", "mov dr7, eax", "mov eax, dr5", "and eax, 0xff",
                          "xor ebx, ebx", "mov dr7, ebx"], regs=A, mask=0)
t("dr6/dr7 fixed bits", ["xor eax, eax", "mov dr6, eax", "mov dr7, eax", "mov eax, dr6",
                         "mov ebx, dr7"], regs=("eax", "ebx"), mask=0)
r.raw(["mov eax, cr4", "or eax, 8", "mov cr4, eax"])
t("dr4 with de=1", ["mov eax, dr4"], mask=0)
t("mov dr5, de=1", ["xor eax, eax", "mov dr5, eax"], mask=0)
r.raw(["mov eax, cr4", "and eax, ~8", "mov cr4, eax"])
t("mov cr1", ["mov eax, cr1"], mask=0)
r.extra = 'msg_hello: db `control and debug registers\\n`, 0\n'
sys.stdout.write(r.emit())

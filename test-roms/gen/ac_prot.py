"""ac_prot.py: generates ac-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Alignment checking (#AC, vector 17, error code 0): SDM Vol. 3 6.15
"Interrupt 17" and 2.5 (CR0.AM): a misaligned data access at CPL 3 with
CR0.AM = 1 and EFLAGS.AC = 1 faults; aligned accesses, AC = 0, AM = 0 and
CPL 0 do not. Word, dword and stack (PUSH with a misaligned ESP) accesses.

QEMU does not implement #AC at all (its TCG never raises vector 17), so
ac-prot.qemu-fix.patch turns QEMU's log into the SDM-correct one, which is
Bochs's.
"""

r = Rom("ac-prot.asm", DOC)


def r3(i, eflags):
    return ["mov ax, 0x23", "mov ds, ax", "mov es, ax", "push dword 0x23",
            "push dword STACK3", f"push dword {eflags:#x}", "push dword 0x1b",
            f"push dword ROMBASE + .u{i}", "iretd", f".u{i}:"]


t = r.test
AC = 0x40002
t("am=0 ac=1 cpl3 misaligned", r3(0, AC) + ["mov eax, [0x601]", "int 0x80"], mask=0)
r.raw(["mov eax, cr0", "or eax, 0x40000", "mov cr0, eax"])
t("am=1 ac=1 cpl0 misaligned", ["push dword 0x40002", "popfd", "mov eax, [0x601]",
                                 "push dword 2", "popfd"], mask=0)
t("am=1 ac=0 cpl3 misaligned", r3(1, 0x2) + ["mov eax, [0x601]", "int 0x80"], mask=0)
t("am=1 ac=1 cpl3 aligned", r3(2, AC) + ["mov eax, [0x604]", "mov ax, [0x602]",
                                         "mov al, [0x603]", "int 0x80"], mask=0)
t("am=1 ac=1 cpl3 dword", r3(3, AC) + ["mov eax, [0x602]"], mask=0)
t("am=1 ac=1 cpl3 word", r3(4, AC) + ["mov ax, [0x603]"], mask=0)
t("am=1 ac=1 cpl3 store", r3(5, AC) + ["mov [0x605], eax"], mask=0)
t("am=1 ac=1 cpl3 push", r3(6, AC) + ["sub esp, 1", "push eax"], mask=0)
r.raw(["mov eax, cr0", "and eax, ~0x40000", "mov cr0, eax"])
r.extra = 'msg_hello: db `alignment check\\n`, 0\n'
sys.stdout.write(r.emit())

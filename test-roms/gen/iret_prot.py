"""iret_prot.py: generates iret-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
IRET in 32-bit protected mode (SDM Vol. 2 "IRET/IRETD/IRETQ"): same
privilege (EIP, CS, EFLAGS popped; 16-bit IRETW), to an outer ring (SS:ESP
popped, IOPL and IF taken from the image at CPL 0), and its checks with
error codes: null CS (#GP(0)), CS RPL < CPL (#GP(cs)), CS not present
(#NP(cs)), CS a data segment (#GP(cs)), SS with RPL != the new CPL
(#GP(ss)), SS a code segment or DPL-0 data (#GP(ss)); at CPL 3
IRET leaves IOPL and IF unchanged. NT = 0 throughout (a set NT makes IRET
a task return).

Not tested: IRET to an outer ring with a not-present SS. The SDM
contradicts itself: the IRET pseudo-code says #SS(SS selector), as does
Vol. 3 6.15 "Interrupt 11" (a not-present segment detected while loading SS
causes #SS), but IRET's exception list says #NP(selector). QEMU and Bochs
raise #NP, xlat raises #SS.
"""

r = Rom("iret-prot.asm", DOC)
t = r.test


def frame3(cs, ss, eflags=0x002, label=".x"):
    return [f"push dword {ss:#x}", "push dword STACK3", f"push dword {eflags:#x}",
            f"push dword {cs:#x}", f"push dword ROMBASE + {label}", "iretd"]


t("same privilege", ["push dword 0x8d7", "push dword 0x08", "push dword ROMBASE + .s",
                     "iretd", ".s:", "pushfd", "pop eax", "mov ebx, esp"],
  regs=("eax", "ebx"), mask=0)
t("iretw", ["mov ebx, esp", "push word 0x0ac3", "push word 0x70",
            "push word .w", "iretw", "bits 16", ".w:", "pushf", "pop ax",
            "jmp dword 0x08:ROMBASE + .w32", "bits 32", ".w32:", "sub ebx, esp"],
  regs=("eax", "ebx"), mask=0, setup={"eax": 0})
t("to cpl3: iopl from image", ["mov ax, 0x23", "mov ds, ax"] + frame3(0x1b, 0x23, 0x3002, ".a")
  + [".a:", "pushfd", "pop eax", "int 0x80"], regs=("eax",), mask=0)
t("null cs", frame3(0x00, 0x23, 0x2, ".b") + [".b:"], mask=0)
t("cs not present", ["mov dword [GDT_RAM + 0xb8], 0x0000ffff",
                     "mov dword [GDT_RAM + 0xbc], 0x00cf7b00",
                     "mov word [0x650], 0xbf", "mov dword [0x652], GDT_RAM", "lgdt [0x650]"]
  + frame3(0xbb, 0x23, 0x2, ".c") + [".c:"], mask=0)
t("cs is data", frame3(0x23, 0x23, 0x2, ".d") + [".d:"], mask=0)
t("ss rpl != cpl", frame3(0x1b, 0x20, 0x2, ".e") + [".e:"], mask=0)
t("ss is code", frame3(0x1b, 0x1b, 0x2, ".f") + [".f:"], mask=0)
t("ss dpl0 data", frame3(0x1b, 0x13, 0x2, ".g") + [".g:"], mask=0)
t("cpl3 to cpl0 (cs rpl < cpl)", ["mov ax, 0x23", "mov ds, ax"] + frame3(0x1b, 0x23, 0x2, ".i")
  + [".i:", "push dword 0x2", "push dword 0x08", "push dword ROMBASE + .i2", "iretd", ".i2:"],
  mask=0)
t("cpl3 iret keeps iopl and if", ["mov ax, 0x23", "mov ds, ax"]
  + frame3(0x1b, 0x23, 0x2, ".j")
  + [".j:", "push dword 0x3202", "push dword 0x1b", "push dword ROMBASE + .j2", "iretd",
     ".j2:", "pushfd", "pop eax", "int 0x80"], regs=("eax",), mask=0)
t("to cpl1", ["mov dword [GDT_RAM + 0xb8], 0x0000ffff", "mov dword [GDT_RAM + 0xbc], 0x00cfbb00",
              "mov ax, 0x61", "mov es, ax"]
  + ["push dword 0x61", "push dword STACK3", "push dword 0x2", "push dword 0xb9",
     "push dword ROMBASE + .k", "iretd", ".k:", "xor eax, eax", "mov ax, cs", "xor ebx, ebx",
     "mov bx, ss", "xor ecx, ecx", "mov cx, es", "int 0x80"], regs=("eax", "ebx", "ecx"),
  mask=0)
r.extra = 'msg_hello: db `IRET\\n`, 0\n'
sys.stdout.write(r.emit())

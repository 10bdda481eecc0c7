"""stack16_prot.py: generates stack16-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
A 16-bit stack segment (B = 0, base 0x10000, limit 0xFFFF) under 32-bit
code: PUSH/POP/CALL/RET/PUSHAD/POPAD/ENTER/LEAVE use and update only SP,
leaving ESP's upper half alone (SDM Vol. 3 3.4.5 "D/B flag", Vol. 1 6.2.3),
SP wraps from 0 to 0xFFFC, and the bytes land at SS.base + SP. Each test
runs on that stack, copies what it wants to show into registers, and
switches back to the flat stack before printing.
"""

r = Rom("stack16-prot.asm", DOC)
r.raw(["mov dword [GDT_RAM + 0xb8], 0x0000ffff", "mov dword [GDT_RAM + 0xbc], 0x00009301",
       "mov word [0x650], 0xbf", "mov dword [0x652], GDT_RAM", "lgdt [0x650]"])
ON = ["mov ax, 0xb8", "mov ss, ax"]
OFF = ["mov dx, 0x10", "mov ss, dx", "mov esp, STACK0"]
R = ("eax", "ebx", "ecx", "edx")
t = r.test
t("push dword", ON + ["mov esp, 0x12340010", "push dword 0xaabbccdd", "mov ebx, esp",
                      "mov ecx, [0x1000c]"] + OFF, regs=("ebx", "ecx"), mask=0)
t("push at sp=0 wraps", ON + ["mov esp, 0x56780000", "push dword 0x11223344", "mov ebx, esp",
                              "mov ecx, [0x1fffc]", "pop eax", "mov edi, esp"] + OFF,
  regs=("eax", "ebx", "ecx", "edi"), mask=0)
t("push word", ON + ["mov esp, 0x9abc0100", "push word 0x7788", "mov ebx, esp",
                     "movzx ecx, word [0x100fe]"] + OFF, regs=("ebx", "ecx"), mask=0)
t("call/ret", ON + ["mov esp, 0x12340200", "call .f", "jmp .g", ".f:", "mov ebx, esp",
                    "mov ecx, [0x101fc]", "ret", ".g:", "mov eax, esp"] + OFF,
  regs=("eax", "ebx", "ecx"), mask=0)
t("pushad/popad", ON + ["mov esp, 0xffff0300", "mov eax, 1", "mov ebx, 2", "pushad",
                        "mov [0x6e0], esp", "mov ebx, 3", "popad", "mov eax, esp",
                        "mov esi, [0x6e0]", "mov ecx, [0x102f0]", "mov edx, [0x102ec]"] + OFF,
  regs=("eax", "ebx", "ecx", "esi"), mask=0)
t("enter/leave", ON + ["mov esp, 0x11110400", "mov ebp, 0x22220000", "enter 0x10, 0",
                       "mov ebx, esp", "mov ecx, ebp", "mov eax, [0x103fc]", "leave",
                       "mov edx, esp", "mov esi, ebp"] + OFF,
  regs=("eax", "ebx", "ecx", "esi"), mask=0)
t("enter nested", ON + ["mov esp, 0x00000500", "mov ebp, 0x000004f0",
                        "mov dword [0x104ec], 0x5555aaaa", "enter 8, 2", "mov ebx, esp",
                        "mov ecx, ebp", "mov eax, [0x104f0]", "mov edi, [0x104f4]", "leave"] + OFF,
  regs=("eax", "ebx", "ecx", "edi"), mask=0)
t("pop esp", ON + ["mov esp, 0x12340600", "push dword 0x9999aaaa", "pop esp", "mov ebx, esp"]
  + OFF, regs=("ebx",), mask=0)
t("push esp", ON + ["mov esp, 0x12340700", "push esp", "mov ebx, [0x106fc]", "mov ecx, esp"]
  + OFF, regs=("ebx", "ecx"), mask=0)
r.extra = 'msg_hello: db `16-bit stack segment under 32-bit code\\n`, 0\n'
sys.stdout.write(r.emit())

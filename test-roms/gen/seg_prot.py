"""seg_prot.py: generates seg-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Protected-mode segmentation: segment-register loads and their checks with
the SDM's error codes (Vol. 3 5.4-5.8, Vol. 2 "MOV", "POP", "LDS/LES/LFS/
LGS/LSS"): null selectors (allowed in DS..GS, #GP(0) in SS), selectors
beyond the GDT limit, LDT selectors (TI = 1, LLDT), not-present segments
(#NP(sel), #SS(sel) for SS), type checks (execute-only code and system
descriptors in DS, read-only data in SS, #GP(sel)), privilege checks (RPL
and DPL against CPL for data and stack segments, conforming code), LAR/LSL/
VERR/VERW results and ZF (LAR's bits 19:16 are undefined, SDM Vol. 2 "LAR":
masked; QEMU returns 0 there, Bochs and xlat the limit bits), far JMP/CALL to code segments (conforming,
non-conforming, different DPL), call gates (same privilege, and from CPL 3
to CPL 0 through a DPL-3 gate with 2 parameters copied to the new stack;
a DPL-0 gate called from CPL 3 raises #GP(gate)), RETF to an outer ring,
expand-down segments loaded (their limit read back with LSL).

Every test ends with DS = ES = FS = GS = 0x10 reloaded: QEMU does not
raise #GP for a data access through a null DS (Bochs does, as the SDM
says), so no test leaves a null selector in use.

Segment limits and types on ordinary data accesses are NOT tested here:
QEMU's TCG does not check them (only segment-register loads and far
transfers are checked), so QEMU cannot serve as the reference for those.
"""

r = Rom("seg-prot.asm", DOC)
A = ("eax",)


def t(name, code, regs=A, **kw):
    r.test(name, code, regs=regs, **kw)


# loads into data segment registers
for sel, what in [(0x00, "null"), (0x03, "null rpl3"), (0x10, "data"), (0x30, "small"),
                  (0x40, "expand-down"), (0x48, "read-only"), (0x80, "readable code"),
                  (0x60, "dpl1 data"), (0x63, "dpl1 data rpl3"), (0x13, "data rpl3"),
                  (0x50, "execute-only code"), (0x28, "tss"), (0x38, "not present"),
                  (0x78, "ldt desc"), (0xf8, "beyond limit"), (0x68, "call gate"),
                  (0x58, "conforming code")]:
    t(f"mov ds,{sel:#x} {what}", [f"mov ax, {sel:#x}", "mov ds, ax", "mov eax, 0", "mov ax, ds"],
      setup={"eax": 0xffffffff})
for sel, what in [(0x10, "data"), (0x00, "null"), (0x13, "rpl3"), (0x48, "read-only"),
                  (0x20, "dpl3 data"), (0x38, "not present"), (0x40, "expand-down"),
                  (0x80, "code")]:
    t(f"mov ss,{sel:#x} {what}", [f"mov ax, {sel:#x}", "mov ss, ax", "mov eax, 0", "mov ax, ss",
                                  "mov bx, 0x10", "mov ss, bx"], setup={"eax": 0xffffffff})
t("pop es 0x38", ["push dword 0x38", "pop es", "add esp, 4"])
t("lfs 0x30", ["mov dword [0x600], 0x12345678", "mov word [0x604], 0x30", "lfs ebx, [0x600]",
               "mov ax, fs"], regs=("eax", "ebx"), setup={"eax": 0, "ebx": 0})
t("lss not present", ["mov dword [0x600], 0x4000", "mov word [0x604], 0x38",
                      "lss ebx, [0x600]"], regs=("ebx",), setup={"ebx": 0})
t("lgs beyond limit", ["mov dword [0x600], 0x4000", "mov word [0x604], 0x1f8",
                       "lgs ebx, [0x600]"], regs=("ebx",), setup={"ebx": 0})
# LDT
r.raw(["mov dword [LDT], 0x0000ffff", "mov dword [LDT + 4], 0x00cf9300",
       "mov dword [LDT + 8], 0x0000ffff", "mov dword [LDT + 12], 0x00cf1300",
       "mov dword [LDT + 16], 0", "mov dword [LDT + 20], 0"])
t("ldt before lldt", ["mov ax, 0x04", "mov es, ax"])
t("lldt", ["mov ax, 0x78", "lldt ax", "sldt eax"])
t("ldt data", ["mov ax, 0x04", "mov es, ax", "mov eax, 0", "mov ax, es"])
t("ldt not present", ["mov ax, 0x0c", "mov es, ax"])
t("ldt null desc", ["mov ax, 0x14", "mov es, ax"])
t("ldt beyond limit", ["mov ax, 0x1c", "mov es, ax"])
t("lldt data sel", ["mov ax, 0x10", "lldt ax"])
t("lldt 0", ["xor eax, eax", "lldt ax", "mov ax, 0x04", "mov es, ax"])
# LAR/LSL/VERR/VERW
for sel in [0x08, 0x10, 0x28, 0x30, 0x38, 0x40, 0x50, 0x58, 0x68, 0x78, 0xa8, 0xf8, 0x00]:
    t(f"lar/lsl {sel:#x}", [f"mov ebx, {sel:#x}", "lar eax, ebx", "setz cl",
                            "and eax, 0x00f0ff00", "lsl edx, ebx",
                            "setz ch", "verr bx", "setz bl", "verw bx", "setz bh"],
      regs=("eax", "ebx", "ecx", "edx"), mask=0, setup={"eax": 0xaaaaaaaa, "ecx": 0,
                                                     "edx": 0xbbbbbbbb})
# far transfers at CPL 0
t("jmp far conforming", ["jmp 0x58:ROMBASE + .c1", ".c1:", "mov eax, 0", "mov ax, cs",
                         "jmp 0x08:ROMBASE + .c1b", ".c1b:"])
t("jmp far 0x80 code", ["jmp 0x80:ROMBASE + .c2", ".c2:", "mov eax, 0", "mov ax, cs",
                        "jmp 0x08:ROMBASE + .c2b", ".c2b:"])
t("jmp far data", ["jmp 0x10:ROMBASE + .c3", ".c3:"])
t("jmp far not present", ["jmp 0x38:0"])
t("jmp far dpl3 code", ["jmp 0x1b:ROMBASE + .c4", ".c4:"])
t("jmp far rpl3 dpl0", ["jmp 0x0b:ROMBASE + .c5", ".c5:", "mov eax, 0", "mov ax, cs"])
t("jmp far null", ["jmp 0x00:0"])
t("call far", ["call 0x08:ROMBASE + .c6", "jmp .c6b", ".c6:", "mov eax, [esp + 4]",
               "mov ebx, [esp]", "retf", ".c6b:"], regs=("eax", "ebx"))
t("call gate cpl0", ["push dword 0x1111", "push dword 0x2222", "call 0x88:0", "add esp, 8"],
  regs=("eax", "ebx", "ecx", "edx", "esi", "edi"))
# call gate from CPL 3 with parameters; returns to CPL 3, then INT 0x80 back
t("call gate cpl3->0", [
    "mov ax, 0x23", "mov ds, ax", "mov es, ax",
    "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
    "push dword ROMBASE + .r3", "iretd",
    ".r3:",
    "push dword 0xaaaa0001", "push dword 0xbbbb0002", "call 0x6b:0",
    "mov [0x610], esp", "mov [0x614], ebp",
    "mov ebp, 0", "mov bp, cs", "mov [0x618], ebp",
    "mov ebp, 0", "mov bp, ss", "mov [0x61c], ebp",
    "int 0x80"],
  regs=("eax", "ebx", "ecx", "edx", "esi", "edi"))
t("after gate: esp ss cs", ["mov eax, [0x610]", "mov ebx, [0x614]", "mov ecx, [0x618]",
                            "mov edx, [0x61c]"], regs=("eax", "ebx", "ecx", "edx"))
t("dpl0 gate from cpl3", [
    "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
    "push dword ROMBASE + .r4", "iretd", ".r4:", "call 0x88:0"])
t("cpl3 load dpl0 data", [
    "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
    "push dword ROMBASE + .r5", "iretd", ".r5:", "mov ax, 0x10", "mov ds, ax"])
t("cpl3 load ss dpl3", [
    "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
    "push dword ROMBASE + .r6", "iretd", ".r6:", "mov ax, 0x23", "mov ss, ax", "mov ax, 0x20",
    "mov ss, ax"])
t("cpl3 jmp conforming dpl3", [
    "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
    "push dword ROMBASE + .r7", "iretd", ".r7:", "jmp 0xb3:ROMBASE + .r7b", ".r7b:",
    "mov eax, 0", "mov ax, cs", "int 0x80"])
t("cpl3 jmp conforming dpl0", [
    "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
    "push dword ROMBASE + .r8", "iretd", ".r8:", "jmp 0x5b:ROMBASE + .r8b", ".r8b:",
    "mov eax, 0", "mov ax, cs", "int 0x80"])
t("retf to cpl3 nulls ds", [
    "mov ax, 0x10", "mov fs, ax", "push dword 0x23", "push dword STACK3", "push dword 0x1b",
    "push dword ROMBASE + .r9", "retf", ".r9:", "mov eax, 0", "mov ax, fs", "mov ebx, 0",
    "mov bx, ds", "int 0x80"], regs=("eax", "ebx"))
r.extra = 'msg_hello: db `protected-mode segmentation\\n`, 0\n'
sys.stdout.write(r.emit())

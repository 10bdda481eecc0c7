"""string_real.py: generates string-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode string instructions: MOVS STOS LODS CMPS SCAS (byte, word,
dword) without prefix, with REP / REPE / REPNE, DF = 0 and 1, count 0,
counts that stop early on a (mis)match, the 32-bit address-size prefix
(ESI/EDI/ECX), 16-bit addressing with the upper halves of ESI/EDI/ECX set
(only SI/DI/CX change; SI wraps at 64 KiB), a source segment override, and
REP OUTSB to the debug console. Each test re-initialises the buffers:
src (0x1000) = 10 11 12 ... 2f, dst (0x1100) = 10 .. 17 then ee ee ...,
and prints ESI EDI ECX EAX, all six arithmetic flags (string instructions
define them, or leave them unchanged) and 16 bytes of each buffer.
"""

r = Rom("string-real.asm", DOC)
PRE = ["call init_bufs"]
MEM = [(0x1000, 16), (0x1100, 16)]
REGS = ("esi", "edi", "ecx", "eax")


def t(name, code, setup, fi=0x0002):
    r.test(name, code, regs=REGS, mask=0x08d5, f_in=fi, setup=setup, mem=MEM, pre=PRE)


UP = {"esi": 0x1000, "edi": 0x1100, "eax": 0x5a5b5c5d}
for sz in "bwd":
    n = {"b": 1, "w": 2, "d": 4}[sz]
    t(f"movs{sz}", [f"movs{sz}"], dict(UP, ecx=7))
    t(f"rep movs{sz} 3", [f"rep movs{sz}"], dict(UP, ecx=3))
    t(f"rep movs{sz} 0", [f"rep movs{sz}"], dict(UP, ecx=0))
    t(f"std rep movs{sz} 3", [f"rep movs{sz}"], {"esi": 0x100c, "edi": 0x110c, "ecx": 3,
                                               "eax": 0}, fi=0x0402)
    t(f"rep stos{sz} 3", [f"rep stos{sz}"], dict(UP, ecx=3))
    t(f"std stos{sz}", [f"stos{sz}"], dict(UP, edi=0x1108, ecx=0), fi=0x0402)
    t(f"lods{sz}", [f"lods{sz}"], dict(UP, ecx=0))
    t(f"rep lods{sz} 4", [f"rep lods{sz}"], dict(UP, ecx=4))
    t(f"std lods{sz}", [f"lods{sz}"], dict(UP, esi=0x1008), fi=0x0402)
    t(f"cmps{sz}", [f"cmps{sz}"], dict(UP, ecx=0))
    t(f"repe cmps{sz} 16", [f"repe cmps{sz}"], dict(UP, ecx=16 // n))
    t(f"repe cmps{sz} 2", [f"repe cmps{sz}"], dict(UP, ecx=2))
    t(f"repne cmps{sz} 8", [f"repne cmps{sz}"], dict(UP, ecx=8))
    t(f"repe cmps{sz} 0", [f"repe cmps{sz}"], dict(UP, ecx=0), fi=0x08d7)
    t(f"std repe cmps{sz}", [f"repe cmps{sz}"], {"esi": 0x1010, "edi": 0x1110, "ecx": 4,
                                                "eax": 0}, fi=0x0402)
    t(f"scas{sz}", [f"scas{sz}"], dict(UP, eax=0x13121110, ecx=0))
    t(f"repne scas{sz} find", [f"repne scas{sz}"], dict(UP, eax=0x17161514, ecx=20))
    t(f"repne scas{sz} miss", [f"repne scas{sz}"], dict(UP, eax=0x12345678, ecx=5))
    t(f"repe scas{sz}", [f"repe scas{sz}"], dict(UP, eax=0xeeeeeeee, edi=0x1108, ecx=20))
t("a32 rep movsb", ["db 0x67", "rep movsb"], {"esi": 0x1000, "edi": 0x1100, "ecx": 5})
t("a32 rep stosd", ["db 0x67", "rep stosd"], {"edi": 0x1104, "ecx": 2, "eax": 0x01020304})
t("a32 repne scasb", ["db 0x67", "repne scasb"], {"edi": 0x1100, "ecx": 0x100, "eax": 0xee})
t("a16 upper halves", ["rep movsb"], {"esi": 0x12341000, "edi": 0x56781100,
                                      "ecx": 0x9abc0004})
t("a16 si wraps", ["rep lodsb"], {"esi": 0x1fffe, "edi": 0x1100, "ecx": 4})
t("a16 cx=0 upper set", ["rep movsb"], {"esi": 0x1000, "edi": 0x1100, "ecx": 0x10000})
t("fs: movsw", ["mov ax, 0x100", "mov fs, ax", "fs movsw", "xor ax, ax", "mov fs, ax"],
  {"esi": 0x0004, "edi": 0x1100, "ecx": 0})
t("es: lodsd", ["es lodsd"], {"esi": 0x1008, "edi": 0, "ecx": 0})
t("rep outsb", ["mov dword [0x1200], 'OUTS'", "mov word [0x1204], ': '",
                "mov dx, 0xe9", "rep outsb"], {"esi": 0x1200, "ecx": 6, "edi": 0, "eax": 0})
r.extra = r"""
; appended: buffer initialisation (src 10..2f; dst 10..17, then ee)
init_bufs:
    push ax
    push bx
    xor bx, bx
.i: lea ax, [bx + 0x10]
    mov [0x1000 + bx], al
    cmp bx, 8
    jb .same
    mov al, 0xee
.same:
    mov [0x1100 + bx], al
    inc bx
    cmp bx, 0x20
    jb .i
    pop bx
    pop ax
    ret
"""
sys.stdout.write(r.emit())

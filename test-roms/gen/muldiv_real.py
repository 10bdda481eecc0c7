"""muldiv_real.py: generates muldiv-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode MUL, IMUL (one-, two- and three-operand forms) and DIV, IDIV at
8, 16 and 32 bits, including #DE for a zero divisor and for quotients that
do not fit (IDIV's asymmetric range: -128 fits, +128 does not). MUL/IMUL
print OF and CF only (SF ZF AF PF are undefined, SDM Vol. 2 "MUL", "IMUL");
DIV/IDIV print no flags (all undefined). A #DE prints "#DE ip=<faulting IP>"
and the registers are those left by the faulting instruction (unchanged).
"""

r = Rom("muldiv-real.asm", DOC)
PAIRS = [(0, 0), (1, 0xffffffff), (0xff, 0xff), (0x80, 0x80), (0x7f, 2), (0xffff, 0xffff),
         (0x8000, 0xffff), (0x7fffffff, 2), (0x80000000, 0x80000000),
         (0xffffffff, 0xffffffff), (0x12345678, 0x9abcdef0)]
SIZES = [(8, "bl"), (16, "bx"), (32, "ebx")]
for op in ["mul", "imul"]:
    for bits, s in SIZES:
        for a, b in PAIRS:
            r.test(f"{op}{bits} {a:x},{b:x}", [f"{op} {s}"], regs=("eax", "edx", "ebx"),
                   mask=0x0801, setup={"eax": a, "ebx": b, "edx": 0xdeadbeef})
for a, b in PAIRS:
    r.test(f"imul ax,bx {a:x},{b:x}", ["imul ax, bx"], regs=("eax", "edx"), mask=0x0801,
           setup={"eax": a, "ebx": b, "edx": 0xdeadbeef})
    r.test(f"imul eax,ebx {a:x},{b:x}", ["imul eax, ebx"], regs=("eax", "edx"), mask=0x0801,
           setup={"eax": a, "ebx": b, "edx": 0xdeadbeef})
for imm in [-1, 0x7f, -128]:
    for b in [0x7fff, 0x8000, 0x12345678, 0x80000000]:
        r.test(f"imul cx,bx,{imm} {b:x}", [f"imul cx, bx, byte {imm}"], regs=("ecx",),
               mask=0x0801, setup={"ebx": b, "ecx": 0xdeadbeef})
        r.test(f"imul ecx,ebx,{imm} {b:x}", [f"imul ecx, ebx, dword {imm}"], regs=("ecx",),
               mask=0x0801, setup={"ebx": b, "ecx": 0xdeadbeef})
r.test("imul ax,[mem],0x1234", ["mov word [0x1000], 0x4321", "imul ax, [0x1000], 0x1234"],
       regs=("eax",), mask=0x0801, setup={"eax": 0})
r.test("mul dword [mem]", ["mov dword [0x1000], 0xfedcba98", "mul dword [0x1000]"],
       regs=("eax", "edx"), mask=0x0801, setup={"eax": 0x87654321})
TRIPLES = [(100, 0, 7), (0xfe01, 0, 0xff), (0xffff, 0, 0xff), (0x10000, 1, 2),
           (0xffffffff, 0xfffe, 0xffff), (0xffffffff, 0xffffffff, 0xffffffff),
           (0x80000000, 0xffffffff, 0xffffffff), (0xffffff80, 0xffffffff, 0xffffffff),
           (0xff80, 0xffff, 2), (0x7fff, 0, 0x100), (0x12345678, 0x9abc, 0),
           (0x80000000, 0, 0xffffffff), (0xffff8000, 0xffffffff, 0xffff),
           (0x00007fff, 0, 0xfffffffe), (0xfffffff9, 0xffffffff, 2)]
for op in ["div", "idiv"]:
    for bits, s in SIZES:
        for a, d, b in TRIPLES:
            r.test(f"{op}{bits} {d:x}:{a:x}/{b:x}", [f"{op} {s}"], regs=("eax", "edx", "ebx"),
                   mask=0, setup={"eax": a, "edx": d, "ebx": b})
r.test("div word [mem]", ["mov word [0x1000], 0x1234", "div word [0x1000]"],
       regs=("eax", "edx"), mask=0, setup={"eax": 0x5678, "edx": 0x1000})
sys.stdout.write(r.emit())

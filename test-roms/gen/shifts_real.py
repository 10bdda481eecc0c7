"""shifts_real.py: generates shifts-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode shifts and rotates: SHL SHR SAR ROL ROR RCL RCR at 8, 16 and 32
bits by CL = 0, 1, 7, 8, 15, 16, 31, 32 (counts are masked to 5 bits), the
D1 (by 1) and C1 (imm8) encodings, SHLD/SHRD at 16 and 32 bits. FLAGS in:
OF and CF set, the rest clear. The flag mask follows SDM Vol. 2 "SAL/SAR/
SHL/SHR", "RCL/RCR/ROL/ROR", "SHLD", "SHRD":
- masked count 0: no flag changes (all printed);
- shifts: SF ZF PF defined, AF undefined, CF undefined for SHL/SHR when the
  count >= the operand size, OF defined only for count 1;
- rotates: CF defined, OF only for count 1, SF ZF AF PF unchanged;
- SHLD/SHRD: like shifts; 16-bit counts > 16 (undefined result) skipped.
"""

r = Rom("shifts-real.asm", DOC)
SIZES = [(8, "al"), (16, "ax"), (32, "eax")]
VALS = [0x8421c381, 0x40007f40]
COUNTS = [0, 1, 7, 8, 15, 16, 31, 32]
FIN = 0x0803


def mask(op, bits, count):
    mc = count & 31
    if mc == 0:
        return 0x08d5
    if op in ("rol", "ror", "rcl", "rcr"):
        return 0x00d5 | (0x800 if mc == 1 else 0)
    m = 0x00c4 | (0x800 if mc == 1 else 0)
    if not (op in ("shl", "shr") and mc >= bits):
        m |= 1
    return m


for op in ["shl", "shr", "sar", "rol", "ror", "rcl", "rcr"]:
    for bits, d in SIZES:
        for c in COUNTS:
            for a in VALS:
                r.test(f"{op}{bits} {a:x},{c}", [f"{op} {d}, cl"], regs=("eax",),
                       mask=mask(op, bits, c), f_in=FIN, setup={"eax": a, "ecx": c})
    for bits, d in SIZES:
        r.test(f"{op}{bits} {VALS[0]:x},1 (d1)", [f"{op} {d}, 1"], regs=("eax",),
               mask=mask(op, bits, 1), f_in=FIN, setup={"eax": VALS[0]})
        r.test(f"{op}{bits} {VALS[0]:x},7 (c1)", [f"{op} {d}, 7"], regs=("eax",),
               mask=mask(op, bits, 7), f_in=FIN, setup={"eax": VALS[0]})
for op in ["shld", "shrd"]:
    for bits, d, s in [(16, "ax", "bx"), (32, "eax", "ebx")]:
        for c in COUNTS:
            if bits == 16 and (c & 31) > 16:
                continue
            m = 0x08d5 if c & 31 == 0 else (0x00c5 | (0x800 if c & 31 == 1 else 0))
            r.test(f"{op}{bits} {VALS[0]:x},{VALS[1]:x},{c}", [f"{op} {d}, {s}, cl"],
                   regs=("eax", "ebx"), mask=m, f_in=FIN,
                   setup={"eax": VALS[0], "ebx": VALS[1], "ecx": c})
        r.test(f"{op}{bits} imm 4", [f"{op} {d}, {s}, 4"], regs=("eax",), mask=0x00c5,
               f_in=FIN, setup={"eax": VALS[1], "ebx": VALS[0]})
# memory operand
r.test("shl word [mem], cl 3", ["mov dword [0x1000], 0x12348421", "shl word [0x1000], cl"],
       mask=0x00c5, f_in=FIN, setup={"ecx": 3}, mem=[(0x1000, 4)])
r.test("rcr byte [mem], 1", ["mov dword [0x1000], 0x12348421", "rcr byte [0x1000], 1"],
       mask=0x08d5, f_in=FIN, mem=[(0x1000, 4)])
sys.stdout.write(r.emit())

"""alu_real.py: generates alu-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode integer ALU: ADD ADC SUB SBB AND OR XOR CMP TEST (reg,reg at 8,
16 and 32 bits, 32-bit through the operand-size prefix), INC DEC NEG NOT,
immediate and memory forms, over edge values (0, 1, sign boundaries, all
ones), with FLAGS in = all clear and = OF SF ZF AF PF CF set. Prints the
full EAX/EBX (partial-register writes must preserve the rest) and the flags
the SDM defines: all six arithmetic flags for ADD..CMP, NEG, INC/DEC (CF
unchanged) and NOT (no flags); AF is undefined for AND/OR/XOR/TEST
(SDM Vol. 2 "AND", "OR", "XOR", "TEST": "The state of the AF flag is
undefined") and is masked.
"""

r = Rom("alu-real.asm", DOC)
PAIRS = [(0, 0), (0, 1), (1, 0xffffffff), (0x7f, 1), (0x80, 0xff), (0xff, 0xff),
         (0x7fff, 1), (0x8000, 0x8000), (0xffff, 0x10001), (0x7fffffff, 1),
         (0x80000000, 0xffffffff), (0x12345678, 0x9abcdef0)]
SIZES = [(8, "al", "bl"), (16, "ax", "bx"), (32, "eax", "ebx")]
ALL, LOGIC = 0x08d5, 0x08c5
for op in ["add", "adc", "sub", "sbb", "and", "or", "xor", "cmp", "test"]:
    mask = LOGIC if op in ("and", "or", "xor", "test") else ALL
    fins = [0x0002, 0x08d7] if op in ("adc", "sbb") else [0x0002]
    for bits, d, s in SIZES:
        for a, b in PAIRS:
            for fi in fins:
                r.test(f"{op}{bits} {a:x},{b:x} f{fi:x}", [f"{op} {d}, {s}"],
                       regs=("eax", "ebx"), mask=mask, f_in=fi,
                       setup={"eax": a, "ebx": b})
VALS = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff]
for op in ["inc", "dec", "neg", "not"]:
    fins = [0x0002, 0x08d7] if op in ("inc", "dec", "not") else [0x0002]
    for bits, d, _ in SIZES:
        for a in VALS:
            for fi in fins:
                r.test(f"{op}{bits} {a:x} f{fi:x}", [f"{op} {d}"], regs=("eax",),
                       mask=ALL, f_in=fi, setup={"eax": a})
# immediate forms (sign-extended imm8, imm16/32), high-byte registers, memory
IMM = [
    ("add eax, byte -1", 0x1), ("add ax, byte -128", 0x80), ("sub eax, 0x80000000", 0),
    ("adc ax, 0x7fff", 1), ("sbb al, 0x80", 0x7f), ("and eax, byte -16", 0x12345678),
    ("or ah, 0x81", 0x1200), ("xor ah, al", 0x5a5a), ("add ah, al", 0x8080),
    ("cmp eax, byte -1", 0xffffffff), ("test ah, 0x80", 0x8000), ("neg ah", 0x8000),
    ("sub ah, ah", 0xff00),
]
for ins, a in IMM:
    r.test(f"{ins} {a:x}", [ins], regs=("eax",),
           mask=LOGIC if ins.split()[0] in ("and", "or", "xor", "test") else ALL,
           setup={"eax": a})
MEM = [
    ("add dword [0x1000], eax", 0xffffffff), ("adc word [0x1000], ax", 0x0001),
    ("sub byte [0x1001], al", 0x80), ("neg dword [0x1000]", 0),
    ("inc word [0x1002]", 0), ("dec byte [0x1003]", 0), ("not dword [0x1000]", 0),
    ("xor eax, [0x1000]", 0x11111111), ("cmp [0x1000], ax", 0x5678),
]
for ins, a in MEM:
    r.test(f"{ins} {a:x}", ["mov dword [0x1000], 0x80005678", ins], regs=("eax",),
           mask=LOGIC if ins.split()[0] in ("xor",) else ALL, f_in=0x0003,
           setup={"eax": a}, mem=[(0x1000, 4)])
sys.stdout.write(r.emit())

"""bcd_real.py: generates bcd-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode BCD adjustment: DAA DAS AAA AAS AAM AAD (with the default base 10
and base 16 immediates; AAM 0 raises #DE) over AL values around the digit
and byte boundaries, with AF/CF in all four combinations. Flags printed per
SDM Vol. 2: DAA/DAS: SF ZF AF PF CF (OF undefined); AAA/AAS: AF CF (OF SF
ZF PF undefined); AAM/AAD: SF ZF PF (OF AF CF undefined).

AAA with AL > 0xF9 and AAS with AL < 6 when adjusting are avoided: the SDM's
AAA adds 0x106 to AX (carrying into AH) and AAS subtracts 6 from AX then 1
from AH, while QEMU (and the 8086) adjust AL and AH separately; the results
differ between processor generations, so they are not a conformance
question for this suite.
"""

r = Rom("bcd-real.asm", DOC)
FINS = [0x0002, 0x0003, 0x0012, 0x0013]
for op in ["daa", "das"]:
    for al in [0x00, 0x09, 0x0a, 0x0f, 0x10, 0x19, 0x1a, 0x66, 0x7f, 0x80, 0x99, 0x9a,
               0xa0, 0xf9, 0xff]:
        for fi in FINS:
            r.test(f"{op} {al:02x} f{fi:x}", [op], regs=("eax",), mask=0x00d5, f_in=fi,
                   setup={"eax": 0x1200 | al})
AAA_AL = [0x00, 0x05, 0x06, 0x09, 0x0a, 0x0f, 0x19, 0x1a, 0x79, 0x7a, 0xf9]
for al in AAA_AL:
    for fi in FINS:
        r.test(f"aaa {al:02x} f{fi:x}", ["aaa"], regs=("eax",), mask=0x0011, f_in=fi,
               setup={"eax": 0x12ff00 | al})
for al in [0x06, 0x09, 0x0a, 0x0f, 0x16, 0x1a, 0x80, 0xff]:
    for fi in FINS:
        r.test(f"aas {al:02x} f{fi:x}", ["aas"], regs=("eax",), mask=0x0011, f_in=fi,
               setup={"eax": 0x120100 | al})
for al in [0x00, 0x09, 0x0a, 0x63, 0x80, 0xff]:
    for base in [10, 16, 0]:
        r.test(f"aam {base} {al:02x}", [f"aam {base}"], regs=("eax",), mask=0x00c4,
               setup={"eax": 0x5500 | al})
for ax in [0x0000, 0x0909, 0x0105, 0x0fff, 0xffff, 0x0c80]:
    for base in [10, 16, 0]:
        r.test(f"aad {base} {ax:04x}", [f"aad {base}"], regs=("eax",), mask=0x00c4,
               setup={"eax": 0x77000000 | ax})
sys.stdout.write(r.emit())

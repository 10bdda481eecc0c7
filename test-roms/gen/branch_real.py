"""branch_real.py: generates branch-real.asm (see realgen.py)."""
import re
import sys
from realgen import Rom

DOC = """
Real-mode control transfers: all 16 Jcc conditions (short and near forms)
over FLAGS patterns covering each of CF, ZF, SF, OF, PF alone and
combinations where SF != OF, recorded one bit per condition in EBX; SETcc
and CMOVcc agree with them; LOOP/LOOPE/LOOPNE/JCXZ with CX and, with the
address-size prefix, ECX; near CALL/RET (with imm16), indirect JMP/CALL
through a register and memory, far CALL/RETF and far JMP through memory,
and a far JMP to another segment:offset alias of the same code.
"""

r = Rom("branch-real.asm", DOC)
CC = ["o", "no", "b", "ae", "z", "nz", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]
FLAGS = [0x0002, 0x0003, 0x0006, 0x0042, 0x0082, 0x0802, 0x0882, 0x0846, 0x08c7, 0x00c7]
for k, fi in enumerate(FLAGS):
    code = []
    for i, cc in enumerate(CC):
        form = "short" if i % 2 else "near"
        code += [f"push word {fi:#x}", "popf", f"j{cc} {form} .t{k}_{i}",
                 f"jmp short .n{k}_{i}", f".t{k}_{i}:", f"or ebx, {1 << i:#x}", f".n{k}_{i}:"]
    code += ["xor ecx, ecx"]
    for i, cc in enumerate(CC):
        code += [f"push word {fi:#x}", "popf", f"set{cc} al", "movzx eax, al", f"shl eax, {i}",
                 "or ecx, eax"]
    code += ["xor edx, edx", "mov esi, 1"]
    for i, cc in enumerate(CC):
        code += [f"push word {fi:#x}", "popf", "mov edi, 0", f"cmov{cc} edi, esi",
                 f"shl edi, {i}", "or edx, edi"]
    r.test(f"jcc/setcc/cmovcc f{fi:x}", code, regs=("ebx", "ecx", "edx"), mask=0,
           f_in=fi, setup={"ebx": 0})
# loops
for name, code, setup in [
    ("loop cx=3", ["xor eax, eax", ".l:", "inc eax", "loop .l"], {"ecx": 0x10003}),
    ("loop cx=0 (65536 rounds)", ["xor eax, eax", ".l:", "inc eax", "loop .l"], {"ecx": 0x50000}),
    ("a32 loop ecx=0x10002", ["xor eax, eax", ".l:", "inc eax", "a32 loop .l"], {"ecx": 0x10002}),
    ("loope stops on nz", ["xor eax, eax", ".l:", "inc eax", "cmp eax, 2", "loope .l"],
     {"ecx": 10}),
    ("loopne stops on z", ["xor eax, eax", ".l:", "inc eax", "cmp eax, 4", "loopne .l"],
     {"ecx": 10}),
    ("jcxz taken", ["mov eax, 1", "jcxz .z", "mov eax, 2", ".z:"], {"ecx": 0x10000}),
    ("jecxz not taken", ["mov eax, 1", "jecxz .z", "mov eax, 2", ".z:"], {"ecx": 0x10000}),
]:
    u = len(r.body)
    code = [re.sub(r"\.([lz])\b", lambda m: f".{m.group(1)}{u}", c) for c in code]
    r.test(name, code, regs=("eax", "ecx"), mask=0, setup=setup)
r.test("call/ret imm16", ["mov bx, sp", "push word 1", "push word 2", "call .f", "jmp .d",
                          ".f:", "mov ax, [bp]", "ret 4", ".d:", "sub bx, sp"],
       regs=("ebx",), mask=0)
r.test("jmp/call reg and mem", ["mov ax, .j", "jmp ax", "mov ebx, 1", ".j:",
                                "mov word [0x600], .f1", "call [0x600]", "jmp .d1", ".f1:",
                                "mov ecx, 7", "ret", ".d1:"], regs=("ebx", "ecx"), mask=0,
       setup={"ebx": 0, "ecx": 0})
r.test("far call/retf via mem", ["mov word [0x600], .f2", "mov word [0x602], 0xf000",
                                 "call far [0x600]", "jmp .d2", ".f2:", "mov ax, cs",
                                 "mov bx, sp", "mov cx, [ss:bx + 2]", "retf", ".d2:"],
       regs=("eax", "ecx"), mask=0, setup={"eax": 0, "ecx": 0})
r.test("far jmp via mem to 0xef00 alias", ["mov word [0x600], .f3 + 0x1000",
                                           "mov word [0x602], 0xef00", "jmp far [0x600]",
                                           ".f3:", "mov ax, cs", "jmp 0xf000:.back",
                                           ".back:"], regs=("eax",), mask=0,
       setup={"eax": 0})
sys.stdout.write(r.emit())

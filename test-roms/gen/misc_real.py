"""misc_real.py: generates misc-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode 16/32-bit operand and address-size overrides and the rest of the
integer ISA: 16-bit and 32-bit addressing forms (base+index+disp, SIB with
scale, 16-bit offset wrap), LEA, MOVZX/MOVSX, CBW/CWDE/CWD/CDQ, BT/BTS/BTR/
BTC (register and memory, bit offsets beyond the operand and negative),
BSF/BSR, SETcc, CMOVcc, XCHG, CMPXCHG, XADD, BSWAP, LAHF/SAHF, CLC/STC/CMC,
PUSH/POP with 16- and 32-bit operands, ENTER/LEAVE, PUSHA/POPA.

Flags per SDM Vol. 2: BTx: CF (ZF unchanged; OF SF AF PF undefined);
BSF/BSR: ZF only, and the destination is not printed for a zero source
(undefined); CMPXCHG/XADD: all six; MOVZX.. BSWAP, SETcc, CMOVcc: none
changed (all printed).
"""

r = Rom("misc-real.asm", DOC)
MEMINIT = ["mov dword [0x1000], 0x33221100", "mov dword [0x1004], 0x77665544",
           "mov dword [0x1008], 0xbbaa9988", "mov dword [0x100c], 0xffeeddcc"]


def t(name, code, regs, setup=None, mask=0x08d5, fi=0x0002, mem=()):
    r.test(name, code, regs=regs, mask=mask, f_in=fi, setup=setup or {}, mem=mem, pre=MEMINIT)


# addressing forms
t("a16 [bx+si+disp8]", ["mov eax, [bx+si+4]"], ("eax",), {"ebx": 0x1000, "esi": 2})
t("a16 [bp+di] (ss)", ["mov ax, [bp+di]"], ("eax",), {"ebp": 0xf80, "edi": 0x81})
t("a16 wrap [bx+disp16]", ["mov al, [bx+0x1008]"], ("eax",), {"ebx": 0xfffe, "eax": 0})
t("a32 [eax+ecx*4+8]", ["mov edx, [eax+ecx*4+8]"], ("edx",), {"eax": 0xff8, "ecx": 2})
t("a32 [esi*8]", ["mov edx, [esi*8+0x1000]"], ("edx",), {"esi": 1})
t("a32 [ebp+edi*2] ss", ["mov dx, [ebp+edi*2-2]"], ("edx",), {"ebp": 0x1000, "edi": 3})
t("lea a16", ["lea ax, [bx+si-1]"], ("eax",), {"ebx": 0, "esi": 0, "eax": 0x12345678})
t("lea a32", ["lea eax, [ebx+ecx*8+0x100]"], ("eax",), {"ebx": 0x80000000, "ecx": 0x10000000})
t("lea o16 a32", ["lea ax, [ebx+ecx*2]"], ("eax",), {"ebx": 0x1234ffff, "ecx": 1, "eax": 0xaaaaaaaa})
t("lea o32 a16", ["lea eax, [bx+di+0x10]"], ("eax",), {"ebx": 0xfff8, "edi": 0x10000,
                                                      "eax": 0xaaaaaaaa})
# sign/zero extension
for ins in ["movzx eax, bl", "movzx eax, bh", "movzx eax, bx", "movsx eax, bl", "movsx eax, bx",
            "movsx ax, bl", "movzx ax, bl", "movsx eax, byte [0x100f]", "movzx eax, word [0x100e]"]:
    t(ins, [ins], ("eax",), {"eax": 0xaaaaaaaa, "ebx": 0x12f4a380})
for ins, a in [("cbw", 0x12345680), ("cwde", 0x12348000), ("cwd", 0x1234), ("cwd", 0x8000),
               ("cdq", 0x80000000), ("cdq", 0x7fffffff), ("cbw", 0x7f)]:
    t(f"{ins} {a:x}", [ins], ("eax", "edx"), {"eax": a, "edx": 0xaaaaaaaa})
# bit tests
for op in ["bt", "bts", "btr", "btc"]:
    for bits, rr in [(16, "bx"), (32, "ebx")]:
        for bit in [0, 7, 15, 31, 33]:
            t(f"{op}{bits} reg {bit}", [f"{op} {'ax' if bits == 16 else 'eax'}, {rr}"],
              ("eax",), {"eax": 0x80008001, "ebx": bit}, mask=0x41, fi=0x0042)
    for off in [3, 35, 100, -1, -33]:
        t(f"{op} mem,{off}", [f"{op} dword [0x1008], ebx"], ("ebx",), {"ebx": off & 0xffffffff},
          mask=0x41, fi=0x0002, mem=[(0x1000, 16)])
    t(f"{op} mem16,imm 17", [f"{op} word [0x1004], 17"], (), mask=0x41, fi=0x0003,
      mem=[(0x1004, 4)])
for op in ["bsf", "bsr"]:
    for v in [1, 0x80000000, 0x00f00f00, 0x8000]:
        t(f"{op} {v:x}", [f"{op} eax, ebx"], ("eax",), {"ebx": v, "eax": 0xaaaaaaaa}, mask=0x40)
        t(f"{op}16 {v:x}", [f"{op} ax, bx"], ("eax",) if v & 0xffff else (),
          {"ebx": v, "eax": 0xaaaaaaaa}, mask=0x40)
    t(f"{op} 0", [f"{op} eax, ebx"], (), {"ebx": 0}, mask=0x40)
# setcc / cmovcc over flag patterns
for fi in [0x0002, 0x08c3, 0x0883, 0x0046]:
    code = []
    for i, cc in enumerate(["o", "b", "z", "be", "s", "p", "l", "le"]):
        code.append(f"set{cc} {['al', 'ah', 'bl', 'bh', 'cl', 'ch', 'dl', 'dh'][i]}")
    t(f"setcc f{fi:x}", code, ("eax", "ebx", "ecx", "edx"), fi=fi)
    t(f"cmovcc f{fi:x}", ["cmovnz eax, ebx", "cmovg cx, bx", "cmovae edx, [0x1004]"],
      ("eax", "ecx", "edx"), {"eax": 1, "ebx": 0x22222222, "ecx": 0x33333333, "edx": 4}, fi=fi)
# exchange family
t("xchg ax,bx", ["xchg ax, bx"], ("eax", "ebx"), {"eax": 0x11112222, "ebx": 0x33334444})
t("xchg mem", ["xchg [0x1004], ecx"], ("ecx",), {"ecx": 0x12345678}, mem=[(0x1004, 4)])
t("xchg ah,al", ["xchg ah, al"], ("eax",), {"eax": 0x11112233})
t("cmpxchg equal", ["cmpxchg ebx, ecx"], ("eax", "ebx", "ecx"),
  {"eax": 5, "ebx": 5, "ecx": 9})
t("cmpxchg differ", ["cmpxchg ebx, ecx"], ("eax", "ebx", "ecx"),
  {"eax": 5, "ebx": 0x80000000, "ecx": 9})
t("cmpxchg8 mem", ["cmpxchg [0x1001], cl"], ("eax",), {"eax": 0x11, "ecx": 0x99},
  mem=[(0x1000, 4)])
t("cmpxchg16 mem differ", ["cmpxchg [0x1000], cx"], ("eax",), {"eax": 0x1234, "ecx": 0x99},
  mem=[(0x1000, 4)])
t("xadd", ["xadd eax, ebx"], ("eax", "ebx"), {"eax": 0x7fffffff, "ebx": 1})
t("xadd8 mem", ["lock xadd [0x1003], al"], ("eax",), {"eax": 0xcd}, mem=[(0x1000, 4)])
t("bswap", ["bswap eax"], ("eax",), {"eax": 0x12345678})
t("lahf", ["lahf"], ("eax",), {"eax": 0}, fi=0x08d7)
t("sahf", ["sahf"], ("eax",), {"eax": 0xd500}, fi=0x0800)
t("clc stc cmc", ["stc", "cmc", "cmc"], (), fi=0x0002)
# stack: 16/32-bit push/pop in real mode (SP changes, memory)
t("push o32 pop o16", ["mov [0x1010], sp", "push dword 0x11223344", "pop ax", "pop bx",
                       "mov dx, sp", "sub dx, [0x1010]"], ("eax", "ebx", "edx"), {})
t("push imm8 o16", ["push byte -2", "push byte 3", "pop ecx", "push word -4", "pop cx"], ("ecx",), {})
t("pusha popa", ["pusha", "mov bx, sp", "mov ax, [ss:bx+6]", "mov dx, [ss:bx+8]", "popa"],
  ("eax", "ebx", "edx"), {"eax": 1, "ebx": 2, "ecx": 3, "edx": 4})
t("enter leave", ["mov cx, sp", "mov bp, 0x1234", "enter 8, 0", "mov ax, sp", "mov dx, bp",
                  "leave", "sub cx, sp", "mov bx, bp"], ("eax", "ebx", "ecx", "edx"), {})
t("enter nested", ["mov ax, sp", "mov bp, sp", "enter 4, 2", "sub ax, sp", "mov dx, bp",
                   "mov bx, [bp-4]", "leave"], ("eax", "ebx", "edx"), {})
sys.stdout.write(r.emit())

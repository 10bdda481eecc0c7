"""pagecross_prot.py: generates pagecross-prot.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
Page-crossing data accesses with 32-bit paging, and MOV CR3 reloading the
same value. Each access test runs one instruction 4 times on an address
inside a page (so a translator's per-instruction TLB entry holds that
page: "warm"), then once on an address whose first bytes lie on the page
before it ("before") or whose last bytes lie on the page after it
("after"), and prints the result, the memory around both pages' physical
frames (and the frame before the warm page's, where a translator using the
warm page's host mapping for the whole access would go), or the
exception (vector, error code, EIP, CR2; nothing may be written).

Linear pages (PT2 at 0x12000, PDE 1):
  0x3ff000  not present                    0x400000 -> phys 0 (RAM page 0)
  0x401000 -> 0xffff0000 (the BIOS image's first page; writable PTE, writes
              are dropped)                 0x402000 -> phys 0x6000
  0x403000  not present                    0x404000 -> 0x32000 supervisor
  0x405000 -> 0x30000 user                 0x406000 -> 0x36000 user read-only
  0x407000 -> 0x34000 user                 0x408000 -> 0x3a000 supervisor
  0x409000 -> 0x3e000, 0x40a000 -> 0x3c000 (two frames that are not
              neighbours, and not in that order)
  0x40b000 -> 0x42000 or 0x44000 (code, MOV CR3 tests)
  0x40c000 -> 0x46000 or 0x48000 (data, MOV CR3 test)
The image starts with the bytes 11 22 33 44 and has 55 66 77 88 at offset
0xffc; RAM page 0 ends with bb cc dd ee.

Cases: loads and stores that start on a not-present page (#PF, CR2 = the
first byte, nothing written), RAM then ROM, ROM then RAM; a store half
into ROM (dropped) and half into RAM that holds translated code (the code
run afterwards must see the new byte and nothing else); at CPL 3 a load
starting on a supervisor page and a store starting on a read-only page
(#PF with U, and W); the same in the "after" direction; PUSH, POP, CALL,
RET, ADD/INC/CMP on memory, MOVZX, CMOVcc and IMUL r, m, imm across the
0x409000/0x40a000 boundary in both directions. MOV CR3 with the value it
already holds, executed on page 0x40b000 right after that page's PTE was
changed by the same code: the next instruction comes from the new frame
(SDM Vol. 3 4.10.4.1: MOV to CR3 invalidates all non-global TLB entries),
also when the old code's block jumps to another block on the same page,
and when the PTE was cleared (#PF at the instruction after MOV CR3, CR2 =
its address); a data load after MOV CR3 uses the new PTE.
"""

PT2 = 0x12000
r = Rom("pagecross-prot.asm", DOC)
r.head = ["    db 0x11, 0x22, 0x33, 0x44",
          "    times 0xffc - ($ - $$) db 0",
          "    db 0x55, 0x66, 0x77, 0x88"]
PAGES = {0x400000: 0x00000 | 3, 0x401000: 0xffff0000 | 3, 0x402000: 0x6000 | 3,
         0x404000: 0x32000 | 3, 0x405000: 0x30000 | 7, 0x406000: 0x36000 | 5,
         0x407000: 0x34000 | 7, 0x408000: 0x3a000 | 3, 0x409000: 0x3e000 | 3,
         0x40a000: 0x3c000 | 3, 0x40b000: 0x42000 | 3, 0x40c000: 0x46000 | 3}
setup = [f"mov edi, {PT2:#x}", "mov ecx, 1024", "xor eax, eax", "rep stosd"]
for lin, pte in PAGES.items():
    setup.append(f"mov dword [{PT2 + ((lin - 0x400000) >> 12) * 4:#x}], {pte:#x}")
setup += [f"mov dword [PD + 4], {PT2:#x} | 7",
          "mov dword [PT + 0x3ff * 4], 0",                 # 0x3ff000 not present
          "mov dword [0xffc], 0xeeddccbb",
          "mov eax, PD", "mov cr3, eax",
          "mov eax, cr0", "or eax, 0x80000000", "mov cr0, eax"]
r.raw(setup)

K = [0]


def loop(ins, warm, cross, reg="esi", n=4):
    """`ins` n times with reg = warm, then once with reg = cross. The
    flags before `ins` are those of `cmp ecx, 1` (CF = 0); LOOP keeps the
    flags `ins` left."""
    K[0] += 1
    k = K[0]
    return [f"mov ecx, {n + 1}", f".l{k}:", f"mov {reg}, {warm:#x}", "cmp ecx, 1",
            f"jne .g{k}", f"mov {reg}, {cross:#x}", f".g{k}:"] + ins + [f"loop .l{k}"]


def to_user():
    K[0] += 1
    k = K[0]
    return ["mov ax, 0x23", "mov ds, ax", "mov es, ax", "push dword 0x23",
            "push dword STACK3", "push dword 0x002", "push dword 0x1b",
            f"push dword ROMBASE + .u{k}", "iretd", f".u{k}:"]


def dwords(*addrs):
    """post: load the dwords at these (identity-mapped) addresses into
    ebx, edx, esi, edi (in that order)."""
    return [f"mov {reg}, [{a:#x}]" for reg, a in zip(("ebx", "edx", "esi", "edi"), addrs)]


REGS4 = ("eax", "ebx", "edx", "esi", "edi")
t = r.test

# --- RAM page 0 / not-present page before it ---
t("load before: np page, warm on ram", ["mov eax, 0x12345678"] +
  loop(["mov eax, [esi]"], 0x400100, 0x3ffffe), regs=("eax",), mask=0)
t("store before: np page, warm on ram",
  ["mov dword [0], 0x04030201", "mov eax, 0x8c8b8a89"] +
  loop(["mov [esi], eax"], 0x400100, 0x3ffffe), regs=("ebx", "edx"), mask=0,
  post=dwords(0x0, 0x100))
# --- RAM page 0 then the BIOS image's first page ---
for k in (1, 2, 3):
    t(f"load before: ram then rom, -{k}, warm on rom",
      loop(["mov eax, [esi]"], 0x401100, 0x401000 - k), regs=("eax",), mask=0)
t("load after: ram then rom, warm on ram",
  loop(["mov eax, [esi]"], 0x400100, 0x400ffe), regs=("eax",), mask=0)
# --- the BIOS image's first page then phys 0x6000 ---
r.raw(["mov dword [0x5ffc], 0x5d5c5b5a", "mov dword [0x6000], 0x6d6c6b6a",
       "mov dword [0x6ffc], 0x7d7c7b7a"])
t("load before: rom then ram, warm on ram",
  loop(["mov eax, [esi]"], 0x402100, 0x401ffe), regs=("eax",), mask=0)
# A routine at 0x5ff8 whose ADD EAX, imm32 crosses into the page at 0x6000:
#   5ff8: b8 00 00 00 00   mov eax, 0
#   5ffd: 05 01 02 03 04   add eax, 0x04030201 (imm32 at 0x5ffe..0x6001)
#   6002: c3               ret
# run twice (translated), then the store writes 05 11 22 | 33 at
# 0x401ffd: the ROM drops 05 11 22, 0x6000 (the imm's third byte) gets 33.
t("store before: rom then ram code, warm on ram",
  ["mov dword [0x5ff8], 0x000000b8", "mov dword [0x5ffc], 0x02010500",
   "mov dword [0x6000], 0x90c30403", "mov eax, 0x5ff8", "call eax", "mov eax, 0x5ff8",
   "call eax", "mov edi, eax", "mov ebx, 0x33221105"] +
  loop(["mov [esi], ebx"], 0x402100, 0x401ffd) +
  ["mov eax, 0x5ff8", "call eax"],
  regs=("eax", "ebx", "edx", "esi", "edi"), mask=0,
  post=["mov ebx, [ROMBASE + 0xffc]", "mov edx, [0x5ffc]", "mov esi, [0x6000]"])
t("store after: ram then np page, warm on ram",
  ["mov eax, 0x8c8b8a89"] + loop(["mov [esi], eax"], 0x402100, 0x402ffe),
  regs=("ebx", "edx"), mask=0, post=dwords(0x6ffc, 0x7000))
# --- CPL 3: U/S and R/W checks of the page the access starts on ---
r.raw(["mov dword [0x32ffc], 0x32323232", "mov dword [0x30000], 0x30303030",
       "mov dword [0x2fffc], 0x2f2f2f2f", "mov dword [0x30ffc], 0x31313131",
       "mov dword [0x36ffc], 0x36363636", "mov dword [0x34000], 0x34343434",
       "mov dword [0x33ffc], 0x33333333", "mov dword [0x34ffc], 0x35353535",
       "mov dword [0x3a000], 0x3a3a3a3a"])
t("cpl3 load before: supervisor then user, warm on user",
  to_user() + loop(["mov eax, [esi]"], 0x405100, 0x404ffe) + ["int 0x80"],
  regs=("eax",), mask=0)
t("cpl3 store before: read-only then writable, warm on writable",
  to_user() + ["mov eax, 0xa1a2a3a4"] + loop(["mov [esi], eax"], 0x407100, 0x406ffe) +
  ["int 0x80"], regs=("ebx", "edx", "esi"), mask=0, post=dwords(0x36ffc, 0x34000, 0x33ffc))
t("cpl3 load after: user then supervisor, warm on user",
  to_user() + loop(["mov eax, [esi]"], 0x407100, 0x407ffe) + ["int 0x80"],
  regs=("eax",), mask=0)
t("cpl3 store after: writable then read-only, warm on writable",
  to_user() + ["mov eax, 0xa1a2a3a4"] + loop(["mov [esi], eax"], 0x405100, 0x405ffe) +
  ["int 0x80"], regs=("ebx", "edx"), mask=0, post=dwords(0x30ffc, 0x36000))

# --- other instructions across 0x409fff|0x40a000 (frames 0x3e000, 0x3c000) ---
MEM = ["mov dword [0x3eff8], 0xa4a3a2a1", "mov dword [0x3effc], 0xa8a7a6a5",
       "mov dword [0x3c000], 0xb4b3b2b1", "mov dword [0x3c004], 0xb8b7b6b5",
       "mov dword [0x3bff8], 0xc4c3c2c1", "mov dword [0x3bffc], 0xc8c7c6c5",
       "mov dword [0x3f000], 0xd4d3d2d1", "mov dword [0x3f004], 0xd8d7d6d5"]
SHOW = dwords(0x3effc, 0x3c000, 0x3bffc, 0x3f000)
CASES = [
    # name, instruction(s), crossing offset from 0x40a000, flags mask
    ("add [m], r", ["add [esi], ebx"], -2, 0x8d5),
    ("inc [m]", ["inc dword [esi]"], -3, 0x8d4),
    ("cmp [m], r", ["cmp [esi], ebx"], -2, 0x8d5),
    ("movzx r, word [m]", ["movzx eax, word [esi]"], -1, 0),
    ("cmovae r, [m]", ["cmovae eax, [esi]"], -2, 0),
    ("imul r, [m], imm", ["imul eax, [esi], 3"], -3, 0x801),
]
for d in ("before", "after"):
    warm = 0x40a100 if d == "before" else 0x409100
    for name, ins, off, mask in CASES:
        t(f"{name} {d}", MEM + ["mov eax, 0x99999999", "mov ebx, 0xb2b1a8a7"] +
          loop(ins, warm, 0x40a000 + off), regs=REGS4, mask=mask, post=SHOW)
    # stack: ESP set in the loop, STACK0 again afterwards
    t(f"push {d}", MEM + ["mov ebx, 0x44332211"] +
      loop(["push ebx"], warm + 4, 0x40a002, reg="esp") + ["mov esp, STACK0"],
      regs=("ebx", "edx", "esi", "edi"), mask=0, post=SHOW)
    t(f"pop {d}", MEM + loop(["pop eax"], warm, 0x409ffe, reg="esp") + ["mov esp, STACK0"],
      regs=REGS4, mask=0, post=SHOW)
    K[0] += 1
    k = K[0]
    t(f"call {d}", MEM + loop(["call .f{0}".format(k), f".f{k}:"], warm + 4, 0x40a002,
                              reg="esp") + ["mov esp, STACK0"],
      regs=("ebx", "edx", "esi", "edi"), mask=0, post=SHOW)
    # RET: the crossing slot holds .rok (the frame before 0x3c000 holds the
    # low half of .rbad); the warm slot holds .rok too.
    K[0] += 1
    k = K[0]
    warm_frame = (0x3c000 if d == "before" else 0x3e000) | (warm & 0xfff)
    t(f"ret {d}", MEM + [f"mov eax, ROMBASE + .rok{k}", f"mov [{warm_frame:#x}], eax",
                         "mov [0x3effe], ax", "shr eax, 16", "mov [0x3c000], ax",
                         f"mov eax, ROMBASE + .rbad{k}", "mov [0x3bffe], ax",
                         "xor ebx, ebx", "mov ecx, 5", f".l{k}:",
                         f"mov esp, {warm:#x}", "cmp ecx, 1", f"jne .g{k}",
                         "mov esp, 0x409ffe", f".g{k}:", "ret", f".rbad{k}:",
                         "add ebx, 0x100", f"jmp .n{k}", f".rok{k}:", "inc ebx", f".n{k}:",
                         f"loop .l{k}", "mov esp, STACK0"],
      regs=("ebx",), mask=0)

# --- MOV CR3 with the value CR3 already holds ---
L = 0x40b000
P1, P2 = 0x42000, 0x44000
LPTE = f"{PT2 + ((L - 0x400000) >> 12) * 4:#x}"


def copy_code(src, dst, length):
    return [f"mov esi, ROMBASE + {src}", f"mov edi, {dst:#x}", f"mov ecx, {length}", "rep movsb"]


r.raw(copy_code("cr3_code", P1, "cr3_code_end - cr3_code") +
      copy_code("cr3_code", P2, "cr3_code_end - cr3_code") +
      [f"mov dword [{P2:#x} + cr3_mark1 - cr3_code + 1], 0x2222",
       f"mov dword [{P2:#x} + cr3_mark2 - cr3_code + 1], 0x2222"])
RESTORE = [f"mov dword [{LPTE}], {P1:#x} | 3", "mov eax, cr3", "mov cr3, eax"]


def cr3_loop(entry, last_pte):
    """call L + entry 4 times with ECX = the PTE of frame P1, then once
    with ECX = last_pte; the code there stores ECX into L's PTE and
    reloads CR3."""
    K[0] += 1
    k = K[0]
    return [f"mov ecx, 5", f".l{k}:", f"mov edx, {P1:#x} | 3", "cmp ecx, 1", f"jne .g{k}",
            f"mov edx, {last_pte:#x}", f".g{k}:", "push ecx", "mov ecx, edx",
            "xor ebx, ebx", f"mov eax, {L:#x} + {entry}", "call eax", "pop ecx",
            f"loop .l{k}"]


t("mov cr3 same value: new code after it", cr3_loop("cr3_e1 - cr3_code", P2 | 3),
  regs=("ebx",), mask=0, post=RESTORE)
t("mov cr3 same value: chained block", cr3_loop("cr3_e2 - cr3_code", P2 | 3),
  regs=("ebx",), mask=0, post=RESTORE)
t("mov cr3 same value: pte cleared", cr3_loop("cr3_e1 - cr3_code", 0),
  regs=("ebx",), mask=0, post=RESTORE)
# data: the load after MOV CR3 in the same block
D = 0x40c000
DPTE = f"{PT2 + ((D - 0x400000) >> 12) * 4:#x}"
K[0] += 1
k = K[0]
t("mov cr3 same value: data load", ["mov dword [0x46100], 0x1111", "mov dword [0x48100], 0x2222",
                                    "mov ecx, 5", f".l{k}:", "mov edx, 0x46000 | 3",
                                    "cmp ecx, 1", f"jne .g{k}", "mov edx, 0x48000 | 3",
                                    f".g{k}:", f"mov [{DPTE}], edx", "mov eax, cr3",
                                    "mov cr3, eax", f"mov ebx, [{D + 0x100:#x}]",
                                    f"loop .l{k}"],
  regs=("ebx",), mask=0, post=[f"mov dword [{DPTE}], 0x46000 | 3", "mov eax, cr3", "mov cr3, eax"])

r.extra = f"""msg_hello: db `page-crossing accesses, 32-bit paging\\n`, 0
; copied to frames {P1:#x} and {P2:#x} (the marks patched to 0x2222 in the
; second), run at linear {L:#x}: ECX -> the PTE of {L:#x}, MOV CR3 (same value)
cr3_code:
cr3_e1:
    mov [{LPTE}], ecx
    mov eax, cr3
    mov cr3, eax
cr3_mark1:
    mov ebx, 0x1111
    ret
cr3_e2:
    mov [{LPTE}], ecx
    mov eax, cr3
    mov cr3, eax
    jmp near cr3_t2
    times 0x40 db 0xcc
cr3_t2:
cr3_mark2:
    mov ebx, 0x1111
    ret
cr3_code_end:
"""
sys.stdout.write(r.emit())

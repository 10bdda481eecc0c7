"""pagecross_long.py: generates pagecross-long.asm (see longgen.py)."""
import sys
from longgen import Rom

DOC = """
Page-crossing data accesses in 64-bit mode (4-level paging). Each test
runs one instruction 4 times on an address inside a page (so a
translator's per-instruction TLB entry holds that page: "warm"), then
once on an address whose first bytes lie on the page before it
("before") or whose last bytes lie on the page after it ("after"), and
prints the result, the memory of the frames involved (and of the frame
before the warm page's, where a translator using the warm page's host
mapping for the whole access would go), or the exception (vector, error
code, RIP, CR2; nothing may be written).

Pages (tables at 0x30000-0x3ffff):
  0xfffffffffffff000 -> 0x40000    0 -> 0 (the prelude's identity map)
  0xffff800000000000 -> 0x44000    0x7ffffffff000 -> 0x50000
  0x8000000000 not present, 0x8000001000 -> 0x48000, 0x8000002000 not present
  0xfffff000 -> 0xfffff000 (the last page of the BIOS image)
  0x100000000 -> 0x4c000, later -> 0x100000000 (nothing there with -m 128)
Cases: a dword load and store at 0xfffffffffffffffe (the address wraps at
2^64 to page 0), warmed on page 0; the load warmed on the last page; a
qword load and store at 0xffff7ffffffffffc (not canonical: #GP(0), SDM
Vol. 1 3.3.7.1, though its last bytes are canonical) warmed on
0xffff800000000000, and a load at 0x7ffffffffffc (its last bytes are not
canonical) warmed on 0x7ffffffff000; a qword store starting on a
not-present page and ending on a present one, and one starting on a
present page and ending on a not-present one (#PF, nothing written); a
dword load at 0xfffffffe crossing 4 GiB: two ROM bytes (the image ends
with e1 e2 e3 e4) and two of the frame 0x100000000 maps to (0x4c000),
warmed on 0x100000000; and with 0x100000000 identity-mapped (physical 0x100000000
is beyond the 128 MiB of RAM: nothing claims it), warmed in the ROM page:
only the ROM half is printed (QEMU reads 0 where nothing is, xlat reads
all-ones as PC hardware does; the SDM does not say).
"""

r = Rom("pagecross-long.asm", DOC)
r.tail = [0xe1, 0xe2, 0xe3, 0xe4]          # the image ends with e1 e2 e3 e4
Q, R, S, T, U = 0x40000, 0x44000, 0x48000, 0x4c000, 0x50000


def walk(lin, tables, frame):
    """Map the 4 KiB page `lin` to `frame` (user, RW) through the new
    (zeroed) tables `tables` (PDPT, PD, PT) below its PML4 entry."""
    idx = [(lin >> s) & 511 for s in (39, 30, 21, 12)]
    parents = ["PML4"] + [f"{t:#x}" for t in tables]
    out = []
    for level in range(3):
        out.append(f"mov qword [{parents[level]} + {idx[level] * 8:#x}], {tables[level]:#x} | 7")
    out.append(f"mov qword [{parents[3]} + {idx[3] * 8:#x}], {frame:#x} | 7")
    return out


setup = ["mov edi, 0x30000", "mov ecx, 0x10000 / 4", "xor eax, eax", "rep stosd"]
setup += walk(0xfffffffffffff000, (0x30000, 0x31000, 0x32000), Q)
setup += walk(0xffff800000000000, (0x33000, 0x34000, 0x35000), R)
setup += walk(0x8000001000, (0x36000, 0x37000, 0x38000), S)
setup += walk(0x7ffffffff000, (0x3d000, 0x3e000, 0x3f000), U)
# 0xfffff000 and 0x100000000 through the prelude's PDPT (0x21000)
setup += ["mov qword [PDPT + 3 * 8], 0x39000 | 7", "mov qword [0x39000 + 511 * 8], 0x3a000 | 7",
          "mov rax, 0xfffff000 | 7", "mov qword [0x3a000 + 511 * 8], rax",
          "mov qword [PDPT + 4 * 8], 0x3b000 | 7", "mov qword [0x3b000], 0x3c000 | 7",
          f"mov qword [0x3c000], {T:#x} | 7",
          "mov rax, cr3", "mov cr3, rax"]
r.raw(setup)

K = [0]


def loop(ins, warm, cross, reg="rsi", n=4):
    """`ins` n times with reg = warm, then once with reg = cross."""
    K[0] += 1
    k = K[0]
    return [f"mov ecx, {n + 1}", f".l{k}:", f"mov {reg}, {warm:#x}", "cmp ecx, 1",
            f"jne .g{k}", f"mov {reg}, {cross:#x}", f".g{k}:"] + ins + [f"loop .l{k}"]


def qwords(*addrs):
    """post: load the qwords at these (identity-mapped) addresses into
    rbx, rdx, rdi, r8 (in that order)."""
    return [f"mov {reg}, [{a:#x}]" for reg, a in zip(("rbx", "rdx", "rdi", "r8"), addrs)]


def fill(*pairs):
    """Store qwords (address, value) through RAX."""
    return [l for a, v in pairs for l in (f"mov rax, {v:#x}", f"mov [{a:#x}], rax")]


t = r.test
WRAP = 0xfffffffffffffffe
r.raw([f"mov dword [{Q:#x} + 0xffc], 0x4d4c4b4a", "mov dword [0], 0x04030201",
       f"mov dword [{Q:#x} + 0x100], 0x5a5a5a5a"])
t("load before: wraps to page 0, warm on page 0",
  ["mov eax, 0x12345678"] + loop(["mov eax, [rsi]"], 0x100, WRAP), regs=("rax",), mask=0)
t("load after: wraps to page 0, warm on the last page",
  loop(["mov eax, [rsi]"], 0xfffffffffffff100, WRAP), regs=("rax",), mask=0)
t("store before: wraps to page 0, warm on page 0",
  ["mov eax, 0x8c8b8a89"] + loop(["mov [rsi], eax"], 0x100, WRAP),
  regs=("rbx", "rdx", "rdi"), mask=0, post=qwords(Q + 0xff8, 0, 0x100))

r.raw(fill((R, 0x4444444444444444), (R - 8, 0x4343434343434343),
           (U + 0xff8, 0x5050505050505050)))
NC = 0xffff7ffffffffffc
t("load before: not canonical, warm on 0xffff800000000000",
  ["mov rax, 0x12345678"] + loop(["mov rax, [rsi]"], 0xffff800000000100, NC),
  regs=("rax",), mask=0)
t("store before: not canonical, warm on 0xffff800000000000",
  ["mov rax, 0x8f8e8d8c8b8a8988"] + loop(["mov [rsi], rax"], 0xffff800000000100, NC),
  regs=("rbx", "rdx", "rdi"), mask=0, post=qwords(R, R - 8, R + 0x100))
t("load after: last bytes not canonical, warm on 0x7ffffffff000",
  loop(["mov rax, [rsi]"], 0x7ffffffff100, 0x7ffffffffffc), regs=("rax",), mask=0)

r.raw(fill((S, 0x4848484848484848), (S - 8, 0x4747474747474747),
           (S + 0xff8, 0x4949494949494949), (S + 0x1000, 0x4a4a4a4a4a4a4a4a)))
t("store before: not present then present, warm on present",
  ["mov rax, 0x8f8e8d8c8b8a8988"] + loop(["mov [rsi], rax"], 0x8000001100, 0x8000000ffc),
  regs=("rbx", "rdx"), mask=0, post=qwords(S, S - 8))
t("store after: present then not present, warm on present",
  ["mov rax, 0x8f8e8d8c8b8a8988"] + loop(["mov [rsi], rax"], 0x8000001100, 0x8000001ffc),
  regs=("rbx", "rdx"), mask=0, post=qwords(S + 0xff8, S + 0x1000))

r.raw([f"mov dword [{T:#x}], 0x4e4d4c4b", f"mov dword [{T - 4:#x}], 0x4b4b4b4b"])
t("load before: rom then ram across 4 GiB, warm on 0x100000000",
  loop(["mov eax, [rsi]"], 0x100000100, 0xfffffffe), regs=("rax",), mask=0)
r.raw(["mov rax, 0x100000000 | 7", "mov qword [0x3c000], rax", "mov rax, 0x100000000",
       "invlpg [rax]"])
# Only the ROM half is printed: physical 0x100000000 reads as 0 in QEMU and
# as all-ones in xlat (and on PC hardware, a master abort); what an address
# nothing claims reads is the platform's business, not the SDM's.
t("load after: rom then nothing across 4 GiB, warm on rom (rom half)",
  loop(["mov eax, [rsi]"], 0xfffff100, 0xfffffffe), regs=("rax",), mask=0,
  post=["and eax, 0xffff"])
r.extra = 'msg_hello: db `page-crossing accesses, 64-bit mode\\n`, 0\n'
sys.stdout.write(r.emit())

"""pagecross_real.py: generates pagecross-real.asm (see realgen.py)."""
import sys
from realgen import Rom

DOC = """
Real-mode (no paging) accesses that cross a 4 KiB boundary where the two
sides are backed by different things, each made by one instruction that
first ran 4 times on an address of one of the two pages ("warm": a
translator's per-instruction TLB entry now holds that page) and then once
on the crossing address:
- a dword load at linear 0xEFFFE (FS = 0xEFFF, offset 0xE): two RAM bytes,
  then the first two bytes of the BIOS window at 0xF0000 (ROM offset 0,
  the pattern 11 22 33 44), after warming in the ROM window; and after
  warming in the RAM page below it;
- a dword store at linear 0xFFFFE (GS = 0xFFFF, offset 0xE) after warming
  at 0x100100: the two ROM bytes are dropped, RAM at 0x100000 gets the
  other two;
- a dword load at 0xFFFFE after warming at 0x100100: ROM bytes (the end of
  the image: e3 e4), then RAM at 0x100000 (a translator that used the
  page of the last byte reads the RAM hidden under the BIOS window);
- a dword store at 0xEFFFE after warming in the RAM page below it: two RAM
  bytes written, the ROM half dropped.
The A20 gate is enabled at reset (QEMU and xlat): linear 0x100000 is not
0, which the IVT word printed after the 1 MiB store shows.

0xE0000-0xEFFFF is RAM in QEMU's PC at reset and in xlat; Bochs maps its
BIOS ROM area there (reads all-ones, ignores writes), so its log differs
on the 0xEFFFE lines (a memory-map difference, not an SDM matter; listed
in BOCHS-DIFFS).
"""

r = Rom("pagecross-real.asm", DOC)
# ROM offset 0 (linear 0xF0000): a pattern the loads crossing into the
# BIOS window read.
r.head = ["    db 0x11, 0x22, 0x33, 0x44"]
r.tail = [0xe1, 0xe2, 0xe3, 0xe4]          # the image ends with e1 e2 e3 e4

K = [0]


def loop(ins, warm, cross, n=4):
    """`ins` (addressing [seg:bx]) n times with BX = warm, then once with
    BX = cross. The flags are those of `cmp cx, 1` (LOOP keeps them)."""
    K[0] += 1
    k = K[0]
    return [f"mov cx, {n + 1}", f".l{k}:", f"mov bx, {warm:#x}", "cmp cx, 1", f"jne .g{k}",
            f"mov bx, {cross:#x}", f".g{k}:"] + ins + [f"loop .l{k}"]


FS_E = ["mov ax, 0xefff", "mov fs, ax"]           # FS base 0xEFFF0
GS_1M = ["mov ax, 0xffff", "mov gs, ax"]          # GS base 0xFFFF0
t = r.test

# RAM 0xEFFFC..0xEFFFF := a1 a2 a3 a4
RAM_E = FS_E + ["mov dword [fs:0xc], 0xa4a3a2a1"]
t("load 0xeffffe, warm in rom", RAM_E + loop(["mov eax, [fs:bx]"], 0x110, 0xe),
  regs=("eax", "ebx", "ecx"), mask=0,
  post=["mov ebx, [fs:0xc]", "mov ecx, [fs:0x10]"])
t("load 0xeffffe, warm in ram", RAM_E + loop(["mov eax, [fs:bx]"], 0x0, 0xe),
  regs=("eax", "ebx", "ecx"), mask=0,
  post=["mov ebx, [fs:0xc]", "mov ecx, [fs:0x10]"])
t("store 0xffffe, warm above 1m",
  GS_1M + ["mov dword [gs:0x10], 0", "mov dword [gs:0x14], 0", "mov eax, 0xddccbbaa"] +
  loop(["mov [gs:bx], eax"], 0x110, 0xe),
  regs=("ebx", "ecx", "edx", "esi"), mask=0,
  post=["mov ebx, [gs:0x10]", "mov ecx, [gs:0xc]", "mov edx, [0]", "mov esi, [gs:0x110]"])
t("load 0xffffe, warm above 1m",
  GS_1M + ["mov dword [gs:0x110], 0x87654321"] + loop(["mov eax, [gs:bx]"], 0x110, 0xe),
  regs=("eax",), mask=0)
t("store 0xeffffe, warm in ram",
  RAM_E + ["mov eax, 0x44332211"] + loop(["mov [fs:bx], eax"], 0x0, 0xe),
  regs=("ebx", "ecx", "edx"), mask=0,
  post=["mov ebx, [fs:0xc]", "mov ecx, [fs:0x10]", "mov edx, [fs:0x0]"])
sys.stdout.write(r.emit())

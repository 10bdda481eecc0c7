"""paging_32.py: generates paging-32.asm (see protgen.py)."""
import sys
from protgen import Rom

DOC = """
32-bit paging (CR4.PAE = 0): 4 KiB pages and 4 MiB pages (CR4.PSE),
not-present faults on read, write and instruction fetch (error code, CR2,
the faulting EIP), an instruction crossing into a not-present page (CR2 =
the page, EIP = the instruction), write protection with CR0.WP = 0 and 1,
user/supervisor checks from CPL 3 (error codes 4-7), accessed and dirty
bits in PTEs and PDEs (read back after reads, writes and fetches), a 4 MiB
page's dirty bit, two linear aliases of one physical page (a write through
one is read through the other, also as code), and TLB maintenance the SDM
defines: after a PTE change, INVLPG, a CR3 load (non-global page) and
toggling CR4.PGE (global page) make the new translation visible. (Keeping
a stale translation is never required by the SDM, so it is not tested.)
"""

r = Rom("paging-32.asm", DOC)
PTE = lambda a: f"PT + ({a:#x} >> 12) * 4"
r.raw([
    f"mov dword [{PTE(0x40000)}], 0",
    f"mov dword [{PTE(0x41000)}], 0x41000 | 0x005",     # user read-only
    f"mov dword [{PTE(0x42000)}], 0x42000 | 0x003",     # supervisor RW
    f"mov dword [{PTE(0x43000)}], 0x43000 | 0x007",     # A/D test page
    f"mov dword [{PTE(0x44000)}], 0",
    f"mov dword [{PTE(0x45000)}], 0x46000 | 0x007",     # alias of 0x46000
    "mov dword [PD + 4], 0x00400000 | 0x087",           # 4 MiB page, 4-8 MiB
    "mov dword [PD + 8], 0x00000000 | 0x083",           # 4 MiB alias of 0-4 MiB at 8 MiB
    "mov eax, cr4", "or eax, 0x10", "mov cr4, eax",       # PSE
    "mov eax, PD", "mov cr3, eax",
    "mov eax, cr0", "or eax, 0x80000000", "mov cr0, eax",
])
A = ("eax",)
t = r.test
t("paging on", ["mov eax, cr0", "and eax, 0x80010001"], regs=A, mask=0)
t("np read", ["mov eax, [0x40010]"], regs=A, mask=0, setup={"eax": 0})
t("np write", ["mov dword [0x40ffc], 1"], mask=0)
t("np fetch", ["mov eax, 0x40000", "call eax"], mask=0)
t("cross into np page", ["mov dword [0x43ffc], 0xb8909090", "mov byte [0x44000 - 1 + 1 - 1], 0xb8",
                         "mov eax, 0x43ffe", "call eax"], mask=0)
t("ro write wp0", ["mov dword [0x41000], 0x1234", "mov eax, [0x41000]"], regs=A, mask=0)
r.raw(["mov eax, cr0", "or eax, 0x10000", "mov cr0, eax"])
t("ro write wp1", ["mov dword [0x41004], 0x5678"], mask=0)
t("ro read wp1", ["mov eax, [0x41000]"], regs=A, mask=0)
# accessed / dirty
r.raw([f"and dword [{PTE(0x43000)}], ~0x60", "and dword [PD], ~0x60", "invlpg [0x43000]"])
t("a/d initially", [f"mov eax, [{PTE(0x43000)}]", "and eax, 0x67"], regs=A, mask=0)
t("a/d after read", ["mov ebx, [0x43000]", f"mov eax, [{PTE(0x43000)}]", "and eax, 0x67",
                     "mov ecx, [PD]", "and ecx, 0x67"], regs=("eax", "ecx"), mask=0)
t("a/d after write", ["mov dword [0x43010], 0xc3c3c3c3", f"mov eax, [{PTE(0x43000)}]",
                      "and eax, 0x67"], regs=A, mask=0)
r.raw([f"and dword [{PTE(0x43000)}], ~0x60", "invlpg [0x43000]"])
t("a/d after fetch", ["mov eax, 0x43010", "call eax", f"mov eax, [{PTE(0x43000)}]",
                      "and eax, 0x67"], regs=A, mask=0)
r.raw(["and dword [PD + 4], ~0x60", "invlpg [0x400000]"])
t("4m page", ["mov dword [0x401000], 0xabcd1234", "mov eax, [0x401000]", "mov ebx, [PD + 4]",
              "and ebx, 0xe7"], regs=("eax", "ebx"), mask=0)
t("4m alias", ["mov dword [0x660], 0x600d600d", "mov eax, [0x800660]"], regs=A, mask=0)
t("4k alias", ["mov dword [0x45100], 0x11112222", "mov eax, [0x46100]"], regs=A, mask=0)
t("code via alias", ["mov dword [0x45200], 0x000042b8", "mov dword [0x45204], 0xc3c30000",
                     "mov eax, 0x46200", "call eax", "mov dword [0x45201], 0x77",
                     "mov ebx, 0x46200", "call ebx"], regs=A, mask=0)
# TLB maintenance
t("invlpg", ["mov eax, [0x45100]", f"mov dword [{PTE(0x45000)}], 0x47000 | 0x007",
             "invlpg [0x45000]", "mov dword [0x47100], 0x33334444", "mov eax, [0x45100]"],
  regs=A, mask=0)
t("cr3 reload", [f"mov dword [{PTE(0x45000)}], 0x46000 | 0x007", "mov eax, cr3", "mov cr3, eax",
                 "mov eax, [0x45100]"], regs=A, mask=0)
r.raw(["mov eax, cr4", "or eax, 0x80", "mov cr4, eax",                  # PGE
       f"mov dword [{PTE(0x45000)}], 0x47000 | 0x107", "invlpg [0x45000]"])
t("global page", ["mov eax, [0x45100]"], regs=A, mask=0)
t("pge toggle", [f"mov dword [{PTE(0x45000)}], 0x46000 | 0x107", "mov eax, cr4",
                 "and eax, ~0x80", "mov cr4, eax", "or eax, 0x80", "mov cr4, eax",
                 "mov eax, [0x45100]"], regs=A, mask=0)
# CPL 3
R3 = ["mov ax, 0x23", "mov ds, ax", "mov es, ax", "push dword 0x23", "push dword STACK3", "push dword 0x002", "push dword 0x1b",
      "push dword ROMBASE + .u{0}", "iretd", ".u{0}:"]
for i, (name, code) in enumerate([("user read super", "mov eax, [0x42000]"),
                                  ("user write super", "mov [0x42000], eax"),
                                  ("user write ro", "mov [0x41000], eax"),
                                  ("user read ro", "mov eax, [0x41000]\n    int 0x80"),
                                  ("user read np", "mov eax, [0x40000]"),
                                  ("user write np", "mov [0x40000], eax"),
                                  ("user fetch super", "mov eax, 0x42000\n    call eax"),
                                  ("user write 4m", "mov [0x400000], eax\n    int 0x80")]):
    t(name, [l.format(i) for l in R3] + [code], regs=A, mask=0)
r.raw([f"mov dword [{PTE(0x42000)}], 0x42000 | 0x007", "invlpg [0x42000]",
       "and dword [PD], ~0x04", "mov eax, cr3", "mov cr3, eax"])
t("user fetch, pde supervisor", [l.format(9) for l in R3] + ["mov eax, [0x42000]"], regs=A, mask=0)
r.raw(["or dword [PD], 0x04", "mov eax, cr3", "mov cr3, eax"])
r.extra = 'msg_hello: db `32-bit paging\\n`, 0\n'
sys.stdout.write(r.emit())

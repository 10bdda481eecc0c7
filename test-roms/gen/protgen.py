"""protgen.py — generator of the 32-bit protected-mode test ROMs.

The prelude enters protected mode with the GDT below (copied to RAM at
0x2000), an IDT (0x1000) whose vectors 0-31 and 0x80 are 32-bit interrupt
gates (DPL 0, except 3, 4 and 0x80: DPL 3) to one handler, and a TSS
(0x3000, ESP0 = 0x9000, SS0 = 0x10, an I/O bitmap at offset 0x68). Tests
start at CPL 0 with ESP = 0x8000 and flat DS/ES/FS/GS/SS = 0x10.

Each test runs its code, then prints
    <name>: [eax=........] ... f=<EFLAGS & mask>
An exception prints, before that,
    #<vector> err=<error code> eip=<pushed EIP> cs=<pushed CS>
        [ss:esp=<pushed SS:ESP> if from CPL 3] [cr2=<CR2> for #PF]
        [dr6=<DR6 & 0x600f> for #DB]
(#DF prints no EIP/CS: the SDM says they are undefined) and the test
continues at its end at CPL 0, with ESP = 0x8000, the data segment
registers reloaded with 0x10, EFLAGS' arithmetic flags and DF from the
pushed EFLAGS, and the other registers as the faulting code left them.
INT 0x80 (DPL 3) is the way back from CPL 3 without a fault.
With [DBCONT] != 0 a #DB returns (IRETD) instead, so TF single-steps.

`test(post=[...])` adds lines run after the test's code (or after its
exception) and before the registers are printed: MOVs that load memory
into registers leave the printed flags alone. `Rom.head` is assembled at
offset 0 of the image, before the prelude (never executed: data a test
reads through the BIOS window); `Rom.tail` lists the last bytes of the
image (after the reset vector's far jump); `Rom.gdt_extra` appends
descriptors (selector, quadword, comment) after the table below, from
selector 0xb8 on.

The expected values are not computed here: they come from QEMU.
"""

REGS = ["eax", "ebx", "ecx", "edx", "esi", "edi", "ebp"]


def desc(base, limit, access, flags):
    return ((limit & 0xffff) | ((base & 0xffffff) << 16) | (access << 40) |
            (((limit >> 16) & 0xf) << 48) | (flags << 52) | ((base >> 24) << 56))


GDT = [
    (0x08, desc(0, 0xfffff, 0x9b, 0xc), "code32 DPL0 flat"),
    (0x10, desc(0, 0xfffff, 0x93, 0xc), "data DPL0 flat"),
    (0x18, desc(0, 0xfffff, 0xfb, 0xc), "code32 DPL3 flat"),
    (0x20, desc(0, 0xfffff, 0xf3, 0xc), "data DPL3 flat"),
    (0x28, desc(0x3000, 0x68 + 0x2000, 0x89, 0x0), "32-bit TSS, I/O bitmap"),
    (0x30, desc(0, 0xfff, 0x93, 0x4), "data DPL0 limit 0xfff"),
    (0x38, desc(0, 0xfffff, 0x13, 0xc), "data DPL0 not present"),
    (0x40, desc(0, 0xfff, 0x97, 0x4), "data DPL0 expand-down limit 0xfff, B=1"),
    (0x48, desc(0, 0xfffff, 0x91, 0xc), "data DPL0 read-only"),
    (0x50, desc(0, 0xfffff, 0x99, 0xc), "code32 DPL0 execute-only"),
    (0x58, desc(0, 0xfffff, 0x9f, 0xc), "code32 DPL0 conforming readable"),
    (0x60, desc(0, 0xfffff, 0xb3, 0xc), "data DPL1 flat"),
    (0x68, 0, "call gate DPL3 -> 0x08:gate_target, 2 params (built at run time)"),
    (0x70, desc(0xf0000, 0xffff, 0x9b, 0x0), "code16 DPL0 base 0xf0000"),
    (0x78, desc(0x4000, 0x17, 0x82, 0x0), "LDT base 0x4000, 3 entries"),
    (0x80, desc(0, 0xfffff, 0x9b, 0xc), "code32 DPL0 readable (alias of 0x08)"),
    (0x88, 0, "call gate DPL0 -> 0x08:gate_target (built at run time)"),
    (0x90, desc(0, 0xfffff, 0xdb, 0xc), "code32 DPL2 flat"),
    (0x98, desc(0, 0xfffff, 0xd3, 0xc), "data DPL2 flat"),
    (0xa0, desc(0, 0xfffff, 0xfb, 0xc), "code32 DPL3 flat (spare)"),
    (0xa8, desc(0, 0xfffff, 0x97, 0xc), "data DPL0 expand-down, limit 0xfffff000 (G)"),
    (0xb0, desc(0, 0xfffff, 0xff, 0xc), "code32 DPL3 conforming"),
]


class Rom:
    def __init__(self, title, doc):
        self.title = title
        self.doc = doc
        self.body = []
        self.n = 0
        self.extra = ""
        self.head = []  # lines assembled at offset 0 of the image, before the prelude
        self.tail = []  # the last bytes of the image (after the reset vector)
        self.gdt_extra = []  # (selector, descriptor, comment) after GDT, from 0xb8

    def raw(self, lines):
        self.body.extend("    " + l if not l.endswith(":") else l for l in lines)

    def test(self, name, code, regs=(), mask=0x08D5, f_in=0x0002, setup=None, post=()):
        self.n += 1
        n = self.n
        b = self.body
        b.append(f"; {name}")
        b.append(f"    mov dword [RESUME], ROMBASE + .a{n}")
        for r, v in (setup or {}).items():
            b.append(f"    mov {r}, {v:#x}" if isinstance(v, int) else f"    mov {r}, {v}")
        b.append(f"    push dword {f_in:#x}")
        b.append("    popfd")
        b.extend("    " + c if not c.endswith(":") else c for c in code)
        b.append(f".a{n}:")
        b.extend("    " + c if not c.endswith(":") else c for c in post)
        rm = 0
        for r in regs:
            rm |= 1 << REGS.index(r)
        b.append("    pushfd")
        b.append(f"    push dword {mask:#x}")
        b.append(f"    push dword {rm:#x}")
        b.append(f"    push dword ROMBASE + .s{n}")
        b.append("    call dump")
        b.append(f"    jmp .e{n}")
        b.append(f".s{n}: db {name!r}, 0")
        b.append(f".e{n}:")

    def emit(self):
        out = [f"; {self.title} — GENERATED by gen/{self.title.split('.')[0].replace('-', '_')}.py;"
               " edit that, not this."]
        for l in self.doc.strip().splitlines():
            out.append("; " + l if l else ";")
        out.append("")
        out.extend(self.head)
        out.append('%include "inc/prot-prelude.inc"')
        out.extend(self.body)
        out.append('%include "inc/prot-postlude.inc"')
        out.append(self.extra)
        out.append("align 8")
        out.append("gdt:")
        out.append("    dq 0")
        sels = [sel for sel, _, _ in GDT + self.gdt_extra]
        assert sels == list(range(0x08, 8 * len(sels) + 8, 8)), "GDT selectors must be dense"
        for sel, q, c in GDT + self.gdt_extra:
            out.append(f"    dq {q:#018x}  ; {sel:#04x} {c}")
        out.append("gdt_end:")
        out.append(" ".join(["RESET_VECTOR", ", ".join(f"{b:#04x}" for b in self.tail)]).rstrip())
        return "\n".join(out) + "\n"




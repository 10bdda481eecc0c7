"""sseprotgen.py: the machinery of gen/sse_prot.py on top of protgen.py: the
memory layout and data segments, 16-byte constants, and the test `t` (load
MXCSR and XMM inputs, set DS, run, print XMM/MMX registers, GPRs, memory
and MXCSR six values a line); gen/sse_prot_native.py runs a ROM's tests on
the host CPU from `ProtSseRom.tests`."""
from protgen import Rom, REGS, desc
from ssegen import MXCSR, f32, f64, ints

SCR = 0x30000       # flat scratch for the printed values
SEGBASE = 0x40000   # base of the data segment 0xb8 (0xc0: SEGBASE + 8)
DOFF = 0x1000       # segment offset of the copied constants (ESI)
SOFF = 0x3000       # segment offset of the store area (EDI)
SEGS = "SEGBASE + SOFF"   # flat address of DS:EDI's store area
SEG, SEG8, SEG3 = 0xb8, 0xc0, 0xcb   # SEG3: SEG's twin for CPL 3 (RPL 3)
SEGDN, SEGG = 0xd0, 0xd8             # expand-down B = 0; G = 1 with limit 0xf
GDT_EXTRA = [(SEG, desc(SEGBASE, 0xffff, 0x93, 0x4), "data DPL0 base SEGBASE limit 0xffff"),
             (SEG8, desc(SEGBASE + 8, 0xffff, 0x93, 0x4),
              "data DPL0 base SEGBASE + 8 limit 0xffff"),
             (SEG3 & ~3, desc(SEGBASE, 0xffff, 0xf3, 0x4), "data DPL3 base SEGBASE limit 0xffff"),
             (SEGDN, desc(SEGBASE, 0xfff, 0x97, 0x0),
              "data DPL0 expand-down B=0 base SEGBASE limit 0xfff: 0x1000-0xffff"),
             (SEGG, desc(SEGBASE, 0xf, 0x93, 0xc), "data DPL0 base SEGBASE limit 0xf, G=1")]
# inputs the tests share
A4 = f32(1.5, -2.0, 3.25, 1e30)
B4 = f32(0.25, 4.0, -3.25, 1e30)
A2 = f64(1.0 / 3.0, -1e300)
B2 = f64(3.0, 1e300)
IA = ints(1, 0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe, 0x40, 0xc0, 0x10, 0x20, 0x30, 0x90, 0x7e, 0x81,
          0x55, 0xaa)
IB = ints(1, 0x01, 0x01, 0xff, 0x01, 0xff, 0x03, 0x40, 0xc0, 0xf0, 0x60, 0x30, 0x90, 0x02, 0x80,
          0xaa, 0x55)
MMA = ints(2, 0x7fff, -2, 0x1234, -32768)
MMB = ints(2, 1, -3, 0x1111, -1)
# protgen's dump prints EBP's slot of its own PUSHAD, i.e. its frame pointer,
# not the caller's EBP: six registers per line.
PRINTED = REGS[:6]
# What a Linux user program cannot do (or does differently): the native
# run leaves out tests whose lines name these.
NOT_NATIVE = ("cr0", "cr4", "clts", "mov ss", "SS_SEL", "fs:", "es:", "es maskmov", "[bx", "[bp",
              "push ", "pop ", "bits 16", "int 0x80", "dr7")


def cr4(v):
    """Set CR4.OSFXSR/OSXMMEXCPT (bits 9, 10) to those of `v`."""
    return ["mov eax, cr4", "and eax, ~0x600", f"or eax, {v:#x}", "mov cr4, eax"]


def cr0(set_bits, clear_bits):
    return ["mov eax, cr0", f"and eax, ~{clear_bits:#x}", f"or eax, {set_bits:#x}",
            "mov cr0, eax"]


class ProtSseRom:
    def __init__(self, title, doc):
        self.r = Rom(title, doc)
        self.r.head = [f"SCR equ {SCR:#x}", f"SEGBASE equ {SEGBASE:#x}",
                       f"DOFF equ {DOFF:#x}", f"SOFF equ {SOFF:#x}"]
        self.r.gdt_extra = GDT_EXTRA
        self.consts = {}
        self.cont = 0
        self.tests = []  # for gen/sse_prot_native.py: the tests and raw lines, in order

    def raw(self, lines):
        self.r.raw(lines)
        self.tests.append(dict(raw=lines))

    def k(self, val):
        """Label of a 16-byte constant (an int, little-endian)."""
        if val not in self.consts:
            self.consts[val] = f"cst{len(self.consts)}"
        return self.consts[val]

    def m(self, val, disp=0):
        """The constant `val` (or a data label) through DS = SEG and ESI."""
        label = val if isinstance(val, str) else self.k(val)
        return f"[esi + {label} - dstart + {disp}]"

    def t(self, name, code, ins=None, out=("xmm0",), mxcsr=MXCSR, show_mxcsr=True, gprs=(),
          mems=(), mms=(), seg=SEG, mask=0, f_in=0x2, setup=None, pre_post=(), first_post=(),
          native=True):
        """A test: loads MXCSR and the XMM registers `ins` maps to constants
        (flat DS), sets DS = `seg` (None: stays flat), runs `code`; then (after
        `first_post`, DS = 0x10 and `pre_post`) prints the `out` XMM registers
        (four dwords each), the `gprs`, the `mms` MMX registers (two dwords),
        the `mems` ((size, flat address): a dword, word or byte) and MXCSR.
        Everything is first stored to SCR, so nothing printed is overwritten
        before it is saved. `native=False` keeps the test out of
        gen/sse_prot_native.py's run (which leaves out by itself what NOT_NATIVE
        names, segments other than SEG and tests that set ESI, EDI or EBP)."""
        pre = [f"ldmxcsr [ROMBASE + {self.k(mxcsr)}]"]
        for x, v in (ins or {}).items():
            pre.append(f"movdqu {x}, [ROMBASE + {self.k(v)}]")
        if seg is not None:
            pre += [f"push dword {seg:#x}", "pop ds"]
        post = list(first_post) + ["push dword 0x10", "pop ds"]
        restore = len(post)
        post += list(pre_post)
        slots = []
        for i, x in enumerate(out):
            post.append(f"movdqu [SCR + {16 * i:#x}], {x}")
            slots += [16 * i + 4 * j for j in range(4)]
        for i, g in enumerate(gprs):
            post.append(f"mov [SCR + {0x80 + 4 * i:#x}], {g}")
            slots.append(0x80 + 4 * i)
        for i, x in enumerate(mms):
            post.append(f"movq [SCR + {0xa0 + 8 * i:#x}], {x}")
            slots += [0xa0 + 8 * i, 0xa4 + 8 * i]
        for i, (size, addr) in enumerate(mems):
            ld = {4: "mov eax, dword", 2: "movzx eax, word", 1: "movzx eax, byte"}[size]
            post += [f"{ld} [{addr}]", f"mov [SCR + {0x100 + 4 * i:#x}], eax"]
            slots.append(0x100 + 4 * i)
        if show_mxcsr:
            post.append("stmxcsr [SCR + 0xf0]")
            slots.append(0xf0)
        chunks = [slots[i:i + len(PRINTED)] for i in range(0, len(slots), len(PRINTED))] or [[]]
        first = chunks[0]
        lines = code + list(first_post) + list(pre_post)
        self.tests.append(dict(name=name, pre=pre[:len(pre) - 2 * (seg is not None)], code=code,
                               post=post[restore:], slots=slots, mask=mask, f_in=f_in,
                               setup=setup or {},
                               native=native and seg in (SEG, None) and
                               not any(w in c for c in lines for w in NOT_NATIVE) and
                               not set(setup or {}) & {"esi", "edi", "ebp"}))
        post += [f"mov {reg}, [SCR + {a:#x}]" for reg, a in zip(PRINTED, first)]
        regs = dict(esi=DOFF, edi=SOFF)
        regs.update(setup or {})
        self.r.test(name, pre + code, regs=tuple(PRINTED[:len(first)]), mask=mask, f_in=f_in,
                    setup=regs, post=post)
        for chunk in chunks[1:]:
            self.cont += 1
            c = self.cont
            rm = (1 << len(chunk)) - 1
            self.r.raw([f"mov {reg}, [SCR + {a:#x}]" for reg, a in zip(PRINTED, chunk)] +
                       ["pushfd", "push dword 0", f"push dword {rm:#x}",
                        f"push dword ROMBASE + .c{c}", "call dump", f"jmp .d{c}",
                        f".c{c}: db {name + ' +'!r}, 0", f".d{c}:"])

    def finish(self, hello, data):
        """The data section: the `hello` line, then `data` and the
        constants between dstart and dend (copied to SEGBASE + DOFF at the
        start, 16-byte aligned so the copy keeps the alignment)."""
        out = [f"msg_hello: db `{hello}\\n`, 0", "align 16", "dstart:"] + list(data)
        out.append("align 16")
        for val, label in self.consts.items():
            out.append(f"{label}: dq {val & (2**64 - 1):#018x}, {val >> 64:#018x}")
        out.append("dend:")
        self.r.extra = "\n".join(out) + "\n"

"""ssegen.py: the shared machinery of the SSE ROMs (gen/sse_long.py,
gen/simd4_long.py) on top of longgen.py: 16-byte constants, the `t` test
(load MXCSR and XMM inputs, run, print XMM registers, GPRs and MXCSR) and
the data section; gen/sse_native.py runs a ROM's tests on the host CPU
from `SseRom.tests`."""
import struct
from longgen import Rom, REGS

SCR = 0x4000        # scratch for printing and stores (16-byte aligned)
FXA = 0x5000        # FXSAVE area
QNAN, SNAN, INF, NINF = 0x7fc00000, 0x7fa00000, 0x7f800000, 0xff800000
DENORM = 0x00000001
MXCSR = 0x1f80


def f32(*xs):
    b = b"".join(struct.pack("<f", x) if isinstance(x, float) else struct.pack("<I", x)
                 for x in xs)
    return int.from_bytes(b.ljust(16, b"\0"), "little")


def f64(*xs):
    b = b"".join(struct.pack("<d", x) if isinstance(x, float) else struct.pack("<Q", x)
                 for x in xs)
    return int.from_bytes(b.ljust(16, b"\0"), "little")


def ints(size, *xs):
    b = b"".join((x & ((1 << 8 * size) - 1)).to_bytes(size, "little") for x in xs)
    return int.from_bytes(b.ljust(16, b"\0"), "little")


def bstr(s):
    return int.from_bytes(s.ljust(16, b"\0"), "little")


def cr4(v):
    """Set CR4.OSFXSR/OSXMMEXCPT (bits 9, 10) to those of `v`."""
    return ["mov rax, cr4", f"and eax, ~0x600", f"or eax, {v:#x}", "mov cr4, rax"]


class SseRom:
    def __init__(self, title, doc):
        self.r = Rom(title, doc)
        self.r.head = [f"SCR equ {SCR:#x}", f"FXA equ {FXA:#x}"]
        self.consts = {}
        self.tests = []  # for gen/sse_native.py

    def k(self, val):
        """Label of a 16-byte constant (an int, little-endian)."""
        if val not in self.consts:
            self.consts[val] = f"cst{len(self.consts)}"
        return self.consts[val]

    def t(self, name, code, ins=None, out=("xmm0",), mxcsr=MXCSR, show_mxcsr=True, gprs=(),
          mask=0, f_in=0x2, setup=None, pre_post=()):
        """A test: loads MXCSR and the XMM registers `ins` maps to 16-byte
        constants, runs `code`, then (after `pre_post`) prints the `out` XMM
        registers (low, high quadword), the `gprs` and MXCSR, in that order,
        in rax, rbx, rcx, ... r9. Everything is first stored to scratch
        memory, so no printed register is overwritten before it is saved."""
        k = self.k
        pre = [f"ldmxcsr [rel {k(mxcsr)}]"]
        for x, v in (ins or {}).items():
            pre.append(f"movdqu {x}, [rel {k(v)}]")
        post = list(pre_post)
        loads = []
        for i, x in enumerate(out):
            post.append(f"movdqu [abs SCR + {16 * i:#x}], {x}")
            loads += [16 * i, 16 * i + 8]
        for i, g in enumerate(gprs):
            post.append(f"mov [abs SCR + {0x80 + 8 * i:#x}], {g}")
            loads.append(0x80 + 8 * i)
        if show_mxcsr:
            post += ["mov qword [abs SCR + 0xc0], 0", "stmxcsr [abs SCR + 0xc0]"]
            loads.append(0xc0)
        assert len(loads) <= len(REGS), name
        regs = REGS[:len(loads)]
        post += [f"mov {reg}, [abs SCR + {a:#x}]" for reg, a in zip(regs, loads)]
        self.r.test(name, pre + code, regs=tuple(regs), mask=mask, f_in=f_in, setup=setup,
                    post=post)
        privileged = any(w in c for c in code + post for w in ("cr0", "cr4", "clts"))
        self.tests.append(dict(name=name, code=pre + code, post=post, regs=regs, mask=mask,
                               f_in=f_in, setup=setup or {}, native=not privileged))

    def finish(self, extra):
        """The data section: the lines `extra`, then the constants."""
        extra = list(extra) + ["align 16"]
        for val, label in self.consts.items():
            extra.append(f"{label}: dq {val & (2**64 - 1):#018x}, {val >> 64:#018x}")
        self.r.extra = "\n".join(extra) + "\n"

"""sse_prot_mem.py: the memory-system half of sse-prot's tests (see
gen/sse_prot.py, which calls these where they stand in the ROM): segment
limits, types and overrides, 16-bit addressing, data breakpoints, 32-bit
decoding, CPL 3 and #AC, a 16-bit code segment, paging."""
from functools import partial
from ssegen import f32, f64, ints, bstr, MXCSR
from sseprotgen import (cr0, SEGBASE, DOFF, SOFF, SEGS, SEG, SEG8, SEG3, SEGDN, SEGG,
                        A4, B4, IA, IB, MMA)


def watch(linear, rw):
    """DR0 on `linear`, 4 bytes, on writes ("w") or reads and writes ("rw")."""
    dr7 = 0x1 | {"w": 1, "rw": 3}[rw] << 16 | 3 << 18
    return [f"mov eax, {linear}", "mov dr0, eax", f"mov eax, {dr7:#x}", "mov dr7, eax"]


UNWATCH = ["xor eax, eax", "mov dr7, eax"]
ring3 = [0]
code16 = [0]


def cpl3(eflags=0x2):
    """IRETD to CPL 3 (CS 0x1b, SS:ESP 0x23:STACK3) with DS = SEG3."""
    ring3[0] += 1
    u = ring3[0]
    return [f"push dword {SEG3:#x}", "pop ds", "push dword 0x23", "push dword STACK3",
            f"push dword {eflags:#x}", "push dword 0x1b", f"push dword ROMBASE + .r3_{u}",
            "iretd", f".r3_{u}:"]


def in16(lines):
    """`lines` in the 16-bit code segment 0x70 (base 0xf0000), then back."""
    code16[0] += 1
    c = code16[0]
    return ([f"jmp 0x70:.c16_{c}", "bits 16", f".c16_{c}:"] + lines +
            [f"jmp dword 0x08:ROMBASE + .c32_{c}", "bits 32", f".c32_{c}:"])


def pte(linear):
    """The page-table entry of `linear` (SS is flat)."""
    return f"[ss:PT + ({linear:#x} >> 12) * 4]"


def limits(g):
    """Segment limits and types, overrides, 16-bit addressing, LOCK."""
    k, m, t = g.k, g.m, g.t

    # ---- segment limit (0xffff): #GP(0) through DS, #SS(0) through SS ----
    t("movups ending at the limit", ["movups [esi], xmm1", "movups xmm0, [esi]"],
      ins={"xmm1": A4}, setup={"esi": 0xfff0})
    t("movups past the limit: #GP", ["movups xmm0, [esi]"], ins={"xmm0": 0},
      setup={"esi": 0xfff8})
    t("movdqa store past the limit: #GP", ["movdqa [esi], xmm1"], ins={"xmm1": A4}, out=(),
      setup={"esi": 0xfffffff0})
    t("movss past the limit: #GP", ["movss xmm0, [esi]"], ins={"xmm0": 0}, setup={"esi": 0xfffd})
    t("movq past the limit: #GP", ["movq xmm0, [esi]"], ins={"xmm0": 0}, setup={"esi": 0xfff9})
    t("movdqu through ss past the limit: #SS", [f"mov eax, {SEG:#x}", "mov ss, eax",
                                                "movdqu xmm0, [ebp]"],
      ins={"xmm0": 0}, seg=None, setup={"ebp": 0xfff8}, first_post=["mov ss, [SS_SEL]"])
    t("movdqu through ss within the limit", [f"mov eax, {SEG:#x}", "mov ss, eax",
                                             "movdqu xmm0, [ebp]"],
      ins={"xmm0": 0}, seg=None, setup={"ebp": DOFF}, first_post=["mov ss, [SS_SEL]"])
    t("movups store past the limit: #GP, memory unchanged",
      ["movups [esi], xmm1", "movups [esi + 8], xmm2"], ins={"xmm1": A4, "xmm2": B4}, out=(),
      setup={"esi": 0xfff0}, mems=[(4, f"SEGBASE + 0xfff8"), (4, f"SEGBASE + 0xfffc")])
    t("divss m32 past the limit, ZE unmasked: #GP", ["divss xmm0, [esi]"],
      ins={"xmm0": f32(1.0)}, setup={"esi": 0xfffe}, mxcsr=MXCSR & ~0x200)
    t("prefetcht0 past the limit: no fault", ["mov ebx, 1", "prefetcht0 [esi]", "mov ebx, 2"],
      out=(), gprs=("ebx",), show_mxcsr=False, setup={"esi": 0x20000})
    t("clflush past the limit: #GP", ["mov ebx, 1", "clflush [esi]", "mov ebx, 2"],
      out=(), gprs=("ebx",), show_mxcsr=False, setup={"esi": 0x20000})
    t("expand-down: movups at the limit: #GP", ["movups xmm0, [esi]"], ins={"xmm0": 0},
      seg=0x40, setup={"esi": 0xff8})
    t("expand-down: movups above the limit", [f"movups xmm0, {m('al16')}"], ins={"xmm0": 0},
      seg=0x40, setup={"esi": SEGBASE + DOFF})
    t("expand-down B=0: movups ending at 0xffff", ["movups [esi], xmm1", "movups xmm0, [esi]"],
      ins={"xmm1": A4}, seg=SEGDN, setup={"esi": 0xfff0})
    t("expand-down B=0: movups past 0xffff: #GP", ["movups xmm0, [esi]"], ins={"xmm0": 0},
      seg=SEGDN, setup={"esi": 0xfff8})
    t("expand-down B=0: movups below the limit: #GP", ["movups xmm0, [esi]"], ins={"xmm0": 0},
      seg=SEGDN, setup={"esi": 0xffc})
    t("G=1 limit 0xf: movups ending at 0xffff", ["movups xmm0, [esi]"], seg=SEGG,
      setup={"esi": 0xfff0})
    t("G=1 limit 0xf: movq past 0xffff: #GP", ["movq xmm0, [esi]"], ins={"xmm0": 0}, seg=SEGG,
      setup={"esi": 0xfffc})
    t("cs override: movups load", [f"movups xmm0, [cs:esi]"], seg=None,
      setup={"esi": "ROMBASE + al16"})
    t("cs override: movups store: #GP", [f"movups [cs:esi], xmm1"], ins={"xmm1": A4}, out=(),
      seg=None, setup={"esi": SEGBASE + SOFF})
    t("fxsave through ss past the limit: #SS", [f"mov eax, {SEG:#x}", "mov ss, eax",
                                               "fxsave [ebp]"],
      out=(), show_mxcsr=False, seg=None, setup={"ebp": 0xff00}, first_post=["mov ss, [SS_SEL]"])
    t("read-only: movaps load", [f"movaps xmm0, {m('al16', 16)}"], seg=0x48,
      setup={"esi": SEGBASE + DOFF})
    t("read-only: movaps store: #GP", ["movaps [edi], xmm1"], ins={"xmm1": A4}, out=(),
      seg=0x48, setup={"edi": SEGBASE + SOFF})
    t("read-only: stmxcsr: #GP", ["stmxcsr [edi]"], out=(), seg=0x48,
      setup={"edi": SEGBASE + SOFF})
    t("read-only: maskmovdqu: #GP", ["maskmovdqu xmm1, xmm2"], ins={"xmm1": IA, "xmm2": IB},
      out=(), seg=0x48, setup={"edi": SEGBASE + SOFF})
    t("read-only: fxsave: #GP", ["fxsave [edi + 0x800]"], out=(), show_mxcsr=False,
      seg=0x48, setup={"edi": SEGBASE + SOFF})
    t("null ds: movaps: #GP", [f"movaps xmm0, {m('al16')}"], ins={"xmm0": 0}, seg=0)
    t("fs override, base+8: movaps offset ..8",
      [f"push dword {SEG8:#x}", "pop fs", f"movaps xmm0, [fs:esi + al16 - dstart + 8]"],
      ins={"xmm0": 0}, seg=None)
    t("es override: maskmovdqu es:edi", [f"push dword {SEG8:#x}", "pop es",
                                         "movdqa [es:edi + 0x78], xmm3", "add edi, 0x78",
                                         "es maskmovdqu xmm1, xmm2"],
      ins={"xmm1": IA, "xmm2": IB, "xmm3": bstr(b"================")}, out=(), show_mxcsr=False,
      mems=[(4, f"{SEGS} + 0x80 + {o}") for o in (0, 4, 8, 12)])
    t("a16: movups [bx + disp16] wraps at 64K",
      [f"movups xmm0, [bx + 0x2000 + al16 - dstart]"], setup={"ebx": 0xabcdf000})
    t("a16: movaps [bp + di] through ss", [f"mov eax, {SEG:#x}", "mov ss, eax",
                                          "movaps xmm0, [bp + di]"], seg=None,
      setup={"ebp": 0xffff0000 | DOFF, "edi": 0x77770010}, first_post=["mov ss, [SS_SEL]"])
    t("lock addps: #UD", ["db 0xf0  ; LOCK", "addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4})


def system(g):
    """Data breakpoints, 32-bit decoding, CPL 3 and #AC, a 16-bit code
    segment, paging."""
    k, m, t, raw = g.k, g.m, g.t, g.raw

    # ---- data breakpoints (DR0, 4 bytes; SDM Vol. 3 §18.2.4, §18.3.1.2) ----
    # on a linear address (the segment base included) that an SSE, MMX or
    # FXSAVE access covers in part: a trap after the instruction, DR6.B0 set;
    # a faulting access raises its fault and no #DB.
    t("dr0 w on bytes 8-11 of movaps store", watch(f"{SEGS} + 0x108", "w") +
      ["movaps [edi + 0x100], xmm1", "mov ebx, 1"], ins={"xmm1": A4}, out=(), gprs=("ebx",),
      setup={"ebx": 0}, show_mxcsr=False, pre_post=UNWATCH, mems=[(4, f"{SEGS} + 0x10c")])
    t("dr0 rw on bytes 12-15 of movups load",
      watch("SEGBASE + DOFF + al16 - dstart + 12", "rw") + [f"movups xmm0, {m('al16', 1)}"],
      pre_post=UNWATCH)
    t("dr0 rw on ldmxcsr", watch("SEGBASE + DOFF + mx_some - dstart", "rw") +
      [f"ldmxcsr {m('mx_some')}"], out=(), pre_post=UNWATCH)
    t("dr0 w on fxsave's xmm0 area", watch(f"{SEGS} + 0x4a4", "w") + ["fxsave [edi + 0x400]"],
      out=(), show_mxcsr=False, pre_post=UNWATCH)
    t("dr0 w on movq mm store", watch(f"{SEGS} + 0x134", "w") +
      [f"movq mm0, {m(MMA)}", "movq [edi + 0x130], mm0", "emms"],
      out=(), show_mxcsr=False, pre_post=UNWATCH)
    t("dr0 w on maskmovdqu, every byte stored", watch(f"{SEGS} + 0x144", "w") +
      ["add edi, 0x140", "maskmovdqu xmm1, xmm2"],
      ins={"xmm1": IA, "xmm2": ints(1, *[0x80] * 16)}, out=(), show_mxcsr=False,
      pre_post=UNWATCH)
    t("dr0 w next to a movss store: no #DB", watch(f"{SEGS} + 0x108", "w") +
      ["movss [edi + 0x104], xmm1"], ins={"xmm1": A4}, out=(), show_mxcsr=False,
      pre_post=UNWATCH)
    t("dr0 w on a misaligned movaps store: #GP only", watch(f"{SEGS} + 0x108", "w") +
      ["movaps [edi + 0x108], xmm1"], ins={"xmm1": A4}, out=(), show_mxcsr=False,
      pre_post=UNWATCH)

    # ---- decoding in 32-bit mode ----
    t("0x48 before addps is dec eax", ["mov eax, 5", "db 0x48", "addps xmm0, xmm1",
                                       "mov ebx, eax"],
      ins={"xmm0": A4, "xmm1": B4}, gprs=("ebx",), native=False)   # a REX prefix in 64-bit mode
    t("66 before addss: still addss", ["db 0x66", "addss xmm0, xmm1"],
      ins={"xmm0": A4, "xmm1": B4})
    t("cmpsd xmm m64 (F2 0F C2), not the string op", ["mov ecx, 7",
                                                      f"cmpsd xmm0, {m(f64(2.0))}, 1"],
      ins={"xmm0": f64(1.0, 9.0)}, gprs=("ecx",))
    t("movntps misaligned: #GP", ["movntps [edi + 0x158], xmm1"], ins={"xmm1": A4}, out=())
    t("pinsrw/pextrw m16 via ds", [f"pinsrw xmm0, {m('al16', 5)}, 6", "pextrw ebx, xmm0, 6"],
      ins={"xmm0": IA}, gprs=("ebx",), show_mxcsr=False, setup={"ebx": -1})

    # ---- CPL 3 and alignment checking ----
    # At CPL 3 (DS = SEG3, SS = 0x23) with EFLAGS.AC = 1 and CR0.AM = 1 a
    # misaligned scalar operand raises #AC(0) (SDM Vol. 2 exception types 5
    # and the MMX tables: "If alignment checking is enabled and an unaligned
    # memory reference is made while the current privilege level is 3"; Vol.
    # 3 §6.15 "Interrupt 17": 4 bytes for m32, 8 for m64), a misaligned m128 of
    # an aligned form #GP(0) all the same. INT 0x80 is the way back (its line
    # starts with "#80").
    AM_ON, AM_OFF = cr0(0x40000, 0), cr0(0, 0x40000)
    AC = 0x40002
    t("cpl3: addps m128, stmxcsr", cpl3() + [f"addps xmm0, {m(B4)}", "stmxcsr [edi]",
                                              "int 0x80"],
      ins={"xmm0": A4}, seg=None, mems=[(4, f"{SEGS}")])
    t("cpl3: unmasked ZE: #XM", cpl3() + [f"divss xmm0, {m(f32(0.0))}", "int 0x80"],
      ins={"xmm0": f32(1.0, 2.0)}, mxcsr=MXCSR & ~0x200, seg=None)
    for name, code in [("movss m32 at 2 mod 4: #AC", [f"movss xmm0, {m('al16', 2)}"]),
                       ("movsd m64 at 4 mod 8: #AC", [f"movsd xmm0, {m('al16', 4)}"]),
                       ("movq mm m64 at 1 mod 8: #AC", [f"movq mm0, {m('al16', 1)}"]),
                       ("ldmxcsr m32 at 1 mod 4: #AC", [f"ldmxcsr {m('mx_some_1')}"]),
                       ("movaps m128 at 4 mod 16: #GP", [f"movaps xmm0, {m('al16', 4)}"]),
                       ("movss m32, movd m32 aligned run", [f"movss xmm0, {m('al16', 4)}",
                                                            f"movd xmm1, {m('al16', 12)}"])]:
        t(f"cpl3 ac=1: {name}", AM_ON + cpl3(AC) + code + ["int 0x80"], ins={"xmm0": 0},
          seg=None, pre_post=AM_OFF + ["emms"])
    t("cpl0 ac=1: movss m32 at 2 mod 4 runs", AM_ON + ["push dword 0x40002", "popfd",
                                                      f"movss xmm0, {m('al16', 2)}",
                                                      "push dword 2", "popfd"],
      ins={"xmm0": 0}, pre_post=AM_OFF)

    # ---- SSE in a 16-bit code segment (0x70, base 0xf0000) ----
    # The mandatory 66/F2/F3 prefixes keep their meaning, addresses are 16-bit
    # unless 67; FXSAVE's FIP is the 16-bit IP and FCS the 16-bit selector.
    t("code16: movups [si], addps [esi], movd", in16([
        "movups xmm0, [si + al16 - dstart]", f"addps xmm0, [esi + {k(f32(1.0))} - dstart]",
        "mov eax, 0x7fff0001", "movd mm1, eax", "paddw mm1, mm1", "movd ebx, mm1", "emms"]),
      gprs=("ebx",))
    t("code16: movaps [si] misaligned: #GP", in16(["movaps xmm0, [si + al16 - dstart + 4]"]),
      ins={"xmm0": 0})
    FX3 = f"{SEGS} + 0x600"
    t("code16: fld m32 [si], fxsave [di]: FIP, FCS", in16([
        "fninit", f"fld dword [si + {k(f32(1.5))} - dstart]", "fxsave [di + 0x600]", "fninit"]),
      out=(), show_mxcsr=False,
      mems=[(2, f"{FX3} + 6"), (4, f"{FX3} + 8"), (2, f"{FX3} + 12"), (4, f"{FX3} + 16"),
            (2, f"{FX3} + 20")])

    # ---- paging (32-bit, the prelude's identity tables at PD/PT; SDM Vol. 3
    # §4.3, §4.7 "Page-Fault Exceptions", §4.8 accessed and dirty flags) ----
    # Through DS = SEG: page SEGBASE + 0x6000 not present, + 0x7000 read-only
    # (CR0.WP = 1), + 0x8000 mapped to physical 0x60000, + 0xa000 supervisor.
    # An m128 or m64 that crosses into the missing page faults with CR2 = its
    # first byte there and stores nothing; alignment (#GP) comes before the
    # page walk; loads set A, stores A and D. (Not here: #PF on an FXSAVE or
    # FXRSTOR image, whose CR2 is vendor-specific: the host's AMD CPU reports
    # the image's last byte, Bochs and QEMU the first one in the page.)
    PG = SEGBASE + 0x6000
    raw(["mov dword [0x60000], 0xa4a3a2a1", "mov dword [0x60004], 0xb4b3b2b1",
         "mov dword [0x60008], 0xc4c3c2c1", "mov dword [0x6000c], 0xd4d3d2d1",
         "mov dword [SEGBASE + 0x5ff8], 0x5a5a5a5a", "mov dword [SEGBASE + 0x5ffc], 0x5a5a5a5a",
         f"and dword {pte(PG)}, ~1", f"and dword {pte(PG + 0x1000)}, ~2",
         f"mov dword {pte(PG + 0x2000)}, 0x60000 | 7", f"and dword {pte(PG + 0x4000)}, ~4",
         "mov eax, PD", "mov cr3, eax"] + cr0(0x80010000, 0))
    tp = partial(t, native=False)
    tp("paging: movups load into a not-present page: #PF", ["movups xmm0, [esi]"],
       ins={"xmm0": 0}, setup={"esi": 0x5ff8})
    tp("paging: movups store into it: #PF, nothing stored", ["movups [esi], xmm1"],
       ins={"xmm1": A4}, out=(), setup={"esi": 0x5ff8},
       mems=[(4, "SEGBASE + 0x5ff8"), (4, "SEGBASE + 0x5ffc")])
    tp("paging: movq mm load into it: #PF", ["movq mm0, [esi]", "emms"], out=(),
       show_mxcsr=False, setup={"esi": 0x5ffc}, pre_post=["emms"])
    tp("paging: movaps misaligned on it: #GP", ["movaps xmm0, [esi]"], ins={"xmm0": 0},
       setup={"esi": 0x6008})
    tp("paging: movaps load from a read-only page", ["movaps xmm0, [esi]"], setup={"esi": 0x7000})
    tp("paging: movaps store to it (WP=1): #PF", ["movaps [esi], xmm1"], ins={"xmm1": A4},
       out=(), setup={"esi": 0x7000})
    tp("paging: maskmovdqu to it: #PF", ["maskmovdqu xmm1, xmm2"],
       ins={"xmm1": IA, "xmm2": ints(1, *[0x80] * 16)},
       out=(), setup={"edi": 0x7010})
    tp("paging: movups through a page mapped elsewhere", ["movups xmm0, [esi]"],
       setup={"esi": 0x8000})
    tp("paging: A and D after movaps load, store, fxsave",
       [f"and dword {pte(PG + 0x3000)}, ~0x60", "invlpg [esi]", "movaps xmm0, [esi]",
        f"mov ebx, {pte(PG + 0x3000)}", "movaps [esi], xmm0", f"mov ecx, {pte(PG + 0x3000)}",
        f"and dword {pte(PG + 0x3000)}, ~0x60", "invlpg [esi]", "fxsave [esi]",
        f"mov edx, {pte(PG + 0x3000)}", "and ebx, 0x60", "and ecx, 0x60", "and edx, 0x60"],
       out=(), gprs=("ebx", "ecx", "edx"), show_mxcsr=False, setup={"esi": 0x9000})
    tp("paging cpl3: movss from a supervisor page: #PF", cpl3() + ["movss xmm0, [esi]", "int 0x80"],
       ins={"xmm0": 0}, seg=None, setup={"esi": 0xa000})
    tp("paging cpl3: movaps store to a supervisor page: #PF",
       cpl3() + ["movaps [esi], xmm1", "int 0x80"], ins={"xmm1": A4}, out=(), seg=None,
       setup={"esi": 0xa000})
    raw(cr0(0, 0x80010000) +
        [f"or dword {pte(PG)}, 1", f"or dword {pte(PG + 0x1000)}, 2",
         f"mov dword {pte(PG + 0x2000)}, {PG + 0x2000:#x} | 7", f"or dword {pte(PG + 0x4000)}, 4"])

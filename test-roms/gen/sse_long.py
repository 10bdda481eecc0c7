"""sse_long.py: generates sse-long.asm (see longgen.py)."""
import sys
from longgen import REGS
from ssegen import (SseRom, f32, f64, ints, bstr, cr4, QNAN, SNAN, INF, NINF,
                    DENORM, MXCSR)

DOC = """
SSE and SSE2 in 64-bit mode (SDM Vol. 1 ch. 10-11, Vol. 2 under each
mnemonic, Vol. 3 §13.1-13.2 and Table 13-1 for the OS support bits):
moves (the aligned forms' #GP(0) on a misaligned m128, MOVUPS/MOVDQU
without), packed and scalar arithmetic, MIN/MAX operand order with NaN and
zeros, compares (CMPPS's eight predicates, COMISS/UCOMISS flags),
conversions under each MXCSR rounding mode (and the integer indefinite),
shuffles and unpacks, the packed integer operations, MOVMSKPS/MOVMSKPD/
PMOVMSKB, PEXTRW/PINSRW, LDMXCSR/STMXCSR and LDMXCSR's #GP(0) on a
reserved bit, denormals-are-zero and flush-to-zero, the exception flags
in MXCSR, an unmasked exception as #XM with CR4.OSXMMEXCPT = 1 and #UD
without it (the destination unchanged), #UD with CR4.OSFXSR = 0, #NM with
CR0.TS = 1, FXSAVE/FXRSTOR (the image's FCW, FSW, abridged FTW, MXCSR and
the 16 XMM registers; FXRSTOR's #GP(0) for a reserved MXCSR bit and both
instructions' #GP(0) on a misaligned image); then SSE4.2's PCMPGTQ,
PCMPESTRI/PCMPESTRM/PCMPISTRI/PCMPISTRM (SDM Vol. 2 §4.1).

Each test loads MXCSR (0x1f80 unless it says otherwise) and XMM inputs,
runs its instructions and prints XMM registers as rax:rbx, rcx:rdx,
rsi:rdi (low, high quadword) and MXCSR (or a GPR result) in r8/r9.

Not printed: RCPPS/RSQRTPS results (an implementation's approximation),
the FXSAVE image's MXCSR_MASK (implementation-specific) and its x87
pointers (the x87 ROMs test those).

QEMU 7.2 departs from the SDM in SSE's exception handling; the host CPU
(gen/sse_native.py runs the tests that need no CR0/CR4 change as a Linux
user program) agrees with the SDM on every disputed line, and
sse-long.qemu-fix.patch turns QEMU's log into it:
- an unmasked SIMD floating-point exception (ZE, IE, PE, and UE with FTZ)
  gets the masked response instead of #XM with CR4.OSXMMEXCPT = 1 or #UD
  with it 0, the destination (or EFLAGS for COMISS, the GPR for
  CVTSD2SI) updated: SDM Vol. 1 §11.5.1 "SIMD Floating-Point Exceptions"
  (an unmasked exception leaves the destination operands unchanged and
  raises #XM, or #UD when OSXMMEXCPT = 0), Vol. 3 §6.15 "Interrupt 19";
  FTZ applies only when underflow is masked (Vol. 1 §10.2.3.3);
- LDMXCSR and FXRSTOR load reserved MXCSR bits instead of raising
  #GP(0): SDM Vol. 2 "LDMXCSR", "FXRSTOR" (Protected Mode Exceptions);
- the denormal-operand flag DE is never set: SDM Vol. 1 §11.5.2.2;
- with two QNaN operands the result is the second source's, not the
  first's: SDM Vol. 1 §4.8.3.5 Table 4-7.

SSE4.2 runs under QEMU's default CPU model (qemu64), which does not
advertise it; make-expected.sh passes `-cpu max` for this ROM (the file
sse-long.qemu-args). Nothing printed depends on CPUID.
"""

g = SseRom("sse-long.asm", DOC)
r, k, t = g.r, g.k, g.t
TESTS = g.tests  # for gen/sse_native.py


# CR4.OSFXSR | OSXMMEXCPT for everything below (CR0.EM = 0, TS = 0 from reset).
r.raw(cr4(0x600))

A4 = f32(1.5, -2.0, 3.25, 1e30)
B4 = f32(0.25, 4.0, -3.25, 1e30)
A2 = f64(1.0 / 3.0, -1e300)
B2 = f64(3.0, 1e300)

# ---- moves ----
t("movaps load", ["movaps xmm0, [rel al16]"])
t("movaps misaligned", ["movaps xmm0, [rel al16 + 4]"], ins={"xmm0": 0})
t("movups misaligned", ["movups xmm0, [rel al16 + 4]"])
t("movapd misaligned", ["movapd xmm0, [rel al16 + 8]"], ins={"xmm0": 0})
t("movdqa misaligned", ["movdqa xmm0, [rel al16 + 1]"], ins={"xmm0": 0})
t("movdqu misaligned", ["movdqu xmm0, [rel al16 + 1]"])
t("movaps store misaligned", [f"movaps [abs SCR + 0x108], xmm1"],
  ins={"xmm1": bstr(b"abcdefghijklmnop")}, out=())
t("movntps misaligned", [f"movntps [abs SCR + 0x104], xmm1"], ins={"xmm1": A4},
  out=())
t("movntdq/movntpd/movnti", [f"movntdq [abs SCR + 0x100], xmm1",
                             f"movntpd [abs SCR + 0x110], xmm2",
                             "mov eax, 0x11223344", f"movnti [abs SCR + 0x120], eax",
                             f"movdqu xmm0, [abs SCR + 0x100]",
                             f"movdqu xmm3, [abs SCR + 0x110]",
                             f"movdqu xmm4, [abs SCR + 0x120]"],
  ins={"xmm1": A4, "xmm2": A2}, out=("xmm0", "xmm3", "xmm4"))
t("movss reg merges", ["movss xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4})
t("movss load zeroes", ["movss xmm0, [rel al16 + 4]"], ins={"xmm0": A4})
t("movsd reg merges, load zeroes", ["movsd xmm0, xmm1", "movsd xmm2, [rel al16 + 8]"],
  ins={"xmm0": A2, "xmm1": B2, "xmm2": A2}, out=("xmm0", "xmm2"))
t("movss/movsd store", [f"movdqa [abs SCR + 0x100], xmm2",
                        f"movss [abs SCR + 0x100], xmm1",
                        f"movsd [abs SCR + 0x108], xmm1",
                        f"movdqa xmm0, [abs SCR + 0x100]"],
  ins={"xmm1": A4, "xmm2": bstr(b"ABCDEFGHIJKLMNOP")})
t("movhps/movlps", ["movhps xmm0, [rel al16]", "movlps xmm1, [rel al16 + 8]",
                    f"movhps [abs SCR + 0x100], xmm2", f"mov rsi, [abs SCR + 0x100]"],
  ins={"xmm0": A4, "xmm1": A4, "xmm2": B4}, out=("xmm0", "xmm1"), gprs=("rsi",))
t("movhpd/movlpd", ["movhpd xmm0, [rel al16 + 3]", "movlpd xmm1, [rel al16 + 5]"],
  ins={"xmm0": A2, "xmm1": A2}, out=("xmm0", "xmm1"))
t("movhlps/movlhps", ["movhlps xmm0, xmm2", "movlhps xmm1, xmm2"],
  ins={"xmm0": A4, "xmm1": A4, "xmm2": B4}, out=("xmm0", "xmm1"))
t("movd/movq gpr", ["mov rax, 0x8877665544332211", "movd xmm0, eax", "movq xmm1, rax",
                    "movq xmm2, xmm3", "movd r9d, xmm3"],
  ins={"xmm0": A4, "xmm1": A4, "xmm2": A4, "xmm3": B4}, out=("xmm0", "xmm1", "xmm2"),
  show_mxcsr=False, gprs=("r9",))
t("movq xmm, m64 zeroes", ["movq xmm0, [rel al16 + 7]"], ins={"xmm0": A4})

# ---- arithmetic ----
for op in ["addps", "subps", "mulps", "divps", "minps", "maxps", "sqrtps"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4})
for op in ["addss", "subss", "mulss", "divss", "minss", "maxss", "sqrtss"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A4, "xmm1": f32(-8.0, 1.0, 1.0, 1.0)})
for op in ["addpd", "subpd", "mulpd", "divpd", "minpd", "maxpd", "sqrtpd"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A2, "xmm1": B2})
for op in ["addsd", "subsd", "mulsd", "divsd", "minsd", "maxsd", "sqrtsd"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A2, "xmm1": f64(2.0, 5.0)})
t("addps m128 misaligned", ["addps xmm0, [rel al16 + 4]"], ins={"xmm0": A4})
t("addss m32 unaligned", ["addss xmm0, [rel al16 + 4]"], ins={"xmm0": A4})
# NaN propagation: the first source's QNaN, an SNaN quietened (IE); MIN/MAX
# return the second operand for NaN and for +-0.
NAN_A = f32(QNAN | 1, 1.0, SNAN, 0.0)
NAN_B = f32(QNAN | 2, QNAN | 3, 1.0, 0x80000000)
for op in ["addps", "minps", "maxps"]:
    t(f"{op} nan/zero", [f"{op} xmm0, xmm1"], ins={"xmm0": NAN_A, "xmm1": NAN_B})
t("maxsd nan second", ["maxsd xmm0, xmm1"], ins={"xmm0": f64(1.0, 2.0),
                                                  "xmm1": f64(0x7ff8000000000005, 3.0)})
t("mulps inf*0 indefinite", ["mulps xmm0, xmm1"], ins={"xmm0": f32(INF, 0.0, 2.0, NINF),
                                                        "xmm1": f32(0.0, NINF, INF, NINF)})
t("divss by zero masked", ["divss xmm0, xmm1"], ins={"xmm0": f32(1.0), "xmm1": f32(0.0)})
t("addps overflow", ["addps xmm0, xmm1"], ins={"xmm0": f32(3e38, -3e38, 1.0, 1.0),
                                                "xmm1": f32(3e38, -3e38, 1e-10, 1.0)})
t("sqrtsd negative", ["sqrtsd xmm0, xmm1"], ins={"xmm0": f64(1.0, 7.0), "xmm1": f64(-4.0)})

# ---- compares ----
CA = f32(1.0, QNAN, 2.0, 3.0)
CB = f32(1.0, 1.0, 3.0, 2.0)
for p in range(8):
    t(f"cmpps {p}", [f"cmpps xmm0, xmm1, {p}"], ins={"xmm0": CA, "xmm1": CB})
for p in [0, 1, 3, 4, 7]:
    t(f"cmpsd {p}", [f"cmpsd xmm0, xmm1, {p}"], ins={"xmm0": f64(1.0, 9.0),
                                                    "xmm1": f64(2.0, 9.0)})
t("cmpss snan", ["cmpss xmm0, xmm1, 0"], ins={"xmm0": f32(SNAN, 5.0), "xmm1": f32(1.0)})
CMPV = [(1.0, 2.0), (2.0, 1.0), (3.0, 3.0), (QNAN, 1.0), (SNAN, 1.0)]
for op in ["comiss", "ucomiss"]:
    for a, b in CMPV:
        t(f"{op} {a if isinstance(a, float) else hex(a)},{b}", [f"{op} xmm0, xmm1"],
          ins={"xmm0": f32(a), "xmm1": f32(b)}, mask=0x8d5, f_in=0x8d5, out=())
for op in ["comisd", "ucomisd"]:
    for a, b in [(1.0, 2.0), (0x7ff8000000000000, 1.0)]:
        t(f"{op} {a if isinstance(a, float) else hex(a)},{b}", [f"{op} xmm0, xmm1"],
          ins={"xmm0": f64(a), "xmm1": f64(b)}, mask=0x8d5, f_in=0x8d5, out=())

# ---- conversions under each rounding mode ----
CV4 = f32(2.5, -2.5, 1.75, -0.5)
CV2 = f64(2.5, -1.5)
for rc in range(4):
    m = MXCSR | rc << 13
    t(f"cvtps2dq rc{rc}", ["cvtps2dq xmm0, xmm1"], ins={"xmm1": CV4}, mxcsr=m)
    t(f"cvtpd2dq rc{rc}", ["cvtpd2dq xmm0, xmm1"], ins={"xmm0": A4, "xmm1": CV2}, mxcsr=m)
    t(f"cvtpd2ps rc{rc}", ["cvtpd2ps xmm0, xmm1"], ins={"xmm0": A4,
                                                      "xmm1": f64(1.0 / 3.0, -1e-40)},
      mxcsr=m)
    t(f"cvtsd2ss rc{rc}", ["cvtsd2ss xmm0, xmm1"], ins={"xmm0": A4, "xmm1": f64(1e39)},
      mxcsr=m)
    t(f"cvtss2si rc{rc}", ["cvtss2si eax, xmm1", "cvtss2si rbx, xmm2", "cvtsd2si ecx, xmm3",
                           "cvtsd2si rdx, xmm4"],
      ins={"xmm1": f32(-1.5), "xmm2": f32(1e10 + 0.0), "xmm3": f64(2.5), "xmm4": f64(-7.5)},
      setup={"rax": 0, "rbx": 0, "rcx": 0, "rdx": 0}, mxcsr=m, out=(),
      gprs=("rax", "rbx", "rcx", "rdx"))
    t(f"cvtsi2ss rc{rc}", ["mov eax, 0x7fffffff", "cvtsi2ss xmm0, eax",
                           "mov rax, -0x7fffffffffffffff", "cvtsi2sd xmm1, rax",
                           "cvtdq2ps xmm2, xmm3"],
      ins={"xmm0": A4, "xmm1": A2, "xmm3": ints(4, 0x1000001, -0x1000003, 7, 0x7fffffc1)},
      mxcsr=m, out=("xmm0", "xmm1", "xmm2"))
t("cvtt truncates, indefinite", ["cvttss2si eax, xmm1", "cvttsd2si rbx, xmm2",
                                 "cvttps2dq xmm0, xmm3", "cvttpd2dq xmm4, xmm5"],
  ins={"xmm1": f32(-2.9), "xmm2": f64(1e20), "xmm3": f32(2.9, -2.9, 3e9, QNAN),
       "xmm4": A4, "xmm5": f64(-0.99, 0x7ff0000000000000)},
  mxcsr=MXCSR | 0x6000, out=("xmm0", "xmm4"), gprs=("rax", "rbx"))
t("cvtps2pd/cvtdq2pd/cvtss2sd", ["cvtps2pd xmm0, xmm1", "cvtdq2pd xmm2, xmm3",
                                 "cvtss2sd xmm4, xmm1"],
  ins={"xmm1": f32(0.1, SNAN), "xmm3": ints(4, -5, 0x7fffffff), "xmm4": A2},
  out=("xmm0", "xmm2", "xmm4"))

# ---- DAZ and FTZ ----
DEN = f32(DENORM, 0x80400000, 1.0, 0x00800000)
ONE = f32(1.0, 1.0, 1.0, 0.5)
for daz in [0, 1]:
    t(f"daz={daz} mulps denormal", ["mulps xmm0, xmm1"], ins={"xmm0": DEN, "xmm1": ONE},
      mxcsr=MXCSR | daz << 6)
    t(f"daz={daz} cmpss denormal", ["cmpss xmm0, xmm1, 0"],
      ins={"xmm0": f32(DENORM), "xmm1": f32(0.0)}, mxcsr=MXCSR | daz << 6)
for ftz in [0, 1]:
    t(f"ftz={ftz} underflow", ["mulps xmm0, xmm1", "mulsd xmm2, xmm3"],
      ins={"xmm0": f32(1e-20, 1e-30, 1.0, -1e-38), "xmm1": f32(1e-20, 1e-10, 1.0, 0.5),
           "xmm2": f64(1e-300), "xmm3": f64(1e-10)},
      mxcsr=MXCSR | ftz << 15, out=("xmm0", "xmm2"))
# FTZ does nothing when underflow is unmasked: #XM, UE with PE for an
# inexact result (SDM Vol. 1 §11.5.3.2: the post-computation flags ORed),
# UE alone for an exact one.
t("ftz, underflow unmasked", ["mulps xmm0, xmm1"],
  ins={"xmm0": f32(1e-30), "xmm1": f32(1e-10)}, mxcsr=(MXCSR & ~0x800) | 0x8000)
t("ftz, underflow unmasked, exact", ["mulps xmm0, xmm1"],
  ins={"xmm0": f32(2.0 ** -100), "xmm1": f32(2.0 ** -30)}, mxcsr=(MXCSR & ~0x800) | 0x8000)
t("overflow unmasked", ["mulss xmm0, xmm1"], ins={"xmm0": f32(1e30), "xmm1": f32(1e30)},
  mxcsr=MXCSR & ~0x400)
t("overflow unmasked, exact", ["mulsd xmm2, xmm3"],
  ins={"xmm2": f64(1e308), "xmm3": f64(10.0)}, mxcsr=MXCSR & ~0x400, out=("xmm2",))

# ---- logic, shuffles, unpacks ----
for op in ["andps", "andnps", "orps", "xorps", "andpd", "andnpd", "orpd", "xorpd"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4}, show_mxcsr=False)
SA = ints(4, 0x11111111, 0x22222222, 0x33333333, 0x44444444)
SB = ints(4, 0xaaaaaaaa, 0xbbbbbbbb, 0xcccccccc, 0xdddddddd)
for imm in [0x1b, 0xe4, 0x4e, 0xb1]:
    t(f"shufps {imm:#x}", [f"shufps xmm0, xmm1, {imm:#x}"], ins={"xmm0": SA, "xmm1": SB},
      show_mxcsr=False)
    t(f"pshufd/hw/lw {imm:#x}", [f"pshufd xmm0, xmm3, {imm:#x}", f"pshufhw xmm1, xmm3, {imm:#x}",
                                 f"pshuflw xmm2, xmm3, {imm:#x}"],
      ins={"xmm3": ints(2, 0, 0x1111, 0x2222, 0x3333, 0x4444, 0x5555, 0x6666, 0x7777)},
      out=("xmm0", "xmm1", "xmm2"), show_mxcsr=False)
for imm in range(4):
    t(f"shufpd {imm}", [f"shufpd xmm0, xmm1, {imm}"], ins={"xmm0": SA, "xmm1": SB},
      show_mxcsr=False)
for op in ["unpcklps", "unpckhps", "unpcklpd", "unpckhpd", "punpcklbw", "punpckhbw",
           "punpcklwd", "punpckhwd", "punpckldq", "punpckhdq", "punpcklqdq", "punpckhqdq"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": SA, "xmm1": SB}, show_mxcsr=False)

# ---- packed integers ----
IA = ints(1, 0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe, 0x40, 0xc0, 0x10, 0x20, 0x30, 0x90, 0x7e, 0x81,
          0x55, 0xaa)
IB = ints(1, 0x01, 0x01, 0xff, 0x01, 0xff, 0x03, 0x40, 0xc0, 0xf0, 0x60, 0x30, 0x90, 0x02, 0x80,
          0xaa, 0x55)
for op in ["paddb", "paddw", "paddd", "paddq", "paddsb", "paddsw", "paddusb", "paddusw",
           "psubb", "psubw", "psubd", "psubq", "psubsb", "psubsw", "psubusb", "psubusw",
           "pmullw", "pmulhw", "pmulhuw", "pmuludq", "pmaddwd", "pavgb", "pavgw", "psadbw",
           "pmaxsw", "pmaxub", "pminsw", "pminub", "pcmpeqb", "pcmpeqw", "pcmpeqd",
           "pcmpgtb", "pcmpgtw", "pcmpgtd", "packsswb", "packssdw", "packuswb",
           "pand", "pandn", "por", "pxor"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": IA, "xmm1": IB}, show_mxcsr=False)
t("paddb m128 misaligned", ["paddb xmm0, [rel al16 + 2]"], ins={"xmm0": IA},
  show_mxcsr=False)
for op in ["psllw", "pslld", "psllq", "psrlw", "psrld", "psrlq", "psraw", "psrad"]:
    for c in [1, 15, 33, 64]:
        t(f"{op} {c}", [f"{op} xmm0, {c}", f"{op} xmm2, xmm1"],
          ins={"xmm0": IA, "xmm1": ints(8, c + 1), "xmm2": IA}, out=("xmm0", "xmm2"),
          show_mxcsr=False)
for c in [1, 7, 15, 16]:
    t(f"pslldq/psrldq {c}", [f"pslldq xmm0, {c}", f"psrldq xmm1, {c}"],
      ins={"xmm0": IA, "xmm1": IA}, out=("xmm0", "xmm1"), show_mxcsr=False)
t("pextrw/pinsrw", ["pextrw eax, xmm1, 5", "pextrw rbx, xmm1, 15", "mov ecx, 0xabcd",
                    "pinsrw xmm0, ecx, 2", "pinsrw xmm0, [rel al16 + 1], 7"],
  ins={"xmm0": IA, "xmm1": IB}, show_mxcsr=False, gprs=("rax", "rbx"),
  setup={"rax": -1, "rbx": -1})
t("maskmovdqu", ["mov rdi, SCR + 0x100", "movdqa [rdi], xmm3", "maskmovdqu xmm1, xmm2",
                 f"movdqa xmm0, [abs SCR + 0x100]"],
  ins={"xmm1": IA, "xmm2": IB, "xmm3": bstr(b"................")}, show_mxcsr=False)

# ---- masks ----
t("movmskps/pd, pmovmskb", ["movmskps eax, xmm1", "movmskpd rbx, xmm1", "pmovmskb ecx, xmm2"],
  ins={"xmm1": f32(-1.0, 2.0, 0x80000000, QNAN | 0x80000000), "xmm2": IA}, out=(),
  setup={"rax": -1, "rbx": -1, "rcx": -1}, gprs=("rax", "rbx", "rcx"), show_mxcsr=False)

# ---- MXCSR ----
t("stmxcsr after ldmxcsr", ["ldmxcsr [rel mx_all]"], out=())
t("ldmxcsr reserved bit 16", ["ldmxcsr [rel mx_res16]"], out=())
t("ldmxcsr reserved bit 31", ["ldmxcsr [rel mx_res31]"], out=())
t("flags accumulate", ["addss xmm0, xmm1", "divss xmm0, xmm2", "addps xmm3, xmm4"],
  ins={"xmm0": f32(1.0), "xmm1": f32(1e-8), "xmm2": f32(0.0), "xmm3": f32(SNAN)},
  out=())

# ---- #XM / #UD for unmasked exceptions ----
t("unmasked ZE: #XM", ["divss xmm0, xmm1"], ins={"xmm0": f32(1.0, 2.0), "xmm1": f32(0.0)},
  mxcsr=MXCSR & ~0x200)
t("unmasked IE on one lane: #XM", ["sqrtps xmm0, xmm1"],
  ins={"xmm0": A4, "xmm1": f32(4.0, -1.0, 9.0, 16.0)}, mxcsr=MXCSR & ~0x80)
t("unmasked PE: #XM", ["addsd xmm0, xmm1"], ins={"xmm0": f64(1.0), "xmm1": f64(1e-20)},
  mxcsr=MXCSR & ~0x1000)
t("unmasked flag already set: no fault", ["addss xmm0, xmm1"],
  ins={"xmm0": f32(1.0), "xmm1": f32(2.0)}, mxcsr=(MXCSR & ~0x200) | 0x4)
t("cvtsd2si unmasked IE: #XM", ["mov eax, 0x1234", "cvtsd2si eax, xmm1"],
  ins={"xmm1": f64(1e30)}, mxcsr=MXCSR & ~0x80, out=(), gprs=("rax",))
t("comiss unmasked IE: #XM", ["comiss xmm0, xmm1"],
  ins={"xmm0": f32(QNAN), "xmm1": f32(1.0)}, mxcsr=MXCSR & ~0x80, out=(), mask=0x8d5)
t("OSXMMEXCPT=0: #UD", cr4(0x200) + ["divss xmm0, xmm1"],
  ins={"xmm0": f32(1.0, 2.0), "xmm1": f32(0.0)}, mxcsr=MXCSR & ~0x200,
  pre_post=cr4(0x600))

# ---- OS support: CR4.OSFXSR, CR0.TS, CR0.EM ----
t("OSFXSR=0 addps: #UD", cr4(0) + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=cr4(0x600))
t("OSFXSR=0 ldmxcsr: #UD", cr4(0) + ["ldmxcsr [rel mx_all]"], pre_post=cr4(0x600), out=())
t("OSFXSR=0 paddb: #UD", cr4(0) + ["paddb xmm0, xmm1"], ins={"xmm0": IA, "xmm1": IB},
  pre_post=cr4(0x600))
TS_ON = ["mov rax, cr0", "or eax, 8", "mov cr0, rax"]
TS_OFF = ["clts"]
t("TS=1 addps: #NM", TS_ON + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=TS_OFF)
t("TS=1 stmxcsr: #NM", TS_ON + [f"stmxcsr [abs SCR + 0x100]"], pre_post=TS_OFF, out=())
t("TS=1 fxsave: #NM", TS_ON + [f"fxsave [abs FXA]"], pre_post=TS_OFF, out=())
t("EM=1 addps: #UD", ["mov rax, cr0", "or eax, 4", "mov cr0, rax", "addps xmm0, xmm1"],
  ins={"xmm0": A4, "xmm1": B4}, pre_post=["mov rax, cr0", "and eax, ~4", "mov cr0, rax"])

# ---- FXSAVE / FXRSTOR ----
XMMS = [ints(8, 0x0101010101010101 * (i + 1), 0xf0f0f0f0f0f0f0f0 ^ i) for i in range(16)]
load_all = [f"movdqu xmm{i}, [rel {k(v)}]" for i, v in enumerate(XMMS)]
r.raw(["fninit", "mov rdi, FXA", "mov ecx, 512 / 8", "mov rax, 0x5a5a5a5a5a5a5a5a",
       "rep stosq"])
t("fxsave header", ["fninit", "fld1", "fldpi", "ldmxcsr [rel mx_some]"] + load_all +
  [f"fxsave64 [abs FXA]", "fninit", f"movzx eax, word [abs FXA]",
   f"movzx ebx, word [abs FXA + 2]", "movzx ecx, byte [abs FXA + 4]",
   f"mov edx, [abs FXA + 0x18]"], out=(), gprs=("rax", "rbx", "rcx", "rdx"),
  show_mxcsr=False)
t("fxsave xmm0/1/12/15", [], out=(), gprs=("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9"),
  show_mxcsr=False,
  pre_post=[f"mov {g}, [abs FXA + {0xa0 + off:#x}]" for g, off in
            zip(REGS, [0, 8, 0x10, 0x18, 0xc0, 0xc8, 0xf0, 0xf8])])
t("fxsave xmm2..11", [], out=(), gprs=REGS, show_mxcsr=False,
  pre_post=[f"mov {g}, [abs FXA + {0xa0 + off:#x}]" for g, off in
            zip(REGS, [0x20, 0x38, 0x40, 0x58, 0x60, 0x78, 0x80, 0xb8])])
t("fxrstor", [f"mov dword [abs FXA + 0x18], 0x9f80",
              f"mov qword [abs FXA + 0xb0], 0x1234",
              f"mov word [abs FXA], 0x0273", "pxor xmm1, xmm1",
              f"fxrstor64 [abs FXA]", "fnstcw [abs SCR + 0x100]", "fnstsw ax",
              "movzx r9d, ax", "movzx eax, word [abs SCR + 0x100]", "shl eax, 16", "or r9d, eax",
              "fninit"],
  out=("xmm1", "xmm15"), gprs=("r9",))
t("fxrstor reserved mxcsr: #GP", [f"mov dword [abs FXA + 0x18], 0x11f80",
                                  f"fxrstor64 [abs FXA]"], out=())
t("fxsave misaligned: #GP", [f"fxsave [abs FXA + 8]"], out=())
t("fxrstor misaligned: #GP", [f"fxrstor [abs FXA + 8]"], out=())

# ---- SSE4.2 ----
t("pcmpgtq", ["pcmpgtq xmm0, xmm1"], ins={"xmm0": ints(8, 1, -1), "xmm1": ints(8, -1, 0)},
  show_mxcsr=False)
t("pcmpgtq misaligned: #GP", ["pcmpgtq xmm0, [rel al16 + 8]"], ins={"xmm0": 0},
  show_mxcsr=False)
H, V = bstr(b"hello world"), bstr(b"aeiou")
STR = [("equal any", 0x00, V, H), ("ranges", 0x04, bstr(b"azAZ"), bstr(b"Hi, World!")),
       ("equal each", 0x08, bstr(b"abcdef"), bstr(b"abXdeZgh")),
       ("equal ordered", 0x0c, bstr(b"lo"), bstr(b"hello lo")),
       ("negative", 0x10, V, H), ("masked negative", 0x30, V, H),
       ("words ranges signed", 0x07, ints(2, -5, 5), ints(2, -6, -5, 0, 5, 6, -32768, 32767, 3)),
       ("msb", 0x40, V, H)]
for name, imm, a, b in STR:
    t(f"pcmpistri {name}", [f"pcmpistri xmm1, xmm2, {imm:#x}"], ins={"xmm1": a, "xmm2": b},
      out=(), show_mxcsr=False, gprs=("rcx",), mask=0x8d5, f_in=0x8d5, setup={"rcx": -1})
    t(f"pcmpistrm {name}", [f"pcmpistrm xmm1, xmm2, {imm | 0x40:#x}"],
      ins={"xmm1": a, "xmm2": b}, show_mxcsr=False, mask=0x8d5)
for eax, edx in [(3, 100), (-3, 8), (0, 0), (0x80000000, 5)]:
    t(f"pcmpestri eax={eax:#x} edx={edx:#x}", ["pcmpestri xmm1, [rel al16 + 1], 0x08"],
      ins={"xmm1": bstr(b"\x02\x03\x04\x05\x06\x07\x08\x09")}, out=(), show_mxcsr=False,
      gprs=("rcx",), mask=0x8d5, setup={"rax": eax & 0xffffffff | 0xffff_0000_0000_0000,
                                        "rdx": edx})
    t(f"pcmpestrm64 rax={eax:#x} rdx={edx:#x}", ["o64 pcmpestrm xmm1, [rel al16 + 1], 0x48"],
      ins={"xmm1": bstr(b"\x02\x03\x04\x05\x06\x07\x08\x09")}, show_mxcsr=False,
      mask=0x8d5, setup={"rax": eax & (2**64 - 1), "rdx": edx})

g.finish(["msg_hello: db `SSE and SSE2 (64-bit)\\n`, 0",
          "align 16",
          "al16: db " + ", ".join(str(i + 1) for i in range(48)),
          "mx_all: dd 0xffff",
          "mx_res16: dd 0x11f80",
          "mx_res31: dd 0x80001f80",
          "mx_some: dd 0x3f81"])
if __name__ == "__main__":
    sys.stdout.write(r.emit())

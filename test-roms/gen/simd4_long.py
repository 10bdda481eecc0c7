"""simd4_long.py: generates simd4-long.asm (see longgen.py, ssegen.py)."""
import sys
from ssegen import SseRom, f32, f64, ints, cr4, QNAN, SNAN, INF, NINF, DENORM, MXCSR

DOC = """
SSE3, SSSE3 and SSE4.1 in 64-bit mode (SDM Vol. 2 under each mnemonic,
Vol. 1 §12.1-12.10, Vol. 3 §13.1-13.2 and Table 13-1 for the OS support
bits): every legacy instruction of the three extensions but
MONITOR/MWAIT (which xlat does not implement nor advertise: #UD) and
FISTTP (which x87-prot tests; one test here), the SSSE3 ones in their
MMX and XMM forms, on edge values: ADDSUB/HADD/HSUB with NaN, inf and a
denormal; saturation (PHADDSW, PMADDUBSW, PACKUSDW), PSHUFB's bit 7 and
ignored index bits, PALIGNR shifts beyond the operands, PMULHRSW's
rounding, PSIGN by zero; PTEST's flags; the index bits PEXTRx/PINSRx/
EXTRACTPS ignore, their memory forms; PMOVSX/PMOVZX from memory (not
aligned); PHMINPOSUW ties, MPSADBW's block selects, BLENDV with the
implicit XMM0, DPPS/DPPD masks, ROUNDxx in each imm8 rounding mode, with
MXCSR.RC (bit 2) and with precision suppressed (bit 3), INSERTPS's zero
mask and memory form; the memory operands' alignment (#GP(0) for a
misaligned m128 of the legacy forms, MOVNTDQA too; LDDQU, MOVDDUP's m64,
the narrow PMOVSX/ZX sources and MMX-register forms not); #XM for an
unmasked exception (ROUNDPS on an SNaN with IM clear, DPPS overflow with
OM clear, ROUNDSS inexact with PM clear unless bit 3), the destination
unchanged; #UD with CR4.OSFXSR = 0 for the XMM forms.

Each test loads MXCSR (0x1f80 unless it says otherwise) and XMM inputs,
runs its instructions and prints XMM registers as rax:rbx, rcx:rdx,
rsi:rdi (low, high quadword) and MXCSR (or a GPR result) in r8/r9. MMX
results are printed through MOVQ2DQ (the high quadword zero).

QEMU 7.2 departs from the SDM as in sse-long; the host CPU (gen/sse_native.py
simd4_long runs the tests that need no CR0/CR4 change as a Linux user
program) agrees with the SDM on every disputed line, and
simd4-long.qemu-fix.patch turns QEMU's log into it:
- an unmasked SIMD floating-point exception (IE, OE, UE, PE) gets the
  masked response instead of #XM, the destination written: SDM Vol. 1
  §11.5.1 (an unmasked exception leaves the destination unchanged and
  raises #XM), Vol. 3 §6.15 "Interrupt 19", Vol. 2 "ROUNDPS"/"ROUNDSS"/
  "ROUNDSD", "DPPS", "DPPD", "HADDPD" (SIMD Floating-Point Exceptions;
  ROUND's imm8[3] suppresses PE only); the flags are the host's: PE of an
  overflow or underflow the unbounded result's (Vol. 1 §11.5.2.4-6), and
  DPPS/DPPD stop at the stage (products, pair sums, final sum) that raised
  the unmasked exception ("exceptions are determined separately for each
  add and multiply");
- no #GP(0) for a misaligned m128 operand of ADDSUBPS, HADDPS, HSUBPS,
  MOVSHDUP, MOVSLDUP, BLENDVPS, BLENDVPD, DPPS, ROUNDPS and PTEST (it
  does raise it for PSHUFB, PALIGNR, PBLENDVB, PMULLD, MOVNTDQA...): SDM
  Vol. 2A ch. 2, "Intel AVX and Intel SSE Instruction Exception
  Specification", exception types 2 and 4 (#GP(0) "Legacy SSE: Memory
  operand is not 16-byte aligned"), which those instructions' pages name;
- the denormal-operand flag DE is never set: SDM Vol. 1 §11.5.2.2;
- with two QNaN operands the result is the second source's, not the
  first's: SDM Vol. 1 §4.8.3.5 Table 4-7.

SSE4.1 is not in QEMU's default CPU model (qemu64); make-expected.sh
passes `-cpu max` for this ROM (simd4-long.qemu-args), xlat runs it on its
`xlat` model (simd4-long.cpu). Nothing printed depends on CPUID.
"""

g = SseRom("simd4-long.asm", DOC)
r, k, t = g.r, g.k, g.t
TESTS = g.tests  # for gen/sse_native.py


def mmx(name, code, ins, gprs=()):
    """An MMX-register test: loads the MMX registers `ins` maps to 8-byte
    constants, prints MM0 (through MOVQ2DQ) and leaves MMX with EMMS."""
    pre = [f"movq {m}, [rel {k(v)}]" for m, v in ins.items()]
    t(name, pre + code, ins={"xmm0": 0}, pre_post=["movq2dq xmm0, mm0", "emms"],
      show_mxcsr=False, gprs=gprs)


# CR4.OSFXSR | OSXMMEXCPT for everything below (CR0.EM = 0, TS = 0 from reset).
r.raw(cr4(0x600))

A4 = f32(1.5, -2.0, 3.25, 1e30)
B4 = f32(0.25, 4.0, -3.25, 1e30)
A2 = f64(1.0 / 3.0, -1e300)
B2 = f64(3.0, 1e300)
IA = ints(1, 0x00, 0x7f, 0x80, 0xff, 0x01, 0xfe, 0x40, 0xc0, 0x10, 0x20, 0x30, 0x90, 0x7e, 0x81,
          0x55, 0xaa)
IB = ints(1, 0x01, 0x01, 0xff, 0x01, 0xff, 0x03, 0x40, 0xc0, 0xf0, 0x60, 0x30, 0x90, 0x02, 0x80,
          0xaa, 0x55)
WA = ints(2, 0x7fff, 0x8000, 0x4000, 0xc000, 1, 0xffff, 0x7000, 0x9000)
WB = ints(2, 0x7fff, 0x8000, 0x0001, 0x4000, 0xffff, 0xffff, 0x1000, 0x8001)

# ---- SSE3 ----
for op in ["addsubps", "haddps", "hsubps"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4})
    t(f"{op} nan/inf", [f"{op} xmm0, xmm1"],
      ins={"xmm0": f32(QNAN | 1, QNAN | 2, INF, INF), "xmm1": f32(SNAN, 1.0, NINF, 2.0)})
    t(f"{op} denormal", [f"{op} xmm0, xmm1"],
      ins={"xmm0": f32(DENORM, 1.0, 2.0, 3.0), "xmm1": f32(1.0, 2.0, 3.0, 4.0)})
    t(f"{op} m128 misaligned: #GP", [f"{op} xmm0, [rel al16 + 4]"], ins={"xmm0": A4})
for op in ["addsubpd", "haddpd", "hsubpd"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": A2, "xmm1": B2})
    t(f"{op} nan/inf", [f"{op} xmm0, xmm1"],
      ins={"xmm0": f64(INF << 32 | 0, 0x7ff8000000000001),
           "xmm1": f64(0x7ff0000000000000, 0x7ff8000000000002)})
    t(f"{op} overflow", [f"{op} xmm0, xmm1"], ins={"xmm0": f64(1.7e308, 1.7e308),
                                                   "xmm1": f64(-1.7e308, -1.7e308)})
t("movddup reg, m64 misaligned", ["movddup xmm0, xmm1", "movddup xmm2, [rel al16 + 3]"],
  ins={"xmm1": A2}, out=("xmm0", "xmm2"), show_mxcsr=False)
t("movshdup/movsldup", ["movshdup xmm0, xmm2", "movsldup xmm1, [rel al16]"],
  ins={"xmm2": A4}, out=("xmm0", "xmm1"), show_mxcsr=False)
t("movshdup misaligned: #GP", ["movshdup xmm0, [rel al16 + 8]"], ins={"xmm0": A4},
  show_mxcsr=False)
t("movsldup misaligned: #GP", ["movsldup xmm0, [rel al16 + 8]"], ins={"xmm0": A4},
  show_mxcsr=False)
t("lddqu misaligned", ["lddqu xmm0, [rel al16 + 5]"], show_mxcsr=False)

# FISTTP (SSE3's x87 instruction, also in x87-prot): truncation whatever
# FCW.RC (here up), the integer indefinite for a value out of range (IE).
t("fisttp m16/m32/m64", ["fninit", "fldcw [rel fcw_up]",
                         "mov qword [abs SCR + 0x100], 0", "mov qword [abs SCR + 0x108], 0",
                         f"fld dword [rel {k(f32(-2.75))}]", "fisttp word [abs SCR + 0x100]",
                         f"fld dword [rel {k(f32(2.75))}]", "fisttp dword [abs SCR + 0x108]",
                         f"fld qword [rel {k(f64(-1e10 - 0.5))}]",
                         "fisttp qword [abs SCR + 0x110]",
                         f"fld dword [rel {k(f32(40000.0))}]", "fisttp word [abs SCR + 0x102]",
                         "fnstsw ax", "movzx esi, ax", "fninit",
                         "mov rax, [abs SCR + 0x100]", "mov rbx, [abs SCR + 0x108]",
                         "mov rcx, [abs SCR + 0x110]"],
  out=(), show_mxcsr=False, gprs=("rax", "rbx", "rcx", "rsi"))

# ---- SSSE3, XMM and MMX forms ----
SSSE3 = ["pabsb", "pabsw", "pabsd", "phaddw", "phaddd", "phaddsw", "phsubw", "phsubd",
         "phsubsw", "pmaddubsw", "pmulhrsw", "pshufb", "psignb", "psignw", "psignd"]
for op in SSSE3:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": IA, "xmm1": IB}, show_mxcsr=False)
    t(f"{op} words", [f"{op} xmm0, xmm1"], ins={"xmm0": WA, "xmm1": WB}, show_mxcsr=False)
    mmx(f"{op} mm", [f"{op} mm0, mm1"], {"mm0": IA >> 32, "mm1": WB >> 64})
t("pshufb index bits", ["pshufb xmm0, xmm1"],
  ins={"xmm0": IA, "xmm1": ints(1, 0x80, 0x8f, 0x10, 0x7f, 0x1f, 0x61, 0xff, 0x0e, 0x00,
                                0x41, 0x22, 0x33, 0x4c, 0x5d, 0x6e, 0x7f)},
  show_mxcsr=False)
mmx("pshufb mm index bits", ["pshufb mm0, mm1"],
    {"mm0": 0x8877665544332211, "mm1": 0x0f80_7e09_1c03_f102})
t("pmulhrsw rounding", ["pmulhrsw xmm0, xmm1"],
  ins={"xmm0": ints(2, 0x8000, 0x7fff, 1, 0x4000, 0xc000, 0x0003, 0xfffd, 0x2000),
       "xmm1": ints(2, 0x8000, 0x7fff, 0x4000, 0x0001, 0x0001, 0x5555, 0x5555, 0xffff)},
  show_mxcsr=False)
t("phaddsw/phsubsw saturation", ["phaddsw xmm0, xmm1", "phsubsw xmm2, xmm3"],
  ins={"xmm0": ints(2, 0x7fff, 1, 0x8000, 0xffff, 5, 6, 0x4000, 0x4000),
       "xmm1": ints(2, 0x8000, 0x8000, 0x7fff, 0x7fff, 3, 4, 0xc000, 0xc001),
       "xmm2": ints(2, 0x7fff, 0xffff, 0x8000, 1, 5, 6, 0x4000, 0xc000),
       "xmm3": ints(2, 0x8000, 0x7fff, 0x7fff, 0x8000, 3, 4, 0xc000, 0x4001)},
  out=("xmm0", "xmm2"), show_mxcsr=False)
t("pmaddubsw saturation", ["pmaddubsw xmm0, xmm1"],
  ins={"xmm0": ints(1, 0xff, 0xff, 0xff, 0xff, 0x80, 0x80, 1, 2, 0xff, 0, 0, 0xff, 3, 4, 5, 6),
       "xmm1": ints(1, 0x7f, 0x7f, 0x80, 0x80, 0x7f, 0x7f, 0xff, 0xff, 0x80, 0x7f, 0x7f, 0x80,
                    1, 0xff, 0x80, 2)},
  show_mxcsr=False)
for imm in [0, 1, 5, 15, 16, 17, 31, 32, 0xff]:
    t(f"palignr {imm}", [f"palignr xmm0, xmm1, {imm}"], ins={"xmm0": IA, "xmm1": IB},
      show_mxcsr=False)
for imm in [0, 3, 8, 9, 15, 16]:
    mmx(f"palignr mm {imm}", [f"palignr mm0, mm1, {imm}"],
        {"mm0": 0x8877665544332211, "mm1": 0xffeeddccbbaa9900})
t("pshufb m128 misaligned: #GP", ["pshufb xmm0, [rel al16 + 1]"], ins={"xmm0": IA},
  show_mxcsr=False)
t("palignr m128 misaligned: #GP", ["palignr xmm0, [rel al16 + 1], 3"], ins={"xmm0": IA},
  show_mxcsr=False)
mmx("pshufb mm, m64 misaligned", ["pshufb mm0, [rel al16 + 3]"], {"mm0": 0x8877665544332211})
mmx("phaddw mm, m64 misaligned", ["phaddw mm0, [rel al16 + 1]"], {"mm0": 0x8877665544332211})

# ---- SSE4.1: blends ----
for imm in [0x00, 0x05, 0x0a, 0xff]:
    t(f"blendps {imm:#x}", [f"blendps xmm0, xmm1, {imm:#x}"], ins={"xmm0": A4, "xmm1": B4},
      show_mxcsr=False)
    t(f"blendpd {imm:#x}", [f"blendpd xmm0, xmm1, {imm:#x}"], ins={"xmm0": A2, "xmm1": B2},
      show_mxcsr=False)
for imm in [0x00, 0x5a, 0x81, 0xff]:
    t(f"pblendw {imm:#x}", [f"pblendw xmm0, xmm1, {imm:#x}"], ins={"xmm0": IA, "xmm1": IB},
      show_mxcsr=False)
SEL = ints(1, 0x80, 0x7f, 0xff, 0x00, 0x01, 0x80, 0x00, 0x80, 0xc0, 0x40, 0x00, 0x00, 0x00, 0x00,
           0x00, 0x80)
for op in ["blendvps", "blendvpd", "pblendvb"]:
    t(op, [f"{op} xmm1, xmm2, xmm0"], ins={"xmm0": SEL, "xmm1": IA, "xmm2": IB},
      out=("xmm1",), show_mxcsr=False)
    t(f"{op} m128 misaligned: #GP", [f"{op} xmm1, [rel al16 + 8], xmm0"],
      ins={"xmm0": SEL, "xmm1": IA}, out=("xmm1",), show_mxcsr=False)

# ---- SSE4.1: dot products ----
DA = f32(1.0, 2.0, 3.0, 4.0)
DB = f32(10.0, 100.0, 1000.0, 10000.0)
for imm in [0xff, 0x31, 0xf1, 0x7e, 0x00, 0x1f, 0x8c]:
    t(f"dpps {imm:#x}", [f"dpps xmm0, xmm1, {imm:#x}"], ins={"xmm0": DA, "xmm1": DB})
t("dpps rounding order", ["dpps xmm0, xmm1, 0xf1"],
  ins={"xmm0": f32(1e8, 1.0, -1e8, 1.0), "xmm1": f32(1.0, 1.0, 1.0, 1.0)})
t("dpps -0 products", ["dpps xmm0, xmm1, 0x1f"],
  ins={"xmm0": f32(-0.0, 1.0, 1.0, 1.0), "xmm1": f32(1.0, 1.0, 1.0, 1.0)})
t("dpps nan/inf", ["dpps xmm0, xmm1, 0xf1"],
  ins={"xmm0": f32(INF, 1.0, NINF, QNAN | 5), "xmm1": f32(1.0, 1.0, 1.0, 1.0)})
t("dpps overflow masked", ["dpps xmm0, xmm1, 0xff"],
  ins={"xmm0": f32(3e38, 3e38, 1.0, 1.0), "xmm1": f32(2.0, 1.0, 0.0, 0.0)})
t("dpps overflow unmasked: #XM", ["dpps xmm0, xmm1, 0xff"],
  ins={"xmm0": f32(3e38, 3e38, 1.0, 1.0), "xmm1": f32(2.0, 1.0, 0.0, 0.0)},
  mxcsr=MXCSR & ~0x400)
# With an exception unmasked the stages stop at the first that raises one:
# the products, then the two pair sums, then the final sum (SDM Vol. 2
# "DPPS": exceptions are determined separately for each add and multiply),
# PE that of the stage's unbounded result (Vol. 1 §11.5.2.4).
t("dpps overflow unmasked, inexact: #XM", ["dpps xmm0, xmm1, 0xff"],
  ins={"xmm0": f32(3e38, 1.0, 1.0, 1.0), "xmm1": f32(1.3, 1.0, 0.0, 0.0)},
  mxcsr=MXCSR & ~0x400)
t("dpps sum overflow unmasked: #XM", ["dpps xmm0, xmm1, 0x31"],
  ins={"xmm0": f32(3e38, 3e38, 1.0, 1.0), "xmm1": f32(1.0, 1.0, 0.0, 0.0)},
  mxcsr=MXCSR & ~0x400)
t("dpps final sum overflow unmasked: #XM", ["dpps xmm0, xmm1, 0x5f"],
  ins={"xmm0": f32(3e38, 1.0, 3e38, 1.0), "xmm1": f32(1.0, 1.0, 1.0, 0.0)},
  mxcsr=MXCSR & ~0x400)
t("dpps underflow unmasked: #XM", ["dpps xmm0, xmm1, 0x11"],
  ins={"xmm0": f32(1e-20, 1.0, 1.0, 1.0), "xmm1": f32(1e-20, 1.0, 0.0, 0.0)},
  mxcsr=MXCSR & ~0x800)
t("dpps inf*0 unmasked: #XM", ["dpps xmm0, xmm1, 0x3f"],
  ins={"xmm0": f32(INF, 3e38, 1.0, 1.0), "xmm1": f32(0.0, 3e38, 0.0, 0.0)},
  mxcsr=MXCSR & ~0x80)
t("dppd sum overflow unmasked: #XM", ["dppd xmm0, xmm1, 0x31"],
  ins={"xmm0": f64(1.5e308, 1.5e308), "xmm1": f64(1.0, 1.0)}, mxcsr=MXCSR & ~0x400)
t("haddpd overflow unmasked: #XM", ["haddpd xmm0, xmm1"],
  ins={"xmm0": f64(1.5e308, 1.5e308), "xmm1": f64(1.0, 1.0)}, mxcsr=MXCSR & ~0x400)
for imm in [0x33, 0x31, 0x12, 0x23, 0x00, 0xff]:
    t(f"dppd {imm:#x}", [f"dppd xmm0, xmm1, {imm:#x}"],
      ins={"xmm0": f64(1.5, -2.0), "xmm1": f64(3.0, 0.25)})
t("dppd -0 product", ["dppd xmm0, xmm1, 0x13"],
  ins={"xmm0": f64(-0.0, 5.0), "xmm1": f64(1.0, 1.0)})
t("dpps m128 misaligned: #GP", ["dpps xmm0, [rel al16 + 4], 0xff"], ins={"xmm0": DA})

# ---- SSE4.1: rounding ----
RV4 = f32(2.5, -2.5, 1.75, -0.5)
RV2 = f64(2.5, -1.5)
for imm in [0, 1, 2, 3, 8, 9, 10, 11, 0xf3]:
    t(f"roundps {imm:#x}", [f"roundps xmm0, xmm1, {imm:#x}"], ins={"xmm1": RV4})
    t(f"roundpd {imm:#x}", [f"roundpd xmm0, xmm1, {imm:#x}"], ins={"xmm1": RV2})
for rc in range(4):
    m = MXCSR | rc << 13
    t(f"roundps mxcsr.rc{rc}", ["roundps xmm0, xmm1, 4"], ins={"xmm1": RV4}, mxcsr=m)
    t(f"roundpd mxcsr.rc{rc}", ["roundpd xmm0, xmm1, 0x0c"], ins={"xmm1": RV2}, mxcsr=m)
    t(f"roundss/sd mxcsr.rc{rc}", ["roundss xmm0, xmm1, 4", "roundsd xmm2, xmm3, 0x0c"],
      ins={"xmm0": A4, "xmm1": f32(-1.5, 9.0), "xmm2": A2, "xmm3": f64(3.5, 9.0)}, mxcsr=m,
      out=("xmm0", "xmm2"))
for imm in [0, 1, 2, 3, 9]:
    t(f"roundss/sd {imm:#x}", [f"roundss xmm0, xmm1, {imm:#x}",
                               f"roundsd xmm2, [rel {k(f64(-2.5, 7.0))}], {imm:#x}"],
      ins={"xmm0": A4, "xmm1": f32(0.5, 7.0), "xmm2": A2}, out=("xmm0", "xmm2"))
t("roundps specials", ["roundps xmm0, xmm1, 0"],
  ins={"xmm1": f32(SNAN, QNAN | 3, NINF, 0x80000000)})
t("roundpd specials", ["roundpd xmm0, xmm1, 1"],
  ins={"xmm1": f64(0x7ff4000000000000, 1e300)})
t("roundps denormal", ["roundps xmm0, xmm1, 2"], ins={"xmm1": f32(DENORM, 0x80000001, 1.0, 1.0)})
t("roundps denormal daz", ["roundps xmm0, xmm1, 2"],
  ins={"xmm1": f32(DENORM, 0x80000001, 1.0, 1.0)}, mxcsr=MXCSR | 0x40)
t("roundss m32 unaligned", ["roundss xmm0, [rel al16 + 1], 1"], ins={"xmm0": A4})
t("roundps m128 misaligned: #GP", ["roundps xmm0, [rel al16 + 4], 0"], ins={"xmm0": A4})
t("roundps snan unmasked: #XM", ["roundps xmm0, xmm1, 0"],
  ins={"xmm0": A4, "xmm1": f32(1.0, SNAN, 2.0, 3.0)}, mxcsr=MXCSR & ~0x80)
t("roundss inexact unmasked: #XM", ["roundss xmm0, xmm1, 0"],
  ins={"xmm0": A4, "xmm1": f32(2.5)}, mxcsr=MXCSR & ~0x1000)
t("roundss inexact unmasked, suppressed", ["roundss xmm0, xmm1, 8"],
  ins={"xmm0": A4, "xmm1": f32(2.5)}, mxcsr=MXCSR & ~0x1000)
t("roundsd snan unmasked, suppressed: #XM", ["roundsd xmm0, xmm1, 8"],
  ins={"xmm0": A2, "xmm1": f64(0x7ff4000000000000)}, mxcsr=MXCSR & ~0x80)

# ---- SSE4.1: extract and insert ----
EX = ints(1, *range(0x80, 0x90))
t("pextrb/w/d/q index bits", ["pextrb eax, xmm1, 0x1f", "pextrd ebx, xmm1, 7",
                              "pextrq rcx, xmm1, 3",
                              "db 0x66, 0x0f, 0x3a, 0x15, 0xca, 9",  # pextrw edx, xmm1, 9
                              "extractps esi, xmm1, 6", "extractps rdi, xmm1, 5"],
  ins={"xmm1": EX}, out=(), show_mxcsr=False, gprs=("rax", "rbx", "rcx", "rdx", "rsi", "rdi"),
  setup={g_: -1 for g_ in ("rax", "rbx", "rcx", "rdx", "rsi", "rdi")})
t("pextrx/extractps to memory", ["mov qword [abs SCR + 0x100], -1",
                                 "mov qword [abs SCR + 0x108], -1",
                                 "pextrb [abs SCR + 0x101], xmm1, 0x13",
                                 "pextrw [abs SCR + 0x103], xmm1, 0x0b",
                                 "pextrd [abs SCR + 0x105], xmm1, 2",
                                 "extractps [abs SCR + 0x109], xmm1, 0xff",
                                 "pextrq [abs SCR + 0x117], xmm1, 0xfe",
                                 "movdqu xmm0, [abs SCR + 0x100]",
                                 "movdqu xmm2, [abs SCR + 0x110]"],
  ins={"xmm1": EX}, out=("xmm0", "xmm2"), show_mxcsr=False)
t("pinsrb/d/q index bits", ["mov eax, 0x11223344", "mov rbx, 0x5566778899aabbcc",
                            "pinsrb xmm0, eax, 0x13", "pinsrd xmm0, eax, 6",
                            "pinsrq xmm1, rbx, 3", "pinsrb xmm2, [rel al16 + 7], 0x0f",
                            "pinsrd xmm2, [rel al16 + 1], 0",
                            "pinsrq xmm3, [rel al16 + 3], 0"],
  ins={"xmm0": IA, "xmm1": IA, "xmm2": IA, "xmm3": IA}, out=("xmm0", "xmm1", "xmm2"),
  show_mxcsr=False, gprs=())
IS_D = f32(1.0, 2.0, 3.0, 4.0)
IS_S = f32(10.0, 20.0, 30.0, 40.0)
for imm in [0x00, 0xe5, 0x30, 0x4f, 0x9a, 0x0f]:
    t(f"insertps {imm:#x}", [f"insertps xmm0, xmm1, {imm:#x}"], ins={"xmm0": IS_D, "xmm1": IS_S},
      show_mxcsr=False)
t("insertps m32, count_s ignored", ["insertps xmm0, [rel al16 + 2], 0xd2"],
  ins={"xmm0": IS_D}, show_mxcsr=False)

# ---- SSE4.1: packed integers ----
DA_I = ints(4, 0x7fffffff, -1, 0x80000000, 5)
DB_I = ints(4, 2, -3, 0x80000000, 0x10000)
for op in ["pmulld", "pmuldq", "pminsd", "pmaxsd", "pminud", "pmaxud", "packusdw"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": DA_I, "xmm1": DB_I}, show_mxcsr=False)
for op in ["pminsb", "pmaxsb", "pminuw", "pmaxuw"]:
    t(op, [f"{op} xmm0, xmm1"], ins={"xmm0": IA, "xmm1": IB}, show_mxcsr=False)
t("packusdw saturation", ["packusdw xmm0, xmm1"],
  ins={"xmm0": ints(4, 0x10000, 0xffff, -1, 0x8000), "xmm1": ints(4, 0x7fffffff, 0, -65536, 1)},
  show_mxcsr=False)
t("pcmpeqq", ["pcmpeqq xmm0, xmm1"], ins={"xmm0": ints(8, 5, -1), "xmm1": ints(8, 5, 1 << 63)},
  show_mxcsr=False)
t("pmulld m128 misaligned: #GP", ["pmulld xmm0, [rel al16 + 4]"], ins={"xmm0": DA_I},
  show_mxcsr=False)
for w, op in [(8, "bw"), (4, "bd"), (2, "bq"), (8, "wd"), (4, "wq"), (4, "dq")]:
    for s in ["sx", "zx"]:
        t(f"pmov{s}{op}", [f"pmov{s}{op} xmm0, xmm1",
                           f"pmov{s}{op} xmm2, [rel al16 + 1]"],
          ins={"xmm1": IA, "xmm2": 0}, out=("xmm0", "xmm2"), show_mxcsr=False)
t("pmovsxbw m64 misaligned", ["pmovsxbw xmm0, [rel mneg + 3]"], show_mxcsr=False)
t("pmovzxbq m16 misaligned", ["pmovzxbq xmm0, [rel mneg + 7]"], show_mxcsr=False)
PH = [ints(2, 9, 8, 7, 3, 5, 3, 6, 4), ints(2, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
                                            0xffff, 0xffff),
      ints(2, 1, 0, 0x8000, 0, 2, 3, 4, 0)]
for i, v in enumerate(PH):
    t(f"phminposuw {i}", ["phminposuw xmm0, xmm1"], ins={"xmm0": IA, "xmm1": v},
      show_mxcsr=False)
MS_D = ints(1, *range(0, 160, 15), 0xff, 0xfe, 0x01)
MS_S = ints(1, 0x10, 0x20, 0x30, 0x40, 0x0f, 0xff, 0x00, 0x80, 0x11, 0x22, 0x33, 0x44, 0x55,
            0x66, 0x77, 0x88)
for imm in [0, 1, 2, 3, 4, 7, 0xfd]:
    t(f"mpsadbw {imm:#x}", [f"mpsadbw xmm0, xmm1, {imm:#x}"], ins={"xmm0": MS_D, "xmm1": MS_S},
      show_mxcsr=False)
t("movntdqa", ["movntdqa xmm0, [rel al16 + 16]"], show_mxcsr=False)
t("movntdqa misaligned: #GP", ["movntdqa xmm0, [rel al16 + 8]"], ins={"xmm0": 0},
  show_mxcsr=False)
PT = [(ints(8, 0x0f, 0), ints(8, 0xf0, 0)), (ints(8, 0x0f, 0), ints(8, 0xff, 1)),
      (ints(8, -1, -1), ints(8, 0, 0)), (ints(8, 1, 2), ints(8, 1, 2)),
      (ints(8, 0, 0), ints(8, 0, 0))]
for i, (a, b) in enumerate(PT):
    t(f"ptest {i}", ["ptest xmm0, xmm1"], ins={"xmm0": a, "xmm1": b}, out=(),
      show_mxcsr=False, mask=0x8d5, f_in=0x8d5)
t("ptest m128 misaligned: #GP", ["ptest xmm0, [rel al16 + 4]"], ins={"xmm0": 0}, out=(),
  show_mxcsr=False, mask=0x8d5, f_in=0x8d5)

# ---- OS support: CR4.OSFXSR ----
for name, ins_ in [("haddps", "haddps xmm0, xmm1"), ("pshufb xmm", "pshufb xmm0, xmm1"),
                   ("roundps", "roundps xmm0, xmm1, 0"), ("ptest", "ptest xmm0, xmm1"),
                   ("pmovzxbw", "pmovzxbw xmm0, xmm1")]:
    t(f"OSFXSR=0 {name}: #UD", cr4(0) + [ins_], ins={"xmm0": IA, "xmm1": IB},
      pre_post=cr4(0x600), show_mxcsr=False)

g.finish(["msg_hello: db `SSE3, SSSE3 and SSE4.1 (64-bit)\\n`, 0",
          "align 16",
          "al16: db " + ", ".join(str(i + 1) for i in range(48)),
          "fcw_up: dw 0x0b7f",
          "mneg: db " + ", ".join(str(0x80 + 9 * i & 0xff) for i in range(16))])
if __name__ == "__main__":
    sys.stdout.write(r.emit())

"""sse_prot.py: generates sse-prot.asm (see protgen.py and sseprotgen.py;
the lane builders come from ssegen.py)."""
import sys
from ssegen import f32, f64, ints, bstr, QNAN, SNAN, DENORM, MXCSR
from sseprotgen import ProtSseRom, cr0, cr4, SEGS, SEG8, A4, B4, A2, B2, IA, IB, MMA, MMB
from sse_prot_mem import limits, system

DOC = """
SSE, SSE2, MMX and FXSAVE/FXRSTOR in 32-bit protected mode (legacy mode,
no REX: XMM0-7 only). SDM Vol. 1 ch. 9-11, Vol. 2 under each mnemonic
(its "Protected Mode Exceptions"), Vol. 3 §2.5 (CR0.EM/TS), §13.1-13.2
and Table 13-1 (CR4.OSFXSR, OSXMMEXCPT, CR0.EM/TS for SSE), Table 12-1
(EM/TS for MMX), §6.15 "Interrupt 19".
- OS support: with CR4.OSFXSR = 0 SSE instructions (LDMXCSR, MOVD xmm,
  CVTPI2PS, MOVQ2DQ too) raise #UD, MMX ones (and PSHUFW, an MMX form SSE
  added) run; an unmasked SIMD exception raises #UD with OSXMMEXCPT = 0 and
  #XM (vector 19) with it set, the flag in MXCSR set and the destination
  unchanged; CR0.EM = 1: #UD for SSE, MMX, EMMS, LDMXCSR, also with TS = 1
  (EM wins), but #NM for FXSAVE (Vol. 2 "FXSAVE": #NM if CR0.TS or
  CR0.EM); CR0.TS = 1: #NM for SSE, MMX, EMMS, FXSAVE, STMXCSR, and after
  CLTS they run (MP = 0 changes nothing for SSE); MOVNTI, the fences,
  PREFETCHh and CLFLUSH run with EM = TS = 1 and OSFXSR = 0 (no SSE
  register state); a pending unmasked x87 exception (CR0.NE = 1) is #MF at an
  MMX instruction, EMMS and CVTPI2PD xmm, mm (Vol. 2 "PADDW", "EMMS",
  "CVTPI2PD"), never at an SSE one or CVTPI2PD xmm, m64.
- Memory operands go through ESI/EDI with DS = 0xb8, a data segment based
  at SEGBASE = 0x40000 (limit 0xffff): the ROM's constants are copied to
  SEGBASE + DOFF (ESI = DOFF in every test), stores go to SEGBASE + SOFF
  (EDI = SOFF) and are read back through the flat selector, so a base that
  is not applied shows. DS = 0xc0 has base SEGBASE + 8: the aligned forms'
  #GP(0) (Vol. 2 "MOVAPS": "If a memory operand is not aligned on a 16-byte
  boundary") is about the linear address, so an offset ending in 8 is
  aligned there and one ending in 0 is not (also for FXSAVE). FS and ES
  overrides (MASKMOVDQU's DS:EDI too), 16-bit addressing (wrapping at 64K,
  BP through SS) and the SS segment.
- A representative of each family with a memory operand: the moves,
  arithmetic, CMPPS predicates, COMISS/UCOMISD (EFLAGS), conversions under
  each rounding control, shuffles, packed integers, PMOVMSKB/MOVMSKPS,
  MASKMOVDQU, LDMXCSR/STMXCSR and LDMXCSR's #GP(0) for a reserved bit, DAZ
  and FTZ; MMX (MOVQ, MOVD, PADDW, PSHUFW, MASKMOVQ, EMMS) and what it
  does to the x87 state (Vol. 1 §9.5.1, §9.6.2): TOP = 0 and every tag
  valid, the written register's bits 79-64 all ones, so FNSTENV's tag word
  (computed from the contents) is 0xaaaa after all eight are written and
  0xffff after EMMS, FXSAVE's abridged tag byte 0xff; the same transition
  for CVTPI2PS/CVTPI2PD from an MMX register, CVTPS2PI, CVTTPS2PI,
  MOVQ2DQ, MOVDQ2Q, and none for CVTPI2PD from m64. (CVTPI2PS from m64 is
  left out: its SDM page says it makes the transition, the host's AMD CPU
  and Bochs do not.)
- Alignment, limits and types: MOVAPS/MOVDQA/ADDPS m128 misaligned #GP(0),
  MOVUPS/MOVDQU/MOVSS not; an operand that ends past the segment limit
  (byte- and page-granular, expand-down with B = 1 and B = 0), a write to
  a read-only segment (MOVAPS, STMXCSR, MASKMOVDQU, FXSAVE) or through a CS
  override, and a null DS: #GP(0), through SS (MOVDQU, FXSAVE) #SS(0);
  the faulting store writes nothing; the #GP(0) comes before an unmasked
  #XM of the same instruction; CLFLUSH checks the limit, PREFETCHT0 does
  not fault (Vol. 2 "CLFLUSH", "PREFETCHh").
- Paging (32-bit): an m128 or m64 crossing into a not-present page, a
  store to a read-only page with CR0.WP = 1 (MOVAPS, MASKMOVDQU), a CPL 3
  access to a supervisor page: #PF with CR2 and the error code, nothing
  stored; #GP(0) for misalignment before the page walk; a page mapped
  elsewhere; the accessed and dirty bits an SSE load, store and FXSAVE set.
- Data breakpoints (DR0 on a linear address, segment base included; Vol. 3
  §18.2.4, §18.3.1.2) hit by part of a MOVAPS/MOVQ/MASKMOVDQU store, a
  MOVUPS load, LDMXCSR or FXSAVE: #DB after the instruction; none next to
  the access, none (but the #GP(0)) for a faulting one. Decoding in 32-bit
  mode: 0x48 is DEC EAX (no REX), F2 0F C2 is CMPSD xmm (not the string
  instruction), 66 before F3 0F 58 is still ADDSS; MOVNTPS misaligned
  #GP(0); PINSRW m16.
- At CPL 3 (INT 0x80 back; its line starts with "#80"): SSE runs, #XM
  arrives through the TSS stack; with CR0.AM = 1 and EFLAGS.AC = 1 a
  misaligned MOVSS/LDMXCSR m32, MOVSD m64 or MMX MOVQ m64 raises #AC(0)
  (vector 17), a misaligned MOVAPS #GP(0), aligned operands and CPL 0 run.
- In a 16-bit code segment: the mandatory prefixes keep their meaning,
  16-bit and 67-prefixed addressing, #GP(0) with CS = 0x70, and FXSAVE's
  FIP/FCS (the 16-bit IP and selector).
- FXSAVE/FXRSTOR, 32-bit format (Vol. 2 "FXSAVE" Table 3-53, Vol. 1
  §8.1.8-8.1.9): FCW, FSW, abridged FTW, FOP, FIP, FCS, FDP, FDS after an
  FLD m32 through DS = 0xb8 (FDP is the offset, FDS the selector) and after
  FLD m64 through FS then FADD (FIP and FOP move on, FDP and FDS stay), all
  zero after FNINIT; MXCSR and MXCSR_MASK, XMM0-7; the XMM8-15 area and
  bytes 464-511 are left as they were (0x5a); FXRSTOR of the image and of
  the pointers, and FNSTENV's tags after FXRSTOR of an abridged tag byte
  (derived from the registers' contents); #GP(0) for a reserved MXCSR bit in FXRSTOR's image, for a
  misaligned image and for one past the segment limit: all 512 bytes of
  the m512byte operand are checked, also the bytes 464-511 it does not
  write (Bochs checks only the bytes it writes; see BOCHS-DIFFS).

Each test loads MXCSR (0x1f80 unless it says otherwise) and XMM inputs,
runs its instructions and prints, in eax, ebx, ... edi (six a line, then
lines "NAME +" with f=0000): the XMM registers it names, as four dwords
from low to high, then GPRs, MMX registers (two dwords) and memory it
names, then MXCSR. A fault prints its vector, error code and EIP first
(protgen.py). (protgen's dump cannot print EBP: its slot holds dump's own
frame pointer.)

Not printed: what depends on the CPU model or vendor (CPUID, RCPPS,
the FXSAVE reserved bytes 5, 14-15, 22-23 and 42-47 of each register).

REFERENCE: QEMU 7.2 (qemu64) departs from the SDM in many places here;
sse-prot.qemu-fix.patch turns its log into the SDM's, which is Bochs's log
except for the one FXSAVE limit line above. gen/sse_prot_native.py runs
the tests a Linux user program can run (no CR0/CR4 or segment changes) on
the host's CPU (AMD EPYC) and agrees with every one of its lines (101 of
them, the disputed #XM, DE, LDMXCSR, #MF and MMX-state lines among them).
What the patch changes:
- an unmasked SIMD floating-point exception (ZE, IE, UE with FTZ) gets the
  masked response instead of #XM with CR4.OSXMMEXCPT = 1 (at CPL 3 too) or
  #UD with it 0 (SDM Vol. 1 §11.5.1, Vol. 3 §6.15; FTZ only with UE
  masked, Vol. 1 §10.2.3.3), as in sse-long; the denormal-operand flag DE is never set
  (Vol. 1 §11.5.2.2);
- LDMXCSR and FXRSTOR load reserved MXCSR bits instead of raising #GP(0):
  SDM Vol. 2 "LDMXCSR", "FXRSTOR" (Protected Mode Exceptions);
- EMMS runs with CR0.EM = 1 or CR0.TS = 1 (Vol. 2 "EMMS": #UD, #NM);
  with EM = TS = 1 SSE and MMX instructions raise #NM instead of #UD
  (Vol. 3 Table 13-1, Table 12-1); CVTPI2PS and MOVQ2DQ run with
  CR4.OSFXSR = 0, CVTPI2PD xmm, m64 with CR0.TS = 1 (Vol. 2 "CVTPI2PS",
  "MOVQ2DQ", "CVTPI2PD": #UD, #NM);
- no #MF for a pending x87 exception at MMX instructions, EMMS and
  CVTPI2PD xmm, mm, and the unmasked #Z of FDIVP pops the stack (Vol. 1
  §8.5.3: TOP unchanged), as in x87-prot; CVTPI2PD xmm, m64 makes the MMX
  transition;
- an MMX register write leaves bits 79-64 of the x87 register as they were
  (Vol. 1 §9.5.1: all ones), so FNSTENV's tags and the FXSAVE image differ;
- FXSAVE writes no FOP (the 0x5a fill stays) and zeros for FIP, FCS, FDP,
  FDS, FXRSTOR loads none of them (Vol. 1 §8.1.8-8.1.9, Vol. 2 "FXSAVE");
- no #AC at all (as in ac-prot; SDM Vol. 3 §6.15 "Interrupt 17");
- a MOVUPS store that crosses into a not-present page writes its first 8
  bytes before the #PF (SDM Vol. 3 §6.5 "Faults": the faulting instruction
  is restarted as if it had not run; Bochs and the host store nothing);
- no segment limit or type checks on data accesses (as in seglimit-prot):
  past DS's limit (an m128, m64, m32, an FXSAVE image, CLFLUSH), below an
  expand-down segment's, a write to a read-only segment or through a null
  DS gives no #GP(0), past SS's limit no #SS(0) (Vol. 3 §5.3-5.4, §6.15
  "Interrupt 13", Vol. 2 "Protected Mode Exceptions").
"""

g = ProtSseRom("sse-prot.asm", DOC)
r, k, m, t, raw = g.r, g.k, g.m, g.t, g.raw
TESTS = g.tests  # for gen/sse_prot_native.py


# CR0.NE = 1 (an unmasked x87 exception is #MF), MP = 1, EM = TS = 0; the
# constants copied to the data segment; CR4.OSFXSR | OSXMMEXCPT.
raw(cr0(0x22, 0xc) +
      ["mov esi, ROMBASE + dstart", "mov edi, SEGBASE + DOFF", "mov ecx, dend - dstart",
       "rep movsb"] + cr4(0x600))

# ---- OS support: CR4.OSFXSR ----
ON = cr4(0x600)
t("OSFXSR=0 addps: #UD", cr4(0) + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=ON)
t("OSFXSR=0 movaps m128: #UD", cr4(0) + [f"movaps xmm0, {m('al16')}"], ins={"xmm0": A4},
  pre_post=ON)
t("OSFXSR=0 movd xmm: #UD", cr4(0) + ["mov ebx, 0x12345678", "movd xmm0, ebx"],
  ins={"xmm0": A4}, pre_post=ON)
t("OSFXSR=0 paddb xmm: #UD", cr4(0) + ["paddb xmm0, xmm1"], ins={"xmm0": IA, "xmm1": IB},
  pre_post=ON)
t("OSFXSR=0 ldmxcsr: #UD", cr4(0) + [f"ldmxcsr {m('mx_all')}"], out=(), pre_post=ON)
t("OSFXSR=0 mmx runs", cr4(0) + [f"movq mm0, {m(MMA)}", f"paddw mm0, {m(MMB)}",
                                 f"pshufw mm1, {m(MMA)}, 0x1b", "emms"],
  out=(), mms=("mm0", "mm1"), show_mxcsr=False, pre_post=ON)

# ---- unmasked SIMD exceptions: #XM, or #UD with OSXMMEXCPT = 0 ----
t("OSXMMEXCPT=0 unmasked ZE: #UD", cr4(0x200) + [f"divss xmm0, {m(f32(0.0))}"],
  ins={"xmm0": f32(1.0, 2.0)}, mxcsr=MXCSR & ~0x200, pre_post=ON)
t("unmasked ZE divss m32: #XM", [f"divss xmm0, {m(f32(0.0))}"],
  ins={"xmm0": f32(1.0, 2.0)}, mxcsr=MXCSR & ~0x200)
t("unmasked IE sqrtpd m128: #XM", [f"sqrtpd xmm0, {m(f64(4.0, -1.0))}"],
  ins={"xmm0": A2}, mxcsr=MXCSR & ~0x80)
t("unmasked ZE, flag already set: no fault", [f"divss xmm0, {m(f32(2.0))}"],
  ins={"xmm0": f32(1.0)}, mxcsr=(MXCSR & ~0x200) | 0x4)

# ---- CR0.EM and CR0.TS ----
EM_ON, EM_OFF = cr0(0x4, 0), cr0(0, 0x4)
TS_ON = cr0(0x8, 0)
t("EM=1 addps: #UD", EM_ON + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=EM_OFF)
t("EM=1 ldmxcsr: #UD", EM_ON + [f"ldmxcsr {m('mx_all')}"], out=(), pre_post=EM_OFF)
t("EM=1 paddw mm: #UD", EM_ON + ["paddw mm0, mm1"], out=(), show_mxcsr=False,
  pre_post=EM_OFF)
t("EM=1 pshufw mm: #UD", EM_ON + ["pshufw mm0, mm1, 0"], out=(), show_mxcsr=False,
  pre_post=EM_OFF)
t("EM=1 emms: #UD", EM_ON + ["emms"], out=(), show_mxcsr=False, pre_post=EM_OFF)
t("EM=1 fxsave: #NM", EM_ON + ["fxsave [edi]"], out=(), show_mxcsr=False, pre_post=EM_OFF)
t("EM=1 TS=1 addps: #UD", cr0(0xc, 0) + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=cr0(0, 0xc))
t("EM=1 TS=1 movq mm: #UD", cr0(0xc, 0) + [f"movq mm0, {m(MMA)}"], out=(), show_mxcsr=False,
  pre_post=cr0(0, 0xc))
t("TS=1 addps: #NM", TS_ON + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=["clts"])
t("TS=1 movd xmm: #NM", TS_ON + ["movd xmm0, esi"], ins={"xmm0": A4}, pre_post=["clts"])
t("TS=1 stmxcsr: #NM", TS_ON + ["stmxcsr [edi]"], out=(), pre_post=["clts"])
t("TS=1 paddw mm: #NM", TS_ON + ["paddw mm0, mm1"], out=(), show_mxcsr=False,
  pre_post=["clts"])
t("TS=1 emms: #NM", TS_ON + ["emms"], out=(), show_mxcsr=False, pre_post=["clts"])
t("TS=1 fxsave: #NM", TS_ON + ["fxsave [edi]"], out=(), show_mxcsr=False, pre_post=["clts"])
t("after clts addps runs", TS_ON + ["clts", "mov ebx, cr0", "and ebx, 0xe",
                                    "addps xmm0, xmm1", "paddw mm0, mm0", "emms"],
  ins={"xmm0": A4, "xmm1": B4}, gprs=("ebx",))

t("TS=1 MP=0 addps: #NM", cr0(0x8, 0x2) + ["addps xmm0, xmm1"], ins={"xmm0": A4, "xmm1": B4},
  pre_post=cr0(0x2, 0x8))
t("EM=1 stmxcsr: #UD", EM_ON + ["stmxcsr [edi]"], out=(), pre_post=EM_OFF)
# MOVNTI, the fences, PREFETCHh and CLFLUSH are no SSE register instructions:
# CR0.EM/TS and CR4.OSFXSR do not apply (SDM Vol. 2 "MOVNTI", "SFENCE",
# "LFENCE", "MFENCE", "PREFETCHh", "CLFLUSH": no #UD/#NM for them).
t("EM=1 TS=1 OSFXSR=0: movnti, fences, prefetch, clflush run",
  cr0(0xc, 0) + cr4(0) + ["mov ebx, 0x600d600d", "movnti [edi + 0x170], ebx", "sfence",
                          "lfence", "mfence", "prefetchnta [esi]", "clflush [edi + 0x170]",
                          "mov ecx, 1"],
  out=(), gprs=("ecx",), setup={"ecx": 0}, show_mxcsr=False,
  pre_post=cr0(0, 0xc) + ON, mems=[(4, f"{SEGS} + 0x170")])

# ---- a pending x87 exception: #MF at MMX instructions, not at SSE ----
PENDING = ["fninit", f"fldcw {m('cw_zm')}", "fld1", "fldz", "fdivp st1, st0"]
t("pending x87 #Z: addps runs", PENDING + ["addps xmm0, xmm1", "fnstsw ax", "movzx eax, ax"],
  ins={"xmm0": A4, "xmm1": B4}, gprs=("eax",), pre_post=["fninit"])
t("pending x87 #Z: paddw mm: #MF", PENDING + ["mov ebx, 1", "paddw mm0, mm1", "mov ebx, 2"],
  out=(), gprs=("ebx",), show_mxcsr=False, pre_post=["fninit"])
t("pending x87 #Z: emms: #MF", PENDING + ["mov ebx, 1", "emms", "mov ebx, 2"],
  out=(), gprs=("ebx",), show_mxcsr=False, pre_post=["fninit"])

# ---- moves through DS = SEG (base SEGBASE) ----
t("movaps m128", [f"movaps xmm0, {m('al16')}"])
t("movaps misaligned: #GP", [f"movaps xmm0, {m('al16', 4)}"], ins={"xmm0": 0})
t("movups misaligned", [f"movups xmm0, {m('al16', 4)}"])
t("movdqa misaligned: #GP", [f"movdqa xmm0, {m('al16', 1)}"], ins={"xmm0": 0})
t("movdqu misaligned", [f"movdqu xmm0, {m('al16', 1)}"])
t("addps m128 misaligned: #GP", [f"addps xmm0, {m('al16', 8)}"], ins={"xmm0": A4})
t("movaps store misaligned: #GP", ["movaps [edi + 8], xmm1"], out=(),
  ins={"xmm1": bstr(b"abcdefghijklmnop")}, mems=[(4, f"{SEGS} + 8")])
t("movaps/movdqa/movups store", ["movaps [edi], xmm1", "movdqa [edi + 0x10], xmm2",
                                 "movups [edi + 0x21], xmm1"],
  ins={"xmm1": A4, "xmm2": IA}, out=(),
  mems=[(4, f"{SEGS} + {o:#x}") for o in (0, 0xc, 0x10, 0x1c, 0x20, 0x24, 0x30)],
  show_mxcsr=False)
t("base+8: movaps offset ..8 is aligned", [f"movaps xmm0, {m('al16', 8)}"], seg=SEG8)
t("base+8: movaps offset ..0 misaligned: #GP", [f"movaps xmm0, {m('al16')}"], seg=SEG8,
  ins={"xmm0": 0})
t("movss load zeroes, store", [f"movss xmm0, {m('al16', 1)}", "movss [edi + 3], xmm1"],
  ins={"xmm0": A4, "xmm1": B4}, mems=[(4, f"{SEGS} + 3")])
t("movsd load zeroes, store", [f"movsd xmm0, {m('al16', 5)}", "movsd [edi + 0x41], xmm1"],
  ins={"xmm0": A4, "xmm1": B2}, mems=[(4, f"{SEGS} + 0x41"), (4, f"{SEGS} + 0x45")])
t("movq xmm m64 zeroes, store", [f"movq xmm0, {m('al16', 7)}", "movq [edi + 0x50], xmm1"],
  ins={"xmm0": A4, "xmm1": B4}, mems=[(4, f"{SEGS} + 0x50"), (4, f"{SEGS} + 0x54")])
t("movd xmm m32/r32", [f"movd xmm0, {m('al16', 2)}", "mov ebx, -2", "movd xmm1, ebx",
                       "movd [edi + 0x60], xmm1", "movd ecx, xmm0"],
  ins={"xmm0": A4, "xmm1": B4}, out=("xmm1",), gprs=("ecx",), show_mxcsr=False,
  mems=[(4, f"{SEGS} + 0x60")])

limits(g)

# ---- arithmetic with memory operands ----
t("addps m128", [f"addps xmm0, {m(B4)}"], ins={"xmm0": A4})
t("mulsd m64", [f"mulsd xmm0, {m(f64(3.0))}"], ins={"xmm0": A2})
t("divss m32 inexact", [f"divss xmm0, {m(f32(3.0))}"], ins={"xmm0": f32(1.0, 2.0, 3.0, 4.0)})
t("divss m32 by zero, masked", [f"divss xmm0, {m(f32(0.0))}"], ins={"xmm0": f32(-1.0, 2.0)})
t("sqrtpd m128", [f"sqrtpd xmm0, {m(f64(2.0, -1.0))}"], ins={"xmm0": A2})
t("minps m128 zeros, nan", [f"minps xmm0, {m(f32(-0.0, 0.0, 1.0, QNAN))}"],
  ins={"xmm0": f32(0.0, -0.0, QNAN, 1.0)})
t("maxsd m64", [f"maxsd xmm0, {m(f64(2.0))}", f"maxsd xmm1, {m(f64(-0.0))}"],
  ins={"xmm0": f64(1.0, 5.0), "xmm1": f64(0.0, 6.0)}, out=("xmm0", "xmm1"))
CA = f32(1.0, 2.0, QNAN, -0.0)
CB = f32(1.0, 1.0, 3.0, 0.0)
for pred in [0, 1, 3, 6]:
    t(f"cmpps m128 pred {pred}", [f"cmpps xmm0, {m(CB)}, {pred}"], ins={"xmm0": CA})
for a, b in [(1.0, 2.0), (2.0, 1.0), (3.0, 3.0), (QNAN, 1.0)]:
    t(f"comiss m32 {a if isinstance(a, float) else hex(a)},{b}", [f"comiss xmm0, {m(f32(b))}"],
      ins={"xmm0": f32(a)}, out=(), mask=0x8d5, f_in=0x8d5)
for a, b in [(1.0, 2.0), (0x7ff8000000000000, 1.0), (0x7ff4000000000000, 1.0)]:
    t(f"ucomisd m64 {a if isinstance(a, float) else hex(a)},{b}",
      [f"ucomisd xmm0, {m(f64(b))}"], ins={"xmm0": f64(a)}, out=(), mask=0x8d5, f_in=0x8d5)

# ---- conversions and rounding control ----
for rc in range(4):
    mx = MXCSR | rc << 13
    t(f"cvtsi2ss m32, addss rc{rc}", [f"cvtsi2ss xmm0, {m(ints(4, 0x7fffffff))}",
                                      f"addss xmm1, {m(f32(1e-8))}"],
      ins={"xmm0": A4, "xmm1": f32(-1.0, 7.0)}, out=("xmm0", "xmm1"), mxcsr=mx)
    t(f"cvtss2si/cvttsd2si rc{rc}", [f"cvtss2si eax, {m(f32(-1.5))}", "cvtss2si ebx, xmm1",
                                     f"cvttsd2si ecx, {m(f64(-2.9))}", "cvttsd2si edx, xmm2"],
      ins={"xmm1": f32(2.5), "xmm2": f64(1e20)}, out=(), gprs=("eax", "ebx", "ecx", "edx"),
      setup={"eax": 0, "ebx": 0, "ecx": 0, "edx": 0}, mxcsr=mx)
    t(f"cvtdq2ps m128 rc{rc}",
      [f"cvtdq2ps xmm0, {m(ints(4, 0x1000001, -0x1000003, 7, 0x7fffffc1))}"],
      mxcsr=mx)
t("cvtps2pd m64", [f"cvtps2pd xmm0, {m(f32(0.1, SNAN))}"])

# ---- DAZ and FTZ ----
DEN = f32(DENORM, 0x80400000, 1.0, 0x00800000)
for daz in [0, 1]:
    t(f"daz={daz} mulps m128 denormal", [f"mulps xmm0, {m(DEN)}"],
      ins={"xmm0": f32(1.0, 1.0, 1.0, 0.5)}, mxcsr=MXCSR | daz << 6)
for ftz in [0, 1]:
    t(f"ftz={ftz} mulss m32 underflow", [f"mulss xmm0, {m(f32(1e-10))}"],
      ins={"xmm0": f32(1e-30, 2.0)}, mxcsr=MXCSR | ftz << 15)
t("ftz, underflow unmasked: #XM", [f"mulss xmm0, {m(f32(1e-10))}"],
  ins={"xmm0": f32(1e-30, 2.0)}, mxcsr=(MXCSR & ~0x800) | 0x8000)

# ---- shuffles, packed integers, masks ----
SA = ints(4, 0x11111111, 0x22222222, 0x33333333, 0x44444444)
SB = ints(4, 0xaaaaaaaa, 0xbbbbbbbb, 0xcccccccc, 0xdddddddd)
t("shufps m128 0x1b", [f"shufps xmm0, {m(SB)}, 0x1b"], ins={"xmm0": SA}, show_mxcsr=False)
t("unpcklpd m128", [f"unpcklpd xmm0, {m(SB)}"], ins={"xmm0": SA}, show_mxcsr=False)
t("pshufd m128 0x4e", [f"pshufd xmm0, {m(SB)}, 0x4e"], show_mxcsr=False)
for op in ["paddb", "psubusw", "pmaddwd"]:
    t(f"{op} m128", [f"{op} xmm0, {m(IB)}"], ins={"xmm0": IA}, show_mxcsr=False)
t("psraw m128 count, imm", [f"psraw xmm0, {m(ints(8, 3))}", "psraw xmm1, 15"],
  ins={"xmm0": IA, "xmm1": IA}, out=("xmm0", "xmm1"), show_mxcsr=False)
t("pslldq 5", ["pslldq xmm0, 5"], ins={"xmm0": IA}, show_mxcsr=False)
t("pmovmskb, movmskps", ["pmovmskb eax, xmm1", "movmskps ebx, xmm2"], out=(),
  ins={"xmm1": IA, "xmm2": f32(-1.0, 2.0, 0x80000000, QNAN | 0x80000000)},
  setup={"eax": -1, "ebx": -1}, gprs=("eax", "ebx"), show_mxcsr=False)
t("maskmovdqu ds:edi", ["movdqa [edi + 0x70], xmm3", "add edi, 0x70", "maskmovdqu xmm1, xmm2"],
  ins={"xmm1": IA, "xmm2": IB, "xmm3": bstr(b"................")}, out=(), show_mxcsr=False,
  mems=[(4, f"{SEGS} + 0x70 + {o}") for o in (0, 4, 8, 12)])

# ---- LDMXCSR / STMXCSR ----
t("ldmxcsr/stmxcsr m32", [f"ldmxcsr {m('mx_all')}", "stmxcsr [edi + 0x82]"], out=(),
  mems=[(4, f"{SEGS} + 0x82")])
t("ldmxcsr reserved bit 16: #GP", [f"ldmxcsr {m('mx_res16')}"], out=())
t("ldmxcsr reserved bit 31: #GP", [f"ldmxcsr {m('mx_res31')}"], out=())

# ---- MMX and the x87 state ----
t("mmx movq/paddw m64, fnstsw", ["fninit", "fld1", f"movq mm0, {m(MMA)}",
                                 f"paddw mm0, {m(MMB)}", "movq [edi + 0x90], mm0",
                                 "fnstsw ax", "movzx eax, ax"],
  out=(), gprs=("eax",), show_mxcsr=False,
  mems=[(4, f"{SEGS} + 0x90"), (4, f"{SEGS} + 0x94")])
t("mmx movd", ["mov eax, 0x11223344", "movd mm1, eax", f"movd mm2, {m('al16', 3)}",
               "movd ebx, mm2", "movd [edi + 0xa0], mm1"],
  out=(), gprs=("ebx",), mms=("mm1", "mm2"), show_mxcsr=False, mems=[(4, f"{SEGS} + 0xa0")])
t("mmx all eight written: fnstenv", ["fninit", "fld1"] +
  [f"movq mm{i}, {m(MMA if i % 2 else MMB)}" for i in range(8)] + ["fnstenv [edi + 0xb0]"],
  out=(), show_mxcsr=False, mems=[(2, f"{SEGS} + 0xb0 + {o}") for o in (0, 4, 8)])
t("mmx: fxsave abridged ftw, mm0 image", ["fninit", "fld1", f"movq mm0, {m(MMA)}",
                                          "fxsave [edi + 0x400]"],
  out=(), show_mxcsr=False,
  mems=[(2, f"{SEGS} + 0x400 + 2"), (1, f"{SEGS} + 0x400 + 4")] +
       [(4, f"{SEGS} + 0x400 + {o}") for o in (32, 36)] + [(2, f"{SEGS} + 0x400 + 40")])
t("emms: fnstenv", [f"movq mm0, {m(MMA)}", "emms", "fnstenv [edi + 0xd0]"],
  out=(), show_mxcsr=False, mems=[(2, f"{SEGS} + 0xd0 + {o}") for o in (0, 4, 8)])

# The conversions between MMX and XMM registers: CVTPI2PS and CVTPI2PD
# from an MMX register, CVTPS2PI, CVTTPS2PI, MOVQ2DQ, MOVDQ2Q make the
# x87-to-MMX transition and take a pending x87 exception first; CVTPI2PD
# from m64 does neither (SDM Vol. 2 "CVTPI2PD", "CVTPS2PI"). Printed: the
# result, FSW and the abridged tag byte from FXSAVE. (CVTPI2PS from m64 is
# left out: its SDM page says it makes the transition, AMD's hardware and
# Bochs do not.)
FXM = f"{SEGS} + 0x400"
MMX_STATE = ["fxsave [edi + 0x400]"]
for name, code, outx in [
        ("cvtpi2ps xmm, mm", ["cvtpi2ps xmm0, mm1"], True),
        ("cvtpi2pd xmm, m64", [f"cvtpi2pd xmm0, {m(ints(4, 3, -7))}"], True),
        ("cvtpi2pd xmm, mm", [f"cvtpi2pd xmm0, mm1"], True),
        ("cvtps2pi mm, m64", [f"cvtps2pi mm0, {m(f32(2.5, -1e10))}"], False),
        ("cvttps2pi mm, xmm", ["cvttps2pi mm0, xmm1"], False),
        ("movq2dq, movdq2q", ["movq2dq xmm0, mm1", "movdq2q mm0, xmm1"], True)]:
    # MM1 is loaded before FNINIT (which leaves the registers' contents)
    t(name, [f"movq mm1, {m(ints(4, 5, -0x8000000))}", "fninit", "fld1"] + code + MMX_STATE,
      ins={"xmm0": A4, "xmm1": f32(-2.5, 3.5, 7.0)},
      out=("xmm0",) if outx else (), mms=() if outx else ("mm0",),
      setup={"eax": 0},
      mems=[(2, f"{FXM} + 2"), (1, f"{FXM} + 4")], pre_post=["fninit"])
t("pending x87 #Z: cvtpi2pd xmm, m64 runs", PENDING + [f"cvtpi2pd xmm0, {m(ints(4, 3, -7))}",
                                                       "fnstsw ax", "movzx eax, ax"],
  ins={"xmm0": A4}, gprs=("eax",), show_mxcsr=False, pre_post=["fninit"])
t("pending x87 #Z: cvtpi2pd xmm, mm: #MF", PENDING + ["cvtpi2pd xmm0, mm1"],
  ins={"xmm0": A4}, show_mxcsr=False, pre_post=["fninit"])
t("OSFXSR=0 cvtpi2ps: #UD", cr4(0) + ["cvtpi2ps xmm0, mm1"], ins={"xmm0": A4}, pre_post=ON)
t("OSFXSR=0 movq2dq: #UD", cr4(0) + ["movq2dq xmm0, mm1"], ins={"xmm0": A4}, pre_post=ON)
t("TS=1 cvtpi2pd xmm, m64: #NM", TS_ON + [f"cvtpi2pd xmm0, {m(ints(4, 3, -7))}"],
  ins={"xmm0": A4}, pre_post=["clts"])
t("maskmovq ds:edi", [f"movq mm3, {m(bstr(b'########'))}", "movq [edi + 0xe0], mm3",
                      "add edi, 0xe0", f"movq mm1, {m(MMA)}",
                      f"movq mm2, {m(ints(1, 0x80, 0, 0xff, 0x7f, 0x81, 0, 0, 0x80))}",
                      "maskmovq mm1, mm2", "emms"],
  out=(), show_mxcsr=False, mems=[(4, f"{SEGS} + 0xe0"), (4, f"{SEGS} + 0xe4")])

system(g)

# ---- FXSAVE / FXRSTOR, 32-bit format ----
XMMS = [ints(4, 0x01010101 * (i + 1), 0x10101010 * (i + 1), 0xf0f0f0f0 ^ i, 0x5a5a0000 + i)
        for i in range(8)]
FX = f"{SEGS} + 0x200"          # DS:EDI + 0x200 in flat terms
raw(["mov edi, SEGBASE + SOFF + 0x200", "mov ecx, 512 / 4", "mov eax, 0x5a5a5a5a",
       "rep stosd"])
t("fxsave after fld m32 via ds", ["fninit", f"ldmxcsr {m('mx_some')}"] +
  [f"movdqu xmm{i}, {m(v)}" for i, v in enumerate(XMMS)] +
  [f"fld dword {m(f32(1.5))}", "fxsave [edi + 0x200]", "fninit"],
  out=(), show_mxcsr=False,
  mems=[(2, f"{FX}"), (2, f"{FX} + 2"), (1, f"{FX} + 4"), (2, f"{FX} + 6"), (4, f"{FX} + 8"),
        (2, f"{FX} + 12"), (4, f"{FX} + 16"), (2, f"{FX} + 20"), (4, f"{FX} + 24"),
        (4, f"{FX} + 28")], native=False)
t("fxsave xmm0, xmm7, low dwords of xmm1-6", [], out=(), show_mxcsr=False, seg=None,
  mems=[(4, f"{FX} + {0xa0 + o:#x}") for o in (0, 4, 8, 12)] +
       [(4, f"{FX} + {0xa0 + 0x70 + o:#x}") for o in (0, 4, 8, 12)] +
       [(4, f"{FX} + {0xa0 + 0x10 * i:#x}") for i in range(1, 7)], native=False)
t("fxsave leaves xmm8-15 and 464-511", [], out=(), show_mxcsr=False, seg=None,
  mems=[(4, f"{FX} + {o:#x}") for o in (0x120, 0x15c, 0x19c, 0x1d0, 0x1fc)], native=False)
t("fxrstor via ds", ["mov dword [edi + 0x200 + 24], 0x9f80",
                     "mov dword [edi + 0x200 + 0xb0], 0x1234",
                     "mov word [edi + 0x200], 0x0273", "pxor xmm1, xmm1",
                     "fxrstor [edi + 0x200]", "fnstcw [edi + 0x100]", "fnstsw ax", "movzx eax, ax",
                     "movzx ebx, word [edi + 0x100]", "fninit"],
  out=("xmm1",), gprs=("eax", "ebx"), native=False)
# FXRSTOR of an abridged tag byte: FNSTENV then derives each tag from the
# register (SDM Vol. 2 "FXSAVE", Table 3-55 and the note below it): TOP = 7,
# ST0 = R7 = +0 (zero, 01), ST1 = R0 = QNaN (special, 10), the rest empty.
t("fxrstor abridged tags, fnstenv", ["mov dword [edi + 0x200], 0x3800037f",
                                     "mov dword [edi + 0x200 + 4], 0x81",
                                     "mov dword [edi + 0x200 + 24], 0x1f80",
                                     "mov dword [edi + 0x200 + 32], 0",
                                     "mov dword [edi + 0x200 + 36], 0",
                                     "mov dword [edi + 0x200 + 40], 0",
                                     "mov dword [edi + 0x200 + 48], 0",
                                     "mov dword [edi + 0x200 + 52], 0xc0000000",
                                     "mov dword [edi + 0x200 + 56], 0x7fff",
                                     "fxrstor [edi + 0x200]", "fnstenv [edi + 0x180]",
                                     "fninit"],
  out=(), show_mxcsr=False, native=False,
  mems=[(2, f"{SEGS} + 0x180 + {o}") for o in (0, 4, 8)])
t("fxrstor reserved mxcsr: #GP", ["mov dword [edi + 0x200 + 24], 0x11f80",
                                  "fxrstor [edi + 0x200]"], out=(), native=False)
t("fxsave misaligned: #GP", ["fxsave [edi + 0x208]"], out=())
t("fxrstor misaligned: #GP", ["mov dword [edi + 0x200 + 24], 0x1f80",
                              "fxrstor [edi + 0x208]"], out=())
t("base+8: fxsave offset ..8 runs, fninit's pointers", ["fninit", "fxsave [edi + 0x1f8]"],
  seg=SEG8, out=(), show_mxcsr=False,
  mems=[(2, f"{FX}"), (1, f"{FX} + 4"), (2, f"{FX} + 6"), (4, f"{FX} + 8"), (2, f"{FX} + 12"),
        (4, f"{FX} + 16"), (2, f"{FX} + 20")])
t("fxsave past the limit: #GP", ["fxsave [edi]"], setup={"edi": 0xff00}, out=(),
  show_mxcsr=False)
t("fxsave, bytes 496-511 past the limit: #GP", ["fxsave [edi]"], setup={"edi": 0xfe10}, out=(),
  show_mxcsr=False)
FX2 = f"{SEGS} + 0x600"
t("fxrstor loads the pointers", ["mov word [edi + 0x200 + 6], 0x05a5",
                                 "mov dword [edi + 0x200 + 8], 0x12345678",
                                 "mov dword [edi + 0x200 + 12], 0x1234",
                                 "mov dword [edi + 0x200 + 16], 0x9abcdef0",
                                 "mov dword [edi + 0x200 + 20], 0x5678",
                                 "fxrstor [edi + 0x200]", "fxsave [edi + 0x600]", "fninit"],
  out=(), show_mxcsr=False,
  mems=[(2, f"{FX2} + 6"), (4, f"{FX2} + 8"), (2, f"{FX2} + 12"), (4, f"{FX2} + 16"),
        (2, f"{FX2} + 20")], native=False)
t("fxsave after fld m32 via fs, fadd st0: FDP kept",
  ["fninit", f"push dword {SEG8:#x}", "pop fs", f"fld qword [fs:esi + {k(f64(2.5))} - dstart]",
   "fadd st0, st0", "fxsave [edi + 0x600]", "fninit"],
  out=(), show_mxcsr=False,
  mems=[(2, f"{FX2} + 6"), (4, f"{FX2} + 8"), (2, f"{FX2} + 12"), (4, f"{FX2} + 16"),
        (2, f"{FX2} + 20")])

# the data copied to DS:DOFF
g.finish("SSE, MMX, FXSAVE (32-bit protected mode)",
         ["al16: db " + ", ".join(str(i + 1) for i in range(48)),
          "mx_all: dd 0xffff", "mx_res16: dd 0x11f80", "mx_res31: dd 0x80001f80",
          "mx_some: dd 0x3f81", "db 0", "mx_some_1: dd 0x3f81", "cw_zm: dw 0x037b"])
if __name__ == "__main__":
    sys.stdout.write(r.emit())

"""x87_real.py: generates x87-real.asm (see realgen.py and x87_prot.py)."""
import sys
from realgen import Rom
import x87_prot as p

p.K.clear()     # x87-prot's constants: only those used here are emitted

DOC = """
The x87 FPU in real mode: what depends on the mode, plus a sample of the
arithmetic that x87-prot covers in full (SDM Vol. 1 ch. 8; Vol. 2 under
each mnemonic and "FXSAVE"). Each test starts from FNINIT (unless it says
"then") with DS = ES = 0, an optional FLDCW, runs its instructions and
prints, from FNSTSW AX and an FXSAVE image taken right after:
    <name>: st0=<sign/exp>:<significand> [st1=...] sw=<FSW> tw=<abridged
            tag byte> [op=<FOP> ip=<FCS>:<FIP> dp=<FDS>:<FDP>] [cw=<FCW>]
            [m=<the bytes stored at 0:5000, high to low>] [f=<FLAGS & mask>]
with the condition codes the SDM leaves undefined cleared from FSW (as in
x87-prot). In 16-bit mode FXSAVE stores the low 16 bits of FIP and FDP
(offsets) and leaves the high 16 reserved (SDM Vol. 2 "FXSAVE", Table
"Field Definitions"): only the low 16 bits are printed. Covered: operands
through 16-bit addressing (BX+SI wrapping at 64 KiB, BP with SS, segment
overrides, an address-size prefix), FCS/FIP from code in another segment,
FNSTSW/FSTSW/FNSTCW/FLDCW with memory operands, FXSAVE/FXRSTOR (and #GP
for a misaligned area, through the IVT), #MF (vector 16 through the IVT,
CR0.NE = 1) at the next waiting instruction after an unmasked exception,
and a sample of loads, stores, rounding, compares (FCOMI into FLAGS),
FPREM and stack faults.

REFERENCE: as for x87-prot, QEMU 7.2 keeps no FIP/FDP/FOP, has no stack
faults, no C1 round-up, writes the masked response of an unmasked
exception and raises #MF only at FWAIT and the F* control forms:
x87-real.qemu-fix.patch turns its log into Bochs's, which follows the
SDM on every line here (see x87-prot's header for the SDM sections).
"""

r = Rom("x87-real.asm", DOC)
K = p.K
F, f32, f64, i16, i32, ld, cw_of = p.F, p.f32, p.f64, p.i16, p.i32, p.ld, p.cw_of
IE, ZE, PE = p.IE, p.ZE, p.PE
N = [0]


def cs_(op):
    """Make the ROM-constant operands of x87_prot's helpers CS-relative."""
    return op.replace("[ROMBASE + ", "[cs:")


def t(name, code, mem=0, nst=1, fmask=0, cw=None, fresh=True, f_in=0x2, show_cw=False,
      ptr=False, after=()):
    N[0] += 1
    n = N[0]
    b = r.body
    b.append(f"; {name}")
    b.append(f"    mov word [RESUME], .a{n}")
    if fresh:
        b.append("    call prep")
    if cw is not None:
        b.append(f"    mov word [CWTMP], {cw:#x}")
        b.append("    fldcw [CWTMP]")
    b.append(f"    push word {f_in:#x}")
    b.append("    popf")
    b.extend("    " + cs_(c) if not c.endswith(":") else c for c in code)
    b.append(f".a{n}:")
    b.append("    pushf")
    b.append(f"    push word {p.sw_mask(code):#x}")
    bits = (0x10 if show_cw else 0) | (0x20 if ptr else 0) | (0x40 if ptr == "nodp" else 0)
    b.append(f"    push word {bits:#x}")
    b.append(f"    push word {mem | (nst << 8):#x}")
    b.append(f"    push word {fmask:#x}")
    b.append(f"    push word .s{n}")
    b.append("    call xdump")
    b.extend("    " + c for c in after)
    b.append(f"    jmp .e{n}")
    b.append(f".s{n}: db {name!r}, 0")
    b.append(f".e{n}:")


r.raw(["mov word [16 * 4], h_mf", "mov word [16 * 4 + 2], 0xf000",
       "mov word [13 * 4], h_gp", "mov word [13 * 4 + 2], 0xf000",
       "mov eax, cr0", "or eax, 0x20", "and eax, ~0xe", "mov cr0, eax"])   # NE = 1
P = dict(ptr=True)
PI = dict(ptr="nodp")
MEM = "MEMOUT"
A43 = p.A43

# ---------------------------------------------------------------- operands and pointers
t("fld m32 [cs:]", [f"fld {f32(1.5)}"], **P)
t("fld m64 [bx+si+disp] ds=0", ["mov dword [MEMOUT + 8], 0x9999999a",
                                "mov dword [MEMOUT + 12], 0x3fb99999",
                                "mov bx, MEMOUT", "mov si, 4", "fld qword [bx + si + 4]"], **P)
t("fld m32 [bx+si] wrapping at 64 KiB", ["mov dword [0x0010], 0x40490fdb", "mov bx, 0xfff0",
                                         "mov si, 0x0020", "fld dword [bx + si]"], **P)
t("fld m32 [bp] (ss=0x0400)", ["mov ax, 0x0400", "mov ss, ax", "mov dword [ss:0x0100], 0xc0000000",
                               "mov bp, 0x0100", "fld dword [bp]", "xor ax, ax", "mov ss, ax"],
  **P)
t("fld m32 [es:] (es=0x0500)", ["mov ax, 0x0500", "mov es, ax", "mov dword [es:0x0010], 0x3f000000",
                                "fld dword [es:0x0010]", "xor ax, ax", "mov es, ax"], **P)
t("fld m32 a32 [ebx]", ["mov ebx, MEMOUT", "mov dword [MEMOUT], 0x41200000",
                        "a32 fld dword [ebx]"], **P)
t("fst m64 [di]", ld(A43) + ["mov di, MEMOUT", "fst qword [di]"], mem=8, **P)
t("fstp m80 odd address", ld(-2.5) + ["fstp tword [MEMOUT + 1]"], mem=11, **P)
t("fistp m16 [bp+2] (ss=0)", ld(-300.5) + ["mov bp, MEMOUT - 2", "fistp word [bp + 2]"],
  mem=2, **P)
t("fbstp [es:] (es=0x0500)", ld(-1234.0) + ["mov ax, 0x0500", "mov es, ax",
                                            "fbstp tword [es:MEMOUT - 0x5000]", "xor ax, ax",
                                            "mov es, ax"], mem=10, **P)
t("fiadd m16 [cs:]", ld(1.0) + [f"fiadd {i16(-3)}"], **P)
t("fadd st0, st0 after fld m32 (ip only)", [f"fld {f32(1.5)}", "fadd st0, st0"], **PI)
t("code in segment 0x0800", ["mov bx, MEMOUT", "mov dword [MEMOUT], 0x40400000",
                             "call 0x0800:0x0000"], **P)
t("fld m32, fnstsw m16, fnstcw m16, fldcw m16, fldpi", [f"fld {f32(1.5)}",
  "fnstsw [MEMOUT]", "fnstcw [MEMOUT + 2]", "fldcw [cs:cw_chop]", "fldpi"], mem=4,
  show_cw=True, **PI)
t("fstsw ax", ld(1.0, 2.0) + ["fcompp", "mov ax, 0x1234", "fstsw ax", "mov [MEMOUT], ax"],
  mem=2, nst=0)
t("fld1, fninit (pointers cleared)", ["fld1", "fninit"], **P)

# ---------------------------------------------------------------- values (as in x87-prot)
for pc in ["pc24", "pc53", "pc64"]:
    t(f"fdiv 1/3 {pc} up", ld(1.0) + [f"fdiv {f32(3.0)}"], cw=cw_of("up", pc))
t("fst m32 4/3 near", ld(A43) + [f"fst dword [{MEM}]"], mem=4)
t("fist m32 -2.5 down", ld(-2.5) + [f"fist dword [{MEM}]"], mem=4, cw=cw_of("down"))
t("fistp m16 40000", ld(40000.0) + [f"fistp word [{MEM}]"], mem=2)
t("fld m32 denormal", [f"fld {f32(1)}"])
t("fsqrt 2", ld(2.0) + ["fsqrt"])
t("fsqrt -1", ld(-1.0) + ["fsqrt"])
t("fdiv 1/0", ld(1.0) + [f"fdiv {f32(0.0)}"])
t("fprem 17, 5", ld(5.0, 17.0) + ["fprem"], nst=2)
t("fprem1 18, 5", ld(5.0, 18.0) + ["fprem1"], nst=2)
for ins, what in [("fcomi st0, st1", "lt"), ("fucomip st0, st1", "qnan")]:
    b, a = {"lt": (2.0, 1.0), "qnan": (1.0, p.QNAN80)}[what]
    t(f"{ins} {what}", ld(b, a) + [ins], nst=2, fmask=0x8d5, f_in=0x8d7)
t("fxam pseudo-denormal", ld(p.PDEN80) + ["fxam"])
t("fldl2e up", ["fldl2e"], cw=cw_of("up"))
t("9 pushes: overflow", ["fld1"] * 8 + ["fldz"], nst=2)
t("underflow fsub st0, st1", ["fsub st0, st1"], nst=2)
t("fxch st1 empty", ld(1.0) + ["fxch st1"], nst=2)
t("fst st2 (empty)", ld(1.0) + ["fst st2"], nst=3)

# ---------------------------------------------------------------- #MF, FXSAVE
MF = cw_of(unmask=IE)
t("fsqrt -1 unmasked, fwait", ld(-1.0) + ["fsqrt", "fwait"], cw=MF, **PI)
t("fsqrt -1 unmasked, fld m32", ld(-1.0) + ["fsqrt", f"fld {f32(2.0)}"], cw=MF, **PI)
t("fdiv 1/0 unmasked, fnstsw, fnclex, fwait", ld(1.0) + [f"fdiv {f32(0.0)}", "fnstsw ax",
                                                         "fnclex", "fwait"], cw=cw_of(unmask=ZE),
  **P)
t("fdiv 1/3 masked, fldcw unmask PE", ld(1.0) + [f"fdiv {f32(3.0)}", "fldcw [cs:cw_pe]"],
  show_cw=True)
t("then fld1", ["fld1"], fresh=False, show_cw=True)
t("fxsave image", ld(2.0) + ["fldpi", f"fdiv {f64(3.0)}", "fxsave [FXIMG]"], nst=2,
  cw=cw_of("chop", "pc53"), after=["call fximg"])
t("fxsave misaligned", ld(1.0) + ["fxsave [FXIMG + 8]"])
t("fxrstor image, then fxam", ["mov di, FXIMG", "xor eax, eax", "mov cx, 128", "rep stosd",
                              "mov word [FXIMG], 0x0c7f", "mov word [FXIMG + 2], 0x3000",
                              "mov byte [FXIMG + 4], 0x40", "mov word [FXIMG + 6], 0x1ab",
                              "mov dword [FXIMG + 8], 0x1234", "mov word [FXIMG + 12], 0xf000",
                              "mov dword [FXIMG + 16], 0x5678", "mov word [FXIMG + 20], 0x0400",
                              "mov dword [FXIMG + 36], 0xc0000000",
                              "mov word [FXIMG + 40], 0x4000", "fxrstor [FXIMG]"],
  nst=2, show_cw=True, **P)
t("then fxam", ["fxam"], fresh=False, nst=2)

data = ["align 16"]
for (kind, v), label in K.items():
    if kind == "t":
        data += [f"{label}: dq {v[1]:#018x}", f"    dw {v[0]:#06x}"]
    elif kind == "b":
        data.append(f"{label}: db " + ", ".join(f"{x:#04x}" for x in v))
    else:
        data.append(f"{label}: {dict(d='dd', q='dq', w='dw')[kind]} {v:#x}")
r.extra = r"""
MEMOUT  equ 0x5000
FXBUF   equ 0x6000
FXIMG   equ 0x6400
SWTMP   equ 0x0610
CWTMP   equ 0x0614

h_mf:
    push si
    mov si, msg_mf
    jmp fault
h_gp:
    push si
    mov si, msg_gp
    jmp fault

; prep: FNINIT, DS = ES = 0, the store area filled with 0xCC, the routine
; of "code in segment 0x0800" copied to 0x0800:0000.
prep:
    fninit
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov dword [MEMOUT], 0xcccccccc
    mov dword [MEMOUT + 4], 0xcccccccc
    mov dword [MEMOUT + 8], 0xcccccccc
    mov dword [MEMOUT + 12], 0xcccccccc
    mov si, far_code
    mov di, 0x8000
    mov cx, far_code_end - far_code
.copy:
    mov al, [cs:si]
    mov [di], al
    inc si
    inc di
    loop .copy
    ret

far_code:                       ; runs at 0x0800:0000
    fld1
    fadd dword [bx]
    retf
far_code_end:

; xdump: stack: ret, name, FLAGS mask, store bytes | stack registers << 8,
; bits (0x10: FCW, 0x20: pointers, 0x40: not FDS:FDP), FSW mask, FLAGS.
; Prints the line described in the header; DS = ES = 0 after. ret 12.
xdump:
    push bp
    mov bp, sp
    pushad
    xor ax, ax
    mov ds, ax
    mov es, ax
    fnstsw ax
    mov [SWTMP], ax
    fxsave [FXBUF]
    mov si, [bp + 4]
    call puts16
    mov al, ':'
    out DEBUGCON, al
    movzx dx, byte [bp + 9]
    xor bx, bx
.st:
    cmp bx, dx
    jae .st_done
    mov si, msg_st
    call puts16
    mov al, bl
    add al, '0'
    out DEBUGCON, al
    mov al, '='
    out DEBUGCON, al
    mov cx, [SWTMP]
    shr cx, 11
    add cx, bx
    and cx, 7
    movzx ax, byte [FXBUF + 4]
    bt ax, cx
    jc .valid
    mov si, msg_empty
    call puts16
    jmp .st_next
.valid:
    mov si, bx
    shl si, 4
    mov ax, [FXBUF + 32 + 8 + si]
    call hex16
    mov al, ':'
    out DEBUGCON, al
    mov ax, [FXBUF + 32 + 6 + si]
    call hex16
    mov ax, [FXBUF + 32 + 4 + si]
    call hex16
    mov ax, [FXBUF + 32 + 2 + si]
    call hex16
    mov ax, [FXBUF + 32 + si]
    call hex16
.st_next:
    inc bx
    jmp .st
.st_done:
    mov si, msg_sw
    call puts16
    mov ax, [SWTMP]
    and ax, [bp + 12]
    call hex16
    mov si, msg_tw
    call puts16
    mov al, [FXBUF + 4]
    call hex8r
    test byte [bp + 10], 0x20
    jz .no_ptr
    mov si, msg_op
    call puts16
    mov ax, [FXBUF + 6]
    call hex16
    mov si, msg_ip
    call puts16
    mov ax, [FXBUF + 12]
    call hex16
    mov al, ':'
    out DEBUGCON, al
    mov ax, [FXBUF + 8]
    call hex16
    test byte [bp + 10], 0x40
    jnz .no_ptr
    mov si, msg_dp
    call puts16
    mov ax, [FXBUF + 20]
    call hex16
    mov al, ':'
    out DEBUGCON, al
    mov ax, [FXBUF + 16]
    call hex16
.no_ptr:
    test byte [bp + 10], 0x10
    jz .no_cw
    mov si, msg_cw
    call puts16
    mov ax, [FXBUF]
    call hex16
.no_cw:
    movzx bx, byte [bp + 8]
    test bx, bx
    jz .no_mem
    mov si, msg_m
    call puts16
.mem:
    mov al, [MEMOUT - 1 + bx]
    call hex8r
    dec bx
    jnz .mem
.no_mem:
    cmp word [bp + 6], 0
    je .no_f
    mov si, msg_f
    call puts16
    mov ax, [bp + 6]
    and ax, [bp + 14]
    call hex16
.no_f:
    call newline16
    popad
    pop bp
    ret 12

; fximg: print "  image:" and bytes 0-23 of the image at FXIMG and " r0="
; with bytes 32-41, in memory order.
fximg:
    pusha
    mov si, msg_img
    call puts16
    mov bx, FXIMG
    mov dx, 24
    call bytes
    mov si, msg_r0
    call puts16
    mov bx, FXIMG + 32
    mov dx, 10
    call bytes
    call newline16
    popa
    ret

bytes:
    call space16
    mov al, [bx]
    call hex8r
    inc bx
    dec dx
    jnz bytes
    ret

cw_chop: dw 0x0f7f
cw_pe: dw 0x035f
msg_mf: db "#MF ip=", 0
msg_gp: db "#GP ip=", 0
msg_st: db " st", 0
msg_empty: db "empty", 0
msg_sw: db " sw=", 0
msg_tw: db " tw=", 0
msg_op: db " op=", 0
msg_ip: db " ip=", 0
msg_dp: db " dp=", 0
msg_cw: db " cw=", 0
msg_img: db "  image:", 0
msg_r0: db " r0=", 0
""" + "\n".join(data) + "\n"
sys.stdout.write(r.emit())

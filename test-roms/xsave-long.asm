; xsave-long.asm — the XSAVE feature set in 64-bit mode for the x87 and SSE
; state components (SDM Vol. 1 ch. 13; Vol. 2 "XSAVE", "XRSTOR",
; "XSAVEOPT", "XGETBV", "XSETBV"): CPUID leaf 0DH and CPUID.1:ECX.OSXSAVE
; (bit 27, mirroring CR4.OSXSAVE), #UD without CR4.OSXSAVE, XCR0 values
; XSETBV refuses, XSAVE/XSAVE64/XSAVEOPT64 images, XRSTOR loading and
; initializing components (MXCSR loaded whenever RFBM[1] = 1), and the
; #GP(0) (alignment, header, MXCSR) and #NM (CR0.TS) faults.
;
; QEMU runs it as `-cpu qemu64,+xsave,+xsaveopt` (xsave-long.qemu-cpu):
; x87 and SSE in XCR0, no AVX; xlat on its default model. Printed values
; avoid what the SDM leaves to the implementation: FOP, FIP, FDP (bytes
; 6-23 of the legacy region, which QEMU 7.2 does not keep) are masked, and
; XSTATE_BV is printed only while both components are in use (XINUSE may
; be 1 for a component in its initial configuration: QEMU reports every
; component in use, xlat only those that are not in it).
;
; The fault handler prints "#vv err=... rip=..." and resumes at RESUME;
; every test ends its output with a newline (an empty line after output
; that already ended with one).
;
; QEMU 7.2 departs from the SDM twice here (xsave-long.qemu-fix.patch
; gives the SDM's lines): XRSTOR with RFBM[1] = 1 loads an MXCSR image with
; reserved bits set instead of raising #GP(0) (SDM Vol. 1 §13.8.1, Vol. 2
; "XRSTOR" exceptions: "If bit 1 of RFBM is 1 and the MXCSR ... sets a
; reserved bit"), and XSAVE ignores CR0.TS instead of raising #NM (Vol. 2
; "XSAVE": "#NM If CR0.TS[bit 3] = 1"). Bochs raises both.

%include "inc/long-prelude.inc"

AREA    equ 0x30000
AREA2   equ 0x31000

%macro BEGIN 2                  ; id, title
    lea rax, [rel res%1]
    mov [RESUME], rax
    lea rsi, [rel tit%1]
    call title
    jmp bod%1
tit%1: db %2, 0
bod%1:
%endmacro
%macro END 1                    ; a fault's line ends here too
res%1:
    call newline
%endmacro

    mov rax, cr4
    or eax, 0x600               ; OSFXSR, OSXMMEXCPT
    mov cr4, rax

BEGIN 1, "cpuid 1 ecx (xsave osxsave), 0dh.0-2"
    mov eax, 1
    cpuid
    mov eax, ecx
    and eax, 0x0c000000
    call putq
    call newline
    xor edi, edi
.sub:
    mov eax, 0xd
    mov ecx, edi
    cpuid
    call put4
    inc edi
    cmp edi, 3
    jb .sub
END 1

BEGIN 2, "xgetbv without cr4.osxsave"
    xor ecx, ecx
    xgetbv
END 2

BEGIN 3, "xsave without cr4.osxsave"
    mov eax, 3
    xor edx, edx
    xsave [AREA]
END 3

BEGIN 4, "cr4.osxsave set: cpuid 1 ecx, xgetbv"
    mov rax, cr4
    or eax, 0x40000
    mov cr4, rax
    mov eax, 1
    cpuid
    mov eax, ecx
    and eax, 0x0c000000
    call putq
    xor ecx, ecx
    xgetbv
    call putq
    mov rax, rdx
    call putq
    call newline
END 4

BEGIN 5, "xsetbv 0 (x87 clear)"
    xor ecx, ecx
    xor edx, edx
    xor eax, eax
    xsetbv
END 5

BEGIN 6, "xsetbv 2 (x87 clear)"
    xor ecx, ecx
    xor edx, edx
    mov eax, 2
    xsetbv
END 6

BEGIN 7, "xsetbv 7 (avx not supported)"
    xor ecx, ecx
    xor edx, edx
    mov eax, 7
    xsetbv
END 7

BEGIN 8, "xsetbv edx=1"
    xor ecx, ecx
    mov edx, 1
    mov eax, 1
    xsetbv
END 8

BEGIN 9, "xsetbv ecx=1"
    mov ecx, 1
    xor edx, edx
    mov eax, 3
    xsetbv
END 9

BEGIN 10, "xgetbv ecx=1 (not advertised)"
    mov ecx, 1
    xgetbv
END 10

BEGIN 11, "xsetbv 3, xgetbv"
    xor ecx, ecx
    xor edx, edx
    mov eax, 3
    xsetbv
    mov eax, 0x55
    mov edx, 0x55
    xgetbv
    call putq
    mov rax, rdx
    call putq
    call newline
END 11

    ; The state: three x87 registers, XMMn = n+1 in every byte, MXCSR
    ; with RC = 01.
    fninit
    fld1
    fldpi
    fldl2t
    ldmxcsr [rel mxcsr_val]
%assign n 0
%rep 16
    mov rax, 0x0101010101010101 * (n + 1)
    movq xmm %+ n, rax
    pshufd xmm %+ n, xmm %+ n, 0x44
%assign n n + 1
%endrep

BEGIN 12, "xsave64 rfbm=3"
    call fill
    mov eax, 3
    xor edx, edx
    xsave64 [AREA]
    call dumparea
END 12

BEGIN 13, "xsave rfbm=1: mxcsr, xmm, xstate_bv[1] kept"
    call fill
    mov qword [AREA + 512], 2
    mov eax, 1
    xor edx, edx
    xsave [AREA]
    mov rsi, AREA
    mov ecx, 1
    call dumpq                  ; FCW FSW FTW (masked below)
    mov rsi, AREA + 24
    mov ecx, 4
    call dumpq
    mov rsi, AREA + 160
    mov ecx, 2
    call dumpq
    mov rsi, AREA + 512
    mov ecx, 3
    call dumpq
END 13

BEGIN 14, "xsaveopt64 rfbm=3, all in use"
    call fill
    mov eax, 3
    xor edx, edx
    xsaveopt64 [AREA]
    call dumparea
END 14

BEGIN 15, "xrstor64 rfbm=3 from a changed image"
    mov rax, 0x1122334455667788
    mov [AREA + 160], rax       ; XMM0 low
    mov rax, 0x8000000000000000
    mov [AREA + 32], rax        ; ST0 = 1.0 * 2^(e - 3fff)
    mov word [AREA + 40], 0x4000
    mov dword [AREA + 24], 0x1f80
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
    call fxdump
END 15

BEGIN 16, "xrstor64 xstate_bv=0: init, mxcsr loaded"
    mov qword [AREA + 512], 0
    mov dword [AREA + 24], 0x1fc0
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
    call fxdump
END 16

BEGIN 17, "xrstor rfbm=1: mxcsr not loaded, not checked"
    mov qword [AREA + 512], 1
    mov dword [AREA + 24], 0xffffffff
    mov eax, 1
    xor edx, edx
    xrstor [AREA]
    sub rsp, 8
    stmxcsr [rsp]
    mov eax, [rsp]
    add rsp, 8
    call putq
    call newline
END 17

    ; A valid image again: XSAVE64 of the state with everything in use.
    call fill
    mov qword [AREA + 512], 0
    mov qword [AREA + 520], 0
    mov qword [AREA + 528], 0
    fld1                        ; both components in use again
    mov eax, 1
    movd xmm1, eax
    mov eax, 3
    xor edx, edx
    xsave64 [AREA]

BEGIN 18, "xrstor misaligned (+16)"
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA + 16]
END 18

BEGIN 19, "xsave misaligned (+32)"
    mov eax, 3
    xor edx, edx
    xsave64 [AREA + 32]
END 19

BEGIN 20, "xrstor xstate_bv bit 2"
    mov qword [AREA + 512], 7
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
END 20

BEGIN 21, "xrstor xcomp_bv bit 63"
    mov qword [AREA + 512], 3
    mov rax, 0x8000000000000003
    mov [AREA + 520], rax
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
END 21

BEGIN 22, "xrstor header bytes 16-23"
    mov qword [AREA + 520], 0
    mov qword [AREA + 528], 0x100
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
END 22

BEGIN 23, "xrstor header bytes 40-47 (not checked)"
    mov qword [AREA + 528], 0
    mov qword [AREA + 552], 0x100
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
    mov qword [AREA + 552], 0
    call fxdump
END 23

BEGIN 24, "xrstor mxcsr reserved bit, rfbm=3"
    mov dword [AREA + 24], 0x11f80
    mov eax, 3
    xor edx, edx
    xrstor64 [AREA]
END 24

BEGIN 25, "xsave with cr0.ts"
    mov dword [AREA + 24], 0x1f80
    mov rax, cr0
    or eax, 8
    mov cr0, rax
    mov eax, 3
    xor edx, edx
    xsave64 [AREA]
END 25
    clts

BEGIN 26, "xsave with cr0.em (no effect)"
    mov rax, cr0
    or eax, 4
    mov cr0, rax
    mov eax, 3
    xor edx, edx
    xsave64 [AREA]
    mov rax, cr0
    and eax, ~4
    mov cr0, rax
    mov rax, [AREA + 512]
    call putq
    call newline
END 26

BEGIN 27, "xgetbv after clearing cr4.osxsave"
    mov rax, cr4
    and eax, ~0x40000
    mov cr4, rax
    xor ecx, ecx
    xgetbv
END 27

%include "inc/long-postlude.inc"
bits 64

; title: print the string at RSI and ": ". Clobbers AL, RSI.
title:
    call puts64
    mov al, ':'
    out DEBUGCON, al
    mov al, ' '
    out DEBUGCON, al
    ret

; putq: print RAX as 16 hex digits and a space.
putq:
    push rcx
    mov ecx, 16
    call hex64
    pop rcx
    mov al, ' '
    out DEBUGCON, al
    ret

newline:
    push rax
    mov al, 10
    out DEBUGCON, al
    pop rax
    ret

; put4: print EAX EBX ECX EDX (zero-extended) and a newline.
put4:
    mov eax, eax
    call putq
    mov eax, ebx
    call putq
    mov eax, ecx
    call putq
    mov eax, edx
    call putq
    jmp newline

; dumpq: print RCX qwords from RSI, four per line; the qword at the area's
; offset 0 (or AREA2's) has its bytes 6-7 (FOP) masked, offsets 8 and 16
; (FIP, FDP) are never passed here.
dumpq:
    push rbx
    xor ebx, ebx
.next:
    mov rax, [rsi]
    cmp rsi, AREA
    je .mask
    cmp rsi, AREA2
    jne .put
.mask:
    mov rdx, 0x0000ffffffffffff
    and rax, rdx
.put:
    call putq
    add rsi, 8
    inc ebx
    test ebx, 3
    jnz .more
    call newline
.more:
    dec ecx
    jnz .next
    test ebx, 3
    jz .done
    call newline
.done:
    pop rbx
    ret

; fill: AREA[0..1024) := 0xaa, the header's XSTATE_BV, XCOMP_BV and next
; 48 bytes := 0, and the ST0-7 slots (bytes 32-159) := 0: the six reserved
; bytes after each 80-bit register are left alone by QEMU and zeroed by
; xlat (and Bochs), which the SDM leaves open.
fill:
    push rdi
    push rcx
    push rax
    mov rdi, AREA
    mov ecx, 1024
    mov al, 0xaa
    rep stosb
    mov rdi, AREA + 32
    mov ecx, 128
    xor eax, eax
    rep stosb
    mov rdi, AREA + 512
    mov ecx, 64
    xor eax, eax
    rep stosb
    pop rax
    pop rcx
    pop rdi
    ret

; dumparea: the XSAVE image at AREA: FCW/FSW/FTW, MXCSR and MXCSR_MASK,
; ST0-7, XMM0-15, two bytes of the untouched tail, the header.
dumparea:
    mov rsi, AREA
    mov ecx, 1
    call dumpq
    mov rsi, AREA + 24
    mov ecx, 1 + 16 + 32
    call dumpq
    mov rsi, AREA + 416
    mov ecx, 1
    call dumpq
    mov rsi, AREA + 504
    mov ecx, 1
    call dumpq
    mov rsi, AREA + 512
    mov ecx, 8
    call dumpq
    ret

; fxdump: FXSAVE64 to AREA2 and print FCW/FSW/FTW, MXCSR, ST0, XMM0, XMM15.
fxdump:
    fxsave64 [AREA2]
    mov rsi, AREA2
    mov ecx, 1
    call dumpq
    mov rsi, AREA2 + 24
    mov ecx, 3
    call dumpq
    mov rsi, AREA2 + 160
    mov ecx, 2
    call dumpq
    mov rsi, AREA2 + 400
    mov ecx, 2
    call dumpq
    ret

align 4
mxcsr_val: dd 0x3f80

msg_hello: db `xsave feature set (64-bit)\n`, 0

RESET_VECTOR

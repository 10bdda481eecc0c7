; cpuid-qemu64.asm — what CPUID answers, leaf by leaf, for xlat's `qemu64`
; CPU model (cpuid-qemu64.cpu) against QEMU 7.2's `-cpu qemu64` under TCG
; (cpuid-qemu64.qemu-cpu; also QEMU's default model).
;
; Prints EDX as the processor left RESET (the signature, SDM Vol. 3
; Table 10-1), then every basic leaf 0..max (subleaves 0 and 1; 0-4 for
; the leaves with subleaves: 4, 7, 0BH, 0DH), every extended leaf
; 80000000H..max, and leaves above both maxima (an Intel-style processor
; answers with the highest basic leaf; SDM Vol. 2 "CPUID", "If a value
; entered for CPUID.EAX is higher than the maximum input value ...").
;
; QEMU sets bits for features xlat does not implement (MCE, MTRR,
; SVM, ...): cpuid-qemu64.qemu-fix.patch clears them in QEMU's log, each
; with its reason in docs/cpu-models.md. This is the one ROM that prints
; CPU-model-dependent values on purpose.

%include "inc/rom.inc"

bits 16
start:
    mov ebp, edx                ; EDX at RESET
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov sp, 0x7000
    PRINT16 msg_reset
    mov eax, ebp
    call hex32
    call newline16

    xor eax, eax
    cpuid
    mov [max_basic], eax
    xor esi, esi                ; leaf
.basic:
    call subleaves
    inc esi
    cmp esi, [max_basic]
    ja .basic_done
    cmp esi, 0x20               ; a bound in case of garbage
    jb .basic
.basic_done:

    mov eax, 0x80000000
    cpuid
    mov [max_ext], eax
    mov esi, 0x80000000
.ext:
    xor edi, edi
    call leaf
    inc esi
    cmp esi, [max_ext]
    jbe .ext

    ; Above the maxima.
    mov esi, [max_basic]
    inc esi
    xor edi, edi
    call leaf
    mov esi, [max_ext]
    inc esi
    call leaf
    mov esi, 0x40000000
    call leaf
    mov esi, 0x40000001
    call leaf
    mov esi, 0x40000002
    call leaf
    mov esi, 0x40000100
    call leaf
    mov esi, 0xc0000000
    call leaf
    mov esi, 0xffffffff
    call leaf

    PRINT16 msg_end
    EXIT 0x12

; subleaves: leaf ESI with ECX = 0 and 1, or 0..4 for leaves 4, 7, 0BH, 0DH.
subleaves:
    mov word [nsub], 2
    cmp esi, 4
    je .five
    cmp esi, 7
    je .five
    cmp esi, 0xb
    je .five
    cmp esi, 0xd
    jne .go
.five:
    mov word [nsub], 5
.go:
    xor edi, edi
.sub:
    call leaf
    inc edi
    cmp di, [nsub]
    jb .sub
    ret

; leaf: print "ESI.EDI: a b c d" for CPUID(EAX = ESI, ECX = EDI).
leaf:
    mov eax, esi
    call hex32
    mov al, '.'
    out DEBUGCON, al
    mov eax, edi
    call hex32
    mov al, ':'
    out DEBUGCON, al
    mov eax, esi
    mov ecx, edi
    cpuid
    call space16
    call hex32
    mov eax, ebx
    call space16
    call hex32
    mov eax, ecx
    call space16
    call hex32
    mov eax, edx
    call space16
    call hex32
    call newline16
    ret

; hex32: print EAX as eight hex digits. Preserves registers.
hex32:
    ror eax, 16
    call hex16
    ror eax, 16
    call hex16
    ret

%include "inc/print16.inc"

max_basic equ 0x0500
max_ext   equ 0x0504
nsub      equ 0x0508

msg_reset: db "reset edx=", 0
msg_end:   db "end", 10, 0

    RESET_VECTOR

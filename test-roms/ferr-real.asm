; ferr-real.asm — x87 errors reported through FERR# and IRQ 13 (CR0.NE = 0,
; the PC-compatible "MS-DOS" mode; SDM Vol. 1 §8.7 and Appendix D.2) and,
; for contrast, through #MF (CR0.NE = 1), in real mode with the PIC pair
; programmed as a BIOS does (master vectors 08h, slave 70h: IRQ 13 = 75h).
;
; With CR0.NE = 0 an unmasked x87 exception leaves FSW.ES set; the next
; waiting instruction (here FWAIT) asserts FERR#, which the chipset latches
; onto IRQ 13 (PIIX3 "Coprocessor Error" register). The IRQ 13 handler
; writes port 0xF0, which clears the latch and asserts IGNNE# while FERR#
; stays asserted; FNCLEX clears ES, FERR# falls and IGNNE# with it.
; - test 1: the handler clears the error (out 0xf0, fnclex): one IRQ 13.
; - test 2: the handler only writes 0xf0: IGNNE# then lets FWAIT and the
;   waiting FSTSW proceed with the error still pending (no second IRQ 13)
;   until FNCLEX ends it; a third error interrupts again.
; - test 3: IRQ 13 masked at the slave PIC and the error cleared before the
;   FWAIT: no interrupt at all.
; - test 4: CR0.NE = 1: FWAIT raises #MF (vector 16) instead, no IRQ 13.
;
; An unmasked zero divide leaves the stack as it was (no pop, SDM Vol. 1
; §8.5.3 and §4.9.2): each test starts with FNINIT.
;
; The reference is Bochs (test-roms/ferr-real.reference): QEMU 7.2 aborts
; at the first FWAIT ("tcg_handle_interrupt: assertion failed
; (qemu_mutex_iothread_locked())": its FERR# path raises the IRQ without
; the lock, fixed in later QEMU). Bochs raises IRQ 13 at every waiting
; instruction while ES is set and has no IGNNE#: ferr-real.bochs-fix.patch
; changes test 2's line to what the PIIX3 datasheet's port 0xF0 logic
; gives (one interrupt, then FWAIT and FSTSW proceed).
;
; What is printed does not depend on where the interrupt lands: a Pentium
; and later freeze at the waiting instruction until the interrupt is taken
; and run it again after the handler's IRET (xlat does that); QEMU lets it
; finish and takes the interrupt after it. Only FWAIT is used as the waiting
; instruction that meets an error, since QEMU checks for pending errors
; only there.

%include "inc/rom.inc"
%include "inc/platform16.inc"

STACK   equ 0x7000
COUNT   equ 0x0500              ; IRQ 13 handler runs
MODE    equ 0x0502              ; 0: handler clears the error; 1: it does not
MFCOUNT equ 0x0504              ; #MF handler runs

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK
    cld
    mov word [0x75 * 4], h_irq13
    mov word [0x75 * 4 + 2], 0xf000
    mov word [16 * 4], h_mf
    mov word [16 * 4 + 2], 0xf000
    mov word [COUNT], 0
    mov word [MODE], 0
    mov word [MFCOUNT], 0
    ; The PIC's INTR reaches the processor through the local APIC's LINT0,
    ; whose LVT entry is masked after reset (SDM Vol. 3 §11.4.7.1): set it
    ; to ExtINT and software-enable the APIC, as a BIOS sets up "virtual
    ; wire" mode (MP spec §3.6.2.2). The registers are above 1 MiB: load FS
    ; with a 4 GiB limit in protected mode and come back ("unreal" mode).
    ; (On a processor without a local APIC the stores reach nothing.)
    cli
    UNREAL_FS
    mov ebx, 0xfee00000
    ; (SVR first: while the unit is software-disabled its LVT masks
    ; cannot be cleared, SDM §11.4.7.2.)
    mov dword [fs:ebx + 0xf0], 0x1ff    ; SVR: APIC enabled, vector 0xff
    mov dword [fs:ebx + 0x350], 0x700   ; LVT LINT0: ExtINT, unmasked
    mov dword [fs:ebx + 0x360], 0x400   ; LVT LINT1: NMI
    ; The PIC pair as a BIOS programs it: edge-triggered, cascaded, 8086
    ; mode; only the cascade input and IRQ 13 unmasked.
    PIC_INIT 0xfb, 0xdf
    sti

; test 1: the handler clears the error
    PRINT16 msg_t1
    fninit
    fldcw [cs:cw_zm]            ; zero-divide unmasked
    fld1
    fldz
    fdivp st1, st0              ; 1/0: ZE, ES (no interrupt yet)
    fnstsw ax
    call hex16
    call space16
    fwait                       ; FERR# -> IRQ 13
    mov ax, [COUNT]
    call hex16
    call space16
    fnstsw ax
    call hex16
    call newline16

; test 2: the handler leaves the error pending; IGNNE# lets it pass
    PRINT16 msg_t2
    fninit
    fldcw [cs:cw_zm]
    mov word [MODE], 1
    fld1
    fldz
    fdivp st1, st0
    fwait                       ; IRQ 13: out 0xf0 only
    mov ax, [COUNT]
    call hex16
    call space16
    fwait                       ; IGNNE#: no interrupt
    fstsw ax                    ; FWAIT + FNSTSW: no interrupt either
    call hex16
    call space16
    mov ax, [COUNT]
    call hex16
    call space16
    fninit                      ; FERR# and IGNNE# fall
    fldcw [cs:cw_zm]
    mov word [MODE], 0
    fld1
    fldz
    fdivp st1, st0
    fwait                       ; interrupts again
    mov ax, [COUNT]
    call hex16
    call newline16

; test 3: IRQ 13 masked, the error cleared before any waiting instruction
    PRINT16 msg_t3
    fninit
    fldcw [cs:cw_zm]
    mov al, 0xff
    out 0xa1, al
    fld1
    fldz
    fdivp st1, st0
    fnstsw ax
    call hex16
    call space16
    fnclex
    fwait
    mov ax, [COUNT]
    call hex16
    call newline16
    mov al, 0xdf
    out 0xa1, al

; test 4: CR0.NE = 1: #MF at the FWAIT, no IRQ 13
    PRINT16 msg_t4
    fninit
    fldcw [cs:cw_zm]
    mov eax, cr0
    or eax, 0x20
    mov cr0, eax
    fld1
    fldz
    fdivp st1, st0
    fwait                       ; #MF; the handler clears the error
    mov ax, [MFCOUNT]
    call hex16
    call space16
    mov ax, [COUNT]
    call hex16
    call newline16
    mov eax, cr0
    and eax, ~0x20
    mov cr0, eax

    cli
    PRINT16 msg_end
    EXIT 0x12

; IRQ 13: print "irq13 fsw=XXXX", clear the FERR# latch (and IGNNE#
; with it while the error stays), clear the error unless MODE = 1, EOI
; to the slave and the master.
h_irq13:
    push ax
    push si
    PRINT16 msg_irq
    fnstsw ax
    call hex16
    call space16
    inc word [COUNT]
    out 0xf0, al
    cmp word [MODE], 1
    je .keep
    fnclex
.keep:
    mov al, 0x20
    out 0xa0, al
    out 0x20, al
    pop si
    pop ax
    iret

; #MF: print "#mf", clear the error.
h_mf:
    push ax
    push si
    PRINT16 msg_mf
    inc word [MFCOUNT]
    fnclex
    pop si
    pop ax
    iret

%include "inc/print16.inc"
%include "inc/platform16-code.inc"

cw_zm:   dw 0x037b
msg_t1:  db "t1 ", 0
msg_t2:  db "t2 ", 0
msg_t3:  db "t3 ", 0
msg_t4:  db "t4 ", 0
msg_irq: db "irq13:", 0
msg_mf:  db "#mf ", 0
msg_end: db `end\n`, 0

RESET_VECTOR

; exceptions-prot.asm — exceptions and interrupts in 32-bit protected mode
; through an IDT of 32-bit interrupt gates: faults and traps at CPL 0
; (#DE, #UD, #BP, INT n, #OF, #BR, #GP with and without selector error
; codes, #NP, #PF with its error code and CR2 for
; not-present, write-protect (CR0.WP) and instruction-fetch faults), then at
; CPL 3 through a TSS stack switch (gate DPL checks, IOPL-sensitive and
; privileged instructions, user/supervisor page faults, privilege checks on
; segment loads).
;
; The handler prints one line per event:
;   <name> v=<vector> err=<error code> eip=<pushed EIP> cs=<pushed CS>
;          f=<pushed EFLAGS> [ss:esp=<pushed SS:ESP>] [cr2=<CR2>]
; and returns to the label the test stored in RESUME. A test that does not
; trap prints "<name> no event".

%include "inc/rom.inc"

STACK0   equ 0x8000             ; CPL-0 stack before the switch to CPL 3
STACK0T  equ 0x9000             ; TSS.ESP0
STACK3   equ 0x7000
IDT      equ 0x1000
GDT_RAM  equ 0x2000
TSS      equ 0x3000
NAME     equ 0x0500             ; linear address of the current test's name
RESUME   equ 0x0504
PD       equ 0x10000
PT       equ 0x11000
NOTPRES  equ 0x40000            ; not-present page
RDONLY   equ 0x41000            ; read-only user page
SUPER    equ 0x42000            ; supervisor-only page

SEL_CODE0 equ 0x08
SEL_DATA0 equ 0x10
SEL_SMALL equ 0x18              ; data, limit 0xfff
SEL_NP    equ 0x20              ; data, not present
SEL_CODE3 equ 0x28 | 3
SEL_DATA3 equ 0x30 | 3
SEL_TSS   equ 0x38

; TEST name, eflags: name the test, point RESUME past its END_TEST, set
; EFLAGS. Usable at any CPL (POPF leaves IOPL/IF alone at CPL 3).
%macro TEST 2
    %push test
    jmp %%go
%%s: db %1, 0
%%go:
    mov dword [NAME], ROMBASE + %%s
    mov dword [RESUME], ROMBASE + %$after
    push dword %2
    popfd
%endmacro

; END_TEST: reached only if nothing trapped (CPL 0 only: it prints).
%macro END_TEST 0
    call no_event
%$after:
    %pop
%endmacro

; END_TEST3: CPL 3 tests all trap; a test that does not falls into the next.
%macro END_TEST3 0
%$after:
    %pop
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov sp, 0x7c00
    lgdt [cs:gdtr_rom]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword SEL_CODE0:(ROMBASE + pm32)

bits 32
pm32:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, STACK0
    ; the GDT moves to RAM (LTR sets the busy bit in the TSS descriptor)
    mov esi, ROMBASE + gdt
    mov edi, GDT_RAM
    mov ecx, gdt_end - gdt
    cld
    rep movsb
    lgdt [ROMBASE + gdtr_ram]
    jmp SEL_CODE0:(ROMBASE + .reload)
.reload:
    ; the IDT: every vector not listed stays zero (not present)
    mov edi, IDT
    mov ecx, 256 * 2
    xor eax, eax
    rep stosd
    mov esi, ROMBASE + gates
.gate:
    movzx ebx, byte [esi]       ; vector
    movzx edx, byte [esi + 1]   ; type and DPL byte
    mov eax, [esi + 2]          ; handler offset in the ROM
    add eax, ROMBASE
    mov ecx, eax
    and ecx, 0xffff
    or ecx, SEL_CODE0 << 16
    mov [IDT + ebx * 8], ecx
    and eax, 0xffff0000
    shl edx, 8
    or eax, edx
    mov [IDT + ebx * 8 + 4], eax
    add esi, 6
    cmp esi, ROMBASE + gates_end
    jb .gate
    lidt [ROMBASE + idtr]

    mov esi, ROMBASE + msg_hello
    call puts32

    TEST "div0", 0x002
    mov edx, 0
    mov eax, 1
    mov ecx, 0
    div ecx
    END_TEST

    TEST "ud2", 0x002
    ud2
    END_TEST

    TEST "int3", 0x0c3
    int3
    END_TEST

    TEST "int40", 0x002
    int 0x40
    END_TEST

    TEST "into", 0x802
    into
    END_TEST

    TEST "bound", 0x002
    mov dword [0x600], 10
    mov dword [0x604], 20
    mov eax, 21
    bound eax, [0x600]
    END_TEST

    TEST "gp-sel", 0x002
    mov ax, 0x80                ; beyond the GDT limit
    mov ds, ax
    END_TEST

    TEST "gp-null-ss", 0x002
    mov eax, 0
    mov ss, ax
    END_TEST

    TEST "np", 0x002
    mov ax, SEL_NP
    mov es, ax
    END_TEST
    mov ax, SEL_DATA0
    mov es, ax

    ; (No segment-limit or segment-type checks on data accesses here:
    ; QEMU's TCG does not perform them, so it cannot serve as the reference.)
    TEST "load-small", 0x002
    mov ax, SEL_SMALL
    mov fs, ax
    END_TEST

    TEST "mov-cr1", 0x002
    mov eax, cr1
    END_TEST

    ; paging: identity map 0-4 MiB with user pages, except three test pages
    mov edi, PD
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [PD], PT | 0x007
    mov edi, PT
    mov eax, 0x007
    mov ecx, 1024
.pte:
    stosd
    add eax, 0x1000
    loop .pte
    mov dword [PT + (NOTPRES >> 12) * 4], 0
    mov dword [PT + (RDONLY >> 12) * 4], RDONLY | 0x005
    mov dword [PT + (SUPER >> 12) * 4], SUPER | 0x003
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    TEST "pf-read", 0x002
    mov eax, [NOTPRES + 0x10]
    END_TEST

    TEST "pf-write", 0x002
    mov [NOTPRES + 0x20], eax
    END_TEST

    TEST "ro-wp0", 0x002
    mov dword [RDONLY], 0x1234
    END_TEST

    mov eax, cr0
    or eax, 0x10000             ; WP
    mov cr0, eax
    TEST "ro-wp1", 0x002
    mov dword [RDONLY + 4], 0x5678
    END_TEST

    TEST "pf-fetch", 0x002
    mov eax, NOTPRES
    jmp eax
    END_TEST

    ; to CPL 3: TSS with ESP0, no I/O bitmap
    mov edi, TSS
    mov ecx, 0x68 / 4
    xor eax, eax
    rep stosd
    mov dword [TSS + 4], STACK0T
    mov dword [TSS + 8], SEL_DATA0
    mov word [TSS + 0x66], 0x68
    mov ax, SEL_TSS
    ltr ax
    push dword SEL_DATA3
    push dword STACK3
    push dword 0x002
    push dword SEL_CODE3
    push dword ROMBASE + ring3
    iretd

ring3:
    mov ax, SEL_DATA3
    mov ds, ax
    mov es, ax

    TEST "r3-int40", 0x002
    int 0x40
    END_TEST3

    TEST "r3-int41", 0x002
    int 0x41
    END_TEST3

    TEST "r3-int3", 0x002
    int3
    END_TEST3

    TEST "r3-hlt", 0x002
    hlt
    END_TEST3

    TEST "r3-cli", 0x002
    cli
    END_TEST3

    TEST "r3-out", 0x002
    out DEBUGCON, al
    END_TEST3

    TEST "r3-mov-cr0", 0x002
    mov eax, cr0
    END_TEST3

    TEST "r3-ds-dpl0", 0x002
    mov ax, SEL_DATA0
    mov ds, ax
    END_TEST3

    TEST "r3-pf-super", 0x002
    mov eax, [SUPER]
    END_TEST3

    TEST "r3-pf-ro", 0x002
    mov [RDONLY + 8], eax
    END_TEST3

    TEST "r3-pf-np", 0x002
    mov [NOTPRES], eax
    END_TEST3

    int 0x42                    ; back to CPL 0 (does not return)

ring0_again:
    mov esi, ROMBASE + msg_end
    call puts32
    mov eax, esp
    mov ecx, 8
    call hex32
    mov al, 10
    out DEBUGCON, al
    EXIT 0x11

; no_event: print "<name> no event\n".
no_event:
    push esi
    mov esi, [NAME]
    call puts32
    mov esi, ROMBASE + msg_none
    call puts32
    pop esi
    ret

; Handler stubs: push a zero error code where the CPU pushes none, then the
; vector.
%macro STUB 2                   ; vector, 1 if the CPU pushes an error code
h_%1:
%if %2 == 0
    push dword 0
%endif
    push dword %1
    jmp handler
%endmacro
    STUB 0, 0
    STUB 3, 0
    STUB 4, 0
    STUB 5, 0
    STUB 6, 0
    STUB 11, 1
    STUB 12, 1
    STUB 13, 1
    STUB 14, 1
    STUB 0x40, 0
    STUB 0x41, 0

; vector 0x42 (DPL 3): return to CPL 0 for good.
h_0x42:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov esp, STACK0
    jmp ring0_again

; Stack: vector, error code, EIP, CS, EFLAGS [, ESP, SS].
handler:
    push ebp
    mov ebp, esp
    pushad
    push ds
    push es
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov esi, [NAME]
    call puts32
    mov esi, ROMBASE + msg_v
    call puts32
    mov eax, [ebp + 4]
    mov ecx, 2
    call hex32
    mov esi, ROMBASE + msg_err
    call puts32
    mov eax, [ebp + 8]
    mov ecx, 4
    call hex32
    mov esi, ROMBASE + msg_eip
    call puts32
    mov eax, [ebp + 12]
    mov ecx, 8
    call hex32
    mov esi, ROMBASE + msg_cs
    call puts32
    mov eax, [ebp + 16]
    mov ecx, 4
    call hex32
    mov esi, ROMBASE + msg_f
    call puts32
    mov eax, [ebp + 20]
    and eax, 0x3fd7
    mov ecx, 4
    call hex32
    test byte [ebp + 16], 3
    jz .same_cpl
    mov esi, ROMBASE + msg_ss
    call puts32
    mov eax, [ebp + 28]
    mov ecx, 4
    call hex32
    mov al, ':'
    out DEBUGCON, al
    mov eax, [ebp + 24]
    mov ecx, 8
    call hex32
.same_cpl:
    cmp dword [ebp + 4], 14
    jne .eol
    mov esi, ROMBASE + msg_cr2
    call puts32
    mov eax, cr2
    mov ecx, 8
    call hex32
.eol:
    mov al, 10
    out DEBUGCON, al
    mov eax, [RESUME]
    mov [ebp + 12], eax
    pop es
    pop ds
    popad
    pop ebp
    add esp, 8
    iretd

%include "inc/print32.inc"

; gate table: vector, type/DPL byte, handler offset
%macro GATE 2
    db %1, %2
    dd h_%1
%endmacro
gates:
    GATE 0, 0x8e                ; 32-bit interrupt gate, DPL 0
    GATE 3, 0xee                ; DPL 3
    GATE 4, 0xee
    GATE 5, 0x8e
    GATE 6, 0x8e
    GATE 11, 0x8e
    GATE 12, 0x8e
    GATE 13, 0x8e
    GATE 14, 0x8e
    GATE 0x40, 0xee
    GATE 0x41, 0x8e
    GATE 0x42, 0xee
gates_end:

align 8
gdt:
    dq 0                        ; 0x00 null
    dq 0x00cf9b000000ffff       ; 0x08 code, DPL 0, flat
    dq 0x00cf93000000ffff       ; 0x10 data, DPL 0, flat
    dq 0x0000930000000fff       ; 0x18 data, DPL 0, limit 0xfff
    dq 0x00cf13000000ffff       ; 0x20 data, not present
    dq 0x00cffb000000ffff       ; 0x28 code, DPL 3, flat
    dq 0x00cff3000000ffff       ; 0x30 data, DPL 3, flat
    dq 0x0000890000000067 | (TSS << 16) ; 0x38 32-bit TSS (available)
gdt_end:
gdtr_rom:
    dw gdt_end - gdt - 1
    dd ROMBASE + gdt
gdtr_ram:
    dw gdt_end - gdt - 1
    dd GDT_RAM
idtr:
    dw 256 * 8 - 1
    dd IDT

%include "inc/print16.inc"

msg_hello: db `protected-mode exceptions\n`, 0
msg_none:  db ` no event\n`, 0
msg_v:     db " v=", 0
msg_err:   db " err=", 0
msg_eip:   db " eip=", 0
msg_cs:    db " cs=", 0
msg_f:     db " f=", 0
msg_ss:    db " ss:esp=", 0
msg_cr2:   db " cr2=", 0
msg_end:   db "end esp=", 0

RESET_VECTOR

; transitions.asm — mode switches in both directions and the hidden parts
; of the segment registers:
;  1. "big real mode": DS and ES loaded with 4 GiB data descriptors in
;     protected mode keep their limits after CR0.PE is cleared; 32-bit
;     addresses above 1 MiB then work in real mode, also after a real-mode
;     MOV DS (which sets the base from the selector and keeps the limit,
;     SDM Vol. 3 3.4.3 and 9.9.2);
;  2. 16-bit protected mode (a D = 0 code segment: operand size 16 without
;     prefixes, PUSH width), then a far jump to 32-bit code;
;  3. long mode entered and left again: 64-bit → compatibility mode →
;     CR0.PG = 0 → EFER.LME = 0 → 32-bit protected mode (EFER.LMA
;     read back at each step, SDM Vol. 3 9.8.5.4) → real mode (CR0.PE = 0)
;     with a far jump;
;  4. CR0/CR4/EFER as read back along the way.
; One line per check: "<name> <value>".

%include "inc/rom.inc"

STACK   equ 0x7000
PML4    equ 0x20000
PDPT    equ 0x21000
PDIR    equ 0x22000
BIG     equ 0x00200000          ; above 1 MiB

; SHOW16 "name": print "name <EAX>" in real or 16-bit mode
%macro SHOW16 1
    jmp %%go
%%s: db %1, " ", 0
%%go:
    push eax
    mov si, %%s
    call puts16
    pop eax
    call hex32r
    call newline16
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK
    cld
    PRINT16 msg_hello

    ; 1. big real mode
    lgdt [cs:gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:.pm16              ; 16-bit protected mode (base 0xf0000)
.pm16:
    mov ax, 0x18                ; 4 GiB data
    mov ds, ax
    mov es, ax
    mov eax, cr0
    and al, 0xfe
    mov cr0, eax
    jmp 0xf000:.rm
.rm:
    xor ax, ax
    mov ds, ax                  ; base 0, limit stays 4 GiB
    mov es, ax
    mov dword [dword BIG], 0x600dbeef
    mov esi, BIG
    mov eax, [esi]
    SHOW16 "big-real read"
    mov ax, 0x1000
    mov ds, ax                  ; base 0x10000
    mov eax, [dword BIG - 0x10000 + 4]
    mov ebx, BIG
    mov [ebx - 0x10000 + 8], ebx
    xor ax, ax
    mov ds, ax
    mov eax, [dword BIG + 8]
    SHOW16 "big-real after mov ds"
    mov eax, cr0
    SHOW16 "cr0 real"

    ; 2. 16-bit protected mode code, then 32-bit
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:.p16
.p16:
    mov ax, 0x10
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov bx, sp
    push ax                     ; 2 bytes in a 16-bit segment
    sub bx, sp
    pop ax
    movzx eax, bx
    SHOW16 "p16 push width"
    mov eax, 0x12345678
    mov ax, 0x1111              ; 16-bit operand size: upper half kept
    SHOW16 "p16 mov ax"
    jmp dword 0x20:(ROMBASE + p32)

bits 32
p32:
    mov esp, STACK
    mov ebx, esp
    push ax
    push eax
    sub ebx, esp                ; 6
    add esp, 6
    mov eax, ebx
    mov ecx, 8
    call hex32p
    ; 3. long mode and back
    mov edi, PML4
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov dword [PML4], PDPT | 3
    mov dword [PDPT], PDIR | 3
    mov dword [PDIR], 0x83      ; 2 MiB identity page
    mov dword [PDIR + 8], 0x200083
    mov eax, cr4
    or eax, 0x20
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080
    rdmsr
    or eax, 0x100
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov ecx, 0xc0000080
    rdmsr
    mov ecx, 8
    call hex32p                 ; EFER in compatibility mode: LME | LMA
    jmp 0x28:(ROMBASE + lm)

bits 64
lm:
    mov rax, 0x123456789
    add rax, rax
    mov [0x600], rax
    mov eax, [BIG]              ; through the 2 MiB page
    mov [0x608], eax
    ; back to compatibility mode through a far return
    push 0x20
    lea rax, [rel compat]
    push rax
    retfq

bits 32
compat:
    mov eax, [0x604]
    mov ecx, 8
    call hex32p                 ; upper half of the 64-bit result
    mov eax, [0x600]
    call hex32p
    mov eax, [0x608]
    call hex32p
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax                ; paging off: LMA = 0
    mov ecx, 0xc0000080
    rdmsr
    mov ecx, 8
    call hex32p
    mov ecx, 0xc0000080
    rdmsr
    and eax, ~0x100
    wrmsr
    rdmsr
    mov ecx, 8
    call hex32p
    jmp 0x20:(ROMBASE + .flat)  ; reload CS in legacy protected mode
.flat:
    mov eax, cr0
    mov ecx, 8
    call hex32p
    ; 4. back to real mode through a 16-bit code segment
    jmp 0x08:.to16 - ROMBASE + ROMBASE
.to16:
bits 16
    mov eax, cr0
    and al, 0xfe
    mov cr0, eax
    jmp 0xf000:.real
.real:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov sp, STACK
    mov eax, cr0
    SHOW16 "cr0 real again"
    mov ax, cs
    movzx eax, ax
    SHOW16 "cs real again"
    mov eax, [dword BIG]        ; DS limit was reloaded from 0x10 (4 GiB) in p16
    SHOW16 "big-real again"
    EXIT 0x17

bits 32
; hex32p: print "p <ECX digits of EAX>\n" from 32-bit code (flat DS)
hex32p:
    push eax
    mov al, 'p'
    out DEBUGCON, al
    mov al, ' '
    out DEBUGCON, al
    pop eax
    call hex32
    push eax
    mov al, 10
    out DEBUGCON, al
    pop eax
    ret

%include "inc/print32.inc"

bits 16
hex32r:
    ror eax, 16
    call hex16
    ror eax, 16
    call hex16
    ret

%include "inc/print16.inc"

align 8
gdt:
    dq 0
    dq 0x00009b0f0000ffff       ; 0x08 code16 base 0xf0000 limit 0xffff
    dq 0x00cf93000000ffff       ; 0x10 data 4 GiB
    dq 0x00cf93000000ffff       ; 0x18 data 4 GiB
    dq 0x00cf9b000000ffff       ; 0x20 code32 flat
    dq 0x00af9b000000ffff       ; 0x28 code64
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd ROMBASE + gdt

msg_hello: db `mode transitions\n`, 0

RESET_VECTOR

; modes.asm — real mode -> 32-bit protected mode -> 32-bit paging -> long
; mode, computing in each mode and printing the results on the debug
; console, one line per check: "<tag> <name> <value> [f=<flags>]".
;
; Tags: R real mode, P 32-bit protected mode (flat, paging off), G 32-bit
; paging (4 KiB pages and a 4 MiB page with CR4.PSE), L 64-bit mode (4-level
; PAE tables with 4 KiB, 2 MiB pages and a higher-half alias).
; Flags are masked to the flags the SDM defines for the instruction.
; No CPUID: its values differ between CPU models.

%include "inc/rom.inc"

STACK16  equ 0x7000
STACK32  equ 0x8000
STACK64  equ 0x9000
TAG      equ 0x0500             ; current tag character, read by the printers
PD32     equ 0x10000            ; 32-bit paging: page directory
PT32     equ 0x11000            ;   page table for 0-4 MiB
PML4     equ 0x20000            ; long mode tables
PDPT     equ 0x21000
PD64     equ 0x22000
PT64     equ 0x23000
BUF      equ 0x30000            ; scratch buffers (BUF, BUF + 0x1000)
BUF2     equ 0x31000

F_ALL    equ 0x08d5             ; OF SF ZF AF PF CF
F_SZPC   equ 0x00c5             ; SF ZF PF CF (shifts by more than 1)
F_SZPCO  equ 0x08c5             ; SF ZF PF CF OF (shifts by 1)
F_CO     equ 0x0801             ; CF OF (MUL/IMUL, 1-bit rotates)
F_C      equ 0x0001             ; CF (rotates by more than 1)
F_NOTC   equ 0x08d4             ; INC/DEC: all but CF

; ---------------------------------------------------------------- real mode
; SHOW16 "name": print "<tag> name <AX>".
%macro SHOW16 1
    jmp %%go
%%s: db %1, 0
%%go:
    mov si, %%s
    call line16
%endmacro

; SHOWF16 "name", mask: print "<tag> name <AX> f=<FLAGS & mask>", with the
; flags as they were at the macro.
%macro SHOWF16 2
    pushf
    pop bx
    and bx, %2
    jmp %%go
%%s: db %1, 0
%%go:
    mov si, %%s
    call line16f
%endmacro

bits 16
start:
    xor ax, ax
    mov ss, ax
    mov ds, ax
    mov es, ax
    mov sp, STACK16
    mov byte [TAG], 'R'

    mov ax, 0x7fff
    add ax, 1
    SHOWF16 "add", F_ALL
    mov ax, 0x0001
    sub ax, 2
    SHOWF16 "sub", F_ALL
    mov ax, 0x8000
    sub ax, 1
    SHOWF16 "sub-of", F_ALL
    ; 32-bit addition with ADD/ADC on 16-bit halves: 0x1234ffff + 0x0001_0001
    mov ax, 0xffff
    mov dx, 0x1234
    add ax, 0x0001
    adc dx, 0x0001
    SHOWF16 "adc-lo", F_ALL
    mov ax, dx
    SHOW16 "adc-hi"
    mov ax, 0x0000
    mov dx, 0x0010
    sub ax, 1
    sbb dx, 0
    mov ax, dx
    SHOWF16 "sbb", F_ALL
    mov ax, 0x00ff
    inc al
    SHOWF16 "inc8", F_NOTC
    mov ax, 0x8000
    dec ax
    SHOWF16 "dec", F_NOTC
    mov ax, 0x1234
    neg ax
    SHOWF16 "neg", F_ALL
    mov ax, 0xf0f0
    and ax, 0x0ff0
    SHOWF16 "and", F_SZPCO & ~F_C | F_C
    mov ax, 0x1234
    cmp ax, 0x1235
    SHOWF16 "cmp", F_ALL

    mov ax, 0x1234
    mov bx, 0x5678
    mul bx
    SHOWF16 "mul-lo", F_CO
    mov ax, dx
    SHOW16 "mul-hi"
    mov ax, -3
    mov bx, 7
    imul bx
    SHOWF16 "imul", F_CO
    mov ax, 0x1000
    mov bx, 0x10
    imul ax, bx, 0x123
    SHOWF16 "imul3", F_CO
    mov dx, 0x0012
    mov ax, 0x3456
    mov cx, 0x0100
    div cx
    SHOW16 "div-q"
    mov ax, dx
    SHOW16 "div-r"
    mov ax, -1000
    cwd
    mov cx, 7
    idiv cx
    SHOW16 "idiv-q"
    mov ax, dx
    SHOW16 "idiv-r"
    mov al, 200
    mov cl, 7
    mul cl
    SHOWF16 "mul8", F_CO

    mov ax, 0x8001
    shl ax, 1
    SHOWF16 "shl1", F_SZPCO
    mov ax, 0x8421
    shr ax, 3
    SHOWF16 "shr3", F_SZPC
    mov ax, 0x8421
    sar ax, 3
    SHOWF16 "sar3", F_SZPC
    mov ax, 0x8421
    mov cl, 5
    rol ax, cl
    SHOWF16 "rol5", F_C
    mov ax, 0x8421
    ror ax, 1
    SHOWF16 "ror1", F_CO
    stc
    mov ax, 0x4000
    rcl ax, 1
    SHOWF16 "rcl1", F_CO
    clc
    mov ax, 0x0003
    rcr ax, 2
    SHOWF16 "rcr2", F_C

    ; string ops: ES:DI = 3000:0000 (BUF)
    mov ax, BUF >> 4
    mov es, ax
    xor di, di
    mov cx, 16
    mov ax, 0xa55a
    cld
    rep stosw
    mov ax, di
    SHOW16 "stosw-di"
    ; copy 32 bytes BUF -> BUF + 0x40 with DS = ES = 0x3000
    push ds
    mov ax, es
    mov ds, ax
    xor si, si
    mov di, 0x40
    mov cx, 32
    rep movsb
    mov byte [0x40 + 20], 0x00  ; make the copies differ at byte 20
    xor si, si
    mov di, 0x40
    mov cx, 32
    repe cmpsb
    pop ds
    mov ax, cx
    SHOWF16 "cmpsb-cx", F_ALL
    mov ax, di
    SHOW16 "cmpsb-di"
    xor di, di
    mov cx, 100
    mov al, 0x00
    repne scasb                 ; find the first 0x00 (at BUF + 32)
    mov ax, di
    SHOWF16 "scasb-di", F_ALL
    std
    mov di, 0x3e
    mov ax, 0x1111
    mov cx, 2
    rep stosw
    cld
    mov ax, di
    SHOW16 "std-di"
    xor ax, ax
    mov es, ax

    ; PUSH/POP and CALL/RET: recursive factorial(8) = 40320 = 0x9d80
    mov ax, 8
    call fact16
    SHOW16 "fact8"
    mov ax, sp
    SHOW16 "sp"
    push word 0x1234
    push word 0x5678
    pop ax
    pop bx
    sub ax, bx
    SHOWF16 "pushpop", F_ALL

    ; checksum loop: fill 256 words with a 16-bit LCG, then fold them with
    ; rotate-and-xor.
    mov ax, BUF2 >> 4
    mov es, ax
    xor di, di
    mov ax, 1
    mov cx, 256
.fill:
    mov bx, 25173
    mul bx
    add ax, 13849
    stosw
    loop .fill
    push ds
    mov ax, es
    mov ds, ax
    xor si, si
    xor dx, dx
    mov cx, 256
.fold:
    lodsw
    rol dx, 3
    xor dx, ax
    loop .fold
    pop ds
    xor ax, ax
    mov es, ax
    mov ax, dx
    SHOW16 "cksum"

    ; ----------------------------------------- to 32-bit protected mode
    lgdt [cs:gdtr]
    mov eax, cr0
    or eax, 1
    mov cr0, eax
    jmp dword 0x08:(ROMBASE + pm32)

; fact16: AX = AX! (recursive).
fact16:
    cmp ax, 1
    jbe .one
    push ax
    dec ax
    call fact16
    pop bx
    mul bx
    ret
.one:
    mov ax, 1
    ret

; line16: print "<tag> <name at CS:SI> <AX>\n".
line16:
    push ax
    mov al, [TAG]
    out DEBUGCON, al
    call space16
    call puts16
    call space16
    pop ax
    call hex16
    call newline16
    ret

; line16f: as line16, then " f=<BX>".
line16f:
    push ax
    mov al, [TAG]
    out DEBUGCON, al
    call space16
    call puts16
    call space16
    pop ax
    call hex16
    mov si, s_f
    call puts16
    push ax
    mov ax, bx
    call hex16
    pop ax
    call newline16
    ret

%include "inc/print16.inc"

s_f: db " f=", 0

align 8
gdt:
    dq 0                        ; 0x00 null
    dq 0x00cf9b000000ffff       ; 0x08 code, 32-bit, flat
    dq 0x00cf93000000ffff       ; 0x10 data, flat
    dq 0x00af9b000000ffff       ; 0x18 code, 64-bit
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd ROMBASE + gdt

; --------------------------------------------------- 32-bit protected mode
; SHOW32 "name": print "<tag> name <EAX>".
%macro SHOW32 1
    jmp %%go
%%s: db %1, 0
%%go:
    mov esi, ROMBASE + %%s
    call line32
%endmacro

; SHOWF32 "name", mask: print "<tag> name <EAX> f=<EFLAGS & mask>".
%macro SHOWF32 2
    pushfd
    pop ebx
    and ebx, %2
    jmp %%go
%%s: db %1, 0
%%go:
    mov esi, ROMBASE + %%s
    call line32f
%endmacro

bits 32
pm32:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, STACK32
    mov byte [TAG], 'P'
    mov eax, cr0
    and eax, 1
    SHOW32 "cr0.pe"

    mov eax, 0x7fffffff
    add eax, 1
    SHOWF32 "add", F_ALL
    mov eax, 0x12345678
    sub eax, 0x12345679
    SHOWF32 "sub", F_ALL
    mov eax, 0xffffffff
    mov edx, 0x00000001
    add eax, 1
    adc edx, 0
    mov eax, edx
    SHOWF32 "adc", F_ALL
    mov eax, 0xdeadbeef
    xor eax, 0xffff0000
    SHOWF32 "xor", F_SZPC | 0x0800
    mov eax, 0x80000000
    neg eax
    SHOWF32 "neg", F_ALL

    mov eax, 0x12345678
    mov ecx, 0x9abcdef0
    mul ecx
    SHOWF32 "mul-lo", F_CO
    mov eax, edx
    SHOW32 "mul-hi"
    mov eax, -123456
    mov ecx, 789
    imul ecx
    SHOWF32 "imul-lo", F_CO
    mov eax, edx
    SHOW32 "imul-hi"
    mov ecx, 0x10001
    imul eax, ecx, 0x10001
    SHOWF32 "imul3", F_CO
    mov edx, 0x00000123
    mov eax, 0x456789ab
    mov ecx, 0x00012345
    div ecx
    SHOW32 "div-q"
    mov eax, edx
    SHOW32 "div-r"
    mov eax, -100000007
    cdq
    mov ecx, 1000
    idiv ecx
    SHOW32 "idiv-q"
    mov eax, edx
    SHOW32 "idiv-r"

    mov eax, 0x80000001
    shl eax, 1
    SHOWF32 "shl1", F_SZPCO
    mov eax, 0x87654321
    sar eax, 12
    SHOWF32 "sar12", F_SZPC
    mov eax, 0x87654321
    mov cl, 36                  ; masked to 4
    shr eax, cl
    SHOWF32 "shr36", F_SZPC
    mov eax, 0x87654321
    rol eax, 8
    SHOWF32 "rol8", F_C
    mov eax, 0x12345678
    mov edx, 0x9abcdef0
    shld eax, edx, 8
    SHOWF32 "shld8", F_SZPC
    mov eax, 0x12345678
    bswap eax
    SHOW32 "bswap"
    mov eax, 0x00f00000
    bsf ecx, eax
    bsr edx, eax
    shl edx, 8
    or ecx, edx
    mov eax, ecx
    SHOW32 "bsf-bsr"
    mov eax, 0x12345678
    bt eax, 3
    setc al
    movzx eax, al
    SHOW32 "bt"
    mov eax, 0x80
    movsx eax, al
    SHOW32 "movsx"

    ; string ops on the flat data segment
    mov edi, BUF
    mov ecx, 64
    mov eax, 0x01020304
    cld
    rep stosd
    mov esi, BUF
    mov edi, BUF + 0x400
    mov ecx, 64
    rep movsd
    mov dword [BUF + 0x400 + 4 * 40], 0
    mov esi, BUF
    mov edi, BUF + 0x400
    mov ecx, 64
    repe cmpsd
    mov eax, ecx
    SHOWF32 "cmpsd-ecx", F_ALL
    mov eax, edi
    SHOW32 "cmpsd-edi"
    mov esi, BUF
    lodsd
    SHOW32 "lodsd"

    ; recursion and the stack
    mov eax, 12
    call fact32
    SHOW32 "fact12"
    mov eax, esp
    SHOW32 "esp"
    push dword 0xaabbccdd
    push word 0x1122
    pop ax
    pop ebx
    xor eax, ebx
    SHOW32 "pushpop"
    pushad
    mov eax, 0x11111111
    popad
    SHOW32 "popad"

    ; checksum loop: 1024 dwords of a 32-bit LCG, folded with rotate/xor
    mov edi, BUF2
    mov eax, 1
    mov ecx, 1024
.fill:
    imul eax, eax, 1664525
    add eax, 1013904223
    stosd
    loop .fill
    mov esi, BUF2
    xor edx, edx
    mov ecx, 1024
.fold:
    lodsd
    rol edx, 5
    xor edx, eax
    add edx, ecx
    dec ecx
    jnz .fold
    mov eax, edx
    SHOW32 "cksum"

    ; --------------------------------------------------- 32-bit paging
    ; PD[0] -> PT32 (4 KiB pages identity-mapping 0-4 MiB)
    ; PD[1] -> 4 MiB page at 4 MiB (identity)
    ; PD[2] -> 4 MiB page at 0 (an alias of the first 4 MiB at 8 MiB)
    mov edi, PD32
    mov ecx, 1024
    xor eax, eax
    rep stosd
    mov dword [PD32 + 0], PT32 | 0x003
    mov dword [PD32 + 4], 0x00400000 | 0x083
    mov dword [PD32 + 8], 0x00000000 | 0x083
    mov edi, PT32
    mov eax, 0x003
    mov ecx, 1024
.pte:
    stosd
    add eax, 0x1000
    loop .pte
    mov eax, cr4
    or eax, 0x10                ; PSE
    mov cr4, eax
    mov eax, PD32
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000          ; PG
    mov cr0, eax
    jmp .paged
.paged:
    mov byte [TAG], 'G'
    mov eax, cr0
    shr eax, 31
    SHOW32 "cr0.pg"
    ; write through the alias, read through the identity map
    mov dword [0x00800000 + BUF + 0x800], 0xcafef00d
    mov eax, [BUF + 0x800]
    SHOW32 "alias"
    mov eax, [PD32 + 8]
    SHOW32 "pde2"               ; A and D set by the write
    mov eax, [PT32 + 4 * (BUF >> 12)]
    SHOW32 "pte-r"              ; A set by the read
    mov dword [BUF + 0x804], 1
    mov eax, [PT32 + 4 * (BUF >> 12)]
    SHOW32 "pte-w"              ; A and D
    ; the 4 MiB identity page
    mov dword [0x00500000], 0x600df00d
    mov eax, [0x00800000 + 0x00100000]   ; alias of 1 MiB: RAM, still 0
    SHOW32 "alias-1m"
    mov eax, [0x00500000]
    SHOW32 "4m-page"
    ; unmap a page, INVLPG, remap elsewhere: PT[0x30] -> 0x31000
    mov dword [PT32 + 4 * (BUF >> 12)], BUF2 | 0x003
    invlpg [BUF]
    mov eax, [BUF]
    SHOW32 "remap"              ; first LCG dword
    mov dword [PT32 + 4 * (BUF >> 12)], BUF | 0x003
    invlpg [BUF]
    mov eax, [BUF]
    SHOW32 "unremap"

    ; ------------------------------------------------------- long mode
    ; paging off, then the 4-level tables:
    ; PML4[0] and PML4[256] -> PDPT; PDPT[0] -> PD64;
    ; PD64[0] -> PT64 (4 KiB pages, 0-2 MiB); PD64[1] -> 2 MiB page at 2 MiB;
    ; PD64[4] -> 2 MiB page at 0 (alias at 8 MiB).
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    mov edi, PML4
    mov ecx, 4 * 1024
    xor eax, eax
    rep stosd                   ; PML4, PDPT, PD64, PT64 zeroed
    mov dword [PML4 + 0], PDPT | 0x003
    mov dword [PML4 + 8 * 256], PDPT | 0x003
    mov dword [PDPT + 0], PD64 | 0x003
    mov dword [PD64 + 0], PT64 | 0x003
    mov dword [PD64 + 8], 0x00200000 | 0x083
    mov dword [PD64 + 32], 0x00000000 | 0x083
    mov edi, PT64
    mov eax, 0x003
    mov ecx, 512
.pte64:
    mov [edi], eax
    mov dword [edi + 4], 0
    add edi, 8
    add eax, 0x1000
    loop .pte64
    mov eax, cr4
    or eax, 0x20                ; PAE
    mov cr4, eax
    mov eax, PML4
    mov cr3, eax
    mov ecx, 0xc0000080         ; EFER
    rdmsr
    or eax, 0x100               ; LME
    wrmsr
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax                ; IA-32e mode, compatibility mode
    jmp 0x18:(ROMBASE + lm64)

; fact32: EAX = EAX! (recursive).
fact32:
    cmp eax, 1
    jbe .one
    push eax
    dec eax
    call fact32
    pop ecx
    mul ecx
    ret
.one:
    mov eax, 1
    ret

; puts32: print the NUL-terminated string at ESI. Clobbers AL, ESI.
puts32:
    mov al, [esi]
    inc esi
    test al, al
    jz .done
    out DEBUGCON, al
    jmp puts32
.done:
    ret

; hex32: print the low ECX hex digits of EAX. Preserves registers.
hex32:
    pushad
    mov edx, eax
    shl ecx, 2
.digit:
    sub ecx, 4
    mov eax, edx
    shr eax, cl
    and eax, 0xf
    mov al, [ROMBASE + hexdigits + eax]
    out DEBUGCON, al
    test ecx, ecx
    jnz .digit
    popad
    ret

; line32: print "<tag> <name at ESI> <EAX>\n"; line32f adds " f=<BX>".
line32:
    clc
    jmp line32x
line32f:
    stc
line32x:
    pushad
    pushfd                      ; CF: print flags
    mov edx, eax
    mov al, [TAG]
    out DEBUGCON, al
    mov al, ' '
    out DEBUGCON, al
    call puts32
    mov al, ' '
    out DEBUGCON, al
    mov eax, edx
    mov ecx, 8
    call hex32
    popfd
    jnc .nl
    mov esi, ROMBASE + s_f
    call puts32
    mov eax, ebx
    mov ecx, 4
    call hex32
.nl:
    mov al, 10
    out DEBUGCON, al
    popad
    ret

; ---------------------------------------------------------------- 64-bit
; SHOW64 "name": print "<tag> name <RAX>".
%macro SHOW64 1
    jmp %%go
%%s: db %1, 0
%%go:
    lea rsi, [rel %%s]
    call line64
%endmacro

; SHOWF64 "name", mask: print "<tag> name <RAX> f=<RFLAGS & mask>".
%macro SHOWF64 2
    pushfq
    pop rbx
    and ebx, %2
    jmp %%go
%%s: db %1, 0
%%go:
    lea rsi, [rel %%s]
    call line64f
%endmacro

bits 64
lm64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov rsp, STACK64
    mov byte [TAG], 'L'
    mov ecx, 0xc0000080
    rdmsr
    and eax, 0x500              ; LME, LMA
    SHOW64 "efer"

    mov rax, 0x7fffffffffffffff
    add rax, 1
    SHOWF64 "add", F_ALL
    mov rax, 0
    sub rax, 1
    SHOWF64 "sub", F_ALL
    mov rax, 0xffffffff
    add eax, 1                  ; 32-bit op zero-extends
    SHOWF64 "add32", F_ALL
    mov rax, 0x123456789abcdef0
    mov rcx, 0x0fedcba987654321
    mul rcx
    SHOWF64 "mul-lo", F_CO
    mov rax, rdx
    SHOW64 "mul-hi"
    mov rax, -0x123456789
    mov rcx, 0x1000000001
    imul rcx
    SHOWF64 "imul-lo", F_CO
    mov rax, rdx
    SHOW64 "imul-hi"
    mov rdx, 0x12
    mov rax, 0x3456789abcdef012
    mov rcx, 0x123456789
    div rcx
    SHOW64 "div-q"
    mov rax, rdx
    SHOW64 "div-r"
    mov rax, -1000000000000007
    cqo
    mov rcx, 1000
    idiv rcx
    SHOW64 "idiv-q"
    mov rax, rdx
    SHOW64 "idiv-r"
    mov rax, 0x8000000000000001
    shl rax, 1
    SHOWF64 "shl1", F_SZPCO
    mov rax, 0x8765432112345678
    mov cl, 68                  ; masked to 4
    sar rax, cl
    SHOWF64 "sar68", F_SZPC
    mov rax, 0x8765432112345678
    rol rax, 16
    SHOWF64 "rol16", F_C
    mov r8, 1
    mov r9, 2
    mov r10, 3
    mov r11, 4
    mov r12, 5
    mov r13, 6
    mov r14, 7
    mov r15, 8
    add r8, r9
    add r8, r10
    add r8, r11
    add r8, r12
    add r8, r13
    add r8, r14
    add r8, r15
    shl r15, 60
    or r8, r15
    mov rax, r8
    SHOW64 "r8-r15"
    mov eax, 0x80000000
    movsxd rax, eax
    SHOW64 "movsxd"
    mov r9d, 0xffffffff
    mov r9w, 0x1234
    mov rax, r9
    SHOW64 "merge"

    ; RIP-relative addressing, the higher-half alias and the page sizes
    lea rax, [rel lm64]
    SHOW64 "rip-rel"
    mov rax, 0x0123456789abcdef
    mov [BUF + 0x900], rax
    mov rax, 0xffff800000000000 + BUF + 0x900
    mov rax, [rax]
    SHOW64 "high-half"
    mov rax, [0x00800000 + BUF + 0x900]
    SHOW64 "2m-alias"
    mov qword [0x00300000], 0x5a
    mov rax, [0x00300000]
    SHOW64 "2m-page"
    mov rax, [PT64 + 8 * (BUF >> 12)]
    SHOW64 "pte"                ; A and D
    mov rax, [PD64 + 32]
    SHOW64 "pde4"               ; A only

    ; string ops
    mov rdi, BUF
    mov rcx, 32
    mov rax, 0x0102030405060708
    cld
    rep stosq
    mov rsi, BUF
    mov rdi, BUF + 0x400
    mov rcx, 32
    rep movsq
    mov qword [BUF + 0x400 + 8 * 30], 0
    mov rsi, BUF
    mov rdi, BUF + 0x400
    mov rcx, 32
    repe cmpsq
    mov r10, rsi                ; the macros below use RSI
    mov rax, rcx
    SHOWF64 "cmpsq-rcx", F_ALL
    mov rax, r10
    SHOW64 "cmpsq-rsi"

    ; stack and recursion
    mov rax, 20
    call fact64
    SHOW64 "fact20"
    mov rax, rsp
    SHOW64 "rsp"
    push qword -2
    pop rax
    SHOW64 "push-imm"

    ; checksum loop: 512 qwords of a 64-bit LCG, folded
    mov rdi, BUF2
    mov rax, 1
    mov rbx, 6364136223846793005
    mov rdx, 1442695040888963407
    mov ecx, 512
.fill:
    imul rax, rbx
    add rax, rdx
    stosq
    dec ecx
    jnz .fill
    mov rsi, BUF2
    xor edx, edx
    mov ecx, 512
.fold:
    lodsq
    rol rdx, 7
    xor rdx, rax
    loop .fold
    mov rax, rdx
    SHOW64 "cksum"

    mov al, 10
    out DEBUGCON, al
    mov al, 'o'
    out DEBUGCON, al
    mov al, 'k'
    out DEBUGCON, al
    mov al, 10
    out DEBUGCON, al
    EXIT 0

; fact64: RAX = RAX! (recursive).
fact64:
    cmp rax, 1
    jbe .one
    push rax
    dec rax
    call fact64
    pop rcx
    mul rcx
    ret
.one:
    mov eax, 1
    ret

; puts64: print the NUL-terminated string at RSI. Clobbers AL, RSI.
puts64:
    mov al, [rsi]
    inc rsi
    test al, al
    jz .done
    out DEBUGCON, al
    jmp puts64
.done:
    ret

; hex64: print the low RCX hex digits of RAX. Preserves registers.
hex64:
    push rax
    push rcx
    push rdx
    push rbx
    mov rdx, rax
    lea rbx, [rel hexdigits]
    shl ecx, 2
.digit:
    sub ecx, 4
    mov rax, rdx
    shr rax, cl
    and eax, 0xf
    mov al, [rbx + rax]
    out DEBUGCON, al
    test ecx, ecx
    jnz .digit
    pop rbx
    pop rdx
    pop rcx
    pop rax
    ret

; line64: print "<tag> <name at RSI> <RAX>\n"; line64f adds " f=<BX>".
line64:
    push rbx
    mov rbx, -1
    call line64x
    pop rbx
    ret
line64f:
line64x:
    push rax
    push rcx
    push rdx
    push rsi
    mov rdx, rax
    mov al, [TAG]
    out DEBUGCON, al
    mov al, ' '
    out DEBUGCON, al
    call puts64
    mov al, ' '
    out DEBUGCON, al
    mov rax, rdx
    mov ecx, 16
    call hex64
    cmp rbx, -1
    je .nl
    lea rsi, [rel s_f]
    call puts64
    mov rax, rbx
    mov ecx, 4
    call hex64
.nl:
    mov al, 10
    out DEBUGCON, al
    pop rsi
    pop rdx
    pop rcx
    pop rax
    ret

RESET_VECTOR

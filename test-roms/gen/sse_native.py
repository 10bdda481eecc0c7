"""sse_native.py: runs the tests of sse-long (gen/sse_long.py), or of
another ROM built on gen/ssegen.py (simd4-long: gen/simd4_long.py), on the
host's own SSE unit, as a Linux x86-64 user program, and prints their lines in the
ROM's format: the arbiter for the lines where QEMU and the SDM (or xlat)
disagree. Not run by the test suite; the ROM's expected log still comes
from QEMU (and sse-long.qemu-fix.patch).

The tests that change CR0 or CR4 are left out (CPL 3 cannot). An exception
prints `#vv err=eeee ` from the signal's trap number and error code (not the
ROM's pushed RIP and stack, which differ here) and the test goes on at its
end, as in the ROM.

Usage: python3 gen/sse_native.py [GENERATOR] OUTDIR   (GENERATOR: sse_long, the
default, or simd4_long; needs nasm and cc; prints the log)
"""
import importlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from longgen import REGS  # noqa: E402

C_SRC = r"""
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
extern uint64_t RESUME, OUTREGS[8];
extern void run_tests(void);
static const char *names[8] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9"};
static void on_fault(int sig, siginfo_t *si, void *ctx) {
    (void)sig; (void)si;
    ucontext_t *uc = ctx;
    printf("#%02llx err=%04llx ", (unsigned long long)uc->uc_mcontext.gregs[REG_TRAPNO],
           (unsigned long long)uc->uc_mcontext.gregs[REG_ERR]);
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)RESUME;
}
void report(const char *name, uint64_t regmask, uint64_t flagmask, uint64_t flags) {
    printf("%s:", name);
    for (int i = 0; i < 8; i++)
        if (regmask >> i & 1) printf(" %s=%016llx", names[i], (unsigned long long)OUTREGS[i]);
    printf(" f=%04llx\n", (unsigned long long)(flags & flagmask));
}
int main(int argc, char **argv) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    setvbuf(stdout, NULL, _IOFBF, 1 << 20);
    printf("%s, natively\n", argc > 1 ? argv[1] : "");
    run_tests();
    return 0;
}
"""


def main():
    out = sys.argv[-1]
    gen = sys.argv[1] if len(sys.argv) > 2 else "sse_long"
    x = importlib.import_module(gen)
    title = next(l for l in x.r.extra.splitlines() if l.startswith("msg_hello"))
    title = title.split("`")[1].removesuffix("\\n")
    os.makedirs(out, exist_ok=True)
    a = ["bits 64", "default rel", "extern report", "global run_tests", "global RESUME",
         "global OUTREGS", "section .data", "align 16", "RESUME: dq 0", "OUTREGS: times 8 dq 0",
         "align 4096", "SCR: times 0x1000 db 0", "FXA: times 0x1000 db 0"]
    a += [l for l in x.r.extra.splitlines() if not l.startswith("msg_hello")]
    a += ["section .text", "run_tests:", "    push rbx", "    push rbp", "    push r12",
          "    push r13", "    push r14", "    push r15", "    sub rsp, 8"]
    names = []
    for i, t in enumerate(x.TESTS):
        if not t["native"]:
            continue
        names.append(f"name{i}: db {t['name']!r}, 0")
        regmask = sum(1 << REGS.index(r) for r in t["regs"])
        a.append(f"; {t['name']}")
        a += [f"    lea rax, [end{i}]", "    mov [RESUME], rax"]
        for reg, v in t["setup"].items():
            a.append(f"    mov {reg}, {v:#x}")
        a += [f"    push qword {t['f_in']:#x}", "    popfq"]
        a += ["    " + c for c in t["code"]]
        a.append(f"end{i}:")
        a += ["    " + c for c in t["post"]]
        a += ["    pushfq", "    pop r15"]
        a += [f"    mov [OUTREGS + {8 * k}], {r}" for k, r in enumerate(REGS)]
        a += [f"    lea rdi, [name{i}]", f"    mov rsi, {regmask:#x}",
              f"    mov rdx, {t['mask']:#x}", "    mov rcx, r15", "    call report wrt ..plt"]
    a += ["    add rsp, 8", "    pop r15", "    pop r14", "    pop r13", "    pop r12",
          "    pop rbp", "    pop rbx", "    ret", "section .rodata"] + names
    a.append("section .note.GNU-stack noalloc noexec nowrite")
    with open(f"{out}/tests.asm", "w") as f:
        f.write("\n".join(a) + "\n")
    with open(f"{out}/main.c", "w") as f:
        f.write(C_SRC)
    subprocess.run(["nasm", "-f", "elf64", "-o", f"{out}/tests.o", f"{out}/tests.asm"], check=True)
    subprocess.run(["cc", "-O1", "-no-pie", "-o", f"{out}/sse-native", f"{out}/main.c",
                    f"{out}/tests.o"], check=True)
    sys.stdout.flush()
    subprocess.run([f"{out}/sse-native", title], check=True)


if __name__ == "__main__":
    main()

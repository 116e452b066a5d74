/* For unit tests: runs a compiled seccomp program on a seccomp_data the
 * test makes up, as the kernel would, so a test can ask what the filter
 * answers for an ABI the machine may not run (i386 without IA32 emulation).
 * A small classic-BPF interpreter: what libseccomp emits (loads, ALU with
 * constants, jumps, returns, scratch memory); anything else fails. */
#pragma once

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BPF_RUN_BAD UINT32_C(0xdeadbeef)

/* Returns the program's SECCOMP_RET_* value, or BPF_RUN_BAD for a program
 * this interpreter cannot run (unknown instruction, jump or load out of
 * range, no return). */
static inline uint32_t seccomp_bpf_run(const struct sock_filter *f, unsigned short len, uint32_t arch, int nr,
                                       const uint64_t args[6])
{
        struct seccomp_data d = { .nr = nr, .arch = arch };
        memcpy(d.args, args, sizeof d.args);
        uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
        for (unsigned pc = 0; pc < len; pc++) {
                const struct sock_filter *i = &f[pc];
                uint32_t src = BPF_SRC(i->code) == BPF_X ? x : i->k;
                switch (BPF_CLASS(i->code)) {
                case BPF_LD:
                        if (i->code == (BPF_LD | BPF_W | BPF_ABS)) {
                                if (i->k % 4 != 0 || i->k + 4 > sizeof d)
                                        return BPF_RUN_BAD;
                                memcpy(&a, (const char *) &d + i->k, 4);
                        } else if (i->code == (BPF_LD | BPF_IMM))
                                a = i->k;
                        else if (i->code == (BPF_LD | BPF_MEM) && i->k < BPF_MEMWORDS)
                                a = mem[i->k];
                        else
                                return BPF_RUN_BAD;
                        break;
                case BPF_LDX:
                        if (i->code == (BPF_LDX | BPF_IMM))
                                x = i->k;
                        else if (i->code == (BPF_LDX | BPF_MEM) && i->k < BPF_MEMWORDS)
                                x = mem[i->k];
                        else
                                return BPF_RUN_BAD;
                        break;
                case BPF_ST:
                case BPF_STX:
                        if (i->k >= BPF_MEMWORDS)
                                return BPF_RUN_BAD;
                        mem[i->k] = BPF_CLASS(i->code) == BPF_ST ? a : x;
                        break;
                case BPF_ALU:
                        switch (BPF_OP(i->code)) {
                        case BPF_ADD: a += src; break;
                        case BPF_SUB: a -= src; break;
                        case BPF_AND: a &= src; break;
                        case BPF_OR: a |= src; break;
                        case BPF_XOR: a ^= src; break;
                        case BPF_LSH: a = src < 32 ? a << src : 0; break;
                        case BPF_RSH: a = src < 32 ? a >> src : 0; break;
                        case BPF_NEG: a = -a; break;
                        default: return BPF_RUN_BAD;
                        }
                        break;
                case BPF_JMP: {
                        bool t;
                        switch (BPF_OP(i->code)) {
                        case BPF_JA:
                                pc += i->k;
                                continue;
                        case BPF_JEQ: t = a == src; break;
                        case BPF_JGT: t = a > src; break;
                        case BPF_JGE: t = a >= src; break;
                        case BPF_JSET: t = (a & src) != 0; break;
                        default: return BPF_RUN_BAD;
                        }
                        pc += t ? i->jt : i->jf;
                        break;
                }
                case BPF_RET:
                        return BPF_RVAL(i->code) == BPF_A ? a : i->k;
                case BPF_MISC:
                        if (BPF_MISCOP(i->code) == BPF_TAX)
                                x = a;
                        else
                                a = x;
                        break;
                default:
                        return BPF_RUN_BAD;
                }
        }
        return BPF_RUN_BAD;
}

#define SECCOMP_RET_ERRNO_OF(e) (SECCOMP_RET_ERRNO | ((uint32_t) (e) & SECCOMP_RET_DATA))

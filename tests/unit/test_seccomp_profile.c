/* Unit tests for seccomp_profile.c: every error of a profile with its
 * exact message, and (in forked children, under no_new_privs) what the
 * compiled programs do to real syscalls. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "seccomp_bpf_run.h"
#include "seccomp_profile.h"
#include "security.h"
#include "util.h"

#define SRC "/etc/berth/strict.json"

static const struct seccomp_profile_target target_plain = { .caps = 0, .kernel_major = 6, .kernel_minor = 1 };

static int compile_json(const char *json, const struct seccomp_profile_target *t, struct security_seccomp *out,
                        char *err, size_t n)
{
        struct seccomp_profile *p = NULL;
        int r = seccomp_profile_parse(SRC, json, strlen(json), &p, err, n);
        if (r < 0)
                return r;
        r = seccomp_profile_compile(p, t, out, err, n);
        seccomp_profile_free(p);
        return r;
}

static void compile_ok(const char *json, const struct seccomp_profile_target *t, struct security_seccomp *out)
{
        char err[SECCOMP_PROFILE_ERROR_MAX] = "";
        int r = compile_json(json, t, out, err, sizeof err);
        if (r < 0)
                fail_msg("compile failed: %d %s", r, err);
        assert_true(out->enabled);
        assert_true(out->len > 0);
}

/* The errno the syscall fails with under program s (0 = it succeeded),
 * run in a forked child that installs s first. */
static int errno_under(const struct security_seccomp *s, long nr, long a0, long a1)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (security_no_new_privs() < 0 || security_seccomp_apply(s) < 0)
                        _exit(255);
                long r = syscall(nr, a0, a1, 0, 0, 0, 0);
                /* The raw exit: the sanitizers' _exit() hook needs calls
                 * (mmap, sigaltstack) a deny-by-default profile refuses. */
                syscall(SYS_exit_group, r < 0 ? (errno & 0xff) : 0);
                _exit(254);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_not_equal(WEXITSTATUS(status), 255);
        return WEXITSTATUS(status);
}

/* ---- compiled programs, applied ---- */

static void test_compile_allow_default_denies_mkdir(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok("{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
                   "  \"syscalls\": [ { \"names\": [\"mkdir\", \"mkdirat\", \"no_such_syscall\"],"
                   "                    \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1 } ] }",
                   &target_plain, &s);
        assert_int_equal(errno_under(&s, SYS_mkdir, (long) "/nonexistent-btscp/x", 0700), EPERM);
        assert_int_equal(errno_under(&s, SYS_mkdirat, AT_FDCWD, (long) "/nonexistent-btscp/x"), EPERM);
        assert_int_equal(errno_under(&s, SYS_getppid, 0, 0), 0);
        /* Without the filter the same mkdir fails differently. */
        struct security_seccomp none = { 0 };
        assert_int_equal(errno_under(&none, SYS_mkdir, (long) "/nonexistent-btscp/x", 0700), ENOENT);
        security_seccomp_done(&s);
}

static void test_compile_errno_default_allow_list(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok("{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 13,"
                   "  \"syscalls\": [ { \"names\": [\"exit\", \"exit_group\", \"getppid\"], \"action\": \"SCMP_ACT_ALLOW\" },"
                   "                  { \"name\": \"getuid\", \"action\": \"SCMP_ACT_ERRNO\" } ] }",
                   &target_plain, &s);
        assert_int_equal(errno_under(&s, SYS_getppid, 0, 0), 0);
        assert_int_equal(errno_under(&s, SYS_getpid, 0, 0), EACCES); /* defaultErrnoRet */
        assert_int_equal(errno_under(&s, SYS_getuid, 0, 0), EPERM);  /* no errnoRet: EPERM */
        security_seccomp_done(&s);
}

static void test_compile_args(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok("{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                   "  { \"names\": [\"getpriority\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77,"
                   "    \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\" } ] },"
                   "  { \"names\": [\"umask\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 78,"
                   "    \"args\": [ { \"index\": 0, \"value\": 448, \"valueTwo\": 448, \"op\": \"SCMP_CMP_MASKED_EQ\" } ] },"
                   "  { \"names\": [\"setpriority\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 79,"
                   "    \"args\": [ { \"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\" },"
                   "                { \"index\": 1, \"value\": 5, \"op\": \"SCMP_CMP_GE\" } ] },"
                   "  { \"names\": [\"getpgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 80,"
                   "    \"args\": [ { \"index\": 0, \"value\": 100, \"op\": \"SCMP_CMP_EQ\" },"
                   "                { \"index\": 0, \"value\": 200, \"op\": \"SCMP_CMP_EQ\" } ] } ] }",
                   &target_plain, &s);
        assert_int_equal(errno_under(&s, SYS_getpriority, 1, 0), 77);
        assert_int_equal(errno_under(&s, SYS_getpriority, 0, 0), 0);
        /* MASKED_EQ: value is the mask, valueTwo the masked value. */
        assert_int_equal(errno_under(&s, SYS_umask, 0777, 0), 78);
        assert_int_equal(errno_under(&s, SYS_umask, 0022, 0), 0);
        /* Two args on different arguments: both must match. */
        assert_int_equal(errno_under(&s, SYS_setpriority, 0, 99999), 79);
        assert_int_not_equal(errno_under(&s, SYS_setpriority, 1, 99999), 79);
        /* Two args on the same argument: either matches (a rule each). */
        assert_int_equal(errno_under(&s, SYS_getpgid, 100, 0), 80);
        assert_int_equal(errno_under(&s, SYS_getpgid, 200, 0), 80);
        assert_int_equal(errno_under(&s, SYS_getpgid, 0, 0), 0);
        security_seccomp_done(&s);
}

static uint32_t run_i386(const struct security_seccomp *s, int nr, uint64_t a0)
{
        const uint64_t args[6] = { a0, 1 /* SOCK_STREAM */, 0, 0, 0, 0 };
        return seccomp_bpf_run(s->filter, s->len, AUDIT_ARCH_I386, nr, args);
}

#define SOCKET_PROFILE(extra)                                                                                   \
        "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"    \
        "  \"syscalls\": [ { \"names\": [\"connect\", \"exit_group\" " extra "], \"action\": \"SCMP_ACT_ALLOW\" },"  \
        "    { \"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\","                                           \
        "      \"args\": [ { \"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_NE\" } ] } ] }"

/* A conditional allow rule for socket() holds on i386 too: on the direct
 * socket() (359), and, since libseccomp would turn it into an unconditional
 * socketcall(SYS_SOCKET) allow, by refusing socketcall() (102) there. */
static void test_compile_socket_args_refuse_i386_socketcall(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok(SOCKET_PROFILE(""), &target_plain, &s);
        assert_int_equal(run_i386(&s, 359, 2 /* AF_INET */), SECCOMP_RET_ALLOW);
        assert_int_equal(run_i386(&s, 359, 40 /* AF_VSOCK */), SECCOMP_RET_ERRNO_OF(EPERM));
        assert_int_equal(run_i386(&s, 362 /* connect */, 3), SECCOMP_RET_ALLOW);
        assert_int_equal(run_i386(&s, 102, 1 /* SYS_SOCKET */), SECCOMP_RET_ERRNO_OF(ENOSYS));
        assert_int_equal(run_i386(&s, 102, 3 /* SYS_CONNECT */), SECCOMP_RET_ERRNO_OF(ENOSYS));
        security_seccomp_done(&s);
}

/* A profile that says what socketcall() does keeps it (moby's default.json
 * allows it by name). */
static void test_compile_socketcall_named_kept(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok(SOCKET_PROFILE(", \"socketcall\""), &target_plain, &s);
        assert_int_equal(run_i386(&s, 102, 1 /* SYS_SOCKET */), SECCOMP_RET_ALLOW);
        assert_int_equal(run_i386(&s, 359, 40 /* AF_VSOCK */), SECCOMP_RET_ERRNO_OF(EPERM));
        security_seccomp_done(&s);
}

/* Without conditional socket rules, or in a deny-list profile, libseccomp's
 * per-call socketcall rules are left as they are. */
static void test_compile_socketcall_untouched_without_socket_args(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok("{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
                   "  \"syscalls\": [ { \"names\": [\"socket\", \"connect\"], \"action\": \"SCMP_ACT_ALLOW\" } ] }",
                   &target_plain, &s);
        assert_int_equal(run_i386(&s, 102, 1 /* SYS_SOCKET */), SECCOMP_RET_ALLOW);
        assert_int_equal(run_i386(&s, 102, 3 /* SYS_CONNECT */), SECCOMP_RET_ALLOW);
        assert_int_equal(run_i386(&s, 102, 2 /* SYS_BIND */), SECCOMP_RET_ERRNO_OF(EPERM));
        security_seccomp_done(&s);
        compile_ok("{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_X86\"],"
                   "  \"syscalls\": [ { \"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\","
                   "      \"args\": [ { \"index\": 0, \"value\": 40, \"op\": \"SCMP_CMP_EQ\" } ] } ] }",
                   &target_plain, &s);
        assert_int_equal(run_i386(&s, 359, 40 /* AF_VSOCK */), SECCOMP_RET_ERRNO_OF(EPERM));
        assert_int_equal(run_i386(&s, 359, 2 /* AF_INET */), SECCOMP_RET_ALLOW);
        assert_int_equal(run_i386(&s, 102, 3 /* SYS_CONNECT */), SECCOMP_RET_ALLOW);
        security_seccomp_done(&s);
}

static const char caps_profile[] =
        "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
        "  { \"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 81,"
        "    \"includes\": { \"caps\": [\"CAP_SYS_ADMIN\", \"CAP_NET_ADMIN\"] } },"
        "  { \"names\": [\"getpgrp\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 82,"
        "    \"excludes\": { \"caps\": [\"CAP_SYS_ADMIN\"] } } ] }";

static void test_compile_caps_includes_excludes(void **state)
{
        (void) state;
        struct security_seccomp s;
        struct seccomp_profile_target t = target_plain;

        t.caps = SECURITY_CAP_BIT(CAP_SYS_ADMIN) | SECURITY_CAP_BIT(CAP_NET_ADMIN);
        compile_ok(caps_profile, &t, &s);
        assert_int_equal(errno_under(&s, SYS_getppid, 0, 0), 81); /* every included cap present */
        assert_int_equal(errno_under(&s, SYS_getpgrp, 0, 0), 0);  /* excluded by CAP_SYS_ADMIN */
        security_seccomp_done(&s);

        t.caps = SECURITY_CAP_BIT(CAP_SYS_ADMIN); /* one of the two */
        compile_ok(caps_profile, &t, &s);
        assert_int_equal(errno_under(&s, SYS_getppid, 0, 0), 0);
        assert_int_equal(errno_under(&s, SYS_getpgrp, 0, 0), 0);
        security_seccomp_done(&s);

        t.caps = security_caps_default;
        compile_ok(caps_profile, &t, &s);
        assert_int_equal(errno_under(&s, SYS_getppid, 0, 0), 0);
        assert_int_equal(errno_under(&s, SYS_getpgrp, 0, 0), 82);
        security_seccomp_done(&s);
}

static void test_compile_arches_and_min_kernel(void **state)
{
        (void) state;
        static const char json[] =
                "{ \"defaultAction\": \"SCMP_ACT_ALLOW\","
                "  \"archMap\": [ { \"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [\"SCMP_ARCH_X86\"] },"
                "                { \"architecture\": \"SCMP_ARCH_LOONGARCH64\", \"subArchitectures\": null } ],"
                "  \"syscalls\": ["
                "  { \"names\": [\"getppid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 83,"
                "    \"includes\": { \"arches\": [\"arm64\"] } },"
                "  { \"names\": [\"getpgrp\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 84,"
                "    \"includes\": { \"arches\": [\"amd64\", \"x32\"] } },"
                "  { \"names\": [\"getuid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 85,"
                "    \"excludes\": { \"arches\": [\"amd64\"] } },"
                "  { \"names\": [\"getgid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 86,"
                "    \"includes\": { \"minKernel\": \"6.2\" } } ] }";
        struct security_seccomp s;
        struct seccomp_profile_target t = target_plain; /* kernel 6.1 */
        compile_ok(json, &t, &s);
        assert_int_equal(errno_under(&s, SYS_getppid, 0, 0), 0);
        assert_int_equal(errno_under(&s, SYS_getpgrp, 0, 0), 84);
        assert_int_equal(errno_under(&s, SYS_getuid, 0, 0), 0);
        assert_int_equal(errno_under(&s, SYS_getgid, 0, 0), 0);
        security_seccomp_done(&s);

        t.kernel_minor = 2;
        compile_ok(json, &t, &s);
        assert_int_equal(errno_under(&s, SYS_getgid, 0, 0), 86);
        security_seccomp_done(&s);
}

static void test_compile_native_target_and_size(void **state)
{
        (void) state;
        struct seccomp_profile_target t;
        seccomp_profile_target_native(security_caps_default, &t);
        assert_int_equal(t.caps, security_caps_default);
        assert_true(t.kernel_major >= 3);
        static const char rules[] =
                "\"syscalls\": [ { \"names\": [\"read\"], \"action\": \"SCMP_ACT_LOG\" },"
                "  { \"names\": [\"write\"], \"action\": \"SCMP_ACT_TRAP\" },"
                "  { \"names\": [\"close\"], \"action\": \"SCMP_ACT_TRACE\", \"errnoRet\": 3 },"
                "  { \"names\": [\"openat\"], \"action\": \"SCMP_ACT_KILL_THREAD\" },"
                "  { \"names\": [\"open\"], \"action\": \"SCMP_ACT_KILL\" } ] }";
        char json[1024];
        struct security_seccomp one, three;
        snprintf(json, sizeof json, "{ \"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", %s", rules);
        compile_ok(json, &t, &one);
        snprintf(json, sizeof json,
                 "{ \"defaultAction\": \"SCMP_ACT_KILL_PROCESS\", \"architectures\": [\"SCMP_ARCH_X86_64\","
                 " \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\"], %s",
                 rules);
        compile_ok(json, &t, &three);
        /* More architectures, more program. */
        assert_true(three.len > one.len);
        security_seccomp_done(&one);
        security_seccomp_done(&three);
}

/* A rule that repeats the default action changes nothing and is dropped
 * (libseccomp would refuse it). */
static void test_compile_default_action_rule_dropped(void **state)
{
        (void) state;
        struct security_seccomp s;
        compile_ok("{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": ["
                   "  { \"names\": [\"exit_group\", \"getppid\"], \"action\": \"SCMP_ACT_ALLOW\" },"
                   "  { \"names\": [\"getpid\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 1 } ] }",
                   &target_plain, &s);
        assert_int_equal(errno_under(&s, SYS_getpid, 0, 0), EPERM);
        security_seccomp_done(&s);
}

static void test_compile_conflict(void **state)
{
        (void) state;
        struct security_seccomp s = { 0 };
        char err[SECCOMP_PROFILE_ERROR_MAX];
        assert_int_equal(compile_json("{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": ["
                                      "  { \"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\","
                                      "    \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\" } ] },"
                                      "  { \"names\": [\"socket\"], \"action\": \"SCMP_ACT_KILL\","
                                      "    \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\" } ] } ] }",
                                      &target_plain, &s, err, sizeof err),
                         -EINVAL);
        assert_string_equal(err, SRC ": syscalls[1]: 'socket': conflicts with an earlier rule for it");
        assert_false(s.enabled);
        assert_null(s.filter);
}

/* ---- errors of the document ---- */

struct bad_case {
        const char *json;
        int r;
        const char *message; /* after "SRC: " */
};

static const struct bad_case bad_cases[] = {
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\",\n  \"syscalls\": [ }", -EINVAL,
          "line 2: not valid JSON: unexpected character" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\"", -EINVAL, "line 1: not valid JSON: unexpected end of file" },
        { "", -EINVAL, "line 1: not valid JSON: unexpected end of file" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }\n\n x", -EINVAL, "line 3: not valid JSON: unexpected character" },
        { "[ 1 ]", -EINVAL, "expected a JSON object, not an array" },
        { "{ }", -EINVAL, "defaultAction: missing" },
        { "{ \"defaultAction\": 1 }", -EINVAL, "defaultAction: expected a string, not a number" },
        { "{ \"defaultAction\": \"SCMP_ACT_FOO\" }", -EINVAL, "defaultAction: 'SCMP_ACT_FOO' is not a seccomp action" },
        { "{ \"defaultAction\": \"SCMP_ACT_NOTIFY\" }", -EINVAL,
          "defaultAction: 'SCMP_ACT_NOTIFY' is not supported (berth runs no seccomp agent)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"defaultErrnoRet\": 1 }", -EINVAL,
          "defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not SCMP_ACT_ALLOW" },
        { "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 5000 }", -EINVAL,
          "defaultErrnoRet: 5000 is larger than 4095" },
        { "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": -1 }", -EINVAL, "defaultErrnoRet: -1 is negative" },
        { "{ \"defaultAction\": \"SCMP_ACT_ERRNO\", \"defaultErrnoRet\": 1.5 }", -EINVAL,
          "defaultErrnoRet: expected an integer, not a number" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"flags\": [\"SECCOMP_FILTER_FLAG_LOG\"] }", -EINVAL,
          "flags: seccomp filter flags are not supported" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86_64\", \"SCMP_ARCH_Z80\"] }",
          -EINVAL, "architectures[1]: 'SCMP_ARCH_Z80' is not a seccomp architecture (use SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": \"SCMP_ARCH_X86_64\" }", -EINVAL,
          "architectures: expected an array of architectures, not a string" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"architectures\": [\"SCMP_ARCH_X86\"],"
          "  \"archMap\": [ { \"architecture\": \"SCMP_ARCH_X86_64\" } ] }",
          -EINVAL, "archMap: cannot be combined with \"architectures\"" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": [ { \"subArchitectures\": [] } ] }", -EINVAL,
          "archMap[0]: \"architecture\" is missing" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"archMap\": [ { \"architecture\": \"SCMP_ARCH_X86_64\","
          "  \"subArchitectures\": [\"x86\"] } ] }",
          -EINVAL, "archMap[0].subArchitectures[0]: 'x86' is not a seccomp architecture (use SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": {} }", -EINVAL,
          "syscalls: expected an array of objects, not an object" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ 1 ] }", -EINVAL,
          "syscalls[0]: expected an object, not a number" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"action\": \"SCMP_ACT_ERRNO\" } ] }", -EINVAL,
          "syscalls[0]: names no syscall (\"names\" is missing or empty)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [], \"action\": \"SCMP_ACT_ERRNO\" } ] }",
          -EINVAL, "syscalls[0]: names no syscall (\"names\" is missing or empty)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": \"mkdir\", \"action\": \"SCMP_ACT_ERRNO\" } ] }",
          -EINVAL, "syscalls[0].names: expected an array of syscall names, not a string" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\", 7], \"action\": \"SCMP_ACT_ERRNO\" } ] }",
          -EINVAL, "syscalls[0].names[1]: expected a string, not a number" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"\"], \"action\": \"SCMP_ACT_ERRNO\" } ] }",
          -EINVAL, "syscalls[0].names[0]: empty syscall name" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"] } ] }", -EINVAL,
          "syscalls[0]: \"action\" is missing" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {\"names\": [\"a\"], \"action\": \"SCMP_ACT_LOG\"},"
          "  {\"names\": [\"b\"], \"action\": \"SCMP_ACT_LOG\"}, {\"names\": [\"c\"], \"action\": \"SCMP_ACT_LOG\"},"
          "  {\"names\": [\"d\"], \"action\": \"SCMP_ACT_FOO\"} ] }",
          -EINVAL, "syscalls[3].action: 'SCMP_ACT_FOO' is not a seccomp action" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_KILL\","
          "  \"errnoRet\": 1 } ] }",
          -EINVAL, "syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not SCMP_ACT_KILL" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"args\": [ { \"index\": 6, \"value\": 1, \"op\": \"SCMP_CMP_EQ\" } ] } ] }",
          -EINVAL, "syscalls[0].args[0].index: 6 is larger than 5" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"args\": [ { \"index\": 0, \"value\": -1, \"op\": \"SCMP_CMP_EQ\" } ] } ] }",
          -EINVAL, "syscalls[0].args[0].value: -1 is negative" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"args\": [ { \"index\": 0, \"op\": \"SCMP_CMP_EQ\" } ] } ] }",
          -EINVAL, "syscalls[0].args[0]: \"value\" is missing" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"args\": [ { \"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_ISH\" } ] } ] }",
          -EINVAL, "syscalls[0].args[0].op: 'SCMP_CMP_ISH' is not a comparison (use SCMP_CMP_EQ, NE, LT, LE, GT, GE or MASKED_EQ)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"args\": [ {\"index\": 0, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 1, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
          "  {\"index\": 2, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 3, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
          "  {\"index\": 4, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"}, {\"index\": 5, \"value\": 1, \"op\": \"SCMP_CMP_EQ\"},"
          "  {\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"} ] } ] }",
          -E2BIG, "syscalls[0].args: more than 6 argument tests" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"includes\": { \"caps\": [\"CAP_SYS_ADMIN\", \"CAP_WIZARD\"] } } ] }",
          -EINVAL, "syscalls[0].includes.caps[1]: 'CAP_WIZARD' is not a capability (use CAP_SYS_ADMIN, ...)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"excludes\": { \"arches\": [\"vax\"] } } ] }",
          -EINVAL, "syscalls[0].excludes.arches[0]: 'vax' is not an architecture (use amd64, arm64, ...)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"includes\": { \"minKernel\": \"4.x\" } } ] }",
          -EINVAL, "syscalls[0].includes.minKernel: '4.x' is not a kernel version (use 4.8)" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"excludes\": { \"minKernel\": \"4.8\" } } ] }",
          -EINVAL, "syscalls[0].excludes.minKernel: only \"includes\" can name a kernel version" },
        { "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ { \"names\": [\"mkdir\"], \"action\": \"SCMP_ACT_ERRNO\","
          "  \"includes\": [] } ] }",
          -EINVAL, "syscalls[0].includes: expected an object, not an array" },
};

static void test_parse_errors(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                struct seccomp_profile *p = NULL;
                char err[SECCOMP_PROFILE_ERROR_MAX] = "";
                int r = seccomp_profile_parse(SRC, bad_cases[i].json, strlen(bad_cases[i].json), &p, err, sizeof err);
                char want[SECCOMP_PROFILE_ERROR_MAX];
                snprintf(want, sizeof want, SRC ": %s", bad_cases[i].message);
                if (r != bad_cases[i].r || strcmp(err, want) != 0)
                        fail_msg("case %zu: got %d '%s', want %d '%s'", i, r, err, bad_cases[i].r, want);
                assert_null(p);
        }
}

static void test_parse_nul_byte(void **state)
{
        (void) state;
        static const char text[] = "{ \"defaultAction\": \"SCMP_ACT_ALLOW\"\0 }";
        struct seccomp_profile *p = NULL;
        char err[SECCOMP_PROFILE_ERROR_MAX];
        assert_int_equal(seccomp_profile_parse(SRC, text, sizeof text - 1, &p, err, sizeof err), -EINVAL);
        assert_string_equal(err, SRC ": not a JSON document (contains a NUL byte)");
}

static void test_parse_limits(void **state)
{
        (void) state;
        struct strbuf b = { 0 };
        strbuf_printf(&b, "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [");
        for (int i = 0; i <= SECCOMP_PROFILE_RULES_MAX; i++)
                strbuf_printf(&b, "%s{\"names\": [\"getpid\"], \"action\": \"SCMP_ACT_LOG\"}", i ? "," : "");
        strbuf_printf(&b, "] }");
        assert_int_equal(b.error, 0);
        struct seccomp_profile *p = NULL;
        char err[SECCOMP_PROFILE_ERROR_MAX];
        assert_int_equal(seccomp_profile_parse(SRC, b.p, b.len, &p, err, sizeof err), -E2BIG);
        assert_string_equal(err, SRC ": syscalls: more than 1024 entries");
        free(b.p);

        b = (struct strbuf){ 0 };
        strbuf_printf(&b, "{ \"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [ {\"names\": [");
        for (int i = 0; i <= SECCOMP_PROFILE_NAMES_MAX; i++)
                strbuf_printf(&b, "%s\"getpid\"", i ? "," : "");
        strbuf_printf(&b, "], \"action\": \"SCMP_ACT_LOG\"} ] }");
        assert_int_equal(b.error, 0);
        assert_int_equal(seccomp_profile_parse(SRC, b.p, b.len, &p, err, sizeof err), -E2BIG);
        assert_string_equal(err, SRC ": syscalls[0].names: more than 8192 syscall names in the profile");
        free(b.p);

        size_t big = SECCOMP_PROFILE_FILE_MAX + 1;
        char *text = malloc(big);
        assert_non_null(text);
        memset(text, ' ', big);
        assert_int_equal(seccomp_profile_parse(SRC, text, big, &p, err, sizeof err), -E2BIG);
        assert_string_equal(err, SRC ": larger than 1048576 bytes");
        free(text);
}

/* A moby-shaped document: archMap with null subArchitectures, comments,
 * minKernel, cap groups, errnoRet ENOSYS for clone3. */
static void test_parse_moby_shape(void **state)
{
        (void) state;
        static const char json[] =
                "{\n\t\"defaultAction\": \"SCMP_ACT_ERRNO\",\n\t\"defaultErrnoRet\": 1,\n"
                "\t\"archMap\": [ { \"architecture\": \"SCMP_ARCH_X86_64\", \"subArchitectures\": [ \"SCMP_ARCH_X86\", \"SCMP_ARCH_X32\" ] },\n"
                "\t\t{ \"architecture\": \"SCMP_ARCH_RISCV64\", \"subArchitectures\": null } ],\n"
                "\t\"syscalls\": [\n"
                "\t\t{ \"names\": [ \"read\", \"write\", \"exit_group\", \"epoll_wait_old\" ], \"action\": \"SCMP_ACT_ALLOW\" },\n"
                "\t\t{ \"names\": [ \"ptrace\" ], \"action\": \"SCMP_ACT_ALLOW\", \"includes\": { \"minKernel\": \"4.8\" } },\n"
                "\t\t{ \"names\": [ \"clone\" ], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [ { \"index\": 0,"
                " \"value\": 2114060288, \"valueTwo\": 0, \"op\": \"SCMP_CMP_MASKED_EQ\" } ],"
                " \"excludes\": { \"caps\": [ \"CAP_SYS_ADMIN\" ], \"arches\": [ \"s390\", \"s390x\" ] } },\n"
                "\t\t{ \"names\": [ \"clone3\" ], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38,"
                " \"excludes\": { \"caps\": [ \"CAP_SYS_ADMIN\" ] } },\n"
                "\t\t{ \"names\": [ \"s390_runtime_instr\" ], \"action\": \"SCMP_ACT_ALLOW\", \"comment\": \"\","
                " \"includes\": { \"arches\": [ \"s390\", \"s390x\" ] } },\n"
                "\t\t{ \"names\": [ \"personality\" ], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [ { \"index\": 0,"
                " \"value\": 4294967295, \"op\": \"SCMP_CMP_EQ\" } ] }\n"
                "\t]\n}\n";
        struct security_seccomp s;
        struct seccomp_profile_target t;
        seccomp_profile_target_native(security_caps_default, &t);
        compile_ok(json, &t, &s);
        assert_int_equal(errno_under(&s, SYS_clone3, 0, 0), ENOSYS);
        assert_int_equal(errno_under(&s, SYS_getpid, 0, 0), EPERM);
        security_seccomp_done(&s);
}

/* ---- files ---- */

static void test_load_errors(void **state)
{
        (void) state;
        struct seccomp_profile *p = NULL;
        char err[SECCOMP_PROFILE_ERROR_MAX];
        assert_int_equal(seccomp_profile_load("/nonexistent-btscp/profile.json", &p, err, sizeof err), -ENOENT);
        assert_string_equal(err, "/nonexistent-btscp/profile.json: cannot open: No such file or directory");
        assert_int_equal(seccomp_profile_load("/", &p, err, sizeof err), -EINVAL);
        assert_string_equal(err, "/: not a regular file");
        assert_null(p);
}

static void test_load_file(void **state)
{
        (void) state;
        char path[] = "/tmp/btscp-unit-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        static const char good[] = "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }\n";
        assert_int_equal(write(fd, good, sizeof good - 1), (ssize_t) sizeof good - 1);
        struct seccomp_profile *p = NULL;
        char err[SECCOMP_PROFILE_ERROR_MAX];
        assert_int_equal(seccomp_profile_load(path, &p, err, sizeof err), 0);
        assert_non_null(p);
        p = seccomp_profile_free(p);
        assert_null(seccomp_profile_free(NULL));

        /* One byte over the limit. */
        assert_int_equal(ftruncate(fd, SECCOMP_PROFILE_FILE_MAX + 1), 0);
        assert_int_equal(seccomp_profile_load(path, &p, err, sizeof err), -E2BIG);
        char want[256];
        snprintf(want, sizeof want, "%s: larger than 1048576 bytes", path);
        assert_string_equal(err, want);
        close(fd);
        unlink(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_compile_allow_default_denies_mkdir),
                cmocka_unit_test(test_compile_errno_default_allow_list),
                cmocka_unit_test(test_compile_args),
                cmocka_unit_test(test_compile_socket_args_refuse_i386_socketcall),
                cmocka_unit_test(test_compile_socketcall_named_kept),
                cmocka_unit_test(test_compile_socketcall_untouched_without_socket_args),
                cmocka_unit_test(test_compile_caps_includes_excludes),
                cmocka_unit_test(test_compile_arches_and_min_kernel),
                cmocka_unit_test(test_compile_native_target_and_size),
                cmocka_unit_test(test_compile_default_action_rule_dropped),
                cmocka_unit_test(test_compile_conflict),
                cmocka_unit_test(test_parse_errors),
                cmocka_unit_test(test_parse_nul_byte),
                cmocka_unit_test(test_parse_limits),
                cmocka_unit_test(test_parse_moby_shape),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_load_file),
        };
        return cmocka_run_group_tests_name("seccomp_profile", tests, NULL, NULL);
}

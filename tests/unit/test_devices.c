/* Unit tests for devices.c and the device rules of the cgroup backends: the
 * v2 BPF_CGROUP_DEVICE program is run by a small interpreter of the few
 * eBPF instructions it uses (and, as root, checked by the kernel's
 * verifier), the v1 allow lines are formatted, nodes resolve by path and by
 * number, and the host's root disk is recognised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/bpf.h>

#include "cgroup.h"
#include "cgroup_backend.h"
#include "devices.h"
#include "util.h"

/* ---- a tiny eBPF interpreter: exactly the instructions the program uses ---- */

static int run_program(const struct bpf_insn *p, size_t n, uint32_t type, uint32_t access, uint32_t major,
                       uint32_t minor)
{
        uint32_t ctx[3] = { (access << 16) | type, major, minor };
        uint64_t r[11] = { 0 };
        for (size_t pc = 0; pc < n; pc++) {
                const struct bpf_insn *i = &p[pc];
                uint8_t cls = BPF_CLASS(i->code);
                if (cls == BPF_LDX && BPF_MODE(i->code) == BPF_MEM && BPF_SIZE(i->code) == BPF_W) {
                        assert_int_equal(i->src_reg, BPF_REG_1);
                        assert_true(i->off >= 0 && i->off <= 8 && i->off % 4 == 0);
                        r[i->dst_reg] = ctx[i->off / 4];
                } else if (cls == BPF_ALU && BPF_OP(i->code) == BPF_AND && BPF_SRC(i->code) == BPF_K)
                        r[i->dst_reg] = (uint32_t) r[i->dst_reg] & (uint32_t) i->imm;
                else if (cls == BPF_ALU && BPF_OP(i->code) == BPF_RSH && BPF_SRC(i->code) == BPF_K)
                        r[i->dst_reg] = (uint32_t) r[i->dst_reg] >> i->imm;
                else if (cls == BPF_ALU64 && BPF_OP(i->code) == BPF_MOV && BPF_SRC(i->code) == BPF_K)
                        r[i->dst_reg] = (uint64_t) (int64_t) i->imm;
                else if (cls == BPF_ALU64 && BPF_OP(i->code) == BPF_MOV && BPF_SRC(i->code) == BPF_X)
                        r[i->dst_reg] = r[i->src_reg];
                else if (cls == BPF_JMP && BPF_OP(i->code) == BPF_JNE && BPF_SRC(i->code) == BPF_K) {
                        if (r[i->dst_reg] != (uint64_t) (int64_t) i->imm)
                                pc += (size_t) i->off;
                } else if (cls == BPF_JMP && BPF_OP(i->code) == BPF_EXIT)
                        return (int) r[0];
                else
                        fail_msg("instruction %zu: unexpected code 0x%02x", pc, i->code);
                assert_true(pc < n);
        }
        fail_msg("the program runs off its end");
        return -1;
}

#define C BPF_DEVCG_DEV_CHAR
#define B BPF_DEVCG_DEV_BLOCK
#define R BPF_DEVCG_ACC_READ
#define W BPF_DEVCG_ACC_WRITE
#define M BPF_DEVCG_ACC_MKNOD

static void test_v2_program_defaults_only(void **state)
{
        (void) state;
        struct bpf_insn p[128];
        size_t n = cgroup_v2_device_program(p, ELEMENTSOF(p), NULL, 0);
        assert_true(n > 0);
        assert_int_equal(run_program(p, n, C, R | W, 1, 3), 1);     /* null */
        assert_int_equal(run_program(p, n, C, R | W | M, 136, 7), 1); /* pts */
        assert_int_equal(run_program(p, n, C, R, 1, 1), 0);         /* mem */
        assert_int_equal(run_program(p, n, C, R | W, 10, 229), 0);  /* fuse: not given */
        assert_int_equal(run_program(p, n, B, R, 1, 3), 0);         /* a block device 1:3 */
}

static void test_v2_program_extra_rules(void **state)
{
        (void) state;
        const struct cgroup_device_rule extra[] = {
                { 'c', 10, 229, CGROUP_DEV_READ | CGROUP_DEV_WRITE },
                { 'b', 7, 0, CGROUP_DEV_READ },
                { 'c', 10, 200, CGROUP_DEV_READ | CGROUP_DEV_WRITE | CGROUP_DEV_MKNOD },
        };
        struct bpf_insn p[256];
        size_t n = cgroup_v2_device_program(p, ELEMENTSOF(p), extra, ELEMENTSOF(extra));
        assert_true(n > 0);
        assert_int_equal(run_program(p, n, C, R | W, 10, 229), 1);
        assert_int_equal(run_program(p, n, C, R, 10, 229), 1);
        assert_int_equal(run_program(p, n, C, M, 10, 229), 0);     /* rw only: no mknod */
        assert_int_equal(run_program(p, n, C, R | M, 10, 229), 0);
        assert_int_equal(run_program(p, n, B, R, 10, 229), 0);     /* the type counts */
        assert_int_equal(run_program(p, n, B, R, 7, 0), 1);
        assert_int_equal(run_program(p, n, B, W, 7, 0), 0);        /* read only */
        assert_int_equal(run_program(p, n, B, R, 7, 1), 0);        /* another minor */
        assert_int_equal(run_program(p, n, C, M | R | W, 10, 200), 1);
        assert_int_equal(run_program(p, n, C, R | W, 1, 3), 1);    /* the defaults stay */
        assert_int_equal(run_program(p, n, C, R, 1, 1), 0);
        /* too small a buffer: nothing */
        assert_int_equal(cgroup_v2_device_program(p, 20, extra, ELEMENTSOF(extra)), 0);
}

/* As root, the kernel's verifier accepts the program with the most rules. */
static void test_v2_program_verifier(void **state)
{
        (void) state;
        struct cgroup_device_rule extra[CGROUP_DEVICES_MAX];
        for (size_t i = 0; i < ELEMENTSOF(extra); i++)
                extra[i] = (struct cgroup_device_rule){ i % 2 ? 'b' : 'c', 100 + (uint32_t) i, (uint32_t) i,
                                                        CGROUP_DEV_READ };
        static struct bpf_insn p[64 + 8 * CGROUP_DEVICES_MAX];
        size_t n = cgroup_v2_device_program(p, ELEMENTSOF(p), extra, ELEMENTSOF(extra));
        assert_true(n > 0);
        union bpf_attr a;
        memset(&a, 0, sizeof a);
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t) (uintptr_t) p;
        a.insn_cnt = (uint32_t) n;
        a.license = (uint64_t) (uintptr_t) "GPL";
        static char log[65536];
        a.log_buf = (uint64_t) (uintptr_t) log;
        a.log_size = sizeof log;
        a.log_level = 1;
        int fd = (int) syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
        if (fd < 0 && (errno == EPERM || errno == ENOSYS)) {
                print_message("# no bpf() here (%s), verifier check skipped\n", strerror(errno));
                skip();
        }
        if (fd < 0)
                fail_msg("BPF_PROG_LOAD: %s\n%s", strerror(errno), log);
        close(fd);
}

static void test_v1_rule_format(void **state)
{
        (void) state;
        char buf[64];
        struct cgroup_device_rule r = { 'c', 10, 229, CGROUP_DEV_READ | CGROUP_DEV_WRITE };
        assert_string_equal(cgroup_device_rule_format(&r, buf, sizeof buf), "c 10:229 rw");
        r = (struct cgroup_device_rule){ 'b', 8, 0, CGROUP_DEV_READ | CGROUP_DEV_WRITE | CGROUP_DEV_MKNOD };
        assert_string_equal(cgroup_device_rule_format(&r, buf, sizeof buf), "b 8:0 rwm");
}

static void test_devices_access_bits(void **state)
{
        (void) state;
        assert_int_equal(devices_access_bits("rwm"), CGROUP_DEV_READ | CGROUP_DEV_WRITE | CGROUP_DEV_MKNOD);
        assert_int_equal(devices_access_bits("r"), CGROUP_DEV_READ);
        assert_int_equal(devices_access_bits("mw"), CGROUP_DEV_WRITE | CGROUP_DEV_MKNOD);
        assert_int_equal(devices_access_bits(NULL), CGROUP_DEV_READ | CGROUP_DEV_WRITE | CGROUP_DEV_MKNOD);
}

static void test_devices_resolve_path_and_number(void **state)
{
        (void) state;
        char host[128], type;
        uint32_t ma, mi;
        struct error e = { 0 };
        struct spec_device byp = { .name = "/dev/null", .host = "/dev/null" };
        assert_int_equal(devices_resolve(&byp, host, sizeof host, &type, &ma, &mi, &e), 0);
        assert_string_equal(host, "/dev/null");
        assert_int_equal(type, 'c');
        assert_int_equal(ma, 1);
        assert_int_equal(mi, 3);
        struct spec_device byn = { .name = "c 1:3", .type = 'c', .major = 1, .minor = 3 };
        if (access("/sys/dev/char/1:3/uevent", R_OK) == 0) {
                assert_int_equal(devices_resolve(&byn, host, sizeof host, &type, &ma, &mi, &e), 0);
                assert_string_equal(host, "/dev/null");
        }
        struct spec_device none = { .name = "c 4095:1048575", .type = 'c', .major = 4095, .minor = 1048575 };
        assert_true(devices_resolve(&none, host, sizeof host, &type, &ma, &mi, &e) < 0);
        assert_non_null(strstr(e.msg, "the host has no node for c 4095:1048575"));
        struct spec_device notdev = { .name = "/dev/shm", .host = "/dev/shm" };
        if (access("/dev/shm", F_OK) == 0) {
                assert_true(devices_resolve(&notdev, host, sizeof host, &type, &ma, &mi, &e) < 0);
                assert_non_null(strstr(e.msg, "is not a device node"));
        }
}

/* The block device / is on (when it is on one) is a host disk; a
 * character device's numbers taken as a block device's are not. */
static void test_devices_host_disk(void **state)
{
        (void) state;
        struct stat st;
        assert_int_equal(stat("/", &st), 0);
        if (major(st.st_dev) == 0 || access("/sys/dev/block", F_OK) < 0)
                skip();
        char p[64];
        snprintf(p, sizeof p, "/sys/dev/block/%u:%u", major(st.st_dev), minor(st.st_dev));
        if (access(p, F_OK) < 0)
                skip(); /* / on a device without sysfs entry (a container's overlay) */
        assert_int_equal(devices_is_host_disk(major(st.st_dev), minor(st.st_dev)), 1);
        assert_int_equal(devices_is_host_disk(1, 3), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_v2_program_defaults_only),
                cmocka_unit_test(test_v2_program_extra_rules),
                cmocka_unit_test(test_v2_program_verifier),
                cmocka_unit_test(test_v1_rule_format),
                cmocka_unit_test(test_devices_access_bits),
                cmocka_unit_test(test_devices_resolve_path_and_number),
                cmocka_unit_test(test_devices_host_disk),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

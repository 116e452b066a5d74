/* Unit tests for the settings of issue 18a (settings.c and their reading in
 * config.c / config_scan.c): sysctl and rlimits blocks with any key names,
 * io-max, read-only-root, env-file; each bad value is one diagnostic at its
 * line; the hashes move in the class of the key and not at all while a key
 * is unset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <sys/resource.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cgroup_util.h"
#include "config.h"
#include "keys.h"
#include "settings.h"
#include "spec.h"

#define CT(body) "container a {\n  template = \"busybox\"\n" body "\n}\n"

/* Parses text; returns the diagnostics' count, the first formatted into msg. */
static size_t parse(const char *text, struct spec_set *set, char *msg, size_t size)
{
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), set, &d), 0);
        config_validate(set, &d);
        diag_sort(&d);
        msg[0] = 0;
        if (d.n)
                diag_format(&d.entries[0], msg, size);
        for (size_t i = 0; i < d.n; i++) {
                char b[512];
                print_message("%s\n", diag_format(&d.entries[i], b, sizeof b));
        }
        size_t n = d.n;
        diag_done(&d);
        return n;
}

static void parse_ok(const char *text, struct spec_set *set)
{
        char msg[512];
        assert_int_equal(parse(text, set, msg, sizeof msg), 0);
        assert_int_equal(set->n_containers, 1);
}

/* text gives exactly one diagnostic, which starts with want. */
static void parse_bad(const char *text, const char *want)
{
        struct spec_set set = { 0 };
        char msg[512];
        size_t n = parse(text, &set, msg, sizeof msg);
        if (n != 1 || strncmp(msg, want, strlen(want)) != 0)
                fail_msg("%zu diagnostics, first '%s', wanted one '%s...'", n, msg, want);
        spec_set_done(&set);
}

static void test_sysctl_block_any_names_in_order(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        parse_ok(CT("  sysctl {\n    net.ipv4.ip_forward = 1 # a comment\n    kernel.sem = \"250 32000 32 128\"\n"
                    "    fs.mqueue.msg_max = '20'\n  }"),
                 &set);
        char **v = set.containers[0]->sysctl;
        assert_non_null(v);
        assert_int_equal(strv_length(v), 3);
        assert_string_equal(v[0], "net.ipv4.ip_forward=1");
        assert_string_equal(v[1], "kernel.sem=250 32000 32 128");
        assert_string_equal(v[2], "fs.mqueue.msg_max=20");
        spec_set_done(&set);
}

static void test_sysctl_host_wide_refused(void **state)
{
        (void) state;
        parse_bad(CT("  sysctl {\n    vm.swappiness = 10\n  }"), "t.conf:4: sysctl: 'vm.swappiness' is not namespaced");
        parse_bad(CT("  sysctl { kernel.hostname = x }"), "t.conf:3: sysctl: 'kernel.hostname': set hostname");
        parse_bad(CT("  sysctl { kernel.shmmaxx = 1 }"), "t.conf:3: sysctl: 'kernel.shmmaxx' is not namespaced");
        parse_bad(CT("  sysctl { net..x = 1 }"), "t.conf:3: sysctl: 'net..x' is not a sysctl name");
}

static void test_sysctl_net_needs_own_netns(void **state)
{
        (void) state;
        parse_bad(CT("  network { mode = \"host\" }\n  sysctl { net.core.somaxconn = 1 }"),
                  "t.conf:4: sysctl: 'net.core.somaxconn' needs a network namespace");
        struct spec_set set = { 0 };
        parse_ok(CT("  network { mode = \"host\" }\n  sysctl { kernel.msgmax = 8192 }"), &set);
        spec_set_done(&set);
}

static void test_sysctl_bad_values(void **state)
{
        (void) state;
        parse_bad(CT("  sysctl { net.ipv4.ip_forward = \"\" }"), "t.conf:3: sysctl.net.ipv4.ip_forward: '': the value is empty");
        parse_bad(CT("  sysctl {\n net.ipv4.ip_forward = 1\n net.ipv4.ip_forward = 0 }"),
                  "t.conf:5: sysctl.net.ipv4.ip_forward: set twice (first at line 4)");
        parse_bad(CT("  sysctl { net.ipv4.ip_forward = { \"1\" } }"), "t.conf:3: sysctl.net.ipv4.ip_forward: takes one value");
        parse_bad(CT("  sysctl { }\n  sysctl { }"), "t.conf:4: sysctl: set twice");
        /* '${' is refused, and the setting dropped whole: the next one is read right. */
        struct spec_set set = { 0 };
        char msg[512];
        assert_int_equal(parse(CT("  sysctl {\n net.a.b = \"${X}\"\n net.c.d = 2\n }"), &set, msg, sizeof msg), 1);
        assert_string_equal(msg, "t.conf:4: '${' would expand an environment variable: write '\\${' or use single quotes");
        assert_int_equal(strv_length(set.containers[0]->sysctl), 1);
        assert_string_equal(set.containers[0]->sysctl[0], "net.c.d=2");
        spec_set_done(&set);
}

static void test_rlimits_forms(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        parse_ok(CT("  rlimits {\n    nofile = 4096\n    nproc = \"512:1024\"\n    core = 0\n    stack = 8M\n"
                    "    memlock = unlimited\n    cpu = \"10:unlimited\"\n  }"),
                 &set);
        const struct spec_container *c = set.containers[0];
        assert_int_equal(c->n_rlimits, 6);
        struct {
                int res;
                uint64_t soft, hard;
        } want[] = {
                { RLIMIT_NOFILE, 4096, 4096 },
                { RLIMIT_NPROC, 512, 1024 },
                { RLIMIT_CORE, 0, 0 },
                { RLIMIT_STACK, 8ULL << 20, 8ULL << 20 },
                { RLIMIT_MEMLOCK, SPEC_RLIM_INFINITY, SPEC_RLIM_INFINITY },
                { RLIMIT_CPU, 10, SPEC_RLIM_INFINITY },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                assert_int_equal(c->rlimits[i].resource, want[i].res);
                assert_true(c->rlimits[i].soft == want[i].soft);
                assert_true(c->rlimits[i].hard == want[i].hard);
        }
        spec_set_done(&set);
}

static void test_rlimits_bad(void **state)
{
        (void) state;
        parse_bad(CT("  rlimits { files = 10 }"), "t.conf:3: rlimits: 'files' is not a resource limit");
        parse_bad(CT("  rlimits { nofile = -1 }"), "t.conf:3: rlimits.nofile: '-1' is not a limit");
        parse_bad(CT("  rlimits { nofile = 4k }"), "t.conf:3: rlimits.nofile: '4k' is not a limit");
        parse_bad(CT("  rlimits { nofile = \"4096:1024\" }"),
                  "t.conf:3: rlimits.nofile: '4096:1024': the soft limit is above the hard limit");
        parse_bad(CT("  rlimits { nofile = \"1:\" }"), "t.conf:3: rlimits.nofile: '1:' is not a limit");
        parse_bad(CT("  rlimits { nice = 41 }"), "t.conf:3: rlimits.nice: '41' is out of range (0..40)");
        parse_bad(CT("  rlimits {\n nofile = 1\n nofile = 2 }"), "t.conf:5: rlimits.nofile: set twice (first at line 4)");
}

static void test_io_max(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        parse_ok(CT("  io-max {\n    device = \"/dev/sda\"\n    rbps = 50M\n    wbps = 20M\n    riops = 1000\n"
                    "    wiops = 500\n  }"),
                 &set);
        const struct spec_limits *l = &set.containers[0]->limits;
        assert_string_equal(l->io_device, "/dev/sda");
        assert_true(l->io_rbps == 50ULL << 20 && l->io_wbps == 20ULL << 20);
        assert_int_equal(l->io_riops, 1000);
        assert_int_equal(l->io_wiops, 500);
        assert_int_equal(set.containers[0]->line_io_device, 4);
        spec_set_done(&set);
        parse_bad(CT("  io-max { rbps = 1M }"), "t.conf:3: io-max: needs device");
        parse_bad(CT("  io-max { device = \"/dev/sda\" }"), "t.conf:3: io-max: set at least one");
        parse_bad(CT("  io-max { device = \"sda\"\n rbps = 1M }"), "t.conf:3: io-max.device: 'sda' must be an absolute path");
        parse_bad(CT("  io-max { device = \"/dev/sda\"\n riops = 0 }"), "t.conf:4: io-max.riops: '0' is out of range");
}

static void test_env_file_parse_lines(void **state)
{
        (void) state;
        const char *text = "# comment\n\nA=1\r\n  B=two words # not a comment\nbad line\n=x\nC=\n  # indented comment\n";
        struct diag d = { 0 };
        char **env = NULL;
        assert_int_equal(settings_env_file_parse("/etc/x.env", "env-file", text, strlen(text), &env, &d), 0);
        assert_int_equal(strv_length(env), 3);
        assert_string_equal(env[0], "A=1");
        assert_string_equal(env[1], "B=two words # not a comment");
        assert_string_equal(env[2], "C=");
        assert_int_equal(d.n, 2);
        char b[256];
        assert_string_equal(diag_format(&d.entries[0], b, sizeof b), "/etc/x.env:5: env-file: 'bad line' is not NAME=VALUE");
        assert_string_equal(diag_format(&d.entries[1], b, sizeof b), "/etc/x.env:6: env-file: '=x' is not NAME=VALUE");
        strv_free(env);
        diag_done(&d);
}

static void test_read_only_root_and_env_file_keys(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        parse_ok(CT("  read-only-root = true\n  env-file = \"/etc/berth/web.env\""), &set);
        assert_true(set.containers[0]->read_only_root);
        assert_string_equal(set.containers[0]->env_file, "/etc/berth/web.env");
        assert_int_equal(set.containers[0]->line_env_file, 4);
        spec_set_done(&set);
        parse_bad(CT("  env-file = \"web.env\""), "t.conf:3: env-file: 'web.env' must be an absolute path");
        /* The container block has more than 32 keys: the last ones too are checked. */
        parse_bad(CT("  read-only-root = true\n  read-only-root = false"), "t.conf:4: read-only-root: set twice");
        parse_bad(CT("  io-max { device = \"/dev/sda\"\n rbps = 1M }\n  io-max { device = \"/dev/sdb\"\n rbps = 1M }"),
                  "t.conf:5: io-max: set twice");
}

/* Unset keys leave every hash as it was; set, they move the hash of their
 * class; the env file's content is part of the restart hash. */
static void test_hashes(void **state)
{
        (void) state;
        struct spec_set a = { 0 }, b = { 0 }, c = { 0 };
        parse_ok(CT(""), &a);
        parse_ok(CT("  sysctl { }\n  rlimits { }"), &b);
        char h1[SPEC_HASH_LEN], h2[SPEC_HASH_LEN];
        spec_container_hash_restart(a.containers[0], h1);
        spec_container_hash_restart(b.containers[0], h2);
        assert_string_equal(h1, h2); /* empty blocks: as unset */
        parse_ok(CT("  io-max { device = \"/dev/sda\"\n rbps = 1M }"), &c);
        spec_container_hash_restart(c.containers[0], h2);
        assert_string_equal(h1, h2);
        spec_container_hash_live(a.containers[0], h1);
        spec_container_hash_live(c.containers[0], h2);
        assert_string_not_equal(h1, h2);
        spec_set_done(&b);

        parse_ok(CT("  env-file = \"/e\""), &b);
        struct spec_container *x = b.containers[0];
        x->env_file_digest = 1;
        spec_container_hash_restart(x, h1);
        x->env_file_digest = 3;
        spec_container_hash_restart(x, h2);
        assert_string_not_equal(h1, h2);
        char diff[256];
        spec_container_diff_restart(a.containers[0], x, diff, sizeof diff);
        assert_string_equal(diff, "env-file");
        struct spec_set y = { 0 };
        parse_ok(CT("  env-file = \"/e\""), &y);
        y.containers[0]->env_file_digest = 1;
        spec_container_diff_restart(y.containers[0], x, diff, sizeof diff);
        assert_string_equal(diff, "env-file content");
        spec_set_done(&y);
        spec_set_done(&a);
        spec_set_done(&b);
        spec_set_done(&c);
}

static void test_rlimit_names_round_trip(void **state)
{
        (void) state;
        const char *names[] = { "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue",
                                "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                int r = settings_rlimit_from_name(names[i]);
                assert_true(r >= 0);
                assert_string_equal(settings_rlimit_to_name(r), names[i]);
        }
        assert_int_equal(settings_rlimit_from_name("NOFILE"), -1);
}

/* ---- io-max in fake controller directories ------------------------------------ */

static const char *any_block_device(void)
{
        static const char *const c[] = { "/dev/vda", "/dev/sda", "/dev/nvme0n1", "/dev/xvda", "/dev/loop0", "/dev/zram0" };
        struct stat st;
        for (size_t i = 0; i < ELEMENTSOF(c); i++)
                if (stat(c[i], &st) == 0 && S_ISBLK(st.st_mode))
                        return c[i];
        return NULL;
}

static void put(int dfd, const char *file, const char *text)
{
        int fd = openat(dfd, file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
}

static void starts_with(int dfd, const char *file, const char *want)
{
        char *text = NULL;
        assert_int_equal(cgroup_read_at(dfd, file, &text), 0);
        if (strncmp(text, want, strlen(want)) != 0)
                fail_msg("%s: '%s', wanted '%s...'", file, text, want);
        free(text);
}

static void test_io_max_apply(void **state)
{
        (void) state;
        const char *dev = any_block_device();
        if (!dev)
                skip();
        unsigned ma, mi;
        assert_int_equal(settings_block_device(dev, &ma, &mi), 0);
        char mm[32], want[128];
        snprintf(mm, sizeof mm, "%u:%u", ma, mi);
        char dir[] = "/tmp/set18a-io.XXXXXX";
        assert_non_null(mkdtemp(dir));
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        const char *v1[] = { "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                             "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device" };
        for (size_t i = 0; i < 4; i++)
                put(dfd, v1[i], "");
        put(dfd, "io.max", "9:99 rbps=1 wbps=max riops=max wiops=max\n");
        struct spec_limits l = { .io_device = (char *) dev, .io_rbps = 50ULL << 20, .io_wiops = 100 };
        struct cgroup_undo u = { .n = 0 };
        struct error e = { 0 };
        int notes = 0;
        /* v1: one line per file, 0 for what is not limited. */
        assert_int_equal(cgroup_apply_io_max(&u, dfd, false, &l, &e, &notes), 0);
        assert_int_equal(notes, 0);
        snprintf(want, sizeof want, "%s 52428800", mm);
        starts_with(dfd, v1[0], want);
        snprintf(want, sizeof want, "%s 0", mm);
        starts_with(dfd, v1[1], want);
        snprintf(want, sizeof want, "%s 100", mm);
        starts_with(dfd, v1[3], want);
        /* v2: the device's line; another device's line released first. */
        u.n = 0;
        assert_int_equal(cgroup_apply_io_max(&u, dfd, true, &l, &e, &notes), 0);
        assert_int_equal(u.n, 2);
        assert_string_equal(u.e[0].old, "9:99 rbps=1 wbps=max riops=max wiops=max");
        snprintf(want, sizeof want, "%s rbps=52428800 wbps=max riops=max wiops=100", mm);
        starts_with(dfd, "io.max", want);
        snprintf(want, sizeof want, "%s rbps=max wbps=max riops=max wiops=max", mm);
        assert_string_equal(u.e[1].old, want); /* what a rollback writes back */
        /* A device gone since the check: an error naming it, nothing written. */
        u.n = 0;
        l.io_device = (char *) "/nonexistent/set18a";
        assert_true(cgroup_apply_io_max(&u, dfd, true, &l, &e, &notes) < 0);
        assert_non_null(strstr(e.msg, "io-max: device '/nonexistent/set18a'"));
        assert_int_equal(u.n, 0);
        /* No throttle files: a note, no error. */
        struct spec_limits none = { .io_device = (char *) dev, .io_rbps = 1 };
        int empty = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        e.msg[0] = 0;
        assert_int_equal(cgroup_apply_io_max(&u, empty, false, &none, &e, &notes), 0);
        assert_int_equal(notes, 1);
        close(empty);
        for (size_t i = 0; i < 4; i++)
                unlinkat(dfd, v1[i], 0);
        unlinkat(dfd, "io.max", 0);
        close(dfd);
        rmdir(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sysctl_block_any_names_in_order),
                cmocka_unit_test(test_sysctl_host_wide_refused),
                cmocka_unit_test(test_sysctl_net_needs_own_netns),
                cmocka_unit_test(test_sysctl_bad_values),
                cmocka_unit_test(test_rlimits_forms),
                cmocka_unit_test(test_rlimits_bad),
                cmocka_unit_test(test_io_max),
                cmocka_unit_test(test_env_file_parse_lines),
                cmocka_unit_test(test_read_only_root_and_env_file_keys),
                cmocka_unit_test(test_hashes),
                cmocka_unit_test(test_rlimit_names_round_trip),
                cmocka_unit_test(test_io_max_apply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for spec.c: defaults, and the three hashes' stability (same
 * meaning → same hash, whatever the formatting) and sensitivity (each
 * field changes exactly the hash of the set it belongs to). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "config.h"
#include "spec.h"

static struct spec_container *parse_one(const char *text)
{
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), &set, &d), 0);
        char buf[512];
        for (size_t i = 0; i < d.n; i++)
                print_message("%s\n", diag_format(&d.entries[i], buf, sizeof buf));
        assert_int_equal(d.n, 0);
        assert_int_equal(set.n_containers, 1);
        struct spec_container *c = set.containers[0];
        set.n_containers = 0;
        spec_set_done(&set);
        diag_done(&d);
        return c;
}

struct hashes {
        char restart[SPEC_HASH_LEN], live[SPEC_HASH_LEN], supervise[SPEC_HASH_LEN];
};

static void hash_all(const struct spec_container *c, struct hashes *h)
{
        spec_container_hash_restart(c, h->restart);
        spec_container_hash_live(c, h->live);
        spec_container_hash_supervise(c, h->supervise);
}

static void hash_text(const char *text, struct hashes *h)
{
        struct spec_container *c = parse_one(text);
        hash_all(c, h);
        spec_container_free(c);
}

#define BASE "container a {\n  template = \"busybox\"\n  %s\n}\n"

/* Two versions of one setting, and which hashes must tell them apart. */
struct variant {
        const char *a, *b;
        bool restart, live, supervise;
};

static const struct variant variants[] = {
        { "command = { \"/bin/true\" }", "command = { \"/bin/false\" }", true, false, false },
        { "command = { \"/bin/a\", \"b\" }", "command = { \"/bin/a b\" }", true, false, false },
        { "env = { \"A=1\" }", "env = { \"A=2\" }", true, false, false },
        { "workdir = \"/a\"", "workdir = \"/b\"", true, false, false },
        { "user = \"1000\"", "user = \"1001\"", true, false, false },
        { "hostname = \"x\"", "hostname = \"y\"", true, false, false },
        { "init = true", "init = false", true, false, false },
        { "seccomp = \"default\"", "seccomp = \"unconfined\"", true, false, false },
        { "idmap = \"100000:65536\"", "idmap = \"200000:65536\"", true, false, false },
        { "disk-quota = 1G", "disk-quota = 2G", true, false, false },
        { "network { mode = \"none\" }", "network { mode = \"host\" }", true, false, false },
        { "network { bridge = \"n\"  address = \"198.18.0.2\" }", "network { bridge = \"n\"  address = \"198.18.0.3\" }",
          true, false, false },
        { "network { bridge = \"n\"  publish = { \"80:80\" } }", "network { bridge = \"n\"  publish = { \"81:80\" } }",
          true, false, false },
        { "network { dns = { \"198.18.0.1\" } }", "network { dns = { \"198.18.0.2\" } }", true, false, false },
        { "mount m { type = \"tmpfs\"  target = \"/a\" }", "mount m { type = \"tmpfs\"  target = \"/b\" }", true,
          false, false },
        { "mount m { source = \"/a\"  target = \"/a\" }", "mount m { source = \"/a\"  target = \"/a\"  read-only = true }",
          true, false, false },
        { "capabilities { add = { \"net_admin\" } }", "capabilities { add = { \"net_raw\" } }", true, false, false },
        { "log { max-files = 3 }", "log { max-files = 4 }", true, false, false },
        { "limits { memory = 256M }", "limits { memory = 512M }", false, true, false },
        { "limits { memory = 1G  memory-swap = 1G }", "limits { memory = 1G  memory-swap = 2G }", false, true, false },
        { "limits { cpus = 1 }", "limits { cpus = 1.5 }", false, true, false },
        { "limits { cpu-weight = 100 }", "limits { cpu-weight = 200 }", false, true, false },
        { "limits { cpuset = \"0\" }", "limits { cpuset = \"1\" }", false, true, false },
        { "limits { pids = 10 }", "limits { pids = 11 }", false, true, false },
        { "limits { io-weight = 10 }", "limits { io-weight = 11 }", false, true, false },
        { "restart = \"always\"", "restart = \"on-failure\"", false, false, true },
        { "restart-delay = 1s", "restart-delay = 2s", false, false, true },
        { "restart-limit = 1", "restart-limit = 2", false, false, true },
        { "autostart = true", "autostart = false", false, false, true },
        { "start-order = 1", "start-order = -1", false, false, true },
        { "start-delay = 1s", "start-delay = 2s", false, false, true },
        { "after = { \"x\" }", "after = { \"y\" }", false, false, true },
        { "requires = { \"x\" }", "requires = { \"y\" }", false, false, true },
        { "stop-signal = \"TERM\"", "stop-signal = \"INT\"", false, false, true },
        { "stop-timeout = 5s", "stop-timeout = 6s", false, false, true },
        { "health { tcp = 80 }", "health { tcp = 81 }", false, false, true },
        { "health { tcp = 80 }", "health { tcp = 80  interval = 1m }", false, false, true },
        { "health { command = { \"/bin/true\" } }", "health { command = { \"/bin/false\" } }", false, false, true },
};

static void test_spec_container_hash_each_field_in_its_set(void **state)
{
        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
                const struct variant *v = &variants[i];
                char ta[512], tb[512];
                struct hashes a, b;
                snprintf(ta, sizeof ta, BASE, v->a);
                snprintf(tb, sizeof tb, BASE, v->b);
                hash_text(ta, &a);
                hash_text(tb, &b);
                if (!streq(a.restart, b.restart) != v->restart || !streq(a.live, b.live) != v->live ||
                    !streq(a.supervise, b.supervise) != v->supervise)
                        fail_msg("%s → %s: changed restart %d live %d supervise %d, expected %d %d %d", v->a, v->b,
                                 !streq(a.restart, b.restart), !streq(a.live, b.live),
                                 !streq(a.supervise, b.supervise), v->restart, v->live, v->supervise);
        }
}

static void test_spec_container_hash_restart_changes_with_command(void **state)
{
        (void) state;
        struct hashes a, b;
        hash_text("container a { template = \"busybox\" command = { \"/bin/true\" } }", &a);
        hash_text("container a { template = \"busybox\" command = { \"/bin/false\" } }", &b);
        assert_string_not_equal(a.restart, b.restart);
        assert_string_equal(a.live, b.live);
        assert_string_equal(a.supervise, b.supervise);
}

static void test_spec_container_hash_live_changes_only_with_limits(void **state)
{
        (void) state;
        struct spec_container *a = parse_one("container a { template = \"busybox\" limits { memory = 256M } }");
        struct spec_container *b = parse_one("container a { template = \"busybox\" limits { memory = 512M } }");
        struct hashes ha, hb;
        hash_all(a, &ha);
        hash_all(b, &hb);
        assert_string_equal(ha.restart, hb.restart);
        assert_string_not_equal(ha.live, hb.live);
        assert_string_equal(ha.supervise, hb.supervise);
        char buf[256];
        assert_string_equal(spec_container_diff_live(a, b, buf, sizeof buf), "memory 256M → 512M");
        assert_string_equal(spec_container_diff_restart(a, b, buf, sizeof buf), "");
        spec_container_free(a);
        spec_container_free(b);
}

static void test_spec_container_hash_supervise_changes_only_with_restart_policy(void **state)
{
        (void) state;
        struct hashes a, b;
        hash_text("container a { template = \"busybox\" restart = \"always\" }", &a);
        hash_text("container a { template = \"busybox\" restart = \"no\" }", &b);
        assert_string_equal(a.restart, b.restart);
        assert_string_equal(a.live, b.live);
        assert_string_not_equal(a.supervise, b.supervise);
}

static void test_spec_container_hash_formatting_does_not_matter(void **state)
{
        (void) state;
        static const char *const texts[] = {
                "container a { template = \"busybox\" command = { \"/bin/sh\", \"-c\", \"echo\" } limits { memory = 64M } "
                "restart = \"always\" }",
                "# a comment\n"
                "container a {\n"
                "    template = 'busybox'   // another\n"
                "    /* and a\n block comment */\n"
                "    command  = { '/bin/sh',\n                 '-c', 'echo' }\n"
                "\n\n"
                "    limits {\n\tmemory = 64M\n    }\n"
                "    restart = always\n"
                "}\n",
                "container a{template=busybox command={\"/bin/sh\",\"-c\",\"echo\"}restart=\"always\" limits{memory=65536k}}",
                "container a {\r\n  restart = \"always\"\r\n  limits { memory = 64M }\r\n  template = \"busybox\"\r\n"
                "  command = { \"/bin/sh\", \"-c\", \"echo\" }\r\n}\r\n",
        };
        struct hashes first;
        hash_text(texts[0], &first);
        for (size_t i = 1; i < ELEMENTSOF(texts); i++) {
                struct hashes h;
                hash_text(texts[i], &h);
                assert_string_equal(h.restart, first.restart);
                assert_string_equal(h.live, first.live);
                assert_string_equal(h.supervise, first.supervise);
        }
}

static void test_spec_container_hash_ignores_name_file_and_line(void **state)
{
        (void) state;
        /* The hashes describe what runs, not where it was written. */
        struct hashes a, b;
        hash_text("container a { template = \"busybox\" }", &a);
        hash_text("\n\n\ncontainer a {\n template = \"busybox\"\n}", &b);
        assert_string_equal(a.restart, b.restart);
        assert_string_equal(a.supervise, b.supervise);
}

static void test_spec_container_hash_stable_value(void **state)
{
        (void) state;
        /* The serialisation is part of the on-disk state: a fixed input must
         * always hash to these values. If this fails, the serialisation
         * changed and every running container would be seen as changed. */
        struct hashes h;
        hash_text("container a { template = \"busybox\" command = { \"/bin/true\" } limits { memory = 64M } "
                  "restart = \"always\" }",
                  &h);
        assert_string_equal(h.restart, "18b6ff8789f02067");
        assert_string_equal(h.live, "2741d0d3027390fc");
        assert_string_equal(h.supervise, "4f0e2dc62d201185");
}

static void test_spec_network_hash_stable_and_sensitive(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        const char *text = "network n { subnet = \"198.18.0.0/24\" nat = true }\n"
                           "network m { subnet = \"198.18.1.0/24\" nat = true }\n"
                           "network o { subnet = \"198.18.2.0/24\" nat = true mtu = 9000 }\n";
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), &set, &d), 0);
        assert_int_equal(d.n, 0);
        char a[SPEC_HASH_LEN], b[SPEC_HASH_LEN], c[SPEC_HASH_LEN];
        spec_network_hash(set.networks[0], a);
        spec_network_hash(set.networks[1], b);
        spec_network_hash(set.networks[2], c);
        assert_string_not_equal(a, b);
        assert_string_not_equal(b, c);
        assert_string_equal(a, "0004b623d45ba821");
        spec_set_done(&set);
        diag_done(&d);
}

static void test_spec_container_diff_restart_names_fields(void **state)
{
        (void) state;
        struct spec_container *a = parse_one("container a { template = \"busybox\" command = { \"/bin/true\" } "
                                             "env = { \"A=1\" } }");
        struct spec_container *b = parse_one("container a { template = \"busybox\" command = { \"/bin/false\" } "
                                             "env = { \"A=2\" } limits { pids = 5 } }");
        char buf[256];
        assert_string_equal(spec_container_diff_restart(a, b, buf, sizeof buf), "command, env");
        assert_string_equal(spec_container_diff_live(a, b, buf, sizeof buf), "pids 0 → 5");
        spec_container_free(a);
        spec_container_free(b);
}

static void test_spec_container_diff_restart_seccomp_profile_content(void **state)
{
        (void) state;
        /* The same profile path with other content (config_load_dir's
         * digest): a restart, explained; an unread profile (digest 0)
         * hashes as before digests existed. */
        struct spec_container *a = parse_one("container a { template = \"busybox\" seccomp = \"/etc/p.json\" }");
        struct spec_container *b = parse_one("container a { template = \"busybox\" seccomp = \"/etc/p.json\" }");
        struct hashes h0, ha, hb;
        hash_all(a, &h0);
        a->seccomp_profile_digest = 1;
        b->seccomp_profile_digest = 2;
        hash_all(a, &ha);
        hash_all(b, &hb);
        assert_string_not_equal(ha.restart, hb.restart);
        assert_string_not_equal(h0.restart, ha.restart);
        assert_string_equal(ha.live, hb.live);
        char buf[256];
        assert_string_equal(spec_container_diff_restart(a, b, buf, sizeof buf), "seccomp profile content");
        b->seccomp_profile_digest = 1;
        hash_all(b, &hb);
        assert_string_equal(ha.restart, hb.restart);
        assert_string_equal(spec_container_diff_restart(a, b, buf, sizeof buf), "");
        spec_container_free(a);
        spec_container_free(b);
}

static void test_spec_container_new_defaults(void **state)
{
        (void) state;
        struct spec_container *c = NULL;
        assert_int_equal(spec_container_new("x", "f.conf", 3, &c), 0);
        assert_string_equal(c->name, "x");
        assert_string_equal(c->file, "f.conf");
        assert_int_equal(c->line, 3);
        assert_true(c->init);
        assert_int_equal(c->restart, RESTART_NO);
        assert_int_equal(c->stop_timeout, 10 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->health.http_status, 200);
        assert_null(spec_container_free(c));
        assert_null(spec_container_free(NULL));
        assert_null(spec_network_free(NULL));
}

static void test_spec_enum_strings(void **state)
{
        (void) state;
        assert_string_equal(restart_policy_to_string(RESTART_UNLESS_STOPPED), "unless-stopped");
        assert_string_equal(restart_policy_to_string(_RESTART_POLICY_MAX), "?");
        assert_string_equal(net_mode_to_string(NET_BRIDGE), "bridge");
        assert_string_equal(health_action_to_string(HEALTH_ACTION_NONE), "none");
        assert_string_equal(seccomp_mode_to_string(SECCOMP_PROFILE), "profile");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_spec_container_hash_each_field_in_its_set),
                cmocka_unit_test(test_spec_container_hash_restart_changes_with_command),
                cmocka_unit_test(test_spec_container_hash_live_changes_only_with_limits),
                cmocka_unit_test(test_spec_container_hash_supervise_changes_only_with_restart_policy),
                cmocka_unit_test(test_spec_container_hash_formatting_does_not_matter),
                cmocka_unit_test(test_spec_container_hash_ignores_name_file_and_line),
                cmocka_unit_test(test_spec_container_hash_stable_value),
                cmocka_unit_test(test_spec_network_hash_stable_and_sensitive),
                cmocka_unit_test(test_spec_container_diff_restart_names_fields),
                cmocka_unit_test(test_spec_container_diff_restart_seccomp_profile_content),
                cmocka_unit_test(test_spec_container_new_defaults),
                cmocka_unit_test(test_spec_enum_strings),
        };
        return cmocka_run_group_tests_name("spec", tests, NULL, NULL);
}

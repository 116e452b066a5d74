/* Unit tests for the key table (keys.c): every row parses through the
 * config reader, changes exactly the hash of its class, and the plan acts on
 * it as its class says (restart naming the key, update-live, or settings
 * adopted without a restart); the hashes stay those of the records already
 * on disk. That every row is documented is test_docs.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>

#include "config.h"
#include "keys.h"
#include "nameidx.h"
#include "plan.h"
#include "state.h"

/* ---- a sample setting for every row --------------------------------------- */

/* Rows whose value needs other keys beside it, or a form the type alone
 * does not give. Everything else gets a sample from its type. */
static const struct {
        const char *path, *text;
} special[] = {
        { "container.template", "@template = \"alpine\"" },
        { "container.rootfs", "@rootfs = \"/srv/other\"" },
        { "container.seccomp", "seccomp = \"unconfined\"" },
        { "container.idmap", "idmap = \"100000:65536\"" },
        { "container.network", "network { mode = \"host\" }" },
        { "container.network.mode", "network { mode = \"host\" }" },
        { "container.network.bridge", "network { bridge = \"lan0\" }" },
        { "container.network.address", "network { bridge = \"lan0\"\n address = \"198.18.4.10\" }" },
        { "container.network.parent", "network { mode = \"macvlan\"\n parent = \"eth1\"\n address = \"198.18.4.10/24\" }" },
        { "container.network.gateway",
          "network { bridge = \"br0\"\n address = \"198.18.4.10/24\"\n gateway = \"198.18.4.1\" }" },
        { "container.network.publish", "network { bridge = \"lan0\"\n publish = { \"8080:80\" } }" },
        { "container.network.dns", "network { dns = { \"198.18.4.1\" } }" },
        { "container.limits", "limits { pids = 9 }" },
        { "container.limits.memory-swap", "limits { memory = 16M\n memory-swap = 1G }" },
        { "container.mount", "mount d { source = \"/srv/d\"\n target = \"/d\" }" },
        { "container.mount.type", "mount s { type = \"tmpfs\"\n target = \"/t\" }" },
        { "container.mount.source", "mount d { source = \"/srv/d\"\n target = \"/d\" }" },
        { "container.mount.target", "mount d { source = \"/srv/d\"\n target = \"/d\" }" },
        { "container.mount.read-only", "mount d { source = \"/srv/d\"\n target = \"/d\"\n read-only = true }" },
        { "container.mount.size", "mount s { target = \"/t\"\n size = 16M }" },
        { "container.mount.idmap", "idmap = \"100000:65536\"\n mount d { source = \"/srv/d\"\n target = \"/d\"\n idmap = true }" },
        { "container.device", "device \"/dev/fuse\" { }" },
        { "container.device.path", "device \"/dev/fuse\" { path = \"/dev/f\" }" },
        { "container.device.access", "device \"/dev/fuse\" { access = \"r\" }" },
        { "container.secret", "secret s { source = \"/srv/s\" }" },
        { "container.secret.source", "secret s { source = \"/srv/s\" }" },
        { "container.secret.target", "secret s { source = \"/srv/s\"\n target = \"/s\" }" },
        { "container.hook", "hook pre-start { command = { \"/bin/true\" } }" },
        { "container.hook.command", "hook post-stop { command = { \"/bin/true\" } }" },
        { "container.hook.timeout", "hook pre-start { command = { \"/bin/true\" }\n timeout = 3s }" },
        { "container.capabilities", "capabilities { add = { \"net_admin\" } }" },
        { "container.capabilities.add", "capabilities { add = { \"net_admin\" } }" },
        { "container.capabilities.drop", "capabilities { drop = { \"chown\" } }" },
        { "container.health", "health { tcp = 80 }" },
        { "container.health.command", "health { command = { \"/bin/true\" } }" },
        { "container.health.tcp", "health { tcp = 81 }" },
        { "container.health.http", "health { tcp = 80\n http = \"/healthz\" }" },
        { "container.log", "log { max-files = 9 }" },
        { "container.sysctl", "sysctl { net.ipv4.ip_forward = 1 }" },
        { "container.rlimits", "rlimits { nofile = \"1024:4096\" }" },
        { "container.io-max", "io-max { device = \"/dev/vda\"\n rbps = 1M }" },
        { "container.io-max.device", "io-max { device = \"/dev/vda\"\n wbps = 1M }" },
        { "container.io-max.rbps", "io-max { device = \"/dev/vda\"\n rbps = 32M }" },
        { "container.io-max.wbps", "io-max { device = \"/dev/vda\"\n wbps = 32M }" },
        { "container.io-max.riops", "io-max { device = \"/dev/vda\"\n riops = 100 }" },
        { "container.io-max.wiops", "io-max { device = \"/dev/vda\"\n wiops = 100 }" },
        { "container.snapshot", "snapshot { every = 1d }" },
        { "network.subnet", "@subnet = \"198.18.5.0/24\"" },
        { "network.gateway", "gateway = \"198.18.4.254\"" },
        { "network.bridge", "bridge = \"br9\"" },
        { "network.subnet6", "subnet6 = \"2001:db8:4::/64\"" },
        { "network.nat6", "nat6 = true" }, /* on a dual-stack base, below */
};

static const char *special_text(const char *path)
{
        for (size_t i = 0; i < ELEMENTSOF(special); i++)
                if (streq(special[i].path, path))
                        return special[i].text;
        return NULL;
}

/* A string the row's check accepts, other than what the base sets. */
static const char *sample_string(const struct key_def *k)
{
        static const char *const candidates[] = { "/srv/x", "alpine", "1000", "A=b" };
        for (size_t i = 0; i < ELEMENTSOF(candidates); i++)
                if (!k->check || !k->check(candidates[i]))
                        return candidates[i];
        fail_msg("no sample string passes the check of %s.%s", k->block, k->name);
        return NULL;
}

/* "KEY = VALUE" for a row, from its type, different from the default. */
static void sample_setting(const struct key_def *k, char *buf, size_t size)
{
        switch (k->type) {
        case KEY_STR:
                snprintf(buf, size, "%s = \"%s\"", k->name, sample_string(k));
                return;
        case KEY_STRV:
                snprintf(buf, size, "%s = { \"%s\" }", k->name, sample_string(k));
                return;
        case KEY_BOOL:
                snprintf(buf, size, "%s = %s", k->name, k->dflt ? "false" : "true");
                return;
        case KEY_SIZE:
                snprintf(buf, size, "%s = 32M", k->name);
                return;
        case KEY_DURATION:
                snprintf(buf, size, "%s = 7s", k->name); /* between every default pair it is checked against */
                return;
        case KEY_U32:
        case KEY_U16:
                snprintf(buf, size, "%s = %llu", k->name, (unsigned long long) k->max);
                return;
        case KEY_INT32:
                snprintf(buf, size, "%s = -5", k->name);
                return;
        case KEY_ENUM: {
                size_t n = 0;
                while (k->words[n])
                        n++;
                snprintf(buf, size, "%s = \"%s\"", k->name, k->words[k->dflt == n - 1 ? 0 : n - 1]);
                return;
        }
        case KEY_SIGNAL:
                snprintf(buf, size, "%s = \"SIGINT\"", k->name);
                return;
        case KEY_CPUS:
                snprintf(buf, size, "%s = 1.5", k->name);
                return;
        default:
                fail_msg("row %s.%s needs a sample in special[]", k->block, k->name);
        }
}

/* The definition text with the row set (changed = true) or not. */
static void definition(const struct key_def *k, bool changed, char *buf, size_t size)
{
        char path[128], setting[256] = "";
        key_path(k, path, sizeof path);
        bool network = strncmp(path, "network.", 8) == 0;
        const char *root = network ? "subnet = \"198.18.4.0/24\"" : "template = \"busybox\"";
        if (streq(path, "network.nat6")) /* needs a prefix, changed or not */
                root = "subnet = \"198.18.4.0/24\"\n subnet6 = \"2001:db8:4::/64\"";
        if (changed) {
                const char *sp = special_text(path);
                if (sp && sp[0] == '@') { /* replaces the base's own line */
                        root = sp + 1;
                } else if (sp) {
                        snprintf(setting, sizeof setting, "%s", sp);
                } else {
                        char one[200];
                        sample_setting(k, one, sizeof one);
                        const char *sub = strchr(path, '.');
                        const char *block = strchr(sub + 1, '.') ? sub + 1 : NULL; /* container.X.key */
                        /* A health check needs a probe beside its other keys. */
                        const char *with = streq(k->block, "container.health") ? "tcp = 80\n " : "";
                        if (block && !network)
                                snprintf(setting, sizeof setting, "%.*s { %s%s }", (int) (strchr(block, '.') - block),
                                         block, with, one);
                        else
                                snprintf(setting, sizeof setting, "%s", one);
                }
        }
        snprintf(buf, size, "%s x {\n %s\n %s\n}\n", network ? "network" : "container", root, setting);
}

static void parse_clean(const char *text, struct spec_set *set)
{
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), set, &d), 0);
        char buf[512];
        for (size_t i = 0; i < d.n; i++)
                print_error("%s\n%s\n", text, diag_format(&d.entries[i], buf, sizeof buf));
        assert_int_equal(d.n + d.dropped, 0);
        diag_done(&d);
}

/* A row that can be set in a definition: every one but the two top blocks. */
static bool settable(const struct key_def *k)
{
        return k->block[0] != 0;
}

/* ---- the tests ------------------------------------------------------------ */

static void test_keys_table_rows_well_formed(void **state)
{
        (void) state;
        size_t n = 0;
        const struct key_def *t = keys_table(&n);
        assert_true(n > 50);
        char p1[128], p2[128];
        for (size_t i = 0; i < n; i++) {
                const struct key_def *k = &t[i];
                key_path(k, p1, sizeof p1);
                assert_non_null(k->doc);
                if (k->type == KEY_CUSTOM)
                        assert_true(k->hash && k->equal);
                if (k->type == KEY_ENUM)
                        assert_non_null(k->words);
                if (k->type != KEY_BLOCK)
                        assert_non_null(k->def);
                assert_ptr_equal(keys_find(k->block, k->name), k);
                for (size_t j = 0; j < i; j++)
                        if (streq(key_path(&t[j], p2, sizeof p2), p1))
                                fail_msg("%s is in the table twice", p1);
        }
        assert_null(keys_find("container", "no-such-key"));
}

/* Every row, set in a definition, parses without a diagnostic into a spec
 * that differs from the one without it. */
static void test_keys_every_row_parses(void **state)
{
        (void) state;
        char a_text[1024], b_text[1024];
        for (const struct key_def *k = keys_table(NULL); k->name; k++) {
                /* A template block is read by the containers' starts, hashed nowhere. */
                if (!settable(k) || streq(k->block, "template"))
                        continue;
                definition(k, false, a_text, sizeof a_text);
                definition(k, true, b_text, sizeof b_text);
                struct spec_set a = { 0 }, b = { 0 };
                parse_clean(a_text, &a);
                parse_clean(b_text, &b);
                char ha[SPEC_HASH_LEN], hb[SPEC_HASH_LEN], hc[SPEC_HASH_LEN], hd[SPEC_HASH_LEN];
                if (a.n_networks) {
                        spec_network_hash(a.networks[0], ha);
                        spec_network_hash(b.networks[0], hb);
                        if (streq(ha, hb))
                                fail_msg("%s.%s: setting it changes no network hash", k->block, k->name);
                } else {
                        assert_int_equal(a.n_containers, 1);
                        spec_container_hash_restart(a.containers[0], ha);
                        spec_container_hash_restart(b.containers[0], hb);
                        spec_container_hash_live(a.containers[0], hc);
                        spec_container_hash_live(b.containers[0], hd);
                        char he[SPEC_HASH_LEN], hf[SPEC_HASH_LEN];
                        spec_container_hash_supervise(a.containers[0], he);
                        spec_container_hash_supervise(b.containers[0], hf);
                        if (streq(ha, hb) && streq(hc, hd) && streq(he, hf))
                                fail_msg("%s.%s: setting it changes no hash", k->block, k->name);
                }
                spec_set_done(&a);
                spec_set_done(&b);
        }
}

static const struct plan_action *container_action(const struct plan *p)
{
        for (size_t i = 0; i < p->n; i++)
                if (!p->actions[i].network)
                        return &p->actions[i];
        fail_msg("no container action");
        return NULL;
}

/* Each row changes the hash of its class and no other, its class's diff
 * names it, and the plan for a running container acts as the class says. */
static void test_keys_change_takes_its_class(void **state)
{
        (void) state;
        char a_text[1024], b_text[1024], diff[1024];
        for (const struct key_def *k = keys_table(NULL); k->name; k++) {
                if (!settable(k) || strncmp(k->block, "container", 9) != 0)
                        continue;
                /* Blocks with no field of their own are their keys' rows. */
                if (k->type == KEY_BLOCK && k->offset == KEY_NO_FIELD && !k->hash)
                        continue;
                definition(k, false, a_text, sizeof a_text);
                definition(k, true, b_text, sizeof b_text);
                struct spec_set a = { 0 }, b = { 0 };
                parse_clean(a_text, &a);
                parse_clean(b_text, &b);
                const struct spec_container *x = a.containers[0], *y = b.containers[0];
                char r1[SPEC_HASH_LEN], r2[SPEC_HASH_LEN], l1[SPEC_HASH_LEN], l2[SPEC_HASH_LEN];
                char s1[SPEC_HASH_LEN], s2[SPEC_HASH_LEN];
                spec_container_hash_restart(x, r1);
                spec_container_hash_restart(y, r2);
                spec_container_hash_live(x, l1);
                spec_container_hash_live(y, l2);
                spec_container_hash_supervise(x, s1);
                spec_container_hash_supervise(y, s2);
                const char *name = k->reason ? k->reason : k->name;
                print_message("%s.%s (%s)\n", k->block, k->name, key_class_to_string(k->cls));
                assert_int_equal(!streq(r1, r2), k->cls == KEY_CLASS_RESTART);
                assert_int_equal(!streq(l1, l2), k->cls == KEY_CLASS_LIVE);
                assert_int_equal(!streq(s1, s2), k->cls == KEY_CLASS_SUPERVISE);
                keys_diff("container", k->cls, x, y, diff, sizeof diff);
                if (!strstr(diff, name))
                        fail_msg("%s.%s: the %s diff '%s' does not name '%s'", k->block, k->name,
                                 key_class_to_string(k->cls), diff, name);

                struct plan_actual act;
                plan_actual_from_spec(x, PLAN_STATE_RUNNING, &act);
                struct plan p = { 0 };
                assert_int_equal(plan_compute(&b, &act, 1, NULL, 0, &p), 0);
                const struct plan_action *pa = container_action(&p);
                enum plan_kind want = k->cls == KEY_CLASS_RESTART ? PLAN_RESTART
                                      : k->cls == KEY_CLASS_LIVE  ? PLAN_UPDATE_LIVE
                                                                  : PLAN_UPDATE_SETTINGS;
                if (pa->kind != want)
                        fail_msg("%s.%s: plan says %s (%s), not %s", k->block, k->name, plan_kind_to_string(pa->kind),
                                 pa->reason, plan_kind_to_string(want));
                if (!strstr(pa->reason, name))
                        fail_msg("%s.%s: the reason '%s' does not name '%s'", k->block, k->name, pa->reason, name);
                plan_done(&p);
                spec_set_done(&a);
                spec_set_done(&b);
        }
}

/* Network rows: recreate-class ones rebuild the bridge, the others change it in place. */
static void test_keys_network_change_takes_its_class(void **state)
{
        (void) state;
        char a_text[1024], b_text[1024];
        for (const struct key_def *k = keys_table(NULL); k->name; k++) {
                if (!streq(k->block, "network"))
                        continue;
                definition(k, false, a_text, sizeof a_text);
                definition(k, true, b_text, sizeof b_text);
                struct spec_set a = { 0 }, b = { 0 };
                parse_clean(a_text, &a);
                parse_clean(b_text, &b);
                struct plan_network_actual act;
                plan_network_actual_from_spec(a.networks[0], &act);
                struct plan p = { 0 };
                assert_int_equal(plan_compute(&b, NULL, 0, &act, 1, &p), 0);
                assert_true(p.n >= 1);
                enum plan_kind want = k->cls == KEY_CLASS_RECREATE ? PLAN_NETWORK_RECREATE : PLAN_NETWORK_UPDATE;
                if (p.actions[0].kind != want || !strstr(p.actions[0].reason, k->name))
                        fail_msg("network.%s: plan says %s (%s)", k->name, plan_kind_to_string(p.actions[0].kind),
                                 p.actions[0].reason);
                plan_done(&p);
                spec_set_done(&a);
                spec_set_done(&b);
        }
}

/* The hashes of records written before the table: a changed serialisation
 * would restart every container at the first reload after an upgrade. */
static const char golden_text[] =
        "container web {\n template = \"busybox\"\n command = { \"/bin/httpd\", \"-f\" }\n"
        " env = { \"MODE=demo\", \"EMPTY=\" }\n workdir = \"/srv\"\n user = \"1000:1000\"\n hostname = \"www\"\n"
        " init = false\n autostart = yes\n start-order = -5\n start-delay = 2s\n start-timeout = 1m\n"
        " after = { \"db\" }\n requires = { \"db\" }\n restart = \"unless-stopped\"\n restart-delay = 500ms\n"
        " restart-max-delay = 2m\n restart-limit = 7\n restart-window = 1h\n stop-signal = \"SIGINT\"\n"
        " stop-timeout = 20s\n seccomp = \"/etc/berth/web.seccomp\"\n idmap = \"100000:65536\"\n"
        " disk-quota = 2G\n network {\n mode = \"bridge\"\n bridge = \"lan0\"\n address = \"198.18.4.10\"\n"
        " publish = { \"8080:80\", \"127.0.0.1:5353:53/udp\" }\n dns = { \"198.18.4.254\" }\n }\n"
        " limits {\n memory = 256M\n memory-swap = 1G\n cpus = 1.5\n cpu-weight = 200\n cpuset = \"0-1\"\n"
        " pids = 64\n io-weight = 50\n }\n"
        " mount data { source = \"/srv/data\" target = \"/data\" read-only = true }\n"
        " mount scratch { type = \"tmpfs\" target = \"/tmp\" size = 16M }\n"
        " capabilities { add = { \"net_admin\", \"CAP_SYS_PTRACE\" } drop = { \"chown\" } }\n"
        " health {\n tcp = 80\n http = \"/healthz\"\n http-status = 204\n interval = 10s\n timeout = 2s\n"
        " start-period = 30s\n retries = 5\n on-failure = \"stop\"\n }\n log { max-size = 1M max-files = 7 }\n}\n"
        "container min { rootfs = \"/srv/x\" }\n"
        "container h { template = \"busybox\" seccomp = \"unconfined\" network { mode = \"host\" }"
        " health { command = { \"/bin/true\" } } capabilities { drop = { \"all\" } add = { \"chown\" } } }\n"
        "network lan0 { subnet = \"198.18.4.0/24\" gateway = \"198.18.4.254\" nat = true bridge = \"btcfg0\""
        " mtu = 9000 }\n";

static void test_keys_hashes_unchanged(void **state)
{
        (void) state;
        static const char *const want[][3] = {
                { "e57f8ba7651b4ed3", "62579eb1d2d74724", "7309a72f875b27b6" },
                { "c8afd241bcb55961", "9c6ff34bc26bb56e", "ee03606a2ac3d94f" },
                { "ccf7ed83249f2068", "9c6ff34bc26bb56e", "748c4c0512df2ece" },
        };
        struct spec_set set = { 0 };
        parse_clean(golden_text, &set);
        assert_int_equal(set.n_containers, 3);
        set.containers[0]->seccomp_profile_digest = 0x1234; /* as config_load_dir would fill it */
        for (size_t i = 0; i < 3; i++) {
                char h[SPEC_HASH_LEN];
                spec_container_hash_restart(set.containers[i], h);
                assert_string_equal(h, want[i][0]);
                spec_container_hash_live(set.containers[i], h);
                assert_string_equal(h, want[i][1]);
                spec_container_hash_supervise(set.containers[i], h);
                assert_string_equal(h, want[i][2]);
        }
        char h[SPEC_HASH_LEN];
        spec_network_hash(set.networks[0], h);
        assert_string_equal(h, "1b8601f617fb00dd");
        spec_set_done(&set);
}

/* Defaults come from the rows: a new spec holds each row's default. */
static void test_keys_defaults_applied(void **state)
{
        (void) state;
        struct spec_container *c;
        assert_int_equal(spec_container_new("d", "t.conf", 1, &c), 0);
        const struct key_def *k = keys_find("container", "restart-limit");
        assert_non_null(k);
        assert_int_equal(c->restart_limit, k->dflt);
        assert_true(c->init);
        assert_int_equal(c->health.http_status, 200);
        assert_int_equal(c->log_max_size, 10ULL << 20);
        spec_container_free(c);
}

/* key_parse refuses what its type does not accept, with a message about the value. */
static void test_keys_parse_refuses_bad_values(void **state)
{
        (void) state;
        char msg[256];
        struct spec_container *c;
        assert_int_equal(spec_container_new("d", "t.conf", 1, &c), 0);
        for (const struct key_def *k = keys_table(NULL); k->name; k++) {
                if (k->flags & KEYF_BY_BLOCK || k->type == KEY_BLOCK || k->type == KEY_CUSTOM ||
                    k->type == KEY_STRV || !strncmp(k->block, "network", 7) || streq(k->block, "template") || (k->type == KEY_STR && !k->check))
                        continue;
                msg[0] = 0;
                int r = key_parse(k, "?bad?", c, msg, sizeof msg);
                if (r >= 0)
                        fail_msg("%s.%s accepts '?bad?'", k->block, k->name);
                assert_non_null(strstr(msg, "'?bad?'"));
        }
        spec_container_free(c);
}

/* The shared name index: lookups give the lowest position of a name, and a
 * kept index follows insertions and removals (supervise's units). */
static void test_keys_nameidx_find_insert_remove(void **state)
{
        (void) state;
        static const char *const names[] = { "web", "db", "web", "cache" };
        struct nameidx ix[4];
        for (size_t i = 0; i < 4; i++)
                ix[i] = (struct nameidx){ names[i], i };
        nameidx_sort(ix, 4);
        assert_int_equal(nameidx_find(ix, 4, "web"), 0);
        assert_int_equal(nameidx_find(ix, 4, "cache"), 3);
        assert_int_equal(nameidx_find(ix, 4, "nope"), NAMEIDX_NONE);
        assert_int_equal(nameidx_find(ix, 0, "web"), NAMEIDX_NONE);

        struct nameidx *k = NULL;
        size_t n = 0;
        for (size_t i = 0; i < 4; i++)
                assert_int_equal(nameidx_insert(&k, &n, names[i], i), 0);
        assert_int_equal(n, 4);
        assert_memory_equal(k, ix, sizeof ix);
        nameidx_remove(k, &n, 1); /* "db" goes; "web"@2 and "cache"@3 move down */
        assert_int_equal(n, 3);
        assert_int_equal(nameidx_find(k, n, "db"), NAMEIDX_NONE);
        assert_int_equal(nameidx_find(k, n, "cache"), 2);
        nameidx_remove(k, &n, 0); /* the first "web": the second is found, now at 0 */
        assert_int_equal(nameidx_find(k, n, "web"), 0);
        assert_int_equal(nameidx_find(k, n, "cache"), 1);
        free(k);
}

/* The set's index: spec_set_find_container bisects once indexed, and finds
 * the first of two containers with one name, as the scan did. */
static void test_keys_spec_set_find_container_indexed(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        parse_clean("container b { template = \"busybox\" }\ncontainer a { template = \"busybox\" }\n", &set);
        parse_clean("container b { rootfs = \"/srv/b\" }\n", &set); /* another file, appended */
        assert_int_equal(set.n_containers, 3);
        assert_ptr_equal(spec_set_find_container(&set, "b"), set.containers[0]);
        assert_int_equal(spec_set_index(&set), 0);
        assert_ptr_equal(spec_set_find_container(&set, "b"), set.containers[0]);
        assert_ptr_equal(spec_set_find_container(&set, "a"), set.containers[1]);
        assert_null(spec_set_find_container(&set, "c"));
        spec_set_done(&set);
}

/* The state directory's layout is spelled in state.c only. */
static void test_keys_state_dir_layout(void **state)
{
        (void) state;
        _cleanup_free_ char *cd = state_containers_dir("/var/lib/berth");
        _cleanup_free_ char *nd = state_networks_dir("/var/lib/berth");
        _cleanup_free_ char *d = state_container_dir("/var/lib/berth", "web");
        _cleanup_free_ char *f = state_container_file("/var/lib/berth", "web", "console.log");
        assert_string_equal(cd, "/var/lib/berth/containers");
        assert_string_equal(nd, "/var/lib/berth/networks");
        assert_string_equal(d, "/var/lib/berth/containers/web");
        assert_string_equal(f, "/var/lib/berth/containers/web/console.log");
        char buf[32];
        assert_int_equal(state_container_dir_buf("/s", "web", buf, sizeof buf), 0);
        assert_string_equal(buf, "/s/containers/web");
        assert_int_equal(state_container_dir_buf("/a-long-state-directory", "web", buf, sizeof buf), -ENAMETOOLONG);
}

/* strdup that fails at the fail_at-th copy of fail_text (1-based), for the
 * allocation-failure test below; the library's and libconfuse's calls come
 * here too. */
static const char *fail_text;
static int fail_at, strdup_seen;

char *strdup(const char *s)
{
        if (fail_text && strcmp(s, fail_text) == 0 && ++strdup_seen == fail_at)
                return NULL;
        size_t n = strlen(s) + 1;
        char *c = malloc(n);
        return c ? memcpy(c, s, n) : NULL;
}

/* An allocation that fails while a user = line is read is an error of the
 * whole read, never "user not set" (which would run the command as root). */
static void test_keys_alloc_failure_is_not_unset(void **state)
{
        (void) state;
        static const char text[] = "container a {\n template = \"busybox\"\n user = \"nobody\"\n}\n";
        int failures = 0;
        for (fail_at = 1; fail_at <= 6; fail_at++) {
                struct spec_set set = { 0 };
                struct diag d = { 0 };
                strdup_seen = 0;
                fail_text = "nobody";
                int r = config_parse_buffer("t.conf", text, strlen(text), &set, &d);
                fail_text = NULL;
                bool refused = r < 0 || d.n > 0;
                if (!refused) {
                        assert_int_equal(set.n_containers, 1);
                        assert_non_null(set.containers[0]->user);
                        assert_string_equal(set.containers[0]->user, "nobody");
                }
                failures += strdup_seen >= fail_at; /* this run did fail an allocation */
                spec_set_done(&set);
                diag_done(&d);
        }
        assert_true(failures >= 2); /* at least the value's copy and the reader's */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keys_table_rows_well_formed),
                cmocka_unit_test(test_keys_every_row_parses),
                cmocka_unit_test(test_keys_change_takes_its_class),
                cmocka_unit_test(test_keys_network_change_takes_its_class),
                cmocka_unit_test(test_keys_hashes_unchanged),
                cmocka_unit_test(test_keys_defaults_applied),
                cmocka_unit_test(test_keys_parse_refuses_bad_values),
                cmocka_unit_test(test_keys_alloc_failure_is_not_unset),
                cmocka_unit_test(test_keys_nameidx_find_insert_remove),
                cmocka_unit_test(test_keys_spec_set_find_container_indexed),
                cmocka_unit_test(test_keys_state_dir_layout),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

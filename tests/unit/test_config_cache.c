/* Unit tests for config.c's parse cache: a directory loaded through the
 * cache gives the same specs, messages and plan as a fresh load, field for
 * field, through edits of every input a definition depends on: its own file
 * (in place, same size, renamed, removed, broken and fixed), files of other
 * definitions (names, networks, dependencies, ports), the env file and the
 * seccomp profile it names, and $BERTH_DEFAULT_IDMAP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "config.h"
#include "plan.h"
#include "spec.h"
#include "util.h"

static bool strv_same(char *const *a, char *const *b)
{
        if (!a || !b)
                return !a && !b;
        size_t i = 0;
        for (; a[i] && b[i]; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return !a[i] && !b[i];
}

#define SAME_STR(x, y) assert_true(streq_ptr((x), (y)))
#define SAME_STRV(x, y) assert_true(strv_same((x), (y)))

/* Two containers equal in every field: the strings and lists by content,
 * then everything else byte for byte (pointers cleared in copies first).
 * A field added to the struct is compared too: a pointer not cleared here
 * differs between two loads and fails the test. */
static void container_same(const struct spec_container *a, const struct spec_container *b)
{
        struct spec_container x = *a, y = *b;
        struct spec_container *p[2] = { &x, &y };
        SAME_STR(a->name, b->name);
        SAME_STR(a->file, b->file);
        SAME_STR(a->template_name, b->template_name);
        SAME_STR(a->rootfs, b->rootfs);
        SAME_STR(a->workdir, b->workdir);
        SAME_STR(a->user, b->user);
        SAME_STR(a->hostname, b->hostname);
        SAME_STR(a->network, b->network);
        SAME_STR(a->parent, b->parent);
        SAME_STR(a->gateway_text, b->gateway_text);
        SAME_STR(a->seccomp_profile, b->seccomp_profile);
        SAME_STR(a->env_file, b->env_file);
        SAME_STR(a->limits.cpuset, b->limits.cpuset);
        SAME_STR(a->limits.io_device, b->limits.io_device);
        SAME_STR(a->health.http_path, b->health.http_path);
        SAME_STRV(a->command, b->command);
        SAME_STRV(a->env, b->env);
        SAME_STRV(a->after, b->after);
        SAME_STRV(a->requires, b->requires);
        SAME_STRV(a->dns, b->dns);
        SAME_STRV(a->sysctl, b->sysctl);
        SAME_STRV(a->env_file_env, b->env_file_env);
        SAME_STRV(a->health.command, b->health.command);
        for (size_t i = 0; i < _HOOK_KIND_MAX; i++)
                SAME_STRV(a->hooks[i].command, b->hooks[i].command);
        assert_int_equal(a->n_publish, b->n_publish);
        assert_true(!a->publish == !b->publish);
        assert_true(a->n_publish == 0 || memcmp(a->publish, b->publish, a->n_publish * sizeof *a->publish) == 0);
        assert_int_equal(a->n_rlimits, b->n_rlimits);
        assert_true(!a->rlimits == !b->rlimits);
        assert_true(a->n_rlimits == 0 || memcmp(a->rlimits, b->rlimits, a->n_rlimits * sizeof *a->rlimits) == 0);
        assert_int_equal(a->n_attach, b->n_attach);
        assert_true(!a->attach == !b->attach);
        for (size_t i = 0; i < a->n_attach; i++) {
                struct spec_attach u = a->attach[i], v = b->attach[i];
                SAME_STR(u.network, v.network);
                u.network = v.network = NULL;
                assert_memory_equal(&u, &v, sizeof u);
        }
        assert_int_equal(a->n_mounts, b->n_mounts);
        assert_true(!a->mounts == !b->mounts);
        for (size_t i = 0; i < a->n_mounts; i++) {
                struct spec_mount u = a->mounts[i], v = b->mounts[i];
                SAME_STR(u.name, v.name);
                SAME_STR(u.source, v.source);
                SAME_STR(u.target, v.target);
                u.name = u.source = u.target = v.name = v.source = v.target = NULL;
                assert_memory_equal(&u, &v, sizeof u);
        }
        assert_int_equal(a->n_devices, b->n_devices);
        assert_true(!a->devices == !b->devices);
        for (size_t i = 0; i < a->n_devices; i++) {
                struct spec_device u = a->devices[i], v = b->devices[i];
                SAME_STR(u.name, v.name);
                SAME_STR(u.host, v.host);
                SAME_STR(u.path, v.path);
                SAME_STR(u.access, v.access);
                u.name = u.host = u.path = u.access = v.name = v.host = v.path = v.access = NULL;
                assert_memory_equal(&u, &v, sizeof u);
        }
        assert_int_equal(a->n_secrets, b->n_secrets);
        assert_true(!a->secrets == !b->secrets);
        for (size_t i = 0; i < a->n_secrets; i++) {
                struct spec_secret u = a->secrets[i], v = b->secrets[i];
                SAME_STR(u.name, v.name);
                SAME_STR(u.source, v.source);
                SAME_STR(u.target, v.target);
                u.name = u.source = u.target = v.name = v.source = v.target = NULL;
                assert_memory_equal(&u, &v, sizeof u);
        }
        for (int k = 0; k < 2; k++) {
                struct spec_container *c = p[k];
                c->name = c->file = c->template_name = c->rootfs = c->workdir = c->user = c->hostname = NULL;
                c->network = c->parent = c->gateway_text = c->seccomp_profile = c->env_file = NULL;
                c->limits.cpuset = c->limits.io_device = c->health.http_path = NULL;
                c->command = c->env = c->after = c->requires = c->dns = c->sysctl = c->env_file_env = NULL;
                c->health.command = NULL;
                for (size_t i = 0; i < _HOOK_KIND_MAX; i++)
                        c->hooks[i].command = NULL;
                c->publish = NULL;
                c->rlimits = NULL;
                c->attach = NULL;
                c->mounts = NULL;
                c->devices = NULL;
                c->secrets = NULL;
        }
        assert_memory_equal(&x, &y, sizeof x);
}

static void network_same(const struct spec_network *a, const struct spec_network *b)
{
        struct spec_network x = *a, y = *b;
        SAME_STR(a->name, b->name);
        SAME_STR(a->bridge, b->bridge);
        SAME_STR(a->file, b->file);
        x.name = x.bridge = x.file = y.name = y.bridge = y.file = NULL;
        assert_memory_equal(&x, &y, sizeof x);
}

static void template_same(const struct spec_template *a, const struct spec_template *b)
{
        struct spec_template x = *a, y = *b;
        SAME_STR(a->name, b->name);
        SAME_STR(a->from, b->from);
        SAME_STR(a->suite, b->suite);
        SAME_STR(a->mirror, b->mirror);
        SAME_STR(a->file, b->file);
        SAME_STRV(a->packages, b->packages);
        SAME_STRV(a->run, b->run);
        assert_int_equal(a->n_copies, b->n_copies);
        assert_true(!a->copies == !b->copies);
        for (size_t i = 0; i < a->n_copies; i++) {
                struct spec_template_copy u = a->copies[i], v = b->copies[i];
                SAME_STR(u.source, v.source);
                SAME_STR(u.target, v.target);
                u.source = u.target = v.source = v.target = NULL;
                assert_memory_equal(&u, &v, sizeof u);
        }
        x.name = x.from = x.suite = x.mirror = x.file = y.name = y.from = y.suite = y.mirror = y.file = NULL;
        x.packages = x.run = y.packages = y.run = NULL;
        x.copies = y.copies = NULL;
        assert_memory_equal(&x, &y, sizeof x);
}

/* The plan of a set against nothing running, as JSON text. */
static char *plan_text(const struct spec_set *set)
{
        struct plan p = { 0 };
        assert_int_equal(plan_compute(set, NULL, 0, NULL, 0, &p), 0);
        json_object *j = plan_to_json(&p);
        assert_non_null(j);
        char *s = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
        json_object_put(j);
        plan_done(&p);
        assert_non_null(s);
        return s;
}

/* Loads dir fresh and through cache; both must agree in everything.
 * Returns the load's result. */
static int load_both(const char *dir, struct config_cache *cache, const char *step)
{
        struct spec_set fs = { 0 }, cs = { 0 };
        struct diag fd = { 0 }, cd = { 0 };
        int fr = config_load_dir(dir, &fs, &fd);
        int cr = config_load_dir_cached(dir, &cs, &cd, cache);
        print_message("step %s: %d, %zu messages\n", step, fr, fd.n);
        assert_int_equal(fr, cr);
        assert_int_equal(fd.n, cd.n);
        assert_int_equal(fd.dropped, cd.dropped);
        char b1[2048], b2[2048];
        for (size_t i = 0; i < fd.n; i++) {
                print_message("  %s\n", diag_format(&fd.entries[i], b1, sizeof b1));
                assert_string_equal(diag_format(&fd.entries[i], b1, sizeof b1),
                                    diag_format(&cd.entries[i], b2, sizeof b2));
        }
        if (fr >= 0) {
                assert_int_equal(fs.n_containers, cs.n_containers);
                for (size_t i = 0; i < fs.n_containers; i++)
                        container_same(fs.containers[i], cs.containers[i]);
                assert_int_equal(fs.n_networks, cs.n_networks);
                for (size_t i = 0; i < fs.n_networks; i++)
                        network_same(fs.networks[i], cs.networks[i]);
                assert_int_equal(fs.n_templates, cs.n_templates);
                for (size_t i = 0; i < fs.n_templates; i++)
                        template_same(fs.templates[i], cs.templates[i]);
                assert_int_equal(fs.n_sources, cs.n_sources);
                for (size_t i = 0; i < fs.n_sources; i++) {
                        assert_string_equal(fs.sources[i].name, cs.sources[i].name);
                        assert_int_equal(fs.sources[i].len, cs.sources[i].len);
                        assert_memory_equal(fs.sources[i].text, cs.sources[i].text, fs.sources[i].len);
                }
                _cleanup_free_ char *p1 = plan_text(&fs), *p2 = plan_text(&cs);
                assert_string_equal(p1, p2);
        }
        spec_set_done(&fs);
        spec_set_done(&cs);
        diag_done(&fd);
        diag_done(&cd);
        return fr;
}

static void put(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, name);
        assert_non_null(p);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
        assert_int_equal(fclose(f), 0);
}

/* Rewrites name in place (same inode) with text, then sets its mtime back
 * to what it was: only the ctime and the bytes tell. */
static void put_in_place_same_mtime(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        int fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        struct timespec ts[2] = { st.st_atim, st.st_mtim };
        assert_int_equal(futimens(fd, ts), 0);
        close(fd);
}

static void drop(const char *dir, const char *name)
{
        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, name);
        assert_int_equal(unlink(p), 0);
}

static size_t n_parsed(const struct config_cache *c)
{
        size_t p, r;
        config_cache_stats(c, &p, &r);
        return p;
}

static size_t n_reused(const struct config_cache *c)
{
        size_t p, r;
        config_cache_stats(c, &p, &r);
        return r;
}

static void test_config_cache_same_as_fresh(void **state)
{
        (void) state;
        char tmpl[] = "/tmp/btcache.XXXXXX";
        char *dir = mkdtemp(tmpl);
        assert_non_null(dir);
        unsetenv(CONFIG_DEFAULT_IDMAP_ENV);
        _cleanup_free_ char *web = strdup_printf(
                "container web {\n"
                "  template = \"busybox\"\n"
                "  command = { \"/bin/httpd\", \"-f\" }\n"
                "  env = { \"MODE=demo\" }\n"
                "  after = { \"db\" }\n"
                "  requires = { \"db\" }\n"
                "  seccomp = \"%s/p.json\"\n"
                "  env-file = \"%s/web.env\"\n"
                "  network {\n"
                "    bridge = \"lan0\"\n"
                "    address = \"198.18.4.10\"\n"
                "    publish = { \"8080:80\" }\n"
                "    dns = { \"198.18.4.254\" }\n"
                "  }\n"
                "  network lan1 { address = \"198.18.5.10\" }\n"
                "  limits { memory = 256M cpuset = \"0-1\" }\n"
                "  mount data { source = \"/srv/data\"  target = \"/data\"  read-only = true }\n"
                "  mount scratch { type = \"tmpfs\" target = \"/tmp\" size = 16M }\n"
                "  device \"/dev/fuse\" { access = \"rw\" }\n"
                "  secret db { source = \"%s/secret\"  target = \"/run/secrets/db\" }\n"
                "  hook pre-start { command = { \"/bin/true\" } }\n"
                "  health { tcp = 80 http = \"/healthz\" }\n"
                "  sysctl { net.ipv4.ip_forward = 1 }\n"
                "  rlimits { nofile = \"1024:4096\" }\n"
                "}\n",
                dir, dir, dir);
        assert_non_null(web);
        put(dir, "web.conf", web);
        put(dir, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n  network { bridge = \"lan0\" }\n}\n");
        put(dir, "nets.conf", "network lan0 {\n  subnet = \"198.18.4.0/24\"\n}\n"
                              "network lan1 {\n  subnet = \"198.18.5.0/24\"\n}\n");
        put(dir, "tmpl.conf", "template app {\n  from = \"debian\"\n  packages = { \"curl\" }\n"
                              "  copy { source = \"/etc/passwd\" target = \"/etc/p\" }\n}\n");
        put(dir, "web.env", "A=1\nB=2\n");
        put(dir, "p.json", "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }\n");
        put(dir, "secret", "s3cret\n");

        struct config_cache *cache = config_cache_new();
        assert_non_null(cache);
        assert_int_equal(load_both(dir, cache, "first"), 0);
        assert_int_equal(n_parsed(cache), 4);
        assert_int_equal(load_both(dir, cache, "again"), 0);
        assert_int_equal(n_parsed(cache), 0);
        assert_int_equal(n_reused(cache), 4);

        /* The env file and the seccomp profile: not definition files, read each time. */
        put(dir, "web.env", "A=1\nB=3\n");
        assert_int_equal(load_both(dir, cache, "env-file"), 0);
        assert_int_equal(n_parsed(cache), 0);
        put(dir, "web.env", "not an entry\n");
        assert_int_equal(load_both(dir, cache, "env-file broken"), -EINVAL);
        put(dir, "web.env", "A=1\n");
        put(dir, "p.json", "{ \"defaultAction\": \"SCMP_ACT_LOG\" }\n");
        assert_int_equal(load_both(dir, cache, "seccomp profile"), 0);
        put(dir, "p.json", "{ nope");
        assert_int_equal(load_both(dir, cache, "seccomp profile broken"), -EINVAL);
        put(dir, "p.json", "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }\n");
        drop(dir, "secret");
        assert_int_equal(load_both(dir, cache, "secret gone"), 0);

        /* Other files: the checks across files run on the whole set. */
        drop(dir, "nets.conf");
        assert_int_equal(load_both(dir, cache, "networks gone"), -EINVAL);
        assert_int_equal(n_parsed(cache), 0);
        put(dir, "nets.conf", "network lan0 {\n  subnet = \"198.18.4.0/24\"\n}\n"
                              "network lan1 {\n  subnet = \"198.18.5.0/24\"\n}\n");
        assert_int_equal(load_both(dir, cache, "networks back"), 0);
        put(dir, "nets.conf", "network lan0 {\n  subnet = \"198.18.7.0/24\"\n}\n"
                              "network lan1 {\n  subnet = \"198.18.5.0/24\"\n}\n");
        assert_int_equal(load_both(dir, cache, "subnet moved away from an address"), -EINVAL);
        assert_int_equal(n_parsed(cache), 1);
        put(dir, "nets.conf", "network lan0 {\n  subnet = \"198.18.4.0/24\"\n}\n"
                              "network lan1 {\n  subnet = \"198.18.5.0/24\"\n}\n");
        put(dir, "db2.conf", "container db {\n  rootfs = \"/srv/db2\"\n}\n");
        assert_int_equal(load_both(dir, cache, "declared twice"), -EINVAL);
        drop(dir, "db2.conf");
        put(dir, "port.conf", "container p {\n  rootfs = \"/srv/p\"\n"
                              "  network { bridge = \"lan0\" publish = { \"8080:80\" } }\n}\n");
        assert_int_equal(load_both(dir, cache, "port taken twice"), -EINVAL);
        drop(dir, "port.conf");
        drop(dir, "db.conf");
        assert_int_equal(load_both(dir, cache, "dependency gone"), -EINVAL);
        put(dir, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n  after = { \"web\" }\n"
                            "  network { bridge = \"lan0\" }\n}\n");
        assert_int_equal(load_both(dir, cache, "dependency cycle"), -EINVAL);
        put(dir, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n  network { bridge = \"lan0\" }\n}\n");
        assert_int_equal(load_both(dir, cache, "restored"), 0);

        /* Its own file: a syntax error (FILE:LINE as a fresh parse says it), fixed. */
        put(dir, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n  bogus = 1\n  network { bridge = \"lan0\" }\n}\n");
        assert_int_equal(load_both(dir, cache, "unknown key"), -EINVAL);
        put(dir, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n  network { bridge = \"lan0\" \n}\n");
        assert_int_equal(load_both(dir, cache, "unbalanced"), -EINVAL);
        assert_int_equal(load_both(dir, cache, "unbalanced again"), -EINVAL);
        assert_int_equal(n_parsed(cache), 1); /* a file with errors is never kept */
        put(dir, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n  network { bridge = \"lan0\" }\n}\n");
        assert_int_equal(load_both(dir, cache, "fixed"), 0);
        /* In place, same size, the mtime set back: the bytes tell. */
        put_in_place_same_mtime(dir, "db.conf",
                                "container db {\n  rootfs = \"/srv/dX\"\n  network { bridge = \"lan0\" }\n}\n");
        assert_int_equal(load_both(dir, cache, "same size in place"), 0);
        assert_int_equal(n_parsed(cache), 1);
        /* Renamed: the file name is part of every spec and message. */
        _cleanup_free_ char *from = strdup_printf("%s/db.conf", dir), *to = strdup_printf("%s/a-db.conf", dir);
        assert_int_equal(rename(from, to), 0);
        assert_int_equal(load_both(dir, cache, "renamed"), 0);
        assert_int_equal(n_parsed(cache), 1);
        /* A container moved to another file, at another line. */
        put(dir, "nets.conf", "network lan0 {\n  subnet = \"198.18.4.0/24\"\n}\n"
                              "network lan1 {\n  subnet = \"198.18.5.0/24\"\n}\n"
                              "container db {\n  rootfs = \"/srv/db\"\n  network { bridge = \"lan0\" }\n}\n");
        drop(dir, "a-db.conf");
        assert_int_equal(load_both(dir, cache, "moved"), 0);

        /* The default idmap is read by the parse: a change drops the cache. */
        setenv(CONFIG_DEFAULT_IDMAP_ENV, "100000:65536", 1);
        assert_int_equal(load_both(dir, cache, "default idmap"), 0);
        assert_int_equal(n_parsed(cache), 3);
        setenv(CONFIG_DEFAULT_IDMAP_ENV, "bogus", 1);
        assert_int_equal(load_both(dir, cache, "default idmap wrong"), -EINVAL);
        unsetenv(CONFIG_DEFAULT_IDMAP_ENV);
        assert_int_equal(load_both(dir, cache, "default idmap unset"), 0);

        /* A binary file, an empty one, a directory named *.conf. */
        put(dir, "bin.conf", "container x {\x01}\n");
        assert_int_equal(load_both(dir, cache, "binary"), -EINVAL);
        put(dir, "bin.conf", "");
        assert_int_equal(load_both(dir, cache, "empty"), 0);
        assert_int_equal(load_both(dir, cache, "empty again"), 0);

        /* Another directory: nothing of the first is used. */
        char tmpl2[] = "/tmp/btcache.XXXXXX";
        char *dir2 = mkdtemp(tmpl2);
        assert_non_null(dir2);
        put(dir2, "db.conf", "container db {\n  rootfs = \"/srv/db\"\n}\n");
        assert_int_equal(load_both(dir2, cache, "other directory"), 0);
        assert_int_equal(n_parsed(cache), 1);
        assert_int_equal(rm_rf(dir2), 0);

        config_cache_free(cache);
        assert_int_equal(rm_rf(dir), 0);
}

/* After a while (the stat is trusted once the file is older than the read
 * by the racy window) unchanged files are not even read; an edit is seen
 * by its stat. */
static void test_config_cache_stat_trusted(void **state)
{
        (void) state;
        char tmpl[] = "/tmp/btcache.XXXXXX";
        char *dir = mkdtemp(tmpl);
        assert_non_null(dir);
        put(dir, "a.conf", "container a {\n  rootfs = \"/srv/a\"\n}\n");
        put(dir, "b.conf", "container b {\n  rootfs = \"/srv/b\"\n}\n");
        /* Both files written 10 s ago. */
        struct timespec old[2] = { { .tv_sec = time(NULL) - 10 }, { .tv_sec = time(NULL) - 10 } };
        _cleanup_free_ char *pa = strdup_printf("%s/a.conf", dir), *pb = strdup_printf("%s/b.conf", dir);
        assert_int_equal(utimensat(AT_FDCWD, pa, old, 0), 0);
        assert_int_equal(utimensat(AT_FDCWD, pb, old, 0), 0);
        struct config_cache *cache = config_cache_new();
        assert_int_equal(load_both(dir, cache, "first"), 0);
        sleep(3); /* the ctime (now) falls out of the racy window */
        assert_int_equal(load_both(dir, cache, "trusted"), 0);
        assert_int_equal(n_reused(cache), 2);
        put(dir, "b.conf", "container b {\n  rootfs = \"/srv/c\"\n}\n");
        assert_int_equal(load_both(dir, cache, "edited"), 0);
        assert_int_equal(n_parsed(cache), 1);
        config_cache_free(cache);
        assert_int_equal(rm_rf(dir), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config_cache_same_as_fresh),
                cmocka_unit_test(test_config_cache_stat_trusted),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}

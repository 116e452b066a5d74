/* The files berth writes for a container before it starts: its /etc
 * (hosts, hostname, resolv.conf), its environment, and the seccomp program
 * it gets (built once, cached in the state directory). Split from
 * runtime.c, which assembles a container; see runtime_files.h. */
#include "runtime_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "parse.h"
#include "resolv.h"
#include "runtime.h"
#include "seccomp_profile.h"
#include "tbuild.h"
#include "template.h"
#include "security.h"
#include "tstore.h"
#include "util.h"

static int script_template_root(const struct spec_container *c, const char *state_dir, char **ret_lower,
                                struct error *e)
{
        int r = template_ensure(state_dir, c->template_name, ret_lower);
        if (r == -ENOENT) {
                _cleanup_free_ char *dir = template_scripts_dir();
                return error_set(e, 0, "no template '%s' (no %s/%s.sh and none imported)", c->template_name,
                                 dir ? dir : "?", c->template_name);
        }
        if (r < 0)
                return error_set(e, r, "cannot build template '%s'", c->template_name);
        return 0;
}

int runtime_template_root(const struct spec_set *set, const struct spec_container *c, const char *state_dir,
                          char **ret_lower, struct image_info **ret_img, int *ret_lock, struct error *e)
{
        const struct spec_template *t = set ? spec_set_find_template(set, c->template_name) : NULL;
        _cleanup_close_ int lock = tstore_lock(state_dir);
        if (lock < 0)
                return error_set(e, lock, "cannot lock the template store in %s", state_dir);
        if (tbuild_is_declarative(t)) {
                /* built by berthd (tbuild.h), never at a start */
                _cleanup_(image_info_freep) struct image_info *built = NULL;
                if (image_read(state_dir, t->name, &built) < 0 || strncmp(built->source, "build:", 6) != 0)
                        return error_set_msg(e, -EAGAIN, "template '%s' (%s:%d) is not built yet (berthd builds it; "
                                                     "see berthctl template logs %s)", t->name, t->file, t->line,
                                         t->name);
        } else if (t && t->from) {
                int r = image_ensure_locked(state_dir, t->name, t->from, e);
                if (r < 0)
                        return error_wrap(e, "template '%s' (%s:%d)", t->name, t->file, t->line);
        }
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        int r = image_read(state_dir, c->template_name, &img);
        if (r == -ENOENT && !t) {
                if (template_lookup(state_dir, c->template_name, ret_lower) == 0) {
                        *ret_lock = TAKE_FD(lock);
                        return 0;
                }
                /* A build may take minutes: not under the store lock. */
                close(TAKE_FD(lock));
                r = script_template_root(c, state_dir, ret_lower, e);
                if (r < 0)
                        return r;
                free(*ret_lower);
                *ret_lower = NULL;
                lock = tstore_lock(state_dir);
                if (lock < 0)
                        return error_set(e, lock, "cannot lock the template store in %s", state_dir);
                r = template_lookup(state_dir, c->template_name, ret_lower);
                if (r < 0)
                        return error_set(e, r, "template '%s' was removed while it was being built",
                                         c->template_name);
                *ret_lock = TAKE_FD(lock);
                return 0;
        }
        if (r < 0)
                return error_set(e, r, "template '%s': cannot read its image record", c->template_name);
        r = image_lowerdir(state_dir, img, ret_lower);
        if (r < 0)
                return error_set(e, r, "template '%s': its layers in %s/layers", c->template_name, state_dir);
        *ret_img = TAKE_PTR(img);
        *ret_lock = TAKE_FD(lock);
        return 0;
}

int runtime_image_health(const char *state_dir, const struct spec_container *c, struct spec_health *out)
{
        *out = (struct spec_health){ 0 };
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        if (c->health.enabled || !c->template_name || image_read(state_dir, c->template_name, &img) < 0 ||
            !img->health_test || !img->health_test[0])
                return 0;
        char **t = img->health_test;
        char **cmd = NULL;
        if (streq(t[0], "CMD") && t[1])
                cmd = strv_copy(t + 1);
        else if (streq(t[0], "CMD-SHELL") && t[1] && !t[2]) {
                char *argv[] = { "/bin/sh", "-c", t[1], NULL };
                cmd = strv_copy(argv);
        }
        if (!cmd)
                return 0; /* ["NONE"]: the image turns it off; anything else is not a check */
        /* The limits and defaults of the container.health keys (berth.conf(5)). */
        const usec_t ms = SPEC_USEC_PER_SEC / 1000;
        out->enabled = true;
        out->command = cmd;
        out->http_status = 200;
        out->interval = img->health_interval >= 100 * ms ? img->health_interval : 30 * SPEC_USEC_PER_SEC;
        out->timeout = img->health_timeout >= 10 * ms ? img->health_timeout : 5 * SPEC_USEC_PER_SEC;
        if (out->timeout > out->interval)
                out->timeout = out->interval;
        out->start_period = img->health_start_period;
        out->retries = img->health_retries >= 1 && img->health_retries <= 100 ? img->health_retries
                       : img->health_retries > 100                         ? 100
                                                                           : 3;
        out->on_failure = HEALTH_ACTION_RESTART;
        return 1;
}

int runtime_stop_signal(const char *state_dir, const struct spec_container *c, const char **source)
{
        const char *src = c->line_stop_signal ? "definition" : "default";
        int sig = c->stop_signal;
        _cleanup_(image_info_freep) struct image_info *img = NULL;
        int image_sig;
        if (!c->line_stop_signal && c->template_name && image_read(state_dir, c->template_name, &img) == 0 &&
            img->stop_signal && parse_signal(img->stop_signal, &image_sig) >= 0) {
                sig = image_sig;
                src = "image";
        }
        if (source)
                *source = src;
        return sig;
}

char **runtime_command(char *const *override, const struct spec_container *c, const struct image_info *img,
                       const char **source)
{
        static char *const default_cmd[] = { "/bin/sh", NULL };
        const char *src = "default";
        char **v = NULL;
        if (override && override[0]) {
                src = "run";
                v = strv_copy(override);
        } else if (c->command) {
                src = "definition";
                v = strv_copy(c->command);
        } else if (img && (strv_length(img->entrypoint) || strv_length(img->cmd))) {
                src = "image";
                v = calloc(1, sizeof(char *));
                for (size_t i = 0; v && img->entrypoint && img->entrypoint[i]; i++)
                        if (strv_push(&v, img->entrypoint[i]) < 0)
                                v = strv_free(v);
                for (size_t i = 0; v && img->cmd && img->cmd[i]; i++)
                        if (strv_push(&v, img->cmd[i]) < 0)
                                v = strv_free(v);
        } else
                v = strv_copy(default_cmd);
        if (source)
                *source = src;
        return v;
}

int runtime_write_text(const char *dir, const char *name, const char *text)
{
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        return write_file_replace(dfd, name, text, strlen(text), 0644);
}

/* /etc/hosts, /etc/resolv.conf and /etc/hostname for the container, kept
 * in its directory and bind-mounted read-only-ish over the image's. On a
 * bridge network, hosts is already its network's (hostsfile.h). */
int runtime_write_etc(const struct spec_container *c, const char *hostname, const struct spec_network *net,
                      bool hosts_linked, const char *etc)
{
        char hosts[1024];
        snprintf(hosts, sizeof hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n",
                 hostname);
        int r = hosts_linked ? 0 : runtime_write_text(etc, "hosts", hosts);
        if (r < 0)
                return r;
        char host_name[300];
        snprintf(host_name, sizeof host_name, "%s\n", hostname);
        if ((r = runtime_write_text(etc, "hostname", host_name)) < 0)
                return r;
        _cleanup_free_ char *host = NULL, *resolv = NULL;
        r = resolv_host_text(&host);
        if (r < 0)
                return r;
        /* The host's network namespace reaches the host's loopback servers. */
        if (c->net_mode == NET_HOST && !(c->dns && c->dns[0]))
                return runtime_write_text(etc, "resolv.conf", host);
        /* Berth's own networks forward DNS to host-only servers through
         * their gateway (nat.c); other networks get the real upstreams only. */
        r = resolv_container_text(c->dns, host, net && !net->external ? &net->gateway : NULL, &resolv);
        if (r < 0)
                return r;
        return runtime_write_text(etc, "resolv.conf", resolv);
}

/* One NAME=VALUE into env, replacing an entry of the same name. */
static int env_set(char ***env, const char *entry)
{
        size_t klen = strcspn(entry, "=") + 1;
        for (size_t j = 0; (*env)[j]; j++)
                if (strncmp((*env)[j], entry, klen) == 0) {
                        char *dup = strdup(entry);
                        if (!dup)
                                return -ENOMEM;
                        free((*env)[j]);
                        (*env)[j] = dup;
                        return 0;
                }
        return strv_push(env, entry);
}

char **runtime_build_env(const struct spec_container *c, const char *hostname, bool tty, char *const *image_env)
{
        char **env = calloc(1, sizeof(char *));
        if (!env)
                return NULL;
        _cleanup_free_ char *h = strdup_printf("HOSTNAME=%s", hostname);
        const char *term = getenv("TERM");
        _cleanup_free_ char *t = strdup_printf("TERM=%s", term && *term ? term : "xterm");
        if (!h || !t || strv_push(&env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin") < 0 ||
            strv_push(&env, "HOME=/root") < 0 || strv_push(&env, h) < 0 || strv_push(&env, "container=berth") < 0 ||
            (tty && strv_push(&env, t) < 0))
                return strv_free(env);
        /* The image's entries replace defaults of the same name, then the
         * env file's, then env's: a name in several takes the last value. */
        char *const *layers[] = { image_env, c->env_file_env, c->env };
        for (size_t l = 0; l < ELEMENTSOF(layers); l++)
                for (size_t i = 0; layers[l] && layers[l][i]; i++)
                        if (strchr(layers[l][i], '=') && env_set(&env, layers[l][i]) < 0)
                                return strv_free(env);
        return env;
}

/* Building a seccomp program costs 10-25 ms of libseccomp work (the
 * default one ~21 ms, moby's default.json as a file ~13 ms); the result
 * depends only on the capability set, the code that builds it and, for a
 * profile file, its content and the kernel version ("minKernel"), so it is
 * cached in the state directory (as crun does). A cache entry that does
 * not look like a program is ignored. */
static int cache_dir_open(const char *state_dir)
{
        _cleanup_free_ char *dir = strdup_printf("%s/cache", state_dir);
        if (!dir || mkdir_p(dir, 0700) < 0)
                return -1;
        return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

static bool cache_take_program(char *data, size_t len, struct security_seccomp *out)
{
        if (len == 0 || len % sizeof(struct sock_filter) != 0 || len / sizeof(struct sock_filter) > BPF_MAXINSNS)
                return false;
        *out = (struct security_seccomp){
                .enabled = true,
                .filter = (struct sock_filter *) data,
                .len = (unsigned short) (len / sizeof(struct sock_filter)),
        };
        return true;
}

static int seccomp_default(const char *state_dir, const struct security_caps *caps, struct security_seccomp *out)
{
        uint64_t h = fnv1a64(FNV1A64_INIT, security_seccomp_revision(), strlen(security_seccomp_revision()));
        _cleanup_free_ char *name = strdup_printf("seccomp-%016llx-%016llx.bpf", (unsigned long long) caps->bounding,
                                                  (unsigned long long) h);
        if (!name)
                return -ENOMEM;
        _cleanup_close_ int dfd = cache_dir_open(state_dir);
        if (dfd >= 0) {
                char *data = NULL;
                size_t len = 0;
                if (read_file_at(dfd, name, BPF_MAXINSNS * sizeof(struct sock_filter), &data, &len) == 0 &&
                    cache_take_program(data, len, out))
                        return 0;
                free(data);
        }
        int r = security_seccomp_build_default(caps->bounding, out);
        if (r >= 0 && dfd >= 0)
                (void) write_file_atomic(dfd, name, out->filter, out->len * sizeof(struct sock_filter), 0600);
        return r;
}

/* A profile's cache entry holds the profile text before the program and
 * is used only when that text is byte for byte the file's: the name's
 * 64-bit hash only finds the entry, it never vouches for it. */
static int seccomp_profile_cached(const char *state_dir, const struct spec_container *c, const struct security_caps *caps,
                                  struct security_seccomp *out, struct error *e)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        char perr[SECCOMP_PROFILE_ERROR_MAX];
        int r = seccomp_profile_read(c->seccomp_profile, &text, &len, perr, sizeof perr);
        if (r < 0)
                return error_set(e, 0, "seccomp: %s", perr);
        /* Compile only the text that was validated when the definitions
         * were loaded: an edit since then waits for the next reload. */
        if (c->seccomp_profile_digest && fnv1a64(FNV1A64_INIT, text, len) != c->seccomp_profile_digest)
                return error_set(e, 0, "seccomp: %s changed since the definitions were loaded (reload to use it)",
                                 c->seccomp_profile);

        struct seccomp_profile_target t;
        seccomp_profile_target_native(caps->bounding, &t);
        uint64_t h = fnv1a64(FNV1A64_INIT, security_seccomp_revision(), strlen(security_seccomp_revision()));
        h = fnv1a64(h, &t, sizeof t);
        h = fnv1a64(h, text, len);
        _cleanup_free_ char *name = strdup_printf("seccomp-profile-%016llx-%016llx.bpf",
                                                  (unsigned long long) caps->bounding, (unsigned long long) h);
        if (!name)
                return error_code(e, -ENOMEM);
        _cleanup_close_ int dfd = state_dir ? cache_dir_open(state_dir) : -1;
        uint64_t text_len = len;
        if (dfd >= 0) {
                _cleanup_free_ char *data = NULL;
                size_t dlen = 0;
                size_t max = sizeof text_len + SECCOMP_PROFILE_FILE_MAX + BPF_MAXINSNS * sizeof(struct sock_filter);
                if (read_file_at(dfd, name, max, &data, &dlen) == 0 && dlen > sizeof text_len + len &&
                    memcmp(data, &text_len, sizeof text_len) == 0 && memcmp(data + sizeof text_len, text, len) == 0) {
                        size_t plen = dlen - sizeof text_len - len;
                        char *prog = malloc(plen);
                        if (!prog)
                                return error_code(e, -ENOMEM);
                        memcpy(prog, data + sizeof text_len + len, plen);
                        if (cache_take_program(prog, plen, out))
                                return 0;
                        free(prog);
                }
        }

        _cleanup_(seccomp_profile_freep) struct seccomp_profile *p = NULL;
        r = seccomp_profile_parse(c->seccomp_profile, text, len, &p, perr, sizeof perr);
        if (r >= 0)
                r = seccomp_profile_compile(p, &t, out, perr, sizeof perr);
        if (r < 0)
                return error_set(e, 0, "seccomp: %s", perr);
        if (dfd >= 0) {
                size_t plen = out->len * sizeof(struct sock_filter);
                _cleanup_free_ char *entry = malloc(sizeof text_len + len + plen);
                if (entry) {
                        memcpy(entry, &text_len, sizeof text_len);
                        memcpy(entry + sizeof text_len, text, len);
                        memcpy(entry + sizeof text_len + len, out->filter, plen);
                        (void) write_file_atomic(dfd, name, entry, sizeof text_len + len + plen, 0600);
                }
        }
        return 0;
}

int runtime_seccomp_prepare(const char *state_dir, const struct spec_container *c, const struct security_caps *caps,
                            struct security_seccomp *out, struct error *e)
{
        int r;
        switch (c->seccomp) {
        case SECCOMP_PROFILE:
                return seccomp_profile_cached(state_dir, c, caps, out, e);
        case SECCOMP_DEFAULT:
                r = state_dir ? seccomp_default(state_dir, caps, out) : security_seccomp_build_default(caps->bounding, out);
                break;
        default:
                r = security_seccomp_prepare(c, out);
                break;
        }
        if (r < 0)
                return error_set(e, r, "cannot build the seccomp filter");
        return 0;
}

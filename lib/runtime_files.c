/* The files berth writes for a container before it starts: its /etc
 * (hosts, hostname, resolv.conf), its environment, and the seccomp program
 * it gets (built once, cached in the state directory). Split from
 * runtime.c, which assembles a container; see runtime_files.h. */
#include "runtime_files.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "resolv.h"
#include "runtime.h"
#include "seccomp_profile.h"
#include "security.h"
#include "util.h"

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

char **runtime_build_env(const struct spec_container *c, const char *hostname, bool tty)
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
        /* The definition's entries replace defaults of the same name. */
        /* The env file first, then env: a name in both takes env's value. */
        char *const *layers[] = { c->env_file_env, c->env };
        for (size_t l = 0; l < ELEMENTSOF(layers); l++)
                for (size_t i = 0; layers[l] && layers[l][i]; i++) {
                        const char *e = layers[l][i];
                        size_t klen = strcspn(e, "=") + 1;
                        size_t j = 0;
                        for (; env[j]; j++)
                                if (strncmp(env[j], e, klen) == 0)
                                        break;
                        if (env[j]) {
                                char *dup = strdup(e);
                                if (!dup)
                                        return strv_free(env);
                                free(env[j]);
                                env[j] = dup;
                        } else if (strv_push(&env, e) < 0)
                                return strv_free(env);
                }
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

#include "spec.h"

#include <signal.h>
#include <stdio.h>

#include "keys.h"
#include "util.h"

int spec_container_new(const char *name, const char *file, int line, struct spec_container **ret)
{
        struct spec_container *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->name = strdup(name);
        c->file = strdup(file ? file : "");
        if (!c->name || !c->file) {
                spec_container_free(c);
                return -ENOMEM;
        }
        c->line = line;
        keys_apply_defaults("container", c);
        *ret = c;
        return 0;
}

struct spec_container *spec_container_free(struct spec_container *c)
{
        if (!c)
                return NULL;
        free(c->name);
        free(c->file);
        free(c->template_name);
        free(c->rootfs);
        strv_free(c->command);
        strv_free(c->env);
        free(c->workdir);
        free(c->user);
        free(c->hostname);
        strv_free(c->after);
        strv_free(c->requires);
        free(c->network);
        free(c->parent);
        free(c->gateway_text);
        free(c->publish);
        strv_free(c->dns);
        for (size_t i = 0; i < c->n_attach; i++)
                free(c->attach[i].network);
        free(c->attach);
        free(c->limits.cpuset);
        for (size_t i = 0; i < c->n_mounts; i++) {
                free(c->mounts[i].name);
                free(c->mounts[i].source);
                free(c->mounts[i].target);
        }
        free(c->mounts);
        for (size_t i = 0; i < c->n_devices; i++) {
                free(c->devices[i].name);
                free(c->devices[i].host);
                free(c->devices[i].path);
                free(c->devices[i].access);
        }
        free(c->devices);
        for (size_t i = 0; i < c->n_secrets; i++) {
                free(c->secrets[i].name);
                free(c->secrets[i].source);
                free(c->secrets[i].target);
        }
        free(c->secrets);
        for (size_t i = 0; i < _HOOK_KIND_MAX; i++)
                strv_free(c->hooks[i].command);
        free(c->seccomp_profile);
        strv_free(c->health.command);
        free(c->health.http_path);
        free(c->limits.io_device);
        strv_free(c->sysctl);
        free(c->rlimits);
        free(c->env_file);
        strv_free(c->env_file_env);
        free(c);
        return NULL;
}

int spec_network_new(const char *name, const char *file, int line, struct spec_network **ret)
{
        struct spec_network *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->name = strdup(name);
        n->bridge = strdup(name);
        n->file = strdup(file ? file : "");
        if (!n->name || !n->bridge || !n->file) {
                spec_network_free(n);
                return -ENOMEM;
        }
        n->line = line;
        *ret = n;
        return 0;
}

struct spec_network *spec_network_free(struct spec_network *n)
{
        if (!n)
                return NULL;
        free(n->name);
        free(n->bridge);
        free(n->file);
        free(n);
        return NULL;
}

void spec_set_done(struct spec_set *s)
{
        for (size_t i = 0; i < s->n_containers; i++)
                spec_container_free(s->containers[i]);
        for (size_t i = 0; i < s->n_networks; i++)
                spec_network_free(s->networks[i]);
        for (size_t i = 0; i < s->n_templates; i++)
                spec_template_free(s->templates[i]);
        free(s->containers);
        free(s->networks);
        free(s->templates);
        free(s->by_name);
        for (size_t i = 0; i < s->n_sources; i++) {
                free(s->sources[i].name);
                free(s->sources[i].text);
        }
        free(s->sources);
        *s = (struct spec_set){ 0 };
}

int spec_set_index(struct spec_set *s)
{
        struct nameidx *ix = calloc(s->n_containers + 1, sizeof *ix);
        if (!ix)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_containers; i++)
                ix[i] = (struct nameidx){ s->containers[i]->name ? s->containers[i]->name : "", i };
        nameidx_sort(ix, s->n_containers);
        free(s->by_name);
        s->by_name = ix;
        s->n_by_name = s->n_containers;
        return 0;
}

struct spec_container *spec_set_find_container(const struct spec_set *s, const char *name)
{
        if (s->by_name && s->n_by_name == s->n_containers) {
                size_t i = nameidx_find(s->by_name, s->n_by_name, name);
                return i == NAMEIDX_NONE ? NULL : s->containers[i];
        }
        for (size_t i = 0; i < s->n_containers; i++)
                if (streq(s->containers[i]->name, name))
                        return s->containers[i];
        return NULL;
}

struct spec_network *spec_set_find_network(const struct spec_set *s, const char *name)
{
        for (size_t i = 0; i < s->n_networks; i++)
                if (streq(s->networks[i]->name, name))
                        return s->networks[i];
        return NULL;
}

struct spec_template *spec_set_find_template(const struct spec_set *s, const char *name)
{
        for (size_t i = 0; i < s->n_templates; i++)
                if (streq(s->templates[i]->name, name))
                        return s->templates[i];
        return NULL;
}

struct spec_template *spec_template_free(struct spec_template *t)
{
        if (!t)
                return NULL;
        free(t->name);
        free(t->from);
        free(t->suite);
        free(t->mirror);
        strv_free(t->packages);
        strv_free(t->run);
        for (size_t i = 0; i < t->n_copies; i++) {
                free(t->copies[i].source);
                free(t->copies[i].target);
        }
        free(t->copies);
        free(t->file);
        free(t);
        return NULL;
}

/* The hashes and differences are the key table's (keys.c): each key's row
 * says which set it belongs to. */
void spec_container_hash_restart(const struct spec_container *c, char out[SPEC_HASH_LEN])
{
        keys_hash("container", KEY_CLASS_RESTART, false, c, out);
}

void spec_container_hash_live(const struct spec_container *c, char out[SPEC_HASH_LEN])
{
        keys_hash("container", KEY_CLASS_LIVE, false, c, out);
}

void spec_container_hash_supervise(const struct spec_container *c, char out[SPEC_HASH_LEN])
{
        keys_hash("container", KEY_CLASS_SUPERVISE, false, c, out);
}

void spec_network_hash(const struct spec_network *n, char out[SPEC_HASH_LEN])
{
        keys_hash("network", 0, true, n, out);
}

const char *spec_container_diff_restart(const struct spec_container *a, const struct spec_container *b,
                                        char *buf, size_t size)
{
        return keys_diff("container", KEY_CLASS_RESTART, a, b, buf, size);
}

const char *spec_container_diff_live(const struct spec_container *a, const struct spec_container *b,
                                     char *buf, size_t size)
{
        return keys_diff("container", KEY_CLASS_LIVE, a, b, buf, size);
}

const char *spec_container_diff_supervise(const struct spec_container *a, const struct spec_container *b,
                                          char *buf, size_t size)
{
        return keys_diff("container", KEY_CLASS_SUPERVISE, a, b, buf, size);
}

const char *spec_network_diff_recreate(const struct spec_network *a, const struct spec_network *b, char *buf,
                                       size_t size)
{
        return keys_diff("network", KEY_CLASS_RECREATE, a, b, buf, size);
}

const char *spec_network_diff_live(const struct spec_network *a, const struct spec_network *b, char *buf,
                                   size_t size)
{
        return keys_diff("network", KEY_CLASS_NET_LIVE, a, b, buf, size);
}

const char *restart_policy_to_string(restart_policy_t p)
{
        static const char *const t[] = { "no", "on-failure", "always", "unless-stopped" };
        return (unsigned) p < ELEMENTSOF(t) ? t[p] : "?";
}

const char *net_mode_to_string(net_mode_t m)
{
        static const char *const t[] = { "none", "bridge", "host", "macvlan", "ipvlan" };
        return (unsigned) m < ELEMENTSOF(t) ? t[m] : "?";
}

const char *health_action_to_string(health_action_t a)
{
        static const char *const t[] = { "restart", "stop", "none" };
        return (unsigned) a < ELEMENTSOF(t) ? t[a] : "?";
}

const char *seccomp_mode_to_string(seccomp_mode_t m)
{
        static const char *const t[] = { "default", "unconfined", "profile" };
        return (unsigned) m < ELEMENTSOF(t) ? t[m] : "?";
}

const char *hook_kind_to_string(hook_kind_t k)
{
        static const char *const t[] = { "pre-start", "post-start", "post-stop" };
        return (unsigned) k < ELEMENTSOF(t) ? t[k] : "?";
}

/* ---- deep copies ---------------------------------------------------------------------------- */

/* A copy of string *p into *p (NULL stays NULL). */
static bool str_own(char **p)
{
        return !*p || (*p = strdup(*p));
}

/* A zeroed array of n elements (at least one when the source is non-NULL). */
static void *array_new(const void *src, size_t n, size_t size, bool *ok)
{
        if (!src || !*ok)
                return NULL;
        void *a = calloc(n ? n : 1, size);
        if (!a)
                *ok = false;
        return a;
}

struct spec_container *spec_container_dup(const struct spec_container *c)
{
        struct spec_container *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        /* First the scalars and every pointer of the source, then each pointer
         * is replaced by its copy; before that they are cleared, so that a
         * failure frees only the copies. */
        *n = *c;
        n->name = n->file = n->template_name = n->rootfs = n->workdir = n->user = n->hostname = NULL;
        n->network = n->parent = n->gateway_text = n->seccomp_profile = n->env_file = NULL;
        n->limits.cpuset = n->limits.io_device = n->health.http_path = NULL;
        n->command = n->env = n->after = n->requires = n->dns = n->sysctl = n->env_file_env = NULL;
        n->health.command = NULL;
        for (size_t i = 0; i < _HOOK_KIND_MAX; i++)
                n->hooks[i].command = NULL;
        n->publish = NULL;
        n->rlimits = NULL;
        n->attach = NULL;
        n->mounts = NULL;
        n->devices = NULL;
        n->secrets = NULL;
        n->n_attach = n->n_mounts = n->n_devices = n->n_secrets = 0;

        bool ok = true;
#define S(f) (ok = ok && (n->f = c->f, str_own(&n->f)))
#define V(f) (ok = ok && (!c->f || (n->f = strv_copy(c->f))))
        S(name);
        S(file);
        S(template_name);
        S(rootfs);
        S(workdir);
        S(user);
        S(hostname);
        S(network);
        S(parent);
        S(gateway_text);
        S(seccomp_profile);
        S(env_file);
        S(limits.cpuset);
        S(limits.io_device);
        S(health.http_path);
        V(command);
        V(env);
        V(after);
        V(requires);
        V(dns);
        V(sysctl);
        V(env_file_env);
        V(health.command);
        for (size_t i = 0; i < _HOOK_KIND_MAX; i++)
                V(hooks[i].command);
#undef S
#undef V
        if ((n->publish = array_new(c->publish, c->n_publish, sizeof *c->publish, &ok)))
                memcpy(n->publish, c->publish, c->n_publish * sizeof *c->publish);
        if ((n->rlimits = array_new(c->rlimits, c->n_rlimits, sizeof *c->rlimits, &ok)))
                memcpy(n->rlimits, c->rlimits, c->n_rlimits * sizeof *c->rlimits);
        /* Arrays of structs holding strings: each element whole, its strings
         * cleared, then copied; the count is set at once (the rest is zeroed). */
        if ((n->attach = array_new(c->attach, c->n_attach, sizeof *c->attach, &ok)))
                n->n_attach = c->n_attach;
        for (size_t i = 0; ok && n->attach && i < c->n_attach; i++) {
                n->attach[i] = c->attach[i];
                ok = str_own(&n->attach[i].network);
        }
        if ((n->mounts = array_new(c->mounts, c->n_mounts, sizeof *c->mounts, &ok)))
                n->n_mounts = c->n_mounts;
        for (size_t i = 0; ok && n->mounts && i < c->n_mounts; i++) {
                struct spec_mount *m = &n->mounts[i];
                *m = c->mounts[i];
                m->name = m->source = m->target = NULL;
                ok = (m->name = c->mounts[i].name, str_own(&m->name)) &&
                     (m->source = c->mounts[i].source, str_own(&m->source)) &&
                     (m->target = c->mounts[i].target, str_own(&m->target));
        }
        if ((n->devices = array_new(c->devices, c->n_devices, sizeof *c->devices, &ok)))
                n->n_devices = c->n_devices;
        for (size_t i = 0; ok && n->devices && i < c->n_devices; i++) {
                struct spec_device *v = &n->devices[i];
                *v = c->devices[i];
                v->name = v->host = v->path = v->access = NULL;
                ok = (v->name = c->devices[i].name, str_own(&v->name)) &&
                     (v->host = c->devices[i].host, str_own(&v->host)) &&
                     (v->path = c->devices[i].path, str_own(&v->path)) &&
                     (v->access = c->devices[i].access, str_own(&v->access));
        }
        if ((n->secrets = array_new(c->secrets, c->n_secrets, sizeof *c->secrets, &ok)))
                n->n_secrets = c->n_secrets;
        for (size_t i = 0; ok && n->secrets && i < c->n_secrets; i++) {
                struct spec_secret *v = &n->secrets[i];
                *v = c->secrets[i];
                v->name = v->source = v->target = NULL;
                ok = (v->name = c->secrets[i].name, str_own(&v->name)) &&
                     (v->source = c->secrets[i].source, str_own(&v->source)) &&
                     (v->target = c->secrets[i].target, str_own(&v->target));
        }
        return ok ? n : spec_container_free(n);
}

struct spec_network *spec_network_dup(const struct spec_network *n)
{
        struct spec_network *c = malloc(sizeof *c);
        if (!c)
                return NULL;
        *c = *n;
        c->name = c->bridge = c->file = NULL;
        bool ok = (c->name = n->name, str_own(&c->name)) && (c->bridge = n->bridge, str_own(&c->bridge)) &&
                  (c->file = n->file, str_own(&c->file));
        return ok ? c : spec_network_free(c);
}

struct spec_template *spec_template_dup(const struct spec_template *t)
{
        struct spec_template *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        bool ok = true;
        const char *const src[] = { t->name, t->from, t->suite, t->mirror, t->file };
        char **dst[] = { &c->name, &c->from, &c->suite, &c->mirror, &c->file };
        for (size_t i = 0; i < ELEMENTSOF(src); i++)
                if (ok && src[i])
                        ok = !!(*dst[i] = strdup(src[i]));
        if (ok && t->packages)
                ok = !!(c->packages = strv_copy(t->packages));
        if (ok && t->run)
                ok = !!(c->run = strv_copy(t->run));
        if (ok && t->copies) {
                c->copies = calloc(t->n_copies ? t->n_copies : 1, sizeof *c->copies);
                ok = !!c->copies;
                for (size_t i = 0; ok && i < t->n_copies; i++) {
                        c->copies[i] = t->copies[i];
                        c->copies[i].source = c->copies[i].target = NULL;
                        c->n_copies = i + 1;
                        if (t->copies[i].source)
                                ok = !!(c->copies[i].source = strdup(t->copies[i].source));
                        if (ok && t->copies[i].target)
                                ok = !!(c->copies[i].target = strdup(t->copies[i].target));
                }
        }
        if (!ok)
                return spec_template_free(c);
        c->n_copies = t->n_copies;
        c->line = t->line;
        c->line_from = t->line_from;
        c->line_suite = t->line_suite;
        c->line_mirror = t->line_mirror;
        c->line_packages = t->line_packages;
        c->line_run = t->line_run;
        return c;
}

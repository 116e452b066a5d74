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

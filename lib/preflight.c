#include "preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "hostports.h"
#include "net.h"
#include "secrets.h"
#include "image.h"
#include "template.h"
#include "util.h"

static bool template_is_known(const char *state_dir, const char *scripts_dir, const char *name)
{
        _cleanup_free_ char *built = NULL;
        if (state_dir && template_lookup(state_dir, name, &built) == 0)
                return true;
        struct image_info *img = NULL;
        if (state_dir && image_read(state_dir, name, &img) == 0) {
                image_info_free(img);
                return true;
        }
        _cleanup_free_ char *script = strdup_printf("%s/%s.sh", scripts_dir, name);
        return script && access(script, R_OK) == 0;
}

size_t preflight_check(const struct spec_set *set, const char *state_dir, const char *scripts_dir, struct diag *d)
{
        _cleanup_free_ char *own = scripts_dir ? NULL : template_scripts_dir();
        if (!scripts_dir)
                scripts_dir = own ? own : "";
        size_t before = d->n + d->dropped;
        for (size_t i = 0; i < set->n_containers; i++) {
                const struct spec_container *c = set->containers[i];
                if (c->template_name && spec_set_find_template(set, c->template_name))
                        continue; /* imported at its first start */
                if (c->template_name && !template_is_known(state_dir, scripts_dir, c->template_name))
                        diag_add(d, c->file, c->line_template,
                                 "template: no template '%s' (no %s/%s.sh, none built or imported in %s/templates)",
                                 c->template_name, scripts_dir, c->template_name, state_dir ? state_dir : "?");
                struct stat st;
                if (c->rootfs && stat(c->rootfs, &st) < 0)
                        diag_add(d, c->file, c->line_rootfs, "rootfs: '%s' does not exist", c->rootfs);
                else if (c->rootfs && !S_ISDIR(st.st_mode))
                        diag_add(d, c->file, c->line_rootfs, "rootfs: '%s' is not a directory", c->rootfs);
                devices_preflight(c, d);
                secrets_preflight(c, d);
        }
        /* An image a template block names must be there (its content is
         * read and verified at the first start that needs it). */
        for (size_t i = 0; i < set->n_templates; i++) {
                const struct spec_template *t = set->templates[i];
                const char *colon = t->from ? strchr(t->from, ':') : NULL;
                if (!colon || colon[1] != '/')
                        continue; /* reported by the parser */
                _cleanup_free_ char *path = strdup(colon + 1);
                char *tag = path ? strrchr(path, ':') : NULL;
                struct stat st;
                if (path && stat(path, &st) < 0 && tag && tag > strrchr(path, '/')) {
                        *tag = 0; /* PATH:TAG */
                }
                if (path && stat(path, &st) < 0)
                        diag_add(d, t->file, t->line_from, "from: '%s' does not exist", path);
        }
        (void) hostports_check(set, d);
        (void) preflight_host_interfaces(set, d);
        return d->n + d->dropped - before;
}

/* An operator's bridge must be one; a macvlan/ipvlan parent must exist. */
static void host_interface(const char *file, int line, const char *what, const char *name, bool bridge,
                           struct diag *d)
{
        bool foreign = false, ours = false;
        int r = net_host_link(name, &foreign, &ours);
        if (r == -ENODEV)
                diag_add(d, file, line, "%s: host interface '%s' does not exist on this host", what, name);
        else if (r < 0)
                diag_add(d, file, line, "%s: cannot look up host interface '%s': %s", what, name, strerror(-r));
        else if (bridge && ours)
                diag_add(d, file, line, "%s: '%s' is the bridge of a berth network: name the network instead", what,
                         name);
        else if (bridge && !foreign)
                diag_add(d, file, line, "%s: host interface '%s' exists but is not a bridge", what, name);
}

size_t preflight_host_interfaces(const struct spec_set *set, struct diag *d)
{
        size_t before = d->n + d->dropped;
        for (size_t i = 0; i < set->n_containers; i++) {
                const struct spec_container *c = set->containers[i];
                if (c->net_mode == NET_MACVLAN || c->net_mode == NET_IPVLAN) {
                        if (c->parent)
                                host_interface(c->file, c->line_parent, "network.parent", c->parent, false, d);
                } else if (c->net_mode == NET_BRIDGE && spec_container_external_net(c) && c->network &&
                           !spec_set_find_network(set, c->network))
                        host_interface(c->file, c->line_network, "network.bridge", c->network, true, d);
                for (size_t k = 0; k < c->n_attach; k++) {
                        const struct spec_attach *a = &c->attach[k];
                        if (!spec_attach_external(a) || !a->network || spec_set_find_network(set, a->network))
                                continue;
                        host_interface(c->file, a->line, "network", a->network, a->mode == NET_BRIDGE, d);
                }
        }
        return d->n + d->dropped - before;
}

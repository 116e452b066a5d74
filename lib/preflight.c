#include "preflight.h"

#include <sys/stat.h>
#include <unistd.h>

#include "devices.h"
#include "hostports.h"
#include "secrets.h"
#include "template.h"
#include "util.h"

static bool template_is_known(const char *state_dir, const char *scripts_dir, const char *name)
{
        _cleanup_free_ char *built = NULL;
        if (state_dir && template_lookup(state_dir, name, &built) == 0)
                return true;
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
        (void) hostports_check(set, d);
        return d->n + d->dropped - before;
}

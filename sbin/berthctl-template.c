/* berthctl template: the cached template root file systems of a state
 * directory (list, build, import, remove). Never asks berthd. */
#include <stdio.h>
#include <string.h>

#include "berthctl.h"
#include "image.h"
#include "template.h"

static int template_list_verb(const char *state)
{
        char **names = NULL;
        int r = template_list(state, &names);
        if (r < 0) {
                fprintf(stderr, "berthctl template list: %s\n", strerror(-r));
                return 1;
        }
        /* NAME and what its import did with device nodes and setuid/setgid
         * files: dropped, kept (--keep-special) or unknown (made before
         * berth recorded it). */
        static const char *const special[] = {
                [TEMPLATE_SPECIAL_UNKNOWN] = "unknown",
                [TEMPLATE_SPECIAL_DROPPED] = "dropped",
                [TEMPLATE_SPECIAL_KEPT] = "kept",
        };
        for (size_t i = 0; names && names[i]; i++)
                printf("%s\t%s\n", names[i], special[template_special_files(state, names[i])]);
        strv_free(names);
        /* Images: NAME, dropped, then their layers (base first), how many
         * images share each, and the bytes shared with other images. */
        names = NULL;
        r = image_list(state, &names);
        for (size_t i = 0; r >= 0 && names[i]; i++) {
                struct image_info *info = NULL;
                if (image_read(state, names[i], &info) < 0) {
                        printf("%s\tunreadable\n", names[i]);
                        continue;
                }
                unsigned shared = 0;
                printf("%s\tdropped\timage %s\tlayers %zu", names[i], info->source, strv_length(info->layers));
                for (size_t k = 0; info->layers[k]; k++) {
                        unsigned users = image_layer_users(state, info->layers[k]);
                        printf("%s%.19s(x%u)", k ? "," : "\t", info->layers[k], users);
                        shared += users > 1;
                }
                printf("\tshared-layers %u\n", shared);
                image_info_free(info);
        }
        strv_free(names);
        return 0;
}

static int template_build_verb(const char *state, const char *name)
{
        char *path = NULL;
        int r = template_ensure(state, name, &path);
        if (r == -ENOENT)
                fprintf(stderr, "berthctl template build: no template script '%s.sh'\n", name);
        else if (r < 0)
                fprintf(stderr, "berthctl template build: '%s': %s\n", name, strerror(-r));
        else
                printf("%s\n", path);
        free(path);
        return r < 0 ? 1 : 0;
}

static int template_import_verb(const char *state, const char *name, const char *from, bool keep_special)
{
        if (!name_is_valid(name)) {
                fprintf(stderr, "berthctl template import: '%s' is not a valid name ([a-z0-9][a-z0-9_.-]{0,62})\n",
                        name);
                return 2;
        }
        if (image_source_is_image(from)) {
                if (keep_special) {
                        fprintf(stderr, "berthctl template import: --keep-special is not for images (their "
                                        "layers are shared)\n");
                        return 2;
                }
                char *path = NULL;
                if (template_lookup(state, name, &path) == 0) {
                        free(path);
                        fprintf(stderr, "berthctl template import: template '%s' exists (remove it first)\n", name);
                        return 1;
                }
                struct error e = { 0 };
                int q = image_import(state, name, from, &e);
                if (q == -EEXIST)
                        fprintf(stderr, "berthctl template import: template '%s' exists (remove it first)\n", name);
                else if (q < 0)
                        fprintf(stderr, "berthctl template import: %s\n", error_message(&e));
                return q < 0 ? 1 : 0;
        }
        struct image_info *img = NULL;
        if (image_read(state, name, &img) == 0) {
                image_info_free(img);
                fprintf(stderr, "berthctl template import: template '%s' exists (remove it first)\n", name);
                return 1;
        }
        int r = template_import(state, name, from, keep_special);
        if (r == -EEXIST)
                fprintf(stderr, "berthctl template import: template '%s' exists (remove it first)\n", name);
        else if (r == -EIO)
                fprintf(stderr, "berthctl template import: cannot unpack '%s'\n", from);
        else if (r < 0)
                fprintf(stderr, "berthctl template import: '%s': %s\n", from, strerror(-r));
        return r < 0 ? 1 : 0;
}

static int template_remove_verb(const char *state, const char *name)
{
        int r = template_remove(state, name);
        if (r == -ENOENT)
                r = image_remove(state, name);
        if (r == -ENOENT)
                fprintf(stderr, "berthctl template remove: no template '%s'\n", name);
        else if (r < 0)
                fprintf(stderr, "berthctl template remove: '%s': %s\n", name, strerror(-r));
        return r < 0 ? 1 : 0;
}

int verb_template(struct ctl_args *a)
{
        const char *state = a->state ? a->state : DEFAULT_STATE_DIR;
        const char *what = a->argv[0];
        int rest = a->argc - 1;
        char **args = a->argv + 1;
        if (a->keep_special && !streq(what, "import")) {
                fprintf(stderr, "berthctl template: --keep-special is for import only\n");
                return 2;
        }
        if ((streq(what, "list") || streq(what, "ls")) && rest == 0)
                return template_list_verb(state);
        if (streq(what, "build") && rest == 1)
                return template_build_verb(state, args[0]);
        if (streq(what, "import") && rest == 2)
                return template_import_verb(state, args[0], args[1], a->keep_special);
        if (streq(what, "remove") && rest == 1)
                return template_remove_verb(state, args[0]);
        if (streq(what, "logs") && rest == 1)
                return template_logs_verb(state, args[0]);
        fprintf(stderr, "usage: berthctl template [--state-dir DIR] list | build NAME | import [--keep-special] NAME DIR|FILE|IMAGE | remove NAME | logs NAME\n"
                        "  IMAGE: oci-archive:FILE, oci:DIR[:TAG] or docker-archive:FILE[:TAG]\n");
        return 2;
}

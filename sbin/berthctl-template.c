/* berthctl template: the cached template root file systems of a state
 * directory (list, build, import, remove, prune). Asks berthd only where
 * its directories are; the store's writers (import, remove, prune) take
 * the store lock that every start holds while it resolves its template
 * (lib/tstore.h), so none races a start. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "diag.h"
#include "tstore.h"

#include "berthctl.h"
#include "image.h"
#include "template.h"

static void human_size(uint64_t b, char *buf, size_t size)
{
        static const char *const units[] = { "B", "K", "M", "G", "T" };
        double v = (double) b;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, size, "%lluB", (unsigned long long) b);
        else
                snprintf(buf, size, "%.1f%s", v, units[u]);
}

static json_object *strv_to_json(char *const *v)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

static const char *const special_names[] = {
        [TEMPLATE_SPECIAL_UNKNOWN] = "unknown",
        [TEMPLATE_SPECIAL_DROPPED] = "dropped",
        [TEMPLATE_SPECIAL_KEPT] = "kept",
};

/* The definitions in conf (NULL when conf does not exist). 0, or 1 with
 * the error printed (definitions that do not load cannot say who uses a
 * template). */
static int load_definitions(const char *verb, const char *conf, struct spec_set *set, bool *have)
{
        struct diag d = { 0 };
        *have = false;
        struct stat st;
        if (stat(conf, &st) < 0 && errno == ENOENT)
                return 0;
        int r = config_load_dir(conf, set, &d);
        if (r < 0) {
                fprintf(stderr, "berthctl template %s: the definitions in %s do not load (%s%s): cannot tell which "
                     "containers use a template (berthctl check)\n",
                     verb, conf, d.n ? d.entries[0].message : strerror(-r), d.n > 1 ? ", ..." : "");
                diag_done(&d);
                spec_set_done(set);
                return 1;
        }
        diag_done(&d);
        *have = true;
        return 0;
}

static int template_list_verb(const char *state, const char *conf)
{
        struct spec_set set = { 0 };
        bool have = false;
        /* Listing goes on without them (definitions_read false). */
        if (load_definitions("list", conf, &set, &have))
                fprintf(stderr, "berthctl template list: the definitions' users are not shown\n");
        struct tstore_entry *v = NULL;
        size_t n = 0;
        int r = tstore_list(state, have ? &set : NULL, &v, &n);
        if (r < 0) {
                fail("berthctl template list: cannot read the templates in %s: %s", state, strerror(-r));
                spec_set_done(&set);
                return 1;
        }
        if (json_enabled()) {
                json_object *arr = json_object_new_array();
                for (size_t i = 0; i < n; i++) {
                        const struct tstore_entry *t = &v[i];
                        json_object *o = json_object_new_object();
                        json_object_object_add(o, "name", json_object_new_string(t->name));
                        json_object_object_add(o, "kind", json_object_new_string(t->kind));
                        json_object_object_add(o, "source", t->source ? json_object_new_string(t->source) : NULL);
                        json_object_object_add(o, "size", json_object_new_uint64(t->bytes));
                        json_object_object_add(o, "layer_count",
                                               json_object_new_int64(t->layers ? (int64_t) strv_length(t->layers) : 1));
                        json_object_object_add(o, "layers", strv_to_json(t->layers));
                        json_object_object_add(o, "shared_bytes", json_object_new_uint64(t->shared_bytes));
                        json_object_object_add(o, "created_usec", json_object_new_uint64(t->time_usec));
                        json_object_object_add(o, "special_files", json_object_new_string(special_names[t->special]));
                        json_object_object_add(o, "devices_dropped", json_object_new_int64(t->devices_dropped));
                        json_object_object_add(o, "setuid_cleared", json_object_new_int64(t->setuid_cleared));
                        json_object_object_add(o, "declared", json_object_new_boolean(t->declared));
                        json_object_object_add(o, "definitions", strv_to_json(t->definitions));
                        json_object_object_add(o, "running", strv_to_json(t->running));
                        json_object_array_add(arr, o);
                }
                json_object *doc = json_object_new_object();
                json_object_object_add(doc, "templates", arr);
                json_object_object_add(doc, "definitions_read", json_object_new_boolean(have));
                print_json(doc);
                json_object_put(doc);
        } else {
                if (n > 0)
                        printf("%-20s %-8s %9s %6s %9s %-8s %-20s %s\n", "NAME", "KIND", "SIZE", "LAYERS", "SHARED",
                               "SPECIAL", "CREATED", "USED BY");
                for (size_t i = 0; i < n; i++) {
                        const struct tstore_entry *t = &v[i];
                        char size[32], shared[32], when[32] = "-";
                        human_size(t->bytes, size, sizeof size);
                        human_size(t->shared_bytes, shared, sizeof shared);
                        if (t->time_usec) {
                                time_t sec = (time_t) (t->time_usec / 1000000);
                                struct tm tm;
                                gmtime_r(&sec, &tm);
                                strftime(when, sizeof when, "%Y-%m-%d %H:%M:%SZ", &tm);
                        }
                        struct strbuf b = { 0 };
                        for (size_t k = 0; t->definitions[k]; k++)
                                strbuf_printf(&b, "%s%s", k ? "," : "defined:", t->definitions[k]);
                        for (size_t k = 0; t->running[k]; k++)
                                strbuf_printf(&b, "%s%s", k ? "," : b.len ? " running:" : "running:", t->running[k]);
                        if (!b.len && t->declared)
                                strbuf_printf(&b, "declared");
                        printf("%-20s %-8s %9s %6zu %9s %-8s %-20s %s\n", t->name, t->kind, size,
                               t->layers ? strv_length(t->layers) : 1, shared, special_names[t->special], when,
                               b.p ? b.p : "-");
                        free(b.p);
                }
        }
        tstore_entries_free(v, n);
        spec_set_done(&set);
        return 0;
}

static void print_report(const char *verb, const struct tstore_report *rep)
{
        char freed[32];
        human_size(rep->bytes, freed, sizeof freed);
        if (json_enabled()) {
                json_object *o = json_object_new_object();
                json_object_object_add(o, "templates", strv_to_json(rep->templates));
                json_object_object_add(o, "layers", strv_to_json(rep->layers));
                json_object_object_add(o, "bytes_freed", json_object_new_uint64(rep->bytes));
                print_json(o);
                json_object_put(o);
                return;
        }
        for (size_t i = 0; rep->templates && rep->templates[i]; i++)
                printf("removed template %s\n", rep->templates[i]);
        for (size_t i = 0; rep->layers && rep->layers[i]; i++)
                printf("removed layer %s\n", rep->layers[i]);
        printf("%s: %zu templates, %zu layers, %s freed (%llu bytes)\n", verb, strv_length(rep->templates),
               strv_length(rep->layers), freed, (unsigned long long) rep->bytes);
}

static int template_prune_verb(const char *state, const char *conf)
{
        struct spec_set set = { 0 };
        bool have = false;
        if (load_definitions("prune", conf, &set, &have))
                return 1;
        struct tstore_report rep = { 0 };
        struct error e = { 0 };
        int r = tstore_prune(state, have ? &set : NULL, &rep, &e);
        if (r < 0)
                fail("berthctl template prune: %s", error_message(&e));
        if (rep.templates || rep.layers || r >= 0)
                print_report("prune", &rep);
        tstore_report_done(&rep);
        spec_set_done(&set);
        return r < 0 ? 1 : 0;
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

static int template_remove_verb(const char *state, const char *conf, const char *name)
{
        struct spec_set set = { 0 };
        bool have = false;
        if (load_definitions("remove", conf, &set, &have))
                return 1;
        struct tstore_report rep = { 0 };
        struct error e = { 0 };
        int r = tstore_remove(state, have ? &set : NULL, name, &rep, &e);
        if (r < 0)
                fail("berthctl template remove: %s", error_message(&e));
        if (rep.templates)
                print_report("remove", &rep);
        tstore_report_done(&rep);
        spec_set_done(&set);
        return r < 0 ? 1 : 0;
}

int verb_template(struct ctl_args *a)
{
        /* --state-dir and --conf-dir, else berthd's when one answers (so
         * that remove and prune see the definitions it runs), else the
         * defaults. */
        const char *state = a->state, *conf = a->conf;
        resolve_dirs(&conf, &state);
        const char *what = a->argv[0];
        int rest = a->argc - 1;
        char **args = a->argv + 1;
        if (a->keep_special && !streq(what, "import")) {
                fprintf(stderr, "berthctl template: --keep-special is for import only\n");
                return 2;
        }
        if ((streq(what, "list") || streq(what, "ls")) && rest == 0)
                return template_list_verb(state, conf);
        if (streq(what, "prune") && rest == 0)
                return template_prune_verb(state, conf);
        if (streq(what, "build") && rest == 1)
                return template_build_verb(state, args[0]);
        if (streq(what, "import") && rest == 2)
                return template_import_verb(state, args[0], args[1], a->keep_special);
        if (streq(what, "remove") && rest == 1)
                return template_remove_verb(state, conf, args[0]);
        if (streq(what, "logs") && rest == 1)
                return template_logs_verb(state, args[0]);
        fprintf(stderr, "usage: berthctl template [--state-dir DIR] list | build NAME | import [--keep-special] NAME DIR|FILE|IMAGE | remove NAME | prune | logs NAME\n"
                        "  IMAGE: oci-archive:FILE, oci:DIR[:TAG] or docker-archive:FILE[:TAG]\n");
        return 2;
}

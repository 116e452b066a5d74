/* berthctl: the operator's command line. Argument handling only; the work
 * is done in libberth. */
#include <getopt.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "util.h"

#define DEFAULT_CONF_DIR "/etc/containers.d"

struct verb {
        const char *name;
        int (*fn)(int argc, char **argv);
        const char *usage;
};

static void print_json(json_object *o)
{
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

#define CHECK_USAGE "usage: berthctl check [-c|--conf-dir DIR] [--json]"

static int verb_check(int argc, char **argv)
{
        static const struct option opts[] = {
                { "conf-dir", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, 'j' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *dir = DEFAULT_CONF_DIR;
        bool json = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) >= 0)
                switch (c) {
                case 'c':
                        dir = optarg;
                        break;
                case 'j':
                        json = true;
                        break;
                case 'h':
                        printf("%s\n", CHECK_USAGE);
                        return 0;
                default:
                        fprintf(stderr, "%s\n", CHECK_USAGE);
                        return 2;
                }
        if (optind < argc) {
                fprintf(stderr, "berthctl check: unexpected argument '%s'\n%s\n", argv[optind], CHECK_USAGE);
                return 2;
        }
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(dir, &set, &d);
        if (json) {
                json_object *o = json_object_new_object(), *errs = json_object_new_array();
                json_object_object_add(o, "ok", json_object_new_boolean(r == 0));
                json_object_object_add(o, "containers", json_object_new_int64((int64_t) set.n_containers));
                json_object_object_add(o, "networks", json_object_new_int64((int64_t) set.n_networks));
                for (size_t i = 0; i < d.n; i++) {
                        json_object *e = json_object_new_object();
                        json_object_object_add(e, "file", d.entries[i].file ? json_object_new_string(d.entries[i].file) : NULL);
                        json_object_object_add(e, "line", json_object_new_int(d.entries[i].line));
                        json_object_object_add(e, "message", json_object_new_string(d.entries[i].message));
                        json_object_array_add(errs, e);
                }
                json_object_object_add(o, "errors", errs);
                if (d.dropped)
                        json_object_object_add(o, "errors_not_shown", json_object_new_int64((int64_t) d.dropped));
                print_json(o);
                json_object_put(o);
        } else if (r == 0) {
                printf("ok: %zu container%s, %zu network%s\n", set.n_containers, set.n_containers == 1 ? "" : "s",
                       set.n_networks, set.n_networks == 1 ? "" : "s");
        } else {
                char buf[2048];
                for (size_t i = 0; i < d.n; i++)
                        fprintf(stderr, "%s\n", diag_format(&d.entries[i], buf, sizeof buf));
                if (d.dropped)
                        fprintf(stderr, "... and %zu more errors\n", d.dropped);
                fprintf(stderr, "%zu error%s in %s\n", d.n + d.dropped, d.n + d.dropped == 1 ? "" : "s", dir);
        }
        spec_set_done(&set);
        diag_done(&d);
        return r == 0 ? 0 : 1;
}

static const struct verb verbs[] = {
        { "check", verb_check, "check [-c DIR] [--json]      validate the definitions in DIR" },
};

static void usage(FILE *f)
{
        fprintf(f, "usage: berthctl VERB [OPTIONS] [ARGS]\n\nverbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s\n", verbs[i].usage);
}

int main(int argc, char **argv)
{
        log_set_ident("berthctl");
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (streq(argv[1], "-h") || streq(argv[1], "--help") || streq(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (streq(argv[1], "--version")) {
                printf("berthctl %s\n", BERTH_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].fn(argc - 1, argv + 1);
        fprintf(stderr, "berthctl: unknown verb '%s' (see berthctl --help)\n", argv[1]);
        return 2;
}

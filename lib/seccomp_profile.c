/* Docker / OCI seccomp profiles: JSON → checked rules → libseccomp → BPF.
 * The semantics follow moby (profiles/seccomp) and runc: rules apply in
 * file order, an entry's "args" must all match (when two of them test the
 * same argument each becomes a rule of its own, as runc does), "includes"
 * needs every listed capability, "excludes" skips on any. */
#include "seccomp_profile.h"

#include <ctype.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "parse.h"
#include "util.h"

#define ERRNO_MAX 4095 /* the kernel's MAX_ERRNO: larger SECCOMP_RET_DATA is not an errno */
#define JSON_DEPTH_MAX 16

/* Architectures by every name a profile uses for them: the OCI name
 * ("architectures", "archMap") and Go's GOARCH plus moby's own aliases
 * ("includes"/"excludes" "arches", which moby compares with GOARCH).
 * token 0: the installed libseccomp does not know the architecture. */
struct arch_name {
        const char *oci;
        const char *aliases[3];
        uint32_t token;
};

#ifndef SCMP_ARCH_LOONGARCH64
#define SCMP_ARCH_LOONGARCH64 0
#endif
#ifndef SCMP_ARCH_M68K
#define SCMP_ARCH_M68K 0
#endif
#ifndef SCMP_ARCH_SH
#define SCMP_ARCH_SH 0
#endif
#ifndef SCMP_ARCH_SHEB
#define SCMP_ARCH_SHEB 0
#endif

static const struct arch_name arches[] = {
        { "SCMP_ARCH_X86", { "386", "x86", "i386" }, SCMP_ARCH_X86 },
        { "SCMP_ARCH_X86_64", { "amd64", "x86_64" }, SCMP_ARCH_X86_64 },
        { "SCMP_ARCH_X32", { "x32" }, SCMP_ARCH_X32 },
        { "SCMP_ARCH_ARM", { "arm" }, SCMP_ARCH_ARM },
        { "SCMP_ARCH_AARCH64", { "arm64", "aarch64" }, SCMP_ARCH_AARCH64 },
        { "SCMP_ARCH_MIPS", { "mips" }, SCMP_ARCH_MIPS },
        { "SCMP_ARCH_MIPS64", { "mips64" }, SCMP_ARCH_MIPS64 },
        { "SCMP_ARCH_MIPS64N32", { "mips64n32" }, SCMP_ARCH_MIPS64N32 },
        { "SCMP_ARCH_MIPSEL", { "mipsle", "mipsel" }, SCMP_ARCH_MIPSEL },
        { "SCMP_ARCH_MIPSEL64", { "mips64le", "mipsel64" }, SCMP_ARCH_MIPSEL64 },
        { "SCMP_ARCH_MIPSEL64N32", { "mips64len32", "mipsel64n32" }, SCMP_ARCH_MIPSEL64N32 },
        { "SCMP_ARCH_PPC", { "ppc" }, SCMP_ARCH_PPC },
        { "SCMP_ARCH_PPC64", { "ppc64" }, SCMP_ARCH_PPC64 },
        { "SCMP_ARCH_PPC64LE", { "ppc64le" }, SCMP_ARCH_PPC64LE },
        { "SCMP_ARCH_S390", { "s390" }, SCMP_ARCH_S390 },
        { "SCMP_ARCH_S390X", { "s390x" }, SCMP_ARCH_S390X },
        { "SCMP_ARCH_PARISC", { "parisc" }, SCMP_ARCH_PARISC },
        { "SCMP_ARCH_PARISC64", { "parisc64" }, SCMP_ARCH_PARISC64 },
        { "SCMP_ARCH_RISCV64", { "riscv64" }, SCMP_ARCH_RISCV64 },
        { "SCMP_ARCH_LOONGARCH64", { "loong64", "loongarch64" }, SCMP_ARCH_LOONGARCH64 },
        { "SCMP_ARCH_M68K", { "m68k" }, SCMP_ARCH_M68K },
        { "SCMP_ARCH_SH", { "sh" }, SCMP_ARCH_SH },
        { "SCMP_ARCH_SHEB", { "sheb" }, SCMP_ARCH_SHEB },
};

static const struct {
        const char *name;
        enum scmp_compare op;
} compare_ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* Actions; those that carry a value (errno, trace message) take the
 * entry's "errnoRet", else EPERM as runc does. */
enum action_kind { ACT_PLAIN, ACT_ERRNO, ACT_TRACE };
static const struct {
        const char *name;
        enum action_kind kind;
        uint32_t action;
} actions[] = {
        { "SCMP_ACT_ALLOW", ACT_PLAIN, SCMP_ACT_ALLOW },
        { "SCMP_ACT_ERRNO", ACT_ERRNO, SCMP_ACT_ERRNO(0) },
        { "SCMP_ACT_KILL", ACT_PLAIN, SCMP_ACT_KILL },
        { "SCMP_ACT_KILL_THREAD", ACT_PLAIN, SCMP_ACT_KILL_THREAD },
        { "SCMP_ACT_KILL_PROCESS", ACT_PLAIN, SCMP_ACT_KILL_PROCESS },
        { "SCMP_ACT_TRAP", ACT_PLAIN, SCMP_ACT_TRAP },
        { "SCMP_ACT_LOG", ACT_PLAIN, SCMP_ACT_LOG },
        { "SCMP_ACT_TRACE", ACT_TRACE, SCMP_ACT_TRACE(0) },
};

struct condition {
        bool set;
        uint64_t caps;     /* capability bits named */
        uint64_t arches;   /* bit i = arches[i] */
        bool min_kernel;   /* includes only */
        unsigned major, minor;
};

struct rule {
        size_t index; /* in "syscalls", for messages */
        char **names;
        uint32_t action;
        struct scmp_arg_cmp args[SECCOMP_PROFILE_ARGS_MAX];
        unsigned n_args;
        bool split_args; /* two args test the same argument: one rule each */
        struct condition includes, excludes;
};

struct seccomp_profile {
        char *source;
        uint32_t default_action;
        uint64_t architectures; /* bit i = arches[i] */
        bool has_arch_map;
        uint64_t arch_map_native[ELEMENTSOF(arches)]; /* per native arch: its sub-architectures */
        struct rule *rules;
        size_t n_rules;
};

_Static_assert(ELEMENTSOF(arches) <= 64, "architecture sets are 64-bit masks");

struct seccomp_profile *seccomp_profile_free(struct seccomp_profile *p)
{
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_rules; i++)
                strv_free(p->rules[i].names);
        free(p->rules);
        free(p->source);
        free(p);
        return NULL;
}

/* ---- messages ---- */

struct parser {
        const char *source;
        char *err;
        size_t n;
};

static int fail(struct parser *ps, int r, const char *path, const char *fmt, ...) _printf_(4, 5);
static int fail(struct parser *ps, int r, const char *path, const char *fmt, ...)
{
        if (ps->n == 0)
                return r;
        int k = path ? snprintf(ps->err, ps->n, "%s: %s: ", ps->source, path)
                     : snprintf(ps->err, ps->n, "%s: ", ps->source);
        if (k >= 0 && (size_t) k < ps->n) {
                va_list ap;
                va_start(ap, fmt);
                (void) vsnprintf(ps->err + k, ps->n - (size_t) k, fmt, ap);
                va_end(ap);
        }
        return r;
}

static const char *type_name(json_object *o)
{
        switch (json_object_get_type(o)) {
        case json_type_null:
                return "null";
        case json_type_boolean:
                return "a boolean";
        case json_type_double:
        case json_type_int:
                return "a number";
        case json_type_object:
                return "an object";
        case json_type_array:
                return "an array";
        case json_type_string:
                return "a string";
        }
        return "a value";
}

/* ---- typed access: each returns 0 or a fail() ---- */

static int want(struct parser *ps, json_object *o, json_type t, const char *path, const char *what)
{
        if (json_object_is_type(o, t))
                return 0;
        return fail(ps, -EINVAL, path, "expected %s, not %s", what, type_name(o));
}

static int get_string(struct parser *ps, json_object *o, const char *path, const char **ret)
{
        int r = want(ps, o, json_type_string, path, "a string");
        if (r < 0)
                return r;
        const char *s = json_object_get_string(o);
        if (strlen(s) != (size_t) json_object_get_string_len(o))
                return fail(ps, -EINVAL, path, "contains a NUL character");
        *ret = s;
        return 0;
}

static int get_u64(struct parser *ps, json_object *o, const char *path, uint64_t max, uint64_t *ret)
{
        if (!json_object_is_type(o, json_type_int))
                return fail(ps, -EINVAL, path, "expected an integer, not %s", type_name(o));
        /* json-c keeps integers above INT64_MAX as uint64 (get_int64
         * then clamps to INT64_MAX) and negative ones as int64. */
        if (json_object_get_int64(o) < 0)
                return fail(ps, -EINVAL, path, "%" PRId64 " is negative", json_object_get_int64(o));
        uint64_t v = json_object_get_uint64(o);
        if (v > max)
                return fail(ps, -EINVAL, path, "%" PRIu64 " is larger than %" PRIu64, v, max);
        *ret = v;
        return 0;
}

static void path_join(char *buf, size_t size, const char *base, const char *key)
{
        snprintf(buf, size, "%s%s%s", base ? base : "", base ? "." : "", key);
}

/* ---- names ---- */

static int arch_lookup_oci(const char *s)
{
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (streq(arches[i].oci, s))
                        return (int) i;
        return -1;
}

static int arch_lookup_any(const char *s)
{
        int i = arch_lookup_oci(s);
        if (i >= 0)
                return i;
        for (size_t a = 0; a < ELEMENTSOF(arches); a++)
                for (size_t k = 0; k < ELEMENTSOF(arches[a].aliases) && arches[a].aliases[k]; k++)
                        if (streq(arches[a].aliases[k], s))
                                return (int) a;
        return -1;
}

static int arch_index_of_token(uint32_t token)
{
        for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                if (arches[i].token != 0 && arches[i].token == token)
                        return (int) i;
        return -1;
}

/* An OCI architecture name into *mask; known_only: refuse one the
 * installed libseccomp cannot filter for. */
static int parse_arch(struct parser *ps, json_object *o, const char *path, bool known_only, int *ret)
{
        const char *s;
        int r = get_string(ps, o, path, &s);
        if (r < 0)
                return r;
        int i = arch_lookup_oci(s);
        if (i < 0)
                return fail(ps, -EINVAL, path, "'%s' is not a seccomp architecture (use SCMP_ARCH_X86_64, SCMP_ARCH_X86, ...)",
                            s);
        if (known_only && arches[i].token == 0)
                return fail(ps, -EINVAL, path, "'%s' is not supported by this libseccomp", s);
        *ret = i;
        return 0;
}

static int parse_action(struct parser *ps, json_object *o, const char *path, json_object *errno_ret,
                        const char *errno_path, uint32_t *ret)
{
        const char *s;
        int r = get_string(ps, o, path, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(actions); i++) {
                if (!streq(actions[i].name, s))
                        continue;
                uint64_t v = EPERM;
                if (errno_ret) {
                        if (actions[i].kind == ACT_PLAIN)
                                return fail(ps, -EINVAL, errno_path, "only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take one, not %s",
                                            s);
                        r = get_u64(ps, errno_ret, errno_path, ERRNO_MAX, &v);
                        if (r < 0)
                                return r;
                }
                *ret = actions[i].kind == ACT_PLAIN ? actions[i].action : actions[i].action | (uint32_t) v;
                return 0;
        }
        if (streq(s, "SCMP_ACT_NOTIFY"))
                return fail(ps, -EINVAL, path, "'SCMP_ACT_NOTIFY' is not supported (berth runs no seccomp agent)");
        return fail(ps, -EINVAL, path, "'%s' is not a seccomp action", s);
}

/* ---- sections ---- */

static int parse_architectures(struct parser *ps, json_object *top, struct seccomp_profile *p)
{
        json_object *list = NULL, *map = NULL;
        bool have_list = json_object_object_get_ex(top, "architectures", &list) && list;
        bool have_map = json_object_object_get_ex(top, "archMap", &map) && map;
        if (have_list && have_map && json_object_array_length(list) > 0 && json_object_array_length(map) > 0)
                return fail(ps, -EINVAL, "archMap", "cannot be combined with \"architectures\"");
        char path[96];
        int r;
        if (have_list) {
                if ((r = want(ps, list, json_type_array, "architectures", "an array of architectures")) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(list); i++) {
                        snprintf(path, sizeof path, "architectures[%zu]", i);
                        int a;
                        if ((r = parse_arch(ps, json_object_array_get_idx(list, i), path, true, &a)) < 0)
                                return r;
                        p->architectures |= UINT64_C(1) << a;
                }
        }
        if (!have_map)
                return 0;
        if ((r = want(ps, map, json_type_array, "archMap", "an array of objects")) < 0)
                return r;
        p->has_arch_map = json_object_array_length(map) > 0;
        for (size_t i = 0; i < json_object_array_length(map); i++) {
                json_object *e = json_object_array_get_idx(map, i), *arch, *subs = NULL;
                snprintf(path, sizeof path, "archMap[%zu]", i);
                if ((r = want(ps, e, json_type_object, path, "an object")) < 0)
                        return r;
                if (!json_object_object_get_ex(e, "architecture", &arch))
                        return fail(ps, -EINVAL, path, "\"architecture\" is missing");
                snprintf(path, sizeof path, "archMap[%zu].architecture", i);
                int a;
                /* Entries for other machines may name architectures this
                 * libseccomp lacks: only the native entry is ever used. */
                if ((r = parse_arch(ps, arch, path, false, &a)) < 0)
                        return r;
                uint64_t set = UINT64_C(1) << a;
                if (json_object_object_get_ex(e, "subArchitectures", &subs) && subs) {
                        snprintf(path, sizeof path, "archMap[%zu].subArchitectures", i);
                        if ((r = want(ps, subs, json_type_array, path, "an array of architectures")) < 0)
                                return r;
                        for (size_t k = 0; k < json_object_array_length(subs); k++) {
                                snprintf(path, sizeof path, "archMap[%zu].subArchitectures[%zu]", i, k);
                                int s;
                                if ((r = parse_arch(ps, json_object_array_get_idx(subs, k), path, false, &s)) < 0)
                                        return r;
                                set |= UINT64_C(1) << s;
                        }
                }
                p->arch_map_native[a] |= set;
        }
        return 0;
}

static int parse_condition(struct parser *ps, json_object *o, const char *base, bool includes, struct condition *c)
{
        char path[128];
        int r = want(ps, o, json_type_object, base, "an object");
        if (r < 0)
                return r;
        json_object *v;
        if (json_object_object_get_ex(o, "caps", &v) && v) {
                path_join(path, sizeof path, base, "caps");
                if ((r = want(ps, v, json_type_array, path, "an array of capabilities")) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        snprintf(path, sizeof path, "%s.caps[%zu]", base, i);
                        const char *s;
                        int cap;
                        if ((r = get_string(ps, json_object_array_get_idx(v, i), path, &s)) < 0)
                                return r;
                        if (parse_capability(s, &cap) < 0 || cap < 0 || cap > 63)
                                return fail(ps, -EINVAL, path, "'%s' is not a capability (use CAP_SYS_ADMIN, ...)", s);
                        c->caps |= UINT64_C(1) << cap;
                        c->set = true;
                }
        }
        if (json_object_object_get_ex(o, "arches", &v) && v) {
                path_join(path, sizeof path, base, "arches");
                if ((r = want(ps, v, json_type_array, path, "an array of architectures")) < 0)
                        return r;
                for (size_t i = 0; i < json_object_array_length(v); i++) {
                        snprintf(path, sizeof path, "%s.arches[%zu]", base, i);
                        const char *s;
                        if ((r = get_string(ps, json_object_array_get_idx(v, i), path, &s)) < 0)
                                return r;
                        int a = arch_lookup_any(s);
                        if (a < 0)
                                return fail(ps, -EINVAL, path, "'%s' is not an architecture (use amd64, arm64, ...)", s);
                        c->arches |= UINT64_C(1) << a;
                        c->set = true;
                }
        }
        if (json_object_object_get_ex(o, "minKernel", &v) && v) {
                path_join(path, sizeof path, base, "minKernel");
                if (!includes)
                        return fail(ps, -EINVAL, path, "only \"includes\" can name a kernel version");
                const char *s;
                if ((r = get_string(ps, v, path, &s)) < 0)
                        return r;
                unsigned major, minor;
                int end = 0;
                if (sscanf(s, "%3u.%3u%n", &major, &minor, &end) != 2 || s[end] != 0 || !isdigit((unsigned char) s[0]))
                        return fail(ps, -EINVAL, path, "'%s' is not a kernel version (use 4.8)", s);
                c->min_kernel = c->set = true;
                c->major = major;
                c->minor = minor;
        }
        return 0;
}

static int parse_args(struct parser *ps, json_object *args, const char *base, struct rule *rule)
{
        char path[192];
        int r = want(ps, args, json_type_array, base, "an array of argument tests");
        if (r < 0)
                return r;
        size_t n = json_object_array_length(args);
        if (n > SECCOMP_PROFILE_ARGS_MAX)
                return fail(ps, -E2BIG, base, "more than %d argument tests", SECCOMP_PROFILE_ARGS_MAX);
        unsigned seen = 0;
        for (size_t i = 0; i < n; i++) {
                json_object *a = json_object_array_get_idx(args, i), *v;
                char at[160];
                snprintf(at, sizeof at, "%s[%zu]", base, i);
                if ((r = want(ps, a, json_type_object, at, "an object")) < 0)
                        return r;
                uint64_t index, value, value_two = 0;
                const char *op;
                if (!json_object_object_get_ex(a, "index", &v))
                        return fail(ps, -EINVAL, at, "\"index\" is missing");
                path_join(path, sizeof path, at, "index");
                if ((r = get_u64(ps, v, path, 5, &index)) < 0)
                        return r;
                if (!json_object_object_get_ex(a, "value", &v))
                        return fail(ps, -EINVAL, at, "\"value\" is missing");
                path_join(path, sizeof path, at, "value");
                if ((r = get_u64(ps, v, path, UINT64_MAX, &value)) < 0)
                        return r;
                if (json_object_object_get_ex(a, "valueTwo", &v)) {
                        path_join(path, sizeof path, at, "valueTwo");
                        if ((r = get_u64(ps, v, path, UINT64_MAX, &value_two)) < 0)
                                return r;
                }
                if (!json_object_object_get_ex(a, "op", &v))
                        return fail(ps, -EINVAL, at, "\"op\" is missing");
                path_join(path, sizeof path, at, "op");
                if ((r = get_string(ps, v, path, &op)) < 0)
                        return r;
                size_t k = 0;
                while (k < ELEMENTSOF(compare_ops) && !streq(compare_ops[k].name, op))
                        k++;
                if (k == ELEMENTSOF(compare_ops))
                        return fail(ps, -EINVAL, path,
                                    "'%s' is not a comparison (use SCMP_CMP_EQ, NE, LT, LE, GT, GE or MASKED_EQ)", op);
                /* MASKED_EQ: "value" is the mask, "valueTwo" what the
                 * masked argument must equal (libseccomp's datum_a, datum_b). */
                rule->args[i] = (struct scmp_arg_cmp){
                        .arg = (unsigned) index,
                        .op = compare_ops[k].op,
                        .datum_a = value,
                        .datum_b = value_two,
                };
                if (seen & (1u << index))
                        rule->split_args = true;
                seen |= 1u << index;
        }
        rule->n_args = (unsigned) n;
        return 0;
}

static int parse_rule(struct parser *ps, json_object *e, size_t index, size_t *names_total, struct rule *rule)
{
        char base[48], path[128];
        snprintf(base, sizeof base, "syscalls[%zu]", index);
        *rule = (struct rule){ .index = index };
        int r = want(ps, e, json_type_object, base, "an object");
        if (r < 0)
                return r;

        json_object *names = NULL, *name = NULL, *v, *errno_ret = NULL;
        (void) json_object_object_get_ex(e, "names", &names);
        (void) json_object_object_get_ex(e, "name", &name); /* the format before "names" */
        if (names) {
                path_join(path, sizeof path, base, "names");
                if ((r = want(ps, names, json_type_array, path, "an array of syscall names")) < 0)
                        return r;
                size_t n = json_object_array_length(names);
                if (*names_total + n > SECCOMP_PROFILE_NAMES_MAX)
                        return fail(ps, -E2BIG, path, "more than %d syscall names in the profile",
                                    SECCOMP_PROFILE_NAMES_MAX);
                *names_total += n;
                for (size_t i = 0; i < n; i++) {
                        snprintf(path, sizeof path, "%s.names[%zu]", base, i);
                        const char *s;
                        if ((r = get_string(ps, json_object_array_get_idx(names, i), path, &s)) < 0)
                                return r;
                        if (s[0] == 0)
                                return fail(ps, -EINVAL, path, "empty syscall name");
                        if (strv_push(&rule->names, s) < 0)
                                return -ENOMEM;
                }
        }
        if (name) {
                path_join(path, sizeof path, base, "name");
                const char *s;
                if ((r = get_string(ps, name, path, &s)) < 0)
                        return r;
                if (s[0] == 0)
                        return fail(ps, -EINVAL, path, "empty syscall name");
                if (++*names_total > SECCOMP_PROFILE_NAMES_MAX)
                        return fail(ps, -E2BIG, path, "more than %d syscall names in the profile",
                                    SECCOMP_PROFILE_NAMES_MAX);
                if (strv_push(&rule->names, s) < 0)
                        return -ENOMEM;
        }
        if (!rule->names)
                return fail(ps, -EINVAL, base, "names no syscall (\"names\" is missing or empty)");

        if (!json_object_object_get_ex(e, "action", &v))
                return fail(ps, -EINVAL, base, "\"action\" is missing");
        if (json_object_object_get_ex(e, "errnoRet", &errno_ret) && !errno_ret)
                errno_ret = NULL; /* "errnoRet": null is Go's nil */
        char act_path[96], errno_path[96];
        path_join(act_path, sizeof act_path, base, "action");
        path_join(errno_path, sizeof errno_path, base, "errnoRet");
        if ((r = parse_action(ps, v, act_path, errno_ret, errno_path, &rule->action)) < 0)
                return r;

        if (json_object_object_get_ex(e, "args", &v) && v) {
                path_join(path, sizeof path, base, "args");
                if ((r = parse_args(ps, v, path, rule)) < 0)
                        return r;
        }
        if (json_object_object_get_ex(e, "includes", &v) && v) {
                path_join(path, sizeof path, base, "includes");
                if ((r = parse_condition(ps, v, path, true, &rule->includes)) < 0)
                        return r;
        }
        if (json_object_object_get_ex(e, "excludes", &v) && v) {
                path_join(path, sizeof path, base, "excludes");
                if ((r = parse_condition(ps, v, path, false, &rule->excludes)) < 0)
                        return r;
        }
        return 0;
}

static int parse_document(struct parser *ps, json_object *top, struct seccomp_profile *p)
{
        json_object *v, *errno_ret = NULL;
        int r;
        if (!json_object_is_type(top, json_type_object))
                return fail(ps, -EINVAL, NULL, "expected a JSON object, not %s", type_name(top));
        if (!json_object_object_get_ex(top, "defaultAction", &v))
                return fail(ps, -EINVAL, "defaultAction", "missing");
        if (json_object_object_get_ex(top, "defaultErrnoRet", &errno_ret) && !errno_ret)
                errno_ret = NULL;
        if ((r = parse_action(ps, v, "defaultAction", errno_ret, "defaultErrnoRet", &p->default_action)) < 0)
                return r;
        if (json_object_object_get_ex(top, "flags", &v) && v) {
                if ((r = want(ps, v, json_type_array, "flags", "an array")) < 0)
                        return r;
                if (json_object_array_length(v) > 0)
                        return fail(ps, -EINVAL, "flags", "seccomp filter flags are not supported");
        }
        if ((r = parse_architectures(ps, top, p)) < 0)
                return r;
        if (!json_object_object_get_ex(top, "syscalls", &v) || !v)
                return 0; /* every syscall takes the default action */
        if ((r = want(ps, v, json_type_array, "syscalls", "an array of objects")) < 0)
                return r;
        size_t n = json_object_array_length(v);
        if (n > SECCOMP_PROFILE_RULES_MAX)
                return fail(ps, -E2BIG, "syscalls", "more than %d entries", SECCOMP_PROFILE_RULES_MAX);
        p->rules = calloc(n ? n : 1, sizeof *p->rules);
        if (!p->rules)
                return -ENOMEM;
        size_t names_total = 0;
        for (size_t i = 0; i < n; i++) {
                r = parse_rule(ps, json_object_array_get_idx(v, i), i, &names_total, &p->rules[i]);
                p->n_rules = i + 1; /* owned from here on, even half-filled */
                if (r < 0)
                        return r;
        }
        return 0;
}

int seccomp_profile_parse(const char *source, const char *text, size_t len, struct seccomp_profile **ret,
                          char *err, size_t n)
{
        struct parser ps = { .source = source, .err = err, .n = n };
        if (n > 0)
                err[0] = 0;
        if (len > SECCOMP_PROFILE_FILE_MAX)
                return fail(&ps, -E2BIG, NULL, "larger than %d bytes", SECCOMP_PROFILE_FILE_MAX);
        if (memchr(text, 0, len))
                return fail(&ps, -EINVAL, NULL, "not a JSON document (contains a NUL byte)");

        json_tokener *tok = json_tokener_new_ex(JSON_DEPTH_MAX);
        if (!tok)
                return -ENOMEM;
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
        json_object *top = json_tokener_parse_ex(tok, text, (int) len);
        enum json_tokener_error jerr = json_tokener_get_error(tok);
        size_t end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (!top || jerr != json_tokener_success) {
                json_object_put(top);
                /* The line of the first byte the tokener did not take. */
                size_t at = jerr == json_tokener_continue ? len : (end > 0 ? end - 1 : 0);
                unsigned line = 1;
                for (size_t i = 0; i < at && i < len; i++)
                        line += text[i] == '\n';
                return fail(&ps, -EINVAL, NULL, "line %u: not valid JSON: %s", line,
                            jerr == json_tokener_continue ? "unexpected end of file"
                            : jerr == json_tokener_success ? "empty document"
                                                           : json_tokener_error_desc(jerr));
        }
        for (size_t i = end; i < len; i++)
                if (!isspace((unsigned char) text[i])) {
                        json_object_put(top);
                        return fail(&ps, -EINVAL, NULL, "not valid JSON: data after the document");
                }

        struct seccomp_profile *p = calloc(1, sizeof *p);
        if (!p || !(p->source = strdup(source))) {
                free(p);
                json_object_put(top);
                return -ENOMEM;
        }
        int r = parse_document(&ps, top, p);
        json_object_put(top);
        if (r < 0) {
                seccomp_profile_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

int seccomp_profile_read(const char *path, char **ret, size_t *ret_len, char *err, size_t n)
{
        struct parser ps = { .source = path, .err = err, .n = n };
        if (n > 0)
                err[0] = 0;
        /* O_NONBLOCK: a FIFO put there by mistake must not hang the open. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return fail(&ps, -errno, NULL, "cannot open: %s", strerror(errno));
        struct stat st;
        if (fstat(fd, &st) < 0)
                return fail(&ps, -errno, NULL, "cannot read: %s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return fail(&ps, -EINVAL, NULL, "not a regular file");
        int r = read_file_fd(fd, SECCOMP_PROFILE_FILE_MAX, ret, ret_len);
        if (r == -EFBIG)
                return fail(&ps, -E2BIG, NULL, "larger than %d bytes", SECCOMP_PROFILE_FILE_MAX);
        if (r < 0)
                return fail(&ps, r, NULL, "cannot read: %s", strerror(-r));
        return 0;
}

int seccomp_profile_load(const char *path, struct seccomp_profile **ret, char *err, size_t n)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = seccomp_profile_read(path, &text, &len, err, n);
        if (r < 0)
                return r;
        return seccomp_profile_parse(path, text, len, ret, err, n);
}

void seccomp_profile_target_native(uint64_t caps, struct seccomp_profile_target *ret)
{
        *ret = (struct seccomp_profile_target){ .caps = caps };
        struct utsname u;
        if (uname(&u) == 0)
                (void) sscanf(u.release, "%u.%u", &ret->kernel_major, &ret->kernel_minor);
}

/* ---- compiling ---- */

static bool condition_includes(const struct condition *c, const struct seccomp_profile_target *t, int native)
{
        if ((t->caps & c->caps) != c->caps)
                return false;
        if (c->arches && (native < 0 || !(c->arches & (UINT64_C(1) << native))))
                return false;
        if (c->min_kernel && (t->kernel_major < c->major || (t->kernel_major == c->major && t->kernel_minor < c->minor)))
                return false;
        return true;
}

static bool condition_excludes(const struct condition *c, const struct seccomp_profile_target *t, int native)
{
        if (t->caps & c->caps)
                return true;
        return native >= 0 && (c->arches & (UINT64_C(1) << native));
}

static void ctxp(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

/* The calls i386 multiplexes through socketcall(). libseccomp turns a rule
 * for one of them into a rule for the direct syscall and one for
 * socketcall(SYS_x), where it replaces the first argument condition and
 * keeps the others, which then test socketcall's pointer. */
static bool is_socketcall_muxed(const char *name)
{
        static const char *const muxed[] = {
                "socket",   "bind",     "connect",    "listen",     "accept",  "getsockname", "getpeername",
                "socketpair", "send",   "recv",       "sendto",     "recvfrom", "shutdown",   "setsockopt",
                "getsockopt", "sendmsg", "recvmsg",   "accept4",    "recvmmsg", "sendmmsg",
        };
        for (size_t i = 0; i < ELEMENTSOF(muxed); i++)
                if (streq(name, muxed[i]))
                        return true;
        return false;
}

static bool action_is_permissive(uint32_t action)
{
        return action == SCMP_ACT_ALLOW || action == SCMP_ACT_LOG;
}

static int rule_add(scmp_filter_ctx ctx, const struct rule *rule, int nr)
{
        if (!rule->split_args)
                return seccomp_rule_add_array(ctx, rule->action, nr, rule->n_args, rule->args);
        for (unsigned i = 0; i < rule->n_args; i++) {
                int r = seccomp_rule_add_array(ctx, rule->action, nr, 1, &rule->args[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

int seccomp_profile_compile(const struct seccomp_profile *p, const struct seccomp_profile_target *t,
                            struct security_seccomp *out, char *err, size_t n)
{
        struct parser ps = { .source = p->source, .err = err, .n = n };
        if (n > 0)
                err[0] = 0;
        int native = arch_index_of_token(seccomp_arch_native());
        /* The native architecture is in the context from the start. */
        _cleanup_(ctxp) scmp_filter_ctx ctx = seccomp_init(p->default_action);
        if (!ctx)
                return fail(&ps, -ENOMEM, NULL, "cannot create a seccomp filter");
        uint64_t add = p->architectures;
        if (p->has_arch_map && native >= 0)
                add |= p->arch_map_native[native];
        for (size_t i = 0; i < ELEMENTSOF(arches); i++) {
                if (!(add & (UINT64_C(1) << i)) || (int) i == native || arches[i].token == 0)
                        continue;
                int r = seccomp_arch_add(ctx, arches[i].token);
                if (r < 0 && r != -EEXIST)
                        return fail(&ps, r, NULL, "cannot add architecture %s: %s", arches[i].oci, strerror(-r));
        }
        int r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (r < 0)
                return fail(&ps, r, NULL, "cannot set up the seccomp filter: %s", strerror(-r));

        /* A conditional allow rule for a socket call would become an
         * unconditional one on i386's socketcall(); unless the profile says
         * what socketcall() does itself, socketcall() is refused there, as
         * in the default profile, so its conditions hold on both ABIs. */
        bool socketcall_named = false, socket_conditional = false;
        for (size_t i = 0; i < p->n_rules; i++) {
                const struct rule *rule = &p->rules[i];
                if (rule->includes.set && !condition_includes(&rule->includes, t, native))
                        continue;
                if (rule->excludes.set && condition_excludes(&rule->excludes, t, native))
                        continue;
                for (char **name = rule->names; *name; name++) {
                        if (streq(*name, "socketcall"))
                                socketcall_named = true;
                        else if (rule->n_args > 0 && is_socketcall_muxed(*name) &&
                                 action_is_permissive(rule->action) && !action_is_permissive(p->default_action))
                                socket_conditional = true;
                }
                /* libseccomp refuses a rule that repeats the default
                 * action; it would change nothing. */
                if (rule->action == p->default_action)
                        continue;
                char path[48];
                snprintf(path, sizeof path, "syscalls[%zu]", rule->index);
                for (char **name = rule->names; *name; name++) {
                        int nr = seccomp_syscall_resolve_name(*name);
                        if (nr == __NR_SCMP_ERROR)
                                continue; /* unknown to this libseccomp, as Docker does */
                        r = rule_add(ctx, rule, nr);
                        if (r == -EDOM)
                                continue; /* on none of the filter's architectures */
                        if (r == -EEXIST)
                                return fail(&ps, -EINVAL, path, "'%s': conflicts with an earlier rule for it", *name);
                        if (r == -ENOMEM)
                                return fail(&ps, r, path, "'%s': %s", *name, strerror(-r));
                        if (r < 0)
                                return fail(&ps, -EINVAL, path, "'%s': libseccomp refuses the rule: %s", *name,
                                            strerror(-r));
                }
        }
        if (socket_conditional && !socketcall_named) {
                r = security_seccomp_refuse_socketcall(ctx);
                if (r < 0)
                        return fail(&ps, r, NULL, "cannot refuse socketcall on i386: %s", strerror(-r));
        }
        struct security_seccomp s = { 0 };
        r = security_seccomp_export(ctx, &s);
        if (r == -E2BIG)
                return fail(&ps, r, NULL, "the compiled filter is longer than the kernel's %d instructions", BPF_MAXINSNS);
        if (r < 0)
                return fail(&ps, r, NULL, "cannot export the seccomp filter: %s", strerror(-r));
        *out = s;
        return 0;
}

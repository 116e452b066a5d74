/* Owns the table of definition keys: every key of berth.conf(5) is one row
 * (block, name, value type, field in the spec struct, class, default, a
 * one-line doc). Config reads values with it, spec hashes with it, the plan
 * names changes with it and the docs test checks the man page against it.
 * Pure: no I/O, no logging. Knows nothing of the file syntax (config.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spec.h"

/* What a key's value is, and so how it is parsed, stored, hashed and shown. */
enum key_type {
        KEY_BLOCK,    /* a block: "limits { ... }"; its field, if any, is a bool "present" */
        KEY_STR,      /* char * */
        KEY_STRV,     /* char **, written = { "a", "b" } */
        KEY_BOOL,     /* bool */
        KEY_SIZE,     /* uint64_t bytes: 512k, 256M */
        KEY_DURATION, /* usec_t: 500ms, 10s */
        KEY_U32,      /* uint32_t in [min, max] */
        KEY_U16,      /* uint16_t in [min, max] */
        KEY_INT32,    /* int32_t */
        KEY_ENUM,     /* an enum (int-sized), one of words */
        KEY_SIGNAL,   /* int: SIGTERM, TERM, 15 */
        KEY_CPUS,     /* uint32_t thousandths of a CPU: 1.5 */
        KEY_SWAP,     /* int64_t bytes: 0 unset, -1 unlimited */
        KEY_CAPS,     /* uint64_t capability mask, written as a list */
        KEY_IPV4,     /* struct in_addr */
        KEY_CUSTOM,   /* read by config.c's reader for this row; hashed by hash, compared by equal */
};

/* What a change of the key takes. */
enum key_class {
        KEY_CLASS_RESTART,   /* the container is restarted */
        KEY_CLASS_LIVE,      /* applied to the running container (its cgroup) */
        KEY_CLASS_SUPERVISE, /* the supervisor adopts it; no process is touched */
        KEY_CLASS_RECREATE,  /* network: the bridge is torn down and built again */
        KEY_CLASS_NET_LIVE,  /* network: changed in place (MTU, NAT) */
        _KEY_CLASS_MAX,
};

#define KEYF_LIST 0x1u        /* a list: KEY = { ... } and KEY += { ... } */
#define KEYF_MULTI 0x2u       /* a block given many times, with a title: mount NAME { } */
#define KEYF_SHOW_VALUES 0x4u /* a plan reason shows old → new ("restart no → always") */
#define KEYF_SPARSE_HASH 0x8u /* hashed only when not the default (NULL, dflt): old hashes stay valid */
#define KEYF_BY_BLOCK 0x10u   /* read by its block's reader in config.c, not one by one */
#define KEYF_FREEFORM 0x20u
#define KEYF_REPEAT 0x40u     /* a block given many times, without a title: copy { } */   /* a block whose keys are any names (sysctl { net.x = 1 }): config.c reads them */

struct key_hasher {
        uint64_t h;
};

struct key_def {
        const char *block; /* "container", "container.limits", "network" */
        const char *name;  /* as written in the file: "memory" */
        enum key_type type;
        size_t offset; /* of the field in struct spec_container (spec_network for "network") */
        size_t line_offset; /* of an int the key's line is kept in, 0 = none */
        enum key_class cls;
        unsigned flags;
        uint64_t min, max;        /* KEY_SIZE, KEY_DURATION, KEY_U32, KEY_U16 */
        const char *const *words; /* KEY_ENUM, NULL-terminated; the value is the index */
        const char *hash_tag;     /* tag in the hash; NULL = not hashed on its own (hash or a block) */
        const char *reason;       /* the name a plan reason uses; NULL = name */
        const char *zero;         /* how a reason shows 0 or NULL ("unlimited"); NULL = the number */
        /* The value check of KEY_STR (each entry for KEY_STRV): NULL when
         * valid, else a message about '%s' (the value), e.g. "'%s' is not a
         * valid host name". */
        const char *(*check)(const char *value);
        /* KEY_CUSTOM (and blocks with a field) only. */
        void (*hash)(struct key_hasher *s, const void *spec);
        bool (*equal)(const void *a, const void *b);
        /* A reason text of its own (returns false to fall back to the name). */
        bool (*describe)(const void *a, const void *b, char *buf, size_t size);
        uint64_t dflt;   /* the default of a number, bool or enum (keys_apply_defaults) */
        const char *def; /* the default, as berth.conf(5) states it */
        const char *doc; /* one line */
};

#define KEY_NO_FIELD ((size_t) -1)

/* The table, terminated by a row with name NULL; n without it. */
const struct key_def *keys_table(size_t *n);
/* The row for block + name, or NULL. */
const struct key_def *keys_find(const char *block, const char *name);
/* "container.limits.memory" */
const char *key_path(const struct key_def *k, char *buf, size_t size);
const char *key_class_to_string(enum key_class c);

/* Parses text as the value of k into spec (struct spec_container or
 * spec_network, as k->block says). 0; -EINVAL or -ERANGE with a message
 * about the value in msg ("'12Q' is not a size (use 512k, 256M, 2G)", no
 * key name); -ENOMEM. Not for KEY_STRV, KEY_CAPS, KEY_BLOCK, KEY_CUSTOM. */
int key_parse(const struct key_def *k, const char *text, void *spec, char *msg, size_t size);

/* Hashing: FNV-1a over a self-delimiting serialisation, each field tagged
 * and length-prefixed (independent of layout, endianness and pointers). */
#define KEY_HASHER_INIT { .h = 0xcbf29ce484222325ULL }
void key_hash_u64(struct key_hasher *s, const char *tag, uint64_t v);
void key_hash_str(struct key_hasher *s, const char *tag, const char *v);
void key_hash_strv(struct key_hasher *s, const char *tag, char *const *v);
void key_hash_out(const struct key_hasher *s, char out[SPEC_HASH_LEN]);

/* The hash of the fields of block's rows of class cls (both network
 * classes for "network"), in table order. */
void keys_hash(const char *block_prefix, enum key_class cls, bool any_class, const void *spec,
               char out[SPEC_HASH_LEN]);
bool key_equal(const struct key_def *k, const void *a, const void *b);
/* The rows of class cls under block_prefix that differ between a and b,
 * ", "-separated into buf, each reason once. Returns buf. */
const char *keys_diff(const char *block_prefix, enum key_class cls, const void *a, const void *b, char *buf,
                      size_t size);

/* Sets every row's default in a new spec (what spec_container_new and
 * spec_network_new start from). */
void keys_apply_defaults(const char *block_prefix, void *spec);

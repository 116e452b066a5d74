/* Reads definition files (libconfuse syntax) into a spec_set and checks
 * them as a whole: every mistake becomes a "FILE:LINE: message" in a
 * struct diag. Reads files; never touches anything else on the host.
 * In phases: config_scan.c (syntax), config.c (reading, by the key table
 * of keys.h), config_check.c (across definitions). */
#pragma once

#include <stddef.h>

#include "diag.h"
#include "spec.h"

#define CONFIG_FILE_MAX (1024 * 1024)   /* bytes per definition file */
#define CONFIG_FILES_MAX 20000          /* *.conf files per directory */
#define CONFIG_CONTAINERS_MAX 10000

/* Parses one file's text into set (appending). The text need not be
 * NUL-terminated. Errors go to d. 0, or -ENOMEM. */
int config_parse_buffer(const char *filename, const char *text, size_t len, struct spec_set *set,
                        struct diag *d);

/* Reads every *.conf in dir (hidden and backup files ignored) in name
 * order, then validates the set as a whole, including the seccomp profile
 * files it names (read and checked, reported at their "seccomp =" line). Returns 0 when the set is
 * valid, -EINVAL when d holds errors, -errno when dir cannot be read (also
 * in d). On success set owns the specs. */
int config_load_dir(const char *dir, struct spec_set *set, struct diag *d);

/* What the files of a directory parsed into, kept between loads (berthd's
 * reloads): a file whose bytes did not change is not parsed again, its
 * specs are copied from here. A file is known unchanged by its stat (device,
 * inode, size, mtime, ctime) when it was last changed well before it was
 * read, else by its bytes. Only clean parses are kept: a file with an error
 * is read again each time, so its messages are the parser's own. The
 * checks across files (names, dependencies, networks, addresses, ports,
 * seccomp profiles, env files) always run on the whole set, so a load with
 * the cache gives the set and messages a fresh one would. Flushed when the
 * directory or $BERTH_DEFAULT_IDMAP (read by the parse) differ. */
struct config_cache;
struct config_cache *config_cache_new(void);
struct config_cache *config_cache_free(struct config_cache *c);
/* Files parsed and files taken from the cache by the last load (tests, bench). */
void config_cache_stats(const struct config_cache *c, size_t *ret_parsed, size_t *ret_reused);
/* config_load_dir with cache (NULL: none). */
int config_load_dir_cached(const char *dir, struct spec_set *set, struct diag *d, struct config_cache *cache);

/* The idmap of the containers whose definition sets no idmap key:
 * "auto", "HOSTID:COUNT" or "none". berthd --default-idmap sets it. */
#define CONFIG_DEFAULT_IDMAP_ENV "BERTH_DEFAULT_IDMAP"

/* An idmap value ("auto", "HOSTID:COUNT", "none") into c's idmap fields.
 * 0, or -EINVAL with a message about the value in msg. */
int config_idmap_parse(const char *text, struct spec_container *c, char *msg, size_t size);

/* Cross-definition checks: duplicate names, dependencies and their cycles,
 * networks, addresses, published ports. */
void config_validate(struct spec_set *set, struct diag *d);

/* Every key the parser accepts (the rows of keys.h), as "section.key"
 * paths ("container.limits.memory"), NULL-terminated. */
char **config_keys(void); /* a new strv, or NULL */

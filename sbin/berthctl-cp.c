/* berthctl cp: copies files and directories between the host and a
 * container's root file system, either way, recursively, with their mode,
 * owner and times.
 *
 * Inside the container every path is resolved by openat2(RESOLVE_IN_ROOT |
 * RESOLVE_NO_MAGICLINKS) on a directory fd of the container's root, and
 * below it entry by entry with O_NOFOLLOW: an absolute symlink or ".." in
 * the container resolves within its root, never to the host's files; a
 * symlink is copied as a symlink, never followed.
 *
 * The root: of a running container, its init's /proc/PID/root (the
 * container's mount namespace, its mounts included). Of a stopped one,
 * the merged view of its writable layer over its template: a child of
 * berthctl mounts the same overlay the container gets, in a private mount
 * namespace of its own (nobody else sees it; it dies with the child), so
 * that whiteouts and copy-up are the kernel's, and what is copied in lands
 * in the writable layer only. The container's lock is held meanwhile: it
 * cannot start under the copy. A container on a host directory (rootfs =)
 * has that directory as its root.
 *
 * Owners: a container in a user namespace (idmap) has its ids mapped: what
 * is copied in is owned by the host ids of its range (ids outside the
 * range become the container's root), what is copied out by the ids the
 * container sees (outside the range: 65534). A running container's map
 * comes from /proc/PID/uid_map and gid_map, a stopped one's from its
 * definition. Hard links are copied as separate files; device nodes and
 * sockets are skipped with a warning. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berthctl.h"
#include "config.h"
#include "idmap.h"
#include "mounts.h"
#include "template.h"

#define MAX_RANGES 16
#define MAX_DEPTH 256

struct id_range {
        uint32_t inside, outside, count;
};

struct cp {
        bool into; /* host → container */
        bool mapped;
        struct id_range uids[MAX_RANGES], gids[MAX_RANGES];
        size_t nu, ng;
        int skipped, errors;
};

/* ---- ids ------------------------------------------------------------------------------------ */

static uint32_t id_in(const struct id_range *r, size_t n, uint32_t id)
{
        for (size_t i = 0; i < n; i++)
                if (id >= r[i].inside && id - r[i].inside < r[i].count)
                        return r[i].outside + (id - r[i].inside);
        for (size_t i = 0; i < n; i++) /* outside the range: the container's root */
                if (r[i].inside == 0)
                        return r[i].outside;
        return 65534;
}

static uint32_t id_out(const struct id_range *r, size_t n, uint32_t id)
{
        for (size_t i = 0; i < n; i++)
                if (id >= r[i].outside && id - r[i].outside < r[i].count)
                        return r[i].inside + (id - r[i].outside);
        return 65534;
}

/* The owner a copy gets, from its source's. */
static void owner_of(const struct cp *c, const struct stat *st, uid_t *u, gid_t *g)
{
        *u = st->st_uid;
        *g = st->st_gid;
        if (!c->mapped)
                return;
        if (c->into) {
                *u = id_in(c->uids, c->nu, st->st_uid);
                *g = id_in(c->gids, c->ng, st->st_gid);
        } else {
                *u = id_out(c->uids, c->nu, st->st_uid);
                *g = id_out(c->gids, c->ng, st->st_gid);
        }
}

/* /proc/PID/uid_map: identity (0 0 4294967295) is no mapping. */
static int read_map(pid_t pid, const char *file, struct id_range *r, size_t *n)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/%s", (int) pid, file);
        _cleanup_free_ char *text = NULL;
        int k = read_file_at(AT_FDCWD, path, 65536, &text, NULL);
        if (k < 0)
                return k;
        *n = 0;
        for (char *line = text; line && *line && *n < MAX_RANGES;) {
                unsigned long a, b, cnt;
                if (sscanf(line, "%lu %lu %lu", &a, &b, &cnt) == 3)
                        r[(*n)++] = (struct id_range){ (uint32_t) a, (uint32_t) b, (uint32_t) cnt };
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        if (*n == 1 && r[0].inside == 0 && r[0].outside == 0 && r[0].count == UINT32_MAX)
                *n = 0;
        return 0;
}

/* ---- the copy ------------------------------------------------------------------------------- */

static void cp_error(struct cp *c, const char *what, const char *name, int err)
{
        fail("berthctl cp: %s '%s': %s", what, name, strerror(err));
        c->errors++;
}

static int copy_data(int in, int out)
{
        for (;;) {
                ssize_t k = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (k == 0)
                        return 0;
                if (k > 0)
                        continue;
                if (errno == EINTR)
                        continue;
                if (errno != EXDEV && errno != EINVAL && errno != EOPNOTSUPP && errno != ENOSYS)
                        return -errno;
                break;
        }
        char buf[65536];
        for (;;) {
                ssize_t k = read(in, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                for (ssize_t done = 0; done < k;) {
                        ssize_t w = write(out, buf + done, (size_t) (k - done));
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w < 0)
                                return -errno;
                        done += w;
                }
        }
}

/* Owner, mode, times of an open copy (after its contents: chown clears
 * setuid). */
static int finish_fd(const struct cp *c, int fd, const struct stat *st)
{
        uid_t u;
        gid_t g;
        owner_of(c, st, &u, &g);
        if (fchown(fd, u, g) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
                return -errno;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        return futimens(fd, ts) < 0 ? -errno : 0;
}

static int finish_at(const struct cp *c, int dirfd, const char *name, const struct stat *st, bool is_link)
{
        uid_t u;
        gid_t g;
        owner_of(c, st, &u, &g);
        if (fchownat(dirfd, name, u, g, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (!is_link && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
                return -errno;
        struct timespec ts[2] = { st->st_atim, st->st_mtim };
        return utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
}

/* Copies the entry name of sdir to dname in ddir. Neither side follows a
 * symlink: names come from readdir() or were checked by the caller. */
static void copy_entry(struct cp *c, int sdir, const char *name, int ddir, const char *dname, int depth)
{
        struct stat st;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return cp_error(c, "cannot read", name, errno);
        if (S_ISREG(st.st_mode)) {
                _cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
                if (in < 0)
                        return cp_error(c, "cannot open", name, errno);
                int out = openat(ddir, dname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (out < 0 && errno == ELOOP) {
                        /* a symlink where the file goes: replaced, never written through */
                        if (unlinkat(ddir, dname, 0) == 0)
                                out = openat(ddir, dname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                }
                if (out < 0)
                        return cp_error(c, "cannot create", dname, errno);
                int r = copy_data(in, out);
                if (r >= 0)
                        r = finish_fd(c, out, &st);
                close(out);
                if (r < 0)
                        cp_error(c, "cannot write", dname, -r);
                return;
        }
        if (S_ISDIR(st.st_mode)) {
                if (depth >= MAX_DEPTH)
                        return cp_error(c, "cannot copy", name, ELOOP);
                if (mkdirat(ddir, dname, 0700) < 0 && errno != EEXIST)
                        return cp_error(c, "cannot create", dname, errno);
                _cleanup_close_ int out = openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (out < 0)
                        return cp_error(c, "cannot open", dname, errno == ENOTDIR ? EEXIST : errno);
                int in = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (in < 0)
                        return cp_error(c, "cannot open", name, errno);
                DIR *d = fdopendir(in);
                if (!d) {
                        close(in);
                        return cp_error(c, "cannot read", name, errno);
                }
                struct dirent *de;
                while ((errno = 0, de = readdir(d)))
                        if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                                copy_entry(c, dirfd(d), de->d_name, out, de->d_name, depth + 1);
                closedir(d);
                int r = finish_fd(c, out, &st);
                if (r < 0)
                        cp_error(c, "cannot set the owner, mode or times of", dname, -r);
                return;
        }
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t k = readlinkat(sdir, name, target, sizeof target - 1);
                if (k < 0)
                        return cp_error(c, "cannot read", name, errno);
                target[k] = 0;
                if (symlinkat(target, ddir, dname) < 0) {
                        struct stat old;
                        if (errno != EEXIST || fstatat(ddir, dname, &old, AT_SYMLINK_NOFOLLOW) < 0 ||
                            S_ISDIR(old.st_mode) || unlinkat(ddir, dname, 0) < 0 || symlinkat(target, ddir, dname) < 0)
                                return cp_error(c, "cannot create", dname, errno);
                }
                int r = finish_at(c, ddir, dname, &st, true);
                if (r < 0)
                        cp_error(c, "cannot set the owner or times of", dname, -r);
                return;
        }
        if (S_ISFIFO(st.st_mode)) {
                if (mkfifoat(ddir, dname, 0600) < 0 && errno != EEXIST)
                        return cp_error(c, "cannot create", dname, errno);
                int r = finish_at(c, ddir, dname, &st, false);
                if (r < 0)
                        cp_error(c, "cannot set the owner, mode or times of", dname, -r);
                return;
        }
        fprintf(stderr, "berthctl cp: warning: '%s' skipped: %s are not copied\n", name,
                S_ISSOCK(st.st_mode) ? "sockets" : "device nodes");
        c->skipped++;
}

/* ---- operands ------------------------------------------------------------------------------- */

/* Opens path on one side: in the container's root (rootfd), else on the
 * host. Returns the fd or -errno. */
static int open_side(bool in_ct, int rootfd, const char *path, int flags)
{
        if (in_ct)
                return mounts_open_in_root(rootfd, path, flags, false);
        int fd = open(path, flags | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* "NAME:PATH" with a valid NAME (no '/' before the ':'): the container's. */
static bool container_operand(const char *s, char name[static 256], const char **path)
{
        const char *colon = strchr(s, ':');
        if (!colon || colon == s || (size_t) (colon - s) >= 256 || memchr(s, '/', (size_t) (colon - s)))
                return false;
        memcpy(name, s, (size_t) (colon - s));
        name[colon - s] = 0;
        *path = colon + 1;
        return name_is_valid(name);
}

/* Splits path into its directory and last name: "a/b/" → "a", "b"; "b" →
 * ".", "b"; "/" → "/", "."; a last name of "." or ".." is left in the
 * directory (the name becomes "."). dir and base are new strings. */
static int split_path(const char *path, char **dir, char **base)
{
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                p[--n] = 0;
        char *slash = strrchr(p, '/');
        const char *b = slash ? slash + 1 : p;
        if (!*b || streq(b, ".") || streq(b, "..")) {
                *dir = strdup(*p ? p : ".");
                *base = strdup(".");
        } else if (!slash) {
                *dir = strdup(".");
                *base = strdup(b);
        } else {
                *base = strdup(b);
                *slash = 0;
                *dir = strdup(slash == p ? "/" : p);
        }
        return *dir && *base ? 0 : -ENOMEM;
}

/* The name a copy gets inside an existing directory: the source's last
 * name, or for "DIR/." the directory's own contents (merged, name "."). */
static int copy_into(struct cp *c, int sdir, const char *sname, int rootfd, const char *cpath, bool dest_in_ct,
                     const char *host_dest)
{
        /* The destination: an existing directory takes the source under
         * its name; else its parent takes it under the destination's name. */
        _cleanup_close_ int ddir = -1;
        _cleanup_free_ char *dparent = NULL, *dbase = NULL;
        const char *dest = dest_in_ct ? cpath : host_dest;
        ddir = open_side(dest_in_ct, rootfd, dest, O_PATH | O_DIRECTORY);
        const char *dname = sname;
        if (ddir < 0) {
                if (ddir != -ENOENT && ddir != -ENOTDIR) {
                        cp_error(c, "cannot open", dest, -ddir);
                        return -1;
                }
                if (split_path(dest, &dparent, &dbase) < 0)
                        return -1;
                if (streq(dbase, ".")) {
                        cp_error(c, "cannot open", dest, ENOENT);
                        return -1;
                }
                ddir = open_side(dest_in_ct, rootfd, dparent, O_PATH | O_DIRECTORY);
                if (ddir < 0) {
                        cp_error(c, dest_in_ct ? "no directory in the container:" : "no directory on the host:",
                                 dparent, -ddir);
                        return -1;
                }
                dname = dbase;
        }
        copy_entry(c, sdir, sname, ddir, dname, 0);
        return 0;
}

/* The copy itself, with the container's root open as rootfd. */
static int do_copy(struct cp *c, int rootfd, const char *cpath, const char *host)
{
        _cleanup_free_ char *sdir_path = NULL, *sname = NULL;
        const char *src = c->into ? host : cpath;
        if (split_path(src, &sdir_path, &sname) < 0)
                return -ENOMEM;
        _cleanup_close_ int sdir = -1;
        /* "/", "DIR/.": the directory itself, by "." */
        sdir = open_side(!c->into, rootfd, streq(sname, ".") ? src : sdir_path, O_PATH | O_DIRECTORY);
        if (sdir < 0) {
                cp_error(c, c->into ? "on the host:" : "in the container:", src, -sdir);
                return 1;
        }
        struct stat st;
        if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                cp_error(c, c->into ? "on the host:" : "in the container:", src, errno);
                return 1;
        }
        (void) copy_into(c, sdir, sname, rootfd, cpath, c->into, host);
        return c->errors ? 1 : 0;
}

/* ---- the container's root -------------------------------------------------------------------- */

/* A stopped container: its overlay in a private mount namespace of a
 * child, which does the copy. Returns the exit status. */
static int copy_stopped(struct cp *c, const char *dir, const char *lower, const char *cpath, const char *host)
{
        _cleanup_free_ char *upper = strdup_printf("%s/upper", dir), *work = strdup_printf("%s/work", dir),
                            *merged = strdup_printf("%s/rootfs", dir);
        if (!upper || !work || !merged)
                return 1;
        if (lower) {
                const char *dirs[] = { upper, work, merged };
                for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                        if (mkdir(dirs[i], 0755) < 0 && errno != EEXIST) {
                                fail("berthctl cp: cannot create %s: %m", dirs[i]);
                                return 1;
                        }
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                fail("berthctl cp: cannot fork: %m");
                return 1;
        }
        if (pid == 0) {
                int rootfd;
                if (lower) {
                        _cleanup_free_ char *opts = strdup_printf("lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
                        if (!opts || unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                                fprintf(stderr, "berthctl cp: cannot make a private mount namespace: %m\n");
                                _exit(1);
                        }
                        if (mount("overlay", merged, "overlay", MS_NOSUID | MS_NODEV, opts) < 0) {
                                fprintf(stderr, "berthctl cp: cannot mount the container's layers on %s: %m\n", merged);
                                _exit(1);
                        }
                        rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
                } else
                        rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                if (rootfd < 0) {
                        fprintf(stderr, "berthctl cp: cannot open the container's root: %m\n");
                        _exit(1);
                }
                _exit(do_copy(c, rootfd, cpath, host));
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return 1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int verb_cp(struct ctl_args *a)
{
        char name[256], name2[256];
        const char *cpath, *cpath2, *host;
        bool first = container_operand(a->argv[0], name, &cpath);
        bool second = container_operand(a->argv[1], name2, &cpath2);
        if (first == second) {
                fail("berthctl cp: expected NAME:PATH DEST or SRC NAME:PATH: exactly one side in a container "
                     "(a host path with a ':' can be written ./PATH)");
                return 2;
        }
        struct cp c = { .into = second };
        if (second) {
                memcpy(name, name2, sizeof name);
                cpath = cpath2;
                host = a->argv[0];
        } else
                host = a->argv[1];
        if (!*cpath || !*host) {
                fail("berthctl cp: an empty path");
                return 2;
        }
        const char *conf = a->conf, *state = a->state;
        resolve_dirs(&conf, &state);
        /* Running: its init's root. */
        struct found f = { 0 };
        (void) daemon_container_dir(name, f.dir);
        if (!f.dir[0])
                snprintf(f.dir, sizeof f.dir, "%s/containers/%s", state, name);
        _cleanup_close_ int pidfd = -1;
        if (state_read(f.dir, &f.rec) == 0 && state_pidfd_verified(f.rec.init_pid, f.rec.init_start, &pidfd) == 0) {
                char root[64];
                snprintf(root, sizeof root, "/proc/%d/root", (int) f.rec.init_pid);
                _cleanup_close_ int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
                /* Still the same process (not a reused pid) once its root is open. */
                _cleanup_close_ int again = -1;
                if (rootfd < 0 || state_pidfd_verified(f.rec.init_pid, f.rec.init_start, &again) < 0) {
                        fail("berthctl cp: container '%s' stopped meanwhile", name);
                        return 1;
                }
                if (read_map(f.rec.init_pid, "uid_map", c.uids, &c.nu) == 0 &&
                    read_map(f.rec.init_pid, "gid_map", c.gids, &c.ng) == 0)
                        c.mapped = c.nu > 0 || c.ng > 0;
                return do_copy(&c, rootfd, cpath, host);
        }
        /* Stopped: its definition says where its root comes from. */
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(conf, &set, &d);
        diag_done(&d);
        const struct spec_container *sc = r >= 0 ? spec_set_find_container(&set, name) : NULL;
        if (!sc) {
                fail("berthctl cp: no container '%s' (not running, and %s in %s)", name,
                     r < 0 ? "the definitions do not load" : "not defined", conf);
                spec_set_done(&set);
                return 1;
        }
        _cleanup_free_ char *lower = NULL;
        if (sc->template_name) {
                r = template_lookup(state, sc->template_name, &lower);
                if (r < 0) {
                        fail("berthctl cp: container '%s': its template '%s' is not built yet (start it once, or "
                             "berthctl template build %s)", name, sc->template_name, sc->template_name);
                        spec_set_done(&set);
                        return 1;
                }
        }
        /* In a user namespace: the range its next start maps. berthd's word
         * first (its --default-idmap, an auto block it chose), else the
         * definition's: a fixed range, or the auto block, chosen now when it
         * has none yet (recorded: the first start takes the same). */
        struct daemon_idmap dm;
        bool have = daemon_container_idmap(name, &dm) == 0 && dm.answered;
        bool mapped = have ? dm.idmap : sc->idmap;
        uint32_t start = have ? dm.start : sc->idmap_host_uid, count = have ? dm.count : sc->idmap_count;
        if (mapped && (have ? dm.is_auto && !dm.count : sc->idmap_auto)) {
                struct spec_container probe = { .name = (char *) name, .idmap = true, .idmap_auto = true };
                struct error ierr = { 0 };
                if (idmap_resolve_range(&set, sc->idmap_auto ? sc : &probe, state, &start, &ierr) < 0) {
                        fail("berthctl cp: container '%s': %s", name, error_message(&ierr));
                        spec_set_done(&set);
                        return 1;
                }
                count = IDMAP_AUTO_COUNT;
        }
        if (mapped) {
                c.mapped = true;
                c.uids[0] = (struct id_range){ 0, start, count };
                c.gids[0] = (struct id_range){ 0, start, count };
                c.nu = c.ng = 1;
        }
        _cleanup_free_ char *rootfs = sc->rootfs ? strdup(sc->rootfs) : NULL;
        spec_set_done(&set);
        if (!lower && !rootfs)
                return 1;
        if (lower && mkdir_p(f.dir, 0700) < 0) {
                fail("berthctl cp: cannot create %s: %m", f.dir);
                return 1;
        }
        /* The container's lock: it cannot start under the copy. */
        _cleanup_free_ char *lockp = strdup_printf("%s/lock", f.dir);
        _cleanup_close_ int lock = -1;
        if (lower) {
                lock = lockp ? open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
                if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB) < 0) {
                        fail("berthctl cp: container '%s' is being started or stopped; try again", name);
                        return 1;
                }
        }
        return copy_stopped(&c, lower ? f.dir : rootfs, lower, cpath, host);
}

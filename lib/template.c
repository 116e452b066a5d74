#include "template.h"

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>

#include "crashpoint.h"
#include "util.h"

char *template_scripts_dir(void)
{
        const char *e = getenv("BERTH_TEMPLATES");
        if (e && *e)
                return strdup(e);
        /* A source checkout: <repo>/build-xxx/berthctl finds <repo>/templates. */
        char exe[PATH_MAX];
        if (exe_dir(exe, sizeof exe) == 0) {
                char *up = strrchr(exe, '/');
                if (up && strncmp(up + 1, "build", 5) == 0) {
                        *up = 0;
                        char *p = strdup_printf("%s/templates", exe);
                        struct stat st;
                        if (p && stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                                return p;
                        free(p);
                }
        }
        return strdup(BERTH_DATADIR "/templates");
}

static char *templates_root(const char *state_dir)
{
        return strdup_printf("%s/templates", state_dir);
}

int template_lookup(const char *state_dir, const char *name, char **ret_path)
{
        if (!name_is_valid(name))
                return -EINVAL;
        char *p = strdup_printf("%s/templates/%s", state_dir, name);
        if (!p)
                return -ENOMEM;
        struct stat st;
        if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
                free(p);
                return -ENOENT;
        }
        *ret_path = p;
        return 0;
}

/* Runs argv with stdout sent to stderr; 0 when it exits 0, -EIO otherwise. */
static int run_quiet(char *const argv[])
{
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                (void) dup2(STDERR_FILENO, STDOUT_FILENO);
                int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (null >= 0)
                        (void) dup2(null, STDIN_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

/* Takes the templates lock (blocking); returns the fd. */
static int lock_templates(const char *root)
{
        return lock_dir(root);
}

/* One entry of a tree being made a template: device nodes go, setuid and
 * setgid bits and file capabilities are cleared (a 0666 /dev/mem in the
 * state directory, a setuid root shell owned by whoever made the tarball).
 * Returns a positive errno to stop the walk (nftw hands it back). */
static int drop_special_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void) ftw;
        if (type == FTW_NS || type == FTW_DNR)
                return EIO; /* cannot tell: refuse rather than keep */
        if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
                return unlink(path) < 0 ? errno : 0;
        if (!S_ISREG(st->st_mode))
                return 0;
        mode_t keep = st->st_mode & 07777 & ~(mode_t) (S_ISUID | S_ISGID);
        if ((st->st_mode & (S_ISUID | S_ISGID)) && chmod(path, keep) < 0)
                return errno;
        if (lremovexattr(path, "security.capability") < 0 && errno != ENODATA && errno != ENOTSUP)
                return errno;
        return 0;
}

/* Walks the private, finished tree at dir (nothing else writes it; no
 * symlink is followed, no mount crossed). */
static int drop_special(const char *dir)
{
        int r = nftw(dir, drop_special_one, 32, FTW_PHYS | FTW_MOUNT);
        if (r < 0)
                return -errno;
        return -r;
}

static char *meta_dir(const char *root)
{
        return strdup_printf("%s/" TEMPLATE_META_DIR, root);
}

/* The metadata of template name: what made it and whether special files
 * were kept. Written before the tree appears under its name. */
static int meta_write(const char *root, const char *name, const char *origin, bool keep_special)
{
        _cleanup_free_ char *dir = meta_dir(root);
        _cleanup_free_ char *text = strdup_printf("origin=%s\nspecial-files=%s\n", origin,
                                                  keep_special ? "kept" : "dropped");
        if (!dir || !text)
                return -ENOMEM;
        int r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return -errno;
        return write_file_atomic(dfd, name, text, strlen(text), 0600);
}

static void meta_remove(const char *root, const char *name)
{
        _cleanup_free_ char *p = strdup_printf("%s/" TEMPLATE_META_DIR "/%s", root, name);
        if (p)
                (void) unlink(p);
}

/* Fills a fresh directory beside the cache by running argv (the tree's
 * path replaces argv[target_arg]), drops its special files unless
 * keep_special, records that, then renames it into place: a half-built tree
 * is never visible under its name. */
static int build_aside(const char *state_dir, const char *name, char *const argv_template[], int target_arg,
                       const char *origin, bool keep_special)
{
        _cleanup_free_ char *root = templates_root(state_dir);
        if (!root)
                return -ENOMEM;
        _cleanup_close_ int lock = lock_templates(root);
        if (lock < 0)
                return lock;
        _cleanup_free_ char *final = strdup_printf("%s/%s", root, name);
        _cleanup_free_ char *tmp = strdup_printf("%s/.build-%s.%d", root, name, (int) getpid());
        if (!final || !tmp)
                return -ENOMEM;
        struct stat st;
        if (lstat(final, &st) == 0)
                return -EEXIST;
        (void) rm_rf(tmp);
        if (mkdir(tmp, 0755) < 0)
                return -errno;
        char *argv[16];
        size_t i = 0;
        for (; argv_template[i] && i < ELEMENTSOF(argv) - 1; i++)
                argv[i] = (int) i == target_arg ? tmp : argv_template[i];
        argv[i] = NULL;
        int r = run_quiet(argv);
        if (r >= 0 && !keep_special)
                r = drop_special(tmp);
        if (r >= 0)
                r = meta_write(root, name, origin, keep_special);
        if (r < 0) {
                (void) rm_rf(tmp);
                return r;
        }
        (void) chmod(tmp, 0755);
        crashpoint_env("import-tree-built");
        if (rename(tmp, final) < 0) {
                r = -errno;
                meta_remove(root, name);
                (void) rm_rf(tmp);
                return r;
        }
        return 0;
}

int template_ensure(const char *state_dir, const char *name, char **ret_path)
{
        if (!name_is_valid(name))
                return -EINVAL;
        if (template_lookup(state_dir, name, ret_path) == 0)
                return 0;
        _cleanup_free_ char *dir = template_scripts_dir();
        _cleanup_free_ char *script = dir ? strdup_printf("%s/%s.sh", dir, name) : NULL;
        if (!script)
                return -ENOMEM;
        if (access(script, R_OK) < 0)
                return -ENOENT;
        char *argv[] = { "/bin/sh", script, "TARGET", NULL };
        int r = build_aside(state_dir, name, argv, 2, "build", false);
        if (r < 0 && r != -EEXIST) /* -EEXIST: built meanwhile by someone else */
                return r;
        return template_lookup(state_dir, name, ret_path);
}

int template_import(const char *state_dir, const char *name, const char *source, bool keep_special)
{
        if (!name_is_valid(name))
                return -EINVAL;
        struct stat st;
        if (stat(source, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode)) {
                _cleanup_free_ char *src = strdup_printf("%s/.", source);
                if (!src)
                        return -ENOMEM;
                char *argv[] = { "cp", "-a", "--", src, "TARGET", NULL };
                return build_aside(state_dir, name, argv, 4, "import", keep_special);
        }
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        char *argv[] = { "tar", "-x", "--numeric-owner", "-p", "-f", (char *) source, "-C", "TARGET", NULL };
        return build_aside(state_dir, name, argv, 7, "import", keep_special);
}

int template_remove(const char *state_dir, const char *name)
{
        _cleanup_free_ char *path = NULL;
        int r = template_lookup(state_dir, name, &path);
        if (r < 0)
                return r;
        _cleanup_free_ char *root = templates_root(state_dir);
        _cleanup_free_ char *tmp = root ? strdup_printf("%s/.remove-%s.%d", root, name, (int) getpid()) : NULL;
        if (!tmp)
                return -ENOMEM;
        /* Rename first so that nobody starts a container on a half-removed tree. */
        if (rename(path, tmp) < 0)
                return -errno;
        meta_remove(root, name);
        return rm_rf(tmp);
}

enum template_special template_special_files(const char *state_dir, const char *name)
{
        if (!name_is_valid(name))
                return TEMPLATE_SPECIAL_UNKNOWN;
        _cleanup_free_ char *root = templates_root(state_dir);
        _cleanup_free_ char *dir = root ? meta_dir(root) : NULL;
        if (!dir)
                return TEMPLATE_SPECIAL_UNKNOWN;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (dfd < 0 || read_file_at(dfd, name, 4096, &text, &len) < 0)
                return TEMPLATE_SPECIAL_UNKNOWN;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                if (n == strlen("special-files=kept") && strncmp(p, "special-files=kept", n) == 0)
                        return TEMPLATE_SPECIAL_KEPT;
                if (n == strlen("special-files=dropped") && strncmp(p, "special-files=dropped", n) == 0)
                        return TEMPLATE_SPECIAL_DROPPED;
                p += n + (p[n] == '\n');
        }
        return TEMPLATE_SPECIAL_UNKNOWN;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

int template_list(const char *state_dir, char ***ret)
{
        _cleanup_free_ char *root = templates_root(state_dir);
        if (!root)
                return -ENOMEM;
        char **v = calloc(1, sizeof(char *));
        if (!v)
                return -ENOMEM;
        DIR *d = opendir(root);
        if (d) {
                struct dirent *de;
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.' && de->d_type == DT_DIR && name_is_valid(de->d_name))
                                (void) strv_push(&v, de->d_name);
                closedir(d);
        }
        qsort(v, strv_length(v), sizeof(char *), cmp_str);
        *ret = v;
        return 0;
}

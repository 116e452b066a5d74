/* Owns berth's use of CRIU (checkpoint/restore in userspace): runs the
 * `criu` program of the Debian package (its CLI; $BERTH_CRIU overrides the
 * path), checks first that it can work on this kernel, and turns its log
 * into one-line reasons. Blocks: called only off berthd's event loop (a
 * layer worker). */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "error.h"

/* The program run: $BERTH_CRIU, else "criu" (looked up in PATH). */
const char *criu_program(void);

/* `criu check`: 0 when CRIU can checkpoint on this host; else -EOPNOTSUPP
 * with e = CRIU's own reason ("criu check: vdso: Unexpected rt vDSO area
 * bounds; ..."), -ENOENT when criu is not installed. */
int criu_check(struct error *e);

/* Pure: the "Error (file:line): MESSAGE" lines of CRIU's output text,
 * their MESSAGEs joined with "; " into out (at most size - 1 bytes); the
 * last non-empty line when there is none. */
void criu_reason(const char *text, char *out, size_t size);

/* Whether CRIU could restore what it would dump of the tree of init pid:
 * -EOPNOTSUPP with e set when a process runs from a memory file (memfd:
 * berth's sealed init with init = true), which no CRIU restores as a
 * process's executable (its exe link must be a regular file); else 0.
 * Only the main threads' children are followed. */
int criu_restorable(pid_t pid, struct error *e);

/* Dumps the process tree of init pid into images_dir (which exists),
 * dump.log beside the images. The container's network namespace (inode
 * netns) is external: it is recreated by berth at restore. With
 * leave_running the processes go on after the dump, else CRIU kills
 * them. With pre_dump, `criu pre-dump` instead: the memory only, with
 * memory tracking, the processes go on (a live migration's rounds); with
 * prev_images_dir (relative to images_dir, as CRIU takes it: it becomes the
 * images' "parent" link) the pages unchanged since that pre-dump are left
 * out; track_mem (implied by pre_dump) for the final dump after pre-dumps.
 * 0, or -errno with e set (the reasons from dump.log). */
struct criu_dump_params {
        pid_t pid;
        const char *images_dir;
        const char *cgroup; /* the cgroup CRIU freezes for the dump (a directory), or NULL */
        bool leave_running;
        bool pre_dump, track_mem;
        const char *prev_images_dir; /* or NULL */
};
int criu_dump(const struct criu_dump_params *p, struct error *e);

/* The restore, in a child made for it (it execs criu and never returns):
 * the images of images_dir restored under root (the container's root file
 * system, mounted), detached, the restored init a sibling of the caller
 * (so a child of the caller's parent), its pid written to pidfile. The
 * network namespace given as netns_fd replaces the checkpointed one; each
 * stdio[i] >= 0 replaces the pipe the checkpointed init had as fd i (as
 * recorded in images_dir/berth-stdio). Log: images_dir/restore.log. */
struct criu_restore_params {
        const char *images_dir;
        const char *root;
        const char *pidfile;
        int netns_fd;
        int stdio[3];
};
_Noreturn void criu_restore_exec(const struct criu_restore_params *p);

/* After a failed restore (the child's exit status): e says why, from
 * images_dir/restore.log. Returns -EIO. */
int criu_restore_failed(const char *images_dir, int status, struct error *e);

/* cgroup v2 backend: one unified hierarchy at /sys/fs/cgroup. Its state: own
 * cgroup and base B, and one directory fd per cgroup. */
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/bpf.h>
#include <poll.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include "cgroup_backend.h"
#include "util.h"

#define CG_ROOT "/sys/fs/cgroup"

#define CG_V2_WANTED                                                                               \
        ((1u << CG_CPU) | (1u << CG_CPUSET) | (1u << CG_BLKIO) | (1u << CG_MEMORY) |               \
         (1u << CG_PIDS))

struct v2_manager {
        struct cgroup_manager m;
        char *own;  /* absolute directory of the own cgroup */
        char *base; /* B */
        bool base_is_root;
        int frozen_dfd; /* B/berth (cgroup_read_small_below) */
};

struct v2_cgroup {
        struct cgroup cg;
        char *path;
        int fd;
};

static struct v2_manager *v2m(const struct cgroup_manager *m)
{
        return (struct v2_manager *) m;
}

static struct v2_cgroup *v2cg(const struct cgroup *cg)
{
        return (struct v2_cgroup *) cg;
}

static const char *v2_name(int c)
{
        return c == CG_BLKIO ? "io" : cgroup_controller_names[c];
}

static unsigned parse_controllers(const char *text)
{
        unsigned bits = 0;
        for (const char *p = text; *p;) {
                size_t len = strcspn(p, " \n");
                for (int c = 0; c < CG_N; c++)
                        if ((CG_V2_WANTED & (1u << c)) && len == strlen(v2_name(c)) &&
                            strncmp(p, v2_name(c), len) == 0)
                                bits |= 1u << c;
                p += len;
                p += strspn(p, " \n");
        }
        return bits;
}

static int v2_open(struct cgroup_manager *gm, const struct cgroup_sources *src)
{
        struct v2_manager *m = v2m(gm);
        const char *root = src->root ? src->root : CG_ROOT;
        _cleanup_free_ char *self = NULL, *rel = NULL;
        int r = src->proc_text ? ((self = strdup(src->proc_text)) ? 0 : -ENOMEM)
                               : cgroup_read_at(AT_FDCWD, "/proc/self/cgroup", &self);
        if (r < 0)
                return r;
        r = cgroup_parse_proc_cgroup(self, "", &rel);
        if (r < 0)
                return r == -ENOENT ? -ENOMEDIUM : r;
        if (strstr(rel, "/.."))
                return -EINVAL;
        if (streq(rel, "/"))
                rel[0] = 0;
        m->own = strdup_printf("%s%s", root, rel);
        if (!m->own)
                return -ENOMEM;
        /* Already in the supervisor leaf (DelegateSubgroup=supervisor or an
         * earlier claim): the base is its parent. */
        char *slash = strrchr(rel, '/');
        if (slash && streq(slash, "/supervisor"))
                *slash = 0;
        m->base = strdup_printf("%s%s", root, rel);
        if (!m->base)
                return -ENOMEM;
        m->base_is_root = rel[0] == 0;
        _cleanup_close_ int fd = open(m->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *ctl = NULL;
        r = cgroup_read_at(fd, "cgroup.controllers", &ctl);
        if (r < 0)
                return r;
        gm->available = parse_controllers(ctl);
        return 0;
}

/* Enables every available controller in dfd's subtree_control. */
static int enable_subtree(int dfd, unsigned available)
{
        _cleanup_free_ char *cur = NULL;
        int r = cgroup_read_at(dfd, "cgroup.subtree_control", &cur);
        if (r < 0)
                return r;
        unsigned have = parse_controllers(cur);
        for (int c = 0; c < CG_N; c++) {
                if (!(available & (1u << c)) || (have & (1u << c)))
                        continue;
                char buf[16];
                snprintf(buf, sizeof buf, "+%s", v2_name(c));
                r = cgroup_write_at(dfd, "cgroup.subtree_control", buf);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void v2_done(struct cgroup_manager *m)
{
        free(v2m(m)->own);
        free(v2m(m)->base);
        cgroup_below_close(&v2m(m)->frozen_dfd);
}

static const char *v2_base(const struct cgroup_manager *m)
{
        return v2m(m)->base;
}

static int v2_claim(struct cgroup_manager *gm)
{
        struct v2_manager *m = v2m(gm);
        _cleanup_close_ int base = open(m->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base < 0)
                return -errno;
        if (!m->base_is_root && streq(m->own, m->base)) {
                if (mkdirat(base, "supervisor", 0755) < 0 && errno != EEXIST)
                        return -errno;
                _cleanup_close_ int sup =
                        openat(base, "supervisor", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (sup < 0)
                        return -errno;
                /* Move every process of the delegated cgroup (they are all
                 * ours); repeat while forks race with us, bounded. */
                bool empty = false;
                for (int round = 0; round < 16 && !empty; round++) {
                        _cleanup_free_ char *procs = NULL;
                        int r = cgroup_read_at(base, "cgroup.procs", &procs);
                        if (r < 0)
                                return r;
                        empty = true;
                        for (char *p = procs; *p;) {
                                size_t len = strcspn(p, "\n");
                                char pid[16];
                                if (len > 0 && len < sizeof pid) {
                                        memcpy(pid, p, len);
                                        pid[len] = 0;
                                        r = cgroup_write_at(sup, "cgroup.procs", pid);
                                        if (r < 0 && r != -ESRCH)
                                                return r;
                                        empty = false;
                                }
                                p += len;
                                p += strspn(p, "\n");
                        }
                }
                if (!empty)
                        return -EBUSY;
                char *own = strdup_printf("%s/supervisor", m->base);
                if (!own)
                        return -ENOMEM;
                free(m->own);
                m->own = own;
        }
        return enable_subtree(base, gm->available);
}

static int v2_create(struct cgroup *cg, bool mk)
{
        struct v2_manager *m = v2m(cg->m);
        unsigned available = cg->m->available;
        v2cg(cg)->fd = -1;
        _cleanup_free_ char *berth = strdup_printf("%s/berth", m->base);
        if (!berth)
                return -ENOMEM;
        if (!mk)
                return cgroup_open_dir(berth, cg->name, false, &v2cg(cg)->fd, &v2cg(cg)->path);
        _cleanup_close_ int base = open(m->base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (base < 0)
                return -errno;
        /* A base that still holds processes (not claimed) must not be
         * touched: the kernel lets threaded controllers (cpuset, cpu, pids)
         * be enabled there and then refuses domain children and the claim
         * (EOPNOTSUPP). The root cgroup is exempt from the rule. */
        if (!m->base_is_root) {
                _cleanup_free_ char *procs = NULL;
                int q = cgroup_read_at(base, "cgroup.procs", &procs);
                if (q < 0)
                        return q;
                if (procs[strspn(procs, "\n")])
                        return -EBUSY;
        }
        int r = enable_subtree(base, available);
        if (r < 0)
                return r;
        for (int attempt = 0; attempt < 4; attempt++) {
                if (mkdir(berth, 0755) < 0 && errno != EEXIST)
                        return -errno;
                _cleanup_close_ int bfd = open(berth, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (bfd < 0 && errno == ENOENT)
                        continue;
                if (bfd < 0)
                        return -errno;
                r = enable_subtree(bfd, available);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                r = cgroup_open_dir(berth, cg->name, true, &v2cg(cg)->fd, &v2cg(cg)->path);
                if (r != -ENOENT)
                        return r;
        }
        return r;
}

static void v2_cgroup_done(struct cgroup *cg)
{
        if (v2cg(cg)->fd >= 0)
                (void) close(v2cg(cg)->fd);
        free(v2cg(cg)->path);
}

static const char *v2_path(const struct cgroup *cg)
{
        return v2cg(cg)->path;
}

static const char *v2_controller_path(const struct cgroup *cg, int c)
{
        (void) c; /* one hierarchy */
        return v2cg(cg)->path;
}

static int v2_attach(struct cgroup *cg, pid_t pid)
{
        char buf[32];
        snprintf(buf, sizeof buf, "%d", (int) pid);
        return cgroup_write_at(v2cg(cg)->fd, "cgroup.procs", buf);
}

/* The new process is born into the cgroup: clone3 CLONE_INTO_CGROUP. */
static int v2_place(struct cgroup *cg, struct cgroup_placement *p)
{
        p->clone_into_fd = v2cg(cg)->fd;
        p->n_join_fds = 0;
        return 0;
}

/* Lowering memory.max below the usage makes the kernel OOM-kill instead of
 * failing: reclaim first and refuse when that is not possible. */
static int memory_lower_check(int fd, uint64_t limit, struct error *e)
{
        uint64_t cur;
        if (cgroup_read_u64_at(fd, "memory.current", &cur) < 0 || cur <= limit)
                return 0;
        int r = -EBUSY;
        if (cgroup_file_exists_at(fd, "memory.reclaim")) {
                char buf[32];
                snprintf(buf, sizeof buf, "%" PRIu64, cur - limit);
                r = cgroup_write_at(fd, "memory.reclaim", buf);
                if (r >= 0 && cgroup_read_u64_at(fd, "memory.current", &cur) >= 0 && cur <= limit)
                        return 0;
                if (r >= 0)
                        r = -EBUSY;
        }
        return error_set(e, r, "limits.memory: usage %" PRIu64 " bytes cannot be reclaimed below %" PRIu64, cur,
                         limit);
}

static int v2_apply_limits(struct cgroup *cg, const struct spec_limits *l, struct error *e)
{
        struct cgroup_undo u = {.n = 0};
        int fd = v2cg(cg)->fd, notes = 0, r = 0;
        const char *key = NULL;
        char a[64];

        if (cgroup_file_exists_at(fd, "memory.max")) {
                key = "memory";
                if (l->memory) {
                        r = memory_lower_check(fd, l->memory, e);
                        if (r < 0) {
                                cgroup_undo_rollback(&u);
                                return r;
                        }
                        snprintf(a, sizeof a, "%" PRIu64, l->memory);
                } else
                        snprintf(a, sizeof a, "max");
                r = cgroup_undo_write(&u, fd, "memory.max", a);
                if (r < 0)
                        goto fail;
                key = "memory-swap";
                if (cgroup_file_exists_at(fd, "memory.swap.max")) {
                        /* v2 limits swap alone; the spec counts memory plus swap. */
                        if (l->memory_swap > 0 && (uint64_t) l->memory_swap >= l->memory)
                                snprintf(a, sizeof a, "%" PRIu64,
                                         (uint64_t) l->memory_swap - l->memory);
                        else
                                snprintf(a, sizeof a, "max");
                        r = cgroup_undo_write(&u, fd, "memory.swap.max", a);
                        if (r < 0)
                                goto fail;
                } else if (l->memory_swap > 0)
                        cgroup_add_note(e, &notes, "memory-swap",
                                 "no swap accounting on this host, skipped");
        } else if (l->memory || l->memory_swap > 0)
                cgroup_add_note(e, &notes, "memory",
                         "no memory controller on this host, skipped");

        if (cgroup_file_exists_at(fd, "cpu.max")) {
                key = "cpus";
                if (l->cpus_milli)
                        snprintf(a, sizeof a, "%" PRIu64 " 100000",
                                 cgroup_cpus_to_quota(l->cpus_milli, 100000));
                else
                        snprintf(a, sizeof a, "max 100000");
                r = cgroup_undo_write(&u, fd, "cpu.max", a);
                if (r < 0)
                        goto fail;
                key = "cpu-weight";
                snprintf(a, sizeof a, "%" PRIu32, l->cpu_weight ? l->cpu_weight : 100);
                r = cgroup_undo_write(&u, fd, "cpu.weight", a);
                if (r < 0)
                        goto fail;
        } else if (l->cpus_milli || l->cpu_weight)
                cgroup_add_note(e, &notes, "cpus", "no cpu controller on this host, skipped");

        if (cgroup_file_exists_at(fd, "cpuset.cpus")) {
                key = "cpuset";
                /* Empty means: the parent's CPUs. */
                r = cgroup_undo_write(&u, fd, "cpuset.cpus", l->cpuset ? l->cpuset : "");
                if (r < 0)
                        goto fail;
        } else if (l->cpuset)
                cgroup_add_note(e, &notes, "cpuset",
                         "no cpuset controller on this host, skipped");

        if (cgroup_file_exists_at(fd, "pids.max")) {
                key = "pids";
                if (l->pids)
                        snprintf(a, sizeof a, "%" PRIu32, l->pids);
                else
                        snprintf(a, sizeof a, "max");
                r = cgroup_undo_write(&u, fd, "pids.max", a);
                if (r < 0)
                        goto fail;
        } else if (l->pids)
                cgroup_add_note(e, &notes, "pids", "no pids controller on this host, skipped");

        key = "io-weight";
        if (cgroup_file_exists_at(fd, "io.weight")) {
                snprintf(a, sizeof a, "default %" PRIu32, l->io_weight ? l->io_weight : 100);
                r = cgroup_undo_write(&u, fd, "io.weight", a);
        } else if (cgroup_file_exists_at(fd, "io.bfq.weight")) {
                snprintf(a, sizeof a, "%" PRIu32,
                         l->io_weight ? cgroup_io_weight_to_bfq(l->io_weight) : 100);
                r = cgroup_undo_write(&u, fd, "io.bfq.weight", a);
        } else if (l->io_weight)
                cgroup_add_note(e, &notes, "io-weight",
                         "no io.weight or io.bfq.weight on this host, skipped");
        if (r < 0)
                goto fail;
        r = cgroup_apply_io_max(&u, fd, true, l, e, &notes);
        if (r < 0) {
                cgroup_undo_rollback(&u);
                return r;
        }
        return notes ? 1 : 0;

fail:
        cgroup_undo_rollback(&u);
        (void) error_set(e, r, "limits.%s", key);
        return r;
}

/* ---- devices: a BPF_CGROUP_DEVICE program ---- */

#define INSN(c, d, s, o, i)                                                                        \
        ((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define EXIT_INSN() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static const struct {
        uint32_t major;
        int32_t minor; /* -1 = any */
} allowed_char_devices[] = {
        {1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}, {136, -1},
};

#define RSH32_IMM(d, i) INSN(BPF_ALU | BPF_RSH | BPF_K, d, 0, 0, i)
#define MOV64_REG(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)

/* Allows read, write and mknod of the listed character devices, and what
 * each extra rule allows of its device; denies everything else (the
 * program returns 1 to allow, 0 to deny). Returns the number of
 * instructions, 0 when max is too small. */
size_t cgroup_v2_device_program(struct bpf_insn *p, size_t max, const struct cgroup_device_rule *extra, size_t n_extra)
{
        size_t n = 0;
        if (max < 8 + 5 * ELEMENTSOF(allowed_char_devices) + 8 * n_extra)
                return 0;
        p[n++] = LDX_W(BPF_REG_2, BPF_REG_1, 0);        /* access_type */
        p[n++] = ALU32_IMM(BPF_AND, BPF_REG_2, 0xffff); /* device type */
        p[n++] = LDX_W(BPF_REG_3, BPF_REG_1, 0);
        p[n++] = RSH32_IMM(BPF_REG_3, 16);              /* access asked for */
        p[n++] = LDX_W(BPF_REG_4, BPF_REG_1, 4);        /* major */
        p[n++] = LDX_W(BPF_REG_5, BPF_REG_1, 8);        /* minor */
        for (size_t i = 0; i < ELEMENTSOF(allowed_char_devices); i++) {
                bool any_minor = allowed_char_devices[i].minor < 0;
                short skip = any_minor ? 3 : 4; /* instructions left in this block */
                p[n++] = JNE_IMM(BPF_REG_2, BPF_DEVCG_DEV_CHAR, skip);
                p[n++] = JNE_IMM(BPF_REG_4, (int32_t) allowed_char_devices[i].major, skip - 1);
                if (!any_minor)
                        p[n++] = JNE_IMM(BPF_REG_5, allowed_char_devices[i].minor, skip - 2);
                p[n++] = MOV64_IMM(BPF_REG_0, 1);
                p[n++] = EXIT_INSN();
        }
        for (size_t i = 0; i < n_extra; i++) { /* 8 instructions each */
                const struct cgroup_device_rule *r = &extra[i];
                int32_t type = r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR;
                p[n++] = JNE_IMM(BPF_REG_2, type, 7);
                p[n++] = JNE_IMM(BPF_REG_4, (int32_t) r->major, 6);
                p[n++] = JNE_IMM(BPF_REG_5, (int32_t) r->minor, 5);
                p[n++] = MOV64_REG(BPF_REG_0, BPF_REG_3);
                p[n++] = ALU32_IMM(BPF_AND, BPF_REG_0, (int32_t) (~r->access & 7u)); /* asked, not allowed */
                p[n++] = JNE_IMM(BPF_REG_0, 0, 2);
                p[n++] = MOV64_IMM(BPF_REG_0, 1);
                p[n++] = EXIT_INSN();
        }
        p[n++] = MOV64_IMM(BPF_REG_0, 0);
        p[n++] = EXIT_INSN();
        return n;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
        long r = syscall(SYS_bpf, cmd, attr, sizeof *attr);
        return r < 0 ? -errno : (int) r;
}

static int v2_apply_devices(struct cgroup *cg, const struct cgroup_device_rule *extra, size_t n_extra)
{
        union bpf_attr q;
        uint32_t ids[8];
        memset(&q, 0, sizeof q);
        q.query.target_fd = (uint32_t) v2cg(cg)->fd;
        q.query.attach_type = BPF_CGROUP_DEVICE;
        q.query.prog_ids = (uint64_t) (uintptr_t) ids;
        q.query.prog_cnt = ELEMENTSOF(ids);
        int r = bpf_call(BPF_PROG_QUERY, &q);
        if (r >= 0 && q.query.prog_cnt > 0)
                return 0; /* already restricted (re-adopted container) */

        struct bpf_insn insns[64 + 8 * CGROUP_DEVICES_MAX];
        size_t n = cgroup_v2_device_program(insns, ELEMENTSOF(insns), extra, n_extra);
        if (n == 0)
                return -E2BIG;
        union bpf_attr load;
        memset(&load, 0, sizeof load);
        load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        load.insns = (uint64_t) (uintptr_t) insns;
        load.insn_cnt = (uint32_t) n;
        load.license = (uint64_t) (uintptr_t) "GPL";
        _cleanup_close_ int prog = bpf_call(BPF_PROG_LOAD, &load);
        if (prog < 0)
                return prog;
        union bpf_attr at;
        memset(&at, 0, sizeof at);
        at.target_fd = (uint32_t) v2cg(cg)->fd;
        at.attach_bpf_fd = (uint32_t) prog;
        at.attach_type = BPF_CGROUP_DEVICE;
        at.attach_flags = BPF_F_ALLOW_MULTI;
        r = bpf_call(BPF_PROG_ATTACH, &at);
        return r < 0 ? r : 0; /* the attachment keeps the program alive */
}

/* ---- events ---- */

/* Waits until cgroup.events shows "key want", woken by the kernel's
 * POLLPRI notification, at most timeout microseconds. */
static int wait_event(int dfd, const char *key, uint64_t want, usec_t timeout)
{
        _cleanup_close_ int fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        usec_t deadline = cgroup_now() + timeout;
        for (;;) {
                char buf[256];
                ssize_t len = pread(fd, buf, sizeof buf - 1, 0);
                if (len < 0)
                        return -errno;
                buf[len] = 0;
                uint64_t v;
                int r = cgroup_parse_keyed(buf, key, &v);
                if (r < 0)
                        return r == -ENOENT ? -EOPNOTSUPP : r;
                if (v == want)
                        return 0;
                usec_t now = cgroup_now();
                if (now >= deadline)
                        return -ETIMEDOUT;
                struct pollfd pfd = {.fd = fd, .events = POLLPRI};
                int ms = (int) ((deadline - now + 999) / 1000);
                if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
                        return -errno;
        }
}

static int v2_set_frozen(struct cgroup *cg, bool frozen)
{
        if (!cgroup_file_exists_at(v2cg(cg)->fd, "cgroup.freeze"))
                return -EOPNOTSUPP;
        int r = cgroup_write_at(v2cg(cg)->fd, "cgroup.freeze", frozen ? "1" : "0");
        if (r < 0)
                return r;
        return wait_event(v2cg(cg)->fd, "frozen", frozen ? 1 : 0, 5000000);
}

static int v2_is_frozen(struct cgroup *cg)
{
        int fd = v2cg(cg)->fd;
        if (!cgroup_file_exists_at(fd, "cgroup.freeze"))
                return 0;
        _cleanup_free_ char *s = NULL;
        int r = cgroup_read_at(fd, "cgroup.freeze", &s);
        if (r < 0)
                return r;
        return s[0] == '1'; /* the requested state */
}

static int v2_name_is_frozen(const struct cgroup_manager *m, const char *name)
{
        char dir[PATH_MAX], s[8];
        if (snprintf(dir, sizeof dir, "%s/berth", v2m(m)->base) >= (int) sizeof dir)
                return -ENAMETOOLONG;
        int r = cgroup_read_small_below(&v2m(m)->frozen_dfd, dir, name, "cgroup.freeze", s, sizeof s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return s[0] == '1'; /* the requested state */
}

static int v2_is_empty(struct cgroup *cg)
{
        _cleanup_free_ char *ev = NULL;
        int r = cgroup_read_at(v2cg(cg)->fd, "cgroup.events", &ev);
        if (r < 0)
                return r;
        uint64_t v;
        r = cgroup_parse_keyed(ev, "populated", &v);
        if (r < 0)
                return r;
        return v == 0;
}

static int v2_wait_empty(struct cgroup *cg, usec_t timeout)
{
        return wait_event(v2cg(cg)->fd, "populated", 0, timeout);
}

static int v2_kill(struct cgroup *cg)
{
        if (!cgroup_file_exists_at(v2cg(cg)->fd, "cgroup.kill"))
                return -ENOENT;
        return cgroup_write_at(v2cg(cg)->fd, "cgroup.kill", "1");
}

static int v2_stats(struct cgroup *cg, struct cgroup_stats *st)
{
        int fd = v2cg(cg)->fd;
        _cleanup_free_ char *cpu = NULL, *io = NULL, *ev = NULL;
        (void) cgroup_read_u64_at(fd, "memory.current", &st->memory_current);
        (void) cgroup_read_u64_at(fd, "memory.peak", &st->memory_peak);
        (void) cgroup_read_u64_at(fd, "pids.current", &st->pids_current);
        (void) cgroup_read_u64_at(fd, "memory.max", &st->memory_limit); /* "max": UNKNOWN */
        (void) cgroup_read_u64_at(fd, "pids.max", &st->pids_limit);
        uint64_t usec;
        if (cgroup_read_at(fd, "cpu.stat", &cpu) >= 0 &&
            cgroup_parse_keyed(cpu, "usage_usec", &usec) >= 0)
                st->cpu_usage_ns = usec * 1000;
        if (cgroup_read_at(fd, "io.stat", &io) >= 0 &&
            cgroup_parse_io_stat(io, &st->io_read_bytes, &st->io_write_bytes) < 0)
                st->io_read_bytes = st->io_write_bytes = CGROUP_STAT_UNKNOWN;
        if (cgroup_read_at(fd, "memory.events", &ev) >= 0 &&
            cgroup_parse_keyed(ev, "oom_kill", &st->oom_kills) < 0)
                st->oom_kills = CGROUP_STAT_UNKNOWN;
        return 0;
}

static int v2_procs_fd(struct cgroup *cg)
{
        return v2cg(cg)->fd >= 0 ? v2cg(cg)->fd : -ENOENT;
}

static int v2_remove(struct cgroup *cg)
{
        _cleanup_free_ char *berth = strdup_printf("%s/berth", v2m(cg->m)->base);
        if (!berth)
                return -ENOMEM;
        _cleanup_close_ int bfd = open(berth, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (bfd < 0)
                return errno == ENOENT ? 0 : -errno;
        int r = cgroup_rmdir_tree(bfd, cg->name, 0);
        (void) rmdir(berth); /* fails while other containers exist */
        return r;
}

static const char *v2_controller_name(int c)
{
        return v2_name(c);
}

const struct cgroup_backend_ops cgroup_v2_ops = {
        .version = 2,
        .manager_size = sizeof(struct v2_manager),
        .cgroup_size = sizeof(struct v2_cgroup),
        .wanted = CG_V2_WANTED,
        .controller_name = v2_controller_name,
        .places_at_clone = true,
        .open = v2_open,
        .done = v2_done,
        .base = v2_base,
        .claim = v2_claim,
        .create = v2_create,
        .cgroup_done = v2_cgroup_done,
        .path = v2_path,
        .controller_path = v2_controller_path,
        .apply_limits = v2_apply_limits,
        .apply_devices = v2_apply_devices,
        .attach = v2_attach,
        .place = v2_place,
        .set_frozen = v2_set_frozen,
        .is_frozen = v2_is_frozen,
        .name_is_frozen = v2_name_is_frozen,
        .kill = v2_kill,
        .is_empty = v2_is_empty,
        .wait_empty = v2_wait_empty,
        .stats = v2_stats,
        .procs_fd = v2_procs_fd,
        .remove = v2_remove,
};

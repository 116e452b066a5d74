#include "health.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup.h"
#include "spawn.h"
#include "state.h"
#include "util.h"

/* ---- pure ---------------------------------------------------------------------- */

void health_state_reset(struct health_state *s)
{
        *s = (struct health_state){ .status = HEALTH_STARTING, .in_start_period = true };
}

health_transition_t health_record(struct health_state *s, const struct spec_health *h, usec_t since_start,
                                  const struct health_result *r)
{
        s->last[s->n_results % HEALTH_LAST_N] = *r;
        s->n_results++;
        if (r->ok) {
                s->failures = 0;
                s->in_start_period = false;
                if (s->status == HEALTH_HEALTHY)
                        return HEALTH_TRANSITION_NONE;
                s->status = HEALTH_HEALTHY;
                return HEALTH_TRANSITION_HEALTHY;
        }
        if (s->in_start_period && since_start < h->start_period)
                return HEALTH_TRANSITION_NONE;
        s->in_start_period = false;
        if (s->failures < UINT32_MAX)
                s->failures++;
        uint32_t retries = h->retries ? h->retries : 1;
        if (s->failures < retries || s->status == HEALTH_UNHEALTHY)
                return HEALTH_TRANSITION_NONE;
        s->status = HEALTH_UNHEALTHY;
        return HEALTH_TRANSITION_UNHEALTHY;
}

const struct health_result *health_state_result(const struct health_state *s, uint32_t i)
{
        if (i >= s->n_results || i >= HEALTH_LAST_N)
                return NULL;
        return &s->last[(s->n_results - 1 - i) % HEALTH_LAST_N];
}

const char *health_status_to_string(health_status_t s)
{
        switch (s) {
        case HEALTH_STARTING:
                return "starting";
        case HEALTH_HEALTHY:
                return "healthy";
        case HEALTH_UNHEALTHY:
                return "unhealthy";
        }
        return "?";
}

/* ---- probes ---------------------------------------------------------------------- */

enum probe_kind { PROBE_COMMAND, PROBE_TCP, PROBE_HTTP };

struct health_probe {
        enum probe_kind kind;
        int epfd;
        int evfd; /* readable once a probe is done without any other fd */
        bool done;
        struct health_result res;
        usec_t started_mono;

        /* command */
        int run_fd; /* through the spawner: its answer comes here; closed = cancelled */
        struct exec_session *session; /* until the command exec'd */
        void (*reap_later)(void *userdata, pid_t pid);
        void *reap_userdata;
        pid_t pid; /* leads its process group */
        int pidfd;
        bool reaped; /* the leader was waited for, or handed to reap_later */
        int out_fd;
        char out[HEALTH_OUTPUT_MAX];
        size_t out_len;
        char *cg_name;
        pid_t init_pid;
        struct cgroup_manager **cgroup_cache;
        unsigned *cgroup_cache_gen;

        /* tcp, http */
        int sock;
        int sock_req; /* the spawner's answer to a socket request, until it came */
        bool connected;
        struct sockaddr_in sa;
        uint16_t want_status;
        char request[1200];
        char resp[256];
        size_t resp_len;
};

static usec_t now_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (usec_t) ts.tv_sec * SPEC_USEC_PER_SEC + (usec_t) ts.tv_nsec / 1000;
}

static uint64_t now_realtime(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * SPEC_USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000;
}

static void close_fd(int *fd)
{
        if (*fd >= 0)
                (void) close(*fd);
        *fd = -1;
}

/* The first lines of text that fit a result (cut at a line end when cut). */
static void first_lines(char *dst, size_t size, const char *src, size_t len)
{
        if (len >= size) {
                len = size - 1;
                const char *nl = memrchr(src, '\n', len);
                if (nl && nl > src)
                        len = (size_t) (nl - src) + 1;
        }
        memcpy(dst, src, len);
        dst[len] = 0;
        for (size_t i = 0; i < len; i++) /* a result is text */
                if (dst[i] == 0)
                        dst[i] = ' ';
}

static void finish(struct health_probe *p, bool ok, const char *fmt, ...) _printf_(3, 4);
static void finish(struct health_probe *p, bool ok, const char *fmt, ...)
{
        p->done = true;
        p->res.ok = ok;
        p->res.duration = now_mono() - p->started_mono;
        if (fmt) {
                char buf[HEALTH_RESULT_OUTPUT_MAX];
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(buf, sizeof buf, fmt, ap);
                va_end(ap);
                snprintf(p->res.output, sizeof p->res.output, "%s", buf);
        }
        close_fd(&p->sock);
        uint64_t one = 1;
        (void) !write(p->evfd, &one, sizeof one);
}

static int watch(struct health_probe *p, int fd, uint32_t events, int op)
{
        struct epoll_event ev = { .events = events, .data.fd = fd };
        return epoll_ctl(p->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

/* A socket that lives in the container's network namespace, made by a
 * short-lived child that joins it. */
static int socket_in_netns(const struct exec_target *t, int *ret)
{
        _cleanup_close_ int initfd = -1;
        int r = state_pidfd_verified(t->init_pid, t->init_start, &initfd);
        if (r < 0)
                return -ESRCH;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                r = -errno;
                close(sv[0]);
                close(sv[1]);
                return r;
        }
        if (pid == 0) {
                close(sv[0]);
                int e = 0;
                int s = -1;
                if (setns(initfd, CLONE_NEWNET) < 0)
                        e = errno;
                else if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) < 0)
                        e = errno;
                char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
                struct iovec iov = { .iov_base = &e, .iov_len = sizeof e };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
                if (s >= 0) {
                        mh.msg_control = cbuf;
                        mh.msg_controllen = sizeof cbuf;
                        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                        c->cmsg_level = SOL_SOCKET;
                        c->cmsg_type = SCM_RIGHTS;
                        c->cmsg_len = CMSG_LEN(sizeof(int));
                        memcpy(CMSG_DATA(c), &s, sizeof(int));
                }
                _exit(sendmsg(sv[1], &mh, MSG_NOSIGNAL) < 0 ? 1 : 0);
        }
        close(sv[1]);
        int e = EPROTO, fd = -1;
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { .iov_base = &e, .iov_len = sizeof e };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
        ssize_t k;
        do
                k = recvmsg(sv[0], &mh, MSG_CMSG_CLOEXEC);
        while (k < 0 && errno == EINTR);
        if (k == (ssize_t) sizeof e)
                for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                                memcpy(&fd, CMSG_DATA(c), sizeof(int));
        close(sv[0]);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        if (fd < 0)
                return -(e ? e : EPROTO);
        *ret = fd;
        return 0;
}

/* The socket is there: connect (non-blocking) and watch. */
static void do_connect(struct health_probe *p)
{
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &p->sa.sin_addr, addr, sizeof addr);
        unsigned port = ntohs(p->sa.sin_port);
        int r;
        if (connect(p->sock, (struct sockaddr *) &p->sa, sizeof p->sa) < 0 && errno != EINPROGRESS)
                return finish(p, false, "connect to %s:%u: %s", addr, port, strerror(errno));
        if ((r = watch(p, p->sock, EPOLLOUT, EPOLL_CTL_ADD)) < 0)
                return finish(p, false, "epoll: %s", strerror(-r));
}

static void socket_made(struct health_probe *p, int r)
{
        if (r == -ESRCH)
                return finish(p, false, "container '%s' is not running", p->cg_name ? p->cg_name : "?");
        if (r < 0)
                return finish(p, false, "cannot create a socket: %s", strerror(-r));
        do_connect(p);
}

static void start_connect(struct health_probe *p, const struct health_target *t, const struct spec_health *h)
{
        const struct spec_container *c = t->exec.spec;
        p->sa = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons(h->tcp_port) };
        bool in_netns = false;
        if (c->net_mode == NET_BRIDGE && !spec_container_external_net(c) && t->address.s_addr)
                p->sa.sin_addr = t->address;
        else {
                p->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
                in_netns = c->net_mode != NET_HOST;
        }
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &p->sa.sin_addr, addr, sizeof addr);
        if (p->kind == PROBE_HTTP) {
                int n = snprintf(p->request, sizeof p->request,
                                 "GET %s HTTP/1.0\r\nHost: %s:%u\r\nUser-Agent: berth-health\r\nConnection: close\r\n\r\n",
                                 h->http_path, addr, (unsigned) h->tcp_port);
                if (n < 0 || (size_t) n >= sizeof p->request)
                        return finish(p, false, "http path too long");
        }
        int r;
        if (in_netns && t->exec.spawner) {
                /* Made by the spawner (it joins the namespace and comes
                 * back; no process per probe): the answer is one more fd. */
                r = exec_spawner_socket_request(t->exec.spawner, t->exec.init_pid, t->exec.init_start, &p->sock_req);
                if (r < 0)
                        return finish(p, false, "cannot create a socket: the probe spawner: %s", strerror(-r));
                if ((r = watch(p, p->sock_req, EPOLLIN, EPOLL_CTL_ADD)) < 0)
                        return finish(p, false, "epoll: %s", strerror(-r));
                return;
        }
        if (in_netns)
                r = socket_in_netns(&t->exec, &p->sock);
        else {
                p->sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                r = p->sock < 0 ? -errno : 0;
        }
        socket_made(p, r);
}

static void handle_sock_req(struct health_probe *p)
{
        int r = exec_spawner_socket_take(p->sock_req, &p->sock);
        if (r == -EAGAIN)
                return;
        (void) epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->sock_req, NULL);
        close_fd(&p->sock_req);
        socket_made(p, r);
}

static void command_failed(struct health_probe *p, int r, const char *err)
{
        p->res.exit_status = exec_exit_code(r);
        if (r == -ENOENT)
                return finish(p, false, "command not found in the container: %s", err);
        return finish(p, false, "%s", err);
}

static void start_command(struct health_probe *p, const struct health_target *t, const struct spec_health *h)
{
        int in[2], out[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return finish(p, false, "pipe: %s", strerror(errno));
        close(in[1]); /* stdin reads EOF */
        if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0) {
                close(in[0]);
                return finish(p, false, "pipe: %s", strerror(errno));
        }
        /* The write end blocks like any pipe for the probe. */
        (void) fcntl(out[1], F_SETFL, 0);
        struct exec_opts o = { .stdio = { in[0], out[1], out[1] } };
        struct error err = { 0 };
        /* berthd's: run to its end by the spawner, one answer. */
        int r = t->exec.spawner ? exec_spawner_run(t->exec.spawner, &t->exec, h->command, &o, &p->run_fd, &err)
                                : exec_session_start(&t->exec, h->command, NULL, &o, &p->session, &err);
        close(in[0]);
        close(out[1]);
        p->out_fd = out[0];
        if (r < 0)
                return command_failed(p, r, error_message(&err));
        if ((r = watch(p, p->run_fd >= 0 ? p->run_fd : exec_session_fd(p->session), EPOLLIN, EPOLL_CTL_ADD)) < 0 ||
            (r = watch(p, p->out_fd, EPOLLIN, EPOLL_CTL_ADD)) < 0)
                return finish(p, false, "epoll: %s", strerror(-r));
}

int health_probe_start(const struct health_target *t, const struct spec_health *h, struct health_probe **ret)
{
        struct health_probe *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->pid = -1;
        p->pidfd = p->out_fd = p->sock = p->sock_req = p->run_fd = -1;
        p->cgroup_cache = t->cgroup_cache;
        p->cgroup_cache_gen = t->cgroup_cache_gen;
        p->cg_name = strdup(t->exec.name);
        p->init_pid = t->exec.init_pid;
        p->reap_later = t->exec.reap_later;
        p->reap_userdata = t->exec.reap_userdata;
        p->res.exit_status = -1;
        p->started_mono = now_mono();
        p->res.started_realtime = now_realtime();
        p->kind = h->command ? PROBE_COMMAND : h->http_path ? PROBE_HTTP : PROBE_TCP;
        p->want_status = h->http_status ? h->http_status : 200;
        p->epfd = epoll_create1(EPOLL_CLOEXEC);
        p->evfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (p->epfd < 0 || p->evfd < 0 || watch(p, p->evfd, EPOLLIN, EPOLL_CTL_ADD) < 0) {
                int r = -errno;
                health_probe_free(p);
                return r;
        }
        if (p->kind == PROBE_COMMAND)
                start_command(p, t, h);
        else
                start_connect(p, t, h);
        *ret = p;
        return 0;
}

int health_probe_fd(const struct health_probe *p)
{
        return p->epfd;
}

static void read_output(struct health_probe *p)
{
        for (int i = 0; i < 64 && p->out_fd >= 0; i++) {
                char buf[4096];
                ssize_t k = read(p->out_fd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        if (k == 0 || errno != EAGAIN) {
                                (void) epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->out_fd, NULL);
                                close_fd(&p->out_fd);
                        }
                        return;
                }
                size_t room = sizeof p->out - p->out_len; /* the rest is read and dropped */
                size_t take = (size_t) k < room ? (size_t) k : room;
                memcpy(p->out + p->out_len, buf, take);
                p->out_len += take;
        }
}

static void kill_group(struct health_probe *p)
{
        if (p->pid > 0)
                exec_kill_group(p->pid, p->pidfd, p->init_pid, p->cg_name, p->cgroup_cache, p->cgroup_cache_gen);
}

/* The killed leader: reaped within timeout_ms, or handed to reap_later
 * (a process in a frozen cgroup or a dying PID namespace may take longer;
 * the event loop must not wait for it, and an unreaped child of ours would
 * hold its PID namespace's teardown). */
static void reap_leader(struct health_probe *p, int timeout_ms)
{
        if (p->pidfd < 0)
                return;
        struct pollfd pf = { .fd = p->pidfd, .events = POLLIN };
        (void) poll(&pf, 1, timeout_ms);
        siginfo_t si = { 0 };
        if (waitid(P_PIDFD, (id_t) p->pidfd, &si, WEXITED | WNOHANG) == 0 && si.si_pid) {
                if (si.si_code == CLD_EXITED)
                        p->res.exit_status = si.si_status;
                else
                        p->res.exit_status = 128 + si.si_status;
                p->reaped = true;
        } else if (p->reap_later && p->pid > 0 && errno != ECHILD) {
                p->reap_later(p->reap_userdata, p->pid);
                p->reaped = true;
        }
}

static void handle_session(struct health_probe *p)
{
        struct error err = { 0 };
        int r = exec_session_step(p->session, &err);
        if (r == 0)
                return;
        (void) epoll_ctl(p->epfd, EPOLL_CTL_DEL, exec_session_fd(p->session), NULL);
        if (r < 0) {
                p->session = exec_session_free(p->session);
                return command_failed(p, r, error_message(&err));
        }
        exec_session_take(p->session, &p->pid, &p->pidfd, NULL);
        p->session = exec_session_free(p->session);
        if (p->pidfd < 0)
                return finish(p, false, "cannot watch the probe: no pidfd");
        if ((r = watch(p, p->pidfd, EPOLLIN, EPOLL_CTL_ADD)) < 0)
                return finish(p, false, "epoll: %s", strerror(-r));
}

/* The spawner's answer: the command ran (its exit status), or why not. */
static void handle_run(struct health_probe *p)
{
        struct error err = { 0 };
        int status = -1;
        int r = exec_spawner_run_result(p->run_fd, &status, &err);
        if (r == 0)
                return;
        (void) epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->run_fd, NULL);
        close_fd(&p->run_fd);
        if (r < 0)
                return command_failed(p, r, error_message(&err));
        p->res.exit_status = status;
        read_output(p);
        char text[HEALTH_RESULT_OUTPUT_MAX];
        first_lines(text, sizeof text, p->out, p->out_len);
        snprintf(p->res.output, sizeof p->res.output, "%s", text);
        finish(p, status == 0, NULL);
}

static void handle_command(struct health_probe *p, int fd)
{
        if (p->run_fd >= 0 && fd == p->run_fd) {
                handle_run(p);
                return;
        }
        if (p->session && fd == exec_session_fd(p->session)) {
                handle_session(p);
                return;
        }
        if (fd == p->out_fd) {
                read_output(p);
                return;
        }
        if (fd != p->pidfd)
                return;
        siginfo_t si = { 0 };
        if (waitid(P_PIDFD, (id_t) p->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || !si.si_pid)
                return;
        p->res.exit_status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        (void) epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
        /* Whatever the probe started in the background goes with it; the
         * zombie leader still holds the group's id while we kill it. */
        kill_group(p);
        reap_leader(p, 0);
        read_output(p);
        char text[HEALTH_RESULT_OUTPUT_MAX];
        first_lines(text, sizeof text, p->out, p->out_len);
        snprintf(p->res.output, sizeof p->res.output, "%s", text);
        finish(p, p->res.exit_status == 0, NULL);
}

static void handle_socket(struct health_probe *p, uint32_t events)
{
        char addr[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &p->sa.sin_addr, addr, sizeof addr);
        unsigned port = ntohs(p->sa.sin_port);
        if (!p->connected) {
                int e = 0;
                socklen_t l = sizeof e;
                if (getsockopt(p->sock, SOL_SOCKET, SO_ERROR, &e, &l) < 0)
                        e = errno;
                if (e == 0 && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                        return;
                if (e)
                        return finish(p, false, "connect to %s:%u: %s", addr, port, strerror(e));
                p->connected = true;
                if (p->kind == PROBE_TCP)
                        return finish(p, true, "connected to %s:%u", addr, port);
                size_t len = strlen(p->request);
                if (send(p->sock, p->request, len, MSG_NOSIGNAL) != (ssize_t) len)
                        return finish(p, false, "http %s:%u: cannot send the request: %s", addr, port, strerror(errno));
                if (watch(p, p->sock, EPOLLIN | EPOLLRDHUP, EPOLL_CTL_MOD) < 0)
                        return finish(p, false, "epoll: %s", strerror(errno));
                return;
        }
        for (;;) {
                ssize_t k = recv(p->sock, p->resp + p->resp_len, sizeof p->resp - 1 - p->resp_len, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k > 0) {
                        p->resp_len += (size_t) k;
                        p->resp[p->resp_len] = 0;
                }
                bool eof = k <= 0 || p->resp_len == sizeof p->resp - 1;
                char *nl = strchr(p->resp, '\n');
                if (!nl && !eof)
                        continue;
                unsigned status = 0;
                if (sscanf(p->resp, "HTTP/%*u.%*u %u", &status) != 1 || status < 100 || status > 999) {
                        if (k < 0)
                                return finish(p, false, "http %s:%u: %s", addr, port, strerror(errno));
                        return finish(p, false, "http %s:%u: not an HTTP response", addr, port);
                }
                return finish(p, status == p->want_status, "http %s:%u: status %u%s%u", addr, port, status,
                              status == p->want_status ? " = " : ", expected ", (unsigned) p->want_status);
        }
}

int health_probe_handle(struct health_probe *p, uint32_t revents)
{
        (void) revents;
        if (p->done)
                return 1;
        struct epoll_event evs[4];
        int n = epoll_wait(p->epfd, evs, ELEMENTSOF(evs), 0);
        for (int i = 0; i < n && !p->done; i++) {
                if (p->kind == PROBE_COMMAND)
                        handle_command(p, evs[i].data.fd);
                else if (p->sock_req >= 0 && evs[i].data.fd == p->sock_req)
                        handle_sock_req(p);
                else if (evs[i].data.fd == p->sock)
                        handle_socket(p, evs[i].events);
        }
        return p->done ? 1 : 0;
}

void health_probe_kill(struct health_probe *p)
{
        if (p->done)
                return;
        if (p->kind == PROBE_COMMAND) {
                close_fd(&p->run_fd); /* the spawner kills and reaps what runs */
                p->session = exec_session_free(p->session); /* kills and reaps a set-up under way */
                kill_group(p);
                reap_leader(p, 100);
                read_output(p);
        }
        char text[HEALTH_RESULT_OUTPUT_MAX - 64];
        first_lines(text, sizeof text, p->out, p->out_len);
        finish(p, false, "timed out after %llu ms%s%s", (unsigned long long) ((now_mono() - p->started_mono) / 1000),
               text[0] ? "; output: " : "", text);
}

int health_probe_result(const struct health_probe *p, struct health_result *out)
{
        if (!p->done)
                return -EBUSY;
        *out = p->res;
        return 0;
}

struct health_probe *health_probe_free(struct health_probe *p)
{
        if (!p)
                return NULL;
        if (!p->done && p->epfd >= 0 && p->evfd >= 0)
                health_probe_kill(p);
        else if (p->kind == PROBE_COMMAND && p->pid > 0 && p->pidfd >= 0 && !p->reaped)
                reap_leader(p, 0); /* a leader killed but not yet reaped */
        exec_session_free(p->session);
        close_fd(&p->run_fd);
        close_fd(&p->pidfd);
        close_fd(&p->out_fd);
        close_fd(&p->sock);
        close_fd(&p->sock_req);
        close_fd(&p->epfd);
        close_fd(&p->evfd);
        free(p->cg_name);
        free(p);
        return NULL;
}

#include "control.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "log.h"
#include "util.h"

struct control_conn {
        struct control_server *server;
        int fd;
        pid_t pid; /* the peer process (SO_PEERCRED) */
        unsigned refs;
        bool open;
        uint64_t active_usec; /* accept or the last complete request */
        sd_event_source *io, *idle, *stall;
        char *in;
        size_t in_len;
        char *out;
        size_t out_len;
        int tag;
        void *tag_data;
        struct control_conn *next;
};

struct control_server {
        sd_event *event;
        int fd;
        char *path;
        sd_event_source *io;
        control_handler_t handler;
        void *userdata;
        struct control_conn *conns;
        size_t n_conns;
        struct control_limits limits;
        uint64_t warned_usec; /* rate limit of the "too many" warnings */
};

static void conn_close(struct control_conn *c);

static uint64_t now_usec(struct control_server *s)
{
        uint64_t t = 0;
        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &t);
        return t;
}

/* A peer that had its chance: give up on it. */
static int conn_expire(sd_event_source *s, uint64_t usec, void *userdata)
{
        (void) s;
        (void) usec;
        conn_close(userdata);
        return 0;
}

/* The idle deadline runs from accept and from each complete request, never
 * from single bytes: a peer trickling a request in (slow loris) times out. */
static void arm_idle(struct control_conn *c)
{
        c->active_usec = now_usec(c->server);
        if (c->idle && !c->tag) {
                (void) sd_event_source_set_time(c->idle, c->active_usec + c->server->limits.idle_usec);
                (void) sd_event_source_set_enabled(c->idle, SD_EVENT_ONESHOT);
        }
}

struct control_conn *control_conn_ref(struct control_conn *c)
{
        c->refs++;
        return c;
}

void control_conn_unref(struct control_conn *c)
{
        if (!c || --c->refs > 0)
                return;
        free(c->in);
        free(c->out);
        free(c);
}

bool control_conn_is_open(struct control_conn *c)
{
        return c->open;
}

void control_conn_set_tag(struct control_conn *c, int tag, void *data)
{
        c->tag = tag;
        c->tag_data = data;
        if (tag && c->idle) /* subscribers may be silent for ever */
                sd_event_source_set_enabled(c->idle, SD_EVENT_OFF);
        else if (!tag)
                arm_idle(c);
}

int control_conn_tag(struct control_conn *c, void **data)
{
        if (data)
                *data = c->tag_data;
        return c->tag;
}

static void update_events(struct control_conn *c)
{
        if (c->open && c->io)
                sd_event_source_set_io_events(c->io, EPOLLIN | (c->out_len ? EPOLLOUT : 0));
}

/* Sends what the peer takes now. Output the peer leaves queued must drain
 * within stall_usec of the last progress, or the peer is dropped. */
static int flush(struct control_conn *c)
{
        bool progress = false;
        while (c->out_len > 0) {
                ssize_t k = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                break;
                        return -errno;
                }
                memmove(c->out, c->out + k, c->out_len - (size_t) k);
                c->out_len -= (size_t) k;
                progress = true;
        }
        update_events(c);
        if (!c->open)
                return 0;
        if (c->out_len == 0) {
                if (c->stall)
                        (void) sd_event_source_set_enabled(c->stall, SD_EVENT_OFF);
                return 0;
        }
        uint64_t deadline = now_usec(c->server) + c->server->limits.stall_usec;
        int enabled = SD_EVENT_OFF;
        if (!c->stall) {
                int r = sd_event_add_time(c->server->event, &c->stall, CLOCK_MONOTONIC, deadline, 0, conn_expire, c);
                if (r < 0)
                        return r;
        } else if (progress || (sd_event_source_get_enabled(c->stall, &enabled) >= 0 && enabled == SD_EVENT_OFF)) {
                (void) sd_event_source_set_time(c->stall, deadline);
                (void) sd_event_source_set_enabled(c->stall, SD_EVENT_ONESHOT);
        }
        return 0;
}

/* Queues pieces of one message (the NUL follows them) and sends what the
 * peer takes now. */
static int send_text(struct control_conn *c, const char *const *piece, const size_t *len, size_t n_pieces)
{
        if (!c->open)
                return -ENOTCONN;
        size_t n = 1;
        for (size_t i = 0; i < n_pieces; i++)
                n += len[i];
        if (c->out_len + n > c->server->limits.output_max) { /* a peer that does not read */
                conn_close(c);
                return -ENOBUFS;
        }
        char *nb = realloc(c->out, c->out_len + n);
        if (!nb)
                return -ENOMEM;
        c->out = nb;
        for (size_t i = 0; i < n_pieces; i++) {
                memcpy(c->out + c->out_len, piece[i], len[i]);
                c->out_len += len[i];
        }
        c->out[c->out_len++] = 0;
        int r = flush(c);
        if (r < 0)
                conn_close(c);
        return r;
}

static int send_object(struct control_conn *c, json_object *o)
{
        const char *s = c->open ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : "";
        size_t n = strlen(s);
        int r = send_text(c, &s, &n, 1);
        json_object_put(o);
        return r;
}

int control_reply(struct control_conn *c, json_object *params, bool continues)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "parameters", params ? params : json_object_new_object());
        if (continues)
                json_object_object_add(o, "continues", json_object_new_boolean(1));
        return send_object(c, o);
}

int control_reply_text(struct control_conn *c, const char *params, size_t len)
{
        const char *piece[3] = { "{\"parameters\":", params, "}" };
        size_t lens[3] = { strlen(piece[0]), len, 1 };
        return send_text(c, piece, lens, 3);
}

int control_reply_error(struct control_conn *c, const char *error, json_object *params)
{
        json_object *o = json_object_new_object();
        json_object_object_add(o, "error", json_object_new_string(error));
        json_object_object_add(o, "parameters", params ? params : json_object_new_object());
        return send_object(c, o);
}

static void conn_close(struct control_conn *c)
{
        if (!c->open)
                return;
        c->open = false;
        c->io = sd_event_source_disable_unref(c->io);
        c->idle = sd_event_source_disable_unref(c->idle);
        c->stall = sd_event_source_disable_unref(c->stall);
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        struct control_server *s = c->server;
        for (struct control_conn **p = &s->conns; *p; p = &(*p)->next)
                if (*p == c) {
                        *p = c->next;
                        break;
                }
        s->n_conns--;
        control_conn_unref(c);
}

static void protocol_error(struct control_conn *c, const char *what)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "reason", json_object_new_string(what));
        (void) control_reply_error(c, "io.berth.InvalidMessage", p);
        /* Give the error a chance to leave, then drop the peer. */
        (void) flush(c);
        conn_close(c);
}

ssize_t control_frame_len(const char *in, size_t len)
{
        const char *nul = memchr(in, 0, len);
        if (!nul)
                return len > CONTROL_MESSAGE_MAX ? -EMSGSIZE : 0;
        size_t n = (size_t) (nul - in) + 1;
        if (n > CONTROL_MESSAGE_MAX)
                return -EMSGSIZE;
        return (ssize_t) n;
}

int control_request_parse(const char *msg, size_t len, struct control_request *ret, const char **reason)
{
        *ret = (struct control_request){ 0 };
        if (len > CONTROL_MESSAGE_MAX) {
                *reason = "message too large";
                return -EBADMSG;
        }
        json_tokener *tok = json_tokener_new();
        if (!tok) {
                *reason = "out of memory";
                return -ENOMEM;
        }
        json_object *o = json_tokener_parse_ex(tok, msg, (int) len);
        bool complete = json_tokener_get_error(tok) == json_tokener_success;
        json_tokener_free(tok);
        json_object *method, *params = NULL, *more = NULL;
        if (!o || !complete || !json_object_is_type(o, json_type_object) ||
            !json_object_object_get_ex(o, "method", &method) || !json_object_is_type(method, json_type_string)) {
                json_object_put(o);
                *reason = "expected a JSON object with a string \"method\"";
                return -EBADMSG;
        }
        if (json_object_object_get_ex(o, "parameters", &params) && !json_object_is_type(params, json_type_object)) {
                json_object_put(o);
                *reason = "\"parameters\" must be an object";
                return -EBADMSG;
        }
        (void) json_object_object_get_ex(o, "more", &more);
        ret->root = o;
        ret->method = json_object_get_string(method);
        ret->params = params;
        ret->more = more && json_object_get_boolean(more);
        return 0;
}

void control_request_done(struct control_request *req)
{
        json_object_put(req->root);
        *req = (struct control_request){ 0 };
}

static void dispatch(struct control_conn *c, const char *msg, size_t len)
{
        struct control_request req;
        const char *reason;
        if (control_request_parse(msg, len, &req, &reason) < 0) {
                protocol_error(c, reason);
                return;
        }
        control_conn_ref(c);
        c->server->handler(c->server->userdata, c, req.method, req.params, req.more);
        control_conn_unref(c);
        control_request_done(&req);
}

static int conn_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        struct control_conn *c = userdata;
        control_conn_ref(c);
        if (revents & EPOLLOUT && flush(c) < 0)
                conn_close(c);
        if (c->open && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                char buf[16384];
                ssize_t k = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
                if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
                        conn_close(c);
                else if (k > 0) {
                        char *nb = realloc(c->in, c->in_len + (size_t) k + 1);
                        if (!nb)
                                conn_close(c);
                        else {
                                c->in = nb;
                                memcpy(c->in + c->in_len, buf, (size_t) k);
                                c->in_len += (size_t) k;
                                c->in[c->in_len] = 0;
                        }
                        /* Every complete message in the buffer, in order. */
                        while (c->open && c->in_len > 0) {
                                ssize_t len = control_frame_len(c->in, c->in_len);
                                if (len < 0)
                                        protocol_error(c, "message too large");
                                if (len <= 0)
                                        break;
                                _cleanup_free_ char *msg = strndup(c->in, (size_t) len - 1);
                                memmove(c->in, c->in + len, c->in_len - (size_t) len + 1);
                                c->in_len -= (size_t) len;
                                arm_idle(c);
                                if (msg)
                                        dispatch(c, msg, (size_t) len - 1);
                        }
                }
        }
        control_conn_unref(c);
        return 0;
}

/* Who makes room when every slot is taken: a peer with nothing asked of
 * berthd before a subscriber, one that does not read before one that does,
 * and among equals the one quiet the longest. */
static struct control_conn *pick_victim(struct control_server *srv)
{
        struct control_conn *best = NULL;
        int best_rank = 0;
        for (struct control_conn *c = srv->conns; c; c = c->next) {
                int rank = !c->tag ? 3 : c->out_len > 0 ? 2 : 1;
                if (!best || rank > best_rank || (rank == best_rank && c->active_usec < best->active_usec)) {
                        best = c;
                        best_rank = rank;
                }
        }
        return best;
}

static size_t peer_connections(struct control_server *srv, pid_t pid)
{
        size_t n = 0;
        for (struct control_conn *c = srv->conns; c; c = c->next)
                n += c->pid == pid;
        return n;
}

/* Warnings about hostile peers, at most one per 10 s. */
static bool may_warn(struct control_server *srv)
{
        uint64_t t = now_usec(srv);
        if (srv->warned_usec && t < srv->warned_usec + 10 * 1000000ULL)
                return false;
        srv->warned_usec = t;
        return true;
}

static void refuse(struct control_conn *c, const char *error, const char *reason)
{
        json_object *p = json_object_new_object();
        json_object_object_add(p, "reason", json_object_new_string(reason));
        (void) control_reply_error(c, error, p);
        conn_close(c);
}

static int server_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
        (void) s;
        (void) revents;
        struct control_server *srv = userdata;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (cfd < 0)
                return 0;
        struct control_conn *c = calloc(1, sizeof *c);
        if (!c) {
                close(cfd);
                return 0;
        }
        struct ucred cred;
        socklen_t len = sizeof cred;
        bool root = getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == 0;
        c->server = srv;
        c->fd = cfd;
        c->pid = root ? cred.pid : 0;
        c->refs = 1;
        c->open = true;
        c->active_usec = now_usec(srv);
        size_t from_peer = root ? peer_connections(srv, c->pid) : 0;
        /* Always a slot for a new peer: the one idle the longest leaves. */
        if (root && from_peer < srv->limits.per_peer && srv->n_conns >= srv->limits.connections) {
                struct control_conn *v = pick_victim(srv);
                if (v) {
                        if (may_warn(srv))
                                log_warning("control socket: %zu connections open; dropping the one of "
                                            "pid %d, quiet the longest",
                                            srv->n_conns, (int) v->pid);
                        conn_close(v);
                }
        }
        c->next = srv->conns;
        srv->conns = c;
        srv->n_conns++;
        if (!root) {
                refuse(c, "io.berth.PermissionDenied", "only root may talk to berthd");
                return 0;
        }
        if (from_peer >= srv->limits.per_peer) {
                if (may_warn(srv))
                        log_warning("control socket: pid %d has %zu connections open; refusing more",
                                    (int) c->pid, from_peer);
                refuse(c, "io.berth.TooManyConnections", "too many connections from this process");
                return 0;
        }
        if (sd_event_add_io(srv->event, &c->io, cfd, EPOLLIN, conn_io, c) < 0 ||
            sd_event_add_time(srv->event, &c->idle, CLOCK_MONOTONIC, c->active_usec + srv->limits.idle_usec, 0,
                              conn_expire, c) < 0)
                conn_close(c);
        return 0;
}

void control_server_set_limits(struct control_server *s, const struct control_limits *l)
{
        s->limits = *l;
}

size_t control_server_connections(struct control_server *s)
{
        return s->n_conns;
}

int control_server_new(sd_event *e, const char *path, control_handler_t h, void *userdata,
                       struct control_server **ret)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        struct control_server *s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->event = e;
        s->limits = CONTROL_LIMITS_DEFAULT;
        s->handler = h;
        s->userdata = userdata;
        s->path = strdup(path);
        s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int r = 0;
        if (!s->path || s->fd < 0) {
                r = s->path ? -errno : -ENOMEM;
                goto fail;
        }
        (void) unlink(path);
        mode_t old = umask(0177); /* the socket is born 0600 */
        r = bind(s->fd, (struct sockaddr *) &sa, sizeof sa);
        umask(old);
        if (r < 0 || listen(s->fd, 64) < 0) {
                r = -errno;
                goto fail;
        }
        r = sd_event_add_io(e, &s->io, s->fd, EPOLLIN, server_io, s);
        if (r < 0)
                goto fail;
        *ret = s;
        return 0;
fail:
        control_server_free(s);
        return r;
}

void control_server_free(struct control_server *s)
{
        if (!s)
                return;
        while (s->conns)
                conn_close(s->conns);
        sd_event_source_disable_unref(s->io);
        if (s->fd >= 0) {
                close(s->fd);
                if (s->path)
                        (void) unlink(s->path);
        }
        free(s->path);
        free(s);
}

void control_server_foreach(struct control_server *s, int tag, void (*fn)(struct control_conn *c, void *data),
                            void *data)
{
        for (struct control_conn *c = s->conns, *next; c; c = next) {
                next = c->next;
                if (c->open && c->tag == tag)
                        fn(c, data);
        }
}

/* ---- client ---------------------------------------------------------------- */

static uint64_t monotonic_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

/* Until fd has events, or -ETIMEDOUT once deadline (0: none) has passed. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
        for (;;) {
                int ms = -1;
                if (deadline) {
                        uint64_t t = monotonic_usec();
                        if (t >= deadline)
                                return -ETIMEDOUT;
                        uint64_t left = (deadline - t + 999) / 1000;
                        ms = left > INT_MAX ? INT_MAX : (int) left;
                }
                struct pollfd p = { .fd = fd, .events = events };
                int k = poll(&p, 1, ms);
                if (k < 0 && errno != EINTR)
                        return -errno;
                if (k > 0)
                        return 0;
        }
}

int control_call(const char *path, const char *method, json_object *params, bool more, uint64_t timeout_usec,
                 control_reply_cb cb, void *userdata, char **error, json_object **error_params)
{
        return control_call_text(path, method, params, more, timeout_usec, NULL, cb, userdata, error, error_params);
}

int control_call_text(const char *path, const char *method, json_object *params, bool more, uint64_t timeout_usec,
                      control_text_cb text_cb, control_reply_cb cb, void *userdata, char **error,
                      json_object **error_params)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return -ENAMETOOLONG;
        strcpy(sa.sun_path, path);
        uint64_t deadline = timeout_usec ? monotonic_usec() + timeout_usec : 0;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A full backlog makes connect() wait: SO_SNDTIMEO bounds that wait. */
        if (timeout_usec) {
                struct timeval tv = { .tv_sec = (time_t) (timeout_usec / 1000000),
                                      .tv_usec = (suseconds_t) (timeout_usec % 1000000) };
                (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        }
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return errno == EAGAIN || errno == EINPROGRESS ? -ETIMEDOUT : -errno;
        if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
                return -errno;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "method", json_object_new_string(method));
        json_object_object_add(o, "parameters", params ? json_object_get(params) : json_object_new_object());
        if (more)
                json_object_object_add(o, "more", json_object_new_boolean(1));
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
        size_t n = strlen(s) + 1;
        for (size_t off = 0; off < n;) {
                ssize_t k = send(fd, s + off, n - off, MSG_NOSIGNAL);
                if (k < 0 && (errno == EAGAIN || errno == EINTR)) {
                        int q = wait_fd(fd, POLLOUT, deadline);
                        if (q < 0) {
                                json_object_put(o);
                                return q;
                        }
                        continue;
                }
                if (k < 0) {
                        int r = -errno;
                        json_object_put(o);
                        return r;
                }
                off += (size_t) k;
        }
        json_object_put(o);
        /* A subscription may be quiet from the start; any other call is
         * answered at once, and only a stream that has begun may wait. */
        if (more)
                deadline = 0;
        /* The replies land in one buffer that grows by doubling: a large
         * reply (ls of 1,000 containers) is received in place, and each
         * byte is searched for the NUL once. */
        char *buf = NULL;
        size_t len = 0, cap = 0, scanned = 0;
        int r = 0;
        for (;;) {
                r = wait_fd(fd, POLLIN, deadline);
                if (r < 0)
                        break;
                if (cap - len < 16384) {
                        size_t ncap = cap ? 2 * cap : 65536;
                        char *nb = realloc(buf, ncap);
                        if (!nb) {
                                r = -ENOMEM;
                                break;
                        }
                        buf = nb;
                        cap = ncap;
                }
                ssize_t k = recv(fd, buf + len, cap - len, 0);
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0) {
                        r = k < 0 ? -errno : -ECONNRESET;
                        break;
                }
                len += (size_t) k;
                bool done = false;
                char *nul;
                while (!done && (nul = memchr(buf + scanned, 0, len - scanned))) {
                        size_t used = (size_t) (nul - buf) + 1;
                        /* The text first, to a reader that may take it as it is. */
                        int q = text_cb ? text_cb(buf, used - 1, userdata) : 0;
                        if (q != 0) {
                                if (q < 0)
                                        r = q;
                                done = true;
                                break;
                        }
                        json_object *reply = json_tokener_parse(buf);
                        memmove(buf, buf + used, len - used);
                        len -= used;
                        scanned = 0;
                        if (!reply) {
                                r = -EBADMSG;
                                done = true;
                                break;
                        }
                        json_object *e, *p = NULL, *cont;
                        (void) json_object_object_get_ex(reply, "parameters", &p);
                        if (json_object_object_get_ex(reply, "error", &e)) {
                                if (error)
                                        *error = strdup(json_object_get_string(e));
                                if (error_params)
                                        *error_params = p ? json_object_get(p) : NULL;
                                r = -EREMOTEIO;
                                done = true;
                        } else {
                                bool continues = json_object_object_get_ex(reply, "continues", &cont) &&
                                                 json_object_get_boolean(cont);
                                if (continues)
                                        deadline = 0;
                                q = cb ? cb(p, userdata) : 0;
                                if (q < 0) {
                                        r = q;
                                        done = true;
                                } else if (!continues)
                                        done = true;
                        }
                        json_object_put(reply);
                }
                if (done)
                        break;
                scanned = len;
        }
        free(buf);
        return r;
}

/* berthd's metrics endpoint: libmicrohttpd without threads, polled from
 * the sd-event loop (docs/design.md, "Metrics"). */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "metrics_server.h"

struct metrics_server {
        sd_event *event;
        struct MHD_Daemon *d;
        sd_event_source *io, *timer;
        metrics_render_t render;
        void *userdata;
        char *doc; /* the last document rendered */
        size_t doc_len;
        uint64_t doc_mono; /* when, CLOCK_MONOTONIC usec; 0: never */
};

int metrics_listen_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len, struct error *e)
{
        char host[INET6_ADDRSTRLEN + 2];
        const char *port;
        bool v6 = s[0] == '[';
        if (v6) {
                const char *end = strchr(s, ']');
                if (!end || end[1] != ':')
                        return error_set_msg(e, -EINVAL, "'%s' is not [IPV6]:PORT", s);
                if ((size_t) (end - s - 1) >= sizeof host)
                        return error_set_msg(e, -EINVAL, "'%s': '%.*s' is not an IPv6 address", s, (int) (end - s - 1), s + 1);
                snprintf(host, sizeof host, "%.*s", (int) (end - s - 1), s + 1);
                port = end + 2;
        } else {
                const char *colon = strrchr(s, ':');
                if (!colon)
                        return error_set_msg(e, -EINVAL, "'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9323 or [::1]:9323)", s);
                if (strchr(s, ':') != colon)
                        return error_set_msg(e, -EINVAL, "'%s': an IPv6 address goes in brackets, [ADDRESS]:PORT", s);
                if ((size_t) (colon - s) >= sizeof host)
                        return error_set_msg(e, -EINVAL, "'%s': '%.*s' is not an IPv4 address", s, (int) (colon - s), s);
                snprintf(host, sizeof host, "%.*s", (int) (colon - s), s);
                port = colon + 1;
        }
        char *end = NULL;
        errno = 0;
        unsigned long p = strtoul(port, &end, 10);
        if (!*port || *end || errno || port[0] < '0' || port[0] > '9' || p < 1 || p > 65535)
                return error_set_msg(e, -EINVAL, "'%s': '%s' is not a port from 1 to 65535", s, port);
        memset(ret, 0, sizeof *ret);
        if (v6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *) ret;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons((uint16_t) p);
                if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
                        return error_set_msg(e, -EINVAL, "'%s': '%s' is not an IPv6 address", s, host);
                *ret_len = sizeof *a;
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *) ret;
                a->sin_family = AF_INET;
                a->sin_port = htons((uint16_t) p);
                if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
                        return error_set_msg(e, -EINVAL, "'%s': '%s' is not an IPv4 address (a host name is not taken)",
                                         s, host);
                *ret_len = sizeof *a;
        }
        return 0;
}

int metrics_listen(const char *s, int *ret_fd, struct error *e)
{
        struct sockaddr_storage ss;
        socklen_t len;
        int r = metrics_listen_parse(s, &ss, &len, e);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return error_set(e, -errno, "%s: cannot create a socket", s);
        /* Lets a restarted berthd take the port while old connections linger
         * in TIME_WAIT; on Linux never a port another socket listens on. */
        int one = 1;
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0) {
                r = -errno;
                if (r == -EADDRINUSE)
                        return error_set_msg(e, r, "%s is in use", s);
                if (r == -EADDRNOTAVAIL)
                        return error_set_msg(e, r, "%s: no interface of this host has that address", s);
                return error_set(e, r, "%s: cannot bind", s);
        }
        if (listen(fd, 64) < 0)
                return error_set(e, -errno, "%s: cannot listen", s);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        (void) cls;
        char msg[256];
        vsnprintf(msg, sizeof msg, fmt, ap);
        msg[strcspn(msg, "\n")] = 0;
        log_debug("metrics: %s", msg);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, const char *body,
                             size_t len, const char *allow)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *) body, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
        if (allow)
                (void) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        enum MHD_Result r = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return r;
}

static uint64_t mono_usec(struct metrics_server *s)
{
        uint64_t t = 0;
        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &t);
        return t;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
        struct metrics_server *s = cls;
        (void) version;
        (void) upload_data;
        (void) upload_size;
        (void) con_cls;
        static const char text[] = "text/plain; charset=utf-8";
        if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD)) {
                static const char m[] = "only GET and HEAD\n";
                return reply(c, MHD_HTTP_METHOD_NOT_ALLOWED, text, m, sizeof m - 1, "GET, HEAD");
        }
        if (!streq(url, "/metrics")) {
                static const char m[] = "not found: berthd serves /metrics\n";
                return reply(c, MHD_HTTP_NOT_FOUND, text, m, sizeof m - 1, NULL);
        }
        uint64_t now = mono_usec(s);
        if (!s->doc || now >= s->doc_mono + METRICS_SERVER_MIN_AGE || now < s->doc_mono) {
                struct strbuf b = { 0 };
                s->render(s->userdata, &b);
                if (b.error) {
                        free(b.p);
                        static const char m[] = "out of memory\n";
                        return reply(c, MHD_HTTP_INTERNAL_SERVER_ERROR, text, m, sizeof m - 1, NULL);
                }
                free(s->doc);
                s->doc = b.p ? b.p : strdup("");
                s->doc_len = b.len;
                s->doc_mono = now;
        }
        return reply(c, MHD_HTTP_OK, METRICS_CONTENT_TYPE, s->doc ? s->doc : "", s->doc ? s->doc_len : 0, NULL);
}

/* After every turn of MHD: when it wants the next one (a connection's
 * timeout, or at once for work left over), and at least once a second:
 * at its connection limit MHD stops watching the listening socket and
 * takes it back only in a later turn, after it has cleaned up the
 * connections that closed. Those closes may leave nothing to wake us
 * (MHD's epoll is edge-triggered, and with no connection left it wants no
 * timeout), so without this tick a flood of idle connections left the
 * endpoint deaf for good. Never a blocking wait. */
static void rearm(struct metrics_server *s)
{
        MHD_UNSIGNED_LONG_LONG ms = 0;
        if (MHD_get_timeout(s->d, &ms) != MHD_YES || ms > 1000)
                ms = 1000;
        (void) sd_event_source_set_time(s->timer, mono_usec(s) + (uint64_t) ms * 1000);
        (void) sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static void run_once(struct metrics_server *s)
{
        if (MHD_run(s->d) != MHD_YES)
                log_debug("metrics: one turn of the HTTP server failed");
        rearm(s);
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        (void) src;
        (void) fd;
        (void) revents;
        run_once(userdata);
        return 0;
}

static int on_timer(sd_event_source *src, uint64_t usec, void *userdata)
{
        (void) src;
        (void) usec;
        run_once(userdata);
        return 0;
}

int metrics_server_new(sd_event *e, int listen_fd, metrics_render_t render, void *userdata,
                       struct metrics_server **ret, struct error *err)
{
        struct metrics_server *s = calloc(1, sizeof *s);
        if (!s) {
                close(listen_fd);
                return error_set(err, -ENOMEM, "metrics");
        }
        s->event = sd_event_ref(e);
        s->render = render;
        s->userdata = userdata;
        /* External polling (no MHD_USE_INTERNAL_POLLING_THREAD): MHD_run()
         * only does what is ready; its epoll fd is our io source. */
        s->d = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, s,
                                MHD_OPTION_LISTEN_SOCKET, (MHD_socket) listen_fd,
                                MHD_OPTION_CONNECTION_LIMIT, (unsigned) METRICS_SERVER_CONNECTIONS,
                                MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) METRICS_SERVER_TIMEOUT_SEC,
                                MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (64 * 1024),
                                MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *) s, MHD_OPTION_END);
        if (!s->d) {
                /* listen_fd is not closed here: whether MHD closed it on its
                 * way out differs between its versions, and a second close
                 * could hit a fd reused meanwhile. The caller exits. */
                metrics_server_free(s);
                return error_set(err, -EIO, "cannot start the HTTP server (libmicrohttpd)");
        }
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_EPOLL_FD);
        int r = info ? 0 : -EIO;
        if (r >= 0)
                r = sd_event_add_io(e, &s->io, info->epoll_fd, EPOLLIN, on_io, s);
        if (r >= 0)
                r = sd_event_add_time(e, &s->timer, CLOCK_MONOTONIC, 0, 1000, on_timer, s);
        if (r < 0) {
                metrics_server_free(s);
                return error_set(err, r, "cannot watch the HTTP server");
        }
        /* Scrapes wait for the containers' events, never the other way round. */
        (void) sd_event_source_set_priority(s->io, 10);
        (void) sd_event_source_set_priority(s->timer, 10);
        rearm(s);
        *ret = s;
        return 0;
}

struct metrics_server *metrics_server_free(struct metrics_server *s)
{
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        if (s->d)
                MHD_stop_daemon(s->d);
        sd_event_unref(s->event);
        free(s->doc);
        free(s);
        return NULL;
}

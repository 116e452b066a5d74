/* Owns berthd's metrics endpoint: the listening socket (--metrics-listen
 * ADDR:PORT) and an HTTP server (libmicrohttpd in its external-polling
 * mode) driven by the caller's sd-event loop as one io source and one
 * timer: no thread, and nothing in it blocks (non-blocking sockets, a
 * bounded number of connections, each closed when idle too long). GET
 * /metrics answers the document render() writes; a document is reused for
 * METRICS_SERVER_MIN_AGE so that scrapers cannot keep the loop busy. */
#pragma once

#include <stddef.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

#include "error.h"
#include "util.h"

#define METRICS_SERVER_CONNECTIONS 16             /* open at once; more wait in the backlog */
#define METRICS_SERVER_TIMEOUT_SEC 10             /* a connection idle this long is closed */
#define METRICS_SERVER_MIN_AGE 500000ULL          /* a scrape within this reuses the last document */

struct metrics_server;

/* "127.0.0.1:9323", "[::1]:9323", "0.0.0.0:9323", "[::]:9323": a numeric
 * IPv4 address or a bracketed IPv6 one, a port from 1 to 65535. 0, or
 * -EINVAL with e saying what is wrong (without the option's name). */
int metrics_listen_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len, struct error *e);

/* Parses s and listens on it: a non-blocking, close-on-exec TCP socket.
 * -EADDRINUSE: "S is in use"; other failures say what failed. */
int metrics_listen(const char *s, int *ret_fd, struct error *e);

/* Writes the whole document into b (b->error on allocation failure). */
typedef void (*metrics_render_t)(void *userdata, struct strbuf *b);

/* Serves listen_fd (taken over) from loop e. On failure berthd exits:
 * the socket may be left open then. */
int metrics_server_new(sd_event *e, int listen_fd, metrics_render_t render, void *userdata,
                       struct metrics_server **ret, struct error *err);
/* Closes the socket and every connection. NULL-safe, returns NULL. */
struct metrics_server *metrics_server_free(struct metrics_server *s);

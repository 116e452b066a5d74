/* Owns berthd's control socket: a pathname socket (0600, in a 0700
 * directory, never abstract), peers checked with SO_PEERCRED, varlink's
 * wire format (NUL-terminated JSON objects: {"method", "parameters",
 * "more"} in, {"parameters", "continues"} or {"error", "parameters"}
 * out). Malformed, oversized or slow peers are answered and dropped; they
 * never block the event loop, and no peer can lock the others out: peers
 * without a whole request in time and readers that stall are dropped, one
 * process holds a bounded number of connections, and a new peer always gets
 * a slot. Knows nothing of containers. */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#define CONTROL_MESSAGE_MAX (64 * 1024)
#define CONTROL_CONNECTIONS_MAX 128
#define CONTROL_CONNECTIONS_PER_PEER 16
#define CONTROL_IDLE_USEC (10ULL * 1000000ULL)
#define CONTROL_STALL_USEC (30ULL * 1000000ULL)
#define CONTROL_OUTPUT_MAX (4 * 1024 * 1024)
#define CONTROL_TIMEOUT_USEC (30ULL * 1000000ULL)

/* What one server allows its peers. At the connection limit a new peer
 * still gets in: the connection idle the longest makes room. */
struct control_limits {
        size_t connections; /* open at once, all peers */
        size_t per_peer; /* open at once from one process (SO_PEERCRED pid) */
        uint64_t idle_usec; /* since accept or the last complete request; not for subscribers */
        uint64_t stall_usec; /* queued output that the peer does not read */
        size_t output_max; /* bytes queued for one peer */
};
#define CONTROL_LIMITS_DEFAULT                                                                             \
        ((struct control_limits){ .connections = CONTROL_CONNECTIONS_MAX,                                  \
                                  .per_peer = CONTROL_CONNECTIONS_PER_PEER,                                \
                                  .idle_usec = CONTROL_IDLE_USEC,                                          \
                                  .stall_usec = CONTROL_STALL_USEC,                                        \
                                  .output_max = CONTROL_OUTPUT_MAX })

struct control_server;
struct control_conn;

/* Called for each well-formed call. Reply with control_reply*() now or
 * later (hold a reference with control_conn_ref to reply later). */
typedef void (*control_handler_t)(void *userdata, struct control_conn *c, const char *method, json_object *params,
                                  bool more);

int control_server_new(sd_event *e, const char *path, control_handler_t h, void *userdata,
                       struct control_server **ret);
void control_server_free(struct control_server *s);
/* Replaces CONTROL_LIMITS_DEFAULT (tests); for connections accepted later. */
void control_server_set_limits(struct control_server *s, const struct control_limits *l);
/* Open client connections (tests and diagnostics). */
size_t control_server_connections(struct control_server *s);

/* Sends a reply; takes ownership of params (may be NULL). continues: more
 * replies follow (a streaming call). */
int control_reply(struct control_conn *c, json_object *params, bool continues);
/* The last reply, its parameters given as JSON text (an object), sent as
 * they are. */
int control_reply_text(struct control_conn *c, const char *params, size_t len);
int control_reply_error(struct control_conn *c, const char *error, json_object *params);

/* The parsing half of the server, pure (no I/O, no logging), also the
 * fuzzing target (tests/fuzz/fuzz_control.c).
 * control_frame_len: the length of the first message in the len bytes a
 * peer sent (its NUL included), 0 when none is complete yet, -EMSGSIZE
 * when a message is longer than CONTROL_MESSAGE_MAX.
 * control_request_parse: parses one message (its len bytes before the NUL)
 * as a call; on success *ret owns the parsed object (free it with
 * control_request_done()) and method/params point into it. -EBADMSG with
 * *reason (a static string for the peer) for what is not a call. */
struct control_request {
        json_object *root;
        const char *method;
        json_object *params; /* NULL when absent */
        bool more;
};
ssize_t control_frame_len(const char *in, size_t len);
int control_request_parse(const char *msg, size_t len, struct control_request *ret, const char **reason);
void control_request_done(struct control_request *req);

/* Streaming subscriptions (events, log follow): a tag the manager sets. */
void control_conn_set_tag(struct control_conn *c, int tag, void *data);
int control_conn_tag(struct control_conn *c, void **data);
struct control_conn *control_conn_ref(struct control_conn *c);
void control_conn_unref(struct control_conn *c);
bool control_conn_is_open(struct control_conn *c);
/* Calls fn for every open connection with the tag. */
void control_server_foreach(struct control_server *s, int tag, void (*fn)(struct control_conn *c, void *data),
                            void *data);

/* Client side (berthctl): one call, replies handed to cb until one
 * without "continues". Returns 0, or -errno; *error gets an error name.
 * timeout_usec (0: none) bounds connecting, sending and the wait for each
 * reply until the server has answered a streaming call once (a stream
 * that has begun may stay quiet for ever); -ETIMEDOUT when it ran out. */
typedef int (*control_reply_cb)(json_object *params, void *userdata);
int control_call(const char *path, const char *method, json_object *params, bool more, uint64_t timeout_usec,
                 control_reply_cb cb, void *userdata, char **error, json_object **error_params);
/* The same, with each reply's text (its len bytes before the NUL) offered
 * to text_cb first: > 0 took it as the last reply, < 0 an error that ends
 * the call, 0 leaves it to json-c and cb as above. */
typedef int (*control_text_cb)(const char *msg, size_t len, void *userdata);
int control_call_text(const char *path, const char *method, json_object *params, bool more, uint64_t timeout_usec,
                      control_text_cb text_cb, control_reply_cb cb, void *userdata, char **error,
                      json_object **error_params);

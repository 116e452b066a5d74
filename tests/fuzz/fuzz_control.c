/* libFuzzer harness for berthd's control protocol: the input is the byte
 * stream a peer writes to the socket. It is cut into recv()-sized pieces
 * and framed as conn_io() frames it (control_frame_len); every complete
 * message goes through control_request_parse(), and what a handler reads
 * from a call (method, parameters, more) is read and serialised. Stops
 * where the server would drop the peer (a message too large). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"

#define RECV_CHUNK 16384 /* conn_io's recv() buffer */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_request(const struct control_request *req)
{
        volatile size_t sink = strlen(req->method) + req->more;
        if (req->params) {
                json_object_object_foreach(req->params, key, val)
                {
                        sink += strlen(key);
                        sink += strlen(json_object_to_json_string_ext(val, JSON_C_TO_STRING_PLAIN));
                }
        }
        (void) sink;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *in = NULL;
        size_t in_len = 0;
        for (size_t off = 0; off < size;) {
                size_t k = size - off < RECV_CHUNK ? size - off : RECV_CHUNK;
                char *nb = realloc(in, in_len + k + 1);
                if (!nb)
                        break;
                in = nb;
                memcpy(in + in_len, data + off, k);
                in_len += k;
                in[in_len] = 0;
                off += k;
                for (;;) {
                        ssize_t len = control_frame_len(in, in_len);
                        if (len < 0)
                                goto out; /* the server drops the peer */
                        if (len == 0)
                                break;
                        struct control_request req;
                        const char *reason;
                        if (control_request_parse(in, (size_t) len - 1, &req, &reason) == 0) {
                                use_request(&req);
                                control_request_done(&req);
                        } else if (!reason || !*reason)
                                abort();
                        memmove(in, in + len, in_len - (size_t) len + 1);
                        in_len -= (size_t) len;
                }
        }
out:
        free(in);
        return 0;
}

/* The desired state of one container or network, as plain structs, and
 * the stable hashes the planner compares. Pure data: no I/O. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "nameidx.h"

#define SPEC_NAME_MAX 63
#define SPEC_LIST_MAX 1024                /* entries in one list (env, command, mounts, ...) */
#define SPEC_ENV_MAX (SPEC_LIST_MAX + 16) /* env entries a workload gets, defaults included */
#define SPEC_DEVICES_MAX 64              /* device blocks in one container */
#define SPEC_SECRETS_MAX 64              /* secret blocks in one container */
#define SPEC_SECRET_SIZE_MAX (1U << 20)  /* bytes of one secret file */
#define SPEC_DNS_MAX 3                    /* nameservers (resolv.conf's MAXNS) */
#define SPEC_ATTACH_MAX 8                 /* network NAME { } blocks (eth1...) in one container */
#define SPEC_USEC_PER_MSEC 1000ULL
#define SPEC_USEC_PER_SEC 1000000ULL

typedef uint64_t usec_t;

typedef enum restart_policy {
        RESTART_NO,
        RESTART_ON_FAILURE,
        RESTART_ALWAYS,
        RESTART_UNLESS_STOPPED,
        _RESTART_POLICY_MAX,
} restart_policy_t;

/* Where a container's output goes (log { driver }): its console.log, or
 * the systemd journal. DEFAULT: berthd's --log-driver decides (file). */
typedef enum {
        LOG_DRIVER_DEFAULT,
        LOG_DRIVER_FILE,
        LOG_DRIVER_JOURNALD,
} log_driver_t;

typedef enum net_mode {
        NET_NONE,   /* loopback only (the default) */
        NET_BRIDGE, /* veth on a declared network's bridge */
        NET_HOST,   /* the host's network namespace */
        NET_MACVLAN, /* a macvlan child (mode bridge) of a host interface, as eth0 */
        NET_IPVLAN,  /* an ipvlan child (mode l2) of a host interface, as eth0 */
        _NET_MODE_MAX,
} net_mode_t;

typedef enum mount_type {
        MOUNT_BIND,
        MOUNT_TMPFS,
        _MOUNT_TYPE_MAX,
} mount_type_t;

typedef enum seccomp_mode {
        SECCOMP_DEFAULT,
        SECCOMP_UNCONFINED,
        SECCOMP_PROFILE, /* path to a profile file */
        _SECCOMP_MODE_MAX,
} seccomp_mode_t;

typedef enum health_action {
        HEALTH_ACTION_RESTART,
        HEALTH_ACTION_STOP,
        HEALTH_ACTION_NONE,
        _HEALTH_ACTION_MAX,
} health_action_t;

typedef enum publish_proto {
        PROTO_TCP,
        PROTO_UDP,
} publish_proto_t;

struct publish {
        struct in_addr host_addr; /* INADDR_ANY when not given */
        uint16_t host_port;
        uint16_t container_port;
        publish_proto_t proto;
        /* "[V6]:HOST:CONTAINER": an IPv6 host address (host_addr stays
         * INADDR_ANY). Without an address a port is published on both
         * families where the container has both. No padding: compared
         * with memcmp (keys.c). */
        int host6;
        struct in6_addr host_addr6;
};

struct spec_mount {
        char *name;
        char *source; /* NULL for tmpfs */
        char *target; /* absolute, inside the container */
        mount_type_t type;
        bool read_only;
        bool idmap;    /* bind through the container's id mapping (container idmap only) */
        uint64_t size; /* tmpfs size in bytes, 0 = kernel default */
        int line;
};

/* device "/dev/fuse" { ... } or device "c 10:229" { path = "/dev/fuse" }. */
struct spec_device {
        char *name;   /* the title as written */
        char *host;   /* the host node ("/dev/fuse"), or NULL when given by number */
        char *path;   /* where the node appears in the container (under /dev) */
        char *access; /* a non-empty subset of "rwm" */
        char type;    /* by number: 'c' or 'b'; 0 for a host node (its stat says) */
        uint32_t major, minor;
        int line, line_path;
};

/* secret NAME { source = "/etc/berth/secrets/x"  target = "/run/secrets/x" } */
struct spec_secret {
        char *name;
        char *source; /* a host file, read at each start */
        char *target; /* absolute, inside the container */
        int line, line_source;
};

/* hook pre-start|post-start|post-stop { command = { ... }  timeout = 10s } */
typedef enum hook_kind {
        HOOK_PRE_START,
        HOOK_POST_START,
        HOOK_POST_STOP,
        _HOOK_KIND_MAX,
} hook_kind_t;

struct spec_hook {
        char **command; /* argv run on the host; NULL = no such hook */
        usec_t timeout;
        int line;
};

struct spec_limits {
        uint64_t memory;      /* bytes, 0 = unlimited */
        int64_t memory_swap;  /* bytes of memory+swap, 0 = unset, -1 = unlimited */
        uint32_t cpus_milli;  /* 1500 = 1.5 CPUs, 0 = unlimited */
        uint32_t cpu_weight;  /* 1..10000, 0 = unset (kernel default 100) */
        char *cpuset;         /* "0-1,3" or NULL */
        uint32_t pids;        /* 0 = unlimited */
        uint32_t io_weight;   /* 1..10000, 0 = unset */
        /* io-max: one block device's throttle; every limit 0 = none. */
        char *io_device;      /* a block device node, resolved at apply */
        uint64_t io_rbps, io_wbps;
        uint32_t io_riops, io_wiops;
};

/* rlimits: one resource limit of the container's init (inherited). */
#define SPEC_RLIM_INFINITY UINT64_MAX
struct spec_rlimit {
        int resource; /* RLIMIT_* */
        uint64_t soft, hard;
};

struct spec_health {
        bool enabled;
        char **command; /* argv run inside the container, or NULL */
        uint16_t tcp_port;   /* 0 = none */
        char *http_path;     /* with tcp_port: GET this path */
        uint16_t http_status; /* expected status, default 200 */
        usec_t interval, timeout, start_period;
        uint32_t retries;
        health_action_t on_failure;
        int line;
};

struct spec_network {
        char *name;
        char *bridge; /* interface name; defaults to the name */
        struct in_addr subnet; /* network address */
        uint8_t prefix;
        struct in_addr gateway; /* defaults to the first host address */
        bool nat;
        uint32_t mtu; /* 0 = kernel default (1500) */
        /* Dual stack (subnet6): the bridge has gateway6 (the prefix's first
         * address), a container the IPv6 address with its IPv4 host number. */
        bool v6;
        struct in6_addr subnet6, gateway6;
        uint8_t prefix6;
        bool nat6; /* masquerade IPv6 leaving the prefix (NAT66) */
        /* Not from a file: a host bridge berth does not manage (a container's
         * network.bridge naming no declared network), gateway 0 = no route. */
        bool external;
        char *file;
        int line;
};

/* copy { source = "/host/file" target = "/etc/x" } in a template block. */
struct spec_template_copy {
        char *source;
        char *target;
        int line, line_source, line_target;
};

/* template NAME { from = ... }: an image imported into the state directory
 * (image.c) at the first start that needs it (from = "oci-archive:..."), or
 * a declarative template berthd builds (tbuild.h: from = "debian",
 * "busybox" or another template's name, then packages, copy, run). */
struct spec_template {
        char *name;
        char *from;
        char *suite;     /* from = "debian": the host's apt configuration when NULL */
        char *mirror;
        char **packages; /* apt-get install in the build root */
        char **run;      /* one command run in the build root, after packages and copies */
        struct spec_template_copy *copies;
        size_t n_copies;
        char *file;
        int line;
        int line_from, line_suite, line_mirror, line_packages, line_run;
};

enum { UPDATE_AUTO, UPDATE_MANUAL };
/* network NAME { address = ... } in a container: an interface more (eth1,
 * eth2, ... in declaration order) on berth's network NAME, beside the
 * primary one (the untitled network block, eth0: default route, ports). */
struct spec_attach {
        char *network;          /* berth's network; else the host interface: a bridge, a macvlan/ipvlan parent */
        net_mode_t mode;        /* NET_BRIDGE (berth's network or a host bridge), NET_MACVLAN, NET_IPVLAN */
        bool address_auto;
        struct in_addr address; /* when static */
        uint8_t address_prefix; /* "A.B.C.D/N": N (a network berth does not own); 0 = none given */
        bool address_dhcp;      /* "dhcp": no address; the container's own client asks the LAN */
        int line, line_address, line_mode;
};

struct spec_container {
        char *name;
        char *file;
        int line;
        bool reload_kept; /* berthd's: the object kept from the set before (supervise_reload.c) */

        /* Root file system: exactly one of the two. */
        char *template_name;
        char *rootfs;

        char **command; /* NULL = the template's default (/bin/sh) */
        char **env;
        char *workdir;
        char *user; /* "uid[:gid]" or a name resolved inside the rootfs */
        char *hostname; /* defaults to the name */
        bool init;      /* true: berth's minimal init is PID 1 and reaps */

        /* Supervision. */
        bool autostart;
        /* stateful-stop: checkpointed at berthd's shutdown, restored at the
         * next start; line_stateful_stop 0 = unset: berthd's --stateful-stop. */
        bool stateful_stop;
        int32_t start_order;
        usec_t start_delay;
        usec_t start_timeout;
        char **after;
        char **requires;
        restart_policy_t restart;
        usec_t restart_delay, restart_max_delay;
        uint32_t restart_limit;
        usec_t restart_window;
        int stop_signal;
        usec_t stop_timeout;

        /* Network. */
        net_mode_t net_mode;
        char *network;   /* NET_BRIDGE: the network definition's name, else a host bridge's */
        bool address_auto;
        struct in_addr address; /* when static */
        uint8_t address_prefix; /* "A.B.C.D/N": N (a network berth does not own); 0 = none given */
        bool address_dhcp;      /* "dhcp": no address; the container's own client asks the LAN */
        char *parent;           /* NET_MACVLAN, NET_IPVLAN: the host interface */
        char *gateway_text;     /* network.gateway as written (not on berth's networks) */
        struct in_addr gateway; /* parsed; 0 = no default route */
        struct publish *publish;
        size_t n_publish;
        char **dns;
        struct spec_attach *attach; /* the extra interfaces, eth1 on */
        size_t n_attach;

        struct spec_limits limits;

        struct spec_mount *mounts;
        size_t n_mounts;

        uint64_t caps_add, caps_drop; /* bit n = capability n */
        seccomp_mode_t seccomp;
        char *seccomp_profile;
        uint64_t seccomp_profile_digest; /* of the file's content (config_load_dir); 0 = unread */

        bool idmap;
        bool idmap_auto; /* idmap = "auto": a block of the pool, chosen at the first start */
        bool idmap_default; /* set by berthd --default-idmap, not by the definition */
        uint32_t idmap_host_uid, idmap_host_gid, idmap_count;

        struct spec_health health;

        /* Devices, secrets and hooks (berth.conf(5)); see lib/devices.h,
         * lib/secrets.h, lib/hooks.h. */
        struct spec_device *devices;
        size_t n_devices;
        bool allow_host_disks;
        struct spec_secret *secrets;
        size_t n_secrets;
        struct spec_hook hooks[_HOOK_KIND_MAX];

        uint64_t disk_quota; /* bytes, 0 = none */
        uint64_t log_max_size;
        uint32_t log_max_files;
        log_driver_t log_driver; /* LOG_DRIVER_DEFAULT: berthd's --log-driver */
        usec_t snapshot_every;  /* scheduled snapshots: 0 = none */
        uint32_t snapshot_keep; /* scheduled snapshots kept */
        int update;             /* UPDATE_AUTO: restarted onto a rebuilt template; UPDATE_MANUAL: only by restart */

        /* Settings (settings.h). */
        bool read_only_root;
        char **sysctl; /* "name=value", in file order */
        struct spec_rlimit *rlimits;
        size_t n_rlimits;
        char *env_file;
        uint64_t env_file_digest; /* of the file's content (config_load_dir); 0 = unread */
        char **env_file_env;      /* its entries, as read then */

        /* Terminal and input (berthctl console, attach): the monitor holds
         * a pty of the container's devpts as its terminal, or the write end
         * of a pipe that is its stdin (else /dev/null). */
        bool console;
        bool stdin_open;

        /* Line of each key, for errors found after parsing (0 = not set). */
        int line_address, line_network, line_parent, line_gateway, line_after, line_requires, line_template, line_rootfs;
        int line_publish, line_idmap, line_user, line_seccomp, line_stop_signal;
        int line_env_file, line_io_device, line_stdin, line_stateful_stop;
};

/* A definition file as config_load_dir() read it: its name in the
 * directory and the bytes that were parsed (the last-good copy is made
 * of these: state.h). */
struct spec_source {
        char *name;
        char *text;
        size_t len;
};

struct spec_set {
        struct spec_container **containers;
        size_t n_containers;
        struct spec_network **networks;
        size_t n_networks;
        struct spec_template **templates;
        size_t n_templates;
        /* The containers by name (spec_set_index), while n_by_name ==
         * n_containers; a set changed otherwise is indexed again. */
        struct nameidx *by_name;
        size_t n_by_name;
        struct spec_source *sources; /* config_load_dir's files, by name */
        size_t n_sources;
};

/* Defaults for a container named name (file/line copied). */
int spec_container_new(const char *name, const char *file, int line, struct spec_container **ret);
struct spec_container *spec_container_free(struct spec_container *c);
int spec_network_new(const char *name, const char *file, int line, struct spec_network **ret);
struct spec_network *spec_network_free(struct spec_network *n);
void spec_set_done(struct spec_set *s);
/* Deep copies (config.c's parse cache): every pointer of the copy is its
 * own; a NULL field stays NULL, a non-NULL empty one non-NULL. NULL on
 * -ENOMEM. */
struct spec_container *spec_container_dup(const struct spec_container *c);
struct spec_network *spec_network_dup(const struct spec_network *n);
struct spec_template *spec_template_dup(const struct spec_template *t);
/* Builds s->by_name (0, -ENOMEM). Then spec_set_find_container bisects;
 * without it, it scans. Returns the first container called name. */
int spec_set_index(struct spec_set *s);
struct spec_container *spec_set_find_container(const struct spec_set *s, const char *name);
struct spec_network *spec_set_find_network(const struct spec_set *s, const char *name);
struct spec_template *spec_set_find_template(const struct spec_set *s, const char *name);
struct spec_template *spec_template_free(struct spec_template *t);

/* Hashes, as 16 hex digits + NUL. Same spec → same hash on every machine.
 * restart: every field that only a restart can apply.
 * live: the fields that can be applied to a running container (limits).
 * supervise: the fields the supervisor applies without touching the
 *            container (ordering, restart policy, health, stop settings). */
#define SPEC_HASH_LEN 17
void spec_container_hash_restart(const struct spec_container *c, char out[SPEC_HASH_LEN]);
void spec_container_hash_live(const struct spec_container *c, char out[SPEC_HASH_LEN]);
void spec_container_hash_supervise(const struct spec_container *c, char out[SPEC_HASH_LEN]);
void spec_network_hash(const struct spec_network *n, char out[SPEC_HASH_LEN]);

/* Names of the fields that differ between two specs in the restart set,
 * comma separated into buf ("command,env"). Returns buf. */
const char *spec_container_diff_restart(const struct spec_container *a, const struct spec_container *b,
                                        char *buf, size_t size);
/* The same for the live set, with old → new values ("memory 256M → 512M"). */
const char *spec_container_diff_live(const struct spec_container *a, const struct spec_container *b,
                                     char *buf, size_t size);
/* The same for the supervise set ("autostart off → on, health"). */
const char *spec_container_diff_supervise(const struct spec_container *a, const struct spec_container *b,
                                          char *buf, size_t size);
/* A network's fields that need the bridge rebuilt ("subnet, gateway"), and
 * those changed in place ("mtu 1500 → 9000, nat off → on"). */
const char *spec_network_diff_recreate(const struct spec_network *a, const struct spec_network *b, char *buf,
                                       size_t size);
const char *spec_network_diff_live(const struct spec_network *a, const struct spec_network *b, char *buf,
                                   size_t size);

const char *restart_policy_to_string(restart_policy_t p);
const char *net_mode_to_string(net_mode_t m);
/* On a network berth does not own: macvlan, ipvlan, or a bridge that no
 * file declares (config_check lets such a container through only with
 * address A.B.C.D/N or dhcp, and refuses both on berth's networks). */
static inline bool spec_container_external_net(const struct spec_container *c)
{
        return c->net_mode == NET_MACVLAN || c->net_mode == NET_IPVLAN ||
               (c->net_mode == NET_BRIDGE && (c->address_prefix || c->address_dhcp));
}
/* An extra interface on a network berth does not own: a host bridge (its
 * name no declared network's, address A.B.C.D/N or dhcp), macvlan or
 * ipvlan on a host interface (config_check admits nothing else). */
static inline bool spec_attach_external(const struct spec_attach *a)
{
        return a->mode == NET_MACVLAN || a->mode == NET_IPVLAN || a->address_prefix || a->address_dhcp;
}
const char *health_action_to_string(health_action_t a);
const char *seccomp_mode_to_string(seccomp_mode_t m);
const char *hook_kind_to_string(hook_kind_t k);

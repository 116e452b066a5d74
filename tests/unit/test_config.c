/* Unit tests for config.c: every malformed input yields exactly one
 * diagnostic with the right line and message; valid inputs round-trip into
 * the expected spec; the directory loader picks the right files; the fuzz
 * corpus is replayed so that crashes found once stay fixed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "keys.h"
#include "parse.h"
#include "spec.h"

#define FUZZ_CORPUS_DIR "tests/fuzz/corpus"

/* Parses text as t.conf and runs the set checks, like berthctl check does
 * for one file. */
static void parse_and_validate(const char *text, size_t len, struct spec_set *set, struct diag *d)
{
        assert_int_equal(config_parse_buffer("t.conf", text, len, set, d), 0);
        config_validate(set, d);
        diag_sort(d);
}

static void print_diags(const char *what, const struct diag *d)
{
        char buf[1024];
        for (size_t i = 0; i < d->n; i++)
                print_message("%s: %s\n", what, diag_format(&d->entries[i], buf, sizeof buf));
}

/* ---- one malformed input, one diagnostic ----------------------------- */

struct bad_case {
        const char *name;
        const char *text;
        int line;
        const char *message;
};

#define CT(body) "container a {\n  template = \"busybox\"\n" body "\n}\n"
#define NT(subnet, body) "network n {\n  subnet = \"" subnet "\"\n" body "\n}\n"
/* A declared network n, then container a whose line 6 is body. */
#define BT(body) "network n {\n  subnet = \"198.18.0.0/24\"\n}\ncontainer a {\n  template = \"busybox\"\n" body "\n}\n"

/* Networks m and n, then container a whose line 9 is body. */
#define B2T(body) "network m {\n  subnet = \"198.18.1.0/24\"\n}\n" BT(body)

static const struct bad_case bad_cases[] = {
        { "template_without_from", "\ntemplate app {\n}\n",
          2, "template 'app': from is required (e.g. from = \"debian\" or \"oci-archive:/srv/images/app.tar\")" },
        { "template_from_not_an_image", "template app {\n  from = \"/srv/app.tar\"\n}\n",
          2, "from: '/srv/app.tar' is neither \"debian\", \"busybox\", a template's name nor an image (oci-archive:FILE, oci:DIR[:TAG], docker-archive:FILE)" },
        { "template_from_relative", "template app {\n  from = \"oci:srv/app\"\n}\n",
          2, "from: 'oci:srv/app': the path must be absolute" },
        { "template_bad_name", "template Bad {\n  from = \"oci:/srv/app\"\n}\n",
          1, "template name 'Bad' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})" },
        { "template_twice", "template app {\n  from = \"oci:/a\"\n}\ntemplate app {\n  from = \"oci:/b\"\n}\n",
          4, "template 'app' declared twice (first at t.conf:1)" },
        { "unknown_key", CT("  bogus = 1"),
          3, "unknown key 'bogus' in container" },
        { "unknown_block", CT("  bogus { x = 1 }"),
          3, "unknown block 'bogus' in container" },
        { "unknown_key_top_level", "# top\nbogus = 1\n",
          2, "unknown key 'bogus' (expected container NAME { }, network NAME { } or template NAME { })" },
        { "unknown_block_top_level", "\n\npod x {\n}\n",
          3, "unknown block 'pod' (expected container, network or template)" },
        { "unknown_key_in_limits", CT("  limits {\n    memroy = 1G\n  }"),
          4, "unknown key 'memroy' in limits" },
        { "unknown_key_after_nested_block", CT("  limits { }\n  bogus = 1"),
          4, "unknown key 'bogus' in container" },
        { "list_to_scalar", CT("  hostname = { \"a\", \"b\" }"),
          3, "hostname: takes one value, not a list" },
        { "key_set_twice", CT("  hostname = \"a\"\n  hostname = \"b\""),
          4, "hostname: set twice (first at line 3)" },
        { "key_set_twice_in_block", CT("  limits {\n    memory = 1G\n    memory = 2G\n  }"),
          5, "limits.memory: set twice (first at line 4)" },
        { "key_set_twice_in_network", NT("198.18.0.0/24", "  nat = true\n  nat = false"),
          4, "nat: set twice (first at line 3)" },
        { "block_set_twice", CT("  limits { memory = 1G }\n  limits { pids = 5 }"),
          4, "limits: set twice (first at line 3)" },
        { "key_is_block", CT("  limits = 5"),
          3, "limits: is a block: write limits { ... }" },
        { "block_is_key", CT("  hostname { }"),
          3, "hostname: is a key, not a block: write hostname = VALUE" },
        { "size_bad", CT("  limits { memory = 12Q }"),
          3, "limits.memory: '12Q' is not a size (use 512k, 256M, 2G)" },
        { "size_too_large", CT("  limits { memory = 99999999999T }"),
          3, "limits.memory: '99999999999T' is too large" },
        { "size_below_min", CT("  limits { memory = 1k }"),
          3, "limits.memory: '1k' is below the minimum of 1M" },
        { "duration_bad", CT("  stop-timeout = 5x"),
          3, "stop-timeout: '5x' is not a duration (use 500ms, 10s, 5m, 1h)" },
        { "duration_too_long", CT("  stop-timeout = 99999d"),
          3, "stop-timeout: '99999d' is too long" },
        { "duration_below_min", CT("  restart-delay = 1ms"),
          3, "restart-delay: '1ms' is below the minimum of 10ms" },
        { "cpus_bad", CT("  limits { cpus = 1.2345 }"),
          3, "limits.cpus: '1.2345' is not a CPU count (use 1, 0.5, 2.25)" },
        { "cpus_zero", CT("  limits { cpus = 0 }"),
          3, "limits.cpus: '0' is out of range (0.001..4096)" },
        { "cpus_too_many", CT("  limits { cpus = 5000 }"),
          3, "limits.cpus: '5000' is out of range (0.001..4096)" },
        { "cpuset_bad", CT("  limits { cpuset = \"3-1\" }"),
          3, "limits.cpuset: '3-1' is not a CPU list (use 0-3,5)" },
        { "pids_out_of_range", CT("  limits { pids = 0 }"),
          3, "limits.pids: '0' is out of range (1..4194304)" },
        { "weight_not_number", CT("  limits { cpu-weight = heavy }"),
          3, "limits.cpu-weight: 'heavy' is not a number" },
        { "memory_swap_without_memory", CT("  limits { memory-swap = 1G }"),
          3, "limits.memory-swap: needs limits.memory" },
        { "memory_swap_below_memory", CT("  limits {\n    memory = 1G\n    memory-swap = 512M\n  }"),
          5, "limits.memory-swap: '512M' is below memory (it counts memory plus swap)" },
        { "attach_undeclared", BT("  network { bridge = \"n\" }\n  network m { }"),
          7, "network 'm': not declared by any file (an extra network is berth's, network m { subnet = ... }; for a "
             "host bridge give address = \"A.B.C.D/N\" or \"dhcp\")" },
        { "attach_primary_twice", BT("  network { bridge = \"n\" }\n  network n { }"),
          7, "network 'n': the container is on it already" },
        { "attach_extra_twice", B2T("  network { bridge = \"n\" }\n  network m { }\n  network m { }"),
          11, "network 'm': the container is on it already" },
        { "attach_mode_none", BT("  network n { }"),
          6, "network 'n': an extra network needs the container on a berth network (network { bridge = NETWORK }), "
             "not mode 'none'" },
        { "attach_mode_host", BT("  network { mode = \"host\" }\n  network n { }"),
          7, "network 'n': an extra network needs the container on a berth network (network { bridge = NETWORK }), "
             "not mode 'host'" },
        { "attach_unknown_key", B2T("  network { bridge = \"n\" }\n  network m {\n    mtu = 9\n  }"),
          11, "unknown key 'mtu' in network 'm' (only address and mode)" },
        { "attach_mode_bad", BT("  network { bridge = \"n\" }\n  network br9 { mode = \"host\" }"),
          7, "network 'br9'.mode: 'host' is not bridge, macvlan or ipvlan (an extra interface)" },
        { "attach_mode_twice",
          BT("  network { bridge = \"n\" }\n  network eth9 {\n    mode = \"macvlan\"\n    mode = \"ipvlan\"\n"
             "    address = \"dhcp\"\n  }"),
          9, "network 'eth9'.mode: set twice (first at line 8)" },
        { "attach_vlan_no_address", BT("  network { bridge = \"n\" }\n  network eth9 { mode = \"macvlan\" }"),
          7, "network 'eth9': mode 'macvlan' needs address = \"A.B.C.D/N\" or \"dhcp\" (berth does not own the "
             "network)" },
        { "attach_vlan_auto",
          BT("  network { bridge = \"n\" }\n  network eth9 {\n    mode = \"ipvlan\"\n    address = \"198.18.9.2\"\n  }"),
          9, "network 'eth9': mode 'ipvlan' needs address = \"A.B.C.D/N\" or \"dhcp\" (berth does not own the "
             "network)" },
        { "attach_vlan_on_berth_network",
          B2T("  network { bridge = \"n\" }\n  network m { mode = \"macvlan\"  address = \"198.18.1.5/24\" }"),
          10, "network 'm': mode 'macvlan' names its parent interface, and 'm' is a network berth manages (use it "
              "without mode, or name a host interface)" },
        { "attach_dhcp_on_berth_network", B2T("  network { bridge = \"n\" }\n  network m { address = \"dhcp\" }"),
          10, "network 'm'.address: dhcp is not used on berth's network 'm' (its addresses are auto or A.B.C.D, its "
              "prefix /24)" },
        { "attach_prefix_on_berth_network",
          B2T("  network { bridge = \"n\" }\n  network m { address = \"198.18.1.5/16\" }"),
          10, "network 'm'.address: another prefix on berth's network 'm' (its addresses are auto or A.B.C.D, its "
              "prefix /24)" },
        { "attach_prefix_bad", BT("  network { bridge = \"n\" }\n  network br9 { address = \"198.18.9.5/40\" }"),
          7, "network 'br9'.address: '198.18.9.5/40': the prefix is not 1 to 32" },
        { "attach_host_bridge_long",
          BT("  network { bridge = \"n\" }\n  network br-0123456789abc { address = \"dhcp\" }"),
          7, "network 'br-0123456789abc': not an interface name (at most 15 characters; the name of an extra network "
             "berth does not own is its host interface)" },
        { "attach_address_bad", B2T("  network { bridge = \"n\" }\n  network m { address = \"x\" }"),
          10, "network 'm'.address: 'x' is not an IPv4 address (or auto)" },
        { "attach_address_outside", B2T("  network { bridge = \"n\" }\n  network m { address = \"198.18.0.5\" }"),
          10, "network 'm'.address: 198.18.0.5 is outside network 'm' (198.18.1.0/24)" },
        { "attach_address_gateway", B2T("  network { bridge = \"n\" }\n  network m { address = \"198.18.1.1\" }"),
          10, "network 'm'.address: 198.18.1.1 is the gateway of 'm'" },
        { "attach_bad_name", BT("  network { bridge = \"n\" }\n  network \"Bad\" { }"),
          7, "network 'Bad': not a network name" },
        { "address_bad", BT("  network { bridge = \"n\"  address = \"198.18.0.300\" }"),
          6, "network.address: '198.18.0.300' is not an IPv4 address (or auto)" },
        { "address_without_bridge", CT("  network { mode = \"host\"  address = \"198.18.0.5\" }"),
          3, "network.address: only for a container on a bridge, macvlan or ipvlan network" },
        { "cidr_no_prefix", NT("198.18.0.0", ""),
          2, "subnet: '198.18.0.0' is not an IPv4 CIDR (e.g. 198.18.0.0/24)" },
        { "cidr_prefix_33", NT("198.18.0.0/33", ""),
          2, "subnet: '198.18.0.0/33' is not an IPv4 CIDR (e.g. 198.18.0.0/24)" },
        { "cidr_prefix_31", NT("198.18.0.0/31", ""),
          2, "subnet: prefix /31 is out of range (/8../30)" },
        { "subnet6_not_v6", NT("198.18.0.0/24", "  subnet6 = \"198.18.1.0/24\""),
          3, "subnet6: '198.18.1.0/24' is not an IPv6 prefix (e.g. 2001:db8:1::/64)" },
        { "subnet6_too_long_for_ipam", NT("198.18.0.0/16", "  subnet6 = \"2001:db8::/120\""),
          3, "subnet6: /120 is too long for the addresses of subnet /16 (a container's IPv6 address carries its "
             "IPv4 host number: at most /112)" },
        { "subnet6_host_bits", NT("198.18.0.0/24", "  subnet6 = \"2001:db8::1/64\""),
          3, "subnet6: '2001:db8::1/64' has host bits set" },
        { "subnet6_prefix_range", NT("198.18.0.0/24", "  subnet6 = \"2001:db8::/4\""),
          3, "subnet6: prefix /4 is out of range (/8../120)" },
        { "cidr_host_bits", NT("198.18.0.1/24", ""),
          2, "subnet: '198.18.0.1/24' has host bits set (did you mean 198.18.0.0/24?)" },
        { "cidr_bad_address", NT("198.18.0/24", ""),
          2, "subnet: '198.18.0/24' is not an IPv4 CIDR (e.g. 198.18.0.0/24)" },
        { "subnet_missing", "network n {\n  nat = true\n}\n",
          1, "network 'n': subnet is required (e.g. subnet = \"198.18.0.0/24\")" },
        { "gateway_outside", NT("198.18.0.0/24", "  gateway = \"198.19.0.1\""),
          3, "gateway: '198.19.0.1' is outside subnet '198.18.0.0/24'" },
        { "gateway_broadcast", NT("198.18.0.0/24", "  gateway = \"198.18.0.255\""),
          3, "gateway: '198.18.0.255' is the subnet's network or broadcast address" },
        { "bridge_name_long", NT("198.18.0.0/24", "  bridge = \"averyveryverylongbridge\""),
          3, "bridge: 'averyveryverylongbridge' is not a usable interface name (at most 15 characters of [a-z0-9_.-])" },
        { "mtu_out_of_range", NT("198.18.0.0/24", "  mtu = 100"),
          3, "mtu: '100' is out of range (576..65535)" },
        { "network_name_bad", "network \"Lan 0\" {\n  subnet = \"198.18.0.0/24\"\n}\n",
          1, "network name 'Lan 0' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})" },
        { "publish_bad", BT("  network { bridge = \"n\"  publish = { \"80\" } }"),
          6, "network.publish: '80' is not a port mapping (use HOST:CONTAINER[/tcp|/udp], ADDRESS:HOST:CONTAINER or [IPV6]:HOST:CONTAINER)" },
        { "publish_bad_proto", BT("  network { bridge = \"n\"  publish = { \"8080:80/sctp\" } }"),
          6, "network.publish: '8080:80/sctp' is not a port mapping (use HOST:CONTAINER[/tcp|/udp], ADDRESS:HOST:CONTAINER or [IPV6]:HOST:CONTAINER)" },
        { "publish_port_zero", BT("  network {\n    bridge = \"n\"\n    publish = { \"8080:80\", \"0:81\" }\n  }"),
          8, "network.publish: '0:81' is not a port mapping (use HOST:CONTAINER[/tcp|/udp], ADDRESS:HOST:CONTAINER or [IPV6]:HOST:CONTAINER)" },
        { "publish_v6_loopback", BT("  network { bridge = \"n\"  publish = { \"[::1]:8080:80\" } }"),
          6, "network.publish: '[::1]:8080:80': [::1] cannot be published (IPv6 has no route_localnet, the kernel "
             "drops a loopback source leaving by a bridge); use 127.0.0.1 or one of the host's addresses" },
        { "publish_v6_bad", BT("  network { bridge = \"n\"  publish = { \"[2001:db8::zz]:8080:80\" } }"),
          6, "network.publish: '[2001:db8::zz]:8080:80' is not a port mapping (use HOST:CONTAINER[/tcp|/udp], "
             "ADDRESS:HOST:CONTAINER or [IPV6]:HOST:CONTAINER)" },
        { "publish_v6_on_v4_network", BT("  network { bridge = \"n\"  publish = { \"[2001:db8::5]:8080:80\" } }"),
          6, "network.publish: [2001:db8::5] is an IPv6 address but network 'n' has no subnet6" },
        { "nat6_without_subnet6", NT("198.18.0.0/24", "  nat6 = true"),
          3, "nat6: network 'n' has no subnet6 (NAT66 masquerades its IPv6 prefix)" },
        { "publish_v6_same_address_twice",
          "network n {\n  subnet = \"198.18.0.0/24\"\n  subnet6 = \"2001:db8:7::/64\"\n}\ncontainer a {\n"
          "  template = \"busybox\"\n  network { bridge = \"n\"  publish = { \"198.18.0.1:8080:80\", "
          "\"[2001:db8:7::1]:8080:81\", \"[2001:db8:7::1]:8080:82\" } }\n}\n",
          7, "network.publish: host port 8080/tcp is already published by container 'a' (t.conf:7)" },
        { "publish_without_bridge", CT("  network { mode = \"none\"  publish = { \"8080:80\" } }"),
          3, "network.publish: only for a container on a bridge network" },
        { "publish_same_port_twice", BT("  network { bridge = \"n\"  publish = { \"8080:80\", \"8080:81/tcp\" } }"),
          6, "network.publish: host port 8080/tcp is already published by container 'a' (t.conf:6)" },
        { "publish_wildcard_after_address", BT("  network { bridge = \"n\"  publish = { \"127.0.0.1:8080:80\" } }\n}\n"
                                               "container b {\n  template = \"busybox\"\n"
                                               "  network { bridge = \"n\"  publish = { \"8080:80\" } }"),
          10, "network.publish: host port 8080/tcp is already published by container 'a' (t.conf:6)" },
        { "dns_bad", CT("  network { dns = { \"dns.example\" } }"),
          3, "network.dns: 'dns.example' is not an IPv4 address" },
        { "signal_bad", CT("  stop-signal = \"SIGFOO\""),
          3, "stop-signal: 'SIGFOO' is not a signal (use SIGTERM, SIGINT, SIGQUIT, SIGHUP, ...)" },
        { "signal_number_too_large", CT("  stop-signal = 65"),
          3, "stop-signal: '65' is not a signal (use SIGTERM, SIGINT, SIGQUIT, SIGHUP, ...)" },
        { "capability_bad", CT("  capabilities { add = { \"net_fly\" } }"),
          3, "capabilities.add: 'net_fly' is not a capability (e.g. net_admin, sys_ptrace, all)" },
        { "capability_added_and_dropped", CT("  capabilities {\n    add = { \"net_admin\" }\n    drop = { \"NET_ADMIN\" }\n  }"),
          5, "capabilities: a capability is both added and dropped" },
        { "enum_restart", CT("  restart = \"sometimes\""),
          3, "restart: 'sometimes' is not valid (use no, on-failure, always, unless-stopped)" },
        { "enum_net_mode", CT("  network { mode = \"overlay\" }"),
          3, "network.mode: 'overlay' is not valid (use none, bridge, host, macvlan, ipvlan)" },
        { "enum_on_failure", CT("  health {\n    tcp = 80\n    on-failure = \"explode\"\n  }"),
          5, "health.on-failure: 'explode' is not valid (use restart, stop, none)" },
        { "enum_mount_type", CT("  mount m {\n    type = \"nfs\"\n    target = \"/m\"\n  }"),
          4, "mount.type: 'nfs' is not valid (use bind, tmpfs)" },
        { "bool_bad", CT("  autostart = maybe"),
          3, "autostart: 'maybe' is not a boolean (use true or false)" },
        { "seccomp_bad", CT("  seccomp = \"strict\""),
          3, "seccomp: 'strict' is not valid (use default, unconfined, or an absolute path)" },
        { "env_expansion_quoted", CT("  command = { \"/bin/echo\", \"${HOME}\" }"),
          3, "'${' would expand an environment variable: write '\\${' or use single quotes" },
        { "env_expansion_bare", CT("  workdir = ${HOME}"),
          3, "'${' would expand an environment variable: quote the value with single quotes" },
        { "env_expansion_scalar_unset", CT("  workdir = \"${BERTH_TEST_SURELY_UNSET}\""),
          3, "'${' would expand an environment variable: write '\\${' or use single quotes" },
        { "template_and_rootfs", CT("  rootfs = \"/srv/root\""),
          3, "set template or rootfs, not both (template at line 2)" },
        { "template_nor_rootfs", "container a {\n  hostname = \"a\"\n}\n",
          1, "container 'a': needs template = NAME or rootfs = PATH" },
        { "rootfs_relative", "container a {\n  rootfs = \"srv/root\"\n}\n",
          2, "rootfs: 'srv/root' must be an absolute path" },
        { "template_bad_name", "container a {\n  template = \"Busy Box\"\n}\n",
          2, "template: 'Busy Box' is not a template name" },
        { "container_name_bad", "\ncontainer Web {\n  template = \"busybox\"\n}\n",
          2, "container name 'Web' is not valid (use [a-z0-9][a-z0-9_.-]{0,62})" },
        { "rootfs_host_root", "container a {\n  rootfs = \"/\"\n}\n",
          2, "rootfs: '/' is the host's root directory (a container needs a root of its own)" },
        { "rootfs_dot", "container a {\n  rootfs = \"/.\"\n}\n",
          2, "rootfs: '/.' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "rootfs_dotdot_to_root", "container a {\n  rootfs = \"/usr/..\"\n}\n",
          2, "rootfs: '/usr/..' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "rootfs_double_slash", "container a {\n\n  rootfs = \"/srv//root\"\n}\n",
          3, "rootfs: '/srv//root' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "rootfs_trailing_slash", "container a {\n  rootfs = \"/srv/root/\"\n}\n",
          2, "rootfs: '/srv/root/' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "device_bad_title", CT("  device \"x 1:2\" { }"),
          3, "device: 'x 1:2' is neither a host node (/dev/...) nor TYPE MAJOR:MINOR (e.g. \"c 10:229\")" },
        { "device_number_needs_path", CT("  device \"c 10:229\" { }"),
          3, "device 'c 10:229': a device given by number needs path = \"/dev/NAME\"" },
        { "device_path_outside_dev", CT("  device \"/dev/fuse\" {\n    path = \"/etc/fuse\"\n  }"),
          4, "device.path: '/etc/fuse' must be a canonical path under /dev/" },
        { "device_access_bad", CT("  device \"/dev/fuse\" {\n    access = \"rr\"\n  }"),
          4, "device.access: 'rr' is not a subset of rwm (e.g. rw)" },
        { "device_same_path", CT("  device \"/dev/fuse\" { }\n  device \"c 10:229\" { path = \"/dev/fuse\" }"),
          4, "device: '/dev/fuse' is also the path of the device at line 3" },
        { "secret_no_source", CT("  secret db { target = \"/db\" }"), 3, "secret 'db': source is required" },
        { "secret_bad_name", CT("  secret DB { source = \"/x\" }"),
          3, "secret: 'DB' is not a valid name (use [a-z0-9][a-z0-9_.-]{0,62})" },
        { "secret_same_target", CT("  secret a { source = \"/x\" }\n  secret b { source = \"/y\"  target = \"/run/secrets/a\" }"),
          4, "secret: target '/run/secrets/a' is also the secret 'a''s" },
        { "hook_unknown", CT("  hook pre-stop { command = { \"/bin/true\" } }"),
          3, "hook: 'pre-stop' is not a hook (use pre-start, post-start or post-stop)" },
        { "hook_timeout_short", CT("  hook pre-start {\n    command = { \"/bin/true\" }\n    timeout = 1ms\n  }"),
          5, "hook.timeout: '1ms' is below the minimum of 10ms" },
        { "hook_declared_twice", CT("  hook pre-start { command = { \"/bin/a\" } }\n  hook pre-start { command = { \"/bin/b\" } }"),
          4, "hook 'pre-start' declared twice (first at line 3)" },
        { "mount_source_dotdot_into_etc", CT("  mount data {\n    source = \"/srv/data/../../etc\"\n    target = \"/data\"\n  }"),
          4, "mount.source: '/srv/data/../../etc' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "mount_source_dot", CT("  mount data {\n    source = \"/srv/./data\"\n    target = \"/data\"\n  }"),
          4, "mount.source: '/srv/./data' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "mount_source_double_slash", CT("  mount data {\n    target = \"/data\"\n    source = \"//etc\"\n  }"),
          5, "mount.source: '//etc' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "mount_source_trailing_slash", CT("  mount data {\n    source = \"/srv/data/\"\n    target = \"/data\"\n  }"),
          4, "mount.source: '/srv/data/' must be a canonical absolute path (no . or .. components, no //, no trailing /)" },
        { "mount_target_relative", CT("  mount data {\n    source = \"/srv/data\"\n    target = \"data\"\n  }"),
          5, "mount.target: 'data' must be an absolute path without . or .. components" },
        { "mount_target_dotdot", CT("  mount data {\n    source = \"/srv/data\"\n    target = \"/a/../b\"\n  }"),
          5, "mount.target: '/a/../b' must be an absolute path without . or .. components" },
        { "mount_target_missing", CT("  mount data {\n    source = \"/srv/data\"\n  }"),
          3, "mount 'data': target is required" },
        { "mount_bind_without_source", CT("  mount data {\n    type = \"bind\"\n    target = \"/data\"\n  }"),
          3, "mount 'data': a bind mount needs source" },
        { "mount_source_relative", CT("  mount data {\n    source = \"data\"\n    target = \"/data\"\n  }"),
          4, "mount.source: 'data' must be an absolute path" },
        { "mount_tmpfs_with_source", CT("  mount data {\n    type = \"tmpfs\"\n    source = \"/x\"\n    target = \"/data\"\n  }"),
          5, "mount.source: not allowed for type tmpfs" },
        { "mount_bind_with_size", CT("  mount data {\n    source = \"/x\"\n    target = \"/data\"\n    type = \"bind\"\n    size = 1M\n  }"),
          7, "mount.size: only for type tmpfs" },
        { "mount_declared_twice", CT("  mount data { type = \"tmpfs\"  target = \"/a\" }\n  mount data { type = \"tmpfs\"  target = \"/b\" }"),
          4, "mount 'data' declared twice (first at line 3)" },
        { "mount_over_root", CT("  mount data {\n    type = \"tmpfs\"\n    target = \"/\"\n  }"),
          5, "mount.target: cannot mount over the container's /" },
        { "health_neither_command_nor_tcp", CT("  health {\n    interval = 5s\n  }"),
          3, "health: needs command = { ... } or tcp = PORT" },
        { "health_command_and_tcp", CT("  health {\n    tcp = 80\n    command = { \"/bin/true\" }\n  }"),
          3, "health: set command or tcp, not both" },
        { "health_interval_shorter_than_timeout", CT("  health {\n    tcp = 80\n    interval = 1s\n    timeout = 2s\n  }"),
          5, "health: interval 1s is shorter than timeout 2s" },
        { "health_http_without_tcp", CT("  health {\n    command = { \"/bin/true\" }\n    http = \"/\"\n  }"),
          5, "health.http: needs tcp = PORT" },
        { "health_tcp_out_of_range", CT("  health {\n    tcp = 70000\n  }"),
          4, "health.tcp: '70000' is out of range (1..65535)" },
        { "env_not_name_value", CT("  env = { \"1X=2\" }"),
          3, "env: '1X=2' is not NAME=VALUE" },
        { "workdir_relative", CT("  workdir = \"srv\""),
          3, "workdir: 'srv' must be an absolute path without . or .. components" },
        { "user_bad", CT("  user = \"Root:x:y\""),
          3, "user: 'Root:x:y' is not UID[:GID] or NAME[:GROUP]" },
        { "hostname_bad", CT("  hostname = \"web_1\""),
          3, "hostname: 'web_1' is not a valid host name" },
        { "start_order_bad", CT("  start-order = \"first\""),
          3, "start-order: 'first' is not an integer" },
        { "restart_max_delay_below_delay", CT("  restart-delay = 10s\n  restart-max-delay = 5s"),
          4, "restart-max-delay: shorter than restart-delay" },
        { "idmap_bad", CT("  idmap = \"100000\""),
          3, "idmap: '100000' is not HOSTID:COUNT, auto or none (e.g. 100000:65536)" },
        { "idmap_past_last_id", CT("  idmap = \"4294967290:100\""),
          3, "idmap: '4294967290:100' runs past the last id" },
        { "mount_idmap_needs_idmap", CT("  mount d {\n    source = \"/srv\"\n    target = \"/d\"\n    idmap = true\n  }"),
          3, "mount.idmap: needs the container's idmap" },
        { "mount_idmap_not_tmpfs", CT("  idmap = \"auto\"\n  mount t {\n    type = \"tmpfs\"\n    target = \"/t\"\n    idmap = true\n  }"),
          7, "mount.idmap: only for bind mounts" },
        { "empty_value", CT("  hostname = \"\""),
          3, "hostname: must not be empty" },
        { "command_empty_entry", CT("  command = { \"/bin/sh\", \"\" }"),
          3, "command: entry 2 is empty" },
        { "depends_on_itself", CT("  after = { \"a\" }"),
          3, "after: container 'a' cannot depend on itself" },
        { "requires_names_nothing", CT("  requires = { \"ghost\" }"),
          3, "requires: 'ghost' names no container" },
        { "container_declared_twice", "container a {\n  template = \"busybox\"\n}\n\ncontainer a {\n  template = \"busybox\"\n}\n",
          5, "container 'a' declared twice (first at t.conf:1)" },
        { "bridge_undeclared", CT("  network { bridge = \"nowhere\" }"),
          3, "network.bridge: network 'nowhere' is not declared by any file (for a host bridge berth does not "
          "manage, give address = \"A.B.C.D/N\" or \"dhcp\")" },
        { "block_never_closed", "container a {\n  template = \"busybox\"\n  limits {\n    memory = 1G\n",
          1, "'{' is never closed (missing '}' at the end of the file)" },
        { "value_missing", CT("  hostname =\n"),
          5, "unexpected token '}'" },
        { "stray_closing_brace", "container a {\n  template = \"busybox\"\n}\n}\n",
          4, "unexpected closing brace" },
        { "log_max_files_zero", CT("  log { max-files = 0 }"),
          3, "log.max-files: '0' is out of range (1..100)" },
        { "disk_quota_bad", CT("  disk-quota = lots"),
          3, "disk-quota: 'lots' is not a size (use 512k, 256M, 2G)" },
        { "binary_data", "container a {\n  template = \"busy\001box\"\n}\n",
          2, "binary data (byte 0x01): not a definition file" },
};

static void run_bad_case(void **state)
{
        const struct bad_case *b = *state;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(b->text, strlen(b->text), &set, &d);
        if (d.n != 1)
                print_diags(b->name, &d);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.entries[0].file, "t.conf");
        assert_string_equal(d.entries[0].message, b->message);
        assert_int_equal(d.entries[0].line, b->line);
        spec_set_done(&set);
        diag_done(&d);
}

/* ---- rootfs that is the host's / under another name ------------------ */

/* A canonical path that resolves to / (a symlink, a bind of /) is refused
 * at check time too, with FILE:LINE:. */
static void test_config_parse_buffer_rootfs_resolving_to_host_root(void **state)
{
        (void) state;
        char dir[] = "/tmp/sn-cfg.XXXXXX";
        assert_non_null(mkdtemp(dir));
        char link[64], text[256], buf[512];
        snprintf(link, sizeof link, "%s/hostroot", dir);
        assert_int_equal(symlink("/", link), 0);
        snprintf(text, sizeof text, "container a {\n  hostname = \"a\"\n  rootfs = \"%s\"\n}\n", link);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        (void) unlink(link);
        (void) rmdir(dir);
        if (d.n != 1)
                print_diags("rootfs_resolving_to_host_root", &d);
        assert_int_equal(d.n, 1);
        char want[256];
        snprintf(want, sizeof want,
                 "t.conf:3: rootfs: '%s' is the host's root directory (a container needs a root of its own)", link);
        assert_string_equal(diag_format(&d.entries[0], buf, sizeof buf), want);
        spec_set_done(&set);
        diag_done(&d);
}

/* The canonical form is still accepted: "/srv/root", "/a.b/..c/.d". */
static void test_config_parse_buffer_canonical_paths_accepted(void **state)
{
        (void) state;
        const char *text = "container a {\n  rootfs = \"/srv/root\"\n"
                           "  mount data {\n    source = \"/a.b/..c/.d\"\n    target = \"/data\"\n  }\n}\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        if (d.n != 0)
                print_diags("canonical_paths_accepted", &d);
        assert_int_equal(d.n, 0);
        spec_set_done(&set);
        diag_done(&d);
}

/* ---- idmap: "none", and berthd's --default-idmap ($BERTH_DEFAULT_IDMAP) -- */

static void test_config_parse_buffer_default_idmap(void **state)
{
        (void) state;
        const char *text = "container a {\n  template = \"busybox\"\n}\n"
                           "container b {\n  template = \"busybox\"\n  idmap = \"none\"\n}\n"
                           "container c {\n  template = \"busybox\"\n  idmap = \"100000:65536\"\n}\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        /* Without the default: none for a and b. */
        unsetenv(CONFIG_DEFAULT_IDMAP_ENV);
        parse_and_validate(text, strlen(text), &set, &d);
        assert_int_equal(d.n, 0);
        assert_false(spec_set_find_container(&set, "a")->idmap);
        assert_false(spec_set_find_container(&set, "b")->idmap);
        spec_set_done(&set);
        diag_done(&d);

        /* With auto: a takes it, b opts out, c keeps its own. */
        setenv(CONFIG_DEFAULT_IDMAP_ENV, "auto", 1);
        set = (struct spec_set){ 0 };
        d = (struct diag){ 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        assert_int_equal(d.n, 0);
        const struct spec_container *a = spec_set_find_container(&set, "a");
        assert_true(a->idmap && a->idmap_auto && a->idmap_default);
        assert_int_equal(a->idmap_count, 65536);
        assert_false(spec_set_find_container(&set, "b")->idmap);
        const struct spec_container *c = spec_set_find_container(&set, "c");
        assert_true(c->idmap && !c->idmap_auto && !c->idmap_default);
        assert_int_equal(c->idmap_host_uid, 100000);
        spec_set_done(&set);
        diag_done(&d);

        /* A bad default is an error at the container's line. */
        setenv(CONFIG_DEFAULT_IDMAP_ENV, "7", 1);
        set = (struct spec_set){ 0 };
        d = (struct diag){ 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        assert_int_equal(d.n, 1);
        char buf[512];
        assert_string_equal(diag_format(&d.entries[0], buf, sizeof buf),
                            "t.conf:1: idmap: the default (--default-idmap, $BERTH_DEFAULT_IDMAP): '7' is not "
                            "HOSTID:COUNT, auto or none (e.g. 100000:65536)");
        spec_set_done(&set);
        diag_done(&d);
        unsetenv(CONFIG_DEFAULT_IDMAP_ENV);
}

/* ---- several mistakes, one pass --------------------------------------- */

static void test_config_parse_buffer_five_mistakes_five_diagnostics(void **state)
{
        (void) state;
        const char *text = "container a {\n"              /* 1 */
                           "  template = \"busybox\"\n"    /* 2 */
                           "  bogus = 1\n"                 /* 3: unknown key */
                           "  restart = \"sometimes\"\n"   /* 4: bad enum */
                           "  limits {\n"                  /* 5 */
                           "    memory = 12Q\n"            /* 6: bad size */
                           "  }\n"                         /* 7 */
                           "  stop-timeout = 5x\n"         /* 8: bad duration */
                           "  hostname = { \"a\", \"b\" }\n" /* 9: list to a scalar */
                           "}\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        if (d.n != 5)
                print_diags("five", &d);
        assert_int_equal(d.n, 5);
        static const int lines[] = { 3, 4, 6, 8, 9 };
        static const char *const starts[] = { "unknown key 'bogus'", "restart: 'sometimes'", "limits.memory: '12Q'",
                                              "stop-timeout: '5x'", "hostname: takes one value" };
        for (size_t i = 0; i < 5; i++) {
                assert_int_equal(d.entries[i].line, lines[i]);
                assert_true(strncmp(d.entries[i].message, starts[i], strlen(starts[i])) == 0);
        }
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_parse_buffer_errors_in_two_containers(void **state)
{
        (void) state;
        const char *text = "container a {\n  template = \"busybox\"\n  limits { pids = 0 }\n}\n"
                           "container b {\n  template = \"busybox\"\n  stop-signal = \"NOPE\"\n}\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        assert_int_equal(d.n, 2);
        assert_int_equal(d.entries[0].line, 3);
        assert_int_equal(d.entries[1].line, 7);
        assert_int_equal(set.n_containers, 2);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_parse_buffer_deep_nesting(void **state)
{
        (void) state;
        /* 10,000 open braces: no crash, no stack exhaustion, an error. */
        size_t n = 10000;
        char *text = malloc(n + 32);
        assert_non_null(text);
        strcpy(text, "container a ");
        memset(text + strlen(text), '{', n);
        text[12 + n] = 0;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), &set, &d), 0);
        assert_true(d.n >= 1);
        spec_set_done(&set);
        diag_done(&d);
        free(text);
}

static void test_config_parse_buffer_not_nul_terminated(void **state)
{
        (void) state;
        /* The text is read only up to len: what follows must not matter. */
        const char *text = "network n { subnet = \"198.18.0.0/24\" }GARBAGE";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text) - 7, &set, &d), 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(set.n_networks, 1);
        spec_set_done(&set);
        diag_done(&d);
}

/* ---- valid input round-trips into the spec ------------------------------- */

/* Every key of the language at least once (test_config_keys_all_in_full_example checks that). */
static const char full_example[] =
        "# all keys\n"
        "network lan0 {\n"
        "  subnet  = \"198.18.4.0/24\"\n"
        "  gateway = \"198.18.4.254\"\n"
        "  nat     = true\n"
        "  bridge  = \"btcfg0\"\n"
        "  mtu     = 9000\n"
        "}\n"
        "container db {\n"
        "  rootfs = \"/srv/db\"\n"
        "}\n"
        "container web {\n"
        "  template      = \"busybox\"\n"
        "  command       = { \"/bin/httpd\", \"-f\", \"-p\", \"80\" }\n"
        "  env           = { \"MODE=demo\", \"EMPTY=\" }\n"
        "  workdir       = \"/srv\"\n"
        "  user          = \"1000:1000\"\n"
        "  hostname      = \"www\"\n"
        "  init          = false\n"
        "  autostart     = yes\n"
        "  start-order   = -5\n"
        "  start-delay   = 2s\n"
        "  start-timeout = 1m\n"
        "  after         = { \"db\" }\n"
        "  requires      = { \"db\" }\n"
        "  restart       = \"unless-stopped\"\n"
        "  restart-delay = 500ms\n"
        "  restart-max-delay = 2m\n"
        "  restart-limit = 7\n"
        "  restart-window = 1h\n"
        "  stop-signal   = \"SIGINT\"\n"
        "  stop-timeout  = 20s\n"
        "  seccomp       = \"/etc/berth/web.seccomp\"\n"
        "  idmap         = \"100000:65536\"\n"
        "  disk-quota    = 2G\n"
        "  network {\n"
        "    mode    = \"bridge\"\n"
        "    bridge  = \"lan0\"\n"
        "    address = \"198.18.4.10\"\n"
        "    publish = { \"8080:80\", \"127.0.0.1:5353:53/udp\" }\n"
        "    dns     = { \"198.18.4.254\" }\n"
        "  }\n"
        "  limits {\n"
        "    memory      = 256M\n"
        "    memory-swap = 1G\n"
        "    cpus        = 1.5\n"
        "    cpu-weight  = 200\n"
        "    cpuset      = \"0-1\"\n"
        "    pids        = 64\n"
        "    io-weight   = 50\n"
        "  }\n"
        "  mount data { source = \"/srv/data\"  target = \"/data\"  read-only = true }\n"
        "  mount scratch {\n"
        "    type   = \"tmpfs\"\n"
        "    target = \"/tmp\"\n"
        "    size   = 16M\n"
        "  }\n"
        "  device \"/dev/fuse\" { access = \"rw\" }\n"
        "  device \"c 10:200\" { path = \"/dev/net/tun\" }\n"
        "  allow-host-disks = true\n"
        "  secret db { source = \"/etc/berth/secrets/db\"  target = \"/run/secrets/db\" }\n"
        "  hook pre-start { command = { \"/usr/local/sbin/prep\", \"web\" }  timeout = 30s }\n"
        "  hook post-stop { command = { \"/bin/true\" } }\n"
        "  capabilities {\n"
        "    add  = { \"net_admin\", \"CAP_SYS_PTRACE\" }\n"
        "    drop = { \"chown\" }\n"
        "  }\n"
        "  health {\n"
        "    tcp          = 80\n"
        "    http         = \"/healthz\"\n"
        "    http-status  = 204\n"
        "    interval     = 10s\n"
        "    timeout      = 2s\n"
        "    start-period = 30s\n"
        "    retries      = 5\n"
        "    on-failure   = \"stop\"\n"
        "  }\n"
        "  log {\n"
        "    driver    = \"file\"\n"
        "    max-size  = 1M\n"
        "    max-files = 7\n"
        "  }\n"
        "  read-only-root = true\n"
        "  console = true\n"
        "  env-file = \"/etc/berth/web.env\"\n"
        "  sysctl { net.ipv4.ip_forward = 1 }\n"
        "  rlimits { nofile = \"1024:4096\" }\n"
        "  io-max {\n"
        "    device = \"/dev/sda\"\n"
        "    rbps   = 50M\n"
        "    wbps   = 20M\n"
        "    riops  = 1000\n"
        "    wiops  = 500\n"
        "  }\n"
        "  snapshot {\n"
        "    every = 1d\n"
        "    keep  = 14\n"
        "  }\n"
        "}\n"
        "container lan {\n"
        "  template = \"busybox\"\n"
        "  update = \"manual\"\n"
        "  network { mode = \"macvlan\" parent = \"eth1\" address = \"198.18.9.10/24\" gateway = \"198.18.9.1\" }\n"
        "  stdin = true\n"
        "  stateful-stop = true\n"
        "}\n"
        "network dual {\n"
        "  subnet  = \"198.18.6.0/24\"\n"
        "  subnet6 = \"2001:db8:6::/64\"\n"
        "  nat6    = true\n"
        "}\n"
        "template app {\n"
        "  from = \"oci-archive:/srv/images/app.tar\"\n"
        "}\n"
        "template web {\n"
        "  from = \"debian\"\n"
        "  suite = \"bookworm\"\n"
        "  mirror = \"http://deb.debian.org/debian\"\n"
        "  packages = { \"nginx-light\" }\n"
        "  copy { source = \"/etc/passwd\" target = \"/etc/passwd.host\" }\n"
        "  run = { \"/bin/sh\", \"-c\", \"true\" }\n"
        "}\n";

static void test_config_parse_buffer_full_example(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(full_example, strlen(full_example), &set, &d);
        print_diags("full", &d);
        assert_int_equal(d.n, 0);
        assert_int_equal(set.n_networks, 2);
        assert_int_equal(set.n_containers, 3);
        const struct spec_network *dual = spec_set_find_network(&set, "dual");
        assert_non_null(dual);
        assert_true(dual->v6);
        assert_int_equal(dual->prefix6, 64);
        char g6[INET6_ADDRSTRLEN];
        assert_string_equal(inet_ntop(AF_INET6, &dual->gateway6, g6, sizeof g6), "2001:db8:6::1");
        const struct spec_container *lan = spec_set_find_container(&set, "lan");
        assert_non_null(lan);
        assert_int_equal(lan->net_mode, NET_MACVLAN);
        assert_string_equal(lan->parent, "eth1");
        assert_int_equal(lan->address_prefix, 24);
        assert_string_equal(inet_ntop(AF_INET, &lan->gateway, (char[INET_ADDRSTRLEN]){ 0 }, INET_ADDRSTRLEN),
                            "198.18.9.1");
        assert_true(spec_container_external_net(lan));
        assert_int_equal(set.n_templates, 2);
        const struct spec_template *t = spec_set_find_template(&set, "app");
        assert_non_null(t);
        assert_string_equal(t->from, "oci-archive:/srv/images/app.tar");
        const struct spec_template *w = spec_set_find_template(&set, "web");
        assert_non_null(w);
        assert_string_equal(w->suite, "bookworm");
        assert_string_equal(w->packages[0], "nginx-light");
        assert_int_equal(w->n_copies, 1);
        assert_string_equal(w->copies[0].target, "/etc/passwd.host");
        assert_string_equal(w->run[2], "true");
        assert_int_equal(lan->update, UPDATE_MANUAL);

        const struct spec_network *n = spec_set_find_network(&set, "lan0");
        char a[INET_ADDRSTRLEN];
        assert_non_null(n);
        assert_string_equal(n->file, "t.conf");
        assert_int_equal(n->line, 2);
        assert_string_equal(inet_ntop(AF_INET, &n->subnet, a, sizeof a), "198.18.4.0");
        assert_int_equal(n->prefix, 24);
        assert_string_equal(inet_ntop(AF_INET, &n->gateway, a, sizeof a), "198.18.4.254");
        assert_true(n->nat);
        assert_string_equal(n->bridge, "btcfg0");
        assert_int_equal(n->mtu, 9000);

        const struct spec_container *c = spec_set_find_container(&set, "web");
        assert_non_null(c);
        assert_int_equal(c->line, 12);
        assert_string_equal(c->template_name, "busybox");
        assert_null(c->rootfs);
        assert_int_equal(strv_length(c->command), 4);
        assert_string_equal(c->command[0], "/bin/httpd");
        assert_string_equal(c->command[3], "80");
        assert_int_equal(strv_length(c->env), 2);
        assert_string_equal(c->env[1], "EMPTY=");
        assert_string_equal(c->workdir, "/srv");
        assert_string_equal(c->user, "1000:1000");
        assert_string_equal(c->hostname, "www");
        assert_false(c->init);
        assert_true(c->autostart);
        assert_int_equal(c->start_order, -5);
        assert_int_equal(c->start_delay, 2 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->start_timeout, 60 * SPEC_USEC_PER_SEC);
        assert_string_equal(c->after[0], "db");
        assert_null(c->after[1]);
        assert_string_equal(c->requires[0], "db");
        assert_int_equal(c->restart, RESTART_UNLESS_STOPPED);
        assert_int_equal(c->restart_delay, 500 * SPEC_USEC_PER_MSEC);
        assert_int_equal(c->restart_max_delay, 120 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->restart_limit, 7);
        assert_int_equal(c->restart_window, 3600 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->stop_signal, SIGINT);
        assert_int_equal(c->stop_timeout, 20 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->seccomp, SECCOMP_PROFILE);
        assert_string_equal(c->seccomp_profile, "/etc/berth/web.seccomp");
        assert_true(c->idmap);
        assert_int_equal(c->idmap_host_uid, 100000);
        assert_int_equal(c->idmap_host_gid, 100000);
        assert_int_equal(c->idmap_count, 65536);
        assert_int_equal(c->disk_quota, 2ULL << 30);

        assert_int_equal(c->net_mode, NET_BRIDGE);
        assert_string_equal(c->network, "lan0");
        assert_false(c->address_auto);
        assert_string_equal(inet_ntop(AF_INET, &c->address, a, sizeof a), "198.18.4.10");
        assert_int_equal(c->n_publish, 2);
        assert_int_equal(c->publish[0].host_addr.s_addr, htonl(INADDR_ANY));
        assert_int_equal(c->publish[0].host_port, 8080);
        assert_int_equal(c->publish[0].container_port, 80);
        assert_int_equal(c->publish[0].proto, PROTO_TCP);
        assert_string_equal(inet_ntop(AF_INET, &c->publish[1].host_addr, a, sizeof a), "127.0.0.1");
        assert_int_equal(c->publish[1].host_port, 5353);
        assert_int_equal(c->publish[1].container_port, 53);
        assert_int_equal(c->publish[1].proto, PROTO_UDP);
        assert_string_equal(c->dns[0], "198.18.4.254");
        assert_null(c->dns[1]);

        assert_int_equal(c->limits.memory, 256ULL << 20);
        assert_int_equal(c->limits.memory_swap, 1LL << 30);
        assert_int_equal(c->limits.cpus_milli, 1500);
        assert_int_equal(c->limits.cpu_weight, 200);
        assert_string_equal(c->limits.cpuset, "0-1");
        assert_int_equal(c->limits.pids, 64);
        assert_int_equal(c->limits.io_weight, 50);

        assert_int_equal(c->n_mounts, 2);
        assert_string_equal(c->mounts[0].name, "data");
        assert_int_equal(c->mounts[0].type, MOUNT_BIND);
        assert_string_equal(c->mounts[0].source, "/srv/data");
        assert_string_equal(c->mounts[0].target, "/data");
        assert_true(c->mounts[0].read_only);
        assert_int_equal(c->mounts[0].line, 52);
        assert_string_equal(c->mounts[1].name, "scratch");
        assert_int_equal(c->mounts[1].type, MOUNT_TMPFS);
        assert_null(c->mounts[1].source);
        assert_string_equal(c->mounts[1].target, "/tmp");
        assert_false(c->mounts[1].read_only);
        assert_int_equal(c->mounts[1].size, 16ULL << 20);
        assert_int_equal(c->mounts[1].line, 53);

        int cap;
        assert_int_equal(parse_capability("net_admin", &cap), 0);
        uint64_t add = 1ULL << cap;
        assert_int_equal(parse_capability("sys_ptrace", &cap), 0);
        add |= 1ULL << cap;
        assert_int_equal(c->caps_add, add);
        assert_int_equal(parse_capability("chown", &cap), 0);
        assert_int_equal(c->caps_drop, 1ULL << cap);

        assert_int_equal(c->n_devices, 2);
        assert_string_equal(c->devices[0].host, "/dev/fuse");
        assert_string_equal(c->devices[0].path, "/dev/fuse");
        assert_string_equal(c->devices[0].access, "rw");
        assert_null(c->devices[1].host);
        assert_int_equal(c->devices[1].type, 'c');
        assert_int_equal(c->devices[1].major, 10);
        assert_int_equal(c->devices[1].minor, 200);
        assert_string_equal(c->devices[1].path, "/dev/net/tun");
        assert_string_equal(c->devices[1].access, "rwm");
        assert_true(c->allow_host_disks);
        assert_int_equal(c->n_secrets, 1);
        assert_string_equal(c->secrets[0].source, "/etc/berth/secrets/db");
        assert_string_equal(c->secrets[0].target, "/run/secrets/db");
        assert_int_equal(strv_length(c->hooks[HOOK_PRE_START].command), 2);
        assert_int_equal(c->hooks[HOOK_PRE_START].timeout, 30 * SPEC_USEC_PER_SEC);
        assert_null(c->hooks[HOOK_POST_START].command);
        assert_int_equal(c->hooks[HOOK_POST_STOP].timeout, 10 * SPEC_USEC_PER_SEC);

        assert_true(c->health.enabled);
        assert_int_equal(c->health.line, 68);
        assert_null(c->health.command);
        assert_int_equal(c->health.tcp_port, 80);
        assert_string_equal(c->health.http_path, "/healthz");
        assert_int_equal(c->health.http_status, 204);
        assert_int_equal(c->health.interval, 10 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->health.timeout, 2 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->health.start_period, 30 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->health.retries, 5);
        assert_int_equal(c->health.on_failure, HEALTH_ACTION_STOP);
        assert_int_equal(c->log_max_size, 1ULL << 20);
        assert_int_equal(c->log_max_files, 7);
        assert_int_equal(c->snapshot_every, 24ULL * 3600 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->snapshot_keep, 14);
        assert_true(c->console);
        assert_false(c->stdin_open);
        assert_true(lan->stdin_open);
        assert_false(lan->console);

        assert_int_equal(c->line_template, 13);
        assert_int_equal(c->line_after, 24);
        assert_int_equal(c->line_requires, 25);
        assert_int_equal(c->line_network, 38);
        assert_int_equal(c->line_address, 39);
        assert_int_equal(c->line_publish, 40);
        assert_int_equal(c->line_idmap, 34);
        assert_int_equal(c->line_user, 17);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_keys_all_in_full_example(void **state)
{
        (void) state;
        /* Every key config_keys() lists appears in full_example as "KEY =" or
         * "KEY {", so the round-trip test covers the whole language. */
        _cleanup_strv_free_ char **keys = config_keys();
        assert_non_null(keys);
        assert_true(strv_length(keys) > 60);
        for (size_t i = 0; keys[i]; i++) {
                const char *leaf = strrchr(keys[i], '.');
                leaf = leaf ? leaf + 1 : keys[i];
                _cleanup_free_ char *as_key = strdup_printf(" %s ", leaf);
                _cleanup_free_ char *as_top = strdup_printf("\n%s ", leaf);
                if (!strstr(full_example, as_key) && !strstr(full_example, as_top))
                        fail_msg("key '%s' is missing from full_example", keys[i]);
        }
}

/* Every key of every block survives a deep copy (config.c's parse cache
 * hands out copies): the copy equals a fresh parse by every row's equality
 * and hash after the original is freed (a pointer shared by the two would
 * be a use after free under ASan). full_example sets every key. */
static void test_config_spec_dup_every_key(void **state)
{
        (void) state;
        struct spec_set set = { 0 }, again = { 0 };
        struct diag d = { 0 }, d2 = { 0 };
        parse_and_validate(full_example, strlen(full_example), &set, &d);
        parse_and_validate(full_example, strlen(full_example), &again, &d2);
        assert_true(set.n_containers > 0 && set.n_networks > 0 && set.n_templates > 0);
        for (size_t i = 0; i < set.n_containers; i++) {
                struct spec_container *c = spec_container_dup(set.containers[i]);
                assert_non_null(c);
                spec_container_free(set.containers[i]);
                set.containers[i] = c;
                for (const struct key_def *k = keys_table(NULL); k->name; k++)
                        if (strncmp(k->block, "container", 9) == 0 && !key_equal(k, c, again.containers[i]))
                                fail_msg("container %s: key %s.%s differs in the copy", c->name, k->block, k->name);
                char h1[SPEC_HASH_LEN], h2[SPEC_HASH_LEN];
                keys_hash("container", KEY_CLASS_RESTART, true, c, h1);
                keys_hash("container", KEY_CLASS_RESTART, true, again.containers[i], h2);
                assert_string_equal(h1, h2);
        }
        for (size_t i = 0; i < set.n_networks; i++) {
                struct spec_network *n = spec_network_dup(set.networks[i]);
                assert_non_null(n);
                spec_network_free(set.networks[i]);
                set.networks[i] = n;
                char h1[SPEC_HASH_LEN], h2[SPEC_HASH_LEN];
                spec_network_hash(n, h1);
                spec_network_hash(again.networks[i], h2);
                assert_string_equal(h1, h2);
                assert_string_equal(n->name, again.networks[i]->name);
                assert_string_equal(n->file, again.networks[i]->file);
        }
        for (size_t i = 0; i < set.n_templates; i++) {
                struct spec_template *t = spec_template_dup(set.templates[i]);
                assert_non_null(t);
                spec_template_free(set.templates[i]);
                set.templates[i] = t;
                for (const struct key_def *k = keys_table(NULL); k->name; k++)
                        if (streq(k->block, "template") && !key_equal(k, t, again.templates[i]))
                                fail_msg("template %s: key %s differs in the copy", t->name, k->name);
                assert_int_equal(t->n_copies, again.templates[i]->n_copies);
                for (size_t j = 0; j < t->n_copies; j++) {
                        assert_string_equal(t->copies[j].source, again.templates[i]->copies[j].source);
                        assert_string_equal(t->copies[j].target, again.templates[i]->copies[j].target);
                }
        }
        spec_set_done(&set);
        spec_set_done(&again);
        diag_done(&d);
        diag_done(&d2);
}

static void test_config_parse_buffer_defaults(void **state)
{
        (void) state;
        const char *text = "container a { template = \"busybox\" }\n"
                           "container b { rootfs = \"/srv/b\" health { command = { \"/bin/true\" } } }\n"
                           "container c { template = \"busybox\" network { bridge = \"n\" } mount m { target = \"/t\" size = 1M } }\n"
                           "network n { subnet = \"198.18.8.0/24\" }\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        print_diags("defaults", &d);
        assert_int_equal(d.n, 0);
        const struct spec_container *c = spec_set_find_container(&set, "a");
        assert_non_null(c);
        assert_null(c->rootfs);
        assert_null(c->command);
        assert_null(c->env);
        assert_null(c->workdir);
        assert_null(c->user);
        assert_null(c->hostname);
        assert_true(c->init);
        assert_false(c->autostart);
        assert_int_equal(c->start_order, 0);
        assert_int_equal(c->start_delay, 0);
        assert_int_equal(c->start_timeout, 60 * SPEC_USEC_PER_SEC);
        assert_null(c->after);
        assert_null(c->requires);
        assert_int_equal(c->restart, RESTART_NO);
        assert_int_equal(c->restart_delay, SPEC_USEC_PER_SEC);
        assert_int_equal(c->restart_max_delay, 60 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->restart_limit, 5);
        assert_int_equal(c->restart_window, 60 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->stop_signal, SIGTERM);
        assert_int_equal(c->stop_timeout, 10 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->net_mode, NET_NONE);
        assert_null(c->network);
        assert_int_equal(c->n_publish, 0);
        assert_null(c->dns);
        assert_int_equal(c->limits.memory, 0);
        assert_int_equal(c->limits.memory_swap, 0);
        assert_int_equal(c->limits.cpus_milli, 0);
        assert_int_equal(c->limits.cpu_weight, 0);
        assert_null(c->limits.cpuset);
        assert_int_equal(c->limits.pids, 0);
        assert_int_equal(c->limits.io_weight, 0);
        assert_int_equal(c->n_mounts, 0);
        assert_int_equal(c->caps_add, 0);
        assert_int_equal(c->caps_drop, 0);
        assert_int_equal(c->seccomp, SECCOMP_DEFAULT);
        assert_null(c->seccomp_profile);
        assert_false(c->idmap);
        assert_false(c->health.enabled);
        assert_int_equal(c->disk_quota, 0);
        assert_int_equal(c->log_max_size, 10ULL << 20);
        assert_int_equal(c->log_max_files, 3);
        assert_int_equal(c->snapshot_every, 0);
        assert_int_equal(c->snapshot_keep, 7);

        c = spec_set_find_container(&set, "b");
        assert_non_null(c);
        assert_string_equal(c->rootfs, "/srv/b");
        assert_true(c->health.enabled);
        assert_string_equal(c->health.command[0], "/bin/true");
        assert_int_equal(c->health.tcp_port, 0);
        assert_null(c->health.http_path);
        assert_int_equal(c->health.http_status, 200);
        assert_int_equal(c->health.interval, 30 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->health.timeout, 5 * SPEC_USEC_PER_SEC);
        assert_int_equal(c->health.start_period, 0);
        assert_int_equal(c->health.retries, 3);
        assert_int_equal(c->health.on_failure, HEALTH_ACTION_RESTART);

        c = spec_set_find_container(&set, "c");
        assert_non_null(c);
        assert_int_equal(c->net_mode, NET_BRIDGE); /* implied by bridge = */
        assert_true(c->address_auto);
        assert_int_equal(c->mounts[0].type, MOUNT_TMPFS); /* implied by size without source */
        assert_false(c->mounts[0].read_only);

        const struct spec_network *n = spec_set_find_network(&set, "n");
        char a[INET_ADDRSTRLEN];
        assert_string_equal(n->bridge, "n");
        assert_string_equal(inet_ntop(AF_INET, &n->gateway, a, sizeof a), "198.18.8.1");
        assert_false(n->nat);
        assert_int_equal(n->mtu, 0);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_validate_publish_no_false_conflicts(void **state)
{
        (void) state;
        /* Distinct addresses, or tcp and udp, may share a host port. */
        const char *text = "network n { subnet = \"198.18.0.0/24\" }\n"
                           "container a { template = \"busybox\" network { bridge = \"n\" publish = { "
                           "\"127.0.0.1:8080:80\", \"8080:80/udp\", \"127.0.0.2:8080:80\" } } }\n"
                           "container b { template = \"busybox\" network { bridge = \"n\" publish = { "
                           "\"127.0.0.3:8080:80\", \"8081:80\" } } }\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        print_diags("publish", &d);
        assert_int_equal(d.n, 0);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_parse_buffer_too_many_sections(void **state)
{
        (void) state;
        /* libconfuse is quadratic in the sections of a file: bounded first. */
        size_t n = CONFIG_CONTAINERS_MAX + 1, len = 0;
        _cleanup_free_ char *text = malloc(n * 64);
        assert_non_null(text);
        for (size_t i = 0; i < n; i++)
                len += (size_t) sprintf(text + len, "container c%zu { rootfs = \"/r\" }\n", i);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_parse_buffer("t.conf", text, len, &set, &d), 0);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.entries[0].line, CONFIG_CONTAINERS_MAX + 1);
        assert_string_equal(d.entries[0].message, "more than 10000 containers and networks in one file");
        assert_int_equal(set.n_containers, 0);
        spec_set_done(&set);
        diag_done(&d);

        len = (size_t) sprintf(text, "container a {\n  rootfs = \"/r\"\n");
        for (size_t i = 0; i <= SPEC_LIST_MAX; i++)
                len += (size_t) sprintf(text + len, "  mount m%zu { type = \"tmpfs\" target = \"/m\" }\n", i);
        len += (size_t) sprintf(text + len, "}\n");
        assert_int_equal(config_parse_buffer("t.conf", text, len, &set, &d), 0);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.entries[0].line, SPEC_LIST_MAX + 3);
        assert_string_equal(d.entries[0].message, "more than 1024 blocks in one container");
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_parse_buffer_many_sections_fast(void **state)
{
        (void) state;
        /* 10,000 containers with blocks in one file, each named twice: every
         * per-section lookup must be near constant (was quadratic). */
        size_t n = CONFIG_CONTAINERS_MAX / 2, len = 0;
        _cleanup_free_ char *text = malloc(n * 2 * 128);
        assert_non_null(text);
        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < n; i++)
                        len += (size_t) sprintf(text + len,
                                                "container c%zu { rootfs = \"/r\" health { tcp = 1 } "
                                                "mount m { type = \"tmpfs\" target = \"/m\" } }\n",
                                                i);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        /* CPU time of this process, not wall time: other work on a shared
         * machine must not fail it; a quadratic lookup still would. */
        struct timespec a, b;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        assert_int_equal(config_parse_buffer("t.conf", text, len, &set, &d), 0);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        double secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        print_message("parsed %zu sections in %.2fs of CPU\n", 2 * n, secs);
        assert_int_equal(d.n + d.dropped, n); /* each second one is 'declared twice' */
        assert_string_equal(d.entries[0].message, "container 'c0' declared twice (first at t.conf:1)");
        assert_true(secs < 30);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_validate_many_published_ports_fast(void **state)
{
        (void) state;
        /* 60 containers × 1024 published ports: the check was quadratic. */
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        const char *net = "network n { subnet = \"198.18.0.0/16\" }\n";
        assert_int_equal(config_parse_buffer("n.conf", net, strlen(net), &set, &d), 0);
        _cleanup_free_ char *text = malloc(64 * 1024);
        assert_non_null(text);
        for (size_t c = 0; c < 60; c++) {
                size_t len = (size_t) sprintf(text, "container c%zu { rootfs = \"/r\" network { bridge = \"n\" publish = {", c);
                for (size_t p = 0; p < SPEC_LIST_MAX; p++)
                        len += (size_t) sprintf(text + len, "%s\"%zu:80\"", p ? ", " : " ", c * SPEC_LIST_MAX + p + 1);
                len += (size_t) sprintf(text + len, " } } }\n");
                assert_int_equal(config_parse_buffer("c.conf", text, len, &set, &d), 0);
        }
        /* And one clash at the end. */
        const char *clash = "container z { rootfs = \"/r\" network { bridge = \"n\" publish = { \"1000:80\" } } }\n";
        assert_int_equal(config_parse_buffer("z.conf", clash, strlen(clash), &set, &d), 0);
        struct timespec a, b; /* CPU time: see many_sections_fast */
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
        config_validate(&set, &d);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
        double secs = (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9;
        print_message("validated %d published ports in %.2fs of CPU\n", 60 * SPEC_LIST_MAX + 1, secs);
        print_diags("ports", &d);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.entries[0].file, "z.conf");
        assert_string_equal(d.entries[0].message,
                            "network.publish: host port 1000/tcp is already published by container 'c0' (c.conf:1)");
        assert_true(secs < 2);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_parse_buffer_quoting_and_comments(void **state)
{
        (void) state;
        const char *text = "/* block\n comment */ container a { // line comment\n"
                           "  template = busybox # bare word\n"
                           "  env = { 'A=${not expanded}', \"B=\\${escaped}\" }\n"
                           "}\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        print_diags("quoting", &d);
        assert_int_equal(d.n, 0);
        const struct spec_container *c = set.containers[0];
        assert_int_equal(c->line, 2);
        assert_string_equal(c->template_name, "busybox");
        assert_int_equal(c->line_template, 3);
        assert_string_equal(c->env[0], "A=${not expanded}");
        assert_string_equal(c->env[1], "B=${escaped}");
        spec_set_done(&set);
        diag_done(&d);
}

/* ---- the directory loader ---------------------------------------------- */

static char *make_temp_dir(void)
{
        char *dir = strdup("/tmp/btcfg.XXXXXX");
        assert_non_null(dir);
        assert_non_null(mkdtemp(dir));
        return dir;
}

static void write_text(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *p = strdup_printf("%s/%s", dir, name);
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
        assert_int_equal(fclose(f), 0);
}

static void remove_temp_dir(char *dir)
{
        assert_int_equal(rm_rf(dir), 0);
        free(dir);
}

struct cross_file {
        const char *name, *text;
};
struct cross_diag {
        const char *file; /* relative to the directory */
        int line;
        const char *message; /* "@" stands for the directory */
};
struct cross_case {
        const char *name;
        struct cross_file files[4];
        struct cross_diag diags[3];
};

#define NET_N "network n {\n  subnet = \"198.18.0.0/24\"\n}\n"

static const struct cross_case cross_cases[] = {
        { "container_declared_twice",
          { { "a.conf", "container web {\n  template = \"busybox\"\n}\n" },
            { "b.conf", "\n\ncontainer web {\n  template = \"busybox\"\n}\n" } },
          { { "b.conf", 3, "container 'web' declared twice (first at @/a.conf:1)" } } },
        { "network_declared_twice",
          { { "a.conf", NET_N }, { "b.conf", "# again\n" NET_N } },
          { { "b.conf", 2, "network 'n' declared twice (first at @/a.conf:1)" } } },
        { "after_names_nothing",
          { { "a.conf", "container a {\n  template = \"busybox\"\n  after = { \"b\", \"ghost\" }\n}\n" },
            { "b.conf", "container b {\n  template = \"busybox\"\n}\n" } },
          { { "a.conf", 3, "after: 'ghost' names no container" } } },
        { "dependency_cycle",
          { { "a.conf", "container x {\n  template = \"busybox\"\n  after = { \"y\" }\n}\n" },
            { "b.conf", "container y {\n  template = \"busybox\"\n  requires = { \"z\" }\n}\n" },
            { "c.conf", "container z {\n  template = \"busybox\"\n\n  after = { \"x\" }\n}\n" } },
          { { "a.conf", 3, "dependency cycle: x → y → z → x" } } },
        { "network_undeclared",
          { { "a.conf", NET_N },
            { "b.conf", "container a {\n  template = \"busybox\"\n  network { bridge = \"lan9\" }\n}\n" } },
          { { "b.conf", 3, "network.bridge: network 'lan9' is not declared by any file (for a host bridge berth "
                         "does not manage, give address = \"A.B.C.D/N\" or \"dhcp\")" } } },
        { "address_outside_subnet",
          { { "a.conf", NET_N },
            { "b.conf", "container a {\n  template = \"busybox\"\n  network {\n    bridge = \"n\"\n    address = \"198.18.1.5\"\n  }\n}\n" } },
          { { "b.conf", 5, "network.address: 198.18.1.5 is outside network 'n' (198.18.0.0/24)" } } },
        { "address_is_gateway",
          { { "a.conf", NET_N },
            { "b.conf", "container a {\n  template = \"busybox\"\n  network { bridge = \"n\"  address = \"198.18.0.1\" }\n}\n" } },
          { { "b.conf", 3, "network.address: 198.18.0.1 is the gateway of 'n'" } } },
        { "address_used_twice",
          { { "a.conf", NET_N "container a {\n  template = \"busybox\"\n  network { bridge = \"n\"  address = \"198.18.0.7\" }\n}\n" },
            { "b.conf", "container b {\n  template = \"busybox\"\n  network {\n    bridge = \"n\"\n    address = \"198.18.0.7\"\n  }\n}\n" } },
          { { "b.conf", 5, "network.address: 198.18.0.7 is already used by container 'a' (@/a.conf:6)" } } },
        { "subnets_overlap",
          { { "a.conf", "network n {\n  subnet = \"198.18.0.0/16\"\n}\n" },
            { "b.conf", "\nnetwork m {\n  subnet = \"198.18.4.0/24\"\n}\n" } },
          { { "b.conf", 2, "network 'm': subnet 198.18.4.0/24 overlaps network 'n' (198.18.0.0/16 at @/a.conf:1)" } } },
        { "bridge_used_twice",
          { { "a.conf", "network n {\n  subnet = \"198.18.0.0/24\"\n  bridge = \"br0\"\n}\n" },
            { "b.conf", "network m {\n  subnet = \"198.18.1.0/24\"\n  bridge = \"br0\"\n}\n" } },
          { { "b.conf", 1, "network 'm': bridge 'br0' is already used by network 'n' (@/a.conf:1)" } } },
        { "host_port_published_twice",
          { { "a.conf", NET_N "container a {\n  template = \"busybox\"\n  network { bridge = \"n\"  publish = { \"8080:80\" } }\n}\n" },
            { "b.conf", "container b {\n  template = \"busybox\"\n  network {\n    bridge = \"n\"\n    publish = { \"127.0.0.1:8080:8080/tcp\" }\n  }\n}\n" } },
          { { "b.conf", 5, "network.publish: host port 8080/tcp is already published by container 'a' (@/a.conf:6)" } } },
        { "unparsable_file_names_no_dangling_dependency",
          { { "a.conf", "container a {\n  template = \"busybox\"\n  requires = { \"b\" }\n}\n" },
            { "b.conf", "container b {\n  template = \"busybox\"\n  hostname = \n}\n" } },
          { { "b.conf", 4, "unexpected token '}'" } } },
        { "errors_in_several_files_sorted",
          { { "b.conf", "container b {\n  template = \"busybox\"\n  restart = \"never\"\n}\n" },
            { "a.conf", "container a {\n  template = \"busybox\"\n\n  stop-signal = \"x\"\n}\n" } },
          { { "a.conf", 4, "stop-signal: 'x' is not a signal (use SIGTERM, SIGINT, SIGQUIT, SIGHUP, ...)" },
            { "b.conf", 3, "restart: 'never' is not valid (use no, on-failure, always, unless-stopped)" } } },
};

static char *replace_at(const char *pattern, const char *dir)
{
        const char *at = strchr(pattern, '@');
        if (!at)
                return strdup(pattern);
        return strdup_printf("%.*s%s%s", (int) (at - pattern), pattern, dir, at + 1);
}

static void run_cross_case(void **state)
{
        const struct cross_case *cc = *state;
        char *dir = make_temp_dir();
        for (size_t i = 0; i < ELEMENTSOF(cc->files) && cc->files[i].name; i++)
                write_text(dir, cc->files[i].name, cc->files[i].text);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_load_dir(dir, &set, &d), -EINVAL);
        size_t expected = 0;
        while (expected < ELEMENTSOF(cc->diags) && cc->diags[expected].file)
                expected++;
        if (d.n != expected)
                print_diags(cc->name, &d);
        assert_int_equal(d.n, expected);
        for (size_t i = 0; i < expected; i++) {
                _cleanup_free_ char *file = strdup_printf("%s/%s", dir, cc->diags[i].file);
                _cleanup_free_ char *msg = replace_at(cc->diags[i].message, dir);
                assert_string_equal(d.entries[i].file, file);
                assert_string_equal(d.entries[i].message, msg);
                assert_int_equal(d.entries[i].line, cc->diags[i].line);
        }
        spec_set_done(&set);
        diag_done(&d);
        remove_temp_dir(dir);
}

static void test_config_load_dir_examples(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir("conf.d", &set, &d);
        print_diags("conf.d", &d);
        assert_int_equal(r, 0);
        assert_int_equal(set.n_containers, 2);
        assert_int_equal(set.n_networks, 1);
        spec_set_done(&set);
        diag_done(&d);
}

static void test_config_load_dir_file_selection(void **state)
{
        (void) state;
        char *dir = make_temp_dir();
        /* Only b.conf, c.conf and the link count; each ignored name holds an error. */
        const char *bad = "container bad { template = \"busybox\" bogus = 1 }\n";
        write_text(dir, "c.conf", "container c { template = \"busybox\" }\n");
        write_text(dir, "b.conf", "container b { template = \"busybox\" }\n");
        static const char *const ignored[] = { "foo.conf~",        ".foo.conf", "#foo.conf#",    "foo.conf.bak",
                                               "foo.conf.dpkg-old", "foo.txt",  ".conf",         "README",
                                               "foo.conf.swp",     "foo.CONF" };
        for (size_t i = 0; i < ELEMENTSOF(ignored); i++)
                write_text(dir, ignored[i], bad);
        _cleanup_free_ char *sub = strdup_printf("%s/x.conf", dir);
        assert_int_equal(mkdir(sub, 0700), 0); /* a directory named *.conf: skipped */
        write_text(sub, "inner.conf", bad);
        _cleanup_free_ char *target = strdup_printf("%s/target.txt", dir);
        write_text(dir, "target.txt", "container linked { template = \"busybox\" }\n");
        _cleanup_free_ char *link = strdup_printf("%s/a.conf", dir);
        assert_int_equal(symlink(target, link), 0); /* a symlink to a file: followed */
        _cleanup_free_ char *dangling = strdup_printf("%s/d.conf", dir);
        assert_int_equal(symlink("/nonexistent/btcfg", dangling), 0);

        struct spec_set set = { 0 };
        struct diag d = { 0 };
        int r = config_load_dir(dir, &set, &d);
        print_diags("selection", &d);
        assert_int_equal(r, 0);
        assert_int_equal(d.n, 0);
        /* Name order: a.conf (the link), b.conf, c.conf. */
        assert_int_equal(set.n_containers, 3);
        assert_string_equal(set.containers[0]->name, "linked");
        assert_string_equal(set.containers[1]->name, "b");
        assert_string_equal(set.containers[2]->name, "c");
        _cleanup_free_ char *a_path = strdup_printf("%s/a.conf", dir);
        assert_string_equal(set.containers[0]->file, a_path);
        spec_set_done(&set);
        diag_done(&d);
        remove_temp_dir(dir);
}

static void test_config_load_dir_seccomp_profile_digest(void **state)
{
        (void) state;
        char *dir = make_temp_dir();
        _cleanup_free_ char *prof = strdup_printf("%s/p.json", dir);
        const char *v1 = "{ \"defaultAction\": \"SCMP_ACT_ALLOW\" }\n";
        write_text(dir, "p.json", v1);
        _cleanup_free_ char *conf = strdup_printf("container a { template = \"busybox\" seccomp = \"%s\" }\n"
                                                  "container b { template = \"busybox\" seccomp = \"%s\" }\n"
                                                  "container c { template = \"busybox\" }\n",
                                                  prof, prof);
        write_text(dir, "x.conf", conf);
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_load_dir(dir, &set, &d), 0);
        uint64_t d1 = set.containers[0]->seccomp_profile_digest;
        /* Both users of the file carry its content's digest; no profile, none. */
        assert_true(d1 != 0);
        assert_true(set.containers[1]->seccomp_profile_digest == d1);
        assert_true(set.containers[2]->seccomp_profile_digest == 0);
        spec_set_done(&set);
        diag_done(&d);
        /* An edit of the file (same path) changes it. */
        write_text(dir, "p.json", "{ \"defaultAction\": \"SCMP_ACT_LOG\" }\n");
        set = (struct spec_set){ 0 };
        d = (struct diag){ 0 };
        assert_int_equal(config_load_dir(dir, &set, &d), 0);
        assert_true(set.containers[0]->seccomp_profile_digest != d1);
        spec_set_done(&set);
        diag_done(&d);
        remove_temp_dir(dir);
}

static void test_config_load_dir_missing(void **state)
{
        (void) state;
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_load_dir("/nonexistent/btcfg", &set, &d), -ENOENT);
        assert_int_equal(d.n, 1);
        assert_string_equal(d.entries[0].file, "/nonexistent/btcfg");
        assert_string_equal(d.entries[0].message, "cannot open definition directory: No such file or directory");
        diag_done(&d);
}

static void test_config_load_dir_file_too_large(void **state)
{
        (void) state;
        char *dir = make_temp_dir();
        _cleanup_free_ char *big = malloc(CONFIG_FILE_MAX + 2);
        assert_non_null(big);
        memset(big, '\n', CONFIG_FILE_MAX + 1);
        big[CONFIG_FILE_MAX + 1] = 0;
        write_text(dir, "big.conf", big);
        write_text(dir, "ok.conf", "container ok { template = \"busybox\" }\n");
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        assert_int_equal(config_load_dir(dir, &set, &d), -EINVAL);
        assert_int_equal(d.n, 1);
        _cleanup_free_ char *p = strdup_printf("%s/big.conf", dir);
        assert_string_equal(d.entries[0].file, p);
        assert_int_equal(d.entries[0].line, 0);
        assert_string_equal(d.entries[0].message, "file is larger than 1048576 bytes");
        assert_int_equal(set.n_containers, 1); /* the other files are still read */
        spec_set_done(&set);
        diag_done(&d);
        remove_temp_dir(dir);
}

/* ---- the fuzz corpus, replayed ------------------------------------------- */

static void test_config_parse_buffer_fuzz_corpus(void **state)
{
        (void) state;
        /* tests/run-all.sh runs the suites from the repository root. */
        _cleanup_close_ int dfd = open(FUZZ_CORPUS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                fail_msg("cannot open %s (run from the repository root): %m", FUZZ_CORPUS_DIR);
        DIR *dp = fdopendir(fcntl(dfd, F_DUPFD_CLOEXEC, 3));
        assert_non_null(dp);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(dp))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                assert_int_equal(read_file_at(dfd, de->d_name, 1 << 20, &text, &len), 0);
                struct spec_set set = { 0 };
                struct diag d = { 0 };
                assert_int_equal(config_parse_buffer(de->d_name, text, len, &set, &d), 0);
                config_validate(&set, &d);
                spec_set_done(&set);
                diag_done(&d);
                n++;
        }
        closedir(dp);
        assert_true(n >= 20);
}

/* network NAME { } blocks: eth1, eth2 in order, auto or static, with
 * their lines (after a comment too), beside the untitled network block. */
static void test_config_parse_buffer_attach(void **state)
{
        (void) state;
        const char *text = "network m {\n  subnet = \"198.18.1.0/24\"\n}\n"
                           "network k {\n  subnet = \"198.18.2.0/24\"\n}\n"
                           "network n {\n  subnet = \"198.18.0.0/24\"\n}\n"
                           "container a {\n  template = \"busybox\"\n"
                           "  # a comment\n"
                           "  network m { address = \"198.18.1.7\" }\n"
                           "  network { bridge = \"n\" }\n"
                           "  network k {\n  }\n"
                           "}\n";
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        parse_and_validate(text, strlen(text), &set, &d);
        print_diags("attach", &d);
        assert_int_equal(d.n, 0);
        const struct spec_container *c = set.containers[0];
        assert_string_equal(c->network, "n");
        assert_int_equal(c->net_mode, NET_BRIDGE);
        assert_int_equal(c->n_attach, 2);
        assert_string_equal(c->attach[0].network, "m");
        assert_false(c->attach[0].address_auto);
        assert_int_equal(ntohl(c->attach[0].address.s_addr), (198u << 24) | (18u << 16) | (1u << 8) | 7u);
        assert_int_equal(c->attach[0].line, 13);
        assert_int_equal(c->attach[0].line_address, 13);
        assert_string_equal(c->attach[1].network, "k");
        assert_true(c->attach[1].address_auto);
        assert_int_equal(c->attach[1].line, 15);
        /* Without extra networks the restart hash is what it always was;
         * with one it differs. */
        char h1[SPEC_HASH_LEN], h2[SPEC_HASH_LEN];
        spec_container_hash_restart(c, h1);
        struct spec_container *cc = set.containers[0];
        size_t n = cc->n_attach;
        cc->n_attach = 0;
        spec_container_hash_restart(cc, h2);
        cc->n_attach = n;
        assert_string_not_equal(h1, h2);
        spec_set_done(&set);
        diag_done(&d);

        /* A host bridge (an undeclared name with A.B.C.D/N or dhcp) and a
         * macvlan on a host interface; A.B.C.D/N on berth's network with its
         * own prefix is A.B.C.D (and hashes as before). */
        const char *ext = "network n {\n  subnet = \"198.18.0.0/24\"\n}\n"
                          "network m {\n  subnet = \"198.18.1.0/24\"\n}\n"
                          "container a {\n  template = \"busybox\"\n"
                          "  network { bridge = \"n\" }\n"
                          "  network br0 { address = \"198.18.9.5/24\" }\n"
                          "  network ve1 {\n    mode = \"macvlan\"\n    address = \"dhcp\"\n  }\n"
                          "  network m { address = \"198.18.1.7/24\" }\n"
                          "}\n";
        set = (struct spec_set){ 0 };
        d = (struct diag){ 0 };
        parse_and_validate(ext, strlen(ext), &set, &d);
        print_diags("attach external", &d);
        assert_int_equal(d.n, 0);
        c = set.containers[0];
        assert_int_equal(c->n_attach, 3);
        assert_string_equal(c->attach[0].network, "br0");
        assert_int_equal(c->attach[0].mode, NET_BRIDGE);
        assert_int_equal(c->attach[0].address_prefix, 24);
        assert_true(spec_attach_external(&c->attach[0]));
        assert_string_equal(c->attach[1].network, "ve1");
        assert_int_equal(c->attach[1].mode, NET_MACVLAN);
        assert_true(c->attach[1].address_dhcp);
        assert_int_equal(c->attach[1].line_mode, 12);
        assert_true(spec_attach_external(&c->attach[1]));
        assert_int_equal(c->attach[2].address_prefix, 0);
        assert_false(spec_attach_external(&c->attach[2]));
        /* The mode and the prefix are part of the restart hash. */
        spec_container_hash_restart(c, h1);
        cc = set.containers[0];
        cc->attach[1].mode = NET_IPVLAN;
        spec_container_hash_restart(cc, h2);
        assert_string_not_equal(h1, h2);
        cc->attach[1].mode = NET_MACVLAN;
        cc->attach[0].address_prefix = 16;
        spec_container_hash_restart(cc, h2);
        assert_string_not_equal(h1, h2);
        cc->attach[0].address_prefix = 24;
        spec_set_done(&set);
        diag_done(&d);
}

int main(void)
{
        size_t nb = ELEMENTSOF(bad_cases), nc = ELEMENTSOF(cross_cases);
        static const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_config_parse_buffer_rootfs_resolving_to_host_root),
                cmocka_unit_test(test_config_parse_buffer_canonical_paths_accepted),
                cmocka_unit_test(test_config_parse_buffer_default_idmap),
                cmocka_unit_test(test_config_parse_buffer_five_mistakes_five_diagnostics),
                cmocka_unit_test(test_config_parse_buffer_errors_in_two_containers),
                cmocka_unit_test(test_config_parse_buffer_deep_nesting),
                cmocka_unit_test(test_config_parse_buffer_not_nul_terminated),
                cmocka_unit_test(test_config_parse_buffer_full_example),
                cmocka_unit_test(test_config_keys_all_in_full_example),
                cmocka_unit_test(test_config_spec_dup_every_key),
                cmocka_unit_test(test_config_parse_buffer_defaults),
                cmocka_unit_test(test_config_parse_buffer_attach),
                cmocka_unit_test(test_config_parse_buffer_quoting_and_comments),
                cmocka_unit_test(test_config_validate_publish_no_false_conflicts),
                cmocka_unit_test(test_config_parse_buffer_too_many_sections),
                cmocka_unit_test(test_config_parse_buffer_many_sections_fast),
                cmocka_unit_test(test_config_validate_many_published_ports_fast),
                cmocka_unit_test(test_config_load_dir_examples),
                cmocka_unit_test(test_config_load_dir_file_selection),
                cmocka_unit_test(test_config_load_dir_seccomp_profile_digest),
                cmocka_unit_test(test_config_load_dir_missing),
                cmocka_unit_test(test_config_load_dir_file_too_large),
                cmocka_unit_test(test_config_parse_buffer_fuzz_corpus),
        };
        size_t total = nb + nc + ELEMENTSOF(fixed);
        struct CMUnitTest *tests = calloc(total, sizeof *tests);
        char **names = calloc(nb + nc, sizeof *names);
        if (!tests || !names)
                return 1;
        for (size_t i = 0; i < nb; i++) {
                names[i] = strdup_printf("test_config_parse_buffer_%s", bad_cases[i].name);
                tests[i] = (struct CMUnitTest){ .name = names[i], .test_func = run_bad_case,
                                                .initial_state = (void *) &bad_cases[i] };
        }
        for (size_t i = 0; i < nc; i++) {
                names[nb + i] = strdup_printf("test_config_load_dir_%s", cross_cases[i].name);
                tests[nb + i] = (struct CMUnitTest){ .name = names[nb + i], .test_func = run_cross_case,
                                                     .initial_state = (void *) &cross_cases[i] };
        }
        memcpy(tests + nb + nc, fixed, sizeof fixed);
        int r = _cmocka_run_group_tests("config", tests, total, NULL, NULL);
        for (size_t i = 0; i < nb + nc; i++)
                free(names[i]);
        free(names);
        free(tests);
        return r;
}

/* Owns berth's one nftables table (family inet, name NAT_TABLE): masquerade
 * for NAT networks and DNAT for published ports, rebuilt in one transaction
 * from the desired state. Never edits another table; never logs. */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "spec.h"

#define NAT_TABLE "berth"

/* A running container with an address and published ports. */
struct nat_target {
        const char *name;
        struct in_addr address;
        bool v6; /* on a dual-stack network: address6 is its IPv6 address */
        struct in6_addr address6;
        const struct publish *publish;
        size_t n_publish;
};

/* The nft script (pure): deletes table inet <table> if present and adds it
 * back with the rules for nets[] and targets[], as one batch. dns_loopback,
 * unless INADDR_ANY, is the host's loopback name server that DNS queries to
 * a bridge's gateway are forwarded to (resolv_loopback_only). Caller frees. */
int nat_ruleset_text(const char *table, struct spec_network *const *nets, size_t n_nets,
                     const struct nat_target *targets, size_t n_targets, struct in_addr dns_loopback, char **ret);

/* Applies nat_ruleset_text atomically, with dns_loopback from the host's
 * resolver configuration (resolv.h), then sets route_localnet on each
 * network's bridge (the table guards it; see nat.c). When a network has
 * nat or a port is published, turns on net.ipv4.ip_forward (host-wide;
 * never turned off). On failure e (may be NULL) gets nft's message. */
int nat_apply(const char *table, struct spec_network *const *nets, size_t n_nets,
              const struct nat_target *targets, size_t n_targets, struct error *e);
/* Deletes table inet <table>; 0 when it did not exist. */
int nat_remove(const char *table, struct error *e);

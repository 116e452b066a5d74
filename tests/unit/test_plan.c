/* Unit tests for plan.c: every decision of a reload, its reason and its
 * order, built from definition text (old = what runs, new = the files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "config.h"
#include "plan.h"
#include "spec.h"

/* A container definition with a template, so it parses and validates. */
#define C(name, body) "container " name " { template = \"busybox\" " body " }\n"
#define NET(name, body) "network " name " { " body " }\n"
#define LAN0 NET("lan0", "subnet = \"198.18.0.0/24\"")

struct world {
        struct spec_set old, new;
        struct plan_actual *actual;
        size_t n_actual;
        struct plan_network_actual *nets;
        size_t n_nets;
        struct plan plan;
};

static void parse_into(struct spec_set *set, const char *text, bool validate)
{
        struct diag d = {0};
        assert_int_equal(config_parse_buffer("t.conf", text, strlen(text), set, &d), 0);
        if (validate)
                config_validate(set, &d);
        for (size_t i = 0; i < d.n; i++)
                print_message("diag: %s:%d: %s\n", d.entries[i].file, d.entries[i].line,
                              d.entries[i].message);
        assert_int_equal(d.n, 0);
        diag_done(&d);
}

/* old describes what runs (every container running), new the files. */
static void world_init_raw(struct world *w, const char *old_text, const char *new_text,
                           bool validate)
{
        *w = (struct world){0};
        parse_into(&w->old, old_text, validate);
        parse_into(&w->new, new_text, validate);
        w->n_actual = w->old.n_containers;
        w->actual = calloc(w->n_actual + 1, sizeof *w->actual);
        assert_non_null(w->actual);
        for (size_t i = 0; i < w->n_actual; i++)
                plan_actual_from_spec(w->old.containers[i], PLAN_STATE_RUNNING, &w->actual[i]);
        w->n_nets = w->old.n_networks;
        w->nets = calloc(w->n_nets + 1, sizeof *w->nets);
        assert_non_null(w->nets);
        for (size_t i = 0; i < w->n_nets; i++)
                plan_network_actual_from_spec(w->old.networks[i], &w->nets[i]);
}

static void world_init(struct world *w, const char *old_text, const char *new_text)
{
        world_init_raw(w, old_text, new_text, true);
}

static struct plan_actual *actual_of(struct world *w, const char *name)
{
        for (size_t i = 0; i < w->n_actual; i++)
                if (streq(w->actual[i].name, name))
                        return &w->actual[i];
        fail_msg("no actual container '%s'", name);
        return NULL;
}

static void world_plan(struct world *w)
{
        plan_done(&w->plan);
        assert_int_equal(
                plan_compute(&w->new, w->actual, w->n_actual, w->nets, w->n_nets, &w->plan), 0);
        for (size_t i = 0; getenv("TEST_PLAN_VERBOSE") && i < w->plan.n; i++) {
                char buf[512];
                print_message("  %s\n", plan_action_format(&w->plan.actions[i], buf, sizeof buf));
        }
}

static void world_done(struct world *w)
{
        plan_done(&w->plan);
        spec_set_done(&w->old);
        spec_set_done(&w->new);
        free(w->actual);
        free(w->nets);
}

/* Position of the one action about name (asserts there is exactly one). */
static size_t pos_of(const struct plan *p, const char *name, bool network)
{
        size_t found = SIZE_MAX;
        for (size_t i = 0; i < p->n; i++)
                if (p->actions[i].network == network && streq(p->actions[i].name, name)) {
                        if (found != SIZE_MAX)
                                fail_msg("two actions for '%s'", name);
                        found = i;
                }
        if (found == SIZE_MAX)
                fail_msg("no action for '%s'", name);
        return found;
}

static const struct plan_action *action_of(const struct plan *p, const char *name)
{
        return &p->actions[pos_of(p, name, false)];
}

static const struct plan_action *net_action_of(const struct plan *p, const char *name)
{
        return &p->actions[pos_of(p, name, true)];
}

static void assert_kind(const struct plan_action *a, enum plan_kind k)
{
        if (a->kind != k)
                fail_msg("'%s': expected %s, got %s (%s)", a->name, plan_kind_to_string(k),
                         plan_kind_to_string(a->kind), a->reason);
}

static void assert_contains(const char *haystack, const char *needle)
{
        if (!strstr(haystack, needle))
                fail_msg("'%s' does not contain '%s'", haystack, needle);
}

#define THREE                                                                                      \
        C("db", "autostart = true command = { \"/bin/db\" }")                                      \
        C("web", "autostart = true after = { \"db\" } requires = { \"db\" }")                      \
        C("cache", "autostart = true limits { memory = 256M }")

/* ---- what a reload does to each container ---- */

static void test_plan_compute_unchanged_all_none(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 THREE, LAN0 THREE);
        world_plan(&w);
        assert_int_equal(w.plan.n, 4);
        assert_int_equal(plan_count_changes(&w.plan), 0);
        for (size_t i = 0; i < w.plan.n; i++) {
                assert_int_equal(w.plan.actions[i].kind, PLAN_NONE);
                assert_string_equal(w.plan.actions[i].reason, "unchanged");
        }
        assert_true(net_action_of(&w.plan, "lan0")->network);
        world_done(&w);
}

static void test_plan_compute_new_autostart_create_start(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE, THREE C("extra", "autostart = true"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "extra");
        assert_kind(a, PLAN_CREATE_START);
        assert_string_equal(a->reason, "new");
        assert_int_equal(a->actual, PLAN_NO_INDEX);
        assert_string_equal(w.new.containers[a->desired]->name, "extra");
        assert_int_equal(plan_count_changes(&w.plan), 1);
        world_done(&w);
}

static void test_plan_compute_new_without_autostart_create_only(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE, THREE C("extra", "autostart = false"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "extra");
        assert_kind(a, PLAN_CREATE);
        assert_string_equal(a->reason, "new, autostart = false");
        world_done(&w);
}

static void test_plan_compute_removed_stop_keeps_data(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE,
                   C("db", "autostart = true command = { \"/bin/db\" }")
                           C("web", "autostart = true after = { \"db\" } requires = { \"db\" }"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "cache");
        assert_kind(a, PLAN_STOP_ORPHAN);
        assert_int_equal(a->desired, PLAN_NO_INDEX);
        assert_string_equal(w.actual[a->actual].name, "cache");
        assert_string_equal(a->reason, "definition gone; data kept");
        assert_string_equal(plan_kind_to_string(a->kind), "stop");
        assert_int_equal(pos_of(&w.plan, "cache", false), 0); /* removals come first */
        assert_int_equal(plan_count_changes(&w.plan), 1);
        world_done(&w);
}

static void test_plan_compute_removed_stopped_orphan(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE,
                   C("db", "autostart = true command = { \"/bin/db\" }")
                           C("web", "autostart = true after = { \"db\" } requires = { \"db\" }"));
        actual_of(&w, "cache")->state = PLAN_STATE_STOPPED;
        actual_of(&w, "cache")->stopped_by_operator = true;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "cache"), PLAN_ORPHAN);
        assert_string_equal(action_of(&w.plan, "cache")->reason, "definition gone; data kept");
        world_done(&w);
}

static void test_plan_compute_orphaned_stays_none(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE,
                   C("db", "autostart = true command = { \"/bin/db\" }")
                           C("web", "autostart = true after = { \"db\" } requires = { \"db\" }"));
        actual_of(&w, "cache")->state = PLAN_STATE_STOPPED;
        actual_of(&w, "cache")->orphaned = true;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "cache"), PLAN_NONE);
        assert_string_equal(action_of(&w.plan, "cache")->reason, "orphaned; data kept");
        assert_int_equal(plan_count_changes(&w.plan), 0);
        world_done(&w);
}

static void test_plan_compute_orphan_definition_returns_start(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE, THREE);
        actual_of(&w, "cache")->state = PLAN_STATE_STOPPED;
        actual_of(&w, "cache")->orphaned = true;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "cache"), PLAN_START);
        assert_int_equal(action_of(&w.plan, "cache")->desired != PLAN_NO_INDEX, true);
        assert_int_equal(plan_count_changes(&w.plan), 1);
        world_done(&w);
}

static void test_plan_needs_force_all_vanish(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE, "");
        world_plan(&w);
        size_t stopping = 0, running = 0;
        assert_true(plan_needs_force(&w.plan, w.actual, w.n_actual, &stopping, &running));
        assert_int_equal(stopping, 3);
        assert_int_equal(running, 3);
        for (size_t i = 0; i < w.plan.n; i++)
                assert_kind(&w.plan.actions[i], PLAN_STOP_ORPHAN);
        world_done(&w);
}

static void test_plan_needs_force_more_than_half(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, THREE, C("cache", "autostart = true limits { memory = 256M }"));
        world_plan(&w);
        size_t stopping = 0, running = 0;
        assert_true(plan_needs_force(&w.plan, w.actual, w.n_actual, &stopping, &running));
        assert_int_equal(stopping, 2);
        assert_int_equal(running, 3);
        world_done(&w);
}

static void test_plan_needs_force_half_or_less_not(void **state)
{
        (void) state;
        struct world w;
        /* 1 of 3 */
        world_init(&w, THREE,
                   C("db", "autostart = true command = { \"/bin/db\" }")
                           C("web", "autostart = true after = { \"db\" } requires = { \"db\" }"));
        world_plan(&w);
        assert_false(plan_needs_force(&w.plan, w.actual, w.n_actual, NULL, NULL));
        world_done(&w);
        /* 1 of 2 */
        world_init(&w, C("a", "autostart = true") C("b", "autostart = true"), C("a", "autostart = true"));
        world_plan(&w);
        assert_false(plan_needs_force(&w.plan, w.actual, w.n_actual, NULL, NULL));
        world_done(&w);
}

static void test_plan_vanish_needs_force_rule(void **state)
{
        (void) state;
        assert_false(plan_vanish_needs_force(0, 0));
        assert_false(plan_vanish_needs_force(0, 5));
        assert_true(plan_vanish_needs_force(1, 1));   /* all */
        assert_false(plan_vanish_needs_force(1, 2));  /* half */
        assert_true(plan_vanish_needs_force(2, 3));   /* more than half */
        assert_false(plan_vanish_needs_force(5, 10));
        assert_true(plan_vanish_needs_force(6, 10));
        assert_true(plan_vanish_needs_force(3, 2));   /* more than run: never less safe */
}

static void test_plan_needs_force_only_running_count(void **state)
{
        (void) state;
        struct world w;
        /* Nothing runs: no definition's disappearance stops anything. */
        world_init(&w, THREE, "");
        for (size_t i = 0; i < w.n_actual; i++)
                w.actual[i].state = PLAN_STATE_STOPPED;
        world_plan(&w);
        assert_false(plan_needs_force(&w.plan, w.actual, w.n_actual, NULL, NULL));
        world_done(&w);
        /* The one running container of three loses its definition: all that run. */
        world_init(&w, THREE, C("db", "autostart = true command = { \"/bin/db\" }")
                                      C("web", "autostart = true after = { \"db\" } requires = { \"db\" }"));
        actual_of(&w, "db")->state = PLAN_STATE_STOPPED;
        actual_of(&w, "web")->state = PLAN_STATE_STOPPED;
        world_plan(&w);
        assert_true(plan_needs_force(&w.plan, w.actual, w.n_actual, NULL, NULL));
        world_done(&w);
        /* No plan, no actual: nothing to force. */
        assert_false(plan_needs_force(NULL, NULL, 0, NULL, NULL));
}

static void test_plan_compute_command_changed_restart(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true command = { \"/bin/true\" }"),
                   C("a", "autostart = true command = { \"/bin/false\" }"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_RESTART);
        assert_string_equal(a->reason, "changed: command");
        world_done(&w);
}

static void test_plan_compute_memory_changed_update_live(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true limits { memory = 256M }"),
                   C("a", "autostart = true limits { memory = 512M }"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_UPDATE_LIVE);
        assert_string_equal(a->reason, "memory 256M → 512M");
        world_done(&w);
}

static void test_plan_compute_restart_and_live_changed_restart_only(void **state)
{
        (void) state;
        struct world w;
        world_init(
                &w, C("a", "autostart = true command = { \"/bin/true\" } limits { memory = 256M }"),
                C("a", "autostart = true command = { \"/bin/false\" } limits { memory = 512M }"));
        world_plan(&w);
        assert_int_equal(w.plan.n, 1);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_RESTART);
        assert_string_equal(a->reason, "changed: command; memory 256M → 512M");
        world_done(&w);
}

static void test_plan_compute_live_and_settings_update_live(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true limits { pids = 10 }"),
                   C("a", "autostart = true restart = \"always\" limits { pids = 20 }"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_UPDATE_LIVE);
        assert_string_equal(a->reason, "pids 10 → 20; settings: restart no → always");
        world_done(&w);
}

static void test_plan_compute_supervise_only_update_settings(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true") C("b", "autostart = true"),
                   C("a", "autostart = true restart = \"on-failure\" stop-timeout = 3s")
                           C("b", "autostart = true health { tcp = 80 }"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_UPDATE_SETTINGS);
        assert_string_equal(a->reason, "settings: restart no → on-failure, stop-timeout");
        const struct plan_action *b = action_of(&w.plan, "b");
        assert_kind(b, PLAN_UPDATE_SETTINGS);
        assert_string_equal(b->reason, "settings: health");
        world_done(&w);
}

static void test_plan_compute_autostart_off_keeps_running(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true"), C("a", "autostart = false"));
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_UPDATE_SETTINGS);
        assert_string_equal(a->reason, "settings: autostart on → off");
        world_done(&w);
}

static void test_plan_compute_backoff_counts_as_running(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true command = { \"/bin/true\" }"),
                   C("a", "autostart = true command = { \"/bin/false\" }"));
        w.actual[0].state = PLAN_STATE_BACKOFF;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_RESTART);
        world_done(&w);
}

static void test_plan_compute_unknown_running_spec_says_definition(void **state)
{
        (void) state;
        struct world w;
        world_init(&w,
                   C("a", "autostart = true command = { \"/bin/true\" } limits { memory = 1G }")
                           C("b", "autostart = true limits { memory = 1G }")
                                   C("c", "autostart = true"),
                   C("a", "autostart = true command = { \"/bin/false\" } limits { memory = 1G }")
                           C("b", "autostart = true limits { memory = 2G }")
                                   C("c", "autostart = true restart = \"always\""));
        for (size_t i = 0; i < w.n_actual; i++)
                w.actual[i].spec = NULL; /* re-adopted: only hashes known */
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "a")->reason, "changed: definition");
        assert_kind(action_of(&w.plan, "b"), PLAN_UPDATE_LIVE);
        assert_string_equal(action_of(&w.plan, "b")->reason, "limits changed");
        assert_kind(action_of(&w.plan, "c"), PLAN_UPDATE_SETTINGS);
        assert_string_equal(action_of(&w.plan, "c")->reason, "settings: definition");
        world_done(&w);
}

/* ---- containers that are not running ---- */

static void test_plan_compute_failed_changed_restart(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true command = { \"/bin/true\" }"),
                   C("a", "autostart = true command = { \"/bin/false\" }"));
        w.actual[0].state = PLAN_STATE_FAILED;
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_RESTART);
        assert_string_equal(a->reason, "changed: command; clears failed");
        world_done(&w);
}

static void test_plan_compute_failed_settings_changed_restart(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true restart = \"always\" restart-limit = 3"),
                   C("a", "autostart = true restart = \"always\" restart-limit = 10"));
        w.actual[0].state = PLAN_STATE_FAILED;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_RESTART);
        assert_contains(action_of(&w.plan, "a")->reason, "restart-limit");
        world_done(&w);
}

static void test_plan_compute_failed_unchanged_none(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true"), C("a", "autostart = true"));
        w.actual[0].state = PLAN_STATE_FAILED;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_NONE);
        assert_string_equal(action_of(&w.plan, "a")->reason, "failed, definition unchanged");
        world_done(&w);
}

static void test_plan_compute_operator_stopped_unchanged_none(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true"), C("a", "autostart = true"));
        w.actual[0].state = PLAN_STATE_STOPPED;
        w.actual[0].stopped_by_operator = true;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_NONE);
        assert_string_equal(action_of(&w.plan, "a")->reason, "stopped by operator");
        world_done(&w);
}

static void test_plan_compute_operator_stopped_changed_not_started(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true command = { \"/bin/true\" }"),
                   C("a", "autostart = true command = { \"/bin/false\" }"));
        w.actual[0].state = PLAN_STATE_STOPPED;
        w.actual[0].stopped_by_operator = true;
        world_plan(&w);
        const struct plan_action *a = action_of(&w.plan, "a");
        assert_kind(a, PLAN_UPDATE_SETTINGS);
        assert_string_equal(a->reason, "stopped by operator, stays stopped; changed: command");
        world_done(&w);
}

static void test_plan_compute_operator_stopping_not_restarted(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "autostart = true command = { \"/bin/true\" }"),
                   C("a", "autostart = true command = { \"/bin/false\" }"));
        w.actual[0].state = PLAN_STATE_STOPPING;
        w.actual[0].stopped_by_operator = true;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_UPDATE_SETTINGS);
        world_done(&w);
}

static void test_plan_compute_stopped_autostart_start(void **state)
{
        (void) state;
        struct world w;
        world_init(&w,
                   C("a", "autostart = true") C("b", "autostart = true command = { \"/bin/x\" }"),
                   C("a", "autostart = true") C("b", "autostart = true command = { \"/bin/y\" }"));
        w.actual[0].state = PLAN_STATE_STOPPED;
        w.actual[1].state = PLAN_STATE_STOPPED;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_START);
        assert_string_equal(action_of(&w.plan, "a")->reason, "autostart and not running");
        assert_kind(action_of(&w.plan, "b"), PLAN_START);
        assert_string_equal(action_of(&w.plan, "b")->reason,
                            "autostart and not running; changed: command");
        world_done(&w);
}

static void test_plan_compute_stopped_without_autostart(void **state)
{
        (void) state;
        struct world w;
        world_init(&w,
                   C("a", "autostart = false") C("b", "autostart = false command = { \"/bin/x\" }"),
                   C("a", "autostart = false")
                           C("b", "autostart = false command = { \"/bin/y\" }"));
        w.actual[0].state = PLAN_STATE_STOPPED;
        w.actual[1].state = PLAN_STATE_STOPPED;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_NONE);
        assert_string_equal(action_of(&w.plan, "a")->reason, "not running, autostart = false");
        assert_kind(action_of(&w.plan, "b"), PLAN_UPDATE_SETTINGS);
        assert_string_equal(action_of(&w.plan, "b")->reason, "not running; changed: command");
        world_done(&w);
}

static void test_plan_compute_running_without_autostart_left_alone(void **state)
{
        (void) state;
        /* Started by hand, autostart = false: a reload keeps it running. */
        struct world w;
        world_init(&w, C("a", "autostart = false"), C("a", "autostart = false"));
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_NONE);
        assert_string_equal(action_of(&w.plan, "a")->reason, "unchanged");
        world_done(&w);
}

/* ---- order ---- */

static void test_plan_compute_order_after_dependencies_first(void **state)
{
        (void) state;
        struct world w;
        /* web's start-order is lower, but it comes after db. */
        const char *t = C("web", "autostart = true start-order = 1 after = { \"db\" }")
                C("db", "autostart = true start-order = 50");
        world_init(&w, "", t);
        world_plan(&w);
        assert_true(pos_of(&w.plan, "db", false) < pos_of(&w.plan, "web", false));
        world_done(&w);
}

static void test_plan_compute_order_start_order_tiebreak(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, "",
                   C("a", "start-order = 20") C("b", "start-order = 10")
                           C("c", "start-order = -5"));
        world_plan(&w);
        assert_string_equal(w.plan.actions[0].name, "c");
        assert_string_equal(w.plan.actions[1].name, "b");
        assert_string_equal(w.plan.actions[2].name, "a");
        world_done(&w);
}

static void test_plan_compute_order_names_alphabetical(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, "", C("zeta", "") C("alpha", "") C("mid", "") C("beta", ""));
        world_plan(&w);
        const char *expect[] = {"alpha", "beta", "mid", "zeta"};
        assert_int_equal(w.plan.n, 4);
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(w.plan.actions[i].name, expect[i]);
        world_done(&w);
}

static void test_plan_compute_stops_in_reverse_order(void **state)
{
        (void) state;
        struct world w;
        const char *old = C("db", "start-order = 1") C("web", "start-order = 2 after = { \"db\" }")
                C("proxy", "start-order = 0 after = { \"web\" }") C("keep", "");
        world_init(&w, old, C("keep", ""));
        world_plan(&w);
        /* Start order would be db, web, proxy: stops run proxy, web, db. */
        assert_int_equal(pos_of(&w.plan, "proxy", false), 0);
        assert_int_equal(pos_of(&w.plan, "web", false), 1);
        assert_int_equal(pos_of(&w.plan, "db", false), 2);
        assert_int_equal(pos_of(&w.plan, "keep", false), 3);
        world_done(&w);
}

static void test_plan_compute_stops_independent_reverse_name(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("a", "") C("b", "") C("c", ""), "");
        world_plan(&w);
        assert_string_equal(w.plan.actions[0].name, "c");
        assert_string_equal(w.plan.actions[1].name, "b");
        assert_string_equal(w.plan.actions[2].name, "a");
        world_done(&w);
}

static void test_plan_compute_new_dependency_before_restart(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("web", "autostart = true"),
                   C("web", "autostart = true command = { \"/x\" } after = { \"db\" }")
                           C("db", "autostart = true start-order = 99"));
        world_plan(&w);
        assert_kind(action_of(&w.plan, "db"), PLAN_CREATE_START);
        assert_kind(action_of(&w.plan, "web"), PLAN_RESTART);
        assert_true(pos_of(&w.plan, "db", false) < pos_of(&w.plan, "web", false));
        world_done(&w);
}

/* ---- restarts along requires ---- */

static void test_plan_compute_requires_restart_propagates(void **state)
{
        (void) state;
        struct world w;
        const char *rest = C("web", "autostart = true requires = { \"db\" }")
                C("api", "autostart = true requires = { \"web\" }")
                        C("viewer", "autostart = true after = { \"db\" }")
                                C("other", "autostart = true");
        char old[2048], new[2048];
        snprintf(old, sizeof old, "%s%s",
                 C("db", "autostart = true command = { \"/db\", \"-v1\" }"), rest);
        snprintf(new, sizeof new, "%s%s",
                 C("db", "autostart = true command = { \"/db\", \"-v2\" }"), rest);
        world_init(&w, old, new);
        world_plan(&w);
        assert_kind(action_of(&w.plan, "db"), PLAN_RESTART);
        assert_kind(action_of(&w.plan, "web"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "web")->reason, "requires db, which restarts");
        assert_kind(action_of(&w.plan, "api"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "api")->reason, "requires web, which restarts");
        assert_true(pos_of(&w.plan, "db", false) < pos_of(&w.plan, "web", false));
        assert_true(pos_of(&w.plan, "web", false) < pos_of(&w.plan, "api", false));
        assert_kind(action_of(&w.plan, "viewer"), PLAN_NONE); /* after only: not restarted */
        assert_kind(action_of(&w.plan, "other"), PLAN_NONE);
        world_done(&w);
}

static void test_plan_compute_requires_two_restarting(void **state)
{
        (void) state;
        struct world w;
        world_init(&w,
                   C("a", "command = { \"/1\" }") C("b", "command = { \"/1\" }")
                           C("c", "requires = { \"a\", \"b\" } limits { pids = 5 }"),
                   C("a", "command = { \"/2\" }") C("b", "command = { \"/2\" }")
                           C("c", "requires = { \"a\", \"b\" } limits { pids = 6 }"));
        world_plan(&w);
        assert_kind(action_of(&w.plan, "c"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "c")->reason,
                            "pids 5 → 6; requires a, b, which restart");
        world_done(&w);
}

static void test_plan_compute_requires_skips_operator_stopped(void **state)
{
        (void) state;
        struct world w;
        world_init(
                &w,
                C("db", "command = { \"/1\" }") C("web", "autostart = true requires = { \"db\" }"),
                C("db", "command = { \"/2\" }") C("web", "autostart = true requires = { \"db\" }"));
        actual_of(&w, "web")->state = PLAN_STATE_STOPPED;
        actual_of(&w, "web")->stopped_by_operator = true;
        world_plan(&w);
        assert_kind(action_of(&w.plan, "db"), PLAN_RESTART);
        assert_kind(action_of(&w.plan, "web"), PLAN_NONE);
        world_done(&w);
}

static void test_plan_compute_requires_live_change_does_not_propagate(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, C("db", "limits { pids = 1 }") C("web", "requires = { \"db\" }"),
                   C("db", "limits { pids = 2 }") C("web", "requires = { \"db\" }"));
        world_plan(&w);
        assert_kind(action_of(&w.plan, "db"), PLAN_UPDATE_LIVE);
        assert_kind(action_of(&w.plan, "web"), PLAN_NONE);
        world_done(&w);
}

/* ---- networks ---- */

#define ON_LAN0(name) C(name, "autostart = true network { bridge = \"lan0\" }")
#define LAN1 NET("lan1", "subnet = \"198.18.1.0/24\"")
#define ON_LAN1(name) C(name, "autostart = true network { bridge = \"lan1\" }")

static void test_plan_compute_network_mtu_update_in_place(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 ON_LAN0("a"),
                   NET("lan0", "subnet = \"198.18.0.0/24\" mtu = 9000") ON_LAN0("a"));
        world_plan(&w);
        const struct plan_action *n = net_action_of(&w.plan, "lan0");
        assert_kind(n, PLAN_NETWORK_UPDATE);
        assert_string_equal(n->reason, "mtu default → 9000");
        assert_kind(action_of(&w.plan, "a"), PLAN_NONE);
        world_done(&w);
}

static void test_plan_compute_network_nat_update_in_place(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 ON_LAN0("a"),
                   NET("lan0", "subnet = \"198.18.0.0/24\" nat = true") ON_LAN0("a"));
        world_plan(&w);
        assert_kind(net_action_of(&w.plan, "lan0"), PLAN_NETWORK_UPDATE);
        assert_string_equal(net_action_of(&w.plan, "lan0")->reason, "nat off → on");
        assert_kind(action_of(&w.plan, "a"), PLAN_NONE);
        world_done(&w);
}

static void test_plan_compute_network_subnet_recreate_restarts_members(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 LAN1 ON_LAN0("a") ON_LAN0("b") ON_LAN1("c") C("d", "autostart = true"),
                   NET("lan0", "subnet = \"198.18.2.0/24\"") LAN1 ON_LAN0("a") ON_LAN0("b")
                           ON_LAN1("c") C("d", "autostart = true"));
        actual_of(&w, "b")->state = PLAN_STATE_STOPPED;
        actual_of(&w, "b")->stopped_by_operator = true;
        world_plan(&w);
        const struct plan_action *n = net_action_of(&w.plan, "lan0");
        assert_kind(n, PLAN_NETWORK_RECREATE);
        assert_string_equal(n->reason, "changed: subnet, gateway");
        assert_kind(net_action_of(&w.plan, "lan1"), PLAN_NONE);
        assert_kind(action_of(&w.plan, "a"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "a")->reason,
                            "network lan0 changed: subnet, gateway");
        assert_true(pos_of(&w.plan, "lan0", true) < pos_of(&w.plan, "a", false));
        assert_kind(action_of(&w.plan, "b"),
                    PLAN_NONE); /* stopped: starts on the new bridge later */
        assert_kind(action_of(&w.plan, "c"), PLAN_NONE);
        assert_kind(action_of(&w.plan, "d"), PLAN_NONE);
        world_done(&w);
}

static void test_plan_compute_network_bridge_rename_recreate(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 ON_LAN0("a"),
                   NET("lan0", "subnet = \"198.18.0.0/24\" bridge = \"br-lan\" mtu = 1400")
                           ON_LAN0("a"));
        world_plan(&w);
        assert_kind(net_action_of(&w.plan, "lan0"), PLAN_NETWORK_RECREATE);
        assert_string_equal(net_action_of(&w.plan, "lan0")->reason,
                            "changed: bridge; mtu default → 1400");
        assert_kind(action_of(&w.plan, "a"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "a")->reason, "network lan0 changed: bridge");
        world_done(&w);
}

static void test_plan_compute_network_recreate_propagates_requires(void **state)
{
        (void) state;
        struct world w;
        const char *rest = ON_LAN0("db") C("app", "autostart = true requires = { \"db\" }");
        char new[1024];
        snprintf(new, sizeof new, "%s%s", NET("lan0", "subnet = \"198.18.4.0/24\""), rest);
        char old[1024];
        snprintf(old, sizeof old, "%s%s", LAN0, rest);
        world_init(&w, old, new);
        world_plan(&w);
        assert_kind(action_of(&w.plan, "app"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "app")->reason, "requires db, which restarts");
        world_done(&w);
}

static void test_plan_compute_network_unknown_spec_recreate(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 ON_LAN0("a"),
                   NET("lan0", "subnet = \"198.18.0.0/24\" mtu = 9000") ON_LAN0("a"));
        w.nets[0].spec = NULL;
        world_plan(&w);
        assert_kind(net_action_of(&w.plan, "lan0"), PLAN_NETWORK_RECREATE);
        assert_string_equal(net_action_of(&w.plan, "lan0")->reason, "changed: definition");
        assert_string_equal(action_of(&w.plan, "a")->reason, "network lan0 changed: definition");
        world_done(&w);
}

static void test_plan_compute_network_removed_after_its_containers(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 LAN1 ON_LAN0("a") ON_LAN1("b"), LAN1 ON_LAN1("b"));
        world_plan(&w);
        const struct plan_action *n = net_action_of(&w.plan, "lan0");
        assert_kind(n, PLAN_NETWORK_REMOVE);
        assert_kind(action_of(&w.plan, "a"), PLAN_STOP_ORPHAN);
        assert_true(pos_of(&w.plan, "a", false) < pos_of(&w.plan, "lan0", true));
        assert_int_equal(pos_of(&w.plan, "lan0", true), w.plan.n - 1);
        assert_string_equal(w.old.networks[n->actual]->name, "lan0");
        assert_int_equal(n->desired, PLAN_NO_INDEX);
        world_done(&w);
}

static void test_plan_compute_network_removed_after_moved_container(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 LAN1 ON_LAN0("a"), LAN1 ON_LAN1("a"));
        world_plan(&w);
        assert_kind(action_of(&w.plan, "a"), PLAN_RESTART);
        assert_string_equal(action_of(&w.plan, "a")->reason, "changed: network");
        assert_true(pos_of(&w.plan, "a", false) < pos_of(&w.plan, "lan0", true));
        world_done(&w);
}

static void test_plan_compute_network_created_before_containers(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, "", ON_LAN0("a") LAN0);
        world_plan(&w);
        const struct plan_action *n = net_action_of(&w.plan, "lan0");
        assert_kind(n, PLAN_NETWORK_CREATE);
        assert_string_equal(n->reason, "new");
        assert_kind(action_of(&w.plan, "a"), PLAN_CREATE_START);
        assert_true(pos_of(&w.plan, "lan0", true) < pos_of(&w.plan, "a", false));
        world_done(&w);
}

/* ---- determinism and totality ---- */

static void assert_plans_equal(const struct plan *a, const struct plan *b)
{
        assert_int_equal(a->n, b->n);
        for (size_t i = 0; i < a->n; i++) {
                assert_int_equal(a->actions[i].kind, b->actions[i].kind);
                assert_int_equal(a->actions[i].network, b->actions[i].network);
                assert_string_equal(a->actions[i].name, b->actions[i].name);
                assert_string_equal(a->actions[i].reason, b->actions[i].reason);
        }
}

static void test_plan_compute_deterministic(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 THREE C("gone1", "") C("gone2", "after = { \"gone1\" }"),
                   NET("lan0", "subnet = \"198.18.0.0/24\" nat = true") LAN1 C(
                           "db", "autostart = true command = { \"/bin/db2\" }")
                           C("web", "autostart = true after = { \"db\" } requires = { \"db\" }")
                                   C("cache", "autostart = true limits { memory = 128M }")
                                           C("n1", "") C("n2", ""));
        world_plan(&w);
        struct plan again = {0};
        assert_int_equal(plan_compute(&w.new, w.actual, w.n_actual, w.nets, w.n_nets, &again), 0);
        assert_plans_equal(&w.plan, &again);
        plan_done(&again);

        /* The order in which the supervisor lists what runs does not matter. */
        for (size_t i = 0; i < w.n_actual / 2; i++) {
                struct plan_actual t = w.actual[i];
                w.actual[i] = w.actual[w.n_actual - 1 - i];
                w.actual[w.n_actual - 1 - i] = t;
        }
        assert_int_equal(plan_compute(&w.new, w.actual, w.n_actual, w.nets, w.n_nets, &again), 0);
        assert_plans_equal(&w.plan, &again);
        plan_done(&again);
        world_done(&w);
}

static void test_plan_compute_total_on_invalid_input(void **state)
{
        (void) state;
        struct world w;
        /* Not validated: a missing dependency, a self-dependency, a cycle. */
        world_init_raw(&w, C("a", ""),
                       C("a", "after = { \"ghost\" } requires = { \"a\" }")
                               C("b", "after = { \"c\" } requires = { \"c\" }")
                                       C("c", "after = { \"b\" }"),
                       false);
        world_plan(&w);
        assert_int_equal(w.plan.n, 3);
        assert_kind(action_of(&w.plan, "a"), PLAN_UPDATE_SETTINGS);
        /* The cycle b ⇄ c is broken at its lowest name. */
        assert_true(pos_of(&w.plan, "b", false) < pos_of(&w.plan, "c", false));
        assert_kind(action_of(&w.plan, "b"), PLAN_CREATE);
        assert_kind(action_of(&w.plan, "c"), PLAN_CREATE);
        world_done(&w);
}

static void test_plan_compute_duplicate_and_nameless_actual(void **state)
{
        (void) state;
        struct spec_set set = {0};
        parse_into(&set, C("a", "autostart = true") C("z", ""), true);
        struct plan_actual act[5];
        plan_actual_from_spec(set.containers[0], PLAN_STATE_RUNNING, &act[0]);
        plan_actual_from_spec(set.containers[0], PLAN_STATE_RUNNING, &act[1]); /* a, twice */
        plan_actual_from_spec(set.containers[1], PLAN_STATE_RUNNING, &act[2]);
        act[2].name = "gone"; /* gone, twice */
        act[3] = act[2];
        act[4] = act[2];
        act[4].name = NULL;
        struct plan p = {0};
        assert_int_equal(plan_compute(&set, act, 5, NULL, 3, &p), 0);
        assert_int_equal(p.n, 3);
        assert_kind(action_of(&p, "a"), PLAN_NONE);
        assert_kind(action_of(&p, "gone"), PLAN_STOP_ORPHAN);
        assert_kind(action_of(&p, "z"), PLAN_CREATE);
        plan_done(&p);
        spec_set_done(&set);
}

static void test_plan_compute_empty(void **state)
{
        (void) state;
        struct plan p = {0};
        assert_int_equal(plan_compute(NULL, NULL, 7, NULL, 0, &p), 0);
        assert_int_equal(p.n, 0);
        plan_done(&p);
        plan_done(&p); /* idempotent */
}

/* ---- scale: 1,000 definitions, one changed ---- */

#define N_BIG 1000

static void build_big(struct spec_set *set, const char *changed_command_of)
{
        *set = (struct spec_set){0};
        set->containers = calloc(N_BIG, sizeof *set->containers);
        assert_non_null(set->containers);
        for (size_t i = 0; i < N_BIG; i++) {
                char name[32], prev[32];
                snprintf(name, sizeof name, "c%04zu", i);
                struct spec_container *c;
                assert_int_equal(spec_container_new(name, "gen.conf", 1, &c), 0);
                c->template_name = strdup("busybox");
                c->autostart = true;
                c->start_order = (int32_t) (N_BIG - i) % 7; /* conflicts with the chains below */
                assert_int_equal(strv_push(&c->command, "/bin/serve"), 0);
                assert_int_equal(
                        strv_push(&c->command, changed_command_of && streq(name, changed_command_of)
                                                       ? "--v2"
                                                       : "--v1"),
                        0);
                if (i % 10 != 0) { /* chains of ten: each after the previous */
                        snprintf(prev, sizeof prev, "c%04zu", i - 1);
                        assert_int_equal(strv_push(&c->after, prev), 0);
                }
                set->containers[set->n_containers++] = c;
        }
}

static void test_plan_compute_thousand_one_changed(void **state)
{
        (void) state;
        struct spec_set old, new;
        build_big(&old, NULL);
        build_big(&new, "c0505");
        struct plan_actual *act = calloc(N_BIG, sizeof *act);
        assert_non_null(act);
        for (size_t i = 0; i < N_BIG; i++)
                plan_actual_from_spec(old.containers[i], PLAN_STATE_RUNNING, &act[i]);
        struct plan p = {0};
        assert_int_equal(plan_compute(&new, act, N_BIG, NULL, 0, &p), 0);
        assert_int_equal(p.n, N_BIG);
        assert_int_equal(plan_count_changes(&p), 1);
        assert_kind(action_of(&p, "c0505"), PLAN_RESTART);
        assert_string_equal(action_of(&p, "c0505")->reason, "changed: command");
        /* Every chain runs in order despite start-order pulling the other way. */
        for (size_t i = 1; i < N_BIG; i++) {
                if (i % 10 == 0)
                        continue;
                char a[32], b[32];
                snprintf(a, sizeof a, "c%04zu", i - 1);
                snprintf(b, sizeof b, "c%04zu", i);
                assert_true(pos_of(&p, a, false) < pos_of(&p, b, false));
        }
        plan_done(&p);
        free(act);
        spec_set_done(&old);
        spec_set_done(&new);
}

/* ---- output ---- */

static void test_plan_to_json_fields(void **state)
{
        (void) state;
        struct world w;
        world_init(&w, LAN0 C("a", "command = { \"/1\" }"), LAN0 C("a", "command = { \"/2\" }"));
        world_plan(&w);
        struct json_object *j = plan_to_json(&w.plan);
        assert_non_null(j);
        const char *s = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE);
        assert_string_equal(
                s, "{\"actions\":[{\"action\":\"none\",\"type\":\"network\",\"name\":\"lan0\","
                   "\"reason\":\"unchanged\"},{\"action\":\"restart\",\"type\":\"container\","
                   "\"name\":\"a\",\"reason\":\"changed: command\"}],\"changes\":1}");
        json_object_put(j);
        world_done(&w);
}

static void test_plan_action_format_line(void **state)
{
        (void) state;
        char buf[128];
        struct plan_action a = {.kind = PLAN_RESTART,
                                .name = (char *) "web",
                                .reason = (char *) "changed: command"};
        assert_string_equal(plan_action_format(&a, buf, sizeof buf),
                            "restart          web: changed: command");
        struct plan_action n = {.kind = PLAN_NONE,
                                .network = true,
                                .name = (char *) "lan0",
                                .reason = (char *) "unchanged"};
        assert_string_equal(plan_action_format(&n, buf, sizeof buf),
                            "none             network lan0: unchanged");
}

static void test_plan_kind_to_string_all_distinct(void **state)
{
        (void) state;
        for (int i = 0; i < _PLAN_KIND_MAX; i++) {
                assert_string_not_equal(plan_kind_to_string((enum plan_kind) i), "?");
                for (int j = 0; j < i; j++)
                        assert_string_not_equal(plan_kind_to_string((enum plan_kind) i),
                                                plan_kind_to_string((enum plan_kind) j));
        }
        assert_string_equal(plan_kind_to_string(_PLAN_KIND_MAX), "?");
        assert_string_equal(plan_kind_to_string(PLAN_UPDATE_SETTINGS), "update-settings");
        for (int i = 0; i < _PLAN_STATE_MAX; i++)
                assert_string_not_equal(plan_state_to_string((enum plan_state) i), "?");
        assert_string_equal(plan_state_to_string(_PLAN_STATE_MAX), "?");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plan_compute_unchanged_all_none),
                cmocka_unit_test(test_plan_compute_new_autostart_create_start),
                cmocka_unit_test(test_plan_compute_new_without_autostart_create_only),
                cmocka_unit_test(test_plan_compute_removed_stop_keeps_data),
                cmocka_unit_test(test_plan_compute_removed_stopped_orphan),
                cmocka_unit_test(test_plan_compute_orphaned_stays_none),
                cmocka_unit_test(test_plan_compute_orphan_definition_returns_start),
                cmocka_unit_test(test_plan_needs_force_all_vanish),
                cmocka_unit_test(test_plan_needs_force_more_than_half),
                cmocka_unit_test(test_plan_needs_force_half_or_less_not),
                cmocka_unit_test(test_plan_needs_force_only_running_count),
                cmocka_unit_test(test_plan_vanish_needs_force_rule),
                cmocka_unit_test(test_plan_compute_command_changed_restart),
                cmocka_unit_test(test_plan_compute_memory_changed_update_live),
                cmocka_unit_test(test_plan_compute_restart_and_live_changed_restart_only),
                cmocka_unit_test(test_plan_compute_live_and_settings_update_live),
                cmocka_unit_test(test_plan_compute_supervise_only_update_settings),
                cmocka_unit_test(test_plan_compute_autostart_off_keeps_running),
                cmocka_unit_test(test_plan_compute_backoff_counts_as_running),
                cmocka_unit_test(test_plan_compute_unknown_running_spec_says_definition),
                cmocka_unit_test(test_plan_compute_failed_changed_restart),
                cmocka_unit_test(test_plan_compute_failed_settings_changed_restart),
                cmocka_unit_test(test_plan_compute_failed_unchanged_none),
                cmocka_unit_test(test_plan_compute_operator_stopped_unchanged_none),
                cmocka_unit_test(test_plan_compute_operator_stopped_changed_not_started),
                cmocka_unit_test(test_plan_compute_operator_stopping_not_restarted),
                cmocka_unit_test(test_plan_compute_stopped_autostart_start),
                cmocka_unit_test(test_plan_compute_stopped_without_autostart),
                cmocka_unit_test(test_plan_compute_running_without_autostart_left_alone),
                cmocka_unit_test(test_plan_compute_order_after_dependencies_first),
                cmocka_unit_test(test_plan_compute_order_start_order_tiebreak),
                cmocka_unit_test(test_plan_compute_order_names_alphabetical),
                cmocka_unit_test(test_plan_compute_stops_in_reverse_order),
                cmocka_unit_test(test_plan_compute_stops_independent_reverse_name),
                cmocka_unit_test(test_plan_compute_new_dependency_before_restart),
                cmocka_unit_test(test_plan_compute_requires_restart_propagates),
                cmocka_unit_test(test_plan_compute_requires_two_restarting),
                cmocka_unit_test(test_plan_compute_requires_skips_operator_stopped),
                cmocka_unit_test(test_plan_compute_requires_live_change_does_not_propagate),
                cmocka_unit_test(test_plan_compute_network_mtu_update_in_place),
                cmocka_unit_test(test_plan_compute_network_nat_update_in_place),
                cmocka_unit_test(test_plan_compute_network_subnet_recreate_restarts_members),
                cmocka_unit_test(test_plan_compute_network_bridge_rename_recreate),
                cmocka_unit_test(test_plan_compute_network_recreate_propagates_requires),
                cmocka_unit_test(test_plan_compute_network_unknown_spec_recreate),
                cmocka_unit_test(test_plan_compute_network_removed_after_its_containers),
                cmocka_unit_test(test_plan_compute_network_removed_after_moved_container),
                cmocka_unit_test(test_plan_compute_network_created_before_containers),
                cmocka_unit_test(test_plan_compute_deterministic),
                cmocka_unit_test(test_plan_compute_total_on_invalid_input),
                cmocka_unit_test(test_plan_compute_duplicate_and_nameless_actual),
                cmocka_unit_test(test_plan_compute_empty),
                cmocka_unit_test(test_plan_compute_thousand_one_changed),
                cmocka_unit_test(test_plan_to_json_fields),
                cmocka_unit_test(test_plan_action_format_line),
                cmocka_unit_test(test_plan_kind_to_string_all_distinct),
        };
        return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}

/* Transient scopes over D-Bus: StartTransientUnit with PIDs=[self] and
 * Delegate=yes, then wait for the job's JobRemoved signal. */
#include "scope.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup.h"
#include "cgroup_util.h"
#include "dl_systemd.h"
#include "util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"

static bool unit_char_ok(char ch)
{
        return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
               ch == ':' || ch == '-' || ch == '_' || ch == '.' || ch == '\\';
}

int scope_unit_name(const char *prefix, const char *container, char *buf, size_t n)
{
        if (!prefix || !container || !*prefix || !*container)
                return -EINVAL;
        int k = snprintf(buf, n, "%s-%s.scope", prefix, container);
        if (k < 0 || (size_t) k >= n || k > 255) /* systemd's UNIT_NAME_MAX */
                return -EINVAL;
        for (const char *p = buf; *p; p++)
                if (!unit_char_ok(*p))
                        return -EINVAL;
        return 0;
}

int scope_slice_path(const char *slice, char *buf, size_t n)
{
        static const char suffix[] = ".slice";
        size_t len = slice ? strlen(slice) : 0;
        if (len <= strlen(suffix) || len > 255 || !streq(slice + len - strlen(suffix), suffix))
                return -EINVAL;
        size_t stem = len - strlen(suffix);
        if (stem == 1 && slice[0] == '-') { /* the root slice */
                if (n < 2)
                        return -EINVAL;
                strcpy(buf, "/");
                return 0;
        }
        for (size_t i = 0; i < stem; i++)
                if (!unit_char_ok(slice[i]) || (slice[i] == '-' && (i == 0 || i + 1 == stem || slice[i + 1] == '-')))
                        return -EINVAL;
        /* Every '-' opens a parent: a-b-c.slice lives in a.slice/a-b.slice. */
        size_t used = 0;
        for (size_t i = 0; i <= stem; i++) {
                if (i < stem && slice[i] != '-')
                        continue;
                int k = snprintf(buf + used, n - used, "/%.*s%s", (int) i, slice, suffix);
                if (k < 0 || (size_t) k >= n - used)
                        return -EINVAL;
                used += (size_t) k;
        }
        return 0;
}

/* As root, systemd's private socket: no dbus-daemon needed, and systemd
 * sends it every signal. Otherwise the system bus. */
static int bus_open(sd_bus **ret)
{
        if (geteuid() == 0 && access("/run/systemd/private", F_OK) == 0) {
                sd_bus *b = NULL;
                int r = sd_bus_new(&b);
                if (r >= 0)
                        r = sd_bus_set_address(b, "unix:path=/run/systemd/private");
                if (r >= 0)
                        r = sd_bus_start(b);
                if (r >= 0) {
                        *ret = b;
                        return 0;
                }
                sd_bus_unref(b);
        }
        return sd_bus_open_system(ret);
}

bool scope_available(void)
{
        if (sd_booted() <= 0)
                return false;
        sd_bus *bus = NULL;
        if (bus_open(&bus) < 0)
                return false;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        char *version = NULL;
        int r = sd_bus_get_property_string(bus, SD_DEST, SD_PATH, SD_MANAGER, "Version", &e, &version);
        free(version);
        sd_bus_error_free(&e);
        sd_bus_flush_close_unref(bus);
        return r >= 0;
}

struct job_wait {
        char *path;
        char result[32];
        bool done;
};

static int on_job_removed(sd_bus_message *msg, void *userdata, sd_bus_error *error)
{
        (void) error;
        struct job_wait *w = userdata;
        uint32_t id;
        const char *path, *unit, *result;
        if (sd_bus_message_read(msg, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (w->path && streq(path, w->path)) {
                snprintf(w->result, sizeof w->result, "%s", result);
                w->done = true;
        }
        return 0;
}

static uint64_t mono_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000;
}

static int start_call(sd_bus *bus, const struct scope_params *p, const char *unit, sd_bus_error *e,
                      sd_bus_message **reply)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s", p->description, "Slice", "s",
                                          p->slice, "Delegate", "b", 1, "CollectMode", "s", "inactive-or-failed",
                                          "PIDs", "au", 1, (uint32_t) getpid());
        /* Ordered before berthd.service: at shutdown berthd stops the
         * containers in its order first, then the (empty) scopes go. */
        if (r >= 0 && p->before)
                r = sd_bus_message_append(m, "(sv)", "Before", "as", 1, p->before);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        return sd_bus_call(bus, m, p->timeout_usec, e, reply);
}

/* Our own cgroup (v2) ends in "/unit". */
static bool in_unit_cgroup(const char *unit)
{
        _cleanup_free_ char *text = NULL, *path = NULL;
        if (read_file_at(AT_FDCWD, "/proc/self/cgroup", 65536, &text, NULL) < 0 ||
            cgroup_parse_proc_cgroup(text, "", &path) < 0)
                return false;
        const char *last = strrchr(path, '/');
        return last && streq(last + 1, unit);
}

int scope_enter(const struct scope_params *p, struct error *err)
{
        sd_bus *bus = NULL;
        int r = bus_open(&bus);
        if (r < 0) {
                (void) error_set(err, r, "cannot connect to systemd");
                return r;
        }
        struct job_wait w = { 0 };
        sd_bus_slot *slot = NULL;
        sd_bus_error be = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        char unit[300];
        snprintf(unit, sizeof unit, "%s", p->unit);
        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0) {
                (void) error_set(err, r, "cannot watch systemd's jobs");
                goto out;
        }
        r = start_call(bus, p, unit, &be, &reply);
        if (r < 0 && sd_bus_error_has_name(&be, "org.freedesktop.systemd1.UnitExists")) {
                /* The scope of this container's previous run: systemd has
                 * not collected it yet (or another instance runs it, which
                 * the container's lock refuses later). A name of our own. */
                char alt[300];
                snprintf(alt, sizeof alt, "%.*s-%d.scope", (int) (strlen(p->unit) - strlen(".scope")), p->unit,
                         (int) getpid());
                snprintf(unit, sizeof unit, "%s", alt);
                sd_bus_error_free(&be);
                r = start_call(bus, p, unit, &be, &reply);
        }
        if (r < 0) {
                if (be.message)
                        (void) error_set_msg(err, r, "systemd refused scope %s: %s", unit, be.message);
                else
                        (void) error_set(err, r, "systemd refused scope %s", unit);
                goto out;
        }
        const char *job;
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0 || !(w.path = strdup(job))) {
                r = r < 0 ? r : -ENOMEM;
                (void) error_set(err, r, "bad reply from systemd");
                goto out;
        }
        uint64_t deadline = mono_usec() + p->timeout_usec;
        while (!w.done) {
                r = sd_bus_process(bus, NULL);
                if (r < 0) {
                        (void) error_set(err, r, "lost systemd while it started %s", unit);
                        goto out;
                }
                if (r > 0)
                        continue;
                uint64_t now = mono_usec();
                if (now >= deadline) {
                        r = -ETIMEDOUT;
                        (void) error_set_msg(err, r, "systemd did not start %s in time", unit);
                        goto out;
                }
                r = sd_bus_wait(bus, deadline - now);
                if (r < 0 && r != -EINTR) {
                        (void) error_set(err, r, "lost systemd while it started %s", unit);
                        goto out;
                }
        }
        if (!streq(w.result, "done")) {
                r = -EIO;
                (void) error_set_msg(err, r, "systemd's job for %s ended '%s'", unit, w.result);
                goto out;
        }
        if (!in_unit_cgroup(unit)) {
                r = -ESRCH;
                (void) error_set_msg(err, r, "systemd started %s but did not move us there", unit);
                goto out;
        }
        r = 0;
out:
        free(w.path);
        sd_bus_error_free(&be);
        sd_bus_message_unref(reply);
        sd_bus_slot_unref(slot);
        sd_bus_flush_close_unref(bus);
        return r;
}

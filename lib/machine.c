#include "machine.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "log.h"
#include "util.h"

#define MD_DEST "org.freedesktop.machine1"
#define MD_PATH "/org/freedesktop/machine1"
#define MD_MANAGER "org.freedesktop.machine1.Manager"
/* machined answers at once; a call it never answers must not pile up */
#define MD_TIMEOUT_USEC (10ULL * 1000000ULL)

struct machine_bus {
        sd_event *event;
        sd_bus *bus;
        bool no_bus; /* opening it failed once: no system bus here */
};

struct machine_bus *machine_bus_new(sd_event *e)
{
        struct machine_bus *b = calloc(1, sizeof *b);
        if (b)
                b->event = sd_event_ref(e);
        return b;
}

struct machine_bus *machine_bus_free(struct machine_bus *b)
{
        if (!b)
                return NULL;
        if (b->bus) {
                (void) sd_bus_detach_event(b->bus);
                sd_bus_flush_close_unref(b->bus);
        }
        sd_event_unref(b->event);
        free(b);
        return NULL;
}

bool machine_name_is_valid(const char *name)
{
        size_t n = strlen(name), label = 0;
        if (n == 0 || n > 64 || name[0] == '.' || name[n - 1] == '.')
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = name[i];
                if (c == '.') {
                        if (label == 0)
                                return false;
                        label = 0;
                        continue;
                }
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
                        return false;
                label++;
        }
        return true;
}

static int bus_get(struct machine_bus *b, sd_bus **ret)
{
        if (b->bus) {
                *ret = b->bus;
                return 0;
        }
        if (b->no_bus)
                return -ENOTCONN;
        sd_bus *bus = NULL;
        int r = sd_bus_open_system(&bus);
        if (r >= 0)
                r = sd_bus_attach_event(bus, b->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                sd_bus_unref(bus);
                b->no_bus = true;
                return log_debug_errno(r, "machined: no system bus (%m): containers are not registered");
        }
        *ret = b->bus = bus;
        return 0;
}

/* machined not installed, or not running and not activatable */
static bool error_is_absent(const sd_bus_error *e)
{
        return sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                      SD_BUS_ERROR_UNKNOWN_METHOD, SD_BUS_ERROR_UNKNOWN_OBJECT);
}

static int on_registered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        (void) ret_error;
        const char *name = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (!e)
                log_debug("%s: registered with systemd-machined", name);
        else if (sd_bus_error_has_name(e, "org.freedesktop.machine1.MachineExists"))
                log_debug("%s: already registered with systemd-machined", name);
        else if (error_is_absent(e))
                log_debug("%s: not registered: systemd-machined is not available (%s)", name, e->message);
        else
                log_warning("%s: systemd-machined refused to register it: %s", name, e->message);
        return 0;
}

static int on_unregistered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        (void) ret_error;
        const char *name = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        if (!e || error_is_absent(e) || sd_bus_error_has_name(e, "org.freedesktop.machine1.NoSuchMachine"))
                log_debug("%s: unregistered from systemd-machined%s%s", name, e ? ": " : "", e ? e->message : "");
        else
                log_warning("%s: systemd-machined did not unregister it: %s", name, e->message);
        return 0;
}

/* Sends m; the reply goes to cb with a copy of name, freed with the slot. */
static int call_async(sd_bus *bus, sd_bus_message *m, sd_bus_message_handler_t cb, const char *name)
{
        char *copy = strdup(name);
        if (!copy)
                return -ENOMEM;
        sd_bus_slot *slot = NULL;
        int r = sd_bus_call_async(bus, &slot, m, cb, copy, MD_TIMEOUT_USEC);
        if (r < 0) {
                free(copy);
                return r;
        }
        (void) sd_bus_slot_set_destroy_callback(slot, free);
        (void) sd_bus_slot_set_floating(slot, 1);
        sd_bus_slot_unref(slot);
        return 0;
}

static int hex_nibble(char c)
{
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int machine_register(struct machine_bus *b, const struct machine_info *mi)
{
        sd_bus *bus;
        int r = bus_get(b, &bus);
        if (r < 0)
                return r;
        uint8_t id[16];
        size_t idlen = 0;
        if (mi->id && strlen(mi->id) == 32) {
                idlen = 16;
                for (size_t i = 0; i < 16; i++) {
                        int hi = hex_nibble(mi->id[2 * i]), lo = hex_nibble(mi->id[2 * i + 1]);
                        if (hi < 0 || lo < 0) {
                                idlen = 0;
                                break;
                        }
                        id[i] = (uint8_t) (hi << 4 | lo);
                }
        }
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        r = sd_bus_message_new_method_call(bus, &m, MD_DEST, MD_PATH, MD_MANAGER, "RegisterMachineWithNetwork");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", mi->name);
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', id, idlen);
        if (r >= 0)
                r = sd_bus_message_append(m, "ssus", "berth", "container", (uint32_t) mi->leader,
                                          mi->root ? mi->root : "");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'i', mi->ifindex, mi->n_ifindex * sizeof(int));
        if (r >= 0)
                r = call_async(bus, m, on_registered, mi->name);
        return r;
}

int machine_unregister(struct machine_bus *b, const char *name)
{
        sd_bus *bus;
        int r = bus_get(b, &bus);
        if (r < 0)
                return r;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        r = sd_bus_message_new_method_call(bus, &m, MD_DEST, MD_PATH, MD_MANAGER, "UnregisterMachine");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", name);
        if (r >= 0)
                r = call_async(bus, m, on_unregistered, name);
        return r;
}

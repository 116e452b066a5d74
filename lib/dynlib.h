/* Shared libraries that only some paths need, loaded with dlopen() where
 * they are first used instead of by the dynamic loader at exec: berthctl
 * run and exec do not map libnftables, libarchive, libcrypto or libsystemd
 * and the twenty-odd objects these pull in (icu, libstdc++, libxml2,
 * libgcrypt, ...), which were most of berthctl's own start-up.
 *
 * Each such library has a header lib/dl_NAME.h that includes the library's
 * own header, lists the functions berth calls (DL_NAME_SYMS) and redirects
 * each of them, by a macro of the same name, to a table of pointers filled
 * by dl_NAME_load(). Code that includes dl_NAME.h instead of the library's
 * header calls the functions as before. Three kinds of redirects:
 *   - a constructor (archive_read_new, nft_ctx_new, sd_bus_open_system, ...)
 *     loads the library first and fails as the function itself fails
 *     (NULL, or a negative errno) when it cannot be loaded;
 *   - a release function (archive_read_free, sd_bus_unref, ...) does
 *     nothing while the library is not loaded, so that cleanup paths are
 *     safe;
 *   - every other function takes an object only a constructor makes, so it
 *     runs after a load.
 * A failed implicit load logs why (which library, which Debian package,
 * dlerror's text); dl_NAME_load(e) sets e instead. A program that links a
 * library anyway (berthd links libsystemd) gets the already mapped copy.
 * berthctl links none of them (Makefile: CTL_LIBS); the linker refuses an
 * object of libberth that calls one of their functions directly. */
#pragma once

#include <errno.h>
#include <stdbool.h>

#include "error.h"

struct dynlib {
        const char *soname;  /* what dlopen() is given: "libnftables.so.1" */
        const char *package; /* the Debian package that ships it */
        const char *purpose; /* "NAT and published ports" */
        void *handle;        /* set (release) once every symbol is resolved */
};

/* dlopen()s l (RTLD_NOW); *ret the handle. On failure e gets "cannot load
 * SONAME (package PACKAGE), which PURPOSE needs: DLERROR"; with e NULL
 * that is logged. */
int dynlib_open(struct dynlib *l, void **ret, struct error *e);
/* dlsym(h, name), or NULL with e set (logged when e is NULL). */
void *dynlib_sym(struct dynlib *l, void *h, const char *name, struct error *e);
/* Serializes loads: dynlib_lock() before dynlib_open, dynlib_unlock() after
 * the table is filled and l->handle published. */
void dynlib_lock(void);
void dynlib_unlock(void);

static inline bool dynlib_loaded(const struct dynlib *l)
{
        return __atomic_load_n(&l->handle, __ATOMIC_ACQUIRE) != NULL;
}

/* In dl_NAME.h: the table and its loader. */
#define DYNLIB_FIELD(s) __typeof__(s) *s;
#define DYNLIB_DECLARE(name, SYMS)                  \
        struct dl_##name {                          \
                SYMS(DYNLIB_FIELD)                  \
        };                                          \
        extern struct dl_##name dl_##name;          \
        extern struct dynlib dl_##name##_lib;       \
        int dl_##name##_load(struct error *e);      \
        static inline bool dl_##name##_loaded(void) \
        {                                           \
                return dynlib_loaded(&dl_##name##_lib); \
        }

/* In lib/dl.c: defines the table and dl_NAME_load(). */
#define DYNLIB_RESOLVE(s)                                       \
        {                                                       \
                void *p_ = dynlib_sym(lp_, h, #s, e);   \
                if (!p_)                                        \
                        goto fail;                              \
                t.s = (__typeof__(t.s)) p_;                     \
        }
#define DYNLIB_DEFINE(name, soname_, package_, purpose_, SYMS)              \
        struct dl_##name dl_##name;                                         \
        struct dynlib dl_##name##_lib = { soname_, package_, purpose_, NULL }; \
        int dl_##name##_load(struct error *e)                               \
        {                                                                   \
                if (dynlib_loaded(&dl_##name##_lib))                        \
                        return 0;                                           \
                dynlib_lock();                                              \
                if (dynlib_loaded(&dl_##name##_lib)) {                      \
                        dynlib_unlock();                                    \
                        return 0;                                           \
                }                                                           \
                struct dynlib *lp_ = &dl_##name##_lib;                      \
                void *h = NULL;                                             \
                int r = dynlib_open(lp_, &h, e);                            \
                if (r < 0) {                                                \
                        dynlib_unlock();                                    \
                        return r;                                           \
                }                                                           \
                struct dl_##name t = { 0 };                                 \
                SYMS(DYNLIB_RESOLVE)                                        \
                dl_##name = t;                                              \
                __atomic_store_n(&lp_->handle, h, __ATOMIC_RELEASE);        \
                dynlib_unlock();                                            \
                return 0;                                                   \
        fail:                                                               \
                dynlib_unlock();                                            \
                return -ELIBBAD;                                            \
        }

/* The three kinds of redirects (see above), for dl_NAME.h. */
#define DYNLIB_CALL(name, s) (*dl_##name.s)
#define DYNLIB_CTOR(name, s, fail, ...) \
        (dl_##name##_load(NULL) < 0 ? (fail) : (*dl_##name.s)(__VA_ARGS__))
#define DYNLIB_FREE(name, s, none, ...) \
        (dl_##name##_loaded() ? (*dl_##name.s)(__VA_ARGS__) : (none))

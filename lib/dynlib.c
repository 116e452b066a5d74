/* dlopen() of the libraries only some paths need (see dynlib.h). */

#include "dynlib.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "log.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void dynlib_lock(void)
{
        (void) pthread_mutex_lock(&lock);
}

void dynlib_unlock(void)
{
        (void) pthread_mutex_unlock(&lock);
}

static int fail(const struct dynlib *l, int r, const char *what, struct error *e)
{
        const char *why = dlerror();
        if (!why)
                why = "unknown error";
        if (e)
                return error_set_msg(e, r, "cannot load %s (package %s), which %s needs: %s%s", l->soname,
                                     l->package, l->purpose, what, why);
        log_error("cannot load %s (package %s), which %s needs: %s%s", l->soname, l->package, l->purpose, what,
                  why);
        return r;
}

int dynlib_open(struct dynlib *l, void **ret, struct error *e)
{
        void *h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h)
                return fail(l, -ELIBACC, "", e);
        *ret = h;
        return 0;
}

void *dynlib_sym(struct dynlib *l, void *h, const char *name, struct error *e)
{
        (void) dlerror();
        void *p = dlsym(h, name);
        if (!p) {
                char what[128];
                snprintf(what, sizeof what, "symbol %s: ", name);
                (void) fail(l, -ELIBBAD, what, e);
        }
        return p;
}

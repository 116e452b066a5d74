/* Owns the Prometheus text exposition format (version 0.0.4): metric
 * families with HELP and TYPE, samples with escaped label values,
 * histograms with cumulative buckets. Writes text into a strbuf only:
 * never reads the system, never does I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

enum metrics_type {
        METRICS_COUNTER,
        METRICS_GAUGE,
        METRICS_HISTOGRAM,
};

struct metrics_label {
        const char *name; /* [a-zA-Z_][a-zA-Z0-9_]* */
        const char *value; /* any text: escaped on output */
};

/* [a-zA-Z_:][a-zA-Z0-9_:]*: what the format allows as a metric name. */
bool metrics_name_is_valid(const char *name);

/* "# HELP name help" (help escaped: backslash, newline) and "# TYPE name
 * type". Every sample of the family follows, before the next family. */
void metrics_family(struct strbuf *b, const char *name, enum metrics_type type, const char *help);

/* One sample line: name{l1="v1",...} value. n may be 0 (no braces). */
void metrics_u64(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n, uint64_t value);
void metrics_double(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n, double value);

/* A histogram's state: bounds ascending (the +Inf bucket is implicit),
 * counts per bucket (not cumulative; counts[n_bounds] is above the last
 * bound), the sum and count of every observation. */
#define METRICS_BUCKETS_MAX 16
struct metrics_histogram {
        size_t n_bounds;
        double bounds[METRICS_BUCKETS_MAX];
        uint64_t counts[METRICS_BUCKETS_MAX + 1];
        double sum;
        uint64_t count;
};
/* n at most METRICS_BUCKETS_MAX (more are ignored), bounds ascending. */
void metrics_histogram_init(struct metrics_histogram *h, const double *bounds, size_t n);
void metrics_histogram_observe(struct metrics_histogram *h, double v);
/* name_bucket{...,le="B"} cumulative for each bound and +Inf, then
 * name_sum and name_count, with the labels l (n of them, at most 7). */
void metrics_histogram_write(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n,
                             const struct metrics_histogram *h);

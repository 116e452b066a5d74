/* The Prometheus text exposition format, version 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "metrics.h"

bool metrics_name_is_valid(const char *name)
{
        if (!name || !*name || (*name >= '0' && *name <= '9'))
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                      *p == ':'))
                        return false;
        return true;
}

/* Backslash and newline become \\ and \n; in a label value a double quote
 * becomes \" too. */
static void put_escaped(struct strbuf *b, const char *s, bool quote)
{
        const char *run = s;
        for (const char *p = s;; p++) {
                const char *esc = *p == '\\' ? "\\\\" : *p == '\n' ? "\\n" : *p == '"' && quote ? "\\\"" : NULL;
                if (!esc && *p)
                        continue;
                if (p > run)
                        strbuf_printf(b, "%.*s", (int) (p - run), run);
                if (!*p)
                        return;
                strbuf_printf(b, "%s", esc);
                run = p + 1;
        }
}

void metrics_family(struct strbuf *b, const char *name, enum metrics_type type, const char *help)
{
        static const char *const types[] = { "counter", "gauge", "histogram" };
        strbuf_printf(b, "# HELP %s ", name);
        put_escaped(b, help, false);
        strbuf_printf(b, "\n# TYPE %s %s\n", name, types[type]);
}

static void put_name_labels(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n)
{
        strbuf_printf(b, "%s", name);
        if (n == 0)
                return;
        strbuf_printf(b, "{");
        for (size_t i = 0; i < n; i++) {
                strbuf_printf(b, "%s%s=\"", i ? "," : "", l[i].name);
                put_escaped(b, l[i].value ? l[i].value : "", true);
                strbuf_printf(b, "\"");
        }
        strbuf_printf(b, "}");
}

void metrics_u64(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n, uint64_t value)
{
        put_name_labels(b, name, l, n);
        strbuf_printf(b, " %llu\n", (unsigned long long) value);
}

/* Go's ParseFloat reads what %.17g writes, and NaN, +Inf, -Inf. */
static const char *format_double(double v, char *buf, size_t size)
{
        if (isnan(v))
                return "NaN";
        if (isinf(v))
                return v > 0 ? "+Inf" : "-Inf";
        snprintf(buf, size, "%.17g", v);
        return buf;
}

void metrics_double(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n, double value)
{
        char v[64];
        put_name_labels(b, name, l, n);
        strbuf_printf(b, " %s\n", format_double(value, v, sizeof v));
}

void metrics_histogram_init(struct metrics_histogram *h, const double *bounds, size_t n)
{
        *h = (struct metrics_histogram){ .n_bounds = n < METRICS_BUCKETS_MAX ? n : METRICS_BUCKETS_MAX };
        if (h->n_bounds)
                memcpy(h->bounds, bounds, h->n_bounds * sizeof *bounds);
}

void metrics_histogram_observe(struct metrics_histogram *h, double v)
{
        size_t i = 0;
        while (i < h->n_bounds && v > h->bounds[i])
                i++;
        h->counts[i]++;
        h->sum += v;
        h->count++;
}

void metrics_histogram_write(struct strbuf *b, const char *name, const struct metrics_label *l, size_t n,
                             const struct metrics_histogram *h)
{
        char bucket[256], le[64];
        struct metrics_label ll[8];
        n = n < 7 ? n : 7;
        if (n)
                memcpy(ll, l, n * sizeof *l);
        snprintf(bucket, sizeof bucket, "%s_bucket", name);
        uint64_t cumulative = 0;
        for (size_t i = 0; i <= h->n_bounds; i++) {
                cumulative += h->counts[i];
                if (i < h->n_bounds)
                        snprintf(le, sizeof le, "%g", h->bounds[i]);
                ll[n] = (struct metrics_label){ "le", i < h->n_bounds ? le : "+Inf" };
                metrics_u64(b, bucket, ll, n + 1, cumulative);
        }
        char s[256];
        snprintf(s, sizeof s, "%s_sum", name);
        metrics_double(b, s, l, n, h->sum);
        snprintf(s, sizeof s, "%s_count", name);
        metrics_u64(b, s, l, n, h->count);
}

/* libFuzzer harness for the definition language: every input goes through
 * config_parse_buffer() and, whatever it produced, config_validate(); then
 * everything is freed, so LeakSanitizer sees any leak on any path. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct spec_set set = { 0 };
        struct diag d = { 0 };
        if (config_parse_buffer("fuzz.conf", (const char *) data, size, &set, &d) == 0)
                config_validate(&set, &d);
        diag_sort(&d);
        for (size_t i = 0; i < d.n; i++) {
                char buf[256];
                (void) diag_format(&d.entries[i], buf, sizeof buf);
        }
        spec_set_done(&set);
        diag_done(&d);
        return 0;
}

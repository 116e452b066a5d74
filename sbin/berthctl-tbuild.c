/* berthctl template logs NAME: the log of the last build of a declarative
 * template (lib/tbuild.h), read from the state directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berthctl.h"
#include "tbuild.h"
#include "util.h"

int template_logs_verb(const char *state, const char *name)
{
        if (!name_is_valid(name)) {
                fprintf(stderr, "berthctl template logs: '%s' is not a template name\n", name);
                return 2;
        }
        _cleanup_free_ char *path = tbuild_log_path(state, name);
        if (!path)
                return 1;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        fprintf(stderr, "berthctl template logs: no build log of template '%s' (%s): berthd has not "
                                        "built it (only declarative templates, from = \"debian\", \"busybox\" or a "
                                        "template, are built)\n", name, path);
                else
                        fprintf(stderr, "berthctl template logs: %s: %s\n", path, strerror(errno));
                return 1;
        }
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) > 0)
                if (fwrite(buf, 1, (size_t) n, stdout) != (size_t) n)
                        return 1;
        if (n < 0) {
                fprintf(stderr, "berthctl template logs: %s: %s\n", path, strerror(errno));
                return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
}

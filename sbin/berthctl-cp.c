/* berthctl cp: copies between the host and a container's root. */
#include "berthctl.h"

int verb_cp(struct ctl_args *a)
{
        (void) a;
        fail("berthctl cp: not yet");
        return 1;
}

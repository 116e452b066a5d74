#include "restart.h"

void restart_decide(const struct restart_input *in, struct restart_decision *ret)
{
        *ret = (struct restart_decision) { .verdict = RESTART_VERDICT_NONE, .consecutive = in->consecutive };
        bool restart = in->health_restart || in->policy == RESTART_ALWAYS || in->policy == RESTART_UNLESS_STOPPED ||
                       (in->policy == RESTART_ON_FAILURE && in->failure);
        if (!restart)
                return;
        uint32_t consecutive = in->ran >= in->window ? 0 : in->consecutive;
        size_t in_window = 0;
        for (size_t i = 0; i < in->n_times; i++)
                if (in->now - in->times[i] <= in->window)
                        in_window++;
        ret->in_window = in_window;
        ret->consecutive = consecutive;
        if (in->limit > 0 && in_window >= in->limit) {
                ret->verdict = RESTART_VERDICT_LIMIT;
                return;
        }
        uint64_t delay = in->delay;
        for (uint32_t i = 0; i < consecutive && delay && delay < in->max_delay; i++)
                delay = delay > in->max_delay / 2 ? in->max_delay : delay * 2;
        if (delay > in->max_delay)
                delay = in->max_delay;
        ret->verdict = RESTART_VERDICT_BACKOFF;
        ret->delay = delay;
        ret->consecutive = consecutive + 1;
}

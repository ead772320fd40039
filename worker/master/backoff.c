#include <signal.h>
#include <sys/wait.h>

#include "asst_backoff.h"
#include "backoff.h"
#include "child/child.h"

static int exited_on_purpose(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == ASST_CHILD_EXIT_DONE;
}

static int failed_to_start(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == ASST_CHILD_EXIT_STARTUP;
}

/* SIGKILL comes from outside (an operator, the OOM killer, a fault test):
 * a child that had got going is not failing to start. */
static int killed_from_outside(int status, long uptime_ms)
{
    return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL && uptime_ms >= ASST_BACKOFF_KILLED_MIN_MS;
}

long asst_backoff_next(long prev_ms)
{
    return (long)asst_backoff_double(prev_ms, ASST_BACKOFF_FIRST_MS, ASST_BACKOFF_MAX_MS);
}

long asst_backoff_delay(long prev_ms, long uptime_ms, int status)
{
    if (exited_on_purpose(status))
        return 0;
    if (!failed_to_start(status) && (uptime_ms >= ASST_BACKOFF_STABLE_MS
                                     || killed_from_outside(status, uptime_ms)))
        return 0;
    return asst_backoff_next(prev_ms);
}

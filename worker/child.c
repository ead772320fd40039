#include <unistd.h>

#include "asst_log.h"
#include "child.h"

volatile sig_atomic_t asst_child_stop;

/* Placeholder until the consumer lands: idles until told to stop, so the
 * master's supervision can be built and tested. */
int asst_child_main(const asst_worker_conf_t *conf, asst_child_role_t role, int index)
{
    pid_t master = getppid();

    asst_log(ASST_LOG_INFO, "ASST01001: %s child %d started",
             role == ASST_CHILD_AGENT ? "agent" : "scheduler", index);
    while (!asst_child_stop && getppid() == master)
        usleep(100 * 1000);
    return ASST_CHILD_EXIT_DONE;
}

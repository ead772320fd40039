#ifndef ASST_CHILD_H
#define ASST_CHILD_H

#include <signal.h>

#include "worker_conf.h"

typedef enum {
    ASST_CHILD_AGENT,        /* consumes the streams and runs turns */
    ASST_CHILD_SCHEDULER     /* retries due outbox rows; reminders later */
} asst_child_role_t;

/* Exit statuses a child reports to the master. */
#define ASST_CHILD_EXIT_DONE 0       /* stopped or retired: respawn at once if still wanted */
#define ASST_CHILD_EXIT_STARTUP 3    /* could not start (bad DB, schema too old): throttle */

/* Set by the child's TERM/QUIT handler (installed by the master after
 * fork): finish the current turn, then return. */
extern volatile sig_atomic_t asst_child_stop;

/* Body of a child process; returns its exit status. Returns by itself when
 * the master dies (getppid() changes) or after MaxTurnsPerChild turns. */
int asst_child_main(const asst_worker_conf_t *conf, asst_child_role_t role, int index);

#endif

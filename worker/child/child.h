#ifndef ASST_CHILD_H
#define ASST_CHILD_H

#include <signal.h>

#include <apr_time.h>

#include "conf/worker_conf.h"

typedef struct asst_work asst_work_t;

/* What a child process is for. The master keeps count(conf) children of
 * each role in asst_child_roles; a new kind of child (a syncer, say) is
 * one more row. */
typedef struct {
    const char *name;       /* in logs: "agent child 2 started" */
    const char *title;      /* process name (prctl PR_SET_NAME, <= 15 chars) */
    int consumes_streams;   /* joins the consumer group on the inbound streams */
    long (*count)(const asst_worker_conf_t *conf);
    int (*main)(asst_work_t *w);   /* the loop; returns an exit status below */
} asst_child_role_t;

/* The table, ended by a row with name NULL. */
extern const asst_child_role_t asst_child_roles[];

/* Exit statuses a child reports to the master. */
#define ASST_CHILD_EXIT_DONE 0       /* stopped or retired: respawn at once if still wanted */
#define ASST_CHILD_EXIT_STARTUP 3    /* could not start (bad DB, schema too old): throttle */

/* Set by the child's TERM/QUIT handler (installed by the master after
 * fork): finish the current turn, then return. */
extern volatile sig_atomic_t asst_child_stop;

/* Body of a child process; returns its exit status. Returns by itself when
 * the master dies (getppid() changes) or after MaxTurnsPerChild turns. */
int asst_child_main(const asst_worker_conf_t *conf, const asst_child_role_t *role, int index);

/* For the roles' loops: 0 once TERM/QUIT arrived or the master is gone. */
int asst_child_should_run(void);
/* Sleeps usec in short steps so TERM and the master's death are noticed. */
void asst_child_nap(apr_interval_time_t usec);
/* The next wait after a failed try: 0.5 s doubling up to 10 s. */
apr_interval_time_t asst_child_backoff(apr_interval_time_t prev);

#endif

#ifndef ASST_MASTER_H
#define ASST_MASTER_H

#include <apr_pools.h>

#include "privs.h"
#include "conf/worker_conf.h"

/* The supervising master, in the Postfix master / nginx tradition.
 *
 * It keeps `Workers` agent children and one scheduler child running, and
 * sleeps in poll() on a self-pipe its signal handlers write to:
 *   CHLD   reap with waitpid(-1, WNOHANG) and respawn; a child that dies
 *          young or exits ASST_CHILD_EXIT_STARTUP is throttled (backoff.h);
 *          ASST_CHILD_EXIT_DONE (MaxTurnsPerChild retirement) comes back at once
 *   HUP    re-read the config; if it fails the error is logged and the old
 *          config kept; if not, the log file is reopened, every child is sent
 *          TERM (ShutdownTimeout of the old config, then KILL) and a new set
 *          started with the new config
 *   TERM, INT  stop: TERM to the children, KILL what is left after
 *          ShutdownTimeout, remove the pid file, exit 0
 *   QUIT   drain: QUIT to the children (each finishes its turn and exits),
 *          wait for them without a deadline, then as TERM; a TERM or INT
 *          during a drain turns it into a stop with the deadline
 *   USR1   reopen the log file only
 * The master never runs a turn; if it dies the children notice and exit. */

/* Checks that go beyond the directive table (User must exist) and resolves
 * the identity children run as: none unless started as root. */
const char *asst_master_conf_check(apr_pool_t *p, const asst_worker_conf_t *conf,
                                   asst_privs_t *privs);

/* Runs until stopped; returns the exit status. Takes over conf, which was
 * loaded into a pool holding nothing else (apr_pool_parent_get(conf->pool),
 * destroyed when a HUP replaces the config). pid_file (or NULL) is the file
 * already written; it is removed on exit. */
int asst_master_run(asst_worker_conf_t *conf, const char *pid_file);

#endif

#ifndef ASST_DAEMON_H
#define ASST_DAEMON_H

#include <apr_pools.h>

/* Detaching from the terminal without losing start-up errors: the process
 * that was started forks and waits on a pipe; it exits 0 once the daemon
 * calls asst_daemon_ready() (pid file written), or 1 if the daemon exits
 * first. So `assistant-worker -f ...` fails visibly when, e.g., another
 * instance holds the pid file, and a service manager sees the pid file
 * before the starting process exits. */

/* Returns in the daemon only (after setsid and chdir "/"): NULL, or an
 * error allocated in p; the starting process waits and never returns. */
const char *asst_daemon_start(apr_pool_t *p);

/* In the daemon: stdin, stdout and stderr to /dev/null, then releases the
 * waiting parent with status 0. */
const char *asst_daemon_ready(apr_pool_t *p);

#endif

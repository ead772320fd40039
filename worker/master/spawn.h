#ifndef ASST_SPAWN_H
#define ASST_SPAWN_H

#include <sys/types.h>

#include "child/child.h"
#include "privs.h"

/* Forks one child that runs asst_child_main(conf, role, index) and
 * _exit()s with its return. In the child, before that: the master's signal
 * handlers and self-pipe are dropped; TERM, QUIT and INT set
 * asst_child_stop (no SA_RESTART, so a blocking call returns EINTR); HUP,
 * USR1 and PIPE are ignored; privileges drop to privs; then
 * PR_SET_PDEATHSIG(SIGTERM) (after the drop, which would clear it) and a
 * getppid() check close the race with a master that died meanwhile.
 * Returns the pid, or -1 with errno when fork() failed. */
pid_t asst_spawn_child(const asst_worker_conf_t *conf, const asst_privs_t *privs,
                       const asst_child_role_t *role, int index);

#endif

#ifndef ASST_ROSTER_H
#define ASST_ROSTER_H

#include <apr_pools.h>

#include "privs.h"
#include "conf/worker_conf.h"

/* The master's book of children. Wanted children sit in slots (agent 0..n-1
 * and the scheduler): when one exits it is started again, at once or after
 * the backoff of backoff.h. Children told to go (HUP, TERM, QUIT) move to a
 * leaving list: never restarted, SIGKILLed if still there at their deadline.
 * Every death is logged with pid, role, index and status or signal. */

typedef long long asst_msec_t;
typedef struct asst_roster asst_roster_t;

asst_msec_t asst_roster_now(void);   /* monotonic clock, ms */

asst_roster_t *asst_roster_create(apr_pool_t *p);

/* From now on the children of asst_child_roles are wanted (count(conf) of
 * each role), run with conf and privs (borrowed until the next resize);
 * conf NULL: none. Any child still in a slot is forgotten: send it off
 * first. */
void asst_roster_resize(asst_roster_t *r, const asst_worker_conf_t *conf,
                        const asst_privs_t *privs);

/* Forks every wanted child that is not running and whose backoff is over. */
void asst_roster_start_due(asst_roster_t *r);

/* waitpid(-1, WNOHANG) until nothing is left to collect. */
void asst_roster_reap(asst_roster_t *r);

/* Sends sig to every child in a slot and moves it to the leaving list with
 * deadline kill_at (0: none). */
void asst_roster_send_off(asst_roster_t *r, int sig, asst_msec_t kill_at);

/* Sends sig to the leaving children and brings their deadline forward to
 * kill_at. */
void asst_roster_hurry(asst_roster_t *r, int sig, asst_msec_t kill_at);

/* SIGKILLs leaving children past their deadline. */
void asst_roster_kill_overdue(asst_roster_t *r);

int asst_roster_leaving(const asst_roster_t *r);

/* poll() timeout: ms until the next start or deadline is due; -1: none. */
int asst_roster_timeout(const asst_roster_t *r);

#endif

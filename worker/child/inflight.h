#ifndef ASST_INFLIGHT_H
#define ASST_INFLIGHT_H

#include "work.h"

/* The agent role's loop: up to TurnsInFlight turns at once in one
 * process. A turn whose planner waits on a model is parked, its request
 * on the process's libcurl multi handle, while the child reads new
 * entries and runs other turns' steps, each a short transaction on the
 * child's one database connection. A person's turns still run one after
 * another: within the child in the order their texts arrived, across
 * processes by the session lock (held elsewhere: tried again shortly).
 * Once a turn has committed and its entry is acknowledged, its replies go
 * out on the same multi handle, one after another; the turn counts as in
 * flight (and a later text of the person waits) until they are settled.
 * Returns once TERM/QUIT came, the master died or MaxTurnsPerChild turns
 * are done, after the turns in flight have finished. */
int asst_inflight_run(asst_work_t *w);

#endif

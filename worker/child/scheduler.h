#ifndef ASST_SCHEDULER_H
#define ASST_SCHEDULER_H

#include "work.h"

/* The scheduler role's loop: fires due reminders, sends due daily
 * digests (reminders/digest.h), sends outbox rows whose retry time has
 * come, looks up rows whose sender died mid-send, and drains the edge's
 * spool. Between passes it sleeps until the earliest
 * next due time it computed, on LISTEN asst_scheduler: whatever makes
 * something due sooner notifies it at commit (sql/007_scheduler_wake.sql),
 * and a file landing in SpoolDir wakes it through inotify. Idle, with any
 * number of future reminders, it does nothing. */
int asst_scheduler_run(asst_work_t *w);

#endif

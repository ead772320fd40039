#ifndef ASST_BACKOFF_H
#define ASST_BACKOFF_H

/* Respawn throttling for the master: a child that keeps dying young is
 * started again after a delay that doubles from ASST_BACKOFF_FIRST_MS up to
 * ASST_BACKOFF_MAX_MS; one that lived ASST_BACKOFF_STABLE_MS or exited on
 * purpose (ASST_CHILD_EXIT_DONE: stopped or retired) comes back at once and
 * starts the sequence over. So does one killed by SIGKILL after it lived
 * ASST_BACKOFF_KILLED_MIN_MS: that is an outside hand (operator, OOM
 * killer), not a child failing to start; crashes (SIGSEGV, SIGABRT...) and
 * error exits stay throttled. A pure function, so it is unit-tested alone. */

#define ASST_BACKOFF_FIRST_MS 1000L
#define ASST_BACKOFF_MAX_MS 60000L
#define ASST_BACKOFF_STABLE_MS 10000L
#define ASST_BACKOFF_KILLED_MIN_MS 1000L

/* Delay in ms before respawning a child that ended with wait status
 * `status` after living uptime_ms, given prev_ms, the delay that preceded
 * its own start (0 if none). */
long asst_backoff_delay(long prev_ms, long uptime_ms, int status);

/* The step after prev_ms in the sequence 1 s, 2 s, 4 s ... 60 s (also for
 * a fork() that failed). */
long asst_backoff_next(long prev_ms);

#endif

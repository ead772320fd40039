#ifndef ASST_REZONE_H
#define ASST_REZONE_H

#include <apr_time.h>

#include "db/tx.h"

/* When a person's zone changes, their active reminders move with it,
 * keeping their wall-clock times: "every day at 8" stays 8:00 on the new
 * clock, "tomorrow at 9" is 9:00 there (people think in the time where
 * they are; docs/agent.md). In tx (scoped to the person), each row
 * locked against the scheduler:
 * - zone becomes the new one; dtstart and rrule stay;
 * - next_at is the first occurrence after now on the new clock;
 * - a single time that has already passed on the new clock is due now
 *   (late rather than never, and no later than it would have been);
 * - a series with nothing left there is done;
 * - one whose rule libical refuses stays as it was, and is logged.
 * A snooze is an instant and does not move. Returns how many moved. */
int asst_reminders_rezone(asst_tx_t *tx, const char *user_id, const char *zone, apr_time_t now);

#endif

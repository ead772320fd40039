#ifndef ASST_QUIET_H
#define ASST_QUIET_H

/* Quiet hours in SQL: users u (quiet_start, quiet_end: local times of
 * day, over midnight when they end before they start; timezone) at the
 * instant `at` (a timestamptz expression). A subquery for a LATERAL join
 * giving quiet_until: the instant they end when `at` is inside them, else
 * NULL. One definition for the scheduler that holds a reminder and the
 * tool that says it will be held. */
#define ASST_SQL_QUIET_UNTIL(at)                                                                      \
    "SELECT CASE WHEN " ASST_SQL_IN_QUIET                                                             \
    " THEN ((l.t::date + (u.quiet_end <= l.t::time)::int) + u.quiet_end) AT TIME ZONE u.timezone END " \
    "AS quiet_until FROM (SELECT (" at ") AT TIME ZONE u.timezone AS t) l"

#define ASST_SQL_IN_QUIET                                                                                  \
    "CASE WHEN u.quiet_start < u.quiet_end THEN l.t::time >= u.quiet_start AND l.t::time < u.quiet_end " \
    "     ELSE l.t::time >= u.quiet_start OR l.t::time < u.quiet_end END"

#endif

#ifndef ASST_LOGFILE_H
#define ASST_LOGFILE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include <apr_pools.h>

#include "asst_log.h"

/* The worker's asst_log sink. Each entry is one line,
 *   2024-05-01T12:00:00.123Z [info] [pid 4242] ASSTnnnnn: message
 * written with a single write() to a descriptor opened O_APPEND, so the
 * master and its children (which inherit the descriptor) can share the file
 * without interleaving inside a line. Newlines in a message become spaces. */

/* Opens path (O_APPEND|O_CREAT, 0640), or takes stderr when path is NULL,
 * and makes it the sink for levels up to max_level. The previous file is
 * closed only once the new one is open: on failure (NULL returned with the
 * reason, allocated in p) nothing changes. Used at start and on HUP, which
 * thereby reopens a file logrotate moved away. */
const char *asst_logfile_open(apr_pool_t *p, const char *path, asst_log_level_t max_level);

/* Reopens the current file (logrotate's postrotate without a reload). */
const char *asst_logfile_reopen(apr_pool_t *p);

/* 1 when entries go to stderr (no LogFile). */
int asst_logfile_is_stderr(void);

/* Formats one entry, newline included, into buf; returns its length
 * (at most size - 1; a long message is cut, the newline kept). */
size_t asst_logfile_format(char *buf, size_t size, const struct timespec *when,
                           asst_log_level_t level, pid_t pid, const char *msg);

#endif

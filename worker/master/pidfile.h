#ifndef ASST_PIDFILE_H
#define ASST_PIDFILE_H

#include <sys/types.h>

#include <apr_pools.h>

/* The master's PidFile. Created with O_EXCL holding "pid\n". When the file
 * already exists and names a live process (kill(pid, 0) succeeds or fails
 * with EPERM) the start is refused; a stale file (dead pid, or no pid in
 * it) is removed and the creation retried once. Errors are allocated in p. */
const char *asst_pidfile_create(apr_pool_t *p, const char *path, pid_t pid);

/* Removes path if it still holds pid (never another instance's file). */
void asst_pidfile_remove(const char *path, pid_t pid);

/* The pid in path, 0 when there is none, -1 (errno set) when unreadable. */
pid_t asst_pidfile_read(const char *path);

#endif

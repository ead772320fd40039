#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "asst_log.h"
#include "pidfile.h"

pid_t asst_pidfile_read(const char *path)
{
    char buf[32];
    ssize_t n;
    char *end;
    long v;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return -1;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    v = strtol(buf, &end, 10);
    if (end == buf || (*end && *end != '\n') || v <= 0 || v != (pid_t)v)
        return 0;
    return (pid_t)v;
}

static int pid_alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

static const char *write_pid(apr_pool_t *p, const char *path, int fd, pid_t pid)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%ld\n", (long)pid);
    int failed = (errno = 0, write(fd, buf, (size_t)len) != len);
    int saved = errno;

    close(fd);
    if (!failed)
        return NULL;
    unlink(path);
    return apr_psprintf(p, "cannot write pid file %s: %s", path,
                        saved ? strerror(saved) : "short write");
}

/* The file exists: NULL when it was stale and is now gone. */
static const char *clear_stale(apr_pool_t *p, const char *path, pid_t self)
{
    pid_t old = asst_pidfile_read(path);

    if (old < 0 && errno == ENOENT)
        return NULL;
    if (old < 0)
        return apr_psprintf(p, "pid file %s exists and cannot be read: %s", path, strerror(errno));
    if (old > 0 && old != self && pid_alive(old))
        return apr_psprintf(p, "pid file %s names pid %ld, which is running: "
                            "assistant-worker is already running (or remove the file)",
                            path, (long)old);
    if (unlink(path) != 0 && errno != ENOENT)
        return apr_psprintf(p, "cannot remove stale pid file %s: %s", path, strerror(errno));
    asst_log(ASST_LOG_WARN, "ASST01520: removed stale pid file %s (pid %ld is not running)",
             path, (long)old);
    return NULL;
}

const char *asst_pidfile_create(apr_pool_t *p, const char *path, pid_t pid)
{
    const char *err;

    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd >= 0)
            return write_pid(p, path, fd, pid);
        if (errno != EEXIST)
            return apr_psprintf(p, "cannot create pid file %s: %s", path, strerror(errno));
        if (attempt == 0 && (err = clear_stale(p, path, pid)) != NULL)
            return err;
    }
    return apr_psprintf(p, "pid file %s appeared again after removing a stale one", path);
}

void asst_pidfile_remove(const char *path, pid_t pid)
{
    if (path && asst_pidfile_read(path) == pid)
        unlink(path);
}

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "logfile.h"

static int log_fd = STDERR_FILENO;
static char log_path[4096];          /* empty: stderr */
static asst_log_level_t log_level = ASST_LOG_INFO;

static const char *const level_names[] = { "error", "warn", "info", "debug" };

size_t asst_logfile_format(char *buf, size_t size, const struct timespec *when,
                           asst_log_level_t level, pid_t pid, const char *msg)
{
    struct tm tm;
    size_t n;
    int head;

    if (size < 2)
        return 0;
    gmtime_r(&when->tv_sec, &tm);
    head = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ [%s] [pid %ld] %s",
                    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                    tm.tm_sec, when->tv_nsec / 1000000L, level_names[level], (long)pid, msg);
    n = head < 0 ? 0 : (size_t)head >= size - 1 ? size - 2 : (size_t)head;
    for (size_t i = 0; i < n; i++)
        if (buf[i] == '\n' || buf[i] == '\r')
            buf[i] = ' ';
    buf[n++] = '\n';
    buf[n] = '\0';
    return n;
}

static void write_line(void *baton, asst_log_level_t level, const char *msg)
{
    char line[1280];
    struct timespec now;
    size_t len;
    int saved = errno;

    (void)baton;
    clock_gettime(CLOCK_REALTIME, &now);
    len = asst_logfile_format(line, sizeof(line), &now, level, getpid(), msg);
    while (write(log_fd, line, len) < 0 && errno == EINTR)
        ;
    errno = saved;
}

static const char *open_file(apr_pool_t *p, const char *path, int *fd)
{
    *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
    if (*fd < 0)
        return apr_psprintf(p, "cannot open log file %s: %s", path, strerror(errno));
    return NULL;
}

const char *asst_logfile_open(apr_pool_t *p, const char *path, asst_log_level_t max_level)
{
    int fd = STDERR_FILENO;
    const char *err;

    if (path && strlen(path) >= sizeof(log_path))
        return apr_psprintf(p, "log file name too long: %s", path);
    if (path && (err = open_file(p, path, &fd)) != NULL)
        return err;
    if (log_fd != STDERR_FILENO)
        close(log_fd);
    log_fd = fd;
    log_level = max_level;
    apr_cpystrn(log_path, path ? path : "", sizeof(log_path));
    asst_log_set(write_line, NULL, max_level);
    return NULL;
}

const char *asst_logfile_reopen(apr_pool_t *p)
{
    return asst_logfile_open(p, log_path[0] ? apr_pstrdup(p, log_path) : NULL, log_level);
}

int asst_logfile_is_stderr(void)
{
    return log_fd == STDERR_FILENO;
}

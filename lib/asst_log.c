#include <stdarg.h>
#include <stdio.h>

#include "asst_log.h"

static void log_stderr(void *baton, asst_log_level_t level, const char *msg)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    (void)baton;
    fprintf(stderr, "[%s] %s\n", names[level], msg);
}

static asst_log_fn *log_fn = log_stderr;
static void *log_baton;
static asst_log_level_t log_max = ASST_LOG_INFO;

void asst_log_set(asst_log_fn *fn, void *baton, asst_log_level_t max_level)
{
    log_fn = fn ? fn : log_stderr;
    log_baton = baton;
    log_max = max_level;
}

int asst_log_enabled(asst_log_level_t level)
{
    return level <= log_max;
}

void asst_log(asst_log_level_t level, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;

    if (!asst_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    log_fn(log_baton, level, buf);
}

#ifndef ASST_LOG_H
#define ASST_LOG_H

/* Logging through a callback (the mod_md way): lib/ never knows whether it
 * runs inside httpd or the worker. Every message starts with a unique id
 * "ASSTnnnnn: " so operators can grep for it; ids are listed in docs/messages.md. */

typedef enum {
    ASST_LOG_ERR = 0,
    ASST_LOG_WARN,
    ASST_LOG_INFO,
    ASST_LOG_DEBUG
} asst_log_level_t;

typedef void asst_log_fn(void *baton, asst_log_level_t level, const char *msg);

void asst_log_set(asst_log_fn *fn, void *baton, asst_log_level_t max_level);
int asst_log_enabled(asst_log_level_t level);

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void asst_log(asst_log_level_t level, const char *fmt, ...);

#endif

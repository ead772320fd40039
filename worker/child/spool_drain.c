#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>
#include <json-c/json.h>

#include "asst_log.h"
#include "spool_drain.h"

/* A spooled status callback for a sid nobody recorded is kept this long. */
#define DEFER_LIMIT_S 3600

static int is_spooled(const char *name, int *is_status)
{
    size_t n = strlen(name);

    if (n < 6 || strcmp(name + n - 5, ".json") != 0)
        return 0;
    *is_status = strncmp(name, "status-", 7) == 0;
    return *is_status || strncmp(name, "sms-", 4) == 0;
}

static void reject(apr_pool_t *p, const char *dir, const char *name, const char *why)
{
    const char *from = apr_pstrcat(p, dir, "/", name, NULL);
    const char *to = apr_pstrcat(p, dir, "/.rejected-", name, NULL);

    asst_log(ASST_LOG_ERR, "ASST01401: spooled %s cannot be processed (%s); renamed to %s", from, why, to);
    rename(from, to);
}

/* What one spool file held. */
typedef struct {
    char *data;             /* what was read, NUL-terminated (may hold less than the file) */
    apr_size_t len;
    apr_time_t mtime;
    const char *broken;     /* why data is not a whole envelope, or NULL */
} spooled_t;

static const char *status_text(apr_pool_t *p, apr_status_t rv)
{
    char buf[120];

    return apr_pstrdup(p, apr_strerror(rv, buf, sizeof(buf)));
}

/* NULL when data is one whole JSON text, or a complaint the decoder gives
 * better; a text that stops early means the file was cut short. */
static const char *json_cut_short(const char *data, apr_size_t len)
{
    json_tokener *tok = len <= INT_MAX ? json_tokener_new() : NULL;
    json_object *o;
    int cut;

    if (!tok)
        return NULL;
    o = json_tokener_parse_ex(tok, data, (int)len);
    cut = !o && json_tokener_get_error(tok) == json_tokener_continue;
    json_object_put(o);
    json_tokener_free(tok);
    return cut ? "truncated: the JSON ends early" : NULL;
}

/* The whole file as its size says, or s->broken with what could be read. */
static void read_spooled(apr_pool_t *p, apr_file_t *f, spooled_t *s)
{
    apr_finfo_t fi;
    apr_size_t want;
    apr_status_t rv;

    memset(s, 0, sizeof(*s));
    s->data = apr_pstrdup(p, "");
    if ((rv = apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_MTIME, f)) != APR_SUCCESS) {
        s->broken = apr_psprintf(p, "cannot stat it: %s", status_text(p, rv));
        return;
    }
    s->mtime = fi.mtime;
    want = (apr_size_t)fi.size;
    s->data = apr_palloc(p, want + 1);
    rv = apr_file_read_full(f, s->data, want, &s->len);
    s->data[s->len] = '\0';
    if (rv == APR_EOF || (rv == APR_SUCCESS && s->len < want))
        s->broken = apr_psprintf(p, "truncated: read %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT " bytes",
                                 s->len, want);
    else if (rv != APR_SUCCESS)
        s->broken = apr_psprintf(p, "read failed after %" APR_SIZE_T_FMT " of %" APR_SIZE_T_FMT
                                 " bytes: %s", s->len, want, status_text(p, rv));
    else if (s->len == 0)
        s->broken = "truncated: the file is empty";
    else if (memchr(s->data, '\0', s->len))
        s->broken = "not an envelope: it holds a NUL byte";
    else
        s->broken = json_cut_short(s->data, s->len);
}

/* XADD to the dead-letter stream, with the fields asst_consumer_dead
 * writes for a stream entry (stream "spool", id the file name, env the
 * bytes read). 0 once Redis has it, -1 with *err. */
static int dead_letter(asst_work_t *w, apr_pool_t *p, const char *name, const char *reason,
                       const spooled_t *s, const char **err)
{
    const char *argv[] = { "XADD", ASST_STREAM_DEAD, "*", "stream", "spool", "id", name,
                           "reason", reason, "deliveries", "1", "env", s->data };
    size_t lens[sizeof(argv) / sizeof(argv[0])];
    int argc = (int)(sizeof(argv) / sizeof(argv[0]));
    redisContext *c = asst_redis_acquire(w->redis, err);
    redisReply *r;
    int ok;

    if (!c)
        return -1;
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    lens[argc - 1] = s->len;        /* env: every byte read, NULs included */
    r = redisCommandArgv(c, argc, argv, lens);
    ok = r && r->type == REDIS_REPLY_STRING;
    if (!ok)
        *err = !r ? "Redis connection lost"
             : r->type == REDIS_REPLY_ERROR ? apr_pstrcat(p, "XADD refused: ", r->str, NULL)
             : "unexpected reply to XADD";
    asst_redis_release(w->redis, c, r == NULL);
    if (r)
        freeReplyObject(r);
    return ok ? 0 : -1;
}

/* A file that can never be taken in: dead-lettered, then removed so it is
 * not tried again. Left in place while Redis cannot take it. */
static void bury(asst_work_t *w, apr_pool_t *p, const char *path, const char *name, const char *why,
                 const spooled_t *s)
{
    const char *err = NULL;

    if (dead_letter(w, p, name, why, s, &err) != 0) {
        asst_log(ASST_LOG_WARN, "ASST01404: spooled %s cannot be processed (%s) nor dead-lettered "
                 "(%s); left for the next pass", path, why, err);
        return;
    }
    asst_log(ASST_LOG_ERR, "ASST01403: spooled %s cannot be processed (%s); moved to %s, "
             "file removed", path, why, ASST_STREAM_DEAD);
    if (unlink(path) != 0) {
        apr_status_t rv = apr_get_os_error();
        asst_log(ASST_LOG_ERR, "ASST01405: cannot remove dead-lettered %s: %s; it will be "
                 "dead-lettered again", path, status_text(p, rv));
    }
}

/* 1 taken in, 0 left for later. */
static int drain_one(asst_work_t *w, apr_pool_t *p, const char *dir, const char *name, int is_status)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_array_header_t *ids = apr_array_make(p, 2, sizeof(long long));
    apr_file_t *f;
    spooled_t s;
    const char *why;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return 0;                     /* gone meanwhile, or not ours to read */
    read_spooled(p, f, &s);
    apr_file_close(f);
    if (s.broken) {
        bury(w, p, path, name, s.broken, &s);
        return 0;
    }
    switch (asst_work_envelope(w, p, s.data, is_status, ids, &why)) {
    case ASST_TURN_RETRY:
        return 0;
    case ASST_TURN_DEFER:
        if (apr_time_now() - s.mtime < apr_time_from_sec(DEFER_LIMIT_S))
            return 0;
        reject(p, dir, name, "no message has this sid, an hour after the callback");
        return 0;
    default:
        break;
    }
    if (why) {                        /* not an envelope it can decode */
        bury(w, p, path, name, why, &s);
        return 0;
    }
    unlink(path);
    asst_log(ASST_LOG_INFO, "ASST01402: took in spooled %s", name);
    asst_work_deliver(w, p, ids);
    return 1;
}

int asst_spool_waiting(apr_pool_t *p, const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int n = 0, is_status;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS)
        return 0;
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS)
        n += fi.filetype == APR_REG && fi.name[0] != '.' && is_spooled(fi.name, &is_status);
    apr_dir_close(d);
    return n;
}

int asst_spool_drain(asst_work_t *w, apr_pool_t *p, const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;
    int taken = 0;

    if (apr_dir_open(&d, dir, p) != APR_SUCCESS)
        return 0;
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d) == APR_SUCCESS) {
        int is_status;
        if (fi.filetype == APR_REG && fi.name[0] != '.' && is_spooled(fi.name, &is_status))
            taken += drain_one(w, p, dir, apr_pstrdup(p, fi.name), is_status);
    }
    apr_dir_close(d);
    return taken;
}

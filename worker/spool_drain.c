#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_file_io.h>
#include <apr_strings.h>

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

/* 1 taken in, 0 left for later. */
static int drain_one(asst_work_t *w, apr_pool_t *p, const char *dir, const char *name, int is_status)
{
    const char *path = apr_pstrcat(p, dir, "/", name, NULL);
    apr_array_header_t *ids = apr_array_make(p, 2, sizeof(long long));
    apr_file_t *f;
    apr_finfo_t fi;
    const char *why;
    char *json;
    apr_size_t len;

    if (apr_file_open(&f, path, APR_FOPEN_READ, 0, p) != APR_SUCCESS)
        return 0;                     /* gone meanwhile, or not ours to read */
    apr_file_info_get(&fi, APR_FINFO_SIZE | APR_FINFO_MTIME, f);
    len = (apr_size_t)fi.size;
    json = apr_palloc(p, len + 1);
    apr_file_read_full(f, json, len, &len);
    apr_file_close(f);
    json[len] = '\0';
    switch (asst_work_envelope(w, p, json, is_status, ids, &why)) {
    case ASST_TURN_RETRY:
        return 0;
    case ASST_TURN_DEFER:
        if (apr_time_now() - fi.mtime < apr_time_from_sec(DEFER_LIMIT_S))
            return 0;
        why = "no message has this sid, an hour after the callback";
        break;
    default:
        break;
    }
    if (why) {
        reject(p, dir, name, why);
        return 0;
    }
    unlink(path);
    asst_log(ASST_LOG_INFO, "ASST01402: took in spooled %s", name);
    asst_work_deliver(w, p, ids);
    return 1;
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

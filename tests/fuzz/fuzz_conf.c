/* worker.conf through asst_conf_load with the worker's own directive table
 * (a memfd stands in for the file). An error names the file and a line
 * the input has; a success leaves every directive valid for its kind.
 * Secret files are checked as paths, never read: a fuzzed path could name
 * a file whose read blocks. */
#include <stddef.h>
#include <sys/mman.h>
#include <unistd.h>

#include "asst_conf.h"
#include "asst_redis.h"
#include "fuzz.h"
#include "conf/worker_conf.h"

#define DEF_ROW(name, kind, field, dflt, choices, syntax, help) \
    { #name, ASST_CONF_##kind, offsetof(asst_worker_conf_t, field), dflt, choices, syntax, help },
static asst_conf_def_t defs[] = { ASST_WORKER_DIRECTIVES(DEF_ROW) };
#define NDEFS ((int)(sizeof(defs) / sizeof(defs[0])))

static int conf_file(char *path, size_t size)
{
    static int fd = -1;

    if (fd < 0) {
        REQUIRE((fd = memfd_create("worker.conf", 0)) >= 0);
        for (int i = 0; i < NDEFS; i++)
            if (defs[i].kind == ASST_CONF_SECRET_FILE)
                defs[i].kind = ASST_CONF_PATH;
    }
    snprintf(path, size, "/proc/self/fd/%d", fd);
    return fd;
}

static int lines_in(const uint8_t *data, size_t size)
{
    int n = size > 0 && data[size - 1] != '\n';

    for (size_t i = 0; i < size; i++)
        n += data[i] == '\n';
    return n;
}

static void check_value(apr_pool_t *p, const asst_conf_def_t *def, const void *conf)
{
    const void *field = (const char *)conf + def->offset;
    const char *s, *err;
    asst_redis_conf_t rc;
    int choices = 1;

    switch (def->kind) {
    case ASST_CONF_INT:      REQUIRE(*(const long *)field >= 0); return;
    case ASST_CONF_POSITIVE: REQUIRE(*(const long *)field > 0); return;
    case ASST_CONF_ENUM:
        for (const char *c = def->choices; *c; c++)
            choices += *c == '|';
        REQUIRE(*(const int *)field >= 0 && *(const int *)field < choices);
        return;
    default:
        if (!(s = *(const char *const *)field))
            return;            /* unset, and without a default */
        REQUIRE(*s);
        REQUIRE(def->kind != ASST_CONF_PATH || s[0] == '/');
        REQUIRE(def->kind != ASST_CONF_URL || !asst_conf_check_url(s));
        REQUIRE(def->kind != ASST_CONF_REDIS_ADDR || asst_redis_parse_addr(p, s, &rc, &err) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    asst_worker_conf_t *conf = apr_pcalloc(p, sizeof(*conf));
    const char *err = NULL;
    char path[64], *end;
    int fd = conf_file(path, sizeof(path));
    size_t path_len = strlen(path);

    REQUIRE(ftruncate(fd, 0) == 0 && pwrite(fd, data, size, 0) == (ssize_t)size);
    if (asst_conf_load(p, path, defs, NDEFS, conf, &err) == 0) {
        for (int i = 0; i < NDEFS; i++)
            check_value(p, &defs[i], conf);
    }
    else {
        int lines = lines_in(data, size);
        long line;
        REQUIRE(err && strncmp(err, path, path_len) == 0 && err[path_len] == ':');
        line = strtol(err + path_len + 1, &end, 10);
        if (*end != ':' || line < 1 || line > lines)
            fprintf(stderr, "input of %d lines: %.200s\n", lines, err);
        REQUIRE(*end == ':' && line >= 1 && line <= lines);
    }
    fuzz_pool_end(p);
    return 0;
}

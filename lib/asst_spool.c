#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "asst_spool.h"

int asst_spool_key_valid(const char *key)
{
    size_t n = strlen(key);

    if (n == 0 || n > 64)
        return 0;
    return strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static apr_status_t write_all(int fd, const char *data, apr_size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        data += n;
        len -= (apr_size_t)n;
    }
    return APR_SUCCESS;
}

static apr_status_t fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    apr_status_t rv = APR_SUCCESS;

    if (fd < 0)
        return errno;
    if (fsync(fd) != 0)
        rv = errno;
    close(fd);
    return rv;
}

/* Temp names start with '.', which readers of the spool skip. */
static const char *temp_name(apr_pool_t *p, const char *dir, const char *kind, const char *key)
{
    static volatile unsigned long seq;
    return apr_psprintf(p, "%s/.%s-%s.%ld.%lu.tmp", dir, kind, key, (long)getpid(),
                        __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
}

apr_status_t asst_spool_write(apr_pool_t *p, const char *dir, const char *kind,
                              const char *key, const char *data, apr_size_t len,
                              const char **what)
{
    const char *tmp, *final;
    apr_status_t rv;
    int fd;

    if (!asst_spool_key_valid(key)) {
        *what = "invalid key";
        return APR_EINVAL;
    }
    tmp = temp_name(p, dir, kind, key);
    final = apr_psprintf(p, "%s/%s-%s.json", dir, kind, key);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd < 0) {
        *what = "create";
        return errno;
    }
    if ((rv = write_all(fd, data, len)) != APR_SUCCESS)
        *what = "write";
    else if (fsync(fd) != 0)
        *what = "fsync", rv = errno;
    if (close(fd) != 0 && rv == APR_SUCCESS)
        *what = "close", rv = errno;
    if (rv == APR_SUCCESS && rename(tmp, final) != 0)
        *what = "rename", rv = errno;
    if (rv != APR_SUCCESS) {
        unlink(tmp);
        return rv;
    }
    if ((rv = fsync_dir(dir)) != APR_SUCCESS)
        *what = "fsync of the directory";
    return rv;
}

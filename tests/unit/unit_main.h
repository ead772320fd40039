#ifndef ASST_UNIT_MAIN_H
#define ASST_UNIT_MAIN_H

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <apr_general.h>
#include <check.h>

/* Runs one libcheck suite with APR initialised and returns the exit
 * status `make check` expects. */
static inline int asst_unit_run(Suite *suite)
{
    SRunner *sr;
    int failed;

    apr_initialize();
    sr = srunner_create(suite);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    apr_terminate();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* A TCP socket bound to a free port on 127.0.0.1 and not listening:
 * while *fd stays open, connecting to the port is refused; close it to
 * hand the port to a server. Returns the port. */
static inline int asst_unit_bound_port(int *fd)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    *fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(*fd, 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(*fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(getsockname(*fd, (struct sockaddr *)&sa, &len), 0);
    return ntohs(sa.sin_port);
}

/* A fresh directory /tmp/asst-<name>-XXXXXX in buf; 0, or -1 with errno. */
static inline int asst_unit_mkdtemp(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "/tmp/asst-%s-XXXXXX", name);
    return mkdtemp(buf) ? 0 : -1;
}

/* rm -rf dir (no symlinks followed). */
static inline void asst_unit_remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct stat st;
    char path[4096 + 256];

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (snprintf(path, sizeof(path), "%.4000s/%s", dir, e->d_name) >= (int)sizeof(path))
            continue;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
            asst_unit_remove_tree(path);
        else
            unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

#endif

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "daemon.h"

static int status_fd = -1;

/* The starting process: exits with what the daemon reports. */
static void wait_for_daemon(int fd)
{
    char c = 1;
    ssize_t n;

    while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
        ;
    _exit(n == 1 ? c : 1);
}

const char *asst_daemon_start(apr_pool_t *p)
{
    int fds[2];
    pid_t pid;

    if (pipe(fds) != 0)
        return apr_psprintf(p, "pipe: %s", strerror(errno));
    if ((pid = fork()) < 0)
        return apr_psprintf(p, "fork: %s", strerror(errno));
    if (pid > 0) {
        close(fds[1]);
        wait_for_daemon(fds[0]);
    }
    close(fds[0]);
    status_fd = fds[1];
    fcntl(status_fd, F_SETFD, FD_CLOEXEC);
    if (setsid() < 0)
        return apr_psprintf(p, "setsid: %s", strerror(errno));
    if (chdir("/") != 0)
        return apr_psprintf(p, "chdir /: %s", strerror(errno));
    return NULL;
}

const char *asst_daemon_ready(apr_pool_t *p)
{
    char ok = 0;
    int fd = open("/dev/null", O_RDWR);

    if (fd < 0)
        return apr_psprintf(p, "/dev/null: %s", strerror(errno));
    for (int i = 0; i <= 2; i++)
        if (fd != i && dup2(fd, i) < 0)
            return apr_psprintf(p, "dup2: %s", strerror(errno));
    if (fd > 2)
        close(fd);
    if (write(status_fd, &ok, 1) != 1)
        return apr_psprintf(p, "telling the starting process: %s", strerror(errno));
    close(status_fd);
    status_fd = -1;
    return NULL;
}

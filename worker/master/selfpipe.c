#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "selfpipe.h"

#define MAX_SIGS 16

static int pipe_fds[2] = { -1, -1 };
static int handled[MAX_SIGS];
static int nhandled;
static volatile sig_atomic_t pending[NSIG];

static void on_signal(int sig)
{
    int saved = errno;
    char c = (char)sig;

    pending[sig] = 1;
    if (write(pipe_fds[1], &c, 1) < 0) {
        /* full pipe: a wake-up is already pending */
    }
    errno = saved;
}

static int make_pipe(void)
{
    if (pipe(pipe_fds) != 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (fcntl(pipe_fds[i], F_SETFL, O_NONBLOCK) != 0
            || fcntl(pipe_fds[i], F_SETFD, FD_CLOEXEC) != 0)
            return -1;
    return 0;
}

const char *asst_selfpipe_init(apr_pool_t *p, const int *sigs, int n)
{
    struct sigaction sa;

    if (n > MAX_SIGS)
        return "too many signals";
    if (make_pipe() != 0)
        return apr_psprintf(p, "self-pipe: %s", strerror(errno));
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < n; i++) {
        if (sigaction(sigs[i], &sa, NULL) != 0)
            return apr_psprintf(p, "sigaction(%d): %s", sigs[i], strerror(errno));
        handled[i] = sigs[i];
    }
    nhandled = n;
    return NULL;
}

int asst_selfpipe_fd(void)
{
    return pipe_fds[0];
}

void asst_selfpipe_drain(void)
{
    char buf[64];

    while (read(pipe_fds[0], buf, sizeof(buf)) > 0)
        ;
}

int asst_selfpipe_take(int sig)
{
    if (!pending[sig])
        return 0;
    pending[sig] = 0;
    return 1;
}

static void handled_set(sigset_t *set)
{
    sigemptyset(set);
    for (int i = 0; i < nhandled; i++)
        sigaddset(set, handled[i]);
}

void asst_selfpipe_block(sigset_t *old)
{
    sigset_t set;

    handled_set(&set);
    sigprocmask(SIG_BLOCK, &set, old);
}

void asst_selfpipe_restore(const sigset_t *old)
{
    sigprocmask(SIG_SETMASK, old, NULL);
}

void asst_selfpipe_forget(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < nhandled; i++) {
        sigaction(handled[i], &sa, NULL);
        pending[handled[i]] = 0;
    }
    for (int i = 0; i < 2; i++)
        if (pipe_fds[i] >= 0)
            close(pipe_fds[i]);
    pipe_fds[0] = pipe_fds[1] = -1;
}

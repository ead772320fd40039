#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "asst_log.h"
#include "selfpipe.h"
#include "spawn.h"

static void on_stop(int sig)
{
    (void)sig;
    asst_child_stop = 1;
}

static void set_action(int sig, void (*handler)(int))
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

static void child_signals(void)
{
    static const int stop[] = { SIGTERM, SIGQUIT, SIGINT };
    static const int ignore[] = { SIGHUP, SIGUSR1, SIGPIPE };

    asst_selfpipe_forget();
    for (size_t i = 0; i < sizeof(stop) / sizeof(stop[0]); i++)
        set_action(stop[i], on_stop);
    for (size_t i = 0; i < sizeof(ignore) / sizeof(ignore[0]); i++)
        set_action(ignore[i], SIG_IGN);
}

/* Dies with the master: PDEATHSIG, then the race where it is already gone. */
static int tie_to_master(pid_t master)
{
#ifdef __linux__
    prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
    return getppid() == master;
}

static void name_process(const asst_child_role_t *role)
{
#ifdef __linux__
    prctl(PR_SET_NAME, role->title);
#else
    (void)role;
#endif
}

static void run_child(const asst_worker_conf_t *conf, const asst_privs_t *privs,
                      const asst_child_role_t *role, int index, pid_t master)
{
    const char *failed;
    char why[128];
    sigset_t none;

    child_signals();
    name_process(role);
    if ((failed = asst_privs_drop(privs, why, sizeof(why))) != NULL) {
        asst_log(ASST_LOG_ERR, "ASST01560: child cannot run as User %s: %s", privs->name,
                 failed);
        _exit(ASST_CHILD_EXIT_STARTUP);
    }
    if (!tie_to_master(master))
        _exit(ASST_CHILD_EXIT_DONE);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    _exit(asst_child_main(conf, role, index));
}

pid_t asst_spawn_child(const asst_worker_conf_t *conf, const asst_privs_t *privs,
                       const asst_child_role_t *role, int index)
{
    pid_t master = getpid();
    sigset_t old;
    pid_t pid;
    int saved;

    asst_selfpipe_block(&old);
    pid = fork();
    if (pid == 0)
        run_child(conf, privs, role, index, master);
    saved = errno;
    asst_selfpipe_restore(&old);
    errno = saved;
    return pid;
}

/* assistant-worker: the master of the worker pool (see master.h). */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <apr_general.h>
#include <apr_strings.h>

#include "asst_log.h"
#include "daemon.h"
#include "logfile.h"
#include "master.h"
#include "pidfile.h"
#include "conf/worker_conf.h"

#define EXIT_USAGE 2

typedef struct {
    const char *conf_path;
    int foreground;
    int test;
    int print_directives;
} options_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: assistant-worker -f worker.conf [-F] [-t]\n"
            "       assistant-worker --print-directives | -h\n"
            "  -f FILE             configuration (required)\n"
            "  -F                  stay in the foreground (default: detach)\n"
            "  -t                  check the configuration, print \"Syntax OK\" and exit\n"
            "  --print-directives  print the reference of every directive (Markdown)\n"
            "  -h, --help          this text\n"
            "Signals to the master: HUP reload, TERM/INT stop, QUIT drain, USR1 reopen log.\n");
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, options_t *o)
{
    static const struct option longopts[] = {
        { "print-directives", no_argument, NULL, 'D' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    memset(o, 0, sizeof(*o));
    while ((c = getopt_long(argc, argv, "f:Fth", longopts, NULL)) != -1) {
        switch (c) {
        case 'f': o->conf_path = optarg; break;
        case 'F': o->foreground = 1; break;
        case 't': o->test = 1; break;
        case 'D': o->print_directives = 1; break;
        case 'h': usage(stdout); return EXIT_SUCCESS;
        default: usage(stderr); return EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "assistant-worker: unexpected argument: %s\n", argv[optind]);
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!o->conf_path && !o->print_directives) {
        fprintf(stderr, "assistant-worker: -f worker.conf is required\n");
        usage(stderr);
        return EXIT_USAGE;
    }
    return -1;
}

/* An error before the master runs: to the log, and to the terminal when the
 * log is a file (the daemon's stderr is still the terminal at this point). */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
static void fatal(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    asst_log(ASST_LOG_ERR, "%s", msg);
    if (!asst_logfile_is_stderr())
        fprintf(stderr, "assistant-worker: %s\n", msg);
}

static const char *absolute(apr_pool_t *p, const char *path)
{
    char cwd[4096];

    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return path;
    return apr_pstrcat(p, cwd, "/", path, NULL);
}

/* Loads and checks the config into gen; NULL after printing the error. */
static asst_worker_conf_t *load(apr_pool_t *gen, const char *path)
{
    asst_worker_conf_t *conf;
    asst_privs_t privs;
    const char *err;

    if ((conf = asst_worker_conf_load(gen, path, &err)) == NULL
        || (err = asst_master_conf_check(gen, conf, &privs)) != NULL) {
        fprintf(stderr, "assistant-worker: %s\n", err);
        return NULL;
    }
    return conf;
}

static int detach(apr_pool_t *p)
{
    const char *err;

    if (asst_logfile_is_stderr())
        asst_log(ASST_LOG_WARN, "ASST01530: no LogFile and no -F: nothing is logged once "
                 "detached");
    if ((err = asst_daemon_start(p)) != NULL) {
        fatal("ASST01531: cannot detach: %s", err);
        return -1;
    }
    return 0;
}

static int run(apr_pool_t *gen, asst_worker_conf_t *conf, int foreground)
{
    const char *err;

    if ((err = asst_logfile_open(gen, conf->log_file, (asst_log_level_t)conf->log_level))) {
        fprintf(stderr, "assistant-worker: %s\n", err);
        return EXIT_FAILURE;
    }
    if (!foreground && detach(gen) != 0)
        return EXIT_FAILURE;
    if (conf->pid_file && (err = asst_pidfile_create(gen, conf->pid_file, getpid())) != NULL) {
        fatal("ASST01532: %s", err);
        return EXIT_FAILURE;
    }
    if (!foreground && (err = asst_daemon_ready(gen)) != NULL) {
        asst_log(ASST_LOG_ERR, "ASST01533: detaching: %s", err);
        asst_pidfile_remove(conf->pid_file, getpid());
        return EXIT_FAILURE;
    }
    return asst_master_run(conf, conf->pid_file);
}

int main(int argc, char **argv)
{
    apr_pool_t *gen;
    asst_worker_conf_t *conf;
    options_t o;
    int rc;

    if ((rc = parse_args(argc, argv, &o)) >= 0)
        return rc;
    if (o.print_directives) {
        asst_worker_conf_print_docs();
        return EXIT_SUCCESS;
    }
    apr_initialize();
    atexit(apr_terminate);
    apr_pool_create(&gen, NULL);
    if ((conf = load(gen, o.test ? o.conf_path : absolute(gen, o.conf_path))) == NULL)
        return EXIT_FAILURE;
    if (o.test) {
        printf("Syntax OK\n");
        return EXIT_SUCCESS;
    }
    return run(gen, conf, o.foreground);
}

#ifndef ASST_PRIVS_H
#define ASST_PRIVS_H

#include <sys/types.h>

#include <apr_pools.h>

/* `User`: the account children run as when the master is started as root.
 * The master itself stays root (the Postfix / nginx / httpd arrangement), so
 * a HUP can still read root-only secret files, open log files under
 * /var/log, apply a changed User and remove the pid file; it handles no
 * input but worker.conf. Each child drops right after fork. */

typedef struct {
    const char *name;        /* NULL: no User, or not started as root */
    uid_t uid;
    gid_t gid;
} asst_privs_t;

/* Looks user up (NULL: none). Returns NULL or an error allocated in p. */
const char *asst_privs_resolve(apr_pool_t *p, const char *user, asst_privs_t *out);

/* In a child: initgroups, setgid, setuid, then checks that neither the uid
 * nor the gid can be taken back. No-op when privs->name is NULL. Returns
 * NULL, or what failed (in buf, or a static string). */
const char *asst_privs_drop(const asst_privs_t *privs, char *buf, size_t size);

#endif

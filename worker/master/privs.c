#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <apr_strings.h>

#include "privs.h"

const char *asst_privs_resolve(apr_pool_t *p, const char *user, asst_privs_t *out)
{
    struct passwd *pw;

    memset(out, 0, sizeof(*out));
    if (!user)
        return NULL;
    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
        return apr_psprintf(p, "User %s: %s", user, errno ? strerror(errno) : "no such user");
    out->name = apr_pstrdup(p, user);
    out->uid = pw->pw_uid;
    out->gid = pw->pw_gid;
    return NULL;
}

static const char *failed(char *buf, size_t size, const char *step)
{
    snprintf(buf, size, "%s: %s", step, strerror(errno));
    return buf;
}

const char *asst_privs_drop(const asst_privs_t *privs, char *buf, size_t size)
{
    if (!privs->name)
        return NULL;
    if (initgroups(privs->name, privs->gid) != 0)
        return failed(buf, size, "initgroups");
    if (setgid(privs->gid) != 0)
        return failed(buf, size, "setgid");
    if (setuid(privs->uid) != 0)
        return failed(buf, size, "setuid");
    if (privs->uid == 0)
        return NULL;
    if (setuid(0) == 0 || seteuid(0) == 0)
        return "root could be regained after setuid";
    if (privs->gid != 0 && (setgid(0) == 0 || setegid(0) == 0))
        return "group root could be regained after setgid";
    if (getuid() != privs->uid || geteuid() != privs->uid || getegid() != privs->gid)
        return "ids differ after setuid";
    return NULL;
}

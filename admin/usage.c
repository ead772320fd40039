/* assistant-admin usage [DAYS]: model tokens per person per UTC day
 * (llm_usage), newest first, over the last DAYS days (default 7). */
#include <stdio.h>
#include <stdlib.h>

#include "admin.h"

int asst_admin_usage_cmd(asst_admin_t *a, int argc, const char *const *argv)
{
    const char *days = argc == 1 ? argv[0] : "7";
    PGresult *res;

    if (argc > 1 || atoi(days) < 1)
        return asst_admin_usage("usage: usage [DAYS]");
    if (asst_admin_begin(a) != ADMIN_OK)
        return ADMIN_FAIL;
    if (asst_db_exec(a->db, &res,
                     "SELECT to_char(l.day, 'YYYY-MM-DD'), u.phone, l.requests, l.prompt_tokens, "
                     "       l.completion_tokens, CASE WHEN l.notified THEN 'capped' ELSE '' END "
                     "FROM llm_usage l JOIN users u ON u.id = l.user_id "
                     "WHERE l.day > (now() AT TIME ZONE 'UTC')::date - $1::int "
                     "ORDER BY l.day DESC, l.prompt_tokens + l.completion_tokens DESC", ASST_DB_ARGS(days))
        != ASST_DB_OK)
        return asst_admin_db_fail(a, "cannot read llm_usage");
    printf("%-10s  %-16s  %8s  %12s  %12s  %s\n", "DAY", "PHONE", "REQUESTS", "PROMPT", "COMPLETION", "");
    for (int i = 0; i < PQntuples(res); i++)
        printf("%-10s  %-16s  %8s  %12s  %12s  %s\n", PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
               PQgetvalue(res, i, 2), PQgetvalue(res, i, 3), PQgetvalue(res, i, 4), PQgetvalue(res, i, 5));
    if (PQntuples(res) == 0)
        printf("(no model use in the last %s days)\n", days);
    PQclear(res);
    return asst_admin_commit(a);
}

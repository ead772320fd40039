#include "events.h"

asst_db_rc_t asst_db_event(asst_db_t *db, const char *user_id, const char *kind, const char *data_json)
{
    return asst_db_exec(db, NULL, ASST_DB_EVENT_SQL, ASST_DB_ARGS(user_id, kind, data_json ? data_json : "{}"));
}

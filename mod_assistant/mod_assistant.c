/* mod_assistant: hooks only. The logic is in lib/ (no httpd headers) and
 * the asst_*.c files here adapt it to httpd. */
#include <string.h>

#include <httpd.h>
#include <http_config.h>
#include <http_log.h>
#include <http_protocol.h>
#include <http_request.h>

#include "asst_config.h"
#include "asst_ingest.h"
#include "asst_log.h"
#include "asst_metrics.h"
#include "asst_webhook.h"
#include "mod_assistant.h"

static server_rec *log_server;

static void log_to_httpd(void *baton, asst_log_level_t level, const char *msg)
{
    static const int levels[] = { APLOG_ERR, APLOG_WARNING, APLOG_INFO, APLOG_DEBUG };
    ap_log_error(APLOG_MARK, levels[level], 0, log_server, "%s", msg);
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    log_server = s;
    asst_log_set(log_to_httpd, NULL, ASST_LOG_DEBUG);
    asst_ingest_script_sha();       /* once, before the children fork */
    return asst_metrics_init(s) == APR_SUCCESS ? OK : HTTP_INTERNAL_SERVER_ERROR;
}

static int same_string(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

static int same_redis(const asst_server_conf_t *a, const asst_server_conf_t *b)
{
    return a->redis_timeout_ms == b->redis_timeout_ms && same_string(a->redis_addr, b->redis_addr) &&
           same_string(a->redis_password, b->redis_password);
}

static asst_pipe_t *make_pipe(apr_pool_t *pchild, const asst_server_conf_t *sc,
                              asst_redis_stats_t *stats)
{
    asst_redis_conf_t rc;
    const char *err;

    /* The address was validated when the directive was read. */
    asst_redis_parse_addr(pchild, sc->redis_addr ? sc->redis_addr : ASST_DEFAULT_REDIS, &rc, &err);
    rc.password = sc->redis_password;
    rc.timeout_ms = (int)asst_conf_long(sc->redis_timeout_ms, ASST_DEFAULT_REDIS_TIMEOUT_MS);
    rc.max_idle = 1;
    return asst_pipe_create(pchild, &rc, stats);
}

/* One connection per distinct Redis; virtual hosts that inherit share the main one. */
static void child_init(apr_pool_t *pchild, server_rec *s)
{
    asst_server_conf_t *main_conf = ap_get_module_config(s->module_config, &assistant_module);
    asst_redis_stats_t *stats = asst_metrics_child_stats(pchild);

    main_conf->pipe = make_pipe(pchild, main_conf, stats);
    for (server_rec *v = s->next; v; v = v->next) {
        asst_server_conf_t *sc = ap_get_module_config(v->module_config, &assistant_module);
        sc->pipe = same_redis(sc, main_conf) ? main_conf->pipe : make_pipe(pchild, sc, stats);
    }
}

/* Like mod_proxy: a webhook URL names no file, so core's directory walk (a
 * stat and an .htaccess lookup per path segment) is skipped for it.
 * <Directory> sections therefore do not apply there; <Location> does. */
static int map_to_storage(request_rec *r)
{
    const asst_server_conf_t *sc = ap_get_module_config(r->server->module_config, &assistant_module);
    ap_conf_vector_t *before = r->per_dir_config;
    const asst_dir_conf_t *d;

    if (!sc->webhook_locations)
        return DECLINED;
    if (ap_location_walk(r) == OK) {
        d = ap_get_module_config(r->per_dir_config, &assistant_module);
        if (d && asst_conf_serves_no_file(d))
            return OK;
    }
    r->per_dir_config = before;     /* core walks from the server defaults */
    return DECLINED;
}

static void register_hooks(apr_pool_t *p)
{
    ap_hook_check_config(asst_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_map_to_storage(map_to_storage, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(asst_webhook_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(asst_metrics_handler, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(assistant) = {
    STANDARD20_MODULE_STUFF,
    asst_create_dir_conf,
    asst_merge_dir_conf,
    asst_create_server_conf,
    asst_merge_server_conf,
    asst_cmds,
    register_hooks,
    AP_MODULE_FLAG_ALWAYS_MERGE
};

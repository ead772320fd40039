/* Directive parsing and merging, all driven by ASST_DIRECTIVES. */
#include <apr_strings.h>
#include <openssl/crypto.h>
#include <http_core.h>
#include <http_log.h>

#include "asst_conf.h"
#include "asst_config.h"
#include "asst_directives.h"

APLOG_USE_MODULE(assistant);

typedef enum {
    K_STRING, K_SECRET_FILE, K_SIGNING_KEY, K_SIGNING_KEY_FILE, K_ACCOUNT_SID, K_URL, K_SECONDS, K_MILLIS,
    K_BYTES, K_DIRPATH, K_RATE, K_REDIS_ADDR
} kind_t;

typedef struct {
    const char *name;
    kind_t kind;
    int server_scope;
    apr_size_t offset;
} field_t;

#define SCOPE_SERVER 1
#define SCOPE_DIR 0
#define OFFSET_SERVER(f) APR_OFFSETOF(asst_server_conf_t, f)
#define OFFSET_DIR(f) APR_OFFSETOF(asst_dir_conf_t, f)
#define CONTEXT_SERVER RSRC_CONF
#define CONTEXT_DIR (RSRC_CONF | ACCESS_CONF)

#define FIELD_DEF(name, scope, kind, field, syntax, dflt, help) \
    static const field_t f_##name = { #name, K_##kind, SCOPE_##scope, OFFSET_##scope(field) };
ASST_DIRECTIVES(FIELD_DEF)
#define FIELD_PTR(name, scope, kind, field, syntax, dflt, help) &f_##name,
static const field_t *const fields[] = { ASST_DIRECTIVES(FIELD_PTR) };
#define NFIELDS ((int)(sizeof(fields) / sizeof(fields[0])))

/* ---- one parser per kind ---- */

static const char *read_secret_file(cmd_parms *cmd, apr_pool_t *p, const char *arg, const char **out)
{
    const char *path = ap_server_root_relative(cmd->temp_pool, arg);
    const char *err = path ? asst_conf_read_secret(p, path, out) : "invalid path";

    return err ? apr_psprintf(cmd->pool, "%s: %s", cmd->cmd->name, err) : NULL;
}

/* An auth token is only ever used as an HMAC key: key it now, in the
 * parent, and keep no copy of the text. */
static const char *parse_signing_key(cmd_parms *cmd, const char *token, const asst_sig_key_t **out)
{
    if (!*token)
        return apr_psprintf(cmd->pool, "%s needs a value", cmd->cmd->name);
    *out = asst_sig_key_create(cmd->pool, token);
    return NULL;
}

static const char *parse_signing_key_file(cmd_parms *cmd, const char *arg, const asst_sig_key_t **out)
{
    apr_pool_t *scratch;
    const char *token = NULL, *err;

    apr_pool_create(&scratch, cmd->temp_pool);
    err = read_secret_file(cmd, scratch, arg, &token);
    if (!err)
        err = parse_signing_key(cmd, token, out);
    if (token)
        OPENSSL_cleanse((char *)token, strlen(token));
    apr_pool_destroy(scratch);
    return err;
}

static const char *parse_positive(cmd_parms *cmd, const char *arg, long *out)
{
    const char *err = asst_conf_parse_long(arg, 1, out);

    return err ? apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, arg, err) : NULL;
}

static const char *parse_rate(cmd_parms *cmd, const char *arg, asst_rate_t *rate)
{
    char *end, *end2;
    long n = strtol(arg, &end, 10), w;

    if (strcmp(arg, "0") == 0) {
        rate->n = 0;
        rate->window = 0;
        return NULL;
    }
    if (end == arg || *end != '/' || n <= 0)
        goto bad;
    w = strtol(end + 1, &end2, 10);
    if (end2 == end + 1 || *end2 || w <= 0)
        goto bad;
    rate->n = n;
    rate->window = w;
    return NULL;
bad:
    return apr_psprintf(cmd->pool, "%s: '%s' is not n/seconds (both positive) or 0",
                        cmd->cmd->name, arg);
}

static const char *parse_url(cmd_parms *cmd, const char *arg)
{
    const char *err = asst_conf_check_url(arg);

    return err ? apr_psprintf(cmd->pool, "%s: '%s' %s", cmd->cmd->name, arg, err) : NULL;
}

static const char *parse_account_sid(cmd_parms *cmd, const char *arg)
{
    if (strncmp(arg, "AC", 2) != 0 || strlen(arg) != 34 ||
        strspn(arg + 2, "0123456789abcdefABCDEF") != 32)
        return apr_psprintf(cmd->pool, "%s: '%s' is not an account SID (AC + 32 hex digits)",
                            cmd->cmd->name, arg);
    return NULL;
}

static const char *parse_dirpath(cmd_parms *cmd, const char *arg, const char **out)
{
    const char *path = ap_server_root_relative(cmd->pool, arg);
    apr_finfo_t fi;

    if (!path || apr_stat(&fi, path, APR_FINFO_TYPE, cmd->temp_pool) != APR_SUCCESS ||
        fi.filetype != APR_DIR)
        return apr_psprintf(cmd->pool, "%s: %s is not a directory", cmd->cmd->name, arg);
    *out = path;
    return NULL;
}

static const char *parse_redis_addr(cmd_parms *cmd, const char *arg)
{
    asst_redis_conf_t rc;
    const char *err;

    if (asst_redis_parse_addr(cmd->temp_pool, arg, &rc, &err) != 0)
        return apr_psprintf(cmd->pool, "%s: '%s': %s", cmd->cmd->name, arg, err);
    return NULL;
}

static const char *parse_nonempty(cmd_parms *cmd, const char *arg)
{
    return *arg ? NULL : apr_psprintf(cmd->pool, "%s needs a value", cmd->cmd->name);
}

static const char *parse_string_kind(cmd_parms *cmd, kind_t kind, const char *arg, const char **out)
{
    const char *err;

    switch (kind) {
    case K_SECRET_FILE: return read_secret_file(cmd, cmd->pool, arg, out);
    case K_DIRPATH:     return parse_dirpath(cmd, arg, out);
    case K_URL:         err = parse_url(cmd, arg); break;
    case K_ACCOUNT_SID: err = parse_account_sid(cmd, arg); break;
    case K_REDIS_ADDR:  err = parse_redis_addr(cmd, arg); break;
    default:            err = parse_nonempty(cmd, arg); break;
    }
    if (!err)
        *out = apr_pstrdup(cmd->pool, arg);
    return err;
}

static const char *set_directive(cmd_parms *cmd, void *dconf, const char *arg)
{
    const field_t *f = cmd->info;
    char *base = f->server_scope
        ? ap_get_module_config(cmd->server->module_config, &assistant_module) : dconf;
    void *slot = base + f->offset;
    const char *err;

    if (f->server_scope && (err = ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT)) != NULL)
        return err;
    switch (f->kind) {
    case K_SECONDS:
    case K_MILLIS:
    case K_BYTES:
        return parse_positive(cmd, arg, slot);
    case K_RATE:
        return parse_rate(cmd, arg, slot);
    case K_SIGNING_KEY:
        return parse_signing_key(cmd, arg, slot);
    case K_SIGNING_KEY_FILE:
        return parse_signing_key_file(cmd, arg, slot);
    default:
        return parse_string_kind(cmd, f->kind, arg, slot);
    }
}

static int in_location_section(const cmd_parms *cmd)
{
    const ap_directive_t *parent = cmd->directive ? cmd->directive->parent : NULL;

    return parent && strncasecmp(parent->directive, "<Location", 9) == 0;
}

/* SetHandler belongs to core; we look at it on the way past (DECLINE_CMD
 * hands it on) so configtest knows which sections are our webhooks, and so
 * a request can skip the filesystem walk when a <Location> (which no
 * <Directory> can override) gives it to one of our handlers. */
static const char *note_sethandler(cmd_parms *cmd, void *dconf, const char *arg)
{
    asst_dir_conf_t *d = dconf;
    const char *word = ap_getword_conf(cmd->temp_pool, &arg);

    if (!strcasecmp(word, ASST_HANDLER_SMS) || !strcasecmp(word, ASST_HANDLER_STATUS))
        d->handler = apr_pstrdup(cmd->pool, word);
    d->location_handler = in_location_section(cmd) ? apr_pstrdup(cmd->pool, word) : "";
    if (asst_conf_serves_no_file(d)) {
        asst_server_conf_t *sc = ap_get_module_config(cmd->server->module_config, &assistant_module);
        sc->webhook_locations = 1;
    }
    return DECLINE_CMD;
}

#define CMD_ROW(name, scope, kind, field, syntax, dflt, help) \
    AP_INIT_TAKE1(#name, set_directive, (void *)&f_##name, CONTEXT_##scope, syntax " - " help),
const command_rec asst_cmds[] = {
    ASST_DIRECTIVES(CMD_ROW)
    AP_INIT_RAW_ARGS("SetHandler", note_sethandler, NULL, OR_FILEINFO,
                     "noted by mod_assistant, then handled by core"),
    { NULL }
};

/* ---- create and merge, by kind ---- */

static void set_unset(char *conf, int server_scope)
{
    for (int i = 0; i < NFIELDS; i++) {
        if (fields[i]->server_scope != server_scope)
            continue;
        if (fields[i]->kind == K_SECONDS || fields[i]->kind == K_MILLIS || fields[i]->kind == K_BYTES)
            *(long *)(conf + fields[i]->offset) = ASST_UNSET;
        else if (fields[i]->kind == K_RATE)
            ((asst_rate_t *)(conf + fields[i]->offset))->n = ASST_UNSET;
    }
}

static void merge_fields(char *out, const char *base, const char *add, int server_scope)
{
    for (int i = 0; i < NFIELDS; i++) {
        apr_size_t off = fields[i]->offset;
        if (fields[i]->server_scope != server_scope)
            continue;
        switch (fields[i]->kind) {
        case K_SECONDS: case K_MILLIS: case K_BYTES:
            *(long *)(out + off) = *(const long *)(add + off) != ASST_UNSET
                ? *(const long *)(add + off) : *(const long *)(base + off);
            break;
        case K_RATE:
            *(asst_rate_t *)(out + off) = ((const asst_rate_t *)(add + off))->n != ASST_UNSET
                ? *(const asst_rate_t *)(add + off) : *(const asst_rate_t *)(base + off);
            break;
        default:
            *(const char **)(out + off) = *(const char *const *)(add + off)
                ? *(const char *const *)(add + off) : *(const char *const *)(base + off);
        }
    }
}

void *asst_create_server_conf(apr_pool_t *p, server_rec *s)
{
    asst_server_conf_t *c = apr_pcalloc(p, sizeof(*c));
    set_unset((char *)c, SCOPE_SERVER);
    return c;
}

void *asst_merge_server_conf(apr_pool_t *p, void *base, void *add)
{
    asst_server_conf_t *c = apr_pcalloc(p, sizeof(*c));
    merge_fields((char *)c, base, add, SCOPE_SERVER);
    c->webhook_locations = ((asst_server_conf_t *)base)->webhook_locations ||
                           ((asst_server_conf_t *)add)->webhook_locations;
    return c;
}

void *asst_create_dir_conf(apr_pool_t *p, char *dir)
{
    asst_dir_conf_t *c = apr_pcalloc(p, sizeof(*c));
    c->path = dir;
    set_unset((char *)c, SCOPE_DIR);
    return c;
}

void *asst_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    asst_dir_conf_t *c = apr_pcalloc(p, sizeof(*c)), *add = addv, *base = basev;
    merge_fields((char *)c, basev, addv, SCOPE_DIR);
    c->path = add->path ? add->path : base->path;
    c->handler = add->handler ? add->handler : base->handler;
    c->location_handler = add->location_handler ? add->location_handler : base->location_handler;
    return c;
}

/* ---- values with defaults ---- */

long asst_conf_long(long v, long dflt)
{
    return v == ASST_UNSET ? dflt : v;
}

const char *asst_conf_stream(const asst_dir_conf_t *d, int is_status)
{
    return d->stream ? d->stream : is_status ? ASST_STREAM_STATUS : ASST_STREAM_SMS;
}

const char *asst_conf_webhook_problem(const asst_dir_conf_t *d)
{
    if (!d->token)
        return "no AssistantTwilioAuthToken or AssistantTwilioAuthTokenFile";
    if (!d->public_url)
        return "no AssistantPublicURL (the URL Twilio signs)";
    return NULL;
}

int asst_conf_serves_no_file(const asst_dir_conf_t *d)
{
    const char *h = d->location_handler;

    return h && (!strcasecmp(h, ASST_HANDLER_SMS) || !strcasecmp(h, ASST_HANDLER_STATUS) ||
                 !strcasecmp(h, ASST_HANDLER_METRICS));
}

/* ---- configtest ---- */

static int is_prefix_section(const asst_dir_conf_t *outer, const asst_dir_conf_t *inner)
{
    return outer->path && inner->path && strncmp(inner->path, outer->path, strlen(outer->path)) == 0;
}

/* The section's effective config: server defaults, then each earlier
 * <Location> whose path contains it, then the section itself. */
static asst_dir_conf_t *effective(apr_pool_t *p, server_rec *s, apr_array_header_t *secs, int idx)
{
    ap_conf_vector_t **v = (ap_conf_vector_t **)secs->elts;
    asst_dir_conf_t *self = ap_get_module_config(v[idx], &assistant_module);
    asst_dir_conf_t *eff = ap_get_module_config(s->lookup_defaults, &assistant_module);

    for (int i = 0; i <= idx; i++) {
        asst_dir_conf_t *sec = ap_get_module_config(v[i], &assistant_module);
        if (sec && (i == idx || is_prefix_section(sec, self)))
            eff = asst_merge_dir_conf(p, eff, sec);
    }
    return eff;
}

static int check_sections(apr_pool_t *p, server_rec *s, apr_array_header_t *secs)
{
    int rc = OK;

    for (int i = 0; secs && i < secs->nelts; i++) {
        asst_dir_conf_t *self = ap_get_module_config(((ap_conf_vector_t **)secs->elts)[i],
                                                     &assistant_module);
        const char *problem;
        if (!self || !self->handler)
            continue;
        if ((problem = asst_conf_webhook_problem(effective(p, s, secs, i))) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, s,
                         "ASST00201: section %s uses SetHandler %s but has %s",
                         self->path ? self->path : "(server)", self->handler, problem);
            rc = !OK;
        }
    }
    return rc;
}

int asst_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s)
{
    int rc = OK;

    for (; s; s = s->next) {
        core_server_config *core = ap_get_core_module_config(s->module_config);
        if (check_sections(ptemp, s, core->sec_url) != OK)
            rc = !OK;
        if (check_sections(ptemp, s, core->sec_dir) != OK)
            rc = !OK;
    }
    return rc;
}

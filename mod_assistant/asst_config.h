#ifndef ASST_CONFIG_H
#define ASST_CONFIG_H

#include "mod_assistant.h"

extern const command_rec asst_cmds[];

void *asst_create_server_conf(apr_pool_t *p, server_rec *s);
void *asst_merge_server_conf(apr_pool_t *p, void *base, void *add);
void *asst_create_dir_conf(apr_pool_t *p, char *dir);
void *asst_merge_dir_conf(apr_pool_t *p, void *base, void *add);

/* Fails `apachectl configtest` for a section that sets one of our webhook
 * handlers but lacks what it needs to check signatures. */
int asst_check_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s);

/* Values with their defaults applied. */
const char *asst_conf_stream(const asst_dir_conf_t *d, int is_status);
long asst_conf_long(long v, long dflt);

/* Why a webhook section cannot work, or NULL when it can. */
const char *asst_conf_webhook_problem(const asst_dir_conf_t *d);

/* 1 when a <Location> hands the request to one of our handlers, which read
 * no file: the request can skip core's filesystem walk. */
int asst_conf_serves_no_file(const asst_dir_conf_t *d);

#endif

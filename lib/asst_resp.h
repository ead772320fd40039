#ifndef ASST_RESP_H
#define ASST_RESP_H

#include <apr_pools.h>

/* The Redis protocol (RESP2) for the webhook's hot path, without malloc:
 * commands are formatted into an APR pool and replies parsed into a fixed
 * struct. hiredis mallocs for every command and reply and reads into a
 * 16 KiB stack buffer; in httpd's ~25 threads per child that grew each
 * child by hundreds of KiB. Only the reply types a script returns are
 * understood: status, error, integer and bulk string (and nil). */

#define ASST_RESP_TEXT_MAX 128

typedef enum {
    ASST_RESP_STATUS = 1,    /* +OK */
    ASST_RESP_ERROR,         /* -ERR ... */
    ASST_RESP_INTEGER,       /* :42 */
    ASST_RESP_STRING,        /* $5 hello */
    ASST_RESP_NIL            /* $-1 */
} asst_resp_type_t;

typedef struct {
    asst_resp_type_t type;
    long long integer;
    /* status, error or bulk text, NUL-terminated, cut to fit: len is the
     * full length, so len >= sizeof(str) means it was cut. */
    char str[ASST_RESP_TEXT_MAX];
    apr_size_t len;
} asst_resp_reply_t;

/* A command as one RESP array of bulk strings, in one allocation from p
 * of exactly *out_len bytes plus a NUL that *out_len does not count.
 * argc >= 0. With lens, argument i is lens[i] bytes of anything (NUL and
 * CRLF included); lens may be NULL (all arguments are NUL-terminated). */
char *asst_resp_command(apr_pool_t *p, int argc, const char *const *argv,
                        const apr_size_t *lens, apr_size_t *out_len);

/* Parses the reply at the start of buf, never reading past len. Returns
 * the bytes it took (> 0), 0 when buf holds only part of a reply (read
 * more), or -1 when buf is not a reply this parser understands (the
 * connection is out of step: drop it). That includes arrays and RESP3
 * types, integers outside 64 bits, and bulk or text lengths over 512 MiB
 * (Redis's proto-max-bulk-len). out is written only when it returns > 0;
 * an integer or nil then has str "" and len 0, text replies integer 0. */
long asst_resp_parse(const char *buf, apr_size_t len, asst_resp_reply_t *out);

#endif

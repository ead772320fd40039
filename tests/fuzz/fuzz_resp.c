/* RESP2. asst_resp_parse on the input: -1, 0 or the bytes of one reply,
 * the reply as the header promises, out untouched unless it succeeds,
 * and every shorter prefix of a reply incomplete (0). asst_resp_command
 * of the input's 0xff-separated fields: exactly "*argc" then one bulk
 * string per argument, read back with asst_resp_parse. */
#include <errno.h>

#include "asst_resp.h"
#include "fuzz.h"

/* buf[0..len) in a heap block of exactly len bytes, so ASan sees any read past it. */
static long parse_exact(const char *buf, size_t len, asst_resp_reply_t *out)
{
    char *copy = malloc(len ? len : 1);
    long n;

    REQUIRE(copy != NULL);
    if (len)
        memcpy(copy, buf, len);
    n = asst_resp_parse(copy, len, out);
    free(copy);
    return n;
}

static void check_text(const asst_resp_reply_t *r, const char *text, size_t len)
{
    size_t kept = len < ASST_RESP_TEXT_MAX - 1 ? len : ASST_RESP_TEXT_MAX - 1;

    REQUIRE(r->len == len && r->integer == 0);
    REQUIRE(r->str[kept] == '\0' && memcmp(r->str, text, kept) == 0);
}

static void check_reply(const char *buf, size_t size)
{
    asst_resp_reply_t r, untouched, again;
    long n;

    memset(&r, 0x5a, sizeof(r));
    untouched = r;
    n = parse_exact(buf, size, &r);
    REQUIRE(n >= -1 && n <= (long)size);
    if (n <= 0) {
        REQUIRE(memcmp(&r, &untouched, sizeof(r)) == 0);
        return;
    }
    switch (r.type) {
    case ASST_RESP_STATUS:
    case ASST_RESP_ERROR:
        REQUIRE(buf[0] == (r.type == ASST_RESP_STATUS ? '+' : '-'));
        check_text(&r, buf + 1, (size_t)n - 3);
        break;
    case ASST_RESP_STRING: {
        const char *body = (const char *)memchr(buf, '\n', (size_t)n) + 1;
        REQUIRE(buf[0] == '$' && strtoll(buf + 1, NULL, 10) == (long long)((buf + n - 2) - body));
        check_text(&r, body, (size_t)((buf + n - 2) - body));
        break;
    }
    case ASST_RESP_INTEGER:
        errno = 0;
        REQUIRE(buf[0] == ':' && strtoll(buf + 1, NULL, 10) == r.integer && errno == 0);
        REQUIRE(r.str[0] == '\0' && r.len == 0);
        break;
    case ASST_RESP_NIL:
        REQUIRE(buf[0] == '$' && r.str[0] == '\0' && r.len == 0 && r.integer == 0);
        break;
    default:
        REQUIRE(!"a reply type asst_resp.h does not list");
    }
    REQUIRE(buf[n - 2] == '\r' && buf[n - 1] == '\n');
    again = untouched;
    REQUIRE(parse_exact(buf, (size_t)n, &again) == n && memcmp(&again, &r, sizeof(r)) == 0);
    for (size_t k = 0; k < (size_t)n; k += 1 + (size_t)n / 64)
        REQUIRE(parse_exact(buf, k, &again) == 0);
    REQUIRE(parse_exact(buf, (size_t)n - 1, &again) == 0);
}

static void check_command(apr_pool_t *p, const uint8_t *data, size_t size)
{
    fuzz_input_t in = { data, size };
    int argc = size > 0;
    const char **argv = apr_palloc(p, sizeof(char *) * (size + 1));
    apr_size_t *lens = apr_palloc(p, sizeof(apr_size_t) * (size + 1)), out_len, c_len, at;
    char head[32], *out, *c_out;

    for (size_t i = 0; i < size; i++)
        argc += data[i] == 0xff;
    for (int i = 0; i < argc; i++)
        argv[i] = fuzz_field(p, &in, 0xff, &lens[i]);
    out = asst_resp_command(p, argc, argv, lens, &out_len);
    at = (apr_size_t)snprintf(head, sizeof(head), "*%d\r\n", argc);
    REQUIRE(out_len >= at && memcmp(out, head, at) == 0 && out[out_len] == '\0');
    for (int i = 0; i < argc; i++) {
        asst_resp_reply_t r;
        apr_size_t header = (apr_size_t)snprintf(head, sizeof(head), "$%zu\r\n", (size_t)lens[i]);
        long n = asst_resp_parse(out + at, out_len - at, &r);
        REQUIRE(n == (long)(header + lens[i] + 2) && r.type == ASST_RESP_STRING && r.len == lens[i]);
        REQUIRE(memcmp(out + at, head, header) == 0 && memcmp(out + at + header, argv[i], lens[i]) == 0);
        at += (apr_size_t)n;
    }
    REQUIRE(at == out_len);

    for (int i = 0; i < argc; i++)        /* the same, as C strings */
        lens[i] = strlen(argv[i]);
    out = asst_resp_command(p, argc, argv, lens, &out_len);
    c_out = asst_resp_command(p, argc, argv, NULL, &c_len);
    REQUIRE(c_len == out_len && memcmp(c_out, out, out_len + 1) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();

    check_reply((const char *)data, size);
    check_command(p, data, size);
    fuzz_pool_end(p);
    return 0;
}

/* asst_sms_split at Twilio's 1600 and at a small limit from the first
 * byte. The contract (asst_sms.h, tests/unit/test_sms_split.c): a body
 * within the limit is one part, as is. Otherwise the parts are the body in
 * order with only whitespace dropped, at the splits and at either end;
 * each is non-empty, within the limit, without whitespace at its ends; a
 * part cut inside a word holds no whitespace and exactly limit code
 * points; no cut falls inside a UTF-8 sequence. */
#include "asst_form.h"
#include "asst_sms.h"
#include "fuzz.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_continuation(char c)
{
    return ((unsigned char)c & 0xC0) == 0x80;
}

static size_t code_points(const char *s, size_t len)
{
    size_t n = 0;

    for (size_t i = 0; i < len; i++)
        n += !is_continuation(s[i]);
    return n;
}

static int has_space(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (is_space(s[i]))
            return 1;
    return 0;
}

static void check_split(apr_pool_t *p, const char *body, size_t limit)
{
    apr_array_header_t *parts = asst_sms_split(p, body, limit);
    size_t len = strlen(body), at = 0, max = limit ? limit : 1;
    int utf8 = asst_utf8_valid(body, len);

    REQUIRE(code_points(body, len) == asst_utf8_chars(body, len));
    if (code_points(body, len) <= max) {
        REQUIRE(parts->nelts == 1 && strcmp(APR_ARRAY_IDX(parts, 0, const char *), body) == 0);
        return;
    }
    for (int i = 0; i < parts->nelts; i++) {
        const char *part = APR_ARRAY_IDX(parts, i, const char *);
        size_t n = strlen(part);
        REQUIRE(n > 0 && code_points(part, n) <= max);
        REQUIRE(!is_space(part[0]) && !is_space(part[n - 1]));
        while (at < len && is_space(body[at]))
            at++;
        REQUIRE(n <= len - at && memcmp(body + at, part, n) == 0);
        at += n;
        REQUIRE(at == len || !is_continuation(body[at]));
        if (at < len && !is_space(body[at]))          /* cut inside a word */
            REQUIRE(!has_space(part, n) && code_points(part, n) == max);
        REQUIRE(!utf8 || asst_utf8_valid(part, n));
    }
    while (at < len && is_space(body[at]))
        at++;
    REQUIRE(at == len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    fuzz_input_t in = { data, size };
    const char *body = fuzz_field(p, &in, '\0', NULL);

    check_split(p, body, ASST_SMS_MAX_CHARS);
    if (*body)
        check_split(p, body + 1, (unsigned char)body[0] % 64);
    fuzz_pool_end(p);
    return 0;
}

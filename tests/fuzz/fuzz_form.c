/* asst_form_parse_inplace against an independent reading of the form:
 * it accepts exactly the bodies whose every field decodes to UTF-8 without
 * a NUL, yields those fields in order, and asst_form_get finds the first. */
#include "asst_form.h"
#include "fuzz.h"

static int hex_digit(int c)
{
    return c >= '0' && c <= '9' ? c - '0'
         : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* s[0..n) with '+' as space and %XX as a byte, into out: its length, or -1
 * for a malformed escape or a NUL. */
static long reference_decode(const char *s, size_t n, char *out)
{
    long len = 0;

    for (size_t i = 0; i < n; i++) {
        int byte = (unsigned char)s[i];
        if (byte == '+')
            byte = ' ';
        else if (byte == '%') {
            if (i + 2 >= n || hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0)
                return -1;
            byte = hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]);
            i += 2;
        }
        if (byte == 0)
            return -1;
        out[len++] = (char)byte;
    }
    return len;
}

/* Unicode's table 3-7 of well-formed UTF-8 byte sequences. */
static int reference_utf8(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;

    for (size_t i = 0; i < n;) {
        unsigned char c = s[i], lo = 0x80, hi = 0xBF;
        size_t len = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        if (len == 0 || n - i < len)
            return 0;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
        if (len > 1 && (s[i + 1] < lo || s[i + 1] > hi))
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += len;
    }
    return 1;
}

static int same(const char *got, const char *want, long want_len)
{
    return got && strlen(got) == (size_t)want_len && memcmp(got, want, (size_t)want_len) == 0;
}

/* The pair [pair, stop) decoded into name and value: 0 when it must be refused. */
static int reference_pair(const char *pair, const char *stop, char *name, long *name_len,
                          char *value, long *value_len)
{
    const char *eq = memchr(pair, '=', (size_t)(stop - pair));

    *name_len = reference_decode(pair, (size_t)((eq ? eq : stop) - pair), name);
    *value_len = eq ? reference_decode(eq + 1, (size_t)(stop - eq - 1), value) : 0;
    return *name_len >= 0 && *value_len >= 0 && reference_utf8(name, (size_t)*name_len)
        && reference_utf8(value, (size_t)*value_len);
}

/* Whether body[0..size) is to be accepted; if so and params is not NULL
 * (the parser accepted it), params must hold its fields in order. */
static int reference_parse(apr_pool_t *p, const char *body, size_t size,
                           const apr_array_header_t *params)
{
    char *name = apr_palloc(p, size + 1), *value = apr_palloc(p, size + 1);
    const char *end = body + size;
    int n = 0;

    for (const char *pair = body; pair < end;) {
        const char *amp = memchr(pair, '&', (size_t)(end - pair)), *stop = amp ? amp : end;
        long name_len, value_len;
        if (stop > pair) {
            if (!reference_pair(pair, stop, name, &name_len, value, &value_len))
                return 0;
            if (params) {
                REQUIRE(n < params->nelts);
                REQUIRE(same(APR_ARRAY_IDX(params, n, asst_param_t).name, name, name_len));
                REQUIRE(same(APR_ARRAY_IDX(params, n, asst_param_t).value, value, value_len));
            }
            n++;
        }
        pair = stop + 1;
    }
    REQUIRE(!params || n == params->nelts);
    return 1;
}

/* Every field UTF-8, the same from the copying parser, and found by
 * asst_form_get as the first of its name. */
static void check_fields(const apr_array_header_t *params, const apr_array_header_t *copied)
{
    REQUIRE(params->nelts == copied->nelts);
    for (int i = 0; i < params->nelts; i++) {
        const asst_param_t *prm = &APR_ARRAY_IDX(params, i, asst_param_t);
        const asst_param_t *copy = &APR_ARRAY_IDX(copied, i, asst_param_t);
        int first = 0;
        while (strcmp(APR_ARRAY_IDX(params, first, asst_param_t).name, prm->name) != 0)
            first++;
        REQUIRE(asst_utf8_valid(prm->name, strlen(prm->name)));
        REQUIRE(asst_utf8_valid(prm->value, strlen(prm->value)));
        REQUIRE(strcmp(prm->name, copy->name) == 0 && strcmp(prm->value, copy->value) == 0);
        REQUIRE(asst_form_get(params, prm->name) == APR_ARRAY_IDX(params, first, asst_param_t).value);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p = fuzz_pool_begin();
    const char *body = (const char *)data;
    char *inplace = apr_palloc(p, size + 1);
    apr_array_header_t *params, *copied;
    asst_form_status_t st;

    REQUIRE(asst_utf8_valid(body, size) == reference_utf8(body, size));
    memcpy(inplace, data, size);
    inplace[size] = '\0';
    st = asst_form_parse_inplace(p, inplace, size, &params);
    REQUIRE(st == asst_form_parse(p, body, size, &copied));
    REQUIRE(reference_parse(p, body, size, st == ASST_FORM_OK ? params : NULL) == (st == ASST_FORM_OK));
    if (st == ASST_FORM_OK)
        check_fields(params, copied);
    fuzz_pool_end(p);
    return 0;
}

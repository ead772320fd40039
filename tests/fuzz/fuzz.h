#ifndef ASST_FUZZ_H
#define ASST_FUZZ_H

/* Shared by the libFuzzer targets in tests/fuzz (one per file; built and
 * run by tests/fuzz/run). Each input gets a pool of its own, destroyed at
 * the end, so the leak check after every input means something. */

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <apr_general.h>
#include <apr_pools.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A broken invariant: abort() so that libFuzzer keeps the input. */
#define REQUIRE(cond)                                                              \
    do {                                                                           \
        if (!(cond)) {                                                             \
            fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                               \
        }                                                                          \
    } while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    apr_initialize();
    atexit(apr_terminate);
    return 0;
}

/* ASan cannot see inside a pool's 8 KiB blocks, so while an input runs
 * every apr_palloc from its pool (apr_pstrdup, apr_array_push, ... call it
 * through libapr's PLT) is a malloc of its own, freed after the pool. */
static apr_pool_t *fuzz_guarded;
static void **fuzz_allocs;
static size_t fuzz_nallocs, fuzz_cap;

void *apr_palloc(apr_pool_t *p, apr_size_t size)
{
    static void *(*real_palloc)(apr_pool_t *, apr_size_t);
    void *mem;

    if (!real_palloc)
        *(void **)&real_palloc = dlsym(RTLD_NEXT, "apr_palloc");
    if (p != fuzz_guarded)
        return real_palloc(p, size);
    if (fuzz_nallocs == fuzz_cap) {
        fuzz_cap = fuzz_cap ? 2 * fuzz_cap : 256;
        REQUIRE((fuzz_allocs = realloc(fuzz_allocs, fuzz_cap * sizeof(void *))) != NULL);
    }
    REQUIRE((mem = malloc(size ? size : 1)) != NULL);
    return fuzz_allocs[fuzz_nallocs++] = mem;
}

static inline apr_pool_t *fuzz_pool_begin(void)
{
    apr_pool_t *p;

    REQUIRE(apr_pool_create(&p, NULL) == APR_SUCCESS);
    return fuzz_guarded = p;
}

static inline void fuzz_pool_end(apr_pool_t *p)
{
    apr_pool_destroy(p);     /* cleanups may still touch what was allocated */
    fuzz_guarded = NULL;
    while (fuzz_nallocs > 0)
        free(fuzz_allocs[--fuzz_nallocs]);
    free(fuzz_allocs);
    fuzz_allocs = NULL;
    fuzz_cap = 0;
}

/* An input read field by field: fuzz_field takes the bytes up to the next
 * sep (or the end) as a NUL-terminated copy of exactly *len + 1 bytes; a
 * NUL inside ends the C string early. */
typedef struct {
    const uint8_t *at;
    size_t left;
} fuzz_input_t;

static inline char *fuzz_field(apr_pool_t *p, fuzz_input_t *in, uint8_t sep, size_t *len)
{
    const uint8_t *end = memchr(in->at, sep, in->left);
    size_t n = end ? (size_t)(end - in->at) : in->left;
    char *s = apr_palloc(p, n + 1);

    if (n)
        memcpy(s, in->at, n);
    s[n] = '\0';
    in->at += n + (end != NULL);
    in->left -= n + (end != NULL);
    if (len)
        *len = n;
    return s;
}

/* 1 when s[0..len) is UTF-8 as RFC 3629 has it: no overlong forms, no
 * surrogates, nothing past U+10FFFF, no sequence cut short. */
static inline int fuzz_utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = u[i];
        size_t n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
                 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
        unsigned char lo = 0x80, hi = 0xBF;

        if (n == 0 || n > len - i)
            return 0;
        if (c == 0xE0)
            lo = 0xA0;          /* overlong */
        else if (c == 0xED)
            hi = 0x9F;          /* surrogates */
        else if (c == 0xF0)
            lo = 0x90;          /* overlong */
        else if (c == 0xF4)
            hi = 0x8F;          /* past U+10FFFF */
        for (size_t k = 1; k < n; k++, lo = 0x80, hi = 0xBF)
            if (u[i + k] < lo || u[i + k] > hi)
                return 0;
        i += n;
    }
    return 1;
}

#endif

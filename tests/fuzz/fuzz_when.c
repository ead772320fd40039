/* The time phrases of reminders/when.h on any text, in zones of both
 * hemispheres, at any moment: the first byte picks the zone, the next
 * four a now (seconds into 2020..2079), the rest up to a NUL is the
 * phrase. The contract: what asst_when_resolve resolves is a phrase
 * (asst_when_is_phrase), a local date-time asst_when_local reads back
 * the same, with an RRULE asst_when_rrule_check accepts, and a first
 * time that asst_when_next finds after now (less the hour the autumn
 * fold can take from "in 20 minutes"); what it refuses comes with a
 * sentence. Describing the time and the repeat never fails. */
#include "fuzz.h"
#include "reminders/when.h"

#define EPOCH_2020 1577836800LL
#define SPAN (60LL * 365 * 24 * 3600)

static const char *const zones[] = {
    "UTC", "America/New_York", "Europe/London", "Australia/Sydney",
    "Asia/Kolkata", "Pacific/Chatham", "America/Sao_Paulo", "Europe/Berlin",
};

static void check_resolved(apr_pool_t *p, const char *phrase, const asst_when_spec_t *spec,
                           apr_time_t now, const char *zone)
{
    asst_when_spec_t back;
    apr_time_t next;
    const char *err = NULL, *words;

    REQUIRE(asst_when_is_phrase(phrase, strlen(phrase)));
    REQUIRE(asst_when_local(spec->local, &back, &err) == 0);
    REQUIRE(strcmp(back.local, spec->local) == 0);
    if (spec->rrule) {
        REQUIRE(asst_when_rrule_check(p, spec->rrule, &err) != NULL);
        words = asst_when_describe_rrule(p, spec->rrule);
        REQUIRE(words && *words);
    }
    REQUIRE(asst_when_next(spec->local, spec->rrule, zone, now - apr_time_from_sec(3600), &next,
                           &err) == 0);
    words = asst_when_describe(p, next, now, zone);
    REQUIRE(words && strstr(words, zone));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    fuzz_input_t in;
    const char *zone, *phrase, *err = NULL;
    asst_when_spec_t spec;
    apr_time_t now;
    uint32_t seconds;

    if (size < 5)
        return 0;
    p = fuzz_pool_begin();
    zone = zones[data[0] & 7];
    seconds = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    now = apr_time_from_sec(EPOCH_2020 + (long long)seconds % SPAN);
    in = (fuzz_input_t){ data + 5, size - 5 };
    phrase = fuzz_field(p, &in, '\0', NULL);

    if (asst_when_resolve(p, phrase, now, zone, &spec, &err) == 0)
        check_resolved(p, phrase, &spec, now, zone);
    else
        REQUIRE(err && *err);
    fuzz_pool_end(p);
    return 0;
}

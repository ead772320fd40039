#include "asst_backoff.h"

apr_int64_t asst_backoff_double(apr_int64_t prev, apr_int64_t first, apr_int64_t cap)
{
    if (prev <= 0)
        return first < cap ? first : cap;
    return prev >= cap / 2 ? cap : prev * 2;
}

apr_int64_t asst_backoff_nth(apr_int64_t first, apr_int64_t cap, unsigned n)
{
    apr_int64_t delay = asst_backoff_double(0, first, cap);

    while (n-- > 1 && delay < cap)
        delay = asst_backoff_double(delay, first, cap);
    return delay;
}

#ifndef ASST_SMS_H
#define ASST_SMS_H

#include <apr_pools.h>
#include <apr_tables.h>

/* Twilio refuses a message body over 1600 characters. */
#define ASST_SMS_MAX_CHARS 1600

/* Number of Unicode code points in s[0..len) (UTF-8; a stray continuation
 * byte counts as part of the character before it). */
apr_size_t asst_utf8_chars(const char *s, apr_size_t len);

/* Splits body into ordered parts of at most limit code points each, for
 * sending as separate messages. A body within the limit is one part, as is.
 * Otherwise parts end at word boundaries (ASCII whitespace), whitespace at
 * each split and at either end of the body is dropped, and a word longer than limit is cut at a code
 * point boundary; a UTF-8 sequence is never split. Returns an array of
 * const char * allocated in p; limit 0 is treated as 1. */
apr_array_header_t *asst_sms_split(apr_pool_t *p, const char *body, apr_size_t limit);

#endif

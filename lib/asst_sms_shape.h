#ifndef ASST_SMS_SHAPE_H
#define ASST_SMS_SHAPE_H

#include <apr_pools.h>

/* What a reply costs and looks like on a phone. A model writes markdown
 * and typography; an SMS shows neither, and one curly apostrophe turns a
 * 160-character GSM-7 segment into a 70-character UCS-2 one. */

/* text as plain SMS text: markdown emphasis, code marks and heading marks
 * removed, [label](url) as "label (url)", bullets as "- ", and typographic
 * quotes, dashes, ellipses and non-breaking spaces folded to their GSM-7
 * forms. Emoji and non-Latin text stay as they are. */
const char *asst_sms_plain(apr_pool_t *p, const char *text);

/* Segments text costs as one SMS: GSM-7 (the basic set, the extension set
 * counting 2) at 160 in one segment and 153 per part, else UCS-2 at 70 and
 * 67 (UTF-16 units: an emoji counts 2). 0 for an empty text. */
int asst_sms_segments(const char *text);

#endif

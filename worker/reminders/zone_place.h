#ifndef ASST_ZONE_PLACE_H
#define ASST_ZONE_PLACE_H

#include <stddef.h>

/* What people say when asked their time zone, as an IANA zone: a city
 * ("London", "new york", "NYC", "Sao Paulo") or a region's word for its
 * time ("Pacific", "Eastern", "PST"). Pure: a table (zone_place.c), no
 * zone database. ASCII case, and spaces, hyphens, underscores and dots
 * between words, are forgiven ("New-York", "new_york", "st. louis").
 * A place missing here still works where PostgreSQL is asked: the
 * settings tool matches a name's last part ("Kathmandu": Asia/Kathmandu). */

/* The zone of the place s[0..n) is exactly, or NULL. */
const char *asst_zone_of_place(const char *s, size_t n);

/* The longest place s starts with, ending at the end of a word (at most
 * ASST_ZONE_PLACE_MAX_WORDS words): its length in bytes, and its zone in
 * *zone; 0 when s starts with none. */
#define ASST_ZONE_PLACE_MAX_WORDS 4
size_t asst_zone_place_prefix(const char *s, const char **zone);

#endif

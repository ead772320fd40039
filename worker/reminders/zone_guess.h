#ifndef ASST_ZONE_GUESS_H
#define ASST_ZONE_GUESS_H

/* A first guess at a person's IANA time zone from their E.164 number's
 * country calling code, for the question a first time-dependent request
 * asks ("Are you in Europe/Berlin?"). Only a guess: countries that span
 * zones get their most populous one, and the person confirms or corrects
 * it. NULL when the code is not in the table. */
const char *asst_zone_guess(const char *e164);

#endif

/* Places people name for their time zone; a new one is one row. Keys are
 * lower case, words separated by one space (see normalise). Countries
 * only when they have one zone; a city only where its zone is not in
 * doubt ("portland" is Oregon's, the larger). */
#include <string.h>

#include "zone_place.h"

#define PLACE_MAX 40   /* bytes of the longest key, with room */

static const struct {
    const char *place;
    const char *zone;
} places[] = {
    /* North America: regions' own words for their time first */
    { "eastern", "America/New_York" },      { "est", "America/New_York" },
    { "edt", "America/New_York" },          { "central", "America/Chicago" },
    { "cst", "America/Chicago" },           { "cdt", "America/Chicago" },
    { "mountain", "America/Denver" },       { "mst", "America/Denver" },
    { "mdt", "America/Denver" },            { "pacific", "America/Los_Angeles" },
    { "pst", "America/Los_Angeles" },       { "pdt", "America/Los_Angeles" },
    { "alaska", "America/Anchorage" },      { "hawaii", "Pacific/Honolulu" },
    { "new york", "America/New_York" },     { "new york city", "America/New_York" },
    { "nyc", "America/New_York" },          { "boston", "America/New_York" },
    { "philadelphia", "America/New_York" }, { "washington", "America/New_York" },
    { "washington dc", "America/New_York" }, { "dc", "America/New_York" },
    { "atlanta", "America/New_York" },      { "miami", "America/New_York" },
    { "detroit", "America/Detroit" },       { "toronto", "America/Toronto" },
    { "montreal", "America/Toronto" },      { "ottawa", "America/Toronto" },
    { "chicago", "America/Chicago" },       { "dallas", "America/Chicago" },
    { "houston", "America/Chicago" },       { "austin", "America/Chicago" },
    { "minneapolis", "America/Chicago" },   { "st louis", "America/Chicago" },
    { "saint louis", "America/Chicago" },   { "new orleans", "America/Chicago" },
    { "nashville", "America/Chicago" },     { "winnipeg", "America/Winnipeg" },
    { "mexico city", "America/Mexico_City" }, { "denver", "America/Denver" },
    { "salt lake city", "America/Denver" }, { "calgary", "America/Edmonton" },
    { "edmonton", "America/Edmonton" },     { "phoenix", "America/Phoenix" },
    { "arizona", "America/Phoenix" },       { "los angeles", "America/Los_Angeles" },
    { "san francisco", "America/Los_Angeles" }, { "san diego", "America/Los_Angeles" },
    { "seattle", "America/Los_Angeles" },   { "portland", "America/Los_Angeles" },
    { "las vegas", "America/Los_Angeles" }, { "vancouver", "America/Vancouver" },
    { "anchorage", "America/Anchorage" },   { "honolulu", "Pacific/Honolulu" },
    /* South America */
    { "sao paulo", "America/Sao_Paulo" },   { "rio", "America/Sao_Paulo" },
    { "rio de janeiro", "America/Sao_Paulo" }, { "buenos aires", "America/Argentina/Buenos_Aires" },
    { "argentina", "America/Argentina/Buenos_Aires" }, { "santiago", "America/Santiago" },
    { "lima", "America/Lima" },             { "peru", "America/Lima" },
    { "bogota", "America/Bogota" },         { "colombia", "America/Bogota" },
    /* Europe */
    { "london", "Europe/London" },          { "manchester", "Europe/London" },
    { "birmingham", "Europe/London" },      { "edinburgh", "Europe/London" },
    { "glasgow", "Europe/London" },         { "uk", "Europe/London" },
    { "england", "Europe/London" },         { "scotland", "Europe/London" },
    { "wales", "Europe/London" },           { "bst", "Europe/London" },
    { "dublin", "Europe/Dublin" },          { "ireland", "Europe/Dublin" },
    { "lisbon", "Europe/Lisbon" },          { "portugal", "Europe/Lisbon" },
    { "paris", "Europe/Paris" },            { "france", "Europe/Paris" },
    { "berlin", "Europe/Berlin" },          { "munich", "Europe/Berlin" },
    { "hamburg", "Europe/Berlin" },         { "frankfurt", "Europe/Berlin" },
    { "cologne", "Europe/Berlin" },         { "germany", "Europe/Berlin" },
    { "madrid", "Europe/Madrid" },          { "barcelona", "Europe/Madrid" },
    { "spain", "Europe/Madrid" },           { "rome", "Europe/Rome" },
    { "milan", "Europe/Rome" },             { "italy", "Europe/Rome" },
    { "amsterdam", "Europe/Amsterdam" },    { "netherlands", "Europe/Amsterdam" },
    { "brussels", "Europe/Brussels" },      { "belgium", "Europe/Brussels" },
    { "zurich", "Europe/Zurich" },          { "geneva", "Europe/Zurich" },
    { "switzerland", "Europe/Zurich" },     { "vienna", "Europe/Vienna" },
    { "austria", "Europe/Vienna" },         { "stockholm", "Europe/Stockholm" },
    { "sweden", "Europe/Stockholm" },       { "oslo", "Europe/Oslo" },
    { "norway", "Europe/Oslo" },            { "copenhagen", "Europe/Copenhagen" },
    { "denmark", "Europe/Copenhagen" },     { "helsinki", "Europe/Helsinki" },
    { "finland", "Europe/Helsinki" },       { "warsaw", "Europe/Warsaw" },
    { "poland", "Europe/Warsaw" },          { "prague", "Europe/Prague" },
    { "budapest", "Europe/Budapest" },      { "bucharest", "Europe/Bucharest" },
    { "athens", "Europe/Athens" },          { "greece", "Europe/Athens" },
    { "istanbul", "Europe/Istanbul" },      { "turkey", "Europe/Istanbul" },
    { "kyiv", "Europe/Kyiv" },              { "kiev", "Europe/Kyiv" },
    { "moscow", "Europe/Moscow" },
    /* Africa, the Middle East, Asia, Oceania */
    { "cairo", "Africa/Cairo" },            { "egypt", "Africa/Cairo" },
    { "lagos", "Africa/Lagos" },            { "nigeria", "Africa/Lagos" },
    { "nairobi", "Africa/Nairobi" },        { "kenya", "Africa/Nairobi" },
    { "johannesburg", "Africa/Johannesburg" }, { "cape town", "Africa/Johannesburg" },
    { "south africa", "Africa/Johannesburg" }, { "tel aviv", "Asia/Jerusalem" },
    { "jerusalem", "Asia/Jerusalem" },      { "israel", "Asia/Jerusalem" },
    { "dubai", "Asia/Dubai" },              { "abu dhabi", "Asia/Dubai" },
    { "riyadh", "Asia/Riyadh" },            { "karachi", "Asia/Karachi" },
    { "pakistan", "Asia/Karachi" },         { "mumbai", "Asia/Kolkata" },
    { "delhi", "Asia/Kolkata" },            { "new delhi", "Asia/Kolkata" },
    { "bangalore", "Asia/Kolkata" },        { "bengaluru", "Asia/Kolkata" },
    { "chennai", "Asia/Kolkata" },          { "kolkata", "Asia/Kolkata" },
    { "india", "Asia/Kolkata" },
    { "dhaka", "Asia/Dhaka" },              { "bangkok", "Asia/Bangkok" },
    { "thailand", "Asia/Bangkok" },         { "singapore", "Asia/Singapore" },
    { "kuala lumpur", "Asia/Kuala_Lumpur" }, { "malaysia", "Asia/Kuala_Lumpur" },
    { "jakarta", "Asia/Jakarta" },          { "manila", "Asia/Manila" },
    { "philippines", "Asia/Manila" },       { "hong kong", "Asia/Hong_Kong" },
    { "shanghai", "Asia/Shanghai" },        { "beijing", "Asia/Shanghai" },
    { "china", "Asia/Shanghai" },           { "taipei", "Asia/Taipei" },
    { "taiwan", "Asia/Taipei" },            { "seoul", "Asia/Seoul" },
    { "korea", "Asia/Seoul" },              { "tokyo", "Asia/Tokyo" },
    { "japan", "Asia/Tokyo" },              { "osaka", "Asia/Tokyo" },
    { "sydney", "Australia/Sydney" },       { "melbourne", "Australia/Melbourne" },
    { "brisbane", "Australia/Brisbane" },   { "perth", "Australia/Perth" },
    { "adelaide", "Australia/Adelaide" },   { "auckland", "Pacific/Auckland" },
    { "wellington", "Pacific/Auckland" },   { "new zealand", "Pacific/Auckland" },
};

static int is_separator(char c)
{
    return c == ' ' || c == '\t' || c == '-' || c == '_' || c == '.';
}

static int is_end_punct(char c)
{
    return c == '.' || c == ',' || c == '!' || c == '?' || c == ';' || c == ':';
}

/* s[0..n) lower case, runs of separators as one space, none at the ends;
 * 0, or -1 when it cannot be a key (too long). */
static int normalise(const char *s, size_t n, char out[PLACE_MAX])
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (is_separator(c)) {
            if (len > 0 && out[len - 1] != ' ')
                out[len++] = ' ';
        } else {
            out[len++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
        }
        if (len >= PLACE_MAX - 1)
            return -1;
    }
    while (len > 0 && out[len - 1] == ' ')
        len--;
    out[len] = '\0';
    return 0;
}

const char *asst_zone_of_place(const char *s, size_t n)
{
    char key[PLACE_MAX];

    if (!s || normalise(s, n, key) != 0 || !*key)
        return NULL;
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++)
        if (strcmp(places[i].place, key) == 0)
            return places[i].zone;
    return NULL;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of the k-th word of s (words end at white space), before any
 * end punctuation; 0 when s has fewer words. */
static size_t word_end(const char *s, int k)
{
    size_t i = 0, end = 0;

    for (int w = 0; w < k; w++) {
        while (is_space(s[i]))
            i++;
        if (!s[i])
            return 0;
        while (s[i] && !is_space(s[i]))
            i++;
        end = i;
    }
    while (end > 0 && is_end_punct(s[end - 1]))
        end--;
    return end;
}

size_t asst_zone_place_prefix(const char *s, const char **zone)
{
    for (int k = ASST_ZONE_PLACE_MAX_WORDS; s && k > 0; k--) {
        size_t end = word_end(s, k);
        if (end > 0 && (*zone = asst_zone_of_place(s, end)) != NULL)
            return end;
    }
    return 0;
}

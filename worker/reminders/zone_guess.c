/* Country calling codes to the zone most of their people live in; a new
 * country is one row. Longer codes are matched first ("+1" never hides
 * "+1 8xx"-style entries, "+35" never hides "+353"). */
#include <string.h>

#include "zone_guess.h"

static const struct {
    const char *code;      /* with the +, as numbers start */
    const char *zone;
} zones[] = {
    { "+1", "America/New_York" },     /* NANP: the US East, Canada's Toronto */
    { "+7", "Europe/Moscow" },
    { "+20", "Africa/Cairo" },
    { "+27", "Africa/Johannesburg" },
    { "+30", "Europe/Athens" },
    { "+31", "Europe/Amsterdam" },
    { "+32", "Europe/Brussels" },
    { "+33", "Europe/Paris" },
    { "+34", "Europe/Madrid" },
    { "+36", "Europe/Budapest" },
    { "+39", "Europe/Rome" },
    { "+40", "Europe/Bucharest" },
    { "+41", "Europe/Zurich" },
    { "+43", "Europe/Vienna" },
    { "+44", "Europe/London" },
    { "+45", "Europe/Copenhagen" },
    { "+46", "Europe/Stockholm" },
    { "+47", "Europe/Oslo" },
    { "+48", "Europe/Warsaw" },
    { "+49", "Europe/Berlin" },
    { "+51", "America/Lima" },
    { "+52", "America/Mexico_City" },
    { "+54", "America/Argentina/Buenos_Aires" },
    { "+55", "America/Sao_Paulo" },
    { "+56", "America/Santiago" },
    { "+57", "America/Bogota" },
    { "+60", "Asia/Kuala_Lumpur" },
    { "+61", "Australia/Sydney" },
    { "+62", "Asia/Jakarta" },
    { "+63", "Asia/Manila" },
    { "+64", "Pacific/Auckland" },
    { "+65", "Asia/Singapore" },
    { "+66", "Asia/Bangkok" },
    { "+81", "Asia/Tokyo" },
    { "+82", "Asia/Seoul" },
    { "+84", "Asia/Ho_Chi_Minh" },
    { "+86", "Asia/Shanghai" },
    { "+90", "Europe/Istanbul" },
    { "+91", "Asia/Kolkata" },
    { "+92", "Asia/Karachi" },
    { "+351", "Europe/Lisbon" },
    { "+353", "Europe/Dublin" },
    { "+358", "Europe/Helsinki" },
    { "+420", "Europe/Prague" },
    { "+852", "Asia/Hong_Kong" },
    { "+880", "Asia/Dhaka" },
    { "+886", "Asia/Taipei" },
    { "+966", "Asia/Riyadh" },
    { "+971", "Asia/Dubai" },
    { "+972", "Asia/Jerusalem" },
};

const char *asst_zone_guess(const char *e164)
{
    const char *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; e164 && i < sizeof(zones) / sizeof(zones[0]); i++) {
        size_t n = strlen(zones[i].code);
        if (n > best_len && strncmp(e164, zones[i].code, n) == 0) {
            best = zones[i].zone;
            best_len = n;
        }
    }
    return best;
}

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "compliance.h"

static const struct {
    const char *word;
    asst_keyword_t keyword;
} words[] = {
    { "STOP", ASST_KEYWORD_STOP }, { "STOPALL", ASST_KEYWORD_STOP },
    { "UNSUBSCRIBE", ASST_KEYWORD_STOP }, { "CANCEL", ASST_KEYWORD_STOP },
    { "END", ASST_KEYWORD_STOP }, { "QUIT", ASST_KEYWORD_STOP },
    { "START", ASST_KEYWORD_START }, { "UNSTOP", ASST_KEYWORD_START },
    { "HELP", ASST_KEYWORD_HELP }, { "INFO", ASST_KEYWORD_HELP },
};

asst_keyword_t asst_compliance_keyword(const char *body)
{
    size_t len;

    if (!body)
        return ASST_KEYWORD_NONE;
    while (isspace((unsigned char)*body))
        body++;
    len = strlen(body);
    while (len > 0 && isspace((unsigned char)body[len - 1]))
        len--;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (strlen(words[i].word) == len && strncasecmp(body, words[i].word, len) == 0)
            return words[i].keyword;
    return ASST_KEYWORD_NONE;
}

/* help: what the assistant can do, in a text or two. */
#include <string.h>

#include "registry.h"

#define HELP_ALL                                                                          \
    "I can keep notes (\"note: buy milk\", \"my notes\", \"search notes for milk\", "      \
    "\"delete note 2\"), remember things about you (\"remember that my sister is Ana\", "  \
    "\"what do you know about me\", \"forget my sister\") and your settings (\"call me "   \
    "Sam\", \"set my timezone to Europe/Berlin\", \"quiet hours 22:00 to 07:00\"), and "  \
    "remind you (\"remind me tomorrow at 9 to call mom\", \"my reminders\"). "             \
    "Text STOP to unsubscribe."

static const char schema[] =
    "{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
    "\"topic\":{\"type\":\"string\",\"enum\":[\"notes\",\"memory\",\"settings\",\"reminders\"]}}}";

static const struct {
    const char *topic;
    const char *text;
} topics[] = {
    { "notes", "Notes: \"note: buy milk\" adds one, \"my notes\" lists them, \"search notes for milk\" finds "
               "them, \"delete note 2\" (or \"delete 2\" after a list) removes one, \"delete all my notes\" "
               "asks you to confirm first." },
    { "memory", "Memory: \"remember that my sister is Ana\", \"what do you know about me\" shows everything I "
                "keep, \"what do you know about my sister\", \"forget my sister\" or \"forget 2\" deletes it "
                "for good." },
    { "settings", "Settings: \"call me Sam\", \"set my timezone to Europe/Berlin\", \"quiet hours 22:00 to "
                  "07:00\", \"no quiet hours\", \"daily digest at 7am\" (a text with the rest of the day's "
                  "reminders), \"no digest\", \"my settings\"." },
    { "reminders", "Reminders: \"remind me in 20 minutes to check the oven\", \"remind me tomorrow at 9 to call "
                   "mom\", \"every weekday at 7:30 remind me to stretch\", \"my reminders\", \"cancel reminder "
                   "2\", \"snooze 10\" after one went off, \"daily digest at 7am\" for the day's list. Times "
                   "are in your time zone." },
};

static void run(asst_tool_ctx_t *ctx, json_object *args, asst_tool_result_t *out)
{
    const char *topic = asst_tool_arg(args, "topic");

    (void)ctx;
    for (size_t i = 0; topic && i < sizeof(topics) / sizeof(topics[0]); i++)
        if (strcmp(topics[i].topic, topic) == 0) {
            asst_tool_say(out, 1, topics[i].text);
            return;
        }
    asst_tool_say(out, 1, HELP_ALL);
}

const asst_tool_t asst_tool_help = {
    "help",
    "What the assistant can do, optionally for one topic.",
    schema, NULL, 0, run, 1,
};

const char *asst_help_text(void)
{
    return HELP_ALL;
}

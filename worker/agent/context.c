#include <string.h>

#include <apr_strings.h>

#include "context.h"

#define MEMORY_HEADER "What you remember about them:"
#define MEMORY_BULLET "- "

/* Every cost is computed once, the cut is decided by arithmetic on them,
 * and the JSON is built once from the decision: linear in the input. */

typedef struct {
    const char *facts;      /* "About the person: ..." or "" */
    size_t facts_len;
    const char *const *memories;
    size_t *memory_len;
    int n_memories;
    int kept;               /* memories[0, kept) */
    size_t kept_bytes;      /* their text, without bullets and line breaks */
} person_plan_t;

typedef struct {
    const asst_context_turn_t *turns;
    size_t *cost;
    int n;
    int first;              /* turns[first, n) are kept */
    size_t kept_cost;
} recent_plan_t;

typedef struct {
    size_t budget;
    size_t fixed;           /* instructions, tools, and the current message's overhead */
    const char *message;
    size_t message_full;
    size_t message_len;     /* bytes of it kept */
    int truncated;
    int over_budget;
    person_plan_t person;
    recent_plan_t recent;
} plan_t;

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int count_or_zero(const void *array, int n)
{
    return array && n > 0 ? n : 0;
}

size_t asst_context_text_tokens(size_t bytes)
{
    return bytes / 4 + (bytes % 4 != 0);   /* (bytes + 3) / 4, without overflow */
}

static size_t message_tokens(size_t bytes)
{
    return asst_context_text_tokens(bytes) + ASST_CONTEXT_MESSAGE_OVERHEAD;
}

size_t asst_context_count(const json_object *messages, const char *tools_json)
{
    size_t n = json_object_array_length(messages);
    size_t tokens = asst_context_text_tokens(strlen(or_empty(tools_json)));
    json_object *content;

    for (size_t i = 0; i < n; i++) {
        const json_object *msg = json_object_array_get_idx(messages, i);

        if (!json_object_object_get_ex(msg, "content", &content))
            content = NULL;
        tokens += message_tokens((size_t)json_object_get_string_len(content));
    }
    return tokens;
}

static const char *fact(apr_pool_t *p, const char *label, const char *value)
{
    return value && *value ? apr_pstrcat(p, label, value, ".", NULL) : "";
}

static const char *facts_line(apr_pool_t *p, const asst_context_person_t *who)
{
    const char *name = fact(p, " Name: ", who->name);
    const char *zone = fact(p, " Time zone: ", who->timezone);
    const char *time = fact(p, " Local time: ", who->local_time);

    if (!*name && !*zone && !*time)
        return "";
    return apr_pstrcat(p, "About the person:", name, zone, time, NULL);
}

static int person_lines(const person_plan_t *pp)
{
    return (pp->facts_len > 0) + (pp->kept > 0 ? 1 + pp->kept : 0);
}

/* The lines joined by '\n'. */
static size_t person_bytes(const person_plan_t *pp)
{
    size_t memories = 0;
    int lines = person_lines(pp);

    if (pp->kept > 0)
        memories = strlen(MEMORY_HEADER) + pp->kept_bytes
                   + (size_t)pp->kept * strlen(MEMORY_BULLET);
    return pp->facts_len + memories + (lines > 0 ? (size_t)lines - 1 : 0);
}

static size_t person_cost(const person_plan_t *pp)
{
    return person_lines(pp) > 0 ? message_tokens(person_bytes(pp)) : 0;
}

static size_t plan_tokens(const plan_t *plan)
{
    size_t message = plan->message_len + (plan->truncated ? strlen(ASST_CONTEXT_TRUNCATED) : 0);

    return plan->fixed + asst_context_text_tokens(message) + plan->recent.kept_cost
           + person_cost(&plan->person);
}

static int plan_fits(const plan_t *plan)
{
    return plan_tokens(plan) <= plan->budget;
}

static void person_plan(apr_pool_t *p, const asst_context_input_t *in, person_plan_t *pp)
{
    pp->facts = facts_line(p, &in->person);
    pp->facts_len = strlen(pp->facts);
    pp->memories = in->memories;
    pp->n_memories = count_or_zero(in->memories, in->n_memories);
    pp->memory_len = apr_palloc(p, sizeof(size_t) * ((size_t)pp->n_memories + 1));
    pp->kept_bytes = 0;
    for (int i = 0; i < pp->n_memories; i++) {
        pp->memory_len[i] = strlen(or_empty(pp->memories[i]));
        pp->kept_bytes += pp->memory_len[i];
    }
    pp->kept = pp->n_memories;
}

static void recent_plan(apr_pool_t *p, const asst_context_input_t *in, recent_plan_t *rp)
{
    rp->turns = in->recent;
    rp->n = count_or_zero(in->recent, in->n_recent);
    rp->cost = apr_palloc(p, sizeof(size_t) * ((size_t)rp->n + 1));
    rp->kept_cost = 0;
    for (int i = 0; i < rp->n; i++) {
        rp->cost[i] = message_tokens(strlen(or_empty(rp->turns[i].text)));
        rp->kept_cost += rp->cost[i];
    }
    rp->first = 0;
}

/* Backs n up to the start of the code point it falls in. */
static size_t utf8_floor(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* Called only when the message whole does not fit, so the room left for
 * it is shorter than it and s[keep] exists. */
static void truncate_message(plan_t *plan)
{
    size_t others = plan_tokens(plan) - asst_context_text_tokens(plan->message_full);
    size_t room = plan->budget > others ? (plan->budget - others) * 4 : 0;
    size_t marker = strlen(ASST_CONTEXT_TRUNCATED);

    if (room < marker) {
        plan->over_budget = 1;
        return;
    }
    plan->message_len = utf8_floor(plan->message, room - marker);
    plan->truncated = 1;
}

static void plan_cut(plan_t *plan)
{
    recent_plan_t *rp = &plan->recent;
    person_plan_t *pp = &plan->person;

    while (!plan_fits(plan) && rp->first < rp->n)
        rp->kept_cost -= rp->cost[rp->first++];
    while (!plan_fits(plan) && pp->kept > 0)
        pp->kept_bytes -= pp->memory_len[--pp->kept];
    if (!plan_fits(plan))
        truncate_message(plan);
}

static void plan_make(apr_pool_t *p, const asst_context_input_t *in, plan_t *plan)
{
    memset(plan, 0, sizeof(*plan));
    plan->budget = in->budget_tokens > 0 ? (size_t)in->budget_tokens : 0;
    plan->fixed = message_tokens(strlen(or_empty(in->instructions)))
                  + asst_context_text_tokens(strlen(or_empty(in->tools_json)))
                  + ASST_CONTEXT_MESSAGE_OVERHEAD;
    plan->message = or_empty(in->message);
    plan->message_full = plan->message_len = strlen(plan->message);
    person_plan(p, in, &plan->person);
    recent_plan(p, in, &plan->recent);
    plan_cut(plan);
}

static void add_message(json_object *messages, const char *role, const char *content, size_t len)
{
    json_object *msg = json_object_new_object();

    json_object_object_add(msg, "role", json_object_new_string(role));
    json_object_object_add(msg, "content", json_object_new_string_len(content, (int)len));
    json_object_array_add(messages, msg);
}

static char *append(char *at, const char *s, size_t len)
{
    memcpy(at, s, len);
    return at + len;
}

/* One memory per "- " line, whatever line breaks it holds. */
static char *append_memory(char *at, const char *memory, size_t len)
{
    at = append(at, MEMORY_BULLET, strlen(MEMORY_BULLET));
    for (size_t i = 0; i < len; i++)
        *at++ = memory[i] == '\n' || memory[i] == '\r' ? ' ' : memory[i];
    return at;
}

static void add_person(apr_pool_t *p, json_object *messages, const person_plan_t *pp)
{
    size_t bytes = person_bytes(pp);
    char *content = apr_palloc(p, bytes + 1);
    char *at = append(content, pp->facts, pp->facts_len);

    if (pp->kept > 0) {
        if (pp->facts_len > 0)
            *at++ = '\n';
        at = append(at, MEMORY_HEADER, strlen(MEMORY_HEADER));
    }
    for (int i = 0; i < pp->kept; i++) {
        *at++ = '\n';
        at = append_memory(at, or_empty(pp->memories[i]), pp->memory_len[i]);
    }
    add_message(messages, "system", content, (size_t)(at - content));
}

static void add_recent(json_object *messages, const recent_plan_t *rp)
{
    for (int i = rp->first; i < rp->n; i++) {
        const asst_context_turn_t *turn = &rp->turns[i];
        const char *role = turn->role == ASST_CONTEXT_ASSISTANT ? "assistant" : "user";
        const char *text = or_empty(turn->text);

        add_message(messages, role, text, strlen(text));
    }
}

static void add_current(apr_pool_t *p, json_object *messages, const plan_t *plan)
{
    const char *text = plan->message;

    if (plan->truncated)
        text = apr_pstrcat(p, apr_pstrmemdup(p, text, plan->message_len), ASST_CONTEXT_TRUNCATED,
                           NULL);
    add_message(messages, "user", text, strlen(text));
}

static void report_fill(const plan_t *plan, asst_context_report_t *report)
{
    report->tokens = plan_tokens(plan);
    report->memories_kept = plan->person.kept;
    report->memories_dropped = plan->person.n_memories - plan->person.kept;
    report->recent_kept = plan->recent.n - plan->recent.first;
    report->recent_dropped = plan->recent.first;
    report->message_truncated = plan->truncated;
    report->over_budget = plan->over_budget;
}

json_object *asst_context_build(apr_pool_t *p, const asst_context_input_t *in,
                                asst_context_report_t *report)
{
    json_object *messages = json_object_new_array();
    const char *instructions = or_empty(in->instructions);
    plan_t plan;

    plan_make(p, in, &plan);
    add_message(messages, "system", instructions, strlen(instructions));
    if (person_lines(&plan.person) > 0)
        add_person(p, messages, &plan.person);
    add_recent(messages, &plan.recent);
    add_current(p, messages, &plan);
    report_fill(&plan, report);
    return messages;
}

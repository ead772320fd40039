/* Answers to an action waiting for the person (worker/agent/confirm.c):
 * YES and NO, and for one waiting for their time zone, a city or a zone
 * instead. Pure: no database. */
#include <string.h>

#include <check.h>

#include "agent/confirm.h"
#include "unit_main.h"
#include "unit_pool.h"

#define ARGS "{\"action\":\"create\",\"text\":\"call mom\",\"at\":\"2030-03-04T17:00\",\"wording\":\"at 5pm\"}"
#define NO_ZONE "OK, nothing was set. Tell me your time zone, e.g. \"my timezone is Europe/Berlin\"."

static asst_agent_state_t waiting_for_zone(void)
{
    asst_agent_state_t st;

    memset(&st, 0, sizeof(st));
    st.pending_name = "reminders";
    st.pending_arguments = ARGS;
    st.pending_prompt = "set that reminder";
    st.pending_zone = "America/New_York";
    st.pending_asked_at = 1000000;
    return st;
}

/* The zone the decision runs the stored call in; "" for a reply, NULL for none. */
static const char *decided_zone(const char *body, const asst_agent_state_t *st, asst_step_t *d)
{
    memset(d, 0, sizeof(*d));
    if (!asst_confirm_decide(pool, body, st, d))
        return "(planner)";
    if (d->reply)
        return "";
    ck_assert_int_eq(d->calls->nelts, 1);
    ck_assert_str_eq(APR_ARRAY_IDX(d->calls, 0, asst_call_t).name, "reminders");
    ck_assert_str_eq(APR_ARRAY_IDX(d->calls, 0, asst_call_t).arguments, ARGS);   /* verbatim */
    ck_assert_str_eq(d->source, ASST_CONFIRMED);
    return d->zone;
}

START_TEST(yes_takes_the_guess)
{
    asst_agent_state_t st = waiting_for_zone();
    asst_step_t d;

    ck_assert_str_eq(decided_zone("YES", &st, &d), "America/New_York");
    ck_assert_str_eq(decided_zone("yes please!", &st, &d), "America/New_York");
}
END_TEST

START_TEST(a_city_or_a_zone_answers_instead)
{
    asst_agent_state_t st = waiting_for_zone();
    asst_step_t d;

    ck_assert_str_eq(decided_zone("London", &st, &d), "Europe/London");
    ck_assert_str_eq(decided_zone("I'm in Chicago", &st, &d), "America/Chicago");
    ck_assert_str_eq(decided_zone("Europe/Berlin", &st, &d), "Europe/Berlin");
    ck_assert_str_eq(decided_zone("new york time", &st, &d), "America/New_York");
    ck_assert_str_eq(decided_zone("my timezone is Asia/Tokyo", &st, &d), "Asia/Tokyo");
    /* unknown to PostgreSQL or not: the tool checks, and asks again */
    ck_assert_str_eq(decided_zone("Mars/Olympus", &st, &d), "Mars/Olympus");
}
END_TEST

START_TEST(no_and_anything_else)
{
    asst_agent_state_t st = waiting_for_zone();
    asst_step_t d;

    ck_assert_str_eq(decided_zone("no", &st, &d), "");
    ck_assert_str_eq(d.reply, NO_ZONE);
    ck_assert_str_eq(decided_zone("hello", &st, &d), "(planner)");
    ck_assert_str_eq(decided_zone("I'm in trouble", &st, &d), "(planner)");
    ck_assert_str_eq(decided_zone("remind me at 6pm to call dad", &st, &d), "(planner)");
}
END_TEST

START_TEST(an_expired_question_runs_nothing)
{
    asst_agent_state_t st = waiting_for_zone();
    asst_step_t d;

    st.pending_expired = 1;
    ck_assert_str_eq(decided_zone("London", &st, &d), "");
    ck_assert_str_eq(d.reply, "That request (set that reminder) expired, so I did nothing. Ask again if you "
                              "still want it.");
    ck_assert_str_eq(decided_zone("yes", &st, &d), "");
}
END_TEST

START_TEST(a_place_is_no_answer_to_a_plain_yes_question)
{
    asst_agent_state_t st = waiting_for_zone();
    asst_step_t d;

    st.pending_zone = NULL;
    ck_assert_str_eq(decided_zone("London", &st, &d), "(planner)");
    ck_assert_ptr_null(decided_zone("yes", &st, &d));      /* runs, in the person's zone */
    ck_assert_str_eq(decided_zone("no", &st, &d), "");
    ck_assert_str_eq(d.reply, "OK, I won't. Nothing was changed.");
    memset(&st, 0, sizeof(st));
    ck_assert_str_eq(decided_zone("London", &st, &d), "(planner)");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("confirm");
    TCase *tc = tcase_create("confirm");

    tcase_add_checked_fixture(tc, unit_pool_setup, unit_pool_teardown);
    tcase_add_test(tc, yes_takes_the_guess);
    tcase_add_test(tc, a_city_or_a_zone_answers_instead);
    tcase_add_test(tc, no_and_anything_else);
    tcase_add_test(tc, an_expired_question_runs_nothing);
    tcase_add_test(tc, a_place_is_no_answer_to_a_plain_yes_question);
    suite_add_tcase(s, tc);
    return asst_unit_run(s);
}

#ifndef ASST_COMPLIANCE_H
#define ASST_COMPLIANCE_H

/* Carrier opt-out keywords, handled before any planner sees the text.
 * YES is deliberately not an opt-in word: it confirms pending actions. */
typedef enum {
    ASST_KEYWORD_NONE = 0,
    ASST_KEYWORD_STOP,       /* STOP STOPALL UNSUBSCRIBE CANCEL END QUIT */
    ASST_KEYWORD_START,      /* START UNSTOP */
    ASST_KEYWORD_HELP        /* HELP INFO */
} asst_keyword_t;

/* The keyword the whole body is (case and surrounding whitespace ignored). */
asst_keyword_t asst_compliance_keyword(const char *body);

#endif

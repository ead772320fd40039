#ifndef ASST_SELFPIPE_H
#define ASST_SELFPIPE_H

#include <signal.h>

#include <apr_pools.h>

/* The master's signals, turned into readable bytes: each handler records
 * its signal and writes one byte to a non-blocking pipe, so the main loop
 * sleeps in poll() on asst_selfpipe_fd() and handles signals outside
 * signal context. */

/* Installs the handlers (without SA_RESTART) for sigs[0..n-1]. */
const char *asst_selfpipe_init(apr_pool_t *p, const int *sigs, int n);

int asst_selfpipe_fd(void);

/* Empties the pipe (after poll() said it is readable). */
void asst_selfpipe_drain(void);

/* 1 if sig arrived since the last call for it (and forgets it). */
int asst_selfpipe_take(int sig);

/* Blocks the handled signals (around fork) / restores the mask. */
void asst_selfpipe_block(sigset_t *old);
void asst_selfpipe_restore(const sigset_t *old);

/* In a child right after fork (signals still blocked): closes the pipe and
 * puts the handled signals back to their default action. */
void asst_selfpipe_forget(void);

#endif

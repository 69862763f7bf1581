/* OCI hooks the container process runs itself: createContainer and startContainer. */
#ifndef BERTH_HOOKS_H
#define BERTH_HOOKS_H

#include "plan.h"

/* Runs each hook with the state JSON on stdin. Returns 0, or -1 with *err describing the first
 * failure (non-zero exit, signal, timeout, spawn error). */
int hooks_run(const struct reclist *hooks, const char *state, char **err);

#endif

/* The container's terminal: a pty made inside the container, its master sent to the caller. */
#ifndef BERTH_CONSOLE_H
#define BERTH_CONSOLE_H

#include "plan.h"

/* Host side, before clone: connects the console socket (a host path). Returns the fd, or -1
 * without `console`. */
int console_connect(const struct plan *p);
/* Container side, after pivot: opens /dev/ptmx, sends the master over sock with SCM_RIGHTS
 * (body: the pty's name, as runc does), makes the slave stdio and controlling terminal. */
void console_setup(const struct plan *p, int sock);

#endif

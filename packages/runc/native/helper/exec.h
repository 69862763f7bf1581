/* The last step: the program to run, the descriptors it inherits, execve. */
#ifndef BERTH_EXEC_H
#define BERTH_EXEC_H

#include "plan.h"

struct exec_target {
	char *path;   /* resolved program */
	char **argv;  /* from the `arg` records */
	char **envp;  /* from the `env` records */
};

/* Builds argv/envp and resolves argv[0] in the PATH of the plan's environment (a name without
 * `/`), or relative to the cwd. Not found or not executable dies, so the error comes before
 * `ready`. */
void exec_resolve(const struct plan *p, struct exec_target *t);
/* Marks every fd from `first` up close-on-exec. */
void exec_cloexec_from(int first);
/* execve; returns only on failure (errno set). */
void exec_run(const struct exec_target *t);

#endif

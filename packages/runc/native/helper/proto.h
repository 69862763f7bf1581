/* The record encoding of PROTOCOL.md: space-separated %XX-escaped fields, one record a line. */
#ifndef BERTH_PROTO_H
#define BERTH_PROTO_H

#include <stddef.h>

struct record {
	int n;     /* number of fields, >= 1 */
	char **f;  /* decoded fields; f[0] is the record's name */
};

/* A buffered reader over a blocking (or EAGAIN-tolerant) stream. */
struct reader {
	int fd;
	char *buf;
	size_t len, cap;
};

void reader_init(struct reader *r, int fd);
/* Reads one record. Returns 1, or 0 at EOF at a record boundary; a truncated record or a bad
 * escape is a protocol error (die). */
int read_record(struct reader *r, struct record *out);
/* Like read_record but returns -1 (errno set) on a read error instead of dying. */
int try_read_record(struct reader *r, struct record *out);

/* Sends one record: fields are NUL-terminated strings ending with a NULL. Returns 0 or -1. */
int send_record(int fd, const char *name, ...);
/* Same with a fields array. */
int send_fields(int fd, int n, char *const *fields);

#endif

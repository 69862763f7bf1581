/* Record encoding and decoding (PROTOCOL.md, "Encoding"). */
#define _GNU_SOURCE
#include "proto.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void reader_init(struct reader *r, int fd)
{
	r->fd = fd;
	r->cap = 4096;
	r->len = 0;
	r->buf = xmalloc(r->cap);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Decodes one field in place (the decoded text is never longer). Returns 0 or -1. */
static int decode_field(char *s)
{
	if (s[0] == '%' && s[1] == '\0') {
		s[0] = '\0';
		return 0;
	}
	char *w = s;
	for (char *p = s; *p; p++) {
		if (*p == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
			if (lo < 0)
				return -1;
			*w++ = (char)(hi * 16 + lo);
			p += 2;
		} else {
			*w++ = *p;
		}
	}
	*w = '\0';
	return 0;
}

static void parse_line(char *line, struct record *out)
{
	int n = 1;
	for (char *p = line; *p; p++)
		if (*p == ' ')
			n++;
	out->f = xmalloc(sizeof(char *) * (size_t)(n + 1));
	out->n = 0;
	char *save = NULL;
	/* strsep keeps empty fields, which the encoding never produces but we reject clearly. */
	char *p = line;
	while ((save = strsep(&p, " ")) != NULL) {
		if (*save == '\0' || decode_field(save) < 0)
			die_msg("protocol: bad record %.60s", line);
		out->f[out->n++] = save;
	}
	out->f[out->n] = NULL;
}

int try_read_record(struct reader *r, struct record *out)
{
	for (;;) {
		char *nl = memchr(r->buf, '\n', r->len);
		if (nl) {
			size_t linelen = (size_t)(nl - r->buf);
			char *line = xmalloc(linelen + 1);
			memcpy(line, r->buf, linelen);
			line[linelen] = '\0';
			memmove(r->buf, nl + 1, r->len - linelen - 1);
			r->len -= linelen + 1;
			parse_line(line, out);
			return 1;
		}
		if (r->len == r->cap) {
			r->cap *= 2;
			r->buf = xrealloc(r->buf, r->cap);
		}
		ssize_t n = read(r->fd, r->buf + r->len, r->cap - r->len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = r->fd, .events = POLLIN };
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		if (n == 0) {
			if (r->len != 0)
				die_msg("protocol: truncated record");
			return 0;
		}
		r->len += (size_t)n;
	}
}

int read_record(struct reader *r, struct record *out)
{
	int rc = try_read_record(r, out);
	if (rc < 0)
		die("protocol: read");
	return rc;
}

static size_t encode_field(const char *s, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	if (!*s) {
		if (out)
			out[0] = '%';
		return 1;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '%' || *p < 0x21 || *p > 0x7e) {
			if (out) {
				out[n] = '%';
				out[n + 1] = hex[*p >> 4];
				out[n + 2] = hex[*p & 15];
			}
			n += 3;
		} else {
			if (out)
				out[n] = (char)*p;
			n++;
		}
	}
	return n;
}

int send_fields(int fd, int n, char *const *fields)
{
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += encode_field(fields[i], NULL) + 1;
	char *line = malloc(len);
	if (!line)
		return -1;
	size_t off = 0;
	for (int i = 0; i < n; i++) {
		off += encode_field(fields[i], line + off);
		line[off++] = i + 1 == n ? '\n' : ' ';
	}
	int rc = write_all(fd, line, len);
	free(line);
	return rc;
}

int send_record(int fd, const char *name, ...)
{
	char *fields[16];
	int n = 0;
	fields[n++] = (char *)name;
	va_list ap;
	va_start(ap, name);
	const char *s;
	while (n < 16 && (s = va_arg(ap, const char *)) != NULL)
		fields[n++] = (char *)s;
	va_end(ap);
	return send_fields(fd, n, fields);
}

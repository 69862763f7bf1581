/* Test tool: a console-socket receiver shaped like runc's recvtty and containerd's.
 * recvtty <socket> <input>: listens on <socket>, prints "listening", accepts one connection,
 * receives one fd (SCM_RIGHTS) with the pty name as body (printed as "name <name>"), writes
 * <input> to the pty master and copies what the master yields to stdout until EIO/EOF. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: recvtty <socket> <input>\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[1]);
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	unlink(argv[1]);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(ls, 1) < 0) {
		perror("recvtty: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	int s = accept(ls, NULL, NULL);
	if (s < 0) {
		perror("recvtty: accept");
		return 1;
	}
	/* The same buffers runc's RecvFile uses: a 4096-byte name, space for exactly one fd. */
	char name[4096];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = sizeof name };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf };
	ssize_t n = recvmsg(s, &msg, MSG_CMSG_CLOEXEC);
	if (n <= 0 || n >= (ssize_t)sizeof name || msg.msg_controllen != sizeof cbuf) {
		fprintf(stderr, "recvtty: bad message (n=%zd controllen=%zu)\n", n, (size_t)msg.msg_controllen);
		return 1;
	}
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "recvtty: no fd\n");
		return 1;
	}
	int master;
	memcpy(&master, CMSG_DATA(c), sizeof master);
	name[n] = '\0';
	struct stat st;
	if (fstat(master, &st) < 0 || !S_ISCHR(st.st_mode)) {
		fprintf(stderr, "recvtty: not a character device\n");
		return 1;
	}
	printf("name %s\n", name);
	fflush(stdout);
	if (write(master, argv[2], strlen(argv[2])) < 0) {
		perror("recvtty: write");
		return 1;
	}
	char buf[4096];
	for (;;) {
		ssize_t r = read(master, buf, sizeof buf);
		if (r <= 0)
			break; /* EIO: every slave fd closed */
		fwrite(buf, 1, (size_t)r, stdout);
		fflush(stdout);
	}
	return 0;
}

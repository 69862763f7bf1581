/* The pty is created from the container's own /dev/ptmx (its devpts instance), so the slave's
 * name is valid inside the container. The master leaves through the console socket exactly as
 * runc sends it: one message, the name as body, one fd in SCM_RIGHTS, which is what
 * containerd's and runc's receivers expect. */
#define _GNU_SOURCE
#include "console.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

int console_connect(const struct plan *p)
{
	if (!p->console)
		return -1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(p->console) >= sizeof sa.sun_path) {
		errno = ENAMETOOLONG;
		die("console socket %s", p->console);
	}
	strcpy(sa.sun_path, p->console);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("console socket %s: socket", p->console);
	int rc;
	do
		rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		die("connect console socket %s", p->console);
	return fd;
}

static void send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof cbuf);
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = cbuf,
		.msg_controllen = sizeof cbuf,
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("send pty master over console socket");
}

void console_setup(const struct plan *p, int sock)
{
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		die("open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		die("unlock pty");
	unsigned ptn;
	if (ioctl(master, TIOCGPTN, &ptn) < 0)
		die("pty number");
	char name[64];
	snprintf(name, sizeof name, "/dev/pts/%u", ptn);
	/* TIOCGPTPEER opens the slave through the master, not through a path an image could
	 * have replaced. */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			die("open %s", name);
	}
	if (p->has_consolesize) {
		struct winsize ws = { .ws_row = p->rows, .ws_col = p->cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			die("set pty size");
	}
	if (p->has_user && fchown(slave, p->uid, p->gid) < 0)
		die("chown %s", name);
	send_fd(sock, master, name);
	close(master);
	close(sock);

	if (setsid() < 0 && errno != EPERM)
		die("setsid");
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		die("make %s the controlling terminal", name);
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			die("dup2 %s to fd %d", name, i);
	if (slave > 2)
		close(slave);
}

// SPDX-License-Identifier: MIT
/*
 * fork() and the iommufd files: the kernel shares one file between the
 * parent and the child, so the child's ioctls on an inherited fd act on
 * the same iommufd context, with the child's memory as "the user's".
 * Our contexts live in the parent's memory; the child's copy of them is
 * a copy-on-write image that the parent goes on changing.  So the child
 * sends its calls back: at fork the parent opens a channel (a
 * SOCK_SEQPACKET socketpair) and runs a server thread that takes the
 * child's ioctls on the parent's real context, with the child as the
 * thread's "current mm" (sio_user_set_mm(): the user copies reach the
 * child's memory through process_vm_readv/writev).
 *
 * A call that names memory to pin later brings the memfds that hold the
 * child's memory there (fork_share.c), as SCM_RIGHTS with its datagram:
 * the server maps them (windows, uapi/user_window.c) for the call, so
 * its pins share the child's pages instead of copying them.
 *
 * The file's lifetime is the kernel's: the server holds a reference of
 * each file for the child, dropped when the child releases its copy (its
 * last fd of the file closes), or when the channel ends (the child
 * exited or exec'd: the socket is close-on-exec).
 *
 * What is not shared: other virtual files (VFIO devices, eventq fds)
 * stay the EIO copies vfile_orphan_all() makes, and so does everything
 * in a grandchild (a child's forwarded files are not forwarded again).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fault/fault_inject.h"
#include "preload.h"
#include "uapi/iommufd_abi.h"
#include "uapi/iommufd_test_abi.h"
#include "uapi/uapi.h"

enum fork_op {
	FORK_IOCTL = 1,
	FORK_RELEASE = 2,
	FORK_EXIT = 3,
	FORK_PINNED = 4, /* the bytes pinned for process arg (VmPin:) */
};

/* One call from the child (a datagram: SOCK_SEQPACKET keeps bounds). */
struct fork_req {
	uint32_t op;   /* enum fork_op */
	uint32_t idx;  /* which file: an index in the server's files */
	int32_t pid;   /* the caller: its memory is the call's user memory */
	uint32_t nfds; /* memfds of its memory that come with it */
	uint64_t cmd;
	uint64_t arg;
};

struct fork_rep {
	int64_t rc; /* >= 0 or -errno */
};

/* The parent's side: the files it shares with one child. */
struct fork_server {
	int sock[2]; /* [0] the parent's end, [1] the child's */
	size_t n;
	struct sio_vfile **files; /* one reference each; NULL once released */
};

/* The child's side: its end of the channel, one reference per file. */
struct preload_fork_chan {
	int sock;
	pthread_mutex_t lock; /* one call at a time on the channel */
	atomic_uint refs;
};

/*
 * An fd number in a call is the child's, and an fd a call makes would be
 * the parent's: such calls cannot cross the channel (IOMMU_TEST_CMD's
 * access ops take and make fds too).  The kernel runs
 * them; we answer EOPNOTSUPP (docs/preload.md, fork).
 */
static bool passes_fds(uint64_t cmd)
{
	return cmd == SIO_IOMMU_IOAS_MAP_FILE ||
	       cmd == SIO_IOMMU_FAULT_QUEUE_ALLOC ||
	       cmd == SIO_IOMMU_VEVENTQ_ALLOC || cmd == SIO_IOMMU_TEST_CMD;
}

/* Every reference the server still holds for the child goes. */
static void server_put_files(struct fork_server *s)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sio_vfile *f = s->files[i];

		s->files[i] = NULL;
		if (f)
			vfile_put(f);
	}
}

static void server_free(struct fork_server *s)
{
	server_put_files(s);
	if (s->sock[0] >= 0)
		preload.real.close(s->sock[0]);
	free(s->files);
	free(s);
}

static int64_t serve_one(struct fork_server *s, const struct fork_req *req,
			 struct sio_user_windows *ws)
{
	struct sio_user_windows *old_ws;
	struct sio_vfile *f;
	pid_t old;
	long rc;

	/*
	 * Only the files: the reply still goes out on the channel, and the
	 * server lives on until the child's end of it closes.
	 */
	if (req->op == FORK_EXIT) {
		server_put_files(s);
		return 0;
	}
	if (req->op == FORK_PINNED)
		return (int64_t)preload_pinned_bytes((pid_t)req->arg);
	if (req->idx >= s->n || !s->files[req->idx])
		return -EBADF;
	f = s->files[req->idx];
	if (req->op == FORK_RELEASE) {
		s->files[req->idx] = NULL;
		vfile_put(f);
		return 0;
	}
	if (req->op != FORK_IOCTL || req->pid <= 0)
		return -EINVAL;
	if (passes_fds(req->cmd))
		return -EOPNOTSUPP;
	old = sio_user_set_mm(req->pid);
	old_ws = sio_user_set_windows(ws);
	rc = vfile_forward_ioctl(f, req->cmd, (void *)(uintptr_t)req->arg);
	sio_user_set_windows(old_ws);
	sio_user_set_mm(old);
	return rc;
}

/* Control space for the fds a call may bring. */
union fork_cmsg {
	char buf[CMSG_SPACE(sizeof(int) * PRELOAD_FORK_MAX_FDS)];
	struct cmsghdr align;
};

/* One request, and the fds that came with it in @fds: how many. */
static ssize_t recv_req(int sock, struct fork_req *req, int *fds,
			unsigned int *nfds)
{
	union fork_cmsg u;
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(*req)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = u.buf,
			    .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);

	*nfds = 0;
	if (n < 0)
		return n;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		size_t k;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > PRELOAD_FORK_MAX_FDS - *nfds)
			k = PRELOAD_FORK_MAX_FDS - *nfds;
		memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
		*nfds += (unsigned int)k;
	}
	return n;
}

/*
 * The windows a call brought: each memfd mapped (one we cannot map is
 * left out: its memory is copied at pin time); the fds are closed.
 */
static struct sio_user_windows *take_windows(const int *fds, unsigned int nfds,
					     bool use)
{
	struct sio_user_windows *ws = NULL;

	if (use && nfds)
		ws = sio_user_windows_new(nfds);
	for (unsigned int i = 0; i < nfds; i++) {
		if (ws)
			sio_user_windows_add(ws, fds[i]);
		preload.real.close(fds[i]);
	}
	return ws;
}

static void *serve(void *arg)
{
	struct fork_server *s = arg;
	sigset_t all;

	/* the program's handlers run in its own threads, not in ours */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct sio_user_windows *ws;
		int fds[PRELOAD_FORK_MAX_FDS];
		struct fork_req req;
		struct fork_rep rep;
		unsigned int nfds;
		ssize_t n = recv_req(s->sock[0], &req, fds, &nfds);

		if (n < 0 && errno == EINTR)
			continue;
		ws = take_windows(fds, nfds,
				  n == sizeof(req) && req.op == FORK_IOCTL);
		if (n <= 0)
			break; /* the child's end is closed: it is gone */
		rep.rc = n == sizeof(req) ? serve_one(s, &req, ws) : -EINVAL;
		/* the pages objects the call made hold what they need */
		sio_user_windows_put(ws);
		if (n == sizeof(req) && req.op == FORK_RELEASE)
			continue;
		if (send(s->sock[0], &rep, sizeof(rep), MSG_NOSIGNAL) < 0)
			break;
	}
	server_free(s);
	return NULL;
}

/* fdt.lock held: the parent is about to fork. */
void preload_fork_prepare(void)
{
	struct fork_server *s;

	preload.fork_pending = NULL;
	s = sio_calloc(1, sizeof(*s));
	if (!s)
		return; /* the child's copies will answer EIO */
	s->sock[0] = s->sock[1] = -1;
	s->n = vfile_collect(&preload_iommufd_ops, &s->files);
	if (!s->n ||
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, s->sock)) {
		/* not the last references: the fd table holds the files */
		server_free(s);
		return;
	}
	preload.fork_pending = s;
}

/* In the parent after fork() (which may have failed: then EOF at once). */
void preload_fork_parent(void)
{
	struct fork_server *s = preload.fork_pending;
	pthread_attr_t attr;
	pthread_t t;

	if (!s)
		return;
	preload.fork_pending = NULL;
	preload.real.close(s->sock[1]);
	s->sock[1] = -1;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, serve, s))
		server_free(s); /* the child's calls will answer EIO */
	pthread_attr_destroy(&attr);
}

/*
 * In the child, single-threaded, after vfile_orphan_all(): the files the
 * server holds for us become forwarded copies.
 */
void preload_fork_child(void)
{
	struct fork_server *s = preload.fork_pending;
	struct preload_fork_chan *c;

	/*
	 * A parent's channel is not ours: its files are orphans here, and
	 * our copy of its socket would keep the server from seeing the
	 * parent's end.
	 */
	if (preload.fork_chan && preload.fork_chan->sock >= 0)
		preload.real.close(preload.fork_chan->sock);
	preload.fork_chan = NULL;
	if (!s)
		return;
	preload.fork_pending = NULL;
	preload.real.close(s->sock[0]);
	c = sio_calloc(1, sizeof(*c));
	if (!c) {
		preload.real.close(s->sock[1]);
	} else {
		c->sock = s->sock[1];
		pthread_mutex_init(&c->lock, NULL);
		atomic_init(&c->refs, (unsigned int)s->n);
	}
	preload.fork_chan = c;
	/* the parent's references are its own: our copies drop them */
	for (size_t i = 0; i < s->n; i++)
		vfile_make_remote(s->files[i], c, (unsigned int)i);
	free(s->files);
	free(s);
}

/* @req's datagram, with @nfds fds of ours for the server. */
static ssize_t send_req(int sock, const struct fork_req *req, const int *fds,
			unsigned int nfds)
{
	union fork_cmsg u;
	struct iovec iov = {.iov_base = (void *)req, .iov_len = sizeof(*req)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	if (nfds) {
		memset(&u, 0, sizeof(u));
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL);
}

/* One call at a time on the channel; -EIO once it is closed or broken. */
static int chan_call_locked(struct preload_fork_chan *c,
			    const struct fork_req *req, struct fork_rep *rep,
			    const int *fds)
{
	ssize_t n;

	if (c->sock < 0)
		return -EIO; /* our last forwarded file is gone */
	do
		n = send_req(c->sock, req, fds, req->nfds);
	while (n < 0 && errno == EINTR);
	if (n != sizeof(*req))
		return -EIO; /* the parent is gone, and the file with it */
	if (!rep)
		return 0;
	do
		n = recv(c->sock, rep, sizeof(*rep), 0);
	while (n < 0 && errno == EINTR);
	return n == sizeof(*rep) ? 0 : -EIO;
}

static int chan_call(struct preload_fork_chan *c, const struct fork_req *req,
		     struct fork_rep *rep, const int *fds)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = chan_call_locked(c, req, rep, fds);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

long preload_fork_ioctl(struct preload_fork_chan *c, unsigned int idx,
			unsigned long cmd, void *arg)
{
	struct fork_req req = {
		.op = FORK_IOCTL,
		.idx = idx,
		.pid = getpid(),
		.cmd = cmd,
		.arg = (uint64_t)(uintptr_t)arg,
	};
	int fds[PRELOAD_FORK_MAX_FDS];
	struct fork_rep rep;
	int rc;

	/* before the lock: converting reads /proc and copies memory */
	req.nfds = preload_fork_share(cmd, arg, fds);
	rc = chan_call(c, &req, &rep, fds);
	return rc ? rc : (long)rep.rc;
}

/*
 * The last file's release closes our end, which ends the server.  The
 * channel itself stays, closed: /proc/self/status and the exit
 * destructor look at preload.fork_chan without a reference, and find a
 * closed channel rather than freed memory.
 */
void preload_fork_release(struct preload_fork_chan *c, unsigned int idx)
{
	struct fork_req req = {.op = FORK_RELEASE, .idx = idx};

	pthread_mutex_lock(&c->lock);
	chan_call_locked(c, &req, NULL, NULL);
	if (atomic_fetch_sub(&c->refs, 1) == 1 && c->sock >= 0) {
		preload.real.close(c->sock);
		c->sock = -1;
	}
	pthread_mutex_unlock(&c->lock);
}

/*
 * The kernel closes an exiting task's files before its parent can reap
 * it: a parent that waited for the child sees the file's last reference
 * gone (the selftests' teardown counts the pins then).  A child that
 * exits through exit() says so and waits for the server to drop its
 * references; this runs among the last destructors (the interposer is
 * the first library loaded).  One that dies otherwise (_exit, a signal)
 * is seen by the channel's end, a moment later.
 */
__attribute__((destructor)) static void fork_exit(void)
{
	struct preload_fork_chan *c = preload.fork_chan;
	struct fork_req req = {.op = FORK_EXIT};
	struct fork_rep rep;

	if (!c)
		return;
	chan_call(c, &req, &rep, NULL);
}

uint64_t preload_fork_pinned_bytes(pid_t pid)
{
	struct preload_fork_chan *c = preload.fork_chan;
	struct fork_req req = {.op = FORK_PINNED, .arg = (uint64_t)pid};
	struct fork_rep rep;
	int rc;

	if (!c)
		return 0;
	rc = chan_call(c, &req, &rep, NULL);
	return rc || rep.rc < 0 ? 0 : (uint64_t)rep.rc;
}

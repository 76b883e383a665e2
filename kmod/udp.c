// SPDX-License-Identifier: GPL-2.0
/*
 * A kernel UDP socket on 127.0.0.1:udp_port that echoes every datagram
 * back to its sender and emits the event "udp.datagram" whose payload is
 * the first KUIF_PAYLOAD_MAX bytes of the datagram (empty for an empty
 * datagram). Datagrams of any size up to the IPv4 maximum of 65507 bytes
 * are echoed whole; an echo the socket cannot send at once (send buffer
 * full) is dropped and counted. Any local user can send datagrams: at most
 * KUIF_LIMIT_RATE a second become events (kuif_limit_allow()), the rest
 * are echoed and counted in /proc/kuif/status as udp_limited.
 *
 * sk_data_ready runs in softirq context: it only queues a work item, which
 * receives with MSG_DONTWAIT, at most KUIF_UDP_BUDGET datagrams per run
 * before it requeues itself so that a flood cannot hog a worker.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/net.h>
#include <linux/in.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include <linux/atomic.h>
#include <net/sock.h>
#include <net/net_namespace.h>
#include "kuif.h"

#define KUIF_UDP_BUF		(64 * 1024)	/* > 65507, the largest */
#define KUIF_UDP_BUDGET		64		/* datagrams per work run */

static unsigned int kuif_udp_port = 5555;

static int kuif_udp_port_set(const char *val, const struct kernel_param *kp)
{
	unsigned int port;
	int err;

	err = kstrtouint(val, 10, &port);
	if (err)
		return err;
	if (port < 1 || port > 65535)
		return -EINVAL;
	*(unsigned int *)kp->arg = port;
	return 0;
}

static const struct kernel_param_ops kuif_udp_port_ops = {
	.set	= kuif_udp_port_set,
	.get	= param_get_uint,
};

module_param_cb(udp_port, &kuif_udp_port_ops, &kuif_udp_port, 0444);
MODULE_PARM_DESC(udp_port, "UDP echo port on 127.0.0.1, 1..65535 (5555)");

static struct socket *kuif_udp_sock;
static void (*kuif_udp_saved_ready)(struct sock *sk);
static bool kuif_udp_live;		/* under sk_callback_lock */
static struct work_struct kuif_udp_work;
static void *kuif_udp_buf;		/* used by the work item only */

static atomic64_t kuif_udp_received;
static atomic64_t kuif_udp_echo_failed;

/* Softirq: defer everything to the work item. */
static void kuif_udp_data_ready(struct sock *sk)
{
	read_lock_bh(&sk->sk_callback_lock);
	if (kuif_udp_live)
		queue_work(system_wq, &kuif_udp_work);
	read_unlock_bh(&sk->sk_callback_lock);
}

static void kuif_udp_echo(struct sockaddr_in *to, int len)
{
	struct msghdr msg = {
		.msg_name	= to,
		.msg_namelen	= sizeof(*to),
		.msg_flags	= MSG_DONTWAIT,
	};
	struct kvec iov = { .iov_base = kuif_udp_buf, .iov_len = len };

	if (kernel_sendmsg(kuif_udp_sock, &msg, &iov, 1, len) != len)
		atomic64_inc(&kuif_udp_echo_failed);
}

/* Receives, echoes and reports one datagram; returns 0 or an errno. */
static int kuif_udp_one(void)
{
	struct sockaddr_in from = { };
	struct msghdr msg = {
		.msg_name	= &from,
		.msg_namelen	= sizeof(from),
	};
	struct kvec iov = {
		.iov_base	= kuif_udp_buf,
		.iov_len	= KUIF_UDP_BUF,
	};
	int n;

	n = kernel_recvmsg(kuif_udp_sock, &msg, &iov, 1, KUIF_UDP_BUF,
			   MSG_DONTWAIT);
	if (n < 0)
		return n;
	atomic64_inc(&kuif_udp_received);
	if (from.sin_family == AF_INET && from.sin_port)
		kuif_udp_echo(&from, n);
	if (kuif_limit_allow(KUIF_LIMITED_UDP))
		kuif_emit("udp.datagram", kuif_udp_buf,
			  min_t(size_t, n, KUIF_PAYLOAD_MAX), NULL);
	return 0;
}

static void kuif_udp_work_fn(struct work_struct *work)
{
	int i, err;

	for (i = 0; i < KUIF_UDP_BUDGET; i++) {
		err = kuif_udp_one();
		if (err == -EAGAIN)
			return;
		if (err) {
			/* An unconnected UDP socket has no lasting errors. */
			pr_warn_ratelimited("udp: receive: %d\n", err);
			return;
		}
	}
	/* More may be queued: let other work run first. */
	queue_work(system_wq, &kuif_udp_work);
}

int __init kuif_udp_init(void)
{
	struct sockaddr_in addr = {
		.sin_family	= AF_INET,
		.sin_port	= htons(kuif_udp_port),
		.sin_addr	= { .s_addr = htonl(INADDR_LOOPBACK) },
	};
	struct sock *sk;
	int err;

	kuif_udp_buf = kvmalloc(KUIF_UDP_BUF, GFP_KERNEL);
	if (!kuif_udp_buf)
		return -ENOMEM;
	INIT_WORK(&kuif_udp_work, kuif_udp_work_fn);

	err = sock_create_kern(&init_net, AF_INET, SOCK_DGRAM, IPPROTO_UDP,
			       &kuif_udp_sock);
	if (err)
		goto err_buf;

	/* Hook in before bind: no datagram can arrive unnoticed. */
	sk = kuif_udp_sock->sk;
	write_lock_bh(&sk->sk_callback_lock);
	kuif_udp_saved_ready = sk->sk_data_ready;
	sk->sk_data_ready = kuif_udp_data_ready;
	kuif_udp_live = true;
	write_unlock_bh(&sk->sk_callback_lock);

	err = kernel_bind(kuif_udp_sock, (struct sockaddr *)&addr,
			  sizeof(addr));
	if (err) {
		pr_err("udp: bind 127.0.0.1:%u: %d\n", kuif_udp_port, err);
		goto err_sock;
	}
	return 0;

err_sock:
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = kuif_udp_saved_ready;
	kuif_udp_live = false;
	write_unlock_bh(&sk->sk_callback_lock);
	cancel_work_sync(&kuif_udp_work);
	sock_release(kuif_udp_sock);
err_buf:
	kuif_udp_sock = NULL;
	kvfree(kuif_udp_buf);
	return err;
}

/*
 * Unhook first (no new work can be queued after the write lock is
 * dropped), then wait for the work, and only then release the socket it
 * uses.
 */
void kuif_udp_exit(void)
{
	struct sock *sk = kuif_udp_sock->sk;

	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_data_ready = kuif_udp_saved_ready;
	kuif_udp_live = false;
	write_unlock_bh(&sk->sk_callback_lock);

	cancel_work_sync(&kuif_udp_work);
	sock_release(kuif_udp_sock);
	kuif_udp_sock = NULL;
	kvfree(kuif_udp_buf);
	kuif_udp_buf = NULL;
	pr_info("udp: %lld datagrams received, %lld echoes dropped\n",
		(long long)atomic64_read(&kuif_udp_received),
		(long long)atomic64_read(&kuif_udp_echo_failed));
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Real-time signals: the registered process gets signal 44 with
 * si_code SI_QUEUE and the low 32 bits of each event's kseq as its value.
 * The registration holds a struct pid reference, never a task pointer; it
 * ends when the process is gone, at the first event after that.
 */
#include <linux/kernel.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/signal.h>
#include <linux/spinlock.h>
#include "kuif.h"

static DEFINE_SPINLOCK(kuif_signal_lock);
static struct pid *kuif_signal_pid;	/* NULL: nobody registered */

static void kuif_signal_swap(struct pid *pid)
{
	struct pid *old;

	spin_lock_bh(&kuif_signal_lock);
	old = kuif_signal_pid;
	kuif_signal_pid = pid;
	spin_unlock_bh(&kuif_signal_lock);
	put_pid(old);
}

/* Registers the process with this pid number (in the caller's namespace);
 * 0 unregisters. */
int kuif_signal_register(pid_t nr)
{
	struct pid *pid;

	if (nr < 0)
		return -EINVAL;
	if (nr == 0) {
		kuif_signal_swap(NULL);
		return 0;
	}
	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	if (!pid_has_task(pid, PIDTYPE_PID)) {
		put_pid(pid);
		return -ESRCH;
	}
	kuif_signal_swap(pid);
	return 0;
}

/* The registered pid number as the caller sees it, 0 if none. */
pid_t kuif_signal_registered(void)
{
	pid_t nr = 0;

	spin_lock_bh(&kuif_signal_lock);
	if (kuif_signal_pid)
		nr = pid_vnr(kuif_signal_pid);
	spin_unlock_bh(&kuif_signal_lock);
	return nr;
}

/* Sends one signal with value to the registered process. */
int kuif_signal_send(u32 value)
{
	struct kernel_siginfo info;
	struct task_struct *task;
	struct pid *pid;
	int err;

	spin_lock_bh(&kuif_signal_lock);
	pid = get_pid(kuif_signal_pid);
	spin_unlock_bh(&kuif_signal_lock);
	if (!pid)
		return 0;

	task = get_pid_task(pid, PIDTYPE_PID);
	if (!task) {
		/* Gone: end the registration, if it is still this one. */
		spin_lock_bh(&kuif_signal_lock);
		if (kuif_signal_pid == pid) {
			kuif_signal_pid = NULL;
			put_pid(pid);
		}
		spin_unlock_bh(&kuif_signal_lock);
		put_pid(pid);
		return 0;
	}

	clear_siginfo(&info);
	info.si_signo = KUIF_SIGNAL_NR;
	info.si_code = SI_QUEUE;
	info.si_int = (int)value;
	err = send_sig_info(info.si_signo, &info, task);
	put_task_struct(task);
	put_pid(pid);
	/* EAGAIN: the receiver's queue is full (RLIMIT_SIGPENDING). */
	return err ? err : 1;
}

/* Publish hook (event lock held, BH disabled): see kuif.h. */
int kuif_signal_publish(const struct kuif_event *ev)
{
	return kuif_signal_send((u32)ev->kseq);
}

void kuif_signal_exit(void)
{
	kuif_signal_swap(NULL);
	kuif_event_sync();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Real-time signals: the registered process gets signal 44 with
 * si_code SI_QUEUE and the low 32 bits of each event's kseq as its value.
 * The registration holds a struct pid reference, never a task pointer; it
 * ends when the process is gone, at the first event after that.
 *
 * Registering a process lets its registrant have it signalled, and signal
 * 44 terminates a process that does not handle it: the caller needs the
 * permission kill(2) asks for, the same user or CAP_KILL. Ending or
 * replacing a live registration takes the same permission over the process
 * registered now, so that a registrant cannot take the channel from a
 * process it could not signal.
 */
#include <linux/kernel.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
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

/*
 * kill(2)'s rule (kill_ok_by_cred() in kernel/signal.c): the caller's real
 * or effective uid is the target's real or saved uid, or the caller has
 * CAP_KILL in the target's user namespace.
 */
static bool kuif_signal_allowed(struct pid *pid)
{
	const struct cred *cred = current_cred();
	const struct cred *tcred;
	struct task_struct *t;
	bool ok = false;

	rcu_read_lock();
	t = pid_task(pid, PIDTYPE_PID);
	if (t) {
		tcred = __task_cred(t);
		ok = uid_eq(cred->euid, tcred->suid) ||
		     uid_eq(cred->euid, tcred->uid) ||
		     uid_eq(cred->uid, tcred->suid) ||
		     uid_eq(cred->uid, tcred->uid) ||
		     ns_capable(tcred->user_ns, CAP_KILL);
	}
	rcu_read_unlock();
	return ok;
}

/*
 * Takes the registration's place if it is still old (the reference the
 * registration held goes); -EAGAIN if another registration came first.
 */
static int kuif_signal_replace(struct pid *old, struct pid *pid)
{
	spin_lock_bh(&kuif_signal_lock);
	if (kuif_signal_pid != old) {
		spin_unlock_bh(&kuif_signal_lock);
		return -EAGAIN;
	}
	kuif_signal_pid = pid;
	spin_unlock_bh(&kuif_signal_lock);
	put_pid(old);
	return 0;
}

/* The registration now, with a reference of its own; NULL if none. */
static struct pid *kuif_signal_get(void)
{
	struct pid *pid;

	spin_lock_bh(&kuif_signal_lock);
	pid = get_pid(kuif_signal_pid);
	spin_unlock_bh(&kuif_signal_lock);
	return pid;
}

/*
 * Registers the process with this pid number (in the caller's namespace),
 * if the caller may signal it (else EPERM); 0 unregisters. A live
 * registration is ended or replaced only by a caller who may signal the
 * process registered now.
 */
int kuif_signal_register(pid_t nr)
{
	struct pid *pid = NULL, *old;
	int err;

	if (nr < 0)
		return -EINVAL;
	if (nr) {
		pid = find_get_pid(nr);
		if (!pid)
			return -ESRCH;
		if (!pid_has_task(pid, PIDTYPE_PID)) {
			err = -ESRCH;
			goto out_put;
		}
		if (!kuif_signal_allowed(pid)) {
			err = -EPERM;
			goto out_put;
		}
	}
	old = kuif_signal_get();
	if (old && pid_has_task(old, PIDTYPE_PID) && !kuif_signal_allowed(old))
		err = -EPERM;
	else
		err = kuif_signal_replace(old, pid);
	put_pid(old);
	if (!err)
		return 0;
out_put:
	put_pid(pid);
	return err;
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

	pid = kuif_signal_get();
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

/* After every part that registers (sysfs, debugfs, generic netlink). */
void kuif_signal_exit(void)
{
	kuif_signal_swap(NULL);
	kuif_event_sync();
}

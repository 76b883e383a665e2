// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/kuif, a misc character device: write() stores a message of at most
 * KUIF_MSG_MAX bytes and emits an event; read() returns the last message;
 * ioctls set and get the message and emit arbitrary events.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/poll.h>
#include "kuif.h"

static DEFINE_MUTEX(kuif_msg_lock);
static char kuif_msg[KUIF_MSG_MAX];
static size_t kuif_msg_len;

static void kuif_msg_store(const char *buf, size_t len)
{
	mutex_lock(&kuif_msg_lock);
	memcpy(kuif_msg, buf, len);
	kuif_msg_len = len;
	mutex_unlock(&kuif_msg_lock);
}

static ssize_t kuif_chardev_read(struct file *file, char __user *ubuf,
				 size_t count, loff_t *ppos)
{
	char buf[KUIF_MSG_MAX];
	size_t len;

	mutex_lock(&kuif_msg_lock);
	len = kuif_msg_len;
	memcpy(buf, kuif_msg, len);
	mutex_unlock(&kuif_msg_lock);

	return simple_read_from_buffer(ubuf, count, ppos, buf, len);
}

static ssize_t kuif_chardev_write(struct file *file, const char __user *ubuf,
				  size_t count, loff_t *ppos)
{
	char buf[KUIF_MSG_MAX];

	if (count > sizeof(buf))
		return -EMSGSIZE;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;

	kuif_msg_store(buf, count);
	kuif_emit("chardev.write", buf, count, NULL);
	return count;
}

static long kuif_ioctl_set_msg(void __user *arg)
{
	struct kuif_msg m;

	if (copy_from_user(&m, arg, sizeof(m)))
		return -EFAULT;
	kuif_msg_store(m.data, strnlen(m.data, sizeof(m.data)));
	kuif_emit("ioctl.set_msg", m.data, strnlen(m.data, sizeof(m.data)),
		  NULL);
	return 0;
}

static long kuif_ioctl_get_msg(void __user *arg)
{
	struct kuif_msg m;

	memset(&m, 0, sizeof(m));
	mutex_lock(&kuif_msg_lock);
	memcpy(m.data, kuif_msg, kuif_msg_len);
	mutex_unlock(&kuif_msg_lock);

	return copy_to_user(arg, &m, sizeof(m)) ? -EFAULT : 0;
}

static long kuif_ioctl_emit(void __user *arg)
{
	struct kuif_emit *req;
	long err;

	/* Too large for the stack; memdup_user bounds the copy. */
	req = memdup_user(arg, sizeof(*req));
	if (IS_ERR(req))
		return PTR_ERR(req);

	err = -EINVAL;
	if (req->reserved || req->len > sizeof(req->payload) ||
	    strnlen(req->event, sizeof(req->event)) == sizeof(req->event))
		goto out;
	err = kuif_emit(req->event, req->payload, req->len, &req->kseq);
	if (err)
		goto out;
	if (put_user(req->kseq, &((struct kuif_emit __user *)arg)->kseq))
		err = -EFAULT;
out:
	kfree(req);
	return err;
}

static long kuif_ioctl_ring_info(void __user *arg)
{
	struct kuif_ring_info info;

	kuif_ring_info(&info);
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long kuif_chardev_ioctl(struct file *file, unsigned int cmd,
			       unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KUIF_IOC_RING_INFO:
		return kuif_ioctl_ring_info(uarg);
	case KUIF_IOC_SET_MSG:
		return kuif_ioctl_set_msg(uarg);
	case KUIF_IOC_GET_MSG:
		return kuif_ioctl_get_msg(uarg);
	case KUIF_IOC_EMIT:
		return kuif_ioctl_emit(uarg);
	default:
		return -ENOTTY;
	}
}

/* Readable when the ring holds records the reader has not consumed. */
static __poll_t kuif_chardev_poll(struct file *file, poll_table *wait)
{
	kuif_ring_poll_wait(file, wait);
	return kuif_ring_readable() ? EPOLLIN | EPOLLRDNORM : 0;
}

static int kuif_chardev_mmap(struct file *file, struct vm_area_struct *vma)
{
	return kuif_ring_mmap(file, vma);
}

static const struct file_operations kuif_chardev_fops = {
	.owner		= THIS_MODULE,
	.read		= kuif_chardev_read,
	.write		= kuif_chardev_write,
	.poll		= kuif_chardev_poll,
	.mmap		= kuif_chardev_mmap,
	.unlocked_ioctl	= kuif_chardev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= default_llseek,
};

static struct miscdevice kuif_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KUIF_NAME,
	.fops	= &kuif_chardev_fops,
	.mode	= 0660,
};

int __init kuif_chardev_init(void)
{
	return misc_register(&kuif_miscdev);
}

void kuif_chardev_exit(void)
{
	misc_deregister(&kuif_miscdev);
}

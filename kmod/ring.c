// SPDX-License-Identifier: GPL-2.0
/*
 * The shared-memory ring of /dev/kuif: a consumer page, a producer page
 * and ring_pages data pages from vmalloc_user(), mapped by readers with
 * mmap(). The protocol is described in the UAPI header.
 *
 * As in the BPF ring buffer, readers can write the consumer page only:
 * kuif_ring_mmap() refuses a writable map of anything else and takes
 * VM_MAYWRITE away from read-only ones, so that neither mprotect() nor a
 * forced write (/proc/PID/mem, ptrace) can make them writable. What the
 * kernel writes, readers can read and not change.
 *
 * The kernel keeps its own copy of every counter and never trusts the
 * consumer page: the consumer position is read once per record, validated,
 * and a corrupt one is counted and reset.
 * Unread data is never overwritten: a full ring counts a drop, whether a
 * reader is attached or not (a reader that comes back, kuifd after a
 * restart, finds what was kept). Readers are woken only when one sleeps
 * in poll(), which it does only after draining the ring, so a busy ring
 * costs one wakeup per batch, not one per record.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/log2.h>
#include <linux/poll.h>
#include "kuif.h"

static unsigned int ring_pages = 64;

static int kuif_ring_pages_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;
	int err;

	err = kstrtouint(val, 0, &n);
	if (err)
		return err;
	if (n < 1 || n > 4096 || !is_power_of_2(n)) {
		pr_err("ring_pages must be a power of two in 1..4096\n");
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops kuif_ring_pages_ops = {
	.set = kuif_ring_pages_set,
	.get = param_get_uint,
};
module_param_cb(ring_pages, &kuif_ring_pages_ops, &ring_pages, 0444);
MODULE_PARM_DESC(ring_pages, "data pages of the mmap ring (power of 2, 1..4096)");

static struct {
	void *mem;
	struct kuif_ring_consumer *cons;	/* page 0: readers write it */
	struct kuif_ring_producer *hdr;		/* page 1: read-only to them */
	u8 *data;				/* pages 2..: read-only */
	unsigned long pages;			/* of the whole ring */
	u32 size;		/* data bytes, a power of two */
	u64 prod;		/* our producer position; the header's is a copy */
	u64 dropped;
	u64 records;
	u64 bad_consumer;
	u64 consumer_max;	/* the highest consumer position accepted */
	bool ready;		/* written under the event lock */
} kuif_ring;

static DECLARE_WAIT_QUEUE_HEAD(kuif_ring_wait);

/* The consumer position, if it makes sense; else reset, counted. */
static u64 kuif_ring_consumer(void)
{
	/* Acquire: the reader is done with the records before this. */
	u64 cons = smp_load_acquire(&kuif_ring.cons->consumer);

	if (cons > kuif_ring.prod || kuif_ring.prod - cons > kuif_ring.size ||
	    cons % 8) {
		kuif_ring.bad_consumer++;
		WRITE_ONCE(kuif_ring.hdr->bad_consumer, kuif_ring.bad_consumer);
		cons = kuif_ring.prod;
		WRITE_ONCE(kuif_ring.cons->consumer, cons);
	}
	if (cons > kuif_ring.consumer_max) {
		kuif_ring.consumer_max = cons;
		WRITE_ONCE(kuif_ring.hdr->consumer_max, cons);
		/*
		 * Before any byte it frees is written: a reader that copied
		 * one of those bytes then sees that it was freed.
		 */
		smp_wmb();
	}
	return cons;
}

static void kuif_ring_put_pad(u32 off, u32 len)
{
	struct kuif_ring_record *r = (void *)(kuif_ring.data + off);

	r->len = len;
	r->type = KUIF_RING_PAD;
}

/*
 * Pairs with the barrier in kuif_ring_poll_wait(): a reader that found
 * nothing to read is on the queue by now, or will see what changed.
 */
static void kuif_ring_wake(void)
{
	if (wq_has_sleeper(&kuif_ring_wait))
		wake_up_interruptible(&kuif_ring_wait);
}

/* Publish hook (event lock held, BH disabled): see kuif.h. */
int kuif_ring_publish(const struct kuif_event *ev)
{
	struct kuif_ring_record *r;
	u32 need, off, pad = 0;
	u64 cons, old = kuif_ring.prod;

	if (!kuif_ring.ready)
		return 0;
	cons = kuif_ring_consumer();
	need = ALIGN(sizeof(*r) + ev->len, 8);
	off = old & (kuif_ring.size - 1);
	if (kuif_ring.size - off < need)
		pad = kuif_ring.size - off;
	if (old + pad + need - cons > kuif_ring.size) {
		kuif_ring.dropped++;
		WRITE_ONCE(kuif_ring.hdr->dropped, kuif_ring.dropped);
		/* A reader that sees this kseq knows it was dropped. */
		smp_store_release(&kuif_ring.hdr->last_kseq, ev->kseq);
		/*
		 * A drop is news too: a reader asleep while the ring looks
		 * full (another reader left the consumer behind) reports the
		 * loss and puts its own position back. One reading a full
		 * ring is not asleep, so this costs nothing there.
		 */
		kuif_ring_wake();
		return -ENOSPC;
	}
	if (pad) {
		kuif_ring_put_pad(off, pad);
		off = 0;
	}

	r = (void *)(kuif_ring.data + off);
	r->len = need;
	r->type = KUIF_RING_EVENT;
	r->payload_len = ev->len;
	r->kseq = ev->kseq;
	r->time_ns = ev->time_ns;
	memcpy(r->event, ev->name, sizeof(r->event));
	memcpy(r->payload, ev->payload, ev->len);

	/* Read locklessly by kuif_ring_readable(). */
	WRITE_ONCE(kuif_ring.prod, old + pad + need);
	kuif_ring.records++;
	WRITE_ONCE(kuif_ring.hdr->records, kuif_ring.records);
	/* The record is complete before the reader can see the position. */
	smp_store_release(&kuif_ring.hdr->producer, kuif_ring.prod);
	/* After producer: whoever sees this kseq sees the record too. */
	smp_store_release(&kuif_ring.hdr->last_kseq, ev->kseq);
	kuif_ring_wake();
	return 1;
}

/* poll(): queue first, then look, so no record can slip in between. */
void kuif_ring_poll_wait(struct file *file, struct poll_table_struct *pt)
{
	poll_wait(file, &kuif_ring_wait, pt);
	/* Pairs with wq_has_sleeper() in kuif_ring_publish(). */
	smp_mb();
}

bool kuif_ring_readable(void)
{
	return READ_ONCE(kuif_ring.cons->consumer) != READ_ONCE(kuif_ring.prod);
}

void kuif_ring_info(struct kuif_ring_info *info)
{
	memset(info, 0, sizeof(*info));
	info->mmap_size = (u64)kuif_ring.pages << PAGE_SHIFT;
	info->consumer_offset = 0;
	info->consumer_size = PAGE_SIZE;
	info->producer_offset = PAGE_SIZE;
	info->producer_size = PAGE_SIZE;
	info->data_offset = 2 * PAGE_SIZE;
	info->data_size = kuif_ring.size;
}

/*
 * Any page range of the ring may be mapped read-only; only the consumer
 * page, alone and shared, may be mapped writable. A private writable copy
 * would never reach the kernel, and a read-only map of what the kernel
 * writes must not become writable later: VM_MAYWRITE goes, which mprotect()
 * and forced writes through get_user_pages() both check.
 *
 * The consumer position decides what the kernel may overwrite, so moving it
 * is the consumer's right alone: the file must have been opened with
 * CAP_NET_ADMIN (kuifd has it). Any other member of the device's group may
 * watch the ring read-only, but cannot make its consumer lose a record.
 */
int kuif_ring_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long pgoff = vma->vm_pgoff, npages = vma_pages(vma);
	bool writable;

	if (pgoff >= kuif_ring.pages || npages > kuif_ring.pages - pgoff)
		return -EINVAL;
	writable = pgoff == 0 && npages == 1 && (vma->vm_flags & VM_SHARED) &&
		   file_ns_capable(file, &init_user_ns, CAP_NET_ADMIN);
	if (!writable) {
		if (vma->vm_flags & VM_WRITE)
			return -EACCES;
		kuif_vm_flags_clear(vma, VM_MAYWRITE);
	}
	return remap_vmalloc_range(vma, kuif_ring.mem, pgoff);
}

int __init kuif_ring_init(void)
{
	struct kuif_ring_producer *h;

	kuif_ring.size = ring_pages * PAGE_SIZE;
	kuif_ring.pages = 2 + ring_pages;
	kuif_ring.mem = vmalloc_user(kuif_ring.pages * PAGE_SIZE);
	if (!kuif_ring.mem)
		return -ENOMEM;
	kuif_ring.cons = kuif_ring.mem;
	h = kuif_ring.mem + PAGE_SIZE;
	h->magic = KUIF_RING_MAGIC;
	h->version = KUIF_RING_VERSION;
	h->data_offset = 2 * PAGE_SIZE;
	h->data_size = kuif_ring.size;
	kuif_ring.hdr = h;
	kuif_ring.data = (u8 *)kuif_ring.mem + 2 * PAGE_SIZE;
	WRITE_ONCE(kuif_ring.prod, 0);
	kuif_ring.consumer_max = 0;
	kuif_event_sync();
	WRITE_ONCE(kuif_ring.ready, true);
	return 0;
}

/* After /dev/kuif is gone: no file, hence no mapping, can remain. */
void kuif_ring_exit(void)
{
	WRITE_ONCE(kuif_ring.ready, false);
	kuif_event_sync();
	vfree(kuif_ring.mem);
	kuif_ring.mem = NULL;
}

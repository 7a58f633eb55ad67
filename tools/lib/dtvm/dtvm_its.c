// SPDX-License-Identifier: GPL-2.0
/*
 * A vGICv3 + ITS on arm64 (see dtvm_its.h).
 */
#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "dtvm_its.h"

#if defined(__aarch64__)

/* ITS register offsets and fields (include/linux/irqchip/arm-gic-v3.h). */
#define DTVM_GITS_CTLR			0x0000
#define DTVM_GITS_CTLR_ENABLE		_BITULL(0)
#define DTVM_GITS_BASER1		0x0108
#define DTVM_GITS_BASER_VALID		_BITULL(63)
#define DTVM_GITS_BASER_RAWB		(7ULL << 59)	/* inner cacheability */
#define DTVM_GITS_BASER_INNER_SHAREABLE	_BITULL(10)
#define DTVM_GITS_BASER_PAGE_SIZE_64K	(2ULL << 8)
#define DTVM_GITS_BASER_NR_PAGES_MASK	0xffULL
#define DTVM_GITS_BASER_ADDR_MASK	0x0000ffffffff0000ULL	/* [47:16] */

static int dtvm_its_attr(int fd, uint32_t group, uint64_t attr, void *val,
			 bool set)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uintptr_t)val,
	};

	return ioctl(fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR,
		     &a) ? -errno : 0;
}

static int dtvm_its_set_addr(int fd, uint64_t type, uint64_t gpa)
{
	return dtvm_its_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, type, &gpa, true);
}

static int dtvm_its_ctrl(int fd, uint64_t attr)
{
	return dtvm_its_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, attr, NULL, true);
}

static int dtvm_its_reg(struct dtvm_its *its, uint64_t off, uint64_t *val,
			bool set)
{
	return dtvm_its_attr(its->its_fd, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, off,
			     val, set);
}

static int dtvm_its_new_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = { .type = type };

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) ? -errno : (int)cd.fd;
}

void dtvm_its_destroy(struct dtvm_its *its)
{
	/*
	 * Only the fds: KVM keeps both devices (they have no ->release)
	 * until the VM itself goes away.
	 */
	if (its->its_fd >= 0)
		close(its->its_fd);
	if (its->gic_fd >= 0)
		close(its->gic_fd);
	its->its_fd = -1;
	its->gic_fd = -1;
}

int dtvm_its_create(int vm_fd, struct dtvm_its *its)
{
	int ret;

	its->its_fd = -1;
	its->gic_fd = dtvm_its_new_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (its->gic_fd < 0)
		return its->gic_fd;
	ret = dtvm_its_set_addr(its->gic_fd, KVM_VGIC_V3_ADDR_TYPE_DIST,
				DTVM_ITS_GICD_GPA);
	ret = ret ?: dtvm_its_set_addr(its->gic_fd,
				       KVM_VGIC_V3_ADDR_TYPE_REDIST,
				       DTVM_ITS_GICR_GPA);
	ret = ret ?: dtvm_its_ctrl(its->gic_fd, KVM_DEV_ARM_VGIC_CTRL_INIT);
	if (ret)
		goto err;

	its->its_fd = dtvm_its_new_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (its->its_fd < 0) {
		ret = its->its_fd;
		goto err;
	}
	ret = dtvm_its_set_addr(its->its_fd, KVM_VGIC_ITS_ADDR_TYPE,
				DTVM_ITS_GITS_GPA);
	ret = ret ?: dtvm_its_ctrl(its->its_fd, KVM_DEV_ARM_VGIC_CTRL_INIT);
	if (ret)
		goto err;
	return 0;
err:
	dtvm_its_destroy(its);
	return ret;
}

int dtvm_its_load_collections(struct dtvm_its *its, void *host_table,
			      uint64_t table_gpa, unsigned int nr,
			      unsigned int nr_vcpus)
{
	uint64_t pages, baser, ctlr = 0, zero = 0;
	uint64_t *cte = host_table;
	unsigned int i;
	int ret;

	if (table_gpa & (DTVM_ITS_PAGE - 1) || table_gpa >> 48 ||
	    nr > DTVM_ITS_MAX_COLLECTIONS || (nr && !nr_vcpus))
		return -EINVAL;
	pages = dtvm_its_save_pages(nr, DTVM_ITS_PAGE);

	ret = dtvm_its_reg(its, DTVM_GITS_CTLR, &ctlr, false);
	if (ret)
		return ret;
	if (ctlr & DTVM_GITS_CTLR_ENABLE)
		return -EBUSY;

	for (i = 0; i < nr; i++)
		cte[i] = htole64(DTVM_ITS_CTE_VALID |
				 (uint64_t)(i % nr_vcpus) << DTVM_ITS_CTE_RDBASE_SHIFT |
				 i);
	cte[nr] = 0;	/* end of table */

	/*
	 * A GITS_BASER1 write that changes the register drops the ITS's
	 * collections (vgic_mmio_write_its_baser()): clearing it first makes
	 * the restore below start empty even when the table does not move,
	 * instead of failing with EEXIST on the first entry.
	 */
	baser = DTVM_GITS_BASER_VALID | DTVM_GITS_BASER_RAWB |
		DTVM_GITS_BASER_INNER_SHAREABLE | DTVM_GITS_BASER_PAGE_SIZE_64K |
		table_gpa | (pages - 1);
	ret = dtvm_its_reg(its, DTVM_GITS_BASER1, &zero, true);
	ret = ret ?: dtvm_its_reg(its, DTVM_GITS_BASER1, &baser, true);
	ret = ret ?: dtvm_its_reg(its, DTVM_GITS_BASER1, &baser, false);
	if (ret)
		return ret;
	if ((baser & (DTVM_GITS_BASER_VALID | DTVM_GITS_BASER_ADDR_MASK |
		      DTVM_GITS_BASER_NR_PAGES_MASK)) !=
	    (DTVM_GITS_BASER_VALID | table_gpa | (pages - 1)))
		return -EIO;

	return dtvm_its_ctrl(its->its_fd, KVM_DEV_ARM_ITS_RESTORE_TABLES);
}

int dtvm_its_save(struct dtvm_its *its)
{
	int ret = dtvm_its_ctrl(its->its_fd, KVM_DEV_ARM_ITS_SAVE_TABLES);

	return ret ?: dtvm_its_ctrl(its->gic_fd,
				    KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES);
}

#else /* !__aarch64__ */

int dtvm_its_create(int vm_fd, struct dtvm_its *its)
{
	(void)vm_fd;
	its->gic_fd = -1;
	its->its_fd = -1;
	return -EOPNOTSUPP;
}

int dtvm_its_load_collections(struct dtvm_its *its, void *host_table,
			      uint64_t table_gpa, unsigned int nr,
			      unsigned int nr_vcpus)
{
	(void)its;
	(void)host_table;
	(void)table_gpa;
	(void)nr;
	(void)nr_vcpus;
	return -EOPNOTSUPP;
}

int dtvm_its_save(struct dtvm_its *its)
{
	(void)its;
	return -EOPNOTSUPP;
}

void dtvm_its_destroy(struct dtvm_its *its)
{
	its->gic_fd = -1;
	its->its_fd = -1;
}

#endif /* __aarch64__ */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vGICv3 + ITS for the arm64 dirtytrack selftests, used as a writer of
 * guest memory that is not a vCPU: KVM_DEV_ARM_ITS_SAVE_TABLES stores the
 * ITS collection table into guest RAM with kvm_write_guest(), with no
 * running vCPU, so the pages land in the backup bitmap
 * (KVM_CAP_DIRTY_LOG_RING_WITH_BITMAP), never in a dirty ring.
 *
 * To make a save write several pages without a guest driver issuing MAPC
 * commands, the VMM side of an ITS migration is replayed: the collection
 * table is written through the host mapping, GITS_BASER1 is pointed at it
 * and KVM_DEV_ARM_ITS_RESTORE_TABLES loads it.  Each later save rewrites
 * every entry plus an end marker, changed or not, and kvm_write_guest()
 * marks each written page dirty unconditionally.
 *
 * Order (arch/arm64/kvm): create every vCPU first, since a vCPU created
 * after the vGIC's CTRL_INIT fails with EBUSY (kvm_arch_vcpu_precreate());
 * KVM_ARM_VCPU_INIT may come before or after.  The ITS registers and
 * tables are reachable only while no vCPU is in KVM_RUN (EBUSY).
 *
 * Other architectures get stubs that fail with EOPNOTSUPP.
 */
#ifndef DT_ITS_H
#define DT_ITS_H

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/const.h>
#include <linux/kvm.h>

struct dt_its {
	int gic_fd;
	int its_fd;
};

/* The QEMU virt machine's layout. */
#define DT_ITS_GICD_GPA		0x08000000ULL
#define DT_ITS_GITS_GPA		0x08080000ULL
#define DT_ITS_GICR_GPA		0x080A0000ULL

/* ITS pages are 64 KiB (vgic_sanitise_its_baser()); entries are 8 bytes. */
#define DT_ITS_PAGE		0x10000ULL
#define DT_ITS_CTE_SIZE		8
/* GITS_TYPER.CIL == 0: 16-bit collection IDs (vgic_its_check_id()). */
#define DT_ITS_MAX_COLLECTIONS	_BITUL(16)

/* Collection table entry, ABI rev 0 (arch/arm64/kvm/vgic/vgic.h). */
#define DT_ITS_CTE_VALID	_BITULL(63)
#define DT_ITS_CTE_RDBASE_SHIFT	16

/* Bytes a save of @nr collections writes: @nr entries + the end marker. */
static inline uint64_t dt_its_save_bytes(unsigned int nr)
{
	return ((uint64_t)nr + 1) * DT_ITS_CTE_SIZE;
}

/* Pages of @page_size bytes a save of @nr collections writes. */
static inline uint64_t dt_its_save_pages(unsigned int nr, uint64_t page_size)
{
	return (dt_its_save_bytes(nr) + page_size - 1) / page_size;
}

#if defined(__aarch64__)

/* ITS register offsets and fields (include/linux/irqchip/arm-gic-v3.h). */
#define DT_GITS_CTLR			0x0000
#define DT_GITS_CTLR_ENABLE		_BITULL(0)
#define DT_GITS_BASER1			0x0108
#define DT_GITS_BASER_VALID		_BITULL(63)
#define DT_GITS_BASER_RAWB		(7ULL << 59)	/* inner cacheability */
#define DT_GITS_BASER_INNER_SHAREABLE	_BITULL(10)
#define DT_GITS_BASER_PAGE_SIZE_64K	(2ULL << 8)
#define DT_GITS_BASER_NR_PAGES_MASK	0xffULL
#define DT_GITS_BASER_ADDR_MASK		0x0000ffffffff0000ULL	/* [47:16] */

static inline int dt_its_attr(int fd, uint32_t group, uint64_t attr,
			      void *val, bool set)
{
	struct kvm_device_attr a = {
		.group = group, .attr = attr, .addr = (uintptr_t)val,
	};

	return ioctl(fd, set ? KVM_SET_DEVICE_ATTR : KVM_GET_DEVICE_ATTR,
		     &a) ? -errno : 0;
}

static inline int dt_its_set_addr(int fd, uint64_t type, uint64_t gpa)
{
	return dt_its_attr(fd, KVM_DEV_ARM_VGIC_GRP_ADDR, type, &gpa, true);
}

static inline int dt_its_ctrl(int fd, uint64_t attr)
{
	return dt_its_attr(fd, KVM_DEV_ARM_VGIC_GRP_CTRL, attr, NULL, true);
}

static inline int dt_its_reg(struct dt_its *its, uint64_t off, uint64_t *val,
			     bool set)
{
	return dt_its_attr(its->its_fd, KVM_DEV_ARM_VGIC_GRP_ITS_REGS, off,
			   val, set);
}

static inline int dt_its_new_device(int vm_fd, uint32_t type)
{
	struct kvm_create_device cd = { .type = type };

	return ioctl(vm_fd, KVM_CREATE_DEVICE, &cd) ? -errno : (int)cd.fd;
}

static inline void dt_its_destroy(struct dt_its *its)
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

/*
 * Create the vGICv3 (distributor, one redistributor region for all vCPUs)
 * and its ITS, and initialise both.  Call it after the last
 * KVM_CREATE_VCPU and before the first KVM_RUN.
 */
static inline int dt_its_create(int vm_fd, struct dt_its *its)
{
	int ret;

	its->its_fd = -1;
	its->gic_fd = dt_its_new_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_V3);
	if (its->gic_fd < 0)
		return its->gic_fd;
	ret = dt_its_set_addr(its->gic_fd, KVM_VGIC_V3_ADDR_TYPE_DIST,
			      DT_ITS_GICD_GPA);
	ret = ret ?: dt_its_set_addr(its->gic_fd, KVM_VGIC_V3_ADDR_TYPE_REDIST,
				     DT_ITS_GICR_GPA);
	ret = ret ?: dt_its_ctrl(its->gic_fd, KVM_DEV_ARM_VGIC_CTRL_INIT);
	if (ret)
		goto err;

	its->its_fd = dt_its_new_device(vm_fd, KVM_DEV_TYPE_ARM_VGIC_ITS);
	if (its->its_fd < 0) {
		ret = its->its_fd;
		goto err;
	}
	ret = dt_its_set_addr(its->its_fd, KVM_VGIC_ITS_ADDR_TYPE,
			      DT_ITS_GITS_GPA);
	ret = ret ?: dt_its_ctrl(its->its_fd, KVM_DEV_ARM_VGIC_CTRL_INIT);
	if (ret)
		goto err;
	return 0;
err:
	dt_its_destroy(its);
	return ret;
}

/*
 * Make the ITS hold @nr collections, ICIDs 0..@nr - 1, collection i
 * targeting vCPU i % @nr_vcpus (vCPU ids 0..@nr_vcpus - 1 must exist), in
 * a flat collection table at @table_gpa, so that every later save writes
 * dt_its_save_bytes(@nr) bytes there.
 *
 * @host_table is the VMM's mapping of guest memory at @table_gpa, which
 * must be 64 KiB aligned, inside a memslot, with room for
 * dt_its_save_pages(@nr, DT_ITS_PAGE) ITS pages.  The entries are written
 * through it, so no vCPU and no KVM write touches the table here; KVM only
 * reads it.  Collections the ITS held before are dropped.
 *
 * Fails with EINVAL for bad arguments, EBUSY if the ITS is enabled (KVM
 * then ignores GITS_BASER writes) or a vCPU is running, and with the
 * restore's errors: EINVAL for an unknown target vCPU, EFAULT outside the
 * memslots.  The restore searches a list for each entry, so its cost
 * grows with @nr squared (9000 takes well under a second under TCG).
 */
static inline int dt_its_load_collections(struct dt_its *its, void *host_table,
					  uint64_t table_gpa, unsigned int nr,
					  unsigned int nr_vcpus)
{
	uint64_t pages, baser, ctlr = 0, zero = 0;
	uint64_t *cte = host_table;
	unsigned int i;
	int ret;

	if (table_gpa & (DT_ITS_PAGE - 1) || table_gpa >> 48 ||
	    nr > DT_ITS_MAX_COLLECTIONS || (nr && !nr_vcpus))
		return -EINVAL;
	pages = dt_its_save_pages(nr, DT_ITS_PAGE);

	ret = dt_its_reg(its, DT_GITS_CTLR, &ctlr, false);
	if (ret)
		return ret;
	if (ctlr & DT_GITS_CTLR_ENABLE)
		return -EBUSY;

	for (i = 0; i < nr; i++)
		cte[i] = htole64(DT_ITS_CTE_VALID |
				 (uint64_t)(i % nr_vcpus) << DT_ITS_CTE_RDBASE_SHIFT |
				 i);
	cte[nr] = 0;	/* end of table */

	/*
	 * A GITS_BASER1 write that changes the register drops the ITS's
	 * collections (vgic_mmio_write_its_baser()): clearing it first makes
	 * the restore below start empty even when the table does not move,
	 * instead of failing with EEXIST on the first entry.
	 */
	baser = DT_GITS_BASER_VALID | DT_GITS_BASER_RAWB |
		DT_GITS_BASER_INNER_SHAREABLE | DT_GITS_BASER_PAGE_SIZE_64K |
		table_gpa | (pages - 1);
	ret = dt_its_reg(its, DT_GITS_BASER1, &zero, true);
	ret = ret ?: dt_its_reg(its, DT_GITS_BASER1, &baser, true);
	ret = ret ?: dt_its_reg(its, DT_GITS_BASER1, &baser, false);
	if (ret)
		return ret;
	if ((baser & (DT_GITS_BASER_VALID | DT_GITS_BASER_ADDR_MASK |
		      DT_GITS_BASER_NR_PAGES_MASK)) !=
	    (DT_GITS_BASER_VALID | table_gpa | (pages - 1)))
		return -EIO;

	return dt_its_ctrl(its->its_fd, KVM_DEV_ARM_ITS_RESTORE_TABLES);
}

/*
 * Save the ITS tables, then the LPI pending tables, into guest memory.
 * With no LPI mapped the second writes nothing.
 */
static inline int dt_its_save(struct dt_its *its)
{
	int ret = dt_its_ctrl(its->its_fd, KVM_DEV_ARM_ITS_SAVE_TABLES);

	return ret ?: dt_its_ctrl(its->gic_fd,
				  KVM_DEV_ARM_VGIC_SAVE_PENDING_TABLES);
}

#else /* !__aarch64__ */

static inline int dt_its_create(int vm_fd, struct dt_its *its)
{
	(void)vm_fd;
	its->gic_fd = -1;
	its->its_fd = -1;
	return -EOPNOTSUPP;
}

static inline int dt_its_load_collections(struct dt_its *its, void *host_table,
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

static inline int dt_its_save(struct dt_its *its)
{
	(void)its;
	return -EOPNOTSUPP;
}

static inline void dt_its_destroy(struct dt_its *its)
{
	its->gic_fd = -1;
	its->its_fd = -1;
}

#endif /* __aarch64__ */

#endif /* DT_ITS_H */

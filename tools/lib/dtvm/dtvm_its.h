/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A vGICv3 + ITS on arm64 (bitmap_source_test, dtmigrate --its), used as a
 * writer of guest memory that is not a vCPU: KVM_DEV_ARM_ITS_SAVE_TABLES stores the
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
 * On other architectures every call but dtvm_its_destroy() fails with
 * EOPNOTSUPP.
 */
#ifndef DTVM_ITS_H
#define DTVM_ITS_H

#include <stdint.h>

#include <linux/const.h>

struct dtvm_its {
	int gic_fd;
	int its_fd;
};

/* The QEMU virt machine's layout. */
#define DTVM_ITS_GICD_GPA		0x08000000ULL
#define DTVM_ITS_GITS_GPA		0x08080000ULL
#define DTVM_ITS_GICR_GPA		0x080A0000ULL

/* ITS pages are 64 KiB (vgic_sanitise_its_baser()); entries are 8 bytes. */
#define DTVM_ITS_PAGE			0x10000ULL
#define DTVM_ITS_CTE_SIZE		8
/* GITS_TYPER.CIL == 0: 16-bit collection IDs (vgic_its_check_id()). */
#define DTVM_ITS_MAX_COLLECTIONS	_BITUL(16)

/* Collection table entry, ABI rev 0 (arch/arm64/kvm/vgic/vgic.h). */
#define DTVM_ITS_CTE_VALID		_BITULL(63)
#define DTVM_ITS_CTE_RDBASE_SHIFT	16

/* Bytes a save of @nr collections writes: @nr entries + the end marker. */
static inline uint64_t dtvm_its_save_bytes(unsigned int nr)
{
	return ((uint64_t)nr + 1) * DTVM_ITS_CTE_SIZE;
}

/* Pages of @page_size bytes a save of @nr collections writes. */
static inline uint64_t dtvm_its_save_pages(unsigned int nr, uint64_t page_size)
{
	return (dtvm_its_save_bytes(nr) + page_size - 1) / page_size;
}

/*
 * Create the vGICv3 (distributor, one redistributor region for all vCPUs)
 * and its ITS, and initialise both.  Call it after the last
 * KVM_CREATE_VCPU and before the first KVM_RUN.  On failure nothing is
 * left open.
 */
int dtvm_its_create(int vm_fd, struct dtvm_its *its);

/*
 * Make the ITS hold @nr collections, ICIDs 0..@nr - 1, collection i
 * targeting vCPU i % @nr_vcpus (vCPU ids 0..@nr_vcpus - 1 must exist), in
 * a flat collection table at @table_gpa, so that every later save writes
 * dtvm_its_save_bytes(@nr) bytes there.
 *
 * @host_table is the VMM's mapping of guest memory at @table_gpa, which
 * must be 64 KiB aligned, inside a memslot, with room for
 * dtvm_its_save_pages(@nr, DTVM_ITS_PAGE) ITS pages.  The entries are
 * written through it, so no vCPU and no KVM write touches the table here;
 * KVM only reads it.  Collections the ITS held before are dropped.
 *
 * Fails with EINVAL for bad arguments, EBUSY if the ITS is enabled (KVM
 * then ignores GITS_BASER writes) or a vCPU is running, and with the
 * restore's errors: EINVAL for an unknown target vCPU, EFAULT outside the
 * memslots.  The restore searches a list for each entry, so its cost
 * grows with @nr squared (9000 takes well under a second under TCG).
 */
int dtvm_its_load_collections(struct dtvm_its *its, void *host_table,
			      uint64_t table_gpa, unsigned int nr,
			      unsigned int nr_vcpus);

/*
 * Save the ITS tables, then the LPI pending tables, into guest memory.
 * With no LPI mapped the second writes nothing.
 */
int dtvm_its_save(struct dtvm_its *its);

/*
 * Close the descriptors; the devices stay with the VM.  Safe on a
 * dtvm_its that dtvm_its_create() failed on, and twice.
 */
void dtvm_its_destroy(struct dtvm_its *its);

#endif /* DTVM_ITS_H */

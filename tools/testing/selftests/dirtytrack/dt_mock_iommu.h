/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The iommufd mock (CONFIG_IOMMUFD_TEST) as a device's IOMMU, for the
 * iommu source's selftests: a mock device attached to a HWPT allocated
 * with IOMMU_HWPT_ALLOC_DIRTY_TRACKING, guest memory mapped into its IOAS,
 * and IOMMU_TEST_OP_DIRTY playing the device's DMA.
 */
#ifndef DT_MOCK_IOMMU_H
#define DT_MOCK_IOMMU_H

#include <linux/iommufd.h>

#include "dt_guest.h"
#include "iommufd_test.h"

#define DMA_SLOT	10
#define DMA_GPA		0x40000000ULL	/* in the mock aperture [16M, 2G) */
#define DMA_PAGES	512		/* 2 MiB: two mock huge pages */
#define DMA_LEN		(DMA_PAGES * DTG_PAGE)
#define MOCK_PAGE	(DTG_PAGE / 2)	/* MOCK_IO_PAGE_SIZE */
#define HUGE_PAGES	256		/* MOCK_HUGE_PAGE_SIZE, in 4 KiB pages */

struct mock {
	int fd;
	uint32_t ioas_id, stdev_id, auto_hwpt_id, idev_id, hwpt_id;
};

static inline int iommufd_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/*
 * Huge IO pages: up to 6.x a flag of the mock device
 * (MOCK_FLAGS_DEVICE_HUGE_IOVA), from 7.x the HWPT's page table type,
 * in selftest data that grew this second field then.
 */
#define DT_MOCK_IOMMUPT_HUGE	1

struct dt_hwpt_selftest {
	__u32 iotlb;
	__u32 pagetable_type;
};

/* A mock device in a new IOAS, on a dirty-tracking HWPT if it can. */
static inline int mock_create(struct mock *m, uint32_t dev_flags)
{
	struct dt_hwpt_selftest data = {
		.iotlb = IOMMU_TEST_IOTLB_DEFAULT,
		.pagetable_type = DT_MOCK_IOMMUPT_HUGE,
	};
	struct iommu_ioas_alloc ioas = { .size = sizeof(ioas) };
	struct iommu_test_cmd dev = {
		.size = sizeof(dev), .op = IOMMU_TEST_OP_MOCK_DOMAIN_FLAGS,
		.mock_domain_flags = { .dev_flags = dev_flags },
	};
	struct iommu_hwpt_alloc hwpt = {
		.size = sizeof(hwpt), .flags = IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
	};
	struct iommu_test_cmd replace = {
		.size = sizeof(replace), .op = IOMMU_TEST_OP_MOCK_DOMAIN_REPLACE,
	};
	int ret;

	m->fd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (m->fd < 0)
		return -errno;
	ret = iommufd_ioctl(m->fd, IOMMU_IOAS_ALLOC, &ioas);
	if (ret)
		return ret;
	m->ioas_id = ioas.out_ioas_id;
	dev.id = m->ioas_id;
	ret = iommufd_ioctl(m->fd, IOMMU_TEST_CMD, &dev);
	if (ret == -EINVAL && (dev_flags & MOCK_FLAGS_DEVICE_HUGE_IOVA)) {
		/* 7.x: the device has no such flag, the HWPT says it. */
		dev.mock_domain_flags.dev_flags &= ~MOCK_FLAGS_DEVICE_HUGE_IOVA;
		hwpt.data_type = IOMMU_HWPT_DATA_SELFTEST;
		hwpt.data_len = sizeof(data);
		hwpt.data_uptr = (uintptr_t)&data;
		ret = iommufd_ioctl(m->fd, IOMMU_TEST_CMD, &dev);
	}
	if (ret)
		return ret;
	m->stdev_id = dev.mock_domain_flags.out_stdev_id;
	m->auto_hwpt_id = dev.mock_domain_flags.out_hwpt_id;
	m->idev_id = dev.mock_domain_flags.out_idev_id;
	m->hwpt_id = m->auto_hwpt_id;
	if (dev_flags & MOCK_FLAGS_DEVICE_NO_DIRTY)
		return 0;
	hwpt.dev_id = m->idev_id;
	hwpt.pt_id = m->ioas_id;
	ret = iommufd_ioctl(m->fd, IOMMU_HWPT_ALLOC, &hwpt);
	if (ret)
		return ret;
	m->hwpt_id = hwpt.out_hwpt_id;
	replace.id = m->stdev_id;
	replace.mock_domain_replace.pt_id = m->hwpt_id;
	return iommufd_ioctl(m->fd, IOMMU_TEST_CMD, &replace);
}

static inline int mock_map(struct mock *m, void *mem, uint64_t len, uint64_t iova)
{
	struct iommu_ioas_map map = {
		.size = sizeof(map), .ioas_id = m->ioas_id,
		.flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE |
			 IOMMU_IOAS_MAP_READABLE,
		.user_va = (uintptr_t)mem, .length = len, .iova = iova,
	};

	return iommufd_ioctl(m->fd, IOMMU_IOAS_MAP, &map);
}

/*
 * Map @len bytes one host page at a time, so that the IOMMU holds no IO
 * page larger than a host page and reports dirty pages exactly.  One map
 * of physically contiguous memory may use larger IO pages where the mock's
 * page table has them (from 7.x it is the generic AMDv1 table, with every
 * power-of-two size), and a write then dirties all of one.
 */
static inline int mock_map_small(struct mock *m, void *mem, uint64_t len,
				 uint64_t iova)
{
	uint64_t off;
	int ret = 0;

	for (off = 0; !ret && off < len; off += DTG_PAGE)
		ret = mock_map(m, (uint8_t *)mem + off, DTG_PAGE, iova + off);
	return ret;
}

static inline int mock_set_tracking(struct mock *m, bool on)
{
	struct iommu_hwpt_set_dirty_tracking st = {
		.size = sizeof(st), .hwpt_id = m->hwpt_id,
		.flags = on ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0,
	};

	return iommufd_ioctl(m->fd, IOMMU_HWPT_SET_DIRTY_TRACKING, &st);
}

/*
 * The guest's code and data slots at IOVA == GPA, beside the DMA slot:
 * the identity map's precondition (every page of every region of address
 * space 0 mapped in the IOAS), which iommufd checks from 6.12.118.
 */
static inline int mock_map_guest(struct mock *m, struct dt_guest *g)
{
	int ret = mock_map(m, g->code, DTG_CODE_SIZE, DTG_CODE_GPA);

	return ret ? ret : mock_map(m, g->data, g->data_pages * DTG_PAGE,
				    DTG_DATA_GPA);
}

/* "The device wrote" the 4 KiB pages @pages of the IOVA range at @iova. */
static inline int mock_dma(struct mock *m, uint64_t iova, const uint32_t *pages,
		    int n)
{
	uint64_t bits[DMA_LEN / MOCK_PAGE / 64] = { 0 };
	struct iommu_test_cmd cmd = {
		.size = sizeof(cmd), .op = IOMMU_TEST_OP_DIRTY, .id = m->hwpt_id,
		.dirty = {
			.iova = iova, .length = DMA_LEN, .page_size = MOCK_PAGE,
			.uptr = (uintptr_t)bits,
		},
	};
	int i;

	for (i = 0; i < n; i++) {
		uint32_t b = pages[i] * (DTG_PAGE / MOCK_PAGE);

		bits[b / 64] |= 1ULL << (b % 64);
	}
	return iommufd_ioctl(m->fd, IOMMU_TEST_CMD, &cmd);
}

/*
 * The DMA slot's memory: 2 MiB aligned and backed by a transparent huge
 * page where the kernel has them, so the mock can map it with huge IO
 * pages (they need physically contiguous memory).
 */
static inline uint8_t *dma_alloc(void)
{
	uint8_t *p = mmap(NULL, 2 * DMA_LEN, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t *a;

	if (p == MAP_FAILED)
		return p;
	a = (uint8_t *)(((uintptr_t)p + DMA_LEN - 1) & ~(uintptr_t)(DMA_LEN - 1));
	if (a > p)
		munmap(p, a - p);
	munmap(a + DMA_LEN, p + DMA_LEN - a);
	madvise(a, DMA_LEN, MADV_HUGEPAGE);
	memset(a, 0, DMA_LEN);
	return a;
}

#endif /* DT_MOCK_IOMMU_H */

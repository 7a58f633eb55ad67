// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/dirtytrack: the version and feature query, and the size-prefixed
 * ioctl convention's documented refusals.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/dirtytrack.h>

#include "kselftest_harness.h"

#define KNOWN_FEATURES (DIRTYTRACK_FEATURE_TRACKER | \
			DIRTYTRACK_FEATURE_KVM_RING | DIRTYTRACK_FEATURE_MMAP | \
			DIRTYTRACK_FEATURE_KVM_BITMAP | \
			DIRTYTRACK_FEATURE_FINAL_SYNC | \
			DIRTYTRACK_FEATURE_VMM_LOG | \
			DIRTYTRACK_FEATURE_REGION_REMOVE_CLAIM | \
			DIRTYTRACK_FEATURE_IOMMU | \
			DIRTYTRACK_FEATURE_NETLINK | \
			DIRTYTRACK_FEATURE_RING_RESET)

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open("/dev/dirtytrack", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open /dev/dirtytrack: %s", strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	close(self->fd);
}

static int page_shift(void)
{
	return __builtin_ctzl(sysconf(_SC_PAGESIZE));
}

TEST_F(dev, info_reports_version_and_page_shift)
{
	struct dirtytrack_info info = { .size = sizeof(info) };

	ASSERT_EQ(0, ioctl(self->fd, DIRTYTRACK_GET_INFO, &info));
	EXPECT_EQ(DIRTYTRACK_API_VERSION, info.api_version);
	EXPECT_EQ(page_shift(), (int)info.page_shift);
	/* This module has all of them, and nothing this test does not know. */
	EXPECT_EQ((__u64)KNOWN_FEATURES, info.features);
	EXPECT_EQ(sizeof(info), info.size);
}

TEST_F(dev, unknown_ioctl_is_enotty)
{
	struct dirtytrack_info info = { .size = sizeof(info) };

	/* Past the end of the table, below its base, and another type. */
	EXPECT_EQ(-1, ioctl(self->fd, _IO(DIRTYTRACK_TYPE, 0xff), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO(DIRTYTRACK_TYPE, 0x10), &info));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('x', DIRTYTRACK_CMD_GET_INFO), &info));
	EXPECT_EQ(ENOTTY, errno);
	/* The right number with the direction/size bits of another encoding. */
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(DIRTYTRACK_TYPE,
					    DIRTYTRACK_CMD_GET_INFO,
					    struct dirtytrack_info), &info));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, short_struct_is_einval)
{
	struct dirtytrack_info info;

	memset(&info, 0xa5, sizeof(info));
	info.size = offsetof(struct dirtytrack_info, features);
	info.flags = 0;
	EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was written back. */
	EXPECT_EQ(0xa5a5a5a5u, info.api_version);

	info.size = 0;
	EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

struct info_plus {
	struct dirtytrack_info info;
	uint64_t tail[4];
};

TEST_F(dev, oversized_struct_with_nonzero_tail_is_e2big)
{
	struct info_plus big = { .info.size = sizeof(big) };

	big.tail[3] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, &big));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(0u, big.info.api_version);
}

TEST_F(dev, oversized_struct_with_zero_tail_is_accepted)
{
	struct info_plus big = { .info.size = sizeof(big) };

	ASSERT_EQ(0, ioctl(self->fd, DIRTYTRACK_GET_INFO, &big));
	EXPECT_EQ(DIRTYTRACK_API_VERSION, big.info.api_version);
	/* The kernel writes back only its own struct. */
	EXPECT_EQ(0ULL, big.tail[0] | big.tail[1] | big.tail[2] | big.tail[3]);
}

TEST_F(dev, unknown_flag_is_eopnotsupp)
{
	struct dirtytrack_info info = { .size = sizeof(info) };
	int bit;

	for (bit = 0; bit < 32; bit++) {
		info.flags = 1u << bit;
		EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, &info));
		EXPECT_EQ(EOPNOTSUPP, errno);
		EXPECT_EQ(0u, info.api_version);
	}
}

TEST_F(dev, bad_pointer_is_efault)
{
	void *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct dirtytrack_info *info;

	EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Readable (size 0 there: -EINVAL first), then readable but not writable. */
	ASSERT_NE(MAP_FAILED, ro);
	EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, ro));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ | PROT_WRITE));
	info = ro;
	info->size = sizeof(*info);
	ASSERT_EQ(0, mprotect(ro, 4096, PROT_READ));
	EXPECT_EQ(-1, ioctl(self->fd, DIRTYTRACK_GET_INFO, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, 4096);
}

TEST_HARNESS_MAIN

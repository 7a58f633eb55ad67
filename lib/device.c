// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The connection to /dev/dirtytrack: open, version check, module query.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/dirtytrack.h>

#include "dirtytrack.h"
#include "opts.h"

struct dirtytrack {
	int fd;
	struct dirtytrack_info info;
};

static int dt_query(int fd, struct dirtytrack_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, DIRTYTRACK_GET_INFO, info))
		return -errno;
	return 0;
}

int dirtytrack_open(const struct dirtytrack_open_opts *opts,
		    struct dirtytrack **out)
{
	struct dirtytrack *dt;
	const char *path;
	int ret;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (opts) {
		ret = DT_OPTS_CHECK(opts, dirtytrack_open_opts, sz);
		if (ret)
			return ret;
	}
	path = DT_OPTS_GET(opts, dirtytrack_open_opts, path, NULL);
	if (!path)
		path = DIRTYTRACK_DEV_PATH;

	dt = calloc(1, sizeof(*dt));
	if (!dt)
		return -ENOMEM;
	dt->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dt->fd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = dt_query(dt->fd, &dt->info);
	if (ret)
		goto err_close;
	if (dt->info.api_version < DIRTYTRACK_API_VERSION) {
		ret = -EPROTO;
		goto err_close;
	}
	*out = dt;
	return 0;

err_close:
	close(dt->fd);
err_free:
	free(dt);
	return ret;
}

void dirtytrack_close(struct dirtytrack *dt)
{
	if (!dt)
		return;
	close(dt->fd);
	free(dt);
}

int dirtytrack_get_module_info(struct dirtytrack *dt,
			       struct dirtytrack_module_info *info)
{
	struct dirtytrack_module_info full = { .sz = sizeof(full) };
	int ret;

	if (!dt || !info)
		return -EINVAL;
	ret = DT_OPTS_CHECK(info, dirtytrack_module_info, sz);
	if (ret)
		return ret;
	/* Re-read: the answer must describe the module as it is now. */
	ret = dt_query(dt->fd, &dt->info);
	if (ret)
		return ret;
	full.api_version = dt->info.api_version;
	full.page_shift = dt->info.page_shift;
	full.features = dt->info.features;
	memcpy((char *)info + sizeof(info->sz), (char *)&full + sizeof(full.sz),
	       (info->sz < sizeof(full) ? info->sz : sizeof(full)) -
	       sizeof(info->sz));
	return 0;
}

// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * The connection: the backend chosen, the module's version checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "libdt.h"
#include "opts.h"

uint64_t dt_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int dt_query(int fd, struct dirtytrack_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	if (ioctl(fd, DIRTYTRACK_GET_INFO, info))
		return -errno;
	return 0;
}

/* The backend asked for: the option, else the environment, else auto. */
static int dt_backend_wanted(enum dirtytrack_backend opt,
			     enum dirtytrack_backend *out)
{
	const char *env = getenv(DIRTYTRACK_BACKEND_ENV);

	if (opt > DIRTYTRACK_BACKEND_USER)
		return -EINVAL;
	*out = opt;
	if (opt != DIRTYTRACK_BACKEND_AUTO || !env || !*env)
		return 0;
	if (!strcmp(env, "kernel"))
		*out = DIRTYTRACK_BACKEND_KERNEL;
	else if (!strcmp(env, "user"))
		*out = DIRTYTRACK_BACKEND_USER;
	else if (strcmp(env, "auto"))
		return -EINVAL;
	return 0;
}

/*
 * Open the module's device.  With the backend left to choose, a device
 * that is not there (no module: ENOENT; a node without a driver: ENODEV,
 * ENXIO) means the user backend; any other error is reported.
 */
static int dt_open_kernel(struct dirtytrack *dt, const char *path, bool fallback)
{
	int ret;

	dt->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dt->fd < 0) {
		ret = -errno;
		if (fallback && (ret == -ENOENT || ret == -ENODEV || ret == -ENXIO)) {
			dt->backend = DIRTYTRACK_BACKEND_USER;
			return 0;
		}
		return ret;
	}
	ret = dt_query(dt->fd, &dt->info);
	if (!ret && dt->info.api_version < DIRTYTRACK_API_VERSION)
		ret = -EPROTO;
	if (ret) {
		close(dt->fd);
		dt->fd = -1;
		return ret;
	}
	dt->backend = DIRTYTRACK_BACKEND_KERNEL;
	dt->page_shift = dt->info.page_shift;
	return 0;
}

int dirtytrack_open(const struct dirtytrack_open_opts *opts,
		    struct dirtytrack **out)
{
	enum dirtytrack_backend want;
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
	ret = dt_backend_wanted(DT_OPTS_GET(opts, dirtytrack_open_opts, backend,
					    DIRTYTRACK_BACKEND_AUTO), &want);
	if (ret)
		return ret;

	dt = calloc(1, sizeof(*dt));
	if (!dt)
		return -ENOMEM;
	dt->fd = -1;
	dt->refs = 1;
	dt->backend = DIRTYTRACK_BACKEND_USER;
	if (want != DIRTYTRACK_BACKEND_USER) {
		ret = dt_open_kernel(dt, path, want == DIRTYTRACK_BACKEND_AUTO);
		if (ret) {
			free(dt);
			return ret;
		}
	}
	if (dt->backend == DIRTYTRACK_BACKEND_USER) {
		long pg = sysconf(_SC_PAGESIZE);

		dt->page_shift = (unsigned int)__builtin_ctzl((unsigned long)pg);
	}
	*out = dt;
	return 0;
}

void dt_lib_put(struct dirtytrack *dt)
{
	if (__atomic_sub_fetch(&dt->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (dt->fd >= 0)
		close(dt->fd);
	free(dt);
}

/* Trackers keep the connection alive: it goes with the last of them. */
void dirtytrack_close(struct dirtytrack *dt)
{
	if (dt)
		dt_lib_put(dt);
}

enum dirtytrack_backend dirtytrack_get_backend(const struct dirtytrack *dt)
{
	return dt ? dt->backend : DIRTYTRACK_BACKEND_AUTO;
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
	if (dt->backend != DIRTYTRACK_BACKEND_KERNEL)
		return -ENODEV;
	/* Re-read: the answer must describe the module as it is now. */
	ret = dt_query(dt->fd, &dt->info);
	if (ret)
		return ret;
	full.api_version = dt->info.api_version;
	full.page_shift = dt->info.page_shift;
	full.features = dt->info.features;
	dt_opts_copy_out(info, info->sz, &full, sizeof(full));
	return 0;
}

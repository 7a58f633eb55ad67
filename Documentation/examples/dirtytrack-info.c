// SPDX-License-Identifier: LGPL-2.1 OR BSD-2-Clause
/*
 * dirtytrack-info: what the running dirtytrack module supports.
 *
 *   cc -o dirtytrack-info dirtytrack-info.c $(pkg-config --cflags --libs libdirtytrack)
 *
 * Exit status: 0, or 2 if the device cannot be opened (no module loaded:
 * ENOENT) or queried; the error is printed.
 */
#include <stdio.h>
#include <string.h>

#include <dirtytrack.h>

int main(int argc, char **argv)
{
	struct dirtytrack_open_opts opts = DIRTYTRACK_OPTS_INIT(dirtytrack_open_opts,
		.path = argc > 1 ? argv[1] : NULL);
	struct dirtytrack_module_info info = DIRTYTRACK_OPTS_INIT(dirtytrack_module_info);
	struct dirtytrack *dt;
	int ret;

	ret = dirtytrack_open(&opts, &dt);
	if (ret) {
		fprintf(stderr, "dirtytrack_open: %s\n", strerror(-ret));
		return 2;
	}
	ret = dirtytrack_get_module_info(dt, &info);
	if (ret) {
		fprintf(stderr, "dirtytrack_get_module_info: %s\n", strerror(-ret));
		dirtytrack_close(dt);
		return 2;
	}
	printf("api_version %u\npage_shift %u\nfeatures %#llx\n",
	       info.api_version, info.page_shift,
	       (unsigned long long)info.features);
	dirtytrack_close(dt);
	return 0;
}

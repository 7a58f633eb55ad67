// SPDX-License-Identifier: GPL-2.0
/*
 * Linked into the static build (the test guests') only.
 *
 * libnl-3's address and protocol-name helpers, which this tool never
 * calls, sit in objects it needs and reference glibc's NSS lookups.  In a
 * static binary those would load glibc's shared NSS modules at run time,
 * which the guests do not have, and ld warns about each.  Defined here,
 * they fail as NSS would with nothing configured, and glibc's are not
 * linked.
 */
#include <netdb.h>
#include <stddef.h>

int getaddrinfo(const char *node, const char *service,
		const struct addrinfo *hints, struct addrinfo **res)
{
	(void)node;
	(void)service;
	(void)hints;
	*res = NULL;
	return EAI_FAIL;
}

void freeaddrinfo(struct addrinfo *res)
{
	(void)res;
}

struct protoent *getprotobyname(const char *name)
{
	(void)name;
	return NULL;
}

struct protoent *getprotobynumber(int proto)
{
	(void)proto;
	return NULL;
}

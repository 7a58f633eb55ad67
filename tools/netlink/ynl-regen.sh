#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Generate the netlink C definitions from the family's YAML spec with the
# kernel's own generator (tools/net/ynl/ynl-gen-c.py of linux-source-6.12),
# the way the kernel's ynl-regen.sh does for in-tree families.
#
#   ynl-regen.sh           rewrite the generated files
#   ynl-regen.sh --check   fail if they differ from what the spec generates
#
# Needs DT_LINUX_SRC (the linux-source-6.12 tree), python3-yaml and
# python3-jsonschema.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
src=${DT_LINUX_SRC:?set DT_LINUX_SRC to the linux-source-6.12 tree}
gen=$src/tools/net/ynl/ynl-gen-c.py
spec=Documentation/netlink/specs/dirtytrack.yaml
check=0
[ "${1:-}" = --check ] && check=1

# The generator finds its schema beside the spec's directory, and names
# the spec relative to the nearest directory with a MAINTAINERS file (it
# climbs forever without one): stage a kernel-shaped tree.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/Documentation/netlink/specs" "$tmp/out"
: >"$tmp/MAINTAINERS"
cp "$src/Documentation/netlink/genetlink.yaml" "$tmp/Documentation/netlink/"
cp "$top/$spec" "$tmp/$spec"

# target (relative to the top) and the generator's mode arguments
outputs=(
	"include/uapi/linux/dirtytrack_netlink.h:--mode uapi --header"
	"drivers/dirtytrack/nl_gen.h:--mode kernel --header"
	"drivers/dirtytrack/nl_gen.c:--mode kernel --source"
)

rc=0
for o in "${outputs[@]}"; do
	target=${o%%:*}
	args=${o#*:}
	out=$tmp/out/$(basename "$target")
	# shellcheck disable=SC2086 # $args is a list of options
	timeout 120 /usr/bin/python3 "$gen" $args --spec "$tmp/$spec" -o "$out"
	if [ $check = 1 ]; then
		if ! cmp -s "$out" "$top/$target"; then
			echo "ynl-regen: $target does not match $spec" >&2
			diff -u "$top/$target" "$out" >&2 || true
			rc=1
		fi
	else
		cp "$out" "$top/$target"
		echo "GEN $target"
	fi
done
exit $rc

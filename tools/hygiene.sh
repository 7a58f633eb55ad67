#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The kernel hygiene gates, as TAP on stdout (and in build/results/
# hygiene.tap): checkpatch --strict, kernel-doc, the .rst documents, W=1
# -Werror + sparse (C=2) builds with no warning for amd64 and arm64 (6.12),
# against Debian bookworm's 6.1 headers (the oldest kernel the module
# promises) and against the newest guest's kernel.

top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tools/tap-suite.sh
. "$top/tools/tap-suite.sh" hygiene

# Tracked and new (untracked, not ignored) files alike; not the netlink
# code generated from its YAML spec (checked against the spec instead).
mapfile -t ksrcs < <(git ls-files --cached --others --exclude-standard \
	'drivers/dirtytrack/*.[ch]' 'include/uapi/linux/*.h' |
	xargs grep -L '^/\* YNL-GEN ')

log=$logs/checkpatch.log
# An out-of-tree module built for every kernel from 6.1 on tests
# LINUX_VERSION_CODE where an interface changed; in-tree code would not.
perl "$DT_CHECKPATCH" --strict --no-tree --quiet --show-types \
	--ignore FILE_PATH_CHANGES,LINUX_VERSION_CODE -f "${ksrcs[@]}" >"$log" 2>&1
tap_check $? "checkpatch.pl --strict" "$log"

log=$logs/kernel-doc.log
perl "$DT_LINUX_SRC/scripts/kernel-doc" -none -Wall "${ksrcs[@]}" >"$log" 2>&1 &&
	! grep -q . "$log"
tap_check $? "kernel-doc -Wall" "$log"

# Every reStructuredText document parses with no warning (a malformed
# table silently renders as a paragraph).
log=$logs/rst.log
mapfile -t docs < <(git ls-files --cached --others --exclude-standard \
	'Documentation/*.rst' 'Documentation/**/*.rst')
/usr/bin/python3 - "${docs[@]}" >"$log" 2>&1 <<'EOF'
import sys
import docutils.core
import docutils.utils

failed = 0
for doc in sys.argv[1:]:
    try:
        docutils.core.publish_file(source_path=doc,
                                   destination_path="/dev/null",
                                   writer_name="null",
                                   settings_overrides={"halt_level": 2,
                                                       "report_level": 2})
    except docutils.utils.SystemMessage as e:
        print(e)
        failed = 1
sys.exit(failed)
EOF
tap_check $? "Documentation parses (docutils, warnings fatal)" "$log"

# The rules and designs the code relies on ship with it (Documentation/):
# no file may cite a document outside the tree.
log=$logs/outside-docs.log
git ls-files --cached --others --exclude-standard -- ':!tools/hygiene.sh' |
	xargs grep -nE '(DOMAIN|DESIGN|TESTING|STYLE)\.md|shared/docs' >"$log" 2>&1
! grep -q . "$log"
tap_check $? "no reference to a document outside the tree" "$log"

# The netlink definitions are what the kernel's generator makes of the spec.
log=$logs/ynl-regen.log
DT_LINUX_SRC=$DT_LINUX_SRC "$top/tools/netlink/ynl-regen.sh" --check >"$log" 2>&1
tap_check $? "netlink C generated from its YAML spec (ynl-gen-c.py)" "$log"

# The patches for KVM in contrib/ still apply to Debian's newest source.
if [ -n "${DT_LINUX_SRC_NEWEST:-}" ]; then
	log=$logs/contrib-kvm.log
	rc=0
	for p in "$top"/contrib/kvm/*.patch; do
		patch -p1 --dry-run -d "$DT_LINUX_SRC_NEWEST" <"$p" >>"$log" 2>&1 || rc=1
	done
	tap_check $rc "contrib/kvm patches apply to linux-source-$DT_NEWEST_VERSION" "$log"
fi

# A module build in its own copy of the sources (so no two builds share
# objects), failing on any compiler or sparse warning.
kbuild_gate() {
	local name=$1 kdir=$2 dir=$build/kmod/$1 log=$logs/$1.log
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir"
	rsync -a --relative Kbuild drivers/dirtytrack include/uapi "$dir/" &&
		make -C "$kdir" M="$dir" "$@" modules >"$log" 2>&1 &&
		! grep -Ei '(warning|error):' "$log" >/dev/null
	tap_check $? "$name" "$log"
}

# The amd64 and 6.1 gates build the test build (its test hooks too), the
# arm64 one the module users get.
kbuild_gate w1-sparse-amd64 "$DT_KDIR_AMD64" W=1 C=2 KCFLAGS=-Werror DT_TEST_HOOKS=y
kbuild_gate w1-sparse-arm64 "$DT_KDIR_ARM64" W=1 C=2 KCFLAGS=-Werror \
	ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
kbuild_gate w1-sparse-6.1-amd64 "$DT_KDIR_61" W=1 C=2 KCFLAGS=-Werror DT_TEST_HOOKS=y
# Debian's newest kernel (the newest guest's build tree), when set up.
if [ -n "${DT_KDIR_NEWEST:-}" ]; then
	kbuild_gate "w1-sparse-newest-$DT_NEWEST_VERSION" "$DT_KDIR_NEWEST" W=1 C=2 \
		KCFLAGS=-Werror DT_TEST_HOOKS=y
fi

exit $tap_failed

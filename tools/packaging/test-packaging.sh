#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The packaging a user expects, exercised for real, as TAP on stdout (and
# in build/results/packaging.tap):
#  - every exported function has a man page, and every man page renders
#    without a warning;
#  - `make install` into a DESTDIR and PREFIX: the shared library with its
#    soname links, the static one, the header, the pkg-config file, the
#    man pages and the examples, dtmigrate with its man page, and
#    dirtytrack(8) with its man page, linked with the host's libnl;
#  - the documented examples built through pkg-config against that tree
#    and run: dirtytrack-info with the kernel backend forced and no device
#    (it must report ENOENT and exit 2); precopy on a real KVM VM when
#    /dev/kvm is usable (skipped otherwise), with whichever backend the
#    host has; the installed dtmigrate migrates a guest (user backend)
#    and has no fault injection; the installed dirtytrack answers --help,
#    and on a host without the module says so and exits 2;
#  - `make uninstall` removes all of it;
#  - `make modules_install` puts the module under DESTDIR;
#  - dkms builds the module from dkms.conf for the Debian 6.12 kernel (in
#    private dkms and source trees: the host's dkms state is untouched).

top=$(cd "$(dirname "$0")/../.." && pwd)
tap_show='tail -n 20'
# shellcheck source=tools/tap-suite.sh
. "$top/tools/tap-suite.sh" packaging
# A fresh tree each time: the install and dkms trees are checked whole.
rm -rf "$logs" && mkdir -p "$logs"

# tap_skip NAME REASON: a check this host cannot run.
tap_skip() {
	tap_n=$((tap_n + 1))
	echo "ok $tap_n $tap_suite: $1 # SKIP $2" | tee -a "$out"
}

log=$logs/man.log
: >"$log"
for sym in $(sed -n 's/^[[:space:]]*\(dirtytrack_[a-z_]*\);/\1/p' lib/libdirtytrack.map); do
	[ -f "Documentation/man/man3/$sym.3" ] || echo "$sym: no man page" >>"$log"
done
for page in Documentation/man/man*/*.[0-9]; do
	groff -man -ww -z -Tutf8 "$page" 2>&1 | sed "s|^|$page: |" >>"$log"
done
[ ! -s "$log" ]
tap_check $? "a man page per exported function, each rendering without a warning" "$log"

dest=$logs/destdir
lib=$dest/usr/lib
log=$logs/install.log
make -s install DESTDIR="$dest" PREFIX=/usr >"$log" 2>&1
tap_check $? "make install DESTDIR=... PREFIX=/usr" "$log"

so=$(cd "$lib" 2>/dev/null && ls libdirtytrack.so.*.*.* 2>/dev/null)
[ -f "$lib/$so" ] && [ -f "$lib/libdirtytrack.a" ] &&
	[ -f "$dest/usr/include/dirtytrack.h" ] &&
	[ -f "$lib/pkgconfig/libdirtytrack.pc" ] &&
	[ -f "$dest/usr/share/man/man3/dirtytrack_open.3" ] &&
	[ -f "$dest/usr/share/man/man7/libdirtytrack.7" ] &&
	[ -f "$dest/usr/share/doc/libdirtytrack/examples/dirtytrack-info.c" ] &&
	[ -f "$dest/usr/share/doc/libdirtytrack/examples/precopy.c" ] &&
	[ -x "$dest/usr/bin/dtmigrate" ] &&
	[ -f "$dest/usr/share/man/man1/dtmigrate.1" ] &&
	[ -x "$dest/usr/bin/dirtytrack" ] &&
	[ -f "$dest/usr/share/man/man8/dirtytrack.8" ] &&
	readelf -d "$dest/usr/bin/dirtytrack" | grep -q 'NEEDED.*\[libnl-genl-3\.so' &&
	readelf -d "$dest/usr/bin/dtmigrate" | grep -q 'NEEDED.*\[libdirtytrack.so.0\]' &&
	[ "$(readlink "$lib/libdirtytrack.so.0")" = "$so" ] &&
	[ "$(readlink "$lib/libdirtytrack.so")" = libdirtytrack.so.0 ] &&
	readelf -d "$lib/$so" | grep -q 'SONAME.*\[libdirtytrack.so.0\]'
tap_check $? "installed: $so with its soname links, .a, header, .pc, man pages, examples, dtmigrate, dirtytrack"

log=$logs/pkg-config.log
PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
	pkg-config --cflags --libs libdirtytrack >"$log" 2>&1 &&
	grep -qx -- "-I$dest/usr/include -L$dest/usr/lib -ldirtytrack *" "$log"
tap_check $? "pkg-config --cflags --libs libdirtytrack" "$log"

log=$logs/example.log
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$logs/dirtytrack-info" \
	Documentation/examples/dirtytrack-info.c \
	$(PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
	  pkg-config --cflags --libs libdirtytrack) >"$log" 2>&1 &&
	readelf -d "$logs/dirtytrack-info" | grep -q 'NEEDED.*\[libdirtytrack.so.0\]'
tap_check $? "the documented example builds against the installed tree" "$log"

# Forced: left to choose, the library would fall back to the user backend.
DIRTYTRACK_BACKEND=kernel LD_LIBRARY_PATH=$lib "$logs/dirtytrack-info" \
	/nonexistent/dirtytrack >"$log" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "dirtytrack_open: No such file or directory" "$log"
tap_check $? "the example runs: no device is ENOENT, exit 2 (got $rc)" "$log"

log=$logs/precopy.log
# shellcheck disable=SC2046
cc -Wall -Wextra -Werror -o "$logs/precopy" Documentation/examples/precopy.c \
	$(PKG_CONFIG_LIBDIR=$lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$dest \
	  pkg-config --cflags --libs libdirtytrack) >"$log" 2>&1 &&
	readelf -d "$logs/precopy" | grep -q 'NEEDED.*\[libdirtytrack.so.0\]'
tap_check $? "the precopy example builds against the installed tree" "$log"

# Its rounds claim all 4096 pages, then exactly the pages it wrote.
name="the precopy example migrates a KVM VM's memslot"
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	LD_LIBRARY_PATH=$lib "$logs/precopy" >"$log" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -qx "migrated" "$log"
	tap_check $? "$name (exit $rc, $(sed -n 's/^backend: \([a-z]*\).*/\1/p' "$log") backend)" "$log"
else
	tap_skip "$name" "no usable /dev/kvm"
fi

# The installed dtmigrate: a real migration, and no test-only option.
log=$logs/dtmigrate.log
name="the installed dtmigrate migrates a guest byte-exact (user backend)"
if [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	LD_LIBRARY_PATH=$lib "$dest/usr/bin/dtmigrate" --backend user --mem 32 \
		>"$log" 2>&1
	rc=$?
	[ $rc = 0 ] && grep -qx "PASS" "$log"
	tap_check $? "$name (exit $rc)" "$log"
else
	tap_skip "$name" "no usable /dev/kvm"
fi
LD_LIBRARY_PATH=$lib "$dest/usr/bin/dtmigrate" --drop-page >"$log" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "unrecognized option" "$log"
tap_check $? "the installed dtmigrate refuses --drop-page (exit $rc)" "$log"

# The installed dirtytrack(8): its help, and no module is a clear exit 2.
log=$logs/dirtytrack.log
"$dest/usr/bin/dirtytrack" --help >"$log" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '^Usage: dirtytrack' "$log" && grep -q 'monitor' "$log"
tap_check $? "the installed dirtytrack runs --help (exit $rc)" "$log"
name="the installed dirtytrack without the module: exit 2, and why"
if [ -e /sys/module/dirtytrack ]; then
	tap_skip "$name" "the module is loaded on this host"
else
	"$dest/usr/bin/dirtytrack" list >"$log" 2>&1
	rc=$?
	[ $rc = 2 ] && grep -q 'is the dirtytrack module loaded' "$log"
	tap_check $? "$name (got $rc)" "$log"
fi

log=$logs/uninstall.log
make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$log" 2>&1 &&
	[ -z "$(find "$dest" -type f -o -type l)" ]
tap_check $? "make uninstall leaves nothing behind" "$log"

log=$logs/modules_install.log
rm -rf "$dest"
make -s modules_install DESTDIR="$dest" >"$log" 2>&1 &&
	[ -n "$(find "$dest/lib/modules/$DT_KV_AMD64" -name 'dirtytrack.ko*' 2>/dev/null)" ]
tap_check $? "make modules_install DESTDIR=..." "$log"

log=$logs/dkms.log
tree=$logs/dkms
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
mkdir -p "$tree/src/dirtytrack-$ver" "$tree/dkms"
git ls-files -z --cached --others --exclude-standard | grep -z -E '^(Kbuild|dkms.conf|drivers/|include/uapi/)' |
	xargs -0 cp --parents -t "$tree/src/dirtytrack-$ver"
{
	dkms add dirtytrack/"$ver" --sourcetree "$tree/src" --dkmstree "$tree/dkms" &&
	dkms build dirtytrack/"$ver" --sourcetree "$tree/src" --dkmstree "$tree/dkms" \
		-k "$DT_KV_AMD64" --kernelsourcedir "$DT_KDIR_AMD64"
} >"$log" 2>&1 &&
	[ -n "$(find "$tree/dkms/dirtytrack/$ver/$DT_KV_AMD64" -name 'dirtytrack.ko*' 2>/dev/null)" ]
tap_check $? "dkms add + build for $DT_KV_AMD64 from dkms.conf" "$log"

exit $tap_failed

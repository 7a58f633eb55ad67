#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# libdirtytrack's user backend natively on this host, against real KVM: the
# user variants of lib_test (the kernel variants need the module, and run
# in the guests).  The host's /dev/kvm supports rings and bitmaps
# (TESTING.md), so every test must run: a skip is a failure, and so is a
# host without /dev/kvm.  TAP goes to build/results/lib-host.tap.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
results=$build/results
bin=$build/x86_64/selftests/lib_test
tap=$results/lib-host.tap
log=$results/lib-host.log
mkdir -p "$results"

if [ ! -c /dev/kvm ]; then
	echo "not ok - lib-host: no /dev/kvm on this host" | tee "$tap"
	exit 1
fi
if [ ! -x "$bin" ]; then
	echo "not ok - lib-host: $bin not built" | tee "$tap"
	exit 1
fi
# The environment must not override the backend the variants ask for.
env -u DIRTYTRACK_BACKEND "$bin" -v user_ring -v user_bitmap -v user_manual >"$log" 2>&1
rc=$?
grep -E '^(not )?ok ' "$log" |
	sed -E 's/^ok (.*# *[Ss][Kk][Ii][Pp].*)$/not ok \1 (must run on the host)/' >"$tap"
[ -s "$tap" ] || echo "not ok - lib-host: lib_test printed no result (log: $log)" >>"$tap"
[ $rc = 0 ] || grep -q '^not ok' "$tap" ||
	echo "not ok - lib-host: lib_test exited $rc (log: $log)" >>"$tap"
cat "$tap"
! grep -q '^not ok' "$tap"

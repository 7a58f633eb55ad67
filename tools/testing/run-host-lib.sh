#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# libdirtytrack's user backend natively on this host, against real KVM: the
# user variants of lib_test and signal_test (the kernel variants need the
# module, and run in the guests), and dtmigrate's migrations with the user
# backend: 1, 2 and 4 vCPUs, 256 MiB, 4 Ki and 64 Ki rings, hot and
# uniform workloads, each of which must PASS and report no foreign entry,
# and the sweep on a 4 Ki ring without the reaper, which on a host whose
# KVM pushes past a full ring must report overflows, never foreign
# entries, and still PASS.  The host's /dev/kvm supports rings and bitmaps
# (Documentation/testing.rst), so every test must run: a skip is a
# failure, and so is a host without /dev/kvm.  TAP goes to
# build/results/lib-host.tap.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
results=$build/results
tap=$results/lib-host.tap
logs=$build/lib-host
mkdir -p "$results" "$logs"
: >"$tap"

if [ ! -c /dev/kvm ]; then
	echo "not ok - lib-host: no /dev/kvm on this host" | tee "$tap"
	exit 1
fi

# selftest NAME ARGS...: its TAP lines, a skip counted as a failure.
selftest() {
	local name=$1 bin=$build/x86_64/selftests/$1 log=$logs/$1.log rc
	shift
	if [ ! -x "$bin" ]; then
		echo "not ok - lib-host: $bin not built" >>"$tap"
		return
	fi
	# The environment must not override the backend the variants ask for.
	env -u DIRTYTRACK_BACKEND DIRTYTRACK_TEST_HOST=1 "$bin" "$@" >"$log" 2>&1
	rc=$?
	grep -E '^(not )?ok ' "$log" |
		sed -E 's/^ok (.*# *[Ss][Kk][Ii][Pp].*)$/not ok \1 (must run on the host)/' >>"$tap"
	grep -q "^ok\|^not ok" "$log" ||
		echo "not ok - lib-host: $name printed no result (log: $log)" >>"$tap"
	[ $rc = 0 ] || grep -q '^not ok' "$log" ||
		echo "not ok - lib-host: $name exited $rc (log: $log)" >>"$tap"
}

selftest lib_test -v user_ring -v user_bitmap -v user_manual
selftest signal_test -v user -v user_unblocked

# dtm NAME WANT ARGS...: a migration with the user backend; WANT is
# "no-foreign" (0 foreign entries) or "overflow-ok" (foreign entries 0 too,
# overflows allowed and counted).
n=0
dtm() {
	local name=$1 log csv foreign
	shift
	n=$((n + 1))
	log=$logs/dtmigrate-$n.log
	LD_LIBRARY_PATH=$build/lib timeout 300 "$build/x86_64/dtmigrate/dtmigrate" \
		--backend user "$@" >"$log" 2>&1
	local rc=$?
	foreign=$(sed -n 's/^foreign entries *//p' "$log")
	if [ $rc = 0 ] && grep -q '^PASS$' "$log" && [ "$foreign" = 0 ]; then
		echo "ok $n lib-host: dtmigrate $name: PASS, foreign 0,$(sed -n 's/^ring overflows */ overflows /p' "$log")" >>"$tap"
	else
		echo "not ok $n lib-host: dtmigrate $name (exit $rc, foreign '${foreign}'; log $log)" >>"$tap"
	fi
}

for vcpus in 1 2 4; do
	for ring in 4096 65536; do
		for wl in hot uniform; do
			dtm "$vcpus vCPUs, $ring-entry rings, $wl" --vcpus "$vcpus" \
				--mem 256 --slots 2 --ring "$ring" --workload "$wl"
		done
	done
done
dtm "sweep, 4096-entry rings, no reaper (overflows allowed)" --vcpus 2 \
	--mem 256 --slots 2 --ring 4096 --workload sweep --reap-ms 0

cat "$tap"
! grep -q '^not ok' "$tap"

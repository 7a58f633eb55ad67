#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmarks' correctness, natively, for `make check`: `dtbench --quick`
# runs one tiny configuration of each mode (ring, bitmap, claim, final)
# on the host's KVM with the user backend and the baselines, and every
# round of every collector must find exactly the pages the guest wrote
# (a mismatch makes dtbench exit non-zero).  One TAP line per mode, in
# build/results/bench.tap; a host without /dev/kvm is a failure.
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
results=$build/results
tap=$results/bench.tap
logs=$build/bench/check
bin=$build/x86_64/bench/dtbench
mkdir -p "$results" "$logs"
: >"$tap"
n=0
failed=0

# tap_check RC NAME [LOG]
tap_check() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n - bench: $2" | tee -a "$tap"
	else
		echo "not ok $n - bench: $2${3:+ (log: $3)}" | tee -a "$tap"
		[ -n "${3:-}" ] && sed 's/^/#   /' "$3" | tail -n 20
		failed=1
	fi
}

if [ ! -c /dev/kvm ]; then
	tap_check 1 "/dev/kvm on this host"
	exit 1
fi
if [ ! -x "$bin" ]; then
	tap_check 1 "$bin built (make tools)"
	exit 1
fi

for mode in ring bitmap claim final; do
	log=$logs/$mode.log
	env -u DIRTYTRACK_BACKEND timeout 300 "$bin" --quick --mode "$mode" \
		--where quick --out "$logs" >"$log" 2>&1
	rc=$?
	# Every point measured or skipped with a reason: rows in its CSV.
	[ $rc = 0 ] && ! grep -q ',ok,' "$logs/$mode.csv" 2>/dev/null && rc=1
	tap_check $rc "dtbench --quick --mode $mode: every round collected exactly the pages written" "$log"
done
exit $failed

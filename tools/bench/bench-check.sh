#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The benchmarks' correctness, natively, for `make check`: `dtbench --quick`
# runs one tiny configuration of each mode (ring, bitmap, claim, final)
# on the host's KVM with the user backend and the baselines, and every
# round of every collector must find exactly the pages the guest wrote
# (a mismatch makes dtbench exit non-zero).  One TAP line per mode, in
# build/results/bench.tap.  On a host without /dev/kvm the same runs in
# the x86 test guest, against its kvm-amd under TCG.
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

if [ ! -x "$bin" ]; then
	tap_check 1 "$bin built (make tools)"
	exit 1
fi

modes="ring bitmap claim final"
# One mode's check, in sh for the guest too (DTBENCH, OUT and mode set):
# dtbench exited 0 and measured (or skipped with a reason) every point,
# i.e. its CSV has rows.
one_mode='env -u DIRTYTRACK_BACKEND timeout 600 "$DTBENCH" --quick --mode "$mode" --where quick --out "$OUT" >"$OUT/$mode.log" 2>&1; rc=$?; [ $rc = 0 ] && ! grep -q ,ok, "$OUT/$mode.csv" 2>/dev/null && rc=1'

if [ -c /dev/kvm ]; then
	DTBENCH=$bin OUT=$logs
	for mode in $modes; do
		eval "$one_mode"
		tap_check $rc "dtbench --quick --mode $mode: every round collected exactly the pages written" "$logs/$mode.log"
	done
	exit $failed
fi

# No /dev/kvm here: the same in the x86 test guest, against its kvm-amd.
echo "bench: no /dev/kvm here: dtbench --quick runs in the x86 test guest"
cmd='DTBENCH=dtbench OUT=/tmp/bq; mkdir -p $OUT
for mode in '"$modes"'; do
	'"$one_mode"'
	echo "DTBENCH-QUICK $mode rc=$rc"
	[ $rc = 0 ] || tail -n 20 "$OUT/$mode.log"
done'
"$top/tools/testguest/run-guest" --out "$logs/guest" --timeout 1200 --run "$cmd" x86 \
	>"$logs/run-guest.log" 2>&1
glog=$logs/guest/x86/guest.log
for mode in $modes; do
	rc=$(sed -n "s/^DTBENCH-QUICK $mode rc=//p" "$glog" 2>/dev/null)
	tap_check "${rc:-missing}" "dtbench --quick --mode $mode in the x86 guest: every round collected exactly the pages written" "$glog"
done
grep -q '^ok - x86: kernel log free of warnings' "$logs/guest/x86/guest.tap" 2>/dev/null
tap_check $? "the x86 guest's kernel log free of warnings" "$logs/run-guest.log"
exit $failed

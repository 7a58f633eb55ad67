#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# lib-kvm-suite: libdirtytrack's user backend against a real KVM, as TAP on
# standard output.  POSIX sh, so that it runs both natively on the host
# (tools/testing/run-host-lib.sh) and, on a host without /dev/kvm, in the
# x86 test guest (busybox sh, nested kvm-amd under TCG).
#
#   lib-kvm-suite SELFTESTS DTMIGRATE LOGS host|guest
#
# SELFTESTS is the folder of the selftest binaries, DTMIGRATE the dtmigrate
# to run, LOGS where each run's log goes.  It runs:
#  - the user variants of lib_test and signal_test (the kernel variants
#    need the module and run in the guests' selftests), the storm of
#    unblocked signals included: this KVM is known not to drop a batch
#    (DIRTYTRACK_TEST_HOST=1; a 6.12 guest's KVM is not 6.17's either);
#  - dtmigrate with the user backend over 1, 2 and 4 vCPUs (1 and 2 in the
#    guest, whose two CPUs are emulated), 4 Ki and 64 Ki rings, hot and
#    uniform workloads, each of which must PASS and report no foreign
#    entry; 256 MiB natively, 64 MiB in the guest (the same rounds, less
#    memory to copy under TCG);
#  - the sweep on a 4 Ki ring without the reaper, which on a KVM that
#    pushes past a full ring must report overflows, never foreign
#    entries, and still PASS.
# Every test must run: a skip is a failure.  Exits 0 if everything passed.

[ $# = 4 ] || { echo "usage: $0 SELFTESTS DTMIGRATE LOGS host|guest" >&2; exit 2; }
bins=$1 dtm_bin=$2 logs=$3 where=$4
case $where in
host) vcpu_set="1 2 4" mem=256 ;;
guest) vcpu_set="1 2" mem=64 ;;
*) echo "$0: where is host or guest, not '$where'" >&2; exit 2 ;;
esac
mkdir -p "$logs" || exit 2
failed=0

# selftest NAME ARGS...: its TAP lines, a skip counted as a failure.
selftest() {
	name=$1 bin=$bins/$1 log=$logs/$1.log
	shift
	if [ ! -x "$bin" ]; then
		echo "not ok - lib-host: $bin not built"
		failed=1
		return
	fi
	# The environment must not override the backend the variants ask for.
	env -u DIRTYTRACK_BACKEND DIRTYTRACK_TEST_HOST=1 "$bin" "$@" >"$log" 2>&1
	rc=$?
	grep -E '^(not )?ok ' "$log" |
		sed -E "s/^ok (.*# *[Ss][Kk][Ii][Pp].*)\$/not ok \\1 (must run on KVM, $where)/"
	grep -Eq '^(not ok|ok .*# *[Ss][Kk][Ii][Pp])' "$log" && failed=1
	if ! grep -q '^ok\|^not ok' "$log"; then
		echo "not ok - lib-host: $name printed no result (log: $log)"
		failed=1
	elif [ $rc != 0 ] && ! grep -q '^not ok' "$log"; then
		echo "not ok - lib-host: $name exited $rc (log: $log)"
		failed=1
	fi
}

selftest lib_test -v user_ring -v user_bitmap -v user_manual
selftest signal_test -v user -v user_unblocked

# dtm NAME ARGS...: a migration with the user backend, which must PASS with
# 0 foreign entries (overflows are allowed and counted).
n=0
dtm() {
	name=$1
	shift
	n=$((n + 1))
	log=$logs/dtmigrate-$n.log
	timeout 600 "$dtm_bin" --backend user "$@" >"$log" 2>&1
	rc=$?
	foreign=$(sed -n 's/^foreign entries *//p' "$log")
	if [ $rc = 0 ] && grep -q '^PASS$' "$log" && [ "$foreign" = 0 ]; then
		echo "ok $n lib-host: dtmigrate $name: PASS, foreign 0,$(sed -n 's/^ring overflows */ overflows /p' "$log")"
	else
		echo "not ok $n lib-host: dtmigrate $name (exit $rc, foreign '$foreign'; log $log)"
		failed=1
	fi
}

for vcpus in $vcpu_set; do
	for ring in 4096 65536; do
		for wl in hot uniform; do
			dtm "$vcpus vCPUs, $ring-entry rings, $wl, $mem MiB" \
				--vcpus "$vcpus" --mem "$mem" --slots 2 \
				--ring "$ring" --workload "$wl"
		done
	done
done
dtm "sweep, 4096-entry rings, no reaper (overflows allowed), $mem MiB" \
	--vcpus 2 --mem "$mem" --slots 2 --ring 4096 --workload sweep --reap-ms 0
exit $failed

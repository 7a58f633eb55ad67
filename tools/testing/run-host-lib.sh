#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# libdirtytrack's user backend against real KVM: tools/testing/
# lib-kvm-suite.sh (what it runs is written there), natively on a host with
# /dev/kvm.  On a host without it (a VM without nested virtualization) the
# suite runs in the x86 test guest instead, against the guest's kvm-amd
# under TCG, at a smaller size: a missing /dev/kvm moves the suite, it
# never skips it.  TAP goes to build/results/lib-host.tap.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
results=$build/results
tap=$results/lib-host.tap
logs=$build/lib-host
mkdir -p "$results" "$logs"
: >"$tap"

if [ -c /dev/kvm ]; then
	LD_LIBRARY_PATH=$build/lib bash "$top/tools/testing/lib-kvm-suite.sh" \
		"$build/x86_64/selftests" "$build/x86_64/dtmigrate/dtmigrate" \
		"$logs" host >"$tap"
else
	echo "lib-host: no /dev/kvm here: the suite runs in the x86 test guest"
	out=$build/lib-host/guest
	"$top/tools/testguest/run-guest" --out "$out" --timeout 1800 \
		--run "lib-kvm-suite /tests /bin/dtmigrate /tmp/lib-host guest" x86 \
		>"$logs/run-guest.log" 2>&1
	log=$out/x86/guest.log
	sed -n '/^DT-RUN-BEGIN$/,/^DT-RUN-END/p' "$log" 2>/dev/null |
		grep -E '^(not )?ok ' >"$tap"
	# The guest's own checks: it finished, no kernel warning.
	grep -E '^not ok' "$out/x86/guest.tap" 2>/dev/null >>"$tap"
	grep -q '^DT-RUN-END: rc=' "$log" 2>/dev/null ||
		echo "not ok - lib-host: the x86 guest did not finish the suite (log: $log)" >>"$tap"
	[ -s "$tap" ] ||
		echo "not ok - lib-host: the x86 guest printed no result (log: $logs/run-guest.log)" >>"$tap"
fi

cat "$tap"
! grep -q '^not ok' "$tap"

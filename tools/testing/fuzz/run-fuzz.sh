#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# run-fuzz: dtfuzz in the test guests (make fuzz DURATION=secs).
#
#   DURATION=60 SEED=N FUZZ_GUESTS="x86 debug" FUZZ_ARGS="--skip X" run-fuzz.sh
#
# Boots each guest with tools/testguest/run-guest --run "dtfuzz --seed S
# --duration D" (which also fails the run on any kernel warning, on a
# module that does not unload, and in the debug guest on a kmemleak
# report), then prints dtfuzz's counts and verdict from the guest log.
# One seed for every guest, printed first; a new one unless SEED is set.

set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd)
build=${O:-$top/build}
duration=${DURATION:-60}
seed=${SEED:-}
[ -n "$seed" ] || seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
args=${FUZZ_ARGS:-}
guests=${FUZZ_GUESTS:-}
[ -n "$guests" ] || guests=x86
out=$build/fuzz
# Booting and building take minutes under TCG; the debug guest is slower.
timeout_s=$(( ${duration%.*} * 2 + 900 ))

echo "run-fuzz: seed $seed, ${duration}s, guests: $guests${args:+, dtfuzz $args}"
rc=0
for g in $guests; do
	"$top/tools/testguest/run-guest" --out "$out" --timeout "$timeout_s" \
		--run "dtfuzz --seed $seed --duration $duration $args" "$g"
	grc=$?
	log=$out/$g/guest.log
	# dtfuzz's report, without the per-op noise.
	sed -n '/^DT-RUN-BEGIN$/,/^DT-RUN-END/p' "$log" 2>/dev/null |
		grep -E '^dtfuzz: ' | grep -vE '^dtfuzz: [0-9]+s: ' >"$out/$g/dtfuzz.txt"
	cat "$out/$g/dtfuzz.txt"
	verdict=$(grep -E '^dtfuzz: (PASS|FAIL)' "$out/$g/dtfuzz.txt" | tail -n1)
	if [ $grc = 0 ] && [ "$verdict" = "dtfuzz: PASS" ]; then
		echo "run-fuzz: $g: PASS (seed $seed, log $log)"
	else
		echo "run-fuzz: $g: FAIL (seed $seed, ${verdict:-no verdict}, guest rc $grc, log $log)"
		rc=1
	fi
done
exit $rc

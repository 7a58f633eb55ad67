#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make check`: set up (idempotent, cached), build everything, and run every
# suite: host unit tests, kernel hygiene gates, and the selftests in each
# test guest.  Every suite leaves TAP in build/results/; the last line is
# "N passed, N failed" summed over all of them.  Exits non-zero if anything
# failed (a failed test, a must-run test that skipped, a guest crash or
# kernel warning, a leak, a build or set-up failure).
#
# DT_GUESTS="x86 arm64 debug newest" selects the guests (default: all four).

set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
build=${O:-$top/build}
results=$build/results
guests=${DT_GUESTS:-x86 arm64 debug newest}
count=$top/tools/testguest/tap-count
rm -rf "$results"
mkdir -p "$results"
timings=$results/timings.txt
: >"$timings"

stage_t0=0
stage_begin() { stage_t0=$SECONDS; printf '\n=== %s\n' "$1"; }
stage_end() { printf '%-28s %5d s\n' "$1" $((SECONDS - stage_t0)) | tee -a "$timings"; }

# fail_tap SUITE WHAT: a suite that could not run is one failure, not zero.
fail_tap() { echo "not ok - $1: $2" >"$results/$1.tap"; }

stage_begin "set-up"
if ! bash tools/setup/setup.sh --no-debug-kernel; then
	fail_tap setup "tools/setup/setup.sh failed"
fi
stage_end "set-up"

# The two debug kernels take most of a cold run's time: they build in the
# background, one after the other (set-up again, which finds the rest
# done), while the suites that do not need them run, most of which use one
# core (TCG guests, the unit tests).  Each suite that needs one waits for
# it: the debug guest runs while the newest kernel builds.
kernels_log=$results/debug-kernels.log
kernels_t0=$SECONDS
if [ ! -e "$results/setup.tap" ]; then
	(
		bash tools/setup/setup.sh --no-newest-kernel >"$kernels_log" 2>&1
		echo $? >"$results/.kernel-debug.rc"
		bash tools/setup/setup.sh >>"$kernels_log" 2>&1
		echo $? >"$results/.kernel-newest.rc"
	) &
else
	echo 1 >"$results/.kernel-debug.rc"
	echo 1 >"$results/.kernel-newest.rc"
fi

# Wait for a debug kernel (debug or newest); false (and one failed suite,
# once) if its set-up failed.
wait_kernel() {
	local rc=$results/.kernel-$1.rc
	[ -e "$rc" ] || stage_begin "debug kernel '$1' (built in the background)"
	while [ ! -e "$rc" ]; do
		sleep 5
	done
	if [ "$(cat "$rc")" = 0 ]; then
		if [ ! -e "$rc.seen" ]; then
			tail -n 2 "$kernels_log"
			printf '%-28s %5d s\n' "kernel $1 (background)" \
				$((SECONDS - kernels_t0)) | tee -a "$timings"
		fi
		touch "$rc.seen"
		return 0
	fi
	if [ ! -e "$rc.seen" ] && [ ! -e "$results/debug-kernels.tap" ]; then
		tail -n 20 "$kernels_log"
		fail_tap debug-kernels "set-up of the debug kernel '$1' failed (log: $kernels_log)"
	fi
	touch "$rc.seen"
	return 1
}

if [ ! -e "$results/setup.tap" ]; then
	stage_begin "set-up on bad input"
	bash tools/setup/test-setup-errors.sh || true
	[ -s "$results/setup-errors.tap" ] || fail_tap setup-errors "the set-up error cases did not run"
	stage_end "set-up on bad input"

	stage_begin "build (x86_64, arm64)"
	if make -s all >"$results/build.log" 2>&1 &&
	   make -s ARCH=arm64 all >>"$results/build.log" 2>&1; then
		echo "ok - build: module, library, tools and selftests (x86_64, arm64)" >"$results/build.tap"
	else
		tail -n 30 "$results/build.log"
		fail_tap build "make all failed (log: $results/build.log)"
	fi
	stage_end "build"

	stage_begin "unit tests (cmocka, ASan+UBSan)"
	# `make unit` writes its TAP to $results/unit.tap itself.
	make -s unit >"$results/unit.log" 2>&1 || true
	# The tests on the host's KVM skip only where there is none.
	if [ -c /dev/kvm ]; then
		sed -i -E 's/^(not )?ok (.*)# *[Ss][Kk][Ii][Pp](.*)$/not ok \2skipped\3, but this host has \/dev\/kvm/' \
			"$results/unit.tap"
	fi
	grep -E '^(not )?ok' "$results/unit.tap" 2>/dev/null
	grep -q '^ok' "$results/unit.tap" 2>/dev/null ||
		echo "not ok - unit: no unit test ran (log: $results/unit.log)" >>"$results/unit.tap"
	stage_end "unit tests"

	stage_begin "library on the host (user backend, real KVM)"
	bash tools/testing/run-host-lib.sh || true
	[ -s "$results/lib-host.tap" ] || fail_tap lib-host "the host library tests did not run"
	stage_end "library on the host"

	stage_begin "benchmarks' correctness (dtbench --quick)"
	bash tools/bench/bench-check.sh || true
	[ -s "$results/bench.tap" ] || fail_tap bench "dtbench --quick did not run"
	stage_end "dtbench --quick"

	stage_begin "packaging"
	bash tools/packaging/test-packaging.sh || true
	[ -s "$results/packaging.tap" ] || fail_tap packaging "packaging test did not run"
	stage_end "packaging"

	run_guest() {
		stage_begin "guest $1"
		tools/testguest/run-guest "$1" || true
		if [ -s "$build/guests/$1/guest.tap" ]; then
			cp "$build/guests/$1/guest.tap" "$results/guest-$1.tap"
		else
			fail_tap "guest-$1" "the $1 guest did not run (see $build/guests/$1/)"
		fi
		stage_end "guest $1"
	}

	# The fuzzer's gating run in one guest (tools/testing/fuzz/README):
	# 60 s of a fixed seed, so that a failure here replays; `make fuzz`
	# explores with new seeds.  The newest kernel's KVM warns falsely on
	# the memslot replugs of the hot(un)plug op (Documentation/
	# testing.rst), which it leaves out there.
	run_fuzz() {
		local g=$1 seed=$2 args=${3:-} line
		stage_begin "fuzz in the $g guest"
		DURATION=60 SEED=$seed FUZZ_GUESTS=$g FUZZ_ARGS=$args \
			bash tools/testing/fuzz/run-fuzz.sh >"$results/fuzz-$g.log" 2>&1
		line=$(grep -E "^run-fuzz: $g: (PASS|FAIL)" "$results/fuzz-$g.log" | tail -n1)
		case $line in
		"run-fuzz: $g: PASS"*)
			echo "ok - fuzz: $g: dtfuzz --seed $seed --duration 60 $args: PASS,$(
				sed -n 's/^dtfuzz: ioctls total / ioctls /p' "$build/fuzz/$g/dtfuzz.txt"),$(
				sed -n 's/^dtfuzz:   pages model-checked  */ pages model-checked /p' "$build/fuzz/$g/dtfuzz.txt")" \
				>>"$results/fuzz.tap" ;;
		*)
			echo "not ok - fuzz: $g: ${line:-no verdict} (log: $results/fuzz-$g.log)" >>"$results/fuzz.tap"
			grep -E '^dtfuzz: FAILURE' "$build/fuzz/$g/dtfuzz.txt" 2>/dev/null | head -n 5 ;;
		esac
		tail -n 1 "$results/fuzz.tap"
		stage_end "fuzz $g"
	}

	# The Debian kernels' guests first, beside the debug kernels' build;
	# the debug guest and the runner beside the newest kernel's.
	for g in $guests; do
		case $g in x86|arm64) run_guest "$g" ;; esac
	done
	if wait_kernel debug && [[ " $guests " == *" debug "* ]]; then
		run_guest debug
		run_fuzz debug 20261208
		stage_begin "runner: a kernel warning fails a guest"
		bash tools/testguest/warn-check.sh || true
		[ -s "$results/runner.tap" ] || fail_tap runner "the warning check did not run"
		stage_end "runner warning check"
	fi

	# The hygiene gates build against the newest kernel's tree too.
	newest_ok=1
	wait_kernel newest || newest_ok=0
	stage_begin "hygiene gates"
	bash tools/hygiene.sh || true
	[ -s "$results/hygiene.tap" ] || fail_tap hygiene "hygiene gates did not run"
	stage_end "hygiene gates"
	if [ $newest_ok = 1 ] && [[ " $guests " == *" newest "* ]]; then
		run_guest newest
		run_fuzz newest 777 "--skip 'hot(un)plug'"
	fi
fi

printf '\n=== summary\n'
total_p=0 total_f=0 total_s=0
for tap in "$results"/*.tap; do
	read -r p f s < <("$count" "$tap")
	printf '%-22s %3d passed, %3d failed, %3d skipped\n' "$(basename "$tap" .tap)" "$p" "$f" "$s"
	total_p=$((total_p + p)) total_f=$((total_f + f)) total_s=$((total_s + s))
done
grep -h '^not ok' "$results"/*.tap | grep -Eiv '# *skip' | sed 's/^/  FAILED: /'
echo "timings:"
sed 's/^/  /' "$timings"
# Skips were judged by each suite (a skip a guest does not allow is a
# failure there); the plain last line is the one CI reads.
echo "$total_s skipped (allowed where they ran)"
echo "$total_p passed, $total_f failed"
[ "$total_f" = 0 ] && [ "$total_p" -gt 0 ]

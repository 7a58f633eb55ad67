# SPDX-License-Identifier: GPL-2.0
#
# The frame of a shell test suite that reports TAP, sourced (after setting
# $top) by tools/hygiene.sh and tools/packaging/test-packaging.sh:
#
#   . "$top/tools/tap-suite.sh" SUITE
#
# reads the set-up's paths (env.mk), moves to the work tree, and gives
# $build, $logs ($build/SUITE), $out ($build/results/SUITE.tap, emptied)
# and tap_check; the suite ends with `exit $tap_failed`.

set -uo pipefail

tap_suite=$1
cache=${DIRTYTRACK_CACHE:-$HOME/.cache/dirtytrack}
build=${O:-$top/build}
# shellcheck disable=SC1091
. "$cache/env.mk"
cd "$top" || exit 2

logs=$build/$tap_suite
mkdir -p "$build/results" "$logs"
out=$build/results/$tap_suite.tap
: >"$out"
tap_n=0
tap_failed=0
# How much of a failed check's log to show.
tap_show=${tap_show:-head -n 30}

# tap_check RC NAME [LOG]: record the result of what just ran (and wrote LOG).
tap_check() {
	local rc=$1 name=$2 log=${3:-}

	tap_n=$((tap_n + 1))
	if [ "$rc" = 0 ]; then
		echo "ok $tap_n $tap_suite: $name" | tee -a "$out"
	else
		echo "not ok $tap_n $tap_suite: $name${log:+ (log: $log)}" | tee -a "$out"
		[ -n "$log" ] && sed 's/^/#   /' "$log" | $tap_show
		tap_failed=1
	fi
}

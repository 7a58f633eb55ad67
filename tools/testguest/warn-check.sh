#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest runner catches a kernel warning: the debug guest runs one
# command, a write to the test build's debugfs knob that raises a
# WARN_ON_ONCE() in the module, and run-guest must fail it for that
# warning.  Without CONFIG_BUG (tinyconfig turns it off) WARN_ON() prints
# nothing and this fails.  TAP in build/results/runner.tap.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
out=$build/guests-warn
tap=$build/results/runner.tap
mkdir -p "$build/results" "$out"

"$top/tools/testguest/run-guest" --no-build --out "$out" --timeout 300 \
	--run 'echo 1 >/sys/kernel/debug/dirtytrack/warn' debug >"$out/run.log" 2>&1
rc=$?
gtap=$out/debug/guest.tap
if [ $rc != 0 ] &&
   grep -q '^ok - debug: run: echo 1' "$gtap" &&
   grep -q '^not ok - debug: kernel log free of warnings # WARNING: .*test_hooks.c' "$gtap"; then
	echo "ok 1 runner: a deliberate WARN_ON_ONCE() fails the debug guest" >"$tap"
else
	echo "not ok 1 runner: a deliberate WARN_ON_ONCE() fails the debug guest (run-guest exit $rc; see $out)" >"$tap"
fi
cat "$tap"
! grep -q '^not ok' "$tap"

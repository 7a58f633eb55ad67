#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make demo`: set up (idempotent, cached), build, boot the x86_64 test
# guest with the dirtytrack module, and live-migrate a guest inside it with
# tools/dtmigrate through the module (libdirtytrack's kernel backend).
# Prints dtmigrate's per-round table and verdict; exits 0 on PASS.
#
# DTM_ARGS overrides dtmigrate's options (default below); see
# `build/x86_64/testguest/dtmigrate --help`.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2
build=${O:-$top/build}
args=${DTM_ARGS:---backend kernel --vcpus 2 --mem 128 --slots 4 --workload uniform}

echo "=== set-up (cached in ${DIRTYTRACK_CACHE:-$HOME/.cache/dirtytrack})"
bash tools/setup/setup.sh --no-debug-kernel || exit 2
echo "=== build, boot the x86_64 guest and run: dtmigrate $args"
mkdir -p "$build"
tools/testguest/run-guest --run "dtmigrate $args" x86 >"$build/demo.log" 2>&1
log=$build/guests/x86/guest.log
if ! grep -q '^DT-RUN-END' "$log"; then
	cat "$build/demo.log"
	echo "make demo: the guest did not finish the run (log: $log)" >&2
	exit 2
fi
sed -n '/^DT-RUN-BEGIN$/,/^DT-RUN-END/p' "$log" | sed '1d;$d'
rc=$(sed -n 's/^DT-RUN-END: rc=//p' "$log")
echo
echo "(the guest's whole log: $log)"
[ "$rc" = 0 ]

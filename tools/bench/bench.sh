#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: dtbench (tools/bench/) natively, then in the x86 test guest,
# then the plots.
#
#  - native: every mode, the full sweep, the user backend against the
#    baselines (this host has no module).  About 10 minutes, most of it
#    the bitmap mode's guest page faults.
#  - guest-x86: the module, the user backend and the baselines, under TCG
#    (nested kvm-amd) in the guest's 1 GiB, a reduced sweep that fits about
#    15 minutes; there only the ratios mean something.  The CSV files come
#    back printed in the guest log between DTBENCH-CSV-BEGIN/END.
#
# Results in build/bench/WHERE/: tables.txt (what dtbench printed), one CSV
# per mode and the PNG plots (gnuplot-nox; without it, tables and CSV only).
#
#   BENCH_WHERE="native guest"   the parts to run (default both; the guest
#                                only on a host without /dev/kvm)
#   BENCH_NATIVE_ARGS, BENCH_GUEST_ARGS   more dtbench options for each
#
# Exits non-zero if a part failed (a check inside dtbench, a guest crash).
set -uo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
out=$build/bench
# A host without /dev/kvm has only the guest to measure in.
default_parts="native guest"
[ -c /dev/kvm ] || default_parts=guest
parts=${BENCH_WHERE:-$default_parts}
# The guest's sweep: up to 8 vCPUs (the module against the user backend
# is judged at 8) in 1 GiB, each store a nested page fault emulated by TCG.
guest_args="--vcpus 1,2,8 --ring-entries 4096,65536 --pages 64,256,1024,16384 \
--slots 64M,256M --fractions 0.1,1,10,100 --point-max 150 --point-budget 20 \
--claim-size 1G --final-pages 1024,4096 --reps 7 --max-mem 512M"
rc=0

mkdir -p "$out"
if ! make -s -C "$top" tools >"$out/build.log" 2>&1; then
	cat "$out/build.log" >&2
	echo "bench: build failed (log: $out/build.log)" >&2
	exit 2
fi

for part in $parts; do
	case "$part" in
	native)
		dir=$out/native
		mkdir -p "$dir"
		echo "== bench: native (results in $dir)"
		# shellcheck disable=SC2086
		"$build/x86_64/bench/dtbench" --where native --out "$dir" \
			${BENCH_NATIVE_ARGS:-} | tee "$dir/tables.txt"
		[ "${PIPESTATUS[0]}" = 0 ] || { echo "bench: native run failed" >&2; rc=1; }
		bash "$top/tools/bench/plot.sh" "$dir"
		;;
	guest)
		dir=$out/guest-x86
		mkdir -p "$dir"
		echo "== bench: x86 test guest, under TCG (results in $dir)"
		cmd="dtbench --where guest-x86 --out /tmp/bench $guest_args ${BENCH_GUEST_ARGS:-}; rc=\$?
for f in /tmp/bench/*.csv; do echo \"DTBENCH-CSV-BEGIN \${f##*/}\"; cat \"\$f\"; echo DTBENCH-CSV-END; done
exit \$rc"
		"$top/tools/testguest/run-guest" x86 --run "$cmd" --timeout 1500 \
			--out "$out/guest-run" || rc=1
		log=$out/guest-run/x86/guest.log
		[ -f "$log" ] || { echo "bench: no guest log" >&2; rc=1; continue; }
		# The tables: the run's output without the CSV blocks; the CSV
		# files: their rows (kernel messages may interleave the console).
		sed -n '/^DT-RUN-BEGIN$/,/^DT-RUN-END/p' "$log" | sed '1d;$d' |
			sed '/^DTBENCH-CSV-BEGIN /,/^DTBENCH-CSV-END$/d' >"$dir/tables.txt"
		cat "$dir/tables.txt"
		awk -v dir="$dir" '
			/^DTBENCH-CSV-BEGIN / { f = dir "/" $2; printf "" > f; next }
			/^DTBENCH-CSV-END$/ { close(f); f = ""; next }
			f != "" && /^(where|guest-x86),/ { print >> f }
		' "$log"
		ls "$dir"/*.csv >/dev/null 2>&1 || { echo "bench: no CSV came back from the guest" >&2; rc=1; }
		bash "$top/tools/bench/plot.sh" "$dir"
		;;
	*)
		echo "bench: unknown part '$part' (native, guest)" >&2
		rc=2
		;;
	esac
done
exit $rc

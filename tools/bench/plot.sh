#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# plot.sh DIR: PNG plots of dtbench's CSV files in DIR, with gnuplot
# (Debian's gnuplot-nox):
#   ring-ENTRIES.png   ns per ring entry (median) against dirty pages per
#                      vCPU per round, one panel per vCPU count, one line
#                      per collector (reaper, user, kernel);
#   bitmap-LOG.png     ns per dirty page (median) against the share of
#                      the memslot dirty, one panel per memslot size, one
#                      line per collector.
# Without gnuplot it says so and exits 0: the tables and CSV stand alone.
set -uo pipefail

dir=${1:?usage: plot.sh DIR}
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "plot.sh: no gnuplot (Debian package gnuplot-nox): no plots in $dir, tables and CSV only" >&2
	exit 0
fi
if gnuplot -e 'set terminal' 2>&1 | grep -qw pngcairo; then
	term="pngcairo size 1500,900 font ',10'"
else
	term="png size 1500,900"
fi
data=$(mktemp -d)
trap 'rm -rf "$data"' EXIT

# The CSV's ok rows, as "panel-key x y collector group" (quoted notes last:
# the numeric columns before them never hold a comma).
ok_rows() {	# ok_rows FILE GROUPCOL PANELCOL XCOL
	awk -F, -v g="$2" -v p="$3" -v x="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
		$col["status"] == "ok" {
			print $col[g], $col[p], $col[x], $col["ns_per_item"], $col["collector"]
		}' "$1"
}

# panel GROUP PANEL TITLE XLABEL: one panel's plot command, a line per collector.
panel() {
	local group=$1 pan=$2 cmd="" c f
	# shellcheck disable=SC2013 # collector names hold no blank
	for c in $(awk -v g="$group" -v p="$pan" '$1 == g && $2 == p { print $5 }' \
			"$data/rows" | awk '!seen[$0]++'); do
		f="$data/$group-$pan-$c.dat"
		awk -v g="$group" -v p="$pan" -v c="$c" \
			'$1 == g && $2 == p && $5 == c { print $3, $4 }' "$data/rows" >"$f"
		cmd+="${cmd:+, }'$f' using 1:2 with linespoints lw 2 title '$c'"
	done
	printf 'set title "%s"\nplot %s\n' "$3" "$cmd"
}

# figure CSV GROUPCOL PANELCOL XCOL NAME TITLE XLABEL YLABEL PANELFMT
figure() {
	local csv=$1 gcol=$2 pcol=$3 xcol=$4 name=$5 title=$6 xl=$7 yl=$8 pfmt=$9
	local group panels n rows cols
	[ -s "$csv" ] || return 0
	ok_rows "$csv" "$gcol" "$pcol" "$xcol" >"$data/rows"
	# shellcheck disable=SC2013 # keys hold no blank
	for group in $(awk '{ print $1 }' "$data/rows" | sort -u); do
		panels=$(awk -v g="$group" '$1 == g { print $2 }' "$data/rows" | sort -n -u)
		n=$(echo "$panels" | wc -w)
		cols=$(( n < 3 ? n : 3 ))
		rows=$(( (n + cols - 1) / cols ))
		{
			echo "set terminal $term"
			echo "set output '$dir/$name-$group.png'"
			echo "set datafile separator whitespace"
			echo "set logscale xy"
			echo "set grid"
			echo "set key top right"
			echo "set xlabel '$xl'"
			echo "set ylabel '$yl'"
			# shellcheck disable=SC2059 # the titles are formats
			echo "set multiplot layout $rows,$cols title \"$(printf "$title" "$group")\""
			for p in $panels; do
				# shellcheck disable=SC2059
				panel "$group" "$p" "$(printf "$pfmt" "$p")"
			done
			echo "unset multiplot"
		} >"$data/plot.gp"
		if gnuplot "$data/plot.gp" 2>"$data/err"; then
			echo "plot.sh: $dir/$name-$group.png"
		else
			echo "plot.sh: gnuplot failed for $name-$group:" >&2
			cat "$data/err" >&2
		fi
	done
}

where=$(basename "$dir")
figure "$dir/ring.csv" ring_entries vcpus pages_per_vcpu ring \
	"dirty-ring collect, %s-entry rings ($where): lower is faster" \
	"dirty pages per vCPU per round" "ns per ring entry (median)" "%s vCPUs"
figure "$dir/bitmap.csv" log slot_mib dirty_percent bitmap \
	"KVM dirty log without rings, %s protect ($where): lower is faster" \
	"% of the memslot pages dirty" "ns per dirty page (median)" "%s MiB memslot"
exit 0

#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# dtmigrate end to end, in the test guest, through the module: live
# migrations of a real KVM guest with several workloads and seeds, rings
# and the plain bitmap, a memslot hotplugged mid-migration, a stop phase
# that fails and is retried after resuming on the source, and on arm64 an
# ITS writing guest memory in the stop phase.  Each must end
# byte-exact (dtmigrate exits 0 only then).  Last, the check is shown to
# catch a loss: with --drop-page (test builds only) the VMM writes a page
# the workload never writes, marks it, and leaves it out of the copy;
# dtmigrate must report exactly one differing page and FAIL.
#
# KTAP on stdout; exit 0 only if every case passed.  Options for every
# run: DTM_TEST_ARGS (default: small enough for TCG).
set -u
# A run that hangs fails on its own instead of stalling the guest.
dtm="timeout 300 ${DTMIGRATE:-dtmigrate}"
common=${DTM_TEST_ARGS:---backend kernel --vcpus 2 --mem 32 --slots 4}
n=0
failed=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out

# small-ring: the rings must fill (RING_FULL exits) before a sync takes
# them, so its first round copies 64 MiB: in the debug guest a vCPU writes
# only some 300 pages a second, and 32 MiB (0.6 s a copy) filled a
# 256-entry ring once at best, sometimes never.
cases() {
	cat <<'EOF'
uniform|--workload uniform --seed 1|
hot|--workload hot --hot-fraction 0.05 --seed 2|
sweep|--workload sweep --seed 3|
bitmap|--ring 0 --workload uniform --seed 4|
small-ring|--ring 256 --reap-ms 0 --mem 64 --workload uniform --seed 5|ring-full exits *[1-9]
hotplug|--workload uniform --hotplug-round 2 --seed 6|memslot hotplugged before round 2
rollback|--workload uniform --rollback --seed 7|stop phase failed after round
rollback-hotplug-bitmap|--ring 0 --workload sweep --rollback --hotplug-round 2 --seed 8|stop phase failed after round
EOF
	# The ITS saves its tables in every stop phase, the aborted one too:
	# pages only the backup bitmap reports (rings) or the plain one.
	[ "$(uname -m)" = aarch64 ] || return 0
	cat <<'EOF'
its|--its --workload uniform --seed 10|kvm-bitmap final *[1-9]
its-rollback|--its --rollback --workload hot --seed 11|kvm-bitmap final *[1-9]
its-bitmap|--its --ring 0 --workload sweep --seed 12|kvm-bitmap final *[1-9]
EOF
}

report() {	# report ok|fail "name" "why"
	n=$((n + 1))
	if [ "$1" = ok ]; then
		echo "ok $n dtmigrate.$2"
	else
		sed 's/^/# /' "$out"
		echo "# $3"
		echo "not ok $n dtmigrate.$2"
		failed=$((failed + 1))
	fi
}

cases >"$tmp/cases"
echo "TAP version 13"
echo "1..$(($(wc -l <"$tmp/cases") + 1))"

while IFS='|' read -r name args expect; do
	# shellcheck disable=SC2086
	$dtm $common $args >"$out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		report fail "$name" "dtmigrate $common $args: exit $rc"
	elif ! grep -q '^memory equal *yes' "$out" || ! grep -q '^PASS$' "$out"; then
		report fail "$name" "exit 0 without memory equal and PASS"
	elif [ -n "$expect" ] && ! grep -Eq "^$expect" "$out"; then
		report fail "$name" "no '$expect' in the report"
	else
		report ok "$name"
	fi
done <"$tmp/cases"

# The check catches a lost page: exit 1, one page differing, FAIL.
# shellcheck disable=SC2086
$dtm $common --workload hot --hot-fraction 0.5 --seed 9 --drop-page --format csv \
	>"$out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q 'mismatched_pages=1 result=FAIL' "$out"; then
	report ok "a_dropped_page_fails_the_check"
else
	report fail "a_dropped_page_fails_the_check" \
		"want exit 1 and mismatched_pages=1 result=FAIL, got exit $rc"
fi

[ $failed = 0 ]

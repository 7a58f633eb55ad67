#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of every dirtytrack test guest (busybox sh).  Settings come from
# /dt.conf, written by run-guest.  Prints the selftests' TAP between
# DT-TAP-BEGIN/END, the kernel log between DT-DMESG-BEGIN/END, and last the
# marker "DT-RESULT: rc=N"; run-guest treats a missing marker as a crash.

/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
. /dt.conf

set -o pipefail
rc=0
tap=/tmp/guest.tap
: >$tap

# A TAP line for a step of the guest itself (not a selftest).
step() {	# step OK|FAIL "what"
	if [ "$1" = OK ]; then
		echo "ok - $DT_GUEST: $2" | tee -a $tap
	else
		echo "not ok - $DT_GUEST: $2" | tee -a $tap
		rc=1
	fi
}

finish() {
	# Only emergencies on the console from here: the TAP must not be cut.
	echo 1 >/proc/sys/kernel/printk
	echo "DT-TAP-BEGIN"
	cat $tap
	echo "DT-TAP-END"
	echo "DT-DMESG-BEGIN"
	dmesg
	echo "DT-DMESG-END"
	echo "DT-RESULT: rc=$rc"
	sync
	[ "$DT_EXIT" = isa ] && /bin/dt-exit $rc
	poweroff -f
}

echo "DT-GUEST: $DT_GUEST $(uname -r)"

loaded=OK
for m in $(cat /modules.load); do
	insmod "$m" || loaded=FAIL
done
insmod /lib/modules/dirtytrack.ko || loaded=FAIL
[ -c /dev/dirtytrack ] || loaded=FAIL
step $loaded "load kernel modules and find /dev/dirtytrack"
[ $loaded = OK ] || finish

for t in $DT_TESTS; do
	echo "DT-TEST-BEGIN: $t"
	# shellcheck disable=SC2086
	/tests/$t $DT_TEST_ARGS 2>&1 | tee -a $tap
	trc=$?
	echo "DT-TEST-END: $t rc=$trc"
	# The harness reports its own failures; a crash may report none.
	if [ $trc != 0 ]; then
		grep -q '^not ok' $tap || step FAIL "$t exited with status $trc"
		rc=1
	fi
done

if [ -f /run.sh ]; then
	run=$(cat /run.sh)
	echo "DT-RUN-BEGIN"
	sh /run.sh
	rrc=$?
	echo "DT-RUN-END: rc=$rrc"
	if [ $rrc = 0 ]; then
		step OK "run: $run"
	else
		step FAIL "run: $run (exit $rrc)"
	fi
fi

if [ "$DT_SHELL" = 1 ]; then
	echo "DT-SHELL: exit the shell to power off"
	setsid cttyhack sh
fi

if rmmod dirtytrack; then
	step OK "unload dirtytrack"
else
	step FAIL "unload dirtytrack"
fi

if [ "$DT_KMEMLEAK" = 1 ]; then
	# kmemleak ignores objects younger than ~5 s: scan, wait, scan again.
	kml=/sys/kernel/debug/kmemleak
	if [ -w $kml ]; then
		echo scan >$kml
		sleep 6
		echo scan >$kml
		# debugfs files have no size: read the report out first.
		cat $kml >/tmp/kmemleak
		if [ -s /tmp/kmemleak ]; then
			cat /tmp/kmemleak
			step FAIL "kmemleak finds no leak"
		else
			step OK "kmemleak finds no leak"
		fi
	else
		step FAIL "kmemleak available"
	fi
fi

finish

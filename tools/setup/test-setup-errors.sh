#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Set-up on bad input, as TAP (build/results/setup-errors.tap): each case
# runs tools/setup/setup.sh against an empty cache and must end it with a
# non-zero exit and exactly one line "setup: error: ..." that says what is
# missing, leaving no env.mk and no download in progress in the cache.
#
#  - no network: apt's proxy is a closed port (APT_CONFIG);
#  - apt sources with the release only, not the security archive that
#    carries Debian's 6.12 kernels (private sources and lists, APT_CONFIG);
#  - too little disk: the cache on a 64 MiB tmpfs;
#  - a /dev/kvm that is not KVM's device: a plain file on a private /dev;
#  - not root.
#
# Every case fails before anything is installed on the host; run it after a
# set-up, so that no package is missing.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
results=$build/results
work=$build/setup-errors
tap=$results/setup-errors.tap
mkdir -p "$results"
rm -rf "$work"
mkdir -p "$work"
: >"$tap"
n=0 failed=0

# case NAME EXPECTED-TEXT CACHE -- COMMAND...: COMMAND runs set-up.
case_() {
	local name=$1 want=$2 cache=$3 log=$work/$n.log rc lines ok=1
	shift 4
	n=$((n + 1))
	log=$work/$n.log
	DIRTYTRACK_CACHE=$cache "$@" >"$log" 2>&1 </dev/null
	rc=$?
	lines=$(grep -c '^setup: error: ' "$log")
	[ $rc != 0 ] || ok=0
	[ "$lines" = 1 ] || ok=0
	grep '^setup: error: ' "$log" | grep -qF "$want" || ok=0
	[ ! -e "$cache/env.mk" ] || ok=0
	[ -z "$(find "$cache" -name '.download.*' 2>/dev/null)" ] || ok=0
	if [ $ok = 1 ]; then
		echo "ok $n setup-errors: $name" >>"$tap"
	else
		echo "not ok $n setup-errors: $name (exit $rc, $lines error lines; log $log)" >>"$tap"
		failed=1
	fi
}

setup=(bash "$top/tools/setup/setup.sh" --no-debug-kernel)

# No network: every fetch goes to a closed port.
mkdir -p "$work/net/lists/partial"
cat >"$work/net/apt.conf" <<CONF
Dir::State::Lists "$work/net/lists";
Acquire::http::Proxy "http://127.0.0.1:9";
Acquire::https::Proxy "http://127.0.0.1:9";
Acquire::Retries "0";
CONF
case_ "no network" "cannot reach the archive" "$work/net/cache" -- \
	env APT_CONFIG="$work/net/apt.conf" "${setup[@]}"

# The release only: the host's mirror for it, no security archive.
mirror=$(apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' |
	 awk '$2 == "bookworm" && $3 == "main" { print $1; exit }')
mkdir -p "$work/src/lists/partial" "$work/src/parts"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm main" \
	>"$work/src/sources.list"
cat >"$work/src/apt.conf" <<CONF
Dir::State::Lists "$work/src/lists";
Dir::Etc::sourcelist "$work/src/sources.list";
Dir::Etc::sourceparts "$work/src/parts";
CONF
case_ "apt sources without the security archive" "carry no Debian 6.12 kernel" \
	"$work/src/cache" -- env APT_CONFIG="$work/src/apt.conf" "${setup[@]}"

# A cache on a disk with 64 MiB free (gone with its mount namespace).
mkdir -p "$work/disk"
case_ "too little disk" "MiB free" "$work/disk/cache" -- \
	unshare --mount --propagation private bash -c '
		mount -t tmpfs -o size=64m tmpfs "$1" && shift && exec "$@"' \
	disk "$work/disk" "${setup[@]}"

# A /dev/kvm that is not KVM's device (no /dev/kvm at all is fine: the
# KVM suites then run in the x86 guest).
case_ "/dev/kvm not KVM's" "not KVM's device" "$work/kvm/cache" -- \
	unshare --mount --propagation private bash -c '
		mount -t tmpfs -o size=1m tmpfs /dev && mknod -m 666 /dev/null c 1 3 &&
		touch /dev/kvm && exec "$@"' kvm "${setup[@]}"

# Not root: set-up copied where anyone can read it (the tree may be in
# root's home).
user=$(mktemp -d /tmp/dt-setup-user.XXXXXX)
chmod 0755 "$user"
cp "$top/tools/setup/setup.sh" "$user/"
case_ "not root" "run as root" "$user/cache" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent \
	bash "$user/setup.sh" --no-debug-kernel
rm -rf "$user"

cat "$tap"
exit $failed

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fresh-check`: the README's two commands on a machine that has never
# seen the project.  A brand-new minimal Debian 12 root (debootstrap
# --variant=minbase, plus only git, make and ca-certificates: what the
# barest newcomer has), with the apt sources a standard install has (the
# release, its updates and its security archive, from this host's own
# configuration), /dev (with /dev/kvm where the host has it), /proc and
# /sys, a clean clone of HEAD, and an empty DIRTYTRACK_CACHE.  In it:
# `make demo`, then `make check`.  A package or program set-up forgot to install fails here.
#
# The bare root is the machine, not the project: it is cached as a tarball
# (DIRTYTRACK_CACHE/fresh/, refreshed weekly).  Of the project's own cache,
# only the debug kernels are reused (two cold builds alone would take most
# of CI's hour): each is keyed by its source version, compiler and config,
# so the root uses one only where it would build the same, set-up still
# checks in the root that every package a kernel build needs is installed,
# and the kernels the root builds are kept for the next run.  Nothing
# downloaded is reused.  DT_FRESH_COLD=1 reuses nothing.
#
# Prints both commands' output, the time of each stage, and last the
# closing line of the `make check` inside the root; exits non-zero if the
# demo or any check failed.
#
#   DT_FRESH_DIR   where the root is made (default /var/tmp/dirtytrack-fresh);
#                  it is removed first and after, unless DT_FRESH_KEEP=1
#   O              the host's build folder, where the root's results and
#                  logs are copied (default build/, into build/fresh/)

set -Eeuo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
cache=${DIRTYTRACK_CACHE:-$HOME/.cache/dirtytrack}
build=${O:-$top/build}
dir=${DT_FRESH_DIR:-/var/tmp/dirtytrack-fresh}
root=$dir/root
out=$build/fresh
suite=bookworm
# What the newcomer has besides minbase.
include=git,make,ca-certificates

export DEBIAN_FRONTEND=noninteractive

log() { printf '[fresh-check %(%T)T] %s\n' -1 "$*" >&2; }
die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 2; }
trap 'die "failed at line $LINENO (exit $?)"' ERR

timings=()
stage_t0=0
stage_begin() { stage_t0=$SECONDS; log "$1"; }
stage_end() { timings+=("$(printf '%-34s %5d s' "$1" $((SECONDS - stage_t0)))"); }

# The URI apt on this host uses for a suite, from apt itself (whatever the
# format of its sources: deb822 or one-line, any mirror or proxy host).
apt_site() {
	apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' |
		awk -v s="$1" '$2 == s && $3 == "main" { print $1; exit }'
}

# Refuse to remove a folder something is still mounted under.
remove_root() {
	[ -e "$dir" ] || return 0
	if findmnt -rn -o TARGET | grep -q "^$dir/"; then
		die "something is still mounted under $dir; unmount it first"
	fi
	rm -rf --one-file-system "$dir"
}

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, chroot, mounts)"

stage_begin "host: debootstrap"
if ! command -v debootstrap >/dev/null; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends debootstrap >/dev/null
fi
stage_end "host: debootstrap"

mirror=$(apt_site "$suite")
updates=$(apt_site "$suite-updates")
security=$(apt_site "$suite-security")
[ -n "$mirror" ] && [ -n "$security" ] ||
	die "this host's apt sources lack $suite or $suite-security: a standard Debian 12 install has both"
log "mirror $mirror, security $security"

# The bare root, cached by suite, mirror and what it includes.
stage_begin "bare root"
key=$(printf '%s\n' "$suite" "$mirror" "$include" minbase | sha256sum | cut -c1-12)
tarball=$cache/fresh/$suite-minbase-$key.tar
remove_root
mkdir -p "$root" "$cache/fresh"
if [ -f "$tarball" ] && [ -z "$(find "$tarball" -mtime +7)" ]; then
	log "bare root from $tarball"
	tar -C "$root" -xf "$tarball"
	root_how="cached"
else
	log "debootstrap --variant=minbase --include=$include $suite"
	debootstrap --variant=minbase --include="$include" "$suite" "$root" \
		"$mirror" >"$dir/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$dir/debootstrap.log" >&2; die "debootstrap failed"; }
	tar -C "$root" -cf "$tarball.tmp" .
	mv "$tarball.tmp" "$tarball"
	root_how="debootstrap"
fi
stage_end "bare root ($root_how)"

# A standard install's apt sources: the release, its updates, security.
rm -f "$root/etc/apt/sources.list"
{
	printf 'Types: deb\nURIs: %s\nSuites: %s%s\nComponents: main\n' \
		"$mirror" "$suite" "${updates:+ $suite-updates}"
	printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n'
	printf 'Types: deb\nURIs: %s\nSuites: %s-security\nComponents: main\n' \
		"$security" "$suite"
	printf 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n'
} >"$root/etc/apt/sources.list.d/debian.sources"
# The host's proxy, if apt has one, and its name resolution.
apt-config dump | grep -Ei '^Acquire::(https?|ftp)::Proxy' \
	>"$root/etc/apt/apt.conf.d/01proxy" || true
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# No service starts from a package's scripts in a chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

# A clean clone of HEAD: what is committed, nothing of the work tree.
git clone -q --no-hardlinks "$top" "$root/root/dirtytrack"
log "clone of $(git -C "$root/root/dirtytrack" rev-parse --short HEAD)"

# The host's debug kernels, where the root's cache has the same path (the
# kernel trees name their source by absolute path).
root_cache=$root/root/.cache/dirtytrack
reuse=0
if [ "${DT_FRESH_COLD:-0}" != 1 ] && [ "$cache" = /root/.cache/dirtytrack ]; then
	reuse=1
	mkdir -p "$root_cache/debug-kernel"
	for d in "$cache"/debug-kernel/*/; do
		[ -e "$d.stamp" ] || continue
		cp -a "${d%/}" "$root_cache/debug-kernel/"
		log "reusing the debug kernel $(basename "$d")"
	done
fi

# Inside the root, in a mount namespace of its own (its mounts go when it
# ends, whatever happens): the README's two commands, each timed.
cat >"$root/root/fresh-run.sh" <<'EOF'
#!/bin/bash
cd /root/dirtytrack || exit 2
t0=$SECONDS
make demo
echo "demo-rc=$? demo-seconds=$((SECONDS - t0))" >/root/fresh-demo.status
t0=$SECONDS
make check
rc=$?
echo "check-rc=$rc check-seconds=$((SECONDS - t0))" >/root/fresh-check.status
exit $rc
EOF
chmod +x "$root/root/fresh-run.sh"

stage_begin "make demo + make check in the root"
rc=0
unshare --mount --propagation private bash -c '
	set -e
	root=$1
	# The root a mount point of its own, so that mount namespaces made
	# inside it (the tests make some) can change their propagation.
	mount --bind "$root" "$root"
	mount --rbind /dev "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount -t tmpfs tmpfs "$root/run"
	exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		/root/fresh-run.sh
' fresh "$root" 2>&1 | tee "$dir/run.log" || rc=$?
stage_end "make demo + make check in the root"

# What the run left, kept on the host.
rm -rf "$out"
mkdir -p "$out"
cp "$dir/run.log" "$out/"
cp -r "$root/root/dirtytrack/build/results" "$out/" 2>/dev/null || true
for f in "$root/root/dirtytrack/build"/guests*/*/guest.{log,tap}; do
	[ -f "$f" ] || continue
	g=${f#"$root/root/dirtytrack/build/"}
	mkdir -p "$out/$(dirname "$g")"
	cp "$f" "$out/$g"
done
for d in "$root_cache"/debug-kernel/*/; do
	[ -e "$d.stamp" ] || continue
	[ -e "$d/build-seconds" ] &&
		echo "$(basename "$d") $(cat "$d/build-seconds") s" >>"$out/debug-kernel-build-seconds"
	# A kernel the root built, kept for the next run.
	if [ $reuse = 1 ] && [ ! -e "$cache/debug-kernel/$(basename "$d")" ]; then
		mkdir -p "$cache/debug-kernel"
		cp -a "${d%/}" "$cache/debug-kernel/$(basename "$d").tmp" &&
			mv "$cache/debug-kernel/$(basename "$d").tmp" \
			   "$cache/debug-kernel/$(basename "$d")"
	fi
done

demo=$(cat "$root/root/fresh-demo.status" 2>/dev/null || echo "demo-rc=missing")
check=$(cat "$root/root/fresh-check.status" 2>/dev/null || echo "check-rc=missing")
[ "${DT_FRESH_KEEP:-0}" = 1 ] || remove_root

echo
echo "=== fresh-check (logs: $out)"
printf '%s\n' "${timings[@]}"
echo "$demo"
echo "$check"
if [ "${demo#demo-rc=0 }" = "$demo" ]; then
	echo "fresh-check: make demo FAILED in the fresh root"
	rc=1
fi
# The last line is the closing line of the make check inside the root.
line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out/run.log" | tail -n1 || true)
echo "${line:-0 passed, 1 failed}"
[ -n "$line" ] || rc=1
exit $rc

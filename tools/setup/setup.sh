#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Set up everything dirtytrack needs on a Debian 12 host: packages, the
# Debian 6.12 kernels (amd64, arm64) and 6.1 headers, linux-source-6.12, the
# 6.12 uapi headers, the kselftest harness, arm64 libnl for the guests'
# static dirtytrack(8), and two debug kernels: one from linux-source-6.12,
# one from Debian's newest linux-source (the newest guest).
#
# Idempotent and cached: everything lands in $DIRTYTRACK_CACHE (default
# ~/.cache/dirtytrack), each step behind a stamp keyed by what it depends on,
# so a second run downloads and rebuilds nothing.  The resolved paths are
# written to $DIRTYTRACK_CACHE/env.mk, which is both a make fragment and a
# shell file (plain VAR=value lines).
#
# Usage: setup.sh [--no-debug-kernel | --no-newest-kernel]
#   --no-debug-kernel    neither debug kernel
#   --no-newest-kernel   the 6.12 debug kernel only (make check builds the
#                        newest after it, so the debug guest runs meanwhile)
#
# What it cannot do ends it with one line "setup: error: ..." naming what is
# missing and what to do, and a non-zero exit: not root, a /dev/kvm that is
# not KVM's, too
# little disk, no network, apt sources without the Debian 6.12 kernels, or
# any step that fails (the line names the step).  Nothing half-written is
# left where a later run would trust it: every download and build lands in
# a temporary name first, and a step's stamp is written last.

set -Eeuo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${DIRTYTRACK_CACHE:-$HOME/.cache/dirtytrack}
jobs=${DIRTYTRACK_JOBS:-$(nproc)}
want_debug=1
want_newest=1
case "${1:-}" in
--no-debug-kernel) want_debug=0 want_newest=0 ;;
--no-newest-kernel) want_newest=0 ;;
"") ;;
*) printf 'setup: error: unknown option %s\n' "$1" >&2; exit 2 ;;
esac

export DEBIAN_FRONTEND=noninteractive

log() { printf '[setup %(%T)T] %s\n' -1 "$*" >&2; }
# One line: what failed and what to do; exit status 3 says it was printed
# already (the ERR trap of a caller of a subshell that failed stays quiet).
fail() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 3
}
# The same, naming a full disk whatever failed on it.
die() {
	local avail
	avail=$(df -Pk "$cache" 2>/dev/null | awk 'NR == 2 { print int($4 / 1024) }') || true
	if [ -n "$avail" ] && [ "$avail" -lt 200 ]; then
		fail "$*: the disk of $cache is full ($avail MiB free); free some space and rerun"
	fi
	fail "$*"
}

# Every step says what it is; a command failing in it ends set-up with
# that name (set -E carries the trap into functions).
step_name="start"
step() { step_name=$1; log "$1"; }
on_error() {
	local rc=$?
	[ $rc = 3 ] && exit 3
	die "step '$step_name' failed (exit $rc at line $1); its output is above"
}
trap 'on_error $LINENO' ERR

# Packages the builds, the tests and the demo use, each named, because a
# bare Debian 12 (debootstrap minbase) has none of them: kernel builds
# (bc, flex, bison, libelf, libssl, rsync for headers_install), the
# guests (QEMU, busybox, cpio, kmod, xz), the library and tools (libc6-dev,
# cmocka, libnl, the arm64 cross toolchain, pkg-config), the hygiene gates
# (sparse, python3-docutils and python3-pygments for the documents, patch
# for contrib/, python3-yaml and python3-jsonschema for the netlink
# generator) and the
# packaging suite (dkms, groff-base, binutils' readelf) and the benchmarks'
# plots (gnuplot-nox).  Kernel images and
# headers are deliberately not here: installing linux-headers-* pulls a
# kernel into the host's /boot.
host_pkgs=(qemu-system-x86 qemu-system-arm busybox-static cpio xz-utils kmod
	   gcc libc6-dev binutils make perl python3 bc flex bison libelf-dev
	   libssl-dev sparse dwarves rsync gcc-aarch64-linux-gnu
	   libc6-dev-arm64-cross pkg-config libnl-3-dev libnl-genl-3-dev
	   libcmocka-dev python3-docutils python3-pygments python3-yaml
	   python3-jsonschema dkms groff-base gnuplot-nox patch)
# Programs set-up and the suites call, checked after the install.
host_cmds=(qemu-system-x86_64 qemu-system-aarch64 cpio xz depmod modprobe gcc
	   aarch64-linux-gnu-gcc make perl python3 bc flex bison sparse rsync
	   pkg-config dkms groff readelf objcopy git timeout gnuplot patch)

# Free space set-up needs in the cache (MiB): downloads, sources, headers,
# and the two debug kernels' builds with the newest source.
need_mib_base=4096
need_mib_debug=12288

apt_updated=0
apt_update() {
	[ $apt_updated = 1 ] && return
	step "apt-get update"
	if ! apt-get update -q --error-on=any >"$cache/apt-update.log" 2>&1; then
		sed -n 's/^\(E\|W\|Err\):/&/p' "$cache/apt-update.log" | head -n 3 >&2
		die "apt-get update cannot reach the archive (no network, or a wrong mirror or proxy in apt's configuration); fix it and rerun"
	fi
	apt_updated=1
}

ensure_arm64_arch() {
	if ! dpkg --print-foreign-architectures | grep -qx arm64; then
		step "dpkg --add-architecture arm64"
		dpkg --add-architecture arm64
		apt_updated=0
		apt_update
	fi
}

install_host_pkgs() {
	local missing=() p c
	for p in "${host_pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	if [ ${#missing[@]} != 0 ]; then
		apt_update
		step "apt-get install ${missing[*]}"
		apt-get install -y -q --no-install-recommends "${missing[@]}" \
			>"$cache/apt-install.log" 2>&1 ||
			{ tail -n 5 "$cache/apt-install.log" >&2; false; }
	fi
	step "checking the installed programs"
	for c in "${host_cmds[@]}"; do
		command -v "$c" >/dev/null ||
			die "'$c' is not installed although its package is; reinstall it (apt-get install --reinstall)"
	done
}

# Before anything is written: what set-up cannot work without.
preflight() {
	local need=$need_mib_base avail
	step "checking the machine"
	[ "$(id -u)" = 0 ] || fail "run as root (apt-get, dpkg --add-architecture)"
	# KVM's misc device (10:232), not merely a file of that name.  A host
	# without KVM still checks everything: the suites that want the
	# host's KVM run in the x86 test guest, whose KVM is emulated.
	if [ ! -e /dev/kvm ]; then
		log "no /dev/kvm: the host's KVM suites will run in the x86 test guest (slower)"
	elif [ "$(stat -Lc '%F %t:%T' /dev/kvm)" != "character special file a:e8" ]; then
		die "/dev/kvm is not KVM's device (10:232); remove it, or load kvm-intel or kvm-amd, and rerun"
	fi
	if [ $want_debug = 1 ] &&
	   [ "$(find "$cache/debug-kernel" -mindepth 2 -maxdepth 2 -name .stamp 2>/dev/null | wc -l)" -lt 2 ]; then
		need=$((need + need_mib_debug))
	fi
	avail=$(df -Pk "$cache" | awk 'NR == 2 { print int($4 / 1024) }')
	[ "$avail" -ge "$need" ] ||
		fail "only ${avail} MiB free for $cache, set-up needs about ${need} MiB; free some space or point DIRTYTRACK_CACHE elsewhere"
}

# The candidate's dependency named like $2 (a sed pattern with one group);
# nothing (and success) when apt knows no such package.
dep_of() {
	{ apt-cache depends "$1" 2>/dev/null || true; } |
		sed -n "s/^ *|\{0,1\}Depends: $2\$/\\1/p" | head -n1
}

# Download packages (NAME or NAME:ARCH) once each; their .deb paths go to
# the array debs, in order.  One apt-cache call resolves every candidate.
# A download lands in a temporary folder and moves into debs/ only once
# dpkg-deb can read it, so an interrupted one is never taken for good.
fetch_debs() {
	local pkg name arch ver deb tmp
	local -A cand=()
	while read -r pkg ver; do
		cand[$pkg]=$ver
	done < <(apt-cache policy "$@" 2>/dev/null |
		 awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
		      /^  Candidate:/ { print p, $2 }')
	debs=()
	for pkg in "$@"; do
		name=${pkg%%:*}
		arch=$(dpkg --print-architecture)
		[ "$name" != "$pkg" ] && arch=${pkg#*:}
		# apt names a package of the native architecture without it.
		ver=${cand[$pkg]:-${cand[$name]:-}}
		[ -n "$ver" ] && [ "$ver" != "(none)" ] ||
			die "apt's sources offer no $pkg; check that they carry the release, its updates and its security archive, and rerun"
		deb=$(ls "$cache/debs/${name}_${ver//:/%3a}_"{"$arch",all}.deb 2>/dev/null | head -n1) || true
		if [ -z "$deb" ]; then
			step "apt-get download $pkg ($ver)"
			tmp=$(mktemp -d "$cache/debs/.download.XXXXXX")
			if ! (cd "$tmp" && apt-get download -q -o APT::Sandbox::User=root \
				"$pkg=$ver" >"$tmp/log" 2>&1); then
				tail -n 3 "$tmp/log" >&2
				rm -rf "$tmp"
				die "cannot download $pkg $ver (no network, or a wrong mirror or proxy in apt's configuration); fix it and rerun"
			fi
			deb=$(ls "$tmp"/*.deb)
			dpkg-deb --info "$deb" >/dev/null
			mv "$deb" "$cache/debs/"
			rm -rf "$tmp"
			deb=$cache/debs/$(basename "$deb")
		fi
		debs+=("$deb")
	done
}

# Extract a set of packages into one root (once, behind a stamp).
extract_root() {
	local root=$1 deb
	shift
	[ -e "$root/.stamp" ] && return
	step "extracting $(basename "$root")"
	rm -rf "$root"
	mkdir -p "$root"
	for deb in "$@"; do
		dpkg -x "$deb" "$root"
	done
	# Debian's headers Makefile includes its -common sibling by absolute
	# path; point it inside this root (the other links are relative).
	find "$root/usr/src" -maxdepth 2 -name Makefile -path '*linux-headers-*' \
		-exec sed -i "s|^include /usr/src/|include $root/usr/src/|" {} + 2>/dev/null || true
	touch "$root/.stamp"
}

setup_kernels() {
	local abi61 kbuild61 kbuild
	step "resolving Debian's 6.12 kernel from apt's sources"
	abi=$(dep_of linux-headers-6.12-amd64 'linux-headers-\(6\.12\..*\)-amd64')
	if [ -z "$abi" ]; then
		# Package lists missing or stale: refresh once and ask again.
		apt_update
		abi=$(dep_of linux-headers-6.12-amd64 'linux-headers-\(6\.12\..*\)-amd64')
	fi
	[ -n "$abi" ] ||
		die "apt's sources carry no Debian 6.12 kernel (linux-headers-6.12-amd64, from bookworm-security): add your mirror's security archive to apt's sources and rerun"
	kbuild=linux-kbuild-$abi
	log "Debian 6.12 ABI: $abi"

	amd64_root=$cache/kernel/amd64-$abi
	fetch_debs "linux-image-$abi-amd64-unsigned" "linux-headers-$abi-amd64" \
		"linux-headers-$abi-common" "$kbuild"
	extract_root "$amd64_root" "${debs[@]}"

	# arm64 headers with the amd64 kbuild (the host tools) beside them.
	arm64_root=$cache/kernel/arm64-$abi
	fetch_debs "linux-image-$abi-arm64-unsigned:arm64" \
		"linux-headers-$abi-arm64:arm64" "linux-headers-$abi-common" "$kbuild"
	extract_root "$arm64_root" "${debs[@]}"

	abi61=$(dep_of linux-headers-amd64 'linux-headers-\(6\.1\..*\)-amd64')
	[ -n "$abi61" ] ||
		die "apt's sources carry no Debian 6.1 kernel headers (linux-headers-amd64, from bookworm): add your mirror's release and security archives and rerun"
	kbuild61=$(dep_of "linux-headers-$abi61-amd64" '\(linux-kbuild-6\.1\)')
	log "Debian 6.1 ABI: $abi61"
	h61_root=$cache/kernel/amd64-$abi61
	fetch_debs "linux-headers-$abi61-amd64" "linux-headers-$abi61-common" \
		"$kbuild61"
	extract_root "$h61_root" "${debs[@]}"
	abi61_kv=$abi61-amd64

	for arch in amd64 arm64; do
		fetch_debs "busybox-static:$arch"
		extract_root "$cache/busybox/$arch" "${debs[@]}"
	done
}

# libnl-3 and libnl-genl-3 for arm64 (headers and static libraries), which
# the arm64 guest's static dirtytrack(8) links: extracted, like the arm64
# kernel, never installed on the host.
setup_libnl() {
	local ver root a
	fetch_debs libnl-3-dev:arm64 libnl-genl-3-dev:arm64
	ver=$(dpkg-deb -f "${debs[0]}" Version)
	root=$cache/libnl/arm64-$ver
	extract_root "$root" "${debs[@]}"
	# Debian 12 ships the archives in /lib/<triplet>, later ones in /usr/lib.
	a=$(find "$root" -name libnl-genl-3.a -print -quit)
	[ -n "$a" ] && [ -f "$(dirname "$a")/libnl-3.a" ] ||
		die "no libnl-3.a and libnl-genl-3.a in $root"
	libnl_arm64_lib=$(dirname "$a")
	libnl_arm64_inc=$root/usr/include/libnl3
}

# Extract a linux-source package's tarball once; its tree goes to the
# variable named by $2.
extract_source() {
	local deb=$1 ver out tarball
	ver=$(dpkg-deb -f "$deb" Version)
	out=$cache/src/linux-source-$ver
	if [ ! -e "$out/.stamp" ]; then
		step "extracting linux-source $ver"
		rm -rf "$out" "$out.tmp"
		mkdir -p "$out.tmp"
		dpkg -x "$deb" "$out.tmp"
		tarball=$(ls "$out.tmp"/usr/src/linux-source-*.tar.xz)
		tar -C "$out.tmp" -xaf "$tarball"
		mv "$out.tmp/$(basename "$tarball" .tar.xz)" "$out"
		rm -rf "$out.tmp"
		touch "$out/.stamp"
	fi
	printf -v "$2" '%s' "$out"
}

setup_source() {
	fetch_debs linux-source-6.12
	src_ver=$(dpkg-deb -f "${debs[0]}" Version)
	extract_source "${debs[0]}" src
}

# Debian's newest linux-source for a stable system: the newest stable
# release's backports (trixie-backports today; not unstable, whose Release
# file goes stale within a week on a mirror snapshot and then fails apt),
# through an apt configuration of its own in the cache on the mirror this
# host already uses: the host's apt sources are left as they are.  Its
# package lists are refreshed once a day.
newest_apt_opts() {
	local d=$cache/apt-newest
	apt_newest=(-o Dir::Etc::sourcelist="$d/sources.list"
		    -o Dir::Etc::sourceparts="$d/parts"
		    -o Dir::State::Lists="$d/lists" -o Dir::Cache="$d/cache"
		    -o Dir::State::status=/dev/null -o APT::Architectures=amd64
		    -o APT::Sandbox::User=root -o Acquire::Languages=none)
}

setup_newest_source() {
	local d=$cache/apt-newest mirror name best= bestver= ver tmp
	step "resolving Debian's newest linux-source"
	mirror=$(apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT)' |
		 awk '$2 == "bookworm" && $3 == "main" { print $1; exit }')
	[ -n "$mirror" ] || fail "apt's sources name no bookworm mirror to find Debian's newest kernel on"
	mkdir -p "$d/lists/partial" "$d/parts" "$d/cache/archives/partial"
	printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
		"$mirror" trixie-backports >"$d/sources.list.new"
	newest_apt_opts
	if ! cmp -s "$d/sources.list.new" "$d/sources.list" ||
	   [ -n "$(find "$d/lists" -maxdepth 0 -mmin +1440)" ] ||
	   ! compgen -G "$d/lists/*Packages*" >/dev/null; then
		mv "$d/sources.list.new" "$d/sources.list"
		apt-get "${apt_newest[@]}" update -q --error-on=any >"$d/update.log" 2>&1 ||
			{ tail -n 3 "$d/update.log" >&2
			  fail "cannot read the package lists of $mirror (trixie-backports): check the network, the mirror or apt's proxy"; }
		touch "$d/lists"
	fi
	rm -f "$d/sources.list.new"
	for name in $(apt-cache "${apt_newest[@]}" pkgnames linux-source- |
		      grep -xE 'linux-source-[0-9]+\.[0-9]+'); do
		if [ -z "$best" ] || dpkg --compare-versions "${name#linux-source-}" gt "${best#linux-source-}"; then
			best=$name
		fi
	done
	[ -n "$best" ] || fail "no linux-source package in $mirror's trixie-backports"
	bestver=$(apt-cache "${apt_newest[@]}" policy "$best" | awk '/Candidate:/ { print $2 }')
	log "Debian's newest kernel source: $best $bestver"
	newest_deb=$(ls "$cache/debs/${best}_${bestver//:/%3a}_all.deb" 2>/dev/null) || true
	if [ -z "$newest_deb" ]; then
		step "apt-get download $best ($bestver)"
		tmp=$(mktemp -d "$cache/debs/.download.XXXXXX")
		(cd "$tmp" && apt-get "${apt_newest[@]}" download -q "$best=$bestver" \
			>"$tmp/log" 2>&1) ||
			{ tail -n 3 "$tmp/log" >&2; rm -rf "$tmp"
			  fail "cannot download $best $bestver (no network, or a wrong mirror or proxy in apt's configuration); fix it and rerun"; }
		ver=$(ls "$tmp"/*.deb)
		dpkg-deb --info "$ver" >/dev/null
		mv "$ver" "$cache/debs/"
		rm -rf "$tmp"
		newest_deb=$cache/debs/$(basename "$ver")
	fi
	newest_ver=$bestver
	extract_source "$newest_deb" newest_src
}

setup_uapi() {
	local arch
	for arch in x86 arm64; do
		local out=$cache/uapi/$arch-$src_ver
		[ -e "$out/.stamp" ] && continue
		step "headers_install ARCH=$arch"
		rm -rf "$out" "$out.build"
		make -s -C "$src" O="$out.build" ARCH=$arch \
			INSTALL_HDR_PATH="$out" headers_install >/dev/null
		rm -rf "$out.build"
		touch "$out/.stamp"
	done
}

# What a kernel build runs and links, checked even when the kernel is in
# the cache: a kernel built elsewhere (fresh-check seeds a new root with the
# host's) must not hide a build dependency set-up forgot to install.
kernel_build_check() {
	local c p
	for c in gcc ld make perl bc flex bison; do
		command -v "$c" >/dev/null ||
			die "'$c', which a kernel build runs, is not installed"
	done
	for p in libelf-dev libssl-dev; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			die "$p, which a kernel build links, is not installed"
	done
}

# A debug kernel (tinyconfig + kvm_guest.config + our fragment) from the
# source tree $1 of version $2, built once per (version, compiler, config)
# and cached; its build folder goes to the variable named by $3.  Both the
# debug guest (Debian's 6.12) and the newest guest are built so.
debug_kernel_dir() {
	local frag=$top/tools/testguest/debug-kernel.config key
	key=$( (echo "$1"; gcc --version | head -n1; cat "$frag") | sha256sum | cut -c1-16)
	echo "$cache/debug-kernel/$1-$key"
}

build_debug_kernel() {
	local src_tree=$1 ver=$2 frag=$top/tools/testguest/debug-kernel.config
	local opt val d kdir t0
	kdir=$(debug_kernel_dir "$ver")
	printf -v "$3" '%s' "$kdir"
	kernel_build_check
	[ -e "$kdir/.stamp" ] && return
	step "building a debug kernel from linux-source $ver in $kdir (several minutes)"
	# Builds that never finished (no stamp) are only in the way.
	for d in "$cache"/debug-kernel/*/; do
		[ -e "$d.stamp" ] || rm -rf "$d"
	done
	mkdir -p "$kdir"
	make -s -C "$src_tree" O="$kdir" tinyconfig >/dev/null
	"$src_tree"/scripts/kconfig/merge_config.sh -m -O "$kdir" \
		"$kdir/.config" "$src_tree/kernel/configs/kvm_guest.config" \
		"$frag" >/dev/null
	make -s -C "$src_tree" O="$kdir" olddefconfig >/dev/null
	# merge_config.sh -m does not check that options survived: do it here.
	while IFS= read -r opt; do
		case "$opt" in
		CONFIG_*=*) ;;
		"# CONFIG_"*" is not set") ;;
		*) continue ;;
		esac
		if grep -qxF "$opt" "$kdir/.config"; then
			continue
		fi
		case "$opt" in
		*=n) val=${opt%=n} ;;
		*"is not set") val=${opt#\# }; val=${val%% *} ;;
		*) val= ;;
		esac
		# An option switched off survives if it is not set to anything.
		if [ -n "$val" ] && ! grep -q "^$val=" "$kdir/.config"; then
			continue
		fi
		die "debug kernel option '$opt' did not survive olddefconfig in linux-source $ver"
	done <"$frag"
	t0=$SECONDS
	make -s -C "$src_tree" O="$kdir" -j"$jobs" all >"$kdir/build.log" 2>&1 ||
		{ tail -n 40 "$kdir/build.log" >&2; die "the debug kernel build of linux-source $ver failed (log: $kdir/build.log)"; }
	log "debug kernel $ver built in $((SECONDS - t0)) s"
	echo $((SECONDS - t0)) >"$kdir/build-seconds"
	touch "$kdir/.stamp"
}

write_env() {
	local kv=$abi-amd64 kva=$abi-arm64 tmp=$cache/env.mk.tmp
	cat >"$tmp" <<-EOF
	# Generated by tools/setup/setup.sh; both a make fragment and a shell file.
	DT_CACHE=$cache
	DT_LINUX_SRC=$src
	DT_SRC_VERSION=$src_ver
	DT_KSFT_DIR=$src/tools/testing/selftests
	DT_CHECKPATCH=$src/scripts/checkpatch.pl
	DT_UAPI_X86=$cache/uapi/x86-$src_ver/include
	DT_UAPI_ARM64=$cache/uapi/arm64-$src_ver/include
	DT_KV_AMD64=$kv
	DT_KDIR_AMD64=$amd64_root/usr/src/linux-headers-$kv
	DT_MODROOT_AMD64=$amd64_root/lib/modules/$kv
	DT_VMLINUZ_AMD64=$amd64_root/boot/vmlinuz-$kv
	DT_KV_ARM64=$kva
	DT_KDIR_ARM64=$arm64_root/usr/src/linux-headers-$kva
	DT_VMLINUZ_ARM64=$arm64_root/boot/vmlinuz-$kva
	DT_KDIR_61=$h61_root/usr/src/linux-headers-$abi61_kv
	DT_BUSYBOX_AMD64=$cache/busybox/amd64/bin/busybox
	DT_BUSYBOX_ARM64=$cache/busybox/arm64/bin/busybox
	DT_LIBNL_ARM64_INC=$libnl_arm64_inc
	DT_LIBNL_ARM64_LIB=$libnl_arm64_lib
	EOF
	if [ -n "${debug_kdir:-}" ] && [ -e "$debug_kdir/.stamp" ]; then
		cat >>"$tmp" <<-EOF
		DT_KDIR_DEBUG=$debug_kdir
		DT_BZIMAGE_DEBUG=$debug_kdir/arch/x86/boot/bzImage
		EOF
	fi
	if [ -n "${newest_kdir:-}" ] && [ -e "$newest_kdir/.stamp" ]; then
		cat >>"$tmp" <<-EOF
		DT_NEWEST_VERSION=$newest_ver
		DT_LINUX_SRC_NEWEST=$newest_src
		DT_KDIR_NEWEST=$newest_kdir
		DT_BZIMAGE_NEWEST=$newest_kdir/arch/x86/boot/bzImage
		EOF
	fi
	mv "$tmp" "$cache/env.mk"
}

main() {
	local t0=$SECONDS
	[ "$(id -u)" = 0 ] || fail "run as root (apt-get, dpkg --add-architecture)"
	mkdir -p "$cache"
	preflight
	mkdir -p "$cache"/{debs,kernel,src,uapi,debug-kernel,busybox,libnl}
	install_host_pkgs
	ensure_arm64_arch
	setup_kernels
	setup_libnl
	setup_source
	setup_uapi
	# Written before the long debug kernel builds, so `make` works already,
	# with the debug kernels built earlier (a check running beside this
	# set-up may be about to boot one).
	if [ $want_debug = 1 ]; then
		debug_kdir=$(debug_kernel_dir "$src_ver")
	fi
	if [ $want_newest = 1 ]; then
		setup_newest_source
		newest_kdir=$(debug_kernel_dir "$newest_ver")
	fi
	write_env
	if [ $want_debug = 1 ]; then
		build_debug_kernel "$src" "$src_ver" debug_kdir
		write_env
	fi
	if [ $want_newest = 1 ]; then
		build_debug_kernel "$newest_src" "$newest_ver" newest_kdir
		write_env
	fi
	step_name="done"
	log "set-up complete in $((SECONDS - t0)) s; paths in $cache/env.mk"
}

main "$@"

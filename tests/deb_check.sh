#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb-check: builds the Debian package from the tracked files alone (as a fresh checkout
# would), checks it with lintian and for the hardening flags, then installs it with apt into a
# clean Debian root (debootstrap minbase from the mirror apt is configured with) and runs
# `sockreap doctor` there in a network namespace of its own. Prints ok / not ok / skipped
# lines and one closing "N passed, N failed, N skipped"; exits 1 if anything failed. What
# cannot be done here (no root, no mirror) is "skipped" with the reason, never "ok".
# DEB_CHECK_KEEP=1 keeps build/deb for a look afterwards.
cd "$(dirname "$0")/.." || exit 1
W=$PWD/build/deb
ROOT=$W/root
NS="sr-deb-$$"
passed=0 failed=0 skipped=0

ok() { echo "ok - deb: $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - deb: $*"; failed=$((failed + 1)); }
skipped() { echo "skipped - deb: $*"; skipped=$((skipped + 1)); }
finish() {
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" = 0 ]
	exit
}
# Nothing may stay mounted below the root before it is removed: rm -rf would follow a bind.
cleanup() {
	ip netns del "$NS" 2>/dev/null
	if grep -q " $ROOT/" /proc/self/mounts; then
		echo "deb: something is still mounted below $ROOT; not removing it" >&2
		return
	fi
	[ -n "${DEB_CHECK_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT

need=()
for t in dpkg-buildpackage dh lintian debootstrap git readelf; do
	command -v "$t" >/dev/null 2>&1 || need+=("$t")
done
if [ ${#need[@]} -gt 0 ]; then
	skipped "${need[*]} not installed (apt-get install \$(make -s print-deps))"
	finish
fi

# --- build from the tracked files, outside the work tree (dpkg-buildpackage writes to ..) ---
rm -rf "$W"
mkdir -p "$W/src/sockreap"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$W/src/sockreap" || {
	not_ok "cannot copy the tracked files"
	finish
}
if (cd "$W/src/sockreap" && dpkg-buildpackage -us -uc -b) >"$W/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b built $(cd "$W/src" && echo *.deb)"
else
	not_ok "dpkg-buildpackage failed: $(tail -5 "$W/build.log" | tr '\n' ' ')"
	finish
fi
deb=$(echo "$W"/src/sockreap_*.deb)
changes=$(echo "$W"/src/sockreap_*.changes)

# Each C file built with Debian's flags and the Makefile's own together.
cc_lines=$(grep -E '^(cc|gcc)\b.* -c .*src/[a-z0-9_]+\.c' "$W/build.log")
# The BPF program (src/bpf/) is built by clang for the BPF target, not with these flags.
n_src=$(git ls-files ':(glob)src/*.c' | wc -l)
if [ "$(grep -c . <<<"$cc_lines")" = "$n_src" ] &&
   ! grep -v -- '-fstack-protector-strong' <<<"$cc_lines" | grep -q . &&
   ! grep -v -- '-D_FORTIFY_SOURCE=2' <<<"$cc_lines" | grep -q . &&
   ! grep -v -- '-std=gnu11' <<<"$cc_lines" | grep -q . &&
   ! grep -q -- '-Werror ' <<<"$cc_lines"; then
	ok "all $n_src sources built with dpkg-buildflags' hardening flags and -std=gnu11, no -Werror"
else
	not_ok "compile lines lack the hardening or required flags: $(head -c 400 <<<"$cc_lines")"
fi
dpkg-deb -x "$deb" "$W/x"
bin=$W/x/usr/sbin/sockreap
if readelf -h "$bin" | grep -q 'DYN' && readelf -d "$bin" | grep -q 'BIND_NOW' &&
   readelf -lW "$bin" | grep -q 'GNU_RELRO'; then
	ok "the program is PIE with full RELRO (BIND_NOW)"
else
	not_ok "the program is not PIE with full RELRO"
fi
want="./etc/logrotate.d/sockreap
./lib/systemd/system/sockreap-watch.service
./usr/sbin/sockreap
./usr/share/bash-completion/completions/sockreap
./usr/share/doc/sockreap/changelog.gz
./usr/share/doc/sockreap/copyright
./usr/share/fish/vendor_completions.d/sockreap.fish
./usr/share/man/man8/sockreap.8.gz
./usr/share/zsh/vendor-completions/_sockreap"
got=$(cd "$W/x" && find . ! -type d | sort)
if [ "$got" = "$want" ]; then
	ok "the package holds the program, man page, three completions, logrotate file and service"
else
	not_ok "package contents: [$(tr '\n' ' ' <<<"$got")]"
fi

# --- lintian: no errors; warnings are listed ----------------------------------------------
lintian --fail-on error --display-level '>=warning' "$changes" >"$W/lintian.log" 2>&1
rc=$?
while IFS= read -r line; do echo "# lintian: $line"; done <"$W/lintian.log"
if [ "$rc" = 0 ]; then
	ok "lintian: no errors ($(grep -c '^W:' "$W/lintian.log") warnings)"
else
	not_ok "lintian: exit $rc: $(grep '^E:' "$W/lintian.log" | head -5 | tr '\n' ' ')"
fi

# --- a clean root: debootstrap minbase, then apt installs the .deb and what it depends on --
if [ "$(id -u)" != 0 ]; then
	skipped "clean root: needs root for debootstrap and chroot"
	finish
fi
mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 !~ /security/ {print $2; exit}' \
	/etc/apt/sources.list 2>/dev/null)
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ -z "$mirror" ] || [ -z "$suite" ]; then
	skipped "clean root: no Debian mirror or release name configured here"
	finish
fi
if ! debootstrap --variant=minbase "$suite" "$ROOT" "$mirror" >"$W/debootstrap.log" 2>&1; then
	if grep -qiE 'fail(ed)? to (download|retrieve|resolve)|unable to|couldn.t download|resolv' "$W/debootstrap.log"; then
		skipped "clean root: the mirror $mirror cannot be reached: $(tail -1 "$W/debootstrap.log")"
	else
		not_ok "clean root: debootstrap $suite failed: $(tail -3 "$W/debootstrap.log" | tr '\n' ' ')"
	fi
	finish
fi
cp "$deb" "$ROOT/tmp/"
# In a mount namespace of its own, so /proc mounted for apt and dpkg vanishes with it.
in_root() {
	unshare -m --propagation private sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
		"$ROOT" "$@"
}
if in_root sh -c "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		/tmp/${deb##*/}" >"$W/apt.log" 2>&1; then
	ok "apt installs the .deb and its Depends into a debootstrap minbase $suite root"
else
	not_ok "apt install in the clean root failed: $(tail -3 "$W/apt.log" | tr '\n' ' ')"
	finish
fi
v=$(in_root sockreap --version 2>&1)
if [ "$v" = "sockreap $(dpkg-parsechangelog -S Version)" ]; then
	ok "the installed program runs: $v"
else
	not_ok "sockreap --version in the clean root: $v"
fi
# doctor tries both engines on a loopback connection: give it a network namespace of its own.
if ip netns add "$NS" && ip -n "$NS" link set lo up; then
	out=$(ip netns exec "$NS" sh -c 'mount -t proc proc "$0/proc" && exec chroot "$0" sockreap doctor' \
		"$ROOT" 2>&1)
	rc=$?
	while IFS= read -r line; do echo "# $line"; done <<<"$out"
	if [ "$rc" = 0 ] && grep -q '^This machine will use: [a-z]' <<<"$out"; then
		ok "sockreap doctor in the clean root: $(sed -n 's/^This machine will use: \([a-z]*\).*/\1/p' <<<"$out") works (exit 0)"
	else
		not_ok "sockreap doctor in the clean root: exit $rc"
	fi
	ip netns del "$NS"
else
	not_ok "cannot create a network namespace for doctor"
fi
# The watcher needs rules first: shipped, not enabled (dh_installsystemd --no-enable).
if [ -e "$ROOT/lib/systemd/system/sockreap-watch.service" ] &&
   [ ! -e "$ROOT/etc/systemd/system/multi-user.target.wants/sockreap-watch.service" ]; then
	ok "sockreap-watch.service is installed and not enabled"
else
	not_ok "sockreap-watch.service: missing, or enabled by the package"
fi
if in_root dpkg --purge sockreap >"$W/purge.log" 2>&1 &&
   [ ! -e "$ROOT/usr/sbin/sockreap" ] && [ ! -e "$ROOT/etc/logrotate.d/sockreap" ] &&
   [ ! -e "$ROOT/lib/systemd/system/sockreap-watch.service" ]; then
	ok "dpkg --purge removes the program, the service and the logrotate conffile"
else
	not_ok "dpkg --purge: $(tail -2 "$W/purge.log" | tr '\n' ' ')"
fi

# --- the README's quick start, as written, in that same fresh root -------------------------
# Every line of its first code block but `make check` (the whole suite inside a chroot is for
# another day), run as root in the tree's copy. A chroot's / must be a mount point for `ip
# netns exec` (mount --make-rslave /), as it is on a real machine: bind the root onto itself.
if [ -n "${DEB_CHECK_NO_QUICKSTART:-}" ]; then
	skipped "quick start in the clean root: DEB_CHECK_NO_QUICKSTART is set"
	finish
fi
steps=$(awk '/^## Quick start/ {q = 1; next} q && /^## / {exit}
	q && /^    [^ ]/ {b = 1; sub(/^    /, ""); print; next} b && !/^    / {exit}' README.md |
	grep -v '^make check$')
if ! grep -q '^make demo$' <<<"$steps" || ! grep -q 'apt-get install -y make' <<<"$steps"; then
	not_ok "quick start: the README's first block lacks the make install line or make demo: [$steps]"
	finish
fi
mkdir -p "$ROOT/root/sockreap"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$ROOT/root/sockreap"
unshare -m --propagation private bash -c '
	r=$0
	mount --bind "$r" "$r" && mount -t proc proc "$r/proc" && mount -t sysfs sysfs "$r/sys" &&
		mount --rbind /dev "$r/dev" && mount -t tmpfs tmpfs "$r/run" || exit 1
	mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup" 2>/dev/null
	exec chroot "$r" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin 		HOME=/root TERM=dumb bash -ec "cd /root/sockreap && $1"' "$ROOT" "$steps" 	</dev/null >"$W/quickstart.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q 'killed' "$W/quickstart.log"; then
	ok "the README quick start works in the minbase root as written ($(tr '\n' ';' <<<"$steps"))"
else
	not_ok "quick start in the minbase root: exit $rc: $(tail -5 "$W/quickstart.log" | tr '\n' ' ')"
fi
finish

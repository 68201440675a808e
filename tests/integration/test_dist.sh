#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The distribution's view of the build: the Makefile takes CPPFLAGS/CFLAGS/LDFLAGS from whoever
# builds while keeping its own required flags, -Werror only in developer builds, and `make
# install` into a DESTDIR puts each file where Debian looks, `make uninstall` removes them all.
# Needs neither root nor namespaces.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

# The commands make would run for TARGET (forced, not run): make_n TARGET VAR=VALUE...
make_n() { make --no-print-directory -B -n "$@" 2>&1; }

# --- flags ----------------------------------------------------------------------------------
line=$(make_n build/obj/main.o CFLAGS=-O0 CPPFLAGS=-DSR_TEST_CPP | grep -- ' -c ')
check "flags: CFLAGS from the command line reach the compiler" grep -q -- ' -O0' <<<"$line"
check "flags: CPPFLAGS from the command line reach the compiler" grep -q -- '-DSR_TEST_CPP' <<<"$line"
check "flags: the required flags stay with CFLAGS=-O0 (gnu11, include/, libnl)" \
	bash -c 'grep -q -- "-std=gnu11" <<<"$1" && grep -q -- "-Iinclude" <<<"$1" &&
		grep -q -- "-D_GNU_SOURCE" <<<"$1" && grep -q -- "$(pkg-config --cflags libnl-3.0)" <<<"$1"' \
	sh "$line"
check "flags: the release build has no -Werror" bash -c '! grep -q -- -Werror <<<"$1"' sh "$line"
line=$(CFLAGS=-O1 CPPFLAGS=-DSR_ENV_CPP make_n build/obj/main.o | grep -- ' -c ')
check "flags: CFLAGS and CPPFLAGS from the environment (dpkg-buildflags) are used" \
	bash -c 'grep -q -- " -O1" <<<"$1" && grep -q -- -DSR_ENV_CPP <<<"$1"' sh "$line"
line=$(LDFLAGS=-Wl,-z,relro make_n sockreap | grep -- '-o sockreap')
check "flags: LDFLAGS from the environment reach the link" grep -q -- '-Wl,-z,relro' <<<"$line"
check "flags: the link keeps its libraries" grep -q -- '-lnl-3' <<<"$line"
check "flags: the sanitizer build has -Werror" \
	grep -q -- -Werror <<<"$(make_n build/san/main.o CFLAGS=-O2 | grep -- ' -c ')"
check "flags: make check builds the plain program with -Werror" \
	grep -q 'WERROR=-Werror sockreap' <<<"$(make --no-print-directory -n check 2>&1)"
check "flags: clang-check has -Werror" grep -q -- -Werror <<<"$(make_n clang-check)"

# --- install / uninstall --------------------------------------------------------------------
# install_round PREFIX ZSHDIR UNITDIR: install into a fresh DESTDIR, compare the file list,
# uninstall, expect nothing but directories left.
install_round() {
	local prefix=$1 zsh=$2 unitdir=$3 d="$TMP/destdir${1//\//_}" got want
	if ! make --no-print-directory -s install DESTDIR="$d" PREFIX="$prefix" >"$TMP/install.log" 2>&1; then
		not_ok "install PREFIX=$prefix: make install failed: $(tail -3 "$TMP/install.log")"
		return
	fi
	got=$(cd "$d" && find . ! -type d | sort)
	want=$(printf '%s\n' "./etc/logrotate.d/sockreap" \
		".$prefix/sbin/sockreap" \
		".$prefix/share/bash-completion/completions/sockreap" \
		".$prefix/share/fish/vendor_completions.d/sockreap.fish" \
		".$prefix/share/man/man8/sockreap.8" \
		".$prefix/share/zsh/$zsh/_sockreap" \
		".$unitdir/sockreap-watch.service" | sort)
	if [ "$got" = "$want" ]; then
		ok "install PREFIX=$prefix: the files land where Debian looks ($(wc -l <<<"$got") files)"
	else
		not_ok "install PREFIX=$prefix: got [$(tr '\n' ' ' <<<"$got")] want [$(tr '\n' ' ' <<<"$want")]"
	fi
	check "install PREFIX=$prefix: the program is executable, the rest is not" \
		bash -c '[ -x "$1/'"$prefix"'/sbin/sockreap" ] && [ -z "$(cd "$1" && find . -type f -perm /111 ! -path "*/sbin/*")" ]' sh "$d"
	check "install PREFIX=$prefix: the service runs $prefix/sbin/sockreap" \
		grep -q "^ExecStart=$prefix/sbin/sockreap watch " "$d$unitdir/sockreap-watch.service"
	make --no-print-directory -s uninstall DESTDIR="$d" PREFIX="$prefix" >/dev/null 2>&1
	got=$(cd "$d" && find . ! -type d)
	if [ -z "$got" ]; then
		ok "uninstall PREFIX=$prefix: every installed file is gone"
	else
		not_ok "uninstall PREFIX=$prefix: left behind: $(tr '\n' ' ' <<<"$got")"
	fi
}
install_round /usr vendor-completions /lib/systemd/system
install_round /usr/local site-functions /usr/local/lib/systemd/system

# systemd's own checker on the unit, its ExecStart pointed at the program built here.
if command -v systemd-analyze >/dev/null && [ -x ./sockreap ]; then
	mkdir -p "$TMP/unit"
	sed "s|/usr/sbin/sockreap|$PWD/sockreap|g" dist/sockreap-watch.service \
		>"$TMP/unit/sockreap-watch.service"
	if out=$(systemd-analyze verify --man=no "$TMP/unit/sockreap-watch.service" 2>&1) &&
		! grep -v -e '^$' <<<"$out" | grep -q .; then
		ok "dist: systemd-analyze verify accepts sockreap-watch.service"
	else
		not_ok "dist: systemd-analyze verify sockreap-watch.service: $(head -c 600 <<<"$out")"
	fi
	check "dist: the service is Type=notify with a watchdog" \
		bash -c 'grep -qx Type=notify "$1" && grep -q ^WatchdogSec= "$1"' sh \
		dist/sockreap-watch.service
	check "dist: its capability bounding set is the issue's four and the state tracker's two" \
		grep -qx 'CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_BPF CAP_PERFMON' \
		dist/sockreap-watch.service
else
	skipped "dist: systemd-analyze (systemd) or ./sockreap missing: the unit is not verified"
fi

if command -v logrotate >/dev/null; then
	out=$(logrotate -d -s "$TMP/lr.state" dist/logrotate 2>&1)
	if [ $? = 0 ] && ! grep -qi error <<<"$out" && grep -q 'rotating pattern: /var/log/sockreap/\*.log' <<<"$out"; then
		ok "dist: logrotate's own parser accepts dist/logrotate"
	else
		not_ok "dist: logrotate -d dist/logrotate: $(grep -i -m3 'error\|pattern' <<<"$out")"
	fi
else
	skipped "dist: logrotate is not installed, dist/logrotate not parsed"
fi

# --- debian/ agrees with the Makefile ---------------------------------------------------------
# Build-Depends: the Makefile's BUILD_PKGS less build-essential (implied), plus debhelper-compat.
bd=$(awk '/^Build-Depends:/ {b = 1; sub(/^Build-Depends:/, "")} b && /^[A-Z]/ && !/^Build-Depends/ {exit}
	b {print}' debian/control | tr ',' '\n' | sed 's/(.*)//; s/^[[:space:]]*//; s/[[:space:]]*$//' |
	grep -v -e '^$' -e '^debhelper-compat$' | sort | tr '\n' ' ')
mk=$(make --no-print-directory -s -f Makefile -f - print-build-pkgs <<<'print-build-pkgs: ; @echo $(BUILD_PKGS)' |
	tr ' ' '\n' | grep -v -e '^$' -e '^build-essential$' | sort | tr '\n' ' ')
check "debian: Build-Depends are the Makefile's BUILD_PKGS ($mk)" [ -n "$mk" ] && [ "$bd" = "$mk" ]
check "debian: debhelper compat 13" grep -q 'debhelper-compat (= 13)' debian/control
if command -v dpkg-parsechangelog >/dev/null; then
	v=$(dpkg-parsechangelog -S Version)
	mv=$(sed -n 's/^VERSION := //p' Makefile)
	check "debian: changelog version $v is the Makefile's VERSION $mv" [ "$v" = "$mv" ]
else
	skipped "debian: dpkg-parsechangelog (dpkg-dev) is not installed, version not compared"
fi
deps=" $(make --no-print-directory -s print-deps) "
check "debian: make print-deps names the packaging tools CI needs for make deb-check" \
	bash -c 'for p in debhelper lintian debootstrap; do [[ $1 == *" $p "* ]] || exit 1; done' sh "$deps"

# --- the man page renders without a warning (groff -ww: bad escapes, unknown macros) ---------
if command -v groff >/dev/null; then
	check "man: groff -ww renders sockreap(8) without a warning" \
		bash -c '[ -z "$(groff -ww -man -z man/sockreap.8 2>&1)" ]'
else
	skipped "man: groff is not installed (Debian: groff-base)"
fi

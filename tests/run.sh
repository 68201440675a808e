#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the cmocka unit binaries given as arguments and every tests/integration/test_*.sh and
# tests/runbooks/test_*.sh (or the scripts TEST_SCRIPTS names), then prints one closing line:
# "N passed, N failed, N skipped". Exits 1 if anything failed.
cd "$(dirname "$0")/.." || exit 1
passed=0 failed=0 skipped=0

for bin in "$@"; do
	out=$("$bin" 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep -E '^\[ *(OK|FAILED|PASSED|SKIPPED) *\]|^\[  ERROR|Assertion|ERROR|runtime error|Sanitizer' || true
	p=$(printf '%s\n' "$out" | grep -c '^\[       OK \]')
	f=$(printf '%s\n' "$out" | grep -c '^\[  FAILED  \] test')
	s=$(printf '%s\n' "$out" | grep -c '^\[  SKIPPED \] test')
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "$bin: exited $rc" >&2
		printf '%s\n' "$out" | tail -20 >&2
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done

# TEST_SCRIPTS (globs) runs only those scripts: make check-runbooks.
for t in ${TEST_SCRIPTS:-tests/integration/test_*.sh tests/runbooks/test_*.sh tests/fuzz/test_*.sh}; do
	[ -e "$t" ] || continue
	echo "== $t"
	log=$(mktemp)
	bash "$t" >"$log" 2>&1
	rc=$?
	while IFS= read -r line; do
		echo "$line"
		case $line in
		"ok - "*) passed=$((passed + 1)) ;;
		"not ok - "*) failed=$((failed + 1)) ;;
		"skipped - "*) skipped=$((skipped + 1)) ;;
		esac
	done <"$log"
	rm -f "$log"
	# A script that dies part-way must not pass by not running the rest of its checks.
	if [ "$rc" != 0 ]; then
		echo "not ok - $t exited $rc before it finished"
		failed=$((failed + 1))
	fi
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]

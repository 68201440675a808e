#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make bench must fail loudly when a tool it needs is missing (without bc every row once read
# 0.0 MiB and the run exited 0), and a small real run must measure something. Row 4 only, one
# run, 1,000 sockets: a few seconds.
cd "$(dirname "$0")/../.." || exit 1
. tests/integration/lib.sh

require_netns bench
for b in build/bench/holder build/bench/measure build/bench/floor ./sockreap; do
	[ -x "$b" ] || { not_ok "bench: $b is not built (make check builds it)"; exit 0; }
done
small=(env BENCH_ROWS=4 BENCH_RUNS=1 BENCH_SIZES=1000)

# without TOOL DIR: DIR/bin holds a link to every program on PATH but TOOL.
without() {
	local tool=$1 dir=$2 d f
	mkdir -p "$dir/bin"
	IFS=: read -ra dirs <<<"$PATH"
	for d in "${dirs[@]}"; do
		for f in "$d"/*; do
			[ -x "$f" ] && [ ! -e "$dir/bin/${f##*/}" ] && [ "${f##*/}" != "$tool" ] &&
				ln -s "$f" "$dir/bin/${f##*/}"
		done
	done
}

mkdir "$TMP/tmpdir"
for tool in bc jq; do
	without "$tool" "$TMP/no-$tool"
	PATH="$TMP/no-$tool/bin" TMPDIR="$TMP/tmpdir" timeout 120 "${small[@]}" bash bench/run.sh \
		>"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" != 0 ] && grep -q "$tool" "$TMP/err"; then
		ok "bench: without $tool it fails and names it (exit $rc)"
	else
		not_ok "bench: without $tool: exit $rc, stderr [$(head -c 300 "$TMP/err")], stdout [$(tail -2 "$TMP/out")]"
	fi
done

check "bench: a refused run leaves nothing in TMPDIR" [ -z "$(ls -A "$TMP/tmpdir")" ]

timeout 300 "${small[@]}" bash bench/run.sh >"$TMP/out" 2>"$TMP/err"
rc=$?
rows=$(grep -c '^| 4 small' "$TMP/out")
zero=$(awk -F'|' '/^\| 4 small/ && $8 + 0 == 0' "$TMP/out" | wc -l)
if [ "$rc" = 0 ] && [ "$rows" = 6 ] && [ "$zero" = 0 ]; then
	ok "bench: a small run measures every row (6 rows, no 0.0 MiB)"
else
	not_ok "bench: small run exit $rc, $rows rows, $zero with 0 MiB: $(head -c 300 "$TMP/err")"
fi

# Row 9 (--group-by against the plain preview) at a small size: both rows, a ratio, no 0.0 MiB.
timeout 300 env BENCH_ROWS=9 BENCH_RUNS=1 BENCH_SIZES=1000 bash bench/run.sh >"$TMP/out" 2>"$TMP/err"
rc=$?
rows=$(grep -c '^| 9 group-by | 1000 | 0 | sockreap' "$TMP/out")
zero=$(awk -F'|' '/^\| 9 group-by \| 1000 \| 0 \| sockreap/ && $8 + 0 == 0' "$TMP/out" | wc -l)
if [ "$rc" = 0 ] && [ "$rows" = 2 ] && [ "$zero" = 0 ] &&
	grep -q '^| 9 group-by .*--group-by comm,peer | [0-9.]* | [0-9.]*× ' "$TMP/out" &&
	grep -q '^| 9 group-by .* CPU s .* | | [0-9.]*, [0-9.]* |' "$TMP/out"; then
	ok "bench: row 9 measures --group-by against the preview (2 rows, a ratio, CPU)"
else
	not_ok "bench: row 9: exit $rc, $rows rows, $zero with 0 MiB: $(head -c 300 "$TMP/err")"
fi

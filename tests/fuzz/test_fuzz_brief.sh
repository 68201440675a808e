#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make check's short fuzzing run: every fuzz target over its checked-in seed corpus, about 55 s
# in all by default (the selector 16 s, netns, planfile and watch 5 s, the others 7 s each;
# FUZZ_BRIEF_SECONDS sets them all alike). New inputs go to build/fuzz/corpus/TARGET and crashes to
# build/fuzz/artifacts/TARGET/, never to the checked-in corpus.
cd "$(dirname "$0")/../.." || exit 1
targets="selector:16:512 diag:7:4096 packet:7:256 cli:7:1024 netns:5:4096 planfile:5:16384 watch:5:2048"

for spec in $targets; do
	IFS=: read -r t secs maxlen <<<"$spec"
	bin=build/fuzz/fuzz_$t
	secs=${FUZZ_BRIEF_SECONDS:-$secs}
	if [ ! -x "$bin" ]; then
		echo "skipped - fuzz_$t: clang with libFuzzer is not installed"
		continue
	fi
	mkdir -p "build/fuzz/corpus/$t" "build/fuzz/artifacts/$t"
	log=$(mktemp)
	if "$bin" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
		-artifact_prefix="build/fuzz/artifacts/$t/" \
		"build/fuzz/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
		echo "ok - fuzz_$t: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1), no crash"
	else
		echo "not ok - fuzz_$t found a crash:"
		grep -E 'ERROR|canonical|SUMMARY|Test unit written|Base64|in LLVMFuzzerTestOneInput|in (selector|sel_|parse_|format_|diag_|packet_|cli_|output_|json_|text_|netns_|planfile_)' "$log" | head -16
	fi
	rm -f "$log"
done

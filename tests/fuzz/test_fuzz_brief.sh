#!/usr/bin/env bash
# make check's short fuzzing run: the selector fuzzer for FUZZ_BRIEF_SECONDS (default 30) over
# the checked-in seed corpus. New inputs go to build/fuzz/corpus, never to the checked-in one.
cd "$(dirname "$0")/../.." || exit 1
bin=build/fuzz/fuzz_selector
secs=${FUZZ_BRIEF_SECONDS:-30}
if [ ! -x "$bin" ]; then
	echo "skipped - fuzz_selector: clang with libFuzzer is not installed"
	exit 0
fi
mkdir -p build/fuzz/corpus
log=$(mktemp)
if "$bin" -max_total_time="$secs" -max_len=512 -timeout=10 -artifact_prefix=build/fuzz/ \
	build/fuzz/corpus tests/fuzz/corpus/selector >"$log" 2>&1; then
	echo "ok - fuzz_selector: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | tail -1), no crash"
else
	echo "not ok - fuzz_selector found a crash:"
	grep -E 'ERROR|canonical|SUMMARY|Test unit written|Base64|in LLVMFuzzerTestOneInput|in (selector|sel_|parse_|format_)' "$log" | head -16
fi
rm -f "$log"

#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make check's short fuzzing run: every fuzz target over its checked-in seed corpus, a fixed
# number of runs from a fixed seed: about 42 s of CPU in all on the 2-core build machine.
#
# Why -seed/-runs and not -max_total_time: a check should give one checkout one verdict on
# every machine and every try. With a time budget a faster or idler machine runs more inputs,
# and a random seed explores others: a CI run once found a real bug (--netns .) that the next
# run of the same commit would likely have missed. So this step does a fixed amount of work:
# every seed in tests/fuzz/corpus/TARGET first (libFuzzer runs them all before it mutates: a
# regression seed fails on every machine), then mutations from seed FUZZ_BRIEF_SEED (1) up to
# RUNS inputs in all.
# The seeds go in name order through -seed_inputs (a directory comes in readdir order, which
# differs between file systems, and the start-up shuffle would follow it), nothing is read
# from build/fuzz/corpus (which `make fuzz` grows), and new inputs go to a fresh directory.
# The mutation phase is as repeatable as the targets allow, not more: two runs here walk the
# same inputs up to the first one whose coverage depends on a heap address, the clock or
# the process table (measured: packet all 4M identical; cli from input ~3,800, watch ~8,000,
# selector ~15,000, planfile ~47,000, diag ~65,000, netns ~197,000 on). So a verdict that is
# repeatable everywhere is the seed replay: FUZZ_BRIEF_RUNS=0 gives only that. Open-ended
# random search is `make fuzz` (random seed, FUZZ_SECONDS each): what it finds is fixed, and
# its input joins tests/fuzz/corpus/TARGET, where this step replays it from then on.
#
# FUZZ_BRIEF_RUNS sets every target's run count alike, FUZZ_BRIEF_SEED the seed. New
# inputs are copied to build/fuzz/corpus/TARGET (for `make fuzz`), crashes go to
# build/fuzz/artifacts/TARGET/, never to the checked-in corpus.
cd "$(dirname "$0")/../.." || exit 1
# target:runs:max_len; each took about its old time budget (5-16 s) on the build machine.
targets="selector:250000:512 diag:180000:4096 packet:4000000:256 cli:100000:1024 \
netns:1200000:4096 planfile:300000:16384 watch:90000:2048"
seed=${FUZZ_BRIEF_SEED:-1}
# Without address randomisation: libFuzzer's comparison dictionary records the operands of
# 8-byte compares, stack addresses among them, so under ASLR each run mutates differently after
# a few hundred inputs (measured: fuzz_cli and fuzz_diag diverged by input 200). For the
# same reason the run gets a fixed environment and fixed paths (both lie on the stack). A
# container whose seccomp filter refuses personality() runs without it, less repeatable.
norand=
if setarch "$(uname -m)" -R true 2>/dev/null; then
	norand="setarch $(uname -m) -R"
fi

for spec in $targets; do
	IFS=: read -r t runs maxlen <<<"$spec"
	bin=build/fuzz/fuzz_$t
	runs=${FUZZ_BRIEF_RUNS:-$runs}
	if [ ! -x "$bin" ]; then
		echo "skipped - fuzz_$t: clang with libFuzzer is not installed"
		continue
	fi
	mkdir -p "build/fuzz/corpus/$t" "build/fuzz/artifacts/$t"
	work=build/fuzz/brief/$t
	rm -rf "$work"
	mkdir -p "$work/new"
	# -seed_inputs takes a comma-separated list: a seed name with a comma would split.
	if find "tests/fuzz/corpus/$t" -type f -name '*,*' | grep -q .; then
		echo "not ok - fuzz_$t: a seed in tests/fuzz/corpus/$t has a comma in its name"
		rm -rf "$work"
		continue
	fi
	find "tests/fuzz/corpus/$t" -type f | LC_ALL=C sort | paste -sd, - >"$work/seeds"
	if env -i PATH=/usr/local/bin:/usr/bin:/bin LC_ALL=C $norand \
		"$bin" -seed="$seed" -runs="$runs" -max_len="$maxlen" -timeout=10 \
		-artifact_prefix="build/fuzz/artifacts/$t/" -seed_inputs=@"$work/seeds" \
		"$work/new" >"$work/log" 2>&1; then
		echo "ok - fuzz_$t: $(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$work/log" | tail -1)," \
			"seed $seed, no crash"
		cp -n "$work/new/"* "build/fuzz/corpus/$t/" 2>/dev/null
	else
		echo "not ok - fuzz_$t found a crash (seed $seed, $runs runs):"
		grep -E 'ERROR|canonical|SUMMARY|Test unit written|Base64|in LLVMFuzzerTestOneInput|in (selector|sel_|parse_|format_|diag_|packet_|cli_|output_|json_|text_|netns_|planfile_|watch_)' "$work/log" | head -16
	fi
	rm -rf "$work"
done

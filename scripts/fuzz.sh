#!/usr/bin/env bash
# Build the libFuzzer fuzzers (clang, ASan + UBSan) in build-fuzz and run
# each one, single-process, from its seed corpus in fuzz/corpus/<name>/.
#
#   scripts/fuzz.sh [--time SECONDS]   each fuzzer for SECONDS (default 60),
#                                      new inputs kept in build-fuzz/corpus/
#   scripts/fuzz.sh --ci [RUNS]        each fuzzer for RUNS executions
#                                      (default 2000), seed 1, and a meson-
#                                      style log build-fuzz/fuzz-ci.json
#                                      that scripts/tap-summary.py counts:
#                                      one test case per fuzzer
#
# Exits non-zero if the build or any fuzzer failed.  Crashing inputs are
# written to build-fuzz/artifacts/; reproduce one with
#   build-fuzz/fuzz/<fuzzer> build-fuzz/artifacts/<file>
set -uo pipefail
cd "$(dirname "$0")/.."

mode=time
time=60
runs=2000
case "${1:-}" in
--ci) mode=ci; runs=${2:-2000} ;;
--time) time=${2:-60} ;;
"") ;;
*) echo "usage: $0 [--time SECONDS | --ci [RUNS]]" >&2; exit 2 ;;
esac

fuzzers=(fuzz_uapi fuzz_smmu fuzz_cmdq fuzz_vfio)
dir=build-fuzz
json=$dir/fuzz-ci.json
rm -f "$json" # a build that fails now must not leave the last verdict
if [ ! -f "$dir/build.ninja" ]; then
	CC=clang meson setup "$dir" -Dfuzz=enabled -Dtests=disabled \
		-Dbench=false -Db_sanitize=address,undefined \
		-Db_lundef=false >"$dir.setup.log" 2>&1 || {
		cat "$dir.setup.log"; rm -rf "$dir"; exit 1; }
fi
# -j1: the fuzz build is an extra; it must not crowd a shared machine.
ninja -C "$dir" -j1 >/dev/null || { ninja -C "$dir" -j1; exit 1; }

# Recoverable UBSan reports in the library must still stop the fuzzer.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
mkdir -p "$dir/artifacts"
status=0
[ "$mode" = ci ] && : >"$json"
for f in "${fuzzers[@]}"; do
	seeds=fuzz/corpus/$f
	if [ "$mode" = ci ]; then
		# new inputs go to a scratch directory, never into the seeds
		work=$(mktemp -d)
		args=(-runs="$runs" -seed=1 -timeout=10 "$work" "$seeds")
	else
		work=$dir/corpus/$f
		mkdir -p "$work"
		args=(-max_total_time="$time" -timeout=10 -print_final_stats=1
			"$work" "$seeds")
	fi
	log=$dir/$f.log
	start=$SECONDS
	"$dir/fuzz/$f" -artifact_prefix="$dir/artifacts/$f-" "${args[@]}" \
		>"$log" 2>&1
	rc=$?
	took=$((SECONDS - start))
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	execs=$(grep -oE '^#[0-9]+' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "$f: ok (${execs#\#} executions, ${cov:-cov: ?}, ${took}s)"
		line="ok 1 - $f"
		result=OK
	else
		echo "$f: FAILED (exit $rc after ${took}s); log $log:"
		grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" |
			head -20
		line="not ok 1 - $f"
		result=FAIL
		status=1
	fi
	[ "$mode" = ci ] && rm -rf "$work"
	if [ "$mode" = ci ]; then
		python3 -c 'import json, sys
print(json.dumps({"name": sys.argv[1], "result": sys.argv[2],
                  "stdout": sys.argv[3] + "\n"}))' \
			"fuzz/$f" "$result" "$line" >>"$json"
	fi
done
exit $status

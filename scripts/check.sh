#!/usr/bin/env bash
# Build softiommu four times (plain, AddressSanitizer + UBSan, ThreadSanitizer,
# and release: -O3 and NDEBUG, as a distribution builds it), run every cmocka
# suite in each, and end with the line "N passed, N failed", counting test
# cases.  Exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."

builds=(
	"build|"
	"build-asan|-Db_sanitize=address,undefined -Db_lundef=false"
	"build-tsan|-Db_sanitize=thread -Db_lundef=false"
	"build-reltest|--buildtype=release"
)
status=0
broken=0 # builds that failed to configure or compile: one failure each
logs=()
for b in "${builds[@]}"; do
	dir=${b%%|*}
	opts=${b#*|}
	echo "== $dir ${opts:-(no sanitizer)}"
	if [ ! -f "$dir/build.ninja" ]; then
		# shellcheck disable=SC2086
		meson setup "$dir" -Dtests=enabled $opts >"$dir.setup.log" 2>&1 || {
			cat "$dir.setup.log"; rm -rf "$dir"
			status=1; broken=$((broken + 1)); continue; }
	fi
	ninja -C "$dir" >/dev/null || {
		ninja -C "$dir"; status=1; broken=$((broken + 1)); continue; }
	meson test -C "$dir" --no-rebuild --print-errorlogs \
		--num-processes 2 || status=1
	logs+=("$dir/meson-logs/testlog.json")
done

# The fuzzers (docs/reliability.md), if clang is there and FUZZ_CI is not
# 0: a short fixed run of each from its seeds, one test case per fuzzer.
if [ "${FUZZ_CI:-1}" != 0 ] && command -v clang >/dev/null 2>&1; then
	echo "== build-fuzz (clang, libFuzzer, ASan + UBSan)"
	scripts/fuzz.sh --ci || status=1
	if [ -f build-fuzz/fuzz-ci.json ]; then
		logs+=("build-fuzz/fuzz-ci.json")
	else
		broken=$((broken + 1))
	fi
fi

python3 scripts/tap-summary.py --broken "$broken" "${logs[@]}" || status=1
exit $status

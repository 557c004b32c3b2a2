# Thin wrapper over Meson + Ninja.  The two commands the README promises:
#   make demo    build and run the demo on the built-in default platform
#   make check   build plain, ASan+UBSan and TSan variants and run all tests
#   make fuzz    run each libFuzzer fuzzer for FUZZ_TIME seconds (needs clang)
BUILD ?= build
FUZZ_TIME ?= 60

.PHONY: all demo check bench install format clean deps test-deps fuzz

all: deps
	@[ -f $(BUILD)/build.ninja ] || meson setup $(BUILD)
	ninja -C $(BUILD)

deps:
	@scripts/deps.sh

test-deps:
	@scripts/deps.sh --tests

demo: all
	$(BUILD)/tools/softiommu demo

check: test-deps
	scripts/check.sh

bench: deps
	@[ -f build-release/build.ninja ] || \
		meson setup build-release --buildtype=release -Dtests=disabled
	ninja -C build-release
	build-release/bench/bench-pgtable
	build-release/bench/bench-mem
	build-release/bench/bench-smmu
	build-release/bench/bench-iommufd
	build-release/tools/softiommu exec -- build-release/bench/bench-uapi
	build-release/tools/softiommu exec -- build-release/bench/bench-vfio

fuzz:
	scripts/fuzz.sh --time $(FUZZ_TIME)

install: all
	meson install -C $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-tsan build-release build-fuzz *.setup.log

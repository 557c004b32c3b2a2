#!/usr/bin/env python3
"""Count test cases across meson test logs of TAP-speaking suites.

A suite that ran cleanly contributes its "ok" and "not ok" lines; one that
crashed or timed out without saying which case failed counts as one
failure more, so a crash can never look like a pass.  With --broken N, N
builds that failed to compile count as one failure each.  Prints one line per
build and, last, "N passed, N failed".  Exits 1 if anything failed.
"""
import json
import re
import sys

OK = re.compile(r"^ok \d+", re.M)
NOT_OK = re.compile(r"^not ok \d+", re.M)

args = sys.argv[1:]
broken = 0
if args[:1] == ["--broken"]:
    broken = int(args[1])
    args = args[2:]

total_pass = total_fail = 0
if broken:
    print(f"{broken} build(s) failed before their tests could run")
    total_fail += broken
for path in args:
    passed = failed = 0
    try:
        lines = open(path).read().splitlines()
    except OSError as e:
        print(f"{path}: {e}")
        total_fail += 1
        continue
    for line in lines:
        t = json.loads(line)
        out = t.get("stdout") or ""
        p, f = len(OK.findall(out)), len(NOT_OK.findall(out))
        if t.get("result") not in ("OK", "EXPECTEDFAIL", "SKIP") and f == 0:
            f = 1
        if p == 0 and f == 0 and t.get("result") == "OK":
            p = 1
        passed += p
        failed += f
    print(f"{path.split('/')[0]}: {passed} passed, {failed} failed")
    total_pass += passed
    total_fail += failed
print(f"{total_pass} passed, {total_fail} failed")
sys.exit(1 if total_fail else 0)

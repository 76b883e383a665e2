#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Validates kuifd records against docs/schema/kuifd-records.schema.json.

usage: validate_records.py SCHEMA FILE...
Each FILE holds JSON lines (other lines are skipped: kuifctl's human
output, shell noise). Fails when a record does not match, when a line that
looks like a record is not JSON, or when there is no record at all (a test
that saw nothing must not pass). Prints a summary by record type.

Also a module: validator(schema_path) for the host tests.
"""
import json
import sys

import jsonschema


def validator(schema_path):
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    v = validator(argv[1])
    counts, bad = {}, []
    for path in argv[2:]:
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line.startswith('{"type":'):
                    continue
                try:
                    rec = json.loads(line)
                except ValueError as e:
                    bad.append(f"{path}:{n}: not JSON ({e}): {line[:200]}")
                    continue
                errs = sorted(v.iter_errors(rec), key=lambda e: e.path)
                if errs:
                    bad.append(f"{path}:{n}: {errs[0].message} at "
                               f"{'/'.join(map(str, errs[0].path))}: "
                               f"{line[:200]}")
                counts[rec.get("type")] = counts.get(rec.get("type"), 0) + 1
    print("records: " + ", ".join(f"{k} {n}" for k, n in sorted(
        counts.items(), key=lambda kv: str(kv[0]))))
    for b in bad[:20]:
        print("  " + b)
    if bad:
        print(f"{len(bad)} records do not match the schema")
        return 1
    if not counts:
        print("no records to validate")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

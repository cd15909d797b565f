"""Validates rendered prometheus-operator objects (ServiceMonitor, PrometheusRule), which
kubernetes-validate has no schema for, against the strict schemas in deploy/monitoring/crd-schemas.

  validate_crds.py SCHEMA_DIR FILE...

Prints one line per object; exit status 1 if any object fails or has no schema here.
"""

from __future__ import annotations

import json
import pathlib
import sys

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

GROUP = "monitoring.coreos.com/"


def main() -> int:
    schema_dir = pathlib.Path(sys.argv[1])
    registry: Registry = Registry()
    schemas = {}
    for path in sorted(schema_dir.glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        registry = registry.with_resource(path.name, Resource.from_contents(contents, default_specification=DRAFT7))
        if path.name != "common.json":
            schemas[contents["properties"]["kind"]["const"]] = contents
    failures = 0
    for filename in sys.argv[2:]:
        with open(filename, encoding="utf-8") as handle:
            documents = [doc for doc in yaml.safe_load_all(handle) if doc]
        for doc in documents:
            if not str(doc.get("apiVersion", "")).startswith(GROUP):
                continue
            kind, name = doc.get("kind"), doc.get("metadata", {}).get("name")
            schema = schemas.get(kind)
            if schema is None:
                print(f"ERROR {filename}: no schema for {kind} in {schema_dir}; add one")
                failures += 1
                continue
            validator = jsonschema.Draft7Validator(schema, registry=registry)
            errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
            for error in errors:
                path = ".".join(str(p) for p in error.path)
                print(f"ERROR {filename}: {kind}/{name}: {path}: {error.message}")
            failures += bool(errors)
            if not errors:
                print(f"INFO {kind}/{name} passed against {schema_dir.name}/{kind.lower()}.json")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

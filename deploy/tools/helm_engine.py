"""The Helm engine for `cargo xtask lint` and `cargo xtask manifests` when no `helm` binary is
on PATH: Helm's own Go SDK (helm-python-sdk), offline, with the same inputs as `helm lint` and
`helm template`. Prints one JSON document on stdout; errors go to stderr with exit status 1.

  helm_engine.py lint   --chart DIR [--values FILE]... [--set-json JSON] [--namespace NS]
  helm_engine.py render --chart DIR --name NAME --namespace NS [--values FILE]... [--set-json JSON]
  helm_engine.py objects < {"template path": "rendered YAML", ...}   (YAML to JSON objects)
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml
from helm_python import HelmError, chart


def merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Helm's rule for several -f files: maps merge key by key, the later file wins, null deletes."""
    merged = dict(base)
    for key, value in overlay.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def user_values(files: list[str], set_json: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            values = merge(values, chart.values_from_yaml(handle.read()) or {})
    if set_json:
        values = merge(values, json.loads(set_json))
    return values


def objects() -> int:
    """Every object of every rendered template, as [{"source", "object"}], in template order."""
    rendered: dict[str, str] = json.load(sys.stdin)
    parsed = []
    for source, text in sorted(rendered.items()):
        try:
            documents = list(yaml.safe_load_all(text))
        except yaml.YAMLError as err:
            print(f"helm engine: {source} is not valid YAML: {err}", file=sys.stderr)
            return 1
        parsed.extend({"source": source, "object": doc} for doc in documents if doc)
    json.dump(parsed, sys.stdout)
    return 0


def main() -> int:
    if sys.argv[1:] == ["objects"]:
        return objects()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("action", choices=["lint", "render"])
    parser.add_argument("--chart", required=True)
    parser.add_argument("--values", action="append", default=[])
    parser.add_argument("--set-json", dest="set_json")
    parser.add_argument("--name", default="todo-chatbot")
    parser.add_argument("--namespace", default="default")
    args = parser.parse_args()

    try:
        values = user_values(args.values, args.set_json)
        if args.action == "lint":
            report = chart.lint(args.chart, values=values, strict=True, namespace=args.namespace)
            json.dump(report, sys.stdout)
        else:
            with chart.Chart.load(args.chart) as loaded:
                rendered = loaded.render(
                    values=values, name=args.name, namespace=args.namespace, is_install=True
                )
            json.dump(rendered, sys.stdout)
    except HelmError as err:
        print(f"helm engine: {args.action} failed: {err}", file=sys.stderr)
        return 1
    except OSError as err:
        print(f"helm engine: cannot read an input: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The Helm engine for the xtask when no `helm` binary is on PATH: Helm's own Go SDK
(helm-python-sdk), with the same inputs as the `helm` commands it stands in for. Prints one JSON
document on stdout; errors go to stderr with exit status 1.

Offline (`cargo xtask lint`, `cargo xtask manifests`):
  helm_engine.py lint   --chart DIR [--values FILE]... [--set-json JSON] [--namespace NS]
  helm_engine.py render --chart DIR --name NAME --namespace NS [--values FILE]... [--set-json JSON]
  helm_engine.py objects < {"template path": "rendered YAML", ...}   (YAML to JSON objects)

On a cluster (`cargo xtask up`/`down`/`status`, as `helm upgrade --install`, `helm status`,
`helm rollback`, `helm uninstall`, `helm test --logs`):
  helm_engine.py upgrade   --chart DIR --name NAME --namespace NS [--values FILE]...
                           [--set K=V]... [--set-string K=V]... [--timeout S] [CLUSTER]
  helm_engine.py status    --name NAME --namespace NS [CLUSTER]     (null when not installed)
  helm_engine.py rollback  --name NAME --namespace NS --revision N [--timeout S] [CLUSTER]
  helm_engine.py uninstall --name NAME --namespace NS [--timeout S] [CLUSTER]
  helm_engine.py test      --name NAME --namespace NS [--timeout S] [CLUSTER]
CLUSTER: [--kubeconfig FILE] [--kube-context NAME]
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml
import helm_python
from helm_python import Config, HelmError, HelmNotFoundError, chart


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


def user_values(
    files: list[str],
    set_json: str | None,
    sets: list[str] | None = None,
    set_strings: list[str] | None = None,
) -> dict[str, Any]:
    """Helm's order: the files in turn, then --set-json, --set, and --set-string last."""
    values: dict[str, Any] = {}
    for path in files:
        with open(path, encoding="utf-8") as handle:
            values = merge(values, chart.values_from_yaml(handle.read()) or {})
    if set_json:
        values = merge(values, json.loads(set_json))
    for expression in sets or []:
        values = merge(values, helm_python.parse_set_string(expression))
    for expression in set_strings or []:
        values = merge(values, helm_python.parse_set_string_values(expression))
    return values


def cluster(args: argparse.Namespace) -> Config:
    return Config(
        kubeconfig_path=args.kubeconfig,
        kube_context=args.kube_context,
        namespace=args.namespace,
    )


def release_summary(release: dict[str, Any]) -> dict[str, Any]:
    """The fields the xtask reads (the manifest stays out: it can be large). The SDK's summaries
    are flat (`revision`, `status`); `helm status -o json` nests them (`version`, `info.status`)."""
    info = release.get("info") or {}
    return {
        "name": release.get("name"),
        "namespace": release.get("namespace"),
        "revision": release.get("revision", release.get("version")),
        "status": release.get("status", info.get("status")),
    }


def on_cluster(args: argparse.Namespace) -> Any:
    """Runs one release action; returns what to print as JSON."""
    with cluster(args) as config:
        if args.action == "status":
            try:
                return release_summary(config.status(args.name))
            except HelmNotFoundError:
                return None
        if args.action == "upgrade":
            values = user_values(args.values, None, args.set, args.set_string)
            try:
                config.status(args.name)
                installed = True
            except HelmNotFoundError:
                installed = False
            if installed:
                release = config.upgrade(
                    args.chart, args.name, values, namespace=args.namespace, timeout=args.timeout
                )
            else:
                release = config.install(
                    args.chart,
                    args.name,
                    values,
                    namespace=args.namespace,
                    timeout=args.timeout,
                    create_namespace=True,
                )
            return release_summary(release)
        if args.action == "rollback":
            config.rollback(args.name, version=args.revision, timeout=args.timeout)
            return release_summary(config.status(args.name))
        if args.action == "uninstall":
            config.uninstall(args.name, ignore_not_found=True, timeout=args.timeout, wait="legacy")
            return {"uninstalled": args.name}
        if args.action == "test":
            result = config.test(args.name, timeout=args.timeout, logs=True)
            return {"logs": result.get("logs", "")}
    raise ValueError(f"unknown action {args.action}")


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
    parser.add_argument(
        "action", choices=["lint", "render", "upgrade", "status", "rollback", "uninstall", "test"]
    )
    parser.add_argument("--chart")
    parser.add_argument("--values", action="append", default=[])
    parser.add_argument("--set-json", dest="set_json")
    parser.add_argument("--set", action="append", default=[])
    parser.add_argument("--set-string", dest="set_string", action="append", default=[])
    parser.add_argument("--name", default="todo-chatbot")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--kubeconfig")
    parser.add_argument("--kube-context", dest="kube_context")
    parser.add_argument("--timeout", type=int, default=300, help="seconds")
    parser.add_argument("--revision", type=int)
    args = parser.parse_args()
    if args.action in ("lint", "render", "upgrade") and not args.chart:
        parser.error(f"{args.action} needs --chart")

    try:
        if args.action not in ("lint", "render"):
            json.dump(on_cluster(args), sys.stdout)
            return 0
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

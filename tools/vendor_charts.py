"""Copy the pinned charts' sources into addons/vendor, from git clones of their repositories.

    python -m tools.vendor_charts --clone OWNER/NAME=DIR [--clone ...] [--out addons/vendor]

For every chart in `addons.pins` (and the subcharts whose values the
platform sets), from the release tag the pin names, it copies what the
offline checks read: `Chart.yaml`, the values file, `values.schema.json`,
the Chart.yaml and values of local subcharts, and every template that
carries a Helm hook. `SOURCE.yaml` records the repository, tag, commit and
folder, and the CustomResourceDefinitions found anywhere in the chart's
folder (API group and kind), so the tests know what the chart installs
without the 1-5 MB of CRDs. Run it after changing a pin; the tests say when
a vendored folder does not match its pin.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Optional

import yaml

from addons.pins import PINS, SUBCHART_SOURCES, ChartSource

PROJECT_DIR = Path(__file__).resolve().parents[1]
_CRD_GROUP = re.compile(r"^  group: *['\"]?([a-z0-9.-]+)", re.MULTILINE)
_CRD_KIND = re.compile(r"^    kind: *['\"]?([A-Za-z0-9]+)", re.MULTILINE)


def _git(clone: Path, *args: str) -> str:
    output = subprocess.run(["git", "-C", str(clone), *args], check=True, capture_output=True).stdout
    return output.decode("utf-8", errors="replace")  # binary files (a packed CRD bundle) are neither copied nor read


def crds_in(text: str) -> set[str]:
    """`group/Kind` of each CustomResourceDefinition in a (possibly templated) manifest."""
    found = set()
    for document in re.split(r"^---", text, flags=re.MULTILINE):
        if re.search(r"^kind: *CustomResourceDefinition", document, re.MULTILINE):
            group, kind = _CRD_GROUP.search(document), _CRD_KIND.search(document)
            if group and kind:
                found.add(f"{group.group(1)}/{kind.group(1)}")
    return found


def vendor(source: ChartSource, clone: Path, target: Path) -> None:
    commit = _git(clone, "rev-parse", f"{source.tag}^{{commit}}").strip()
    files = [line for line in _git(clone, "ls-tree", "-r", "--name-only", commit, source.path).splitlines()]
    if target.exists():
        shutil.rmtree(target)
    crds: set[str] = set()
    for name in files:
        relative = name[len(source.path) + 1 :]
        text = _git(clone, "show", f"{commit}:{name}")
        crds |= crds_in(text)
        parts = relative.split("/")
        wanted = (
            relative in ("Chart.yaml", source.values_file, "values.schema.json")
            or (len(parts) == 3 and parts[0] == "charts" and parts[2] in ("Chart.yaml", "values.yaml"))
            or ("templates" in parts and "helm.sh/hook" in text)
        )
        if wanted:
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_text(text)
    record = {
        "repository": f"https://github.com/{source.repository}",
        "tag": source.tag,
        "commit": commit,
        "path": source.path,
        "copied": "Chart.yaml, the values file and schema, local subcharts' Chart.yaml and values, templates with hooks",
        "crds": sorted(crds),
    }
    (target / "SOURCE.yaml").write_text(yaml.safe_dump(record, sort_keys=False))


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.vendor_charts", description=__doc__.splitlines()[0])
    parser.add_argument("--clone", action="append", default=[], metavar="OWNER/NAME=DIR", help="a git clone")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "addons" / "vendor")
    args = parser.parse_args(argv)
    clones = {}
    for assignment in args.clone:
        name, _, directory = assignment.partition("=")
        clones[name] = Path(directory)
    wanted = [(pin.key, pin.source) for pin in PINS] + list(SUBCHART_SOURCES.items())
    missing = sorted({source.repository for _, source in wanted} - set(clones))
    if missing:
        print(f"error: no --clone for {', '.join(missing)}", file=sys.stderr)
        return 2
    for key, source in wanted:
        vendor(source, clones[source.repository], args.out / key)
        print(f"{key}: {source.repository}@{source.tag}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

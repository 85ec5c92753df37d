"""docs/configuration.md cannot drift from the settings model: every key the
model reads is documented, every documented key exists, and every default
the table states as a value is the model's default, compared by meaning."""

from __future__ import annotations

import re
import typing
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from pydantic import BaseModel

from settings import OPTIONAL_SECRET_KEYS, SECRET_KEYS, Settings
from settings.contract import APP_SECRETS
from settings.keys import model_of

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
REQUIRED = object()
COLORS = ("blue", "green")


def model_keys(model: type[BaseModel] = Settings, prefix: str = "", defaults: Any = None) -> Iterator[tuple[str, Any]]:
    """(dotted key, default) of every leaf the model reads; maps and lists
    end at their own key."""
    for name, field in model.model_fields.items():
        if name == "stack":
            continue
        key = prefix + (field.alias or name)
        if defaults is not None:
            default = getattr(defaults, name)
        else:
            default = REQUIRED if field.is_required() else field.get_default(call_default_factory=True)
        section = model_of(field.annotation)
        origin = typing.get_origin(field.annotation)
        if section is None or origin in (tuple, list, dict, typing.Union) and not _optional_model(field.annotation):
            yield key, default
        else:
            yield from model_keys(section, key + ".", default if isinstance(default, BaseModel) else None)


def _optional_model(annotation: Any) -> bool:
    members = typing.get_args(annotation)
    return typing.get_origin(annotation) is typing.Union and all(
        member is type(None) or (isinstance(member, type) and issubclass(member, BaseModel)) for member in members
    )


def expand(cell: str) -> list[str]:
    """The keys a table cell names: `a.b` / `.c` (a sibling), `x`, `y`,
    `{p,q}` alternatives, a trailing `{f, g}` for fields of each, and
    `<color>` for both colors."""
    items = re.findall(r"`([^`]+)`", cell)
    suffixes = []
    if items and items[-1].startswith("{") and cell.rstrip().endswith("}`"):
        suffixes = [part.strip() for part in items.pop()[1:-1].split(",")]
    keys: list[str] = []
    base = ""
    for item in items:
        key = base.rsplit(".", 1)[0] + item if item.startswith(".") else item
        if not item.startswith("."):
            base = item
        keys.extend(_alternatives(key))
    if suffixes:
        keys = [f"{key}.{suffix}" for key in keys for suffix in suffixes]
    return (
        [key.replace("<color>", color) for key in keys for color in COLORS]
        if any("<color>" in key for key in keys)
        else keys
    )


def _alternatives(key: str) -> list[str]:
    match = re.search(r"\{([^}]+)\}", key)
    if not match:
        return [key]
    return [
        expanded
        for choice in match.group(1).split(",")
        for expanded in _alternatives(key[: match.start()] + choice.strip() + key[match.end() :])
    ]


def documented_rows() -> list[tuple[str, list[str], str]]:
    """(key cell, keys, default cell) of each row of the reference table."""
    rows = []
    for line in REFERENCE.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `") and len(cells) >= 3:
            rows.append((cells[0], expand(cells[0]), cells[1]))
    return rows


def covered(key: str, documented: set[str]) -> bool:
    """A key is covered by itself, or by a map or section documented as `prefix.<NAME>` or `prefix.*`."""
    if key in documented:
        return True
    return any(
        re.sub(r"\.(<[^>]+>|\*)$", "", doc) == key or key.startswith(re.sub(r"\*$", "", doc))
        for doc in documented
        if doc.endswith(("*", ">"))
    )


def test_the_expander_reads_the_tables_shorthand():
    assert expand("`edge.preview.enabled` / `.host`") == ["edge.preview.enabled", "edge.preview.host"]
    assert expand("`network.postgres` / `.redis` `{cidrs, port}`") == [
        "network.postgres.cidrs",
        "network.postgres.port",
        "network.redis.cidrs",
        "network.redis.port",
    ]
    assert expand("`edge.gateway.className` / `.shared.{name,namespace}`") == [
        "edge.gateway.className",
        "edge.gateway.shared.name",
        "edge.gateway.shared.namespace",
    ]
    assert expand("`colors.<color>.restart`") == ["colors.blue.restart", "colors.green.restart"]


def test_every_key_the_model_reads_is_documented():
    documented = {key for _, keys, _ in documented_rows() for key in keys}
    expected = [key for key, _ in model_keys()] + list(SECRET_KEYS) + list(OPTIONAL_SECRET_KEYS) + [APP_SECRETS]
    assert [key for key in expected if not covered(key, documented)] == []


def test_every_documented_key_exists():
    known = {key for key, _ in model_keys()} | set(SECRET_KEYS) | set(OPTIONAL_SECRET_KEYS) | {APP_SECRETS}
    unknown = []
    for cell, keys, _ in documented_rows():
        for key in keys:
            stem = re.sub(r"\.(<[^>]+>|\*)$", "", key)
            if stem not in known and not any(other.startswith(stem + ".") for other in known):
                unknown.append(f"{key} (row {cell})")
    assert unknown == []


def _meaning(text: str) -> Any:
    """A default cell's value as the model would hold it; None when the
    cell describes rather than states it (required, none, a rule)."""
    text = text.strip()
    literal = re.fullmatch(r"`([^`]*)`", text)
    if literal:
        return literal.group(1)
    if text in ("true", "false"):
        return text == "true"
    try:
        return Decimal(text)
    except InvalidOperation:
        return None


DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600}


def _same(stated: Any, default: Any) -> bool:
    """Equal by meaning: `30s` is 30 seconds, a list is its items, a
    `<placeholder>` is a default derived at render time (None in the model)."""
    if isinstance(stated, str) and "<" in stated:
        return default is None
    if isinstance(default, BaseModel) or (isinstance(default, tuple) and default and isinstance(default[0], BaseModel)):
        items = default if isinstance(default, tuple) else (default,)
        expected = [item.model_dump(by_alias=True) for item in items]
        return yaml.safe_load(stated) == (expected if isinstance(default, tuple) else expected[0])
    if isinstance(default, (tuple, list)):
        return [part.strip() for part in str(stated).split(",")] == [str(item) for item in default]
    if isinstance(default, int) and not isinstance(default, bool) and isinstance(stated, str):
        duration = re.fullmatch(r"(\d+)([smh])", stated)
        if duration:
            return int(duration.group(1)) * DURATION_SECONDS[duration.group(2)] == default
    if isinstance(default, bool):
        return str(stated).lower() == str(default).lower()
    if isinstance(default, (int, float)):
        try:
            return Decimal(str(stated)) == Decimal(str(default))
        except InvalidOperation:
            return False
    return str(stated) == str(default)


def test_every_stated_default_is_the_models():
    defaults = dict(model_keys())
    wrong = []
    for cell, keys, default_cell in documented_rows():
        parts = [part for part in default_cell.split(" / ")]
        items = re.findall(r"`([^`]+)`", cell)
        if len(parts) != len(keys) or len(items) != len(keys):
            continue  # grouped fields or a described default: nothing stated per key
        for key, part in zip(keys, parts, strict=True):
            stated = _meaning(part)
            if stated is not None and key in defaults and not _same(stated, defaults[key]):
                wrong.append(f"{key}: documented {part}, the model says {defaults[key]!r}")
    assert wrong == []


@pytest.mark.parametrize("key, default", [("backup.activeDeadlineSeconds", 1800), ("edge.kind", "gateway")])
def test_the_model_walk_sees_nested_defaults(key, default):
    assert dict(model_keys())[key] == default

"""A stack file as the Pulumi CLI reads it (pure: no Pulumi SDK), bounded.

Stack files are decoded by Go's gopkg.in/yaml.v3
(pulumi/sdk/go/common/workspace/project.go, `ProjectStack`), whose scalar
resolution is YAML 1.2-like, not PyYAML's YAML 1.1 (`yes`, `on`, `Off` are
strings; `0755` is octal; `1_000` is a number). A top-level value is first
decoded into a Go string (config.Value.UnmarshalYAML in
pulumi/sdk/go/common/resource/config/value.go), so it keeps its source
text: `maintenanceMode: on` stays the string "on".

No file makes the reader hang or crash: its size, encoding, nesting and
alias expansion are bounded, each refusal a ConfigInputError naming the file.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any, Optional

import yaml


class ConfigInputError(Exception):
    """A stack name, stack file or --set flag the renderer cannot use."""


# --- YAML as the CLI reads it (gopkg.in/yaml.v3, resolve.go) --------------------

_YAML_V3_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_YAML_V3_NULLS = {"", "~", "null", "Null", "NULL"}
_YAML_V3_SPECIAL_FLOATS = {
    ".inf": math.inf,
    ".Inf": math.inf,
    ".INF": math.inf,
    "+.inf": math.inf,
    "+.Inf": math.inf,
    "+.INF": math.inf,
    "-.inf": -math.inf,
    "-.Inf": -math.inf,
    "-.INF": -math.inf,
    ".nan": math.nan,
    ".NaN": math.nan,
    ".NAN": math.nan,
}
# yaml.v3's yamlStyleFloat.
_YAML_V3_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")
_INT64 = (-(2**63), 2**63 - 1)


def _go_parse_int_base0(text: str) -> int | None:
    """Go's strconv.ParseInt(s, 0, 64): optional sign, then 0x/0o/0b or a
    leading-0 octal, or decimal. None where Go returns an error."""
    match = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)", text)
    if not match:
        return None
    sign, digits = match.groups()
    lowered = digits.lower()
    if lowered.startswith("0x"):
        value = int(lowered[2:], 16)
    elif lowered.startswith("0o"):
        value = int(lowered[2:], 8)
    elif lowered.startswith("0b"):
        value = int(lowered[2:], 2)
    elif len(digits) > 1 and digits.startswith("0"):
        value = int(digits[1:], 8)
    else:
        value = int(digits)
    value = -value if sign == "-" else value
    if not (_INT64[0] <= value <= 2**64 - 1):  # ParseUint takes what ParseInt cannot
        return None
    return value


def resolve_plain_scalar(text: str) -> Any:
    """The value yaml.v3 gives an unquoted scalar decoded into interface{}."""
    if text in _YAML_V3_BOOLS:
        return _YAML_V3_BOOLS[text]
    if text in _YAML_V3_NULLS:
        return None
    if text in _YAML_V3_SPECIAL_FLOATS:
        return _YAML_V3_SPECIAL_FLOATS[text]
    if text[:1] and (text[0].isdigit() or text[0] in "+-."):
        plain = text.replace("_", "")
        number = _go_parse_int_base0(plain)
        if number is not None:
            return number
        if _YAML_V3_FLOAT.match(plain):
            return float(plain)
    # Timestamps stay strings when decoded into interface{} (yaml.v3 keeps
    # them as text "for backward compatibility"), like everything else.
    return text


# Bounds of a stack file, so that no file makes the reader hang or crash:
# the CLI's yaml.v3 refuses excessive aliasing and deep nesting too
# (gopkg.in/yaml.v3 decode.go, "document contains excessive aliasing").
MAX_STACK_FILE_BYTES = 1 << 20
MAX_NESTING = 100
MAX_VALUES = 100_000


class _Budget:
    """Values decoded so far (aliases count each time they are expanded)."""

    def __init__(self, source: str):
        self.source, self.values = source, 0

    def spend(self, depth: int) -> None:
        self.values += 1
        if self.values > MAX_VALUES:
            raise ConfigInputError(
                f"{self.source} expands to more than {MAX_VALUES} values (aliases of aliases?); "
                f"the CLI refuses excessive aliasing too: write the values out"
            )
        if depth > MAX_NESTING:
            raise ConfigInputError(
                f"{self.source} nests values more than {MAX_NESTING} levels deep (or an alias "
                f"refers to itself); config values are flat maps and lists"
            )


def _block_nesting(text: str) -> int:
    """An upper bound of block nesting: per line, its indentation (a level
    takes at least two columns in practice; one is counted as half) plus the
    `- ` and `? ` openers that can stack at its start (a line of 100 000
    `- ` made libyaml overflow its stack). `key: key:` on one line is not
    valid YAML, so keys do not stack."""
    deepest = 0
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        openers = re.match(r"(?:[-?](?:\s+|$))*", stripped).group(0)
        deepest = max(deepest, (len(line) - len(stripped)) // 2 + len(re.findall(r"[-?]", openers)))
    return deepest


def _flow_nesting(text: str) -> int:
    """The deepest [ or { nesting outside quoted scalars and comments: checked
    before parsing, as libyaml's own recursion would overflow first."""
    depth = deepest = 0
    quote = ""
    in_comment = False
    for index, char in enumerate(text):
        if in_comment:
            in_comment = char != "\n"
        elif quote:
            if char == quote and not (quote == '"' and text[index - 1] == "\\"):
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1] in " \t\n"):
            in_comment = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def check_nesting(text: str, source: str, limit: int = MAX_NESTING) -> None:
    """Refuse YAML nested deeper than `limit` before libyaml parses it
    (its recursion would overflow the C stack and kill the process)."""
    if _flow_nesting(text) > limit or _block_nesting(text) > limit:
        raise ConfigInputError(f"{source} nests values more than {limit} levels deep")


def read_stack_file(path: Path) -> str:
    """A stack file's text, or a ConfigInputError saying why it cannot be one."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigInputError(f"cannot read {path.name}: {error.strerror}") from None
    if len(data) > MAX_STACK_FILE_BYTES:
        raise ConfigInputError(f"{path.name} is {len(data)} bytes; a stack file is at most {MAX_STACK_FILE_BYTES}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigInputError(f"{path.name} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None


_STR_TAG, _MERGE_TAG = "tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"
_RESOLVER = yaml.resolver.Resolver()


def _explicit_string(node: yaml.ScalarNode) -> bool:
    """`!!str 5`: a plain scalar whose tag is str although it would resolve
    to something else (yaml.v3 honours the explicit tag)."""
    return node.tag == _STR_TAG and _RESOLVER.resolve(yaml.ScalarNode, node.value, (True, False)) != _STR_TAG


def _mapping(node: yaml.MappingNode, budget: "_Budget", depth: int) -> dict[str, Any]:
    """A map as yaml.v3 decodes it: `<<` merges the maps it names (keys
    written out win), a key written twice is an error (decode.go: "mapping
    key already defined"), and a key must be a scalar."""
    merged: dict[str, Any] = {}
    result: dict[str, Any] = {}
    for key_node, value_node in node.value:
        if not isinstance(key_node, yaml.ScalarNode):
            raise ConfigInputError(
                f"{budget.source} line {key_node.start_mark.line + 1}: a map key must be a plain "
                f"value, not a list or a map"
            )
        if key_node.tag == _MERGE_TAG and key_node.style in (None, ""):
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise ConfigInputError(f"{budget.source} line {source.start_mark.line + 1}: `<<` merges maps only")
                for key, value in _mapping(source, budget, depth + 1).items():
                    merged.setdefault(key, value)
            continue
        key = str(key_node.value)
        if key in result:
            raise ConfigInputError(
                f"{budget.source} line {key_node.start_mark.line + 1}: key {key!r} is already "
                f"defined in this map; the CLI refuses the file (write it once)"
            )
        result[key] = _node_value(value_node, False, budget, depth + 1)
    return {**merged, **result}


def _node_value(node: yaml.Node, top_level: bool, budget: Optional["_Budget"] = None, depth: int = 0) -> Any:
    budget = budget or _Budget("stack file")
    budget.spend(depth)
    if isinstance(node, yaml.ScalarNode):
        plain = node.style in (None, "")  # libyaml reports plain scalars as ""
        if top_level:
            # Decoded into a Go string: the source text, quotes removed; null is "".
            return (
                ""
                if plain and not _explicit_string(node) and node.value in ("~", "null", "Null", "NULL")
                else node.value
            )
        if not plain or _explicit_string(node):  # quoted, block or !!str scalars are strings
            return node.value
        return resolve_plain_scalar(node.value)
    if isinstance(node, yaml.SequenceNode):
        return [_node_value(item, False, budget, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, budget, depth)
    raise ConfigInputError(f"unsupported YAML node {node!r}")


def load_stack_yaml(text: str, source: str = "stack file") -> dict[str, Any]:
    """A Pulumi.<stack>.yaml as the CLI sees it: {"config": {key: value}, ...}."""
    try:
        check_nesting(text, source)
    except ConfigInputError as error:
        raise ConfigInputError(f"{error}; config values are flat maps and lists") from None
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as error:
        raise ConfigInputError(f"{source} is not valid YAML: {error}") from None
    except RecursionError:
        raise ConfigInputError(f"{source} nests values too deeply; config values are flat maps and lists") from None
    if root is None:
        return {}
    if not isinstance(root, yaml.MappingNode):
        raise ConfigInputError(f"{source} must be a map with a config: section")
    budget = _Budget(source)
    document: dict[str, Any] = {}
    for key_node, value_node in root.value:
        key = getattr(key_node, "value", None)
        if key in document:
            raise ConfigInputError(
                f"{source} line {key_node.start_mark.line + 1}: {key!r} is already defined; the "
                f"CLI refuses the file (keep one {key}: section)"
            )
        if key == "config":
            if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
                document["config"] = {}
                continue
            if not isinstance(value_node, yaml.MappingNode):
                raise ConfigInputError(
                    f"{source}: config must be a map of keys to values (a line "
                    f"`  monad-synapse:key: value` under `config:`), not a single value or a list"
                )
            config: dict[str, Any] = {}
            for config_key, config_value in value_node.value:
                name = str(getattr(config_key, "value", ""))
                if name in config:
                    raise ConfigInputError(
                        f"{source} line {config_key.start_mark.line + 1}: config key {name!r} is "
                        f"already defined; the CLI refuses the file (keep one)"
                    )
                config[name] = _node_value(config_value, True, budget, 1)
            document["config"] = config
        else:
            document[str(key)] = _node_value(value_node, False, budget, 1)
    return document

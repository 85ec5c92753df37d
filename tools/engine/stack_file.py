"""A stack file as the Pulumi CLI reads it (pure: no Pulumi SDK), bounded.

Stack files are decoded by Go's gopkg.in/yaml.v3 v3.0.1
(pulumi/sdk/go/common/workspace/project.go, `ProjectStack`), whose scalar
resolution is YAML 1.2-like, not PyYAML's YAML 1.1 (`yes`, `on`, `Off` are
strings; `0755` and `010` are octal; `1_000` is a number; an unquoted
`2026-11-30T01:55:00Z` is a time.Time: resolve.go, and decode.go `scalar`
sets whatever it resolved into an interface{}). Then Pulumi round-trips each
value (pulumi/sdk/go/common/resource/config/value.go `UnmarshalYAML`,
object.go `unmarshalObject` and `MarshalString`): strings stay as they are;
numbers and bools become their JSON text (`1.0` is "1", `1e3` "1000", `0x10`
"16"); a time becomes Go's time.Time.String() ("2026-11-30 01:55:00 +0000
UTC"); a top-level null stays the empty string (yaml.v3 calls no
Unmarshaler for null: decode.go `prepare`); maps and lists go through JSON, with the same
rules inside. Keys are parsed by config.ParseKey: `<namespace>:<name>`, or
the legacy `<namespace>:config:<name>`; anything else is an error.
What the CLI would make depend on the machine (a time with a numeric offset
takes the local zone's name when it matches) or refuse (infinity in JSON) is
refused here with the reason.

No file makes the reader hang or crash: its size, encoding, nesting and
alias expansion are bounded, each refusal a ConfigInputError naming the file.
"""

from __future__ import annotations

import calendar
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
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
    if text[:1] and (text[0].isdigit() or text[0] in "+-"):
        moment = _yaml_v3_timestamp(text)  # tried first (resolve.go, hints D and S)
        if moment is not None:
            return moment
    if text[:1] and (text[0].isdigit() or text[0] in "+-."):
        plain = text.replace("_", "")
        number = _go_parse_int_base0(plain)
        if number is not None:
            return number
        if _YAML_V3_FLOAT.match(plain):
            return float(plain)
    return text


@dataclass(frozen=True)
class GoTime:
    """An unquoted scalar yaml.v3 resolves to a time.Time, as parsed."""

    text: str  # the source text
    date: tuple[int, int, int]
    clock: tuple[int, int, int]
    nanoseconds: int
    offset: Optional[str]  # None for UTC ("Z" or no zone), "+01:00" otherwise

    def go_string(self) -> str:
        """time.Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST"."""
        if self.offset is not None:
            raise ConfigInputError(
                f"{self.text!r} is an unquoted time with a numeric offset: the CLI turns it into Go's text for a "
                f"time, whose zone name depends on the time zone of the machine that runs it; quote it "
                f"('{self.text}')"
            )
        fraction = f".{self.nanoseconds:09d}".rstrip("0") if self.nanoseconds else ""
        (year, month, day), (hour, minute, second) = self.date, self.clock
        return f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}:{second:02d}{fraction} +0000 UTC"


# yaml.v3 resolve.go allowedTimestampFormats, as Go's time.Parse reads them:
# "2006-1-2T15:4:5.999999999Z07:00" (T or t), "2006-1-2 15:4:5.999999999", "2006-1-2".
_TIMESTAMP = re.compile(
    r"(?P<y>\d{4})-(?P<mo>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<h>\d{1,2}):(?P<mi>\d{1,2}):(?P<s>\d{1,2})(?:\.(?P<f>\d{1,9}))?(?P<z>Z|[+-]\d{2}:\d{2})?)?"
)


def _yaml_v3_timestamp(text: str) -> Optional[GoTime]:
    match = _TIMESTAMP.fullmatch(text)
    if not match:
        return None
    zone = match["z"]
    if match["sep"] in ("T", "t") and zone is None:
        return None  # the T layouts need a zone
    if match["sep"] == " " and zone is not None:
        return None  # the space layout has none
    year, month, day = int(match["y"]), int(match["mo"]), int(match["d"])
    hour, minute, second = (int(match[key] or 0) for key in ("h", "mi", "s"))
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(max(year, 1), month)[1]):
        return None
    if hour > 23 or minute > 59 or second > 59:
        return None
    nanoseconds = int((match["f"] or "").ljust(9, "0"))
    return GoTime(text, (year, month, day), (hour, minute, second), nanoseconds, None if zone in (None, "Z") else zone)


def _go_json_float(value: float) -> str:
    """encoding/json's text for a float64 (encode.go floatEncoder): the
    shortest digits, in exponent form only below 1e-6 or from 1e21, where
    strconv's `e-07` is cleaned to `e-7`. Python's repr has the same shortest
    digits and, in that range, strconv's exponent spelling."""
    if math.isinf(value) or math.isnan(value):
        raise ConfigInputError(f"{value} cannot be written as JSON, which the CLI refuses (json: unsupported value)")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = repr(value)
        if len(text) >= 4 and text[-4:-1] in ("e-0",):
            text = text[:-2] + text[-1]
        return text
    text = format(Decimal(repr(value)), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def program_value(value: Any, top_level: bool) -> Any:
    """What the program receives for a value yaml.v3 resolved: Pulumi's
    object round trip (object.go). Top-level scalars become text; nested
    values become what JSON gives back."""
    if isinstance(value, GoTime):
        return value.go_string()
    if isinstance(value, float):
        text = _go_json_float(value)
        return text if top_level else json.loads(text)
    if isinstance(value, bool):
        return ("true" if value else "false") if top_level else value
    if isinstance(value, int):
        return str(value) if top_level else value
    if value is None:
        # yaml.v3 never calls an Unmarshaler for a null node (decode.go
        # `prepare`): the config.Value stays empty. Inside a map it is JSON null.
        return "" if top_level else None
    return value


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
        openers = _BLOCK_OPENERS.match(stripped).group(0) if stripped[:1] in ("-", "?") else ""
        deepest = max(deepest, (len(line) - len(stripped)) // 2 + openers.count("-") + openers.count("?"))
    return deepest


_BLOCK_OPENERS = re.compile(r"(?:[-?](?:\s+|$))*")


# The characters that open or close a flow collection, or a quoted scalar
# or comment that hides them.
_FLOW_SIGNIFICANT = re.compile(r"""['"#\[\]{}]""")


def _flow_nesting(text: str) -> int:
    """The deepest [ or { nesting outside quoted scalars and comments: checked
    before parsing, as libyaml's own recursion would overflow first. A quote
    runs to the next one of its kind (a double quote after a backslash does
    not end it), a comment (a `#` first or after a blank) to the end of its
    line. It jumps from one significant character to the next, as a
    manifest is 160 kB, which a loop over every character took 18 ms to read."""
    depth = deepest = 0
    position = 0
    while match := _FLOW_SIGNIFICANT.search(text, position):
        index = match.start()
        char = text[index]
        position = index + 1
        if char == "'":
            position = _after(text.find("'", position), text)
        elif char == '"':
            end = text.find('"', position)
            while end > 0 and text[end - 1] == "\\":
                end = text.find('"', end + 1)
            position = _after(end, text)
        elif char == "#":
            if index == 0 or text[index - 1] in " \t\n":
                position = _after(text.find("\n", position), text)
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def _after(found: int, text: str) -> int:
    """Where scanning resumes after the character str.find found (its end if none)."""
    return len(text) if found < 0 else found + 1


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
        if not plain or _explicit_string(node):  # quoted, block or !!str scalars are strings
            return node.value
        try:
            return program_value(resolve_plain_scalar(node.value), top_level)
        except ConfigInputError as error:
            raise ConfigInputError(f"{budget.source} line {node.start_mark.line + 1}: {error}") from None
    if isinstance(node, yaml.SequenceNode):
        return [_node_value(item, False, budget, depth + 1) for item in node.value]
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, budget, depth)
    raise ConfigInputError(f"unsupported YAML node {node!r}")


def parse_config_key(key: str, where: str) -> str:
    """config.ParseKey (pulumi/sdk/go/common/resource/config/key.go):
    `<namespace>:<name>`, or the legacy `<namespace>:config:<name>`, which
    names the same key; anything else the CLI refuses."""
    parts = key.split(":")
    if len(parts) == 2:
        return key
    if len(parts) == 3 and parts[1] == "config" and parts[0] and parts[2]:
        return f"{parts[0]}:{parts[2]}"
    namespace = parts[0] if len(parts) > 1 and parts[0] else "monad-synapse"
    raise ConfigInputError(
        f"{where}: {key!r} is not a config key the CLI can read (configuration keys should be of the form "
        f"`<namespace>:<name>`); write it as `{namespace}:{parts[-1]}`"
    )


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
                written = str(getattr(config_key, "value", ""))
                name = parse_config_key(written, f"{source} line {config_key.start_mark.line + 1}")
                if name in config:
                    same = "" if name == written else f" (as {written!r}: the same key)"
                    raise ConfigInputError(
                        f"{source} line {config_key.start_mark.line + 1}: config key {name!r} is "
                        f"already defined{same}; the CLI refuses the file (keep one)"
                    )
                config[name] = _node_value(config_value, True, budget, 1)
            document["config"] = config
        else:
            document[str(key)] = _node_value(value_node, False, budget, 1)
    return document

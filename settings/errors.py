"""Problems in the user's words: the key, the value (never a secret), what is wrong, the command that fixes it."""

from __future__ import annotations

import dataclasses
import difflib
import json
import shlex
import typing
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping, Optional

import pulumi

from settings.contract import _DNS_LABEL, EXAMPLES, OPTIONAL_SECRET_KEYS, SECRET_KEYS, SYSTEM_NAMESPACES
from settings.keys import default_for, field_annotation, known_keys

# --- errors ----------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    path: str
    value: Any
    message: str
    fix: str
    # Given as a secret: the value is never shown, whatever is wrong with it.
    secret: bool = False
    # What kind of refusal (the validator's code), for tests and tools.
    kind: str = ""

    def __str__(self) -> str:
        if self.secret:
            shown = "[secret]"
        elif self.value is _MISSING or self.value is None:
            shown = "<not set>"
        else:
            shown = json.dumps(self.value, default=str)
        return f"{self.path} = {shown}: {self.message}\n      fix: {self.fix}"


class _Missing:
    def __repr__(self) -> str:
        return "<not set>"


_MISSING = _Missing()


class SettingsError(pulumi.RunError):
    """Every configuration problem of a stack, reported together.

    A `pulumi.RunError`, so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, stack: str, problems: list[Problem]):
        self.stack = stack
        self.problems = list(problems)
        lines = [f"invalid configuration for stack '{stack}' ({len(self.problems)} problem(s)); nothing was deployed:"]
        lines += [f"  - {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


def _fix_command(path: str, stack: str, suggestion: Optional[Any] = None, secret: bool = False) -> str:
    shown = EXAMPLES.get(path, suggestion)
    if path == "namespace" and suggestion is not None:
        shown = suggestion
    if shown is None:
        shown = "<value>"
    if isinstance(shown, bool):
        shown = "true" if shown else "false"
    if isinstance(shown, float) and shown.is_integer():
        shown = int(shown)
    flags = "--secret " if secret else ""
    flags += "--path " if "." in path or "[" in path else ""
    # Quoted for the shell: a cron schedule's '*' would otherwise glob, and a
    # <value> placeholder would be a redirection.
    return f"pulumi config set {flags}{shlex.quote(path)} {shlex.quote(str(shown))} -s {stack}"


# Missing sections whose fix is setting their nested fields.
_MISSING_SECTION_FIXES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"colors": ("colors.blue.image", "colors.green.image")}
)


# Pydantic's messages speak of Python types; these speak of config.
_PLAIN_MESSAGES: Mapping[str, str] = MappingProxyType(
    {
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "int_from_float": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "finite_number": "must be a finite number (not inf, nan or 1e400)",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "tuple_type": "must be a list; set its items with --path 'KEY[0]' VALUE",
        "list_type": "must be a list; set its items with --path 'KEY[0]' VALUE",
        "model_type": "must be a map of settings; set its fields with --path KEY.FIELD VALUE",
        "model_attributes_type": "must be a map of settings; set its fields with --path KEY.FIELD VALUE",
        "dict_type": "must be a map; set its entries with --path KEY.NAME VALUE",
        "mapping_type": "must be a map; set its entries with --path KEY.NAME VALUE",
    }
)


def _describe(error: Mapping[str, Any], stack: str, secret_keys: frozenset = frozenset()) -> Problem:
    problem = _describe_error(error, stack, secret_keys)
    return dataclasses.replace(problem, kind=error["type"])


def _describe_error(error: Mapping[str, Any], stack: str, secret_keys: frozenset) -> Problem:
    location = [str(part) for part in error["loc"]]
    context = error.get("ctx") or {}
    value: Any = error.get("input", _MISSING)
    if "field" in context:
        location.append(str(context["field"]))
        value = context.get("value", value)
    # Union/literal validators append the member name to the location; drop it.
    location = [
        part for part in location if part not in ("int", "[key]") and not part.startswith(("literal[", "function-"))
    ]
    path = "".join(part if part.startswith("[") or index == 0 else f".{part}" for index, part in enumerate(location))
    path = path or "<root>"
    secret = bool(location) and location[0] in secret_keys
    kind = error["type"]
    message = error["msg"].replace("Value error, ", "")
    if kind == "missing":
        value = _MISSING
        message = "required, and not set"
        if path in _MISSING_SECTION_FIXES:
            fixes = " && ".join(_fix_command(nested, stack) for nested in _MISSING_SECTION_FIXES[path])
            return Problem(path, value, message, fixes, secret)
    elif kind == "extra_forbidden":
        parent = tuple(location[:-1])
        known = known_keys(parent)
        guess = difflib.get_close_matches(location[-1], known, n=1)
        message = "unknown key" + (f"; did you mean {'.'.join(parent + (guess[0],))}?" if guess else ".")
        message += f" Known keys here: {', '.join(known)}" if known else " This section takes no keys of its own"
        return Problem(path, value, message, _remove_command(path, stack), secret)
    elif kind in _PLAIN_MESSAGES:
        message = _PLAIN_MESSAGES[kind].replace("KEY", path)
        if kind in ("model_type", "model_attributes_type"):
            return Problem(
                path,
                value,
                message + f" (its fields: {', '.join(known_keys(tuple(location)))})",
                f"pulumi config set --path {shlex.quote(path + '.<field>')} '<value>' -s {stack}",
                secret,
            )
    if kind in ("tuple_type", "list_type") or context.get("list"):
        example = "10.0.0.0/8" if path.lower().endswith("cidrs") else "<value>"
        return Problem(
            path,
            value,
            message,
            f"pulumi config rm --path {shlex.quote(path)} -s {stack} && "
            f"pulumi config set --path {shlex.quote(path + '[0]')} {shlex.quote(example)} -s {stack}",
            secret,
        )
    else:
        message = message.replace("Input should be", "must be")
        if kind.startswith(("greater_than", "less_than")) and field_annotation(location) is int:
            message += " (a whole number)"
    if context.get("remove_key"):  # what was meant is removing another key
        return Problem(path, value, message, _remove_command(str(context["remove_key"]), stack), secret)
    if context.get("remove"):
        fix = _remove_command(path, stack)
        if context.get("rename"):  # the same entry under a key that is allowed
            fix += " && " + _fix_command(f"{path.rsplit('.', 1)[0]}.{context['rename']}", stack)
        elif context.get("instead"):  # the setting that owns what was meant
            instead = str(context["instead"])
            fix += " && " + _fix_command(
                instead,
                stack,
                context.get("instead_value"),
                secret=instead in SECRET_KEYS or instead in OPTIONAL_SECRET_KEYS or bool(context.get("instead_secret")),
            )
        return Problem(path, value, message, fix, secret)
    if secret:
        # The message may quote the value; say what is wrong without it.
        text = str(value) if value is not _MISSING else ""
        if text and text in message:
            message = message.replace(text, "[secret]")
    suggestion = context.get("suggestion", _meant(kind, value, location, context) or default_for(tuple(location)))
    if path == "namespace" and _DNS_LABEL.match(stack) and stack not in SYSTEM_NAMESPACES:
        suggestion = stack
    if suggestion is not None and value is not _MISSING and str(suggestion) == str(value):
        suggestion = None  # never suggest the mistake itself
    wants_secret = path in SECRET_KEYS or path in OPTIONAL_SECRET_KEYS
    return Problem(path, value, message, _fix_command(path, stack, suggestion, secret=wants_secret), secret)


_TRUE_WORDS = frozenset({"yes", "y", "on", "1", "enable", "enabled", "t"})
_FALSE_WORDS = frozenset({"no", "n", "off", "0", "disable", "disabled", "f"})


def _meant(kind: str, value: Any, location: list[str], context: Mapping[str, Any]) -> Any:
    """What a refused value most likely meant, for the fix: `yes` is true,
    `Green` is green, `gren` is green. None when nothing is close."""
    if not isinstance(value, str):
        return None
    word = value.strip()
    if kind in ("not_boolean", "bool_parsing", "bool_type"):
        if word.lower() in _TRUE_WORDS:
            return True
        if word.lower() in _FALSE_WORDS:
            return False
        return None
    choices: list[str] = list(context.get("choices") or ())
    annotation = field_annotation(location) if kind == "literal_error" else None
    if typing.get_origin(annotation) is typing.Literal:
        choices = [str(choice) for choice in typing.get_args(annotation)]
    if not choices:
        return None
    same = [choice for choice in choices if choice.lower() == word.lower()]
    if same:
        return same[0]
    close = difflib.get_close_matches(word.lower(), [choice.lower() for choice in choices], n=1, cutoff=0.6)
    return next((choice for choice in choices if close and choice.lower() == close[0]), None)


def _remove_command(path: str, stack: str) -> str:
    flag = "--path " if "." in path or "[" in path else ""
    return f"pulumi config rm {flag}{shlex.quote(path)} -s {stack}"

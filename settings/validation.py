"""Plain config values in, a valid `Settings` or every problem out: unknown
keys, each section's own rules, and the rules across sections, in one pass."""

from __future__ import annotations

import difflib
from typing import Any, Mapping

from pydantic import ValidationError

from settings.errors import Problem, SettingsError, _describe, _remove_command
from settings.keys import TOP_LEVEL_KEYS, known_keys
from settings.model import Settings
from settings.rules import cross_section_errors


def settings_from_raw(raw: Mapping[str, Any], stack: str, secret_keys: frozenset = frozenset()) -> Settings:
    """Validate plain config values (top-level key -> value). Raises
    SettingsError naming every problem. Values under `secret_keys` (given
    encrypted) are never shown in a problem."""
    problems = _unknown_key_problems(raw, stack, secret_keys)
    # The secrets are read by the loader, never by the model.
    model_keys = set(known_keys(()))
    known = {key: value for key, value in raw.items() if key in model_keys and value is not None}
    try:
        settings = Settings.model_validate({**known, "stack": stack})
    except ValidationError as error:
        # The rules across sections judge valid sections only: they wait for
        # the next run, which these fixes make possible.
        problems.extend(_describe(item, stack, secret_keys) for item in error.errors())
        raise SettingsError(stack, problems) from None
    for error in cross_section_errors(settings):
        item = {"type": error.type, "loc": (), "msg": error.message(), "ctx": error.context, "input": None}
        problems.append(_describe(item, stack, secret_keys))
    if problems:
        raise SettingsError(stack, problems)
    return settings


def _unknown_key_problems(raw: Mapping[str, Any], stack: str, secret_keys: frozenset) -> list[Problem]:
    problems = []
    for key in sorted(raw):
        if key in TOP_LEVEL_KEYS:
            continue
        # A common slip: `pulumi config set maxReplicas 15` instead of --path.
        nested = [f"{section}.{key}" for section in known_keys(()) if key in known_keys((section,))]
        guess = nested or difflib.get_close_matches(key, TOP_LEVEL_KEYS, n=1)
        hint = f"; did you mean {guess[0]}?" if guess else ""
        problems.append(
            Problem(
                key,
                raw[key],
                f"unknown config key{hint}",
                _remove_command(key, stack),
                secret=key in secret_keys,
                kind="unknown_key",
            )
        )
    return problems

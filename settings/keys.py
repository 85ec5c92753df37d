"""The settings' keys as the user types them: which exist under a section, their
defaults and types, read from the root model (for messages and fixes)."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from settings.contract import APP_SECRETS, OPTIONAL_SECRET_KEYS, SECRET_KEYS
from settings.model import Settings


def default_for(path: tuple[str, ...]) -> Any:
    """Default of a (nested) key from the model, to suggest in fixes."""
    model: Any = Settings
    current: Any = None
    for part in path:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        names = {field.alias or name: name for name, field in model.model_fields.items()}
        if part not in names:
            return None
        field = model.model_fields[names[part]]
        if current is not None:
            current = getattr(current, names[part])
        elif not field.is_required():
            current = field.get_default(call_default_factory=True)
        model = field.annotation
    return current if isinstance(current, (int, float, str, bool)) else None


def field_annotation(location: list[str]) -> Any:
    model: Any = Settings
    annotation: Any = None
    for part in location:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return None
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
        model = annotation
    return annotation


def model_of(annotation: Any) -> Any:
    """The settings model inside an annotation: `Optional[Model]` is `Model`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    members = [model_of(member) for member in typing.get_args(annotation)]
    return next((member for member in members if member is not None), None)


def known_keys(parent: tuple[str, ...]) -> list[str]:
    model: Any = Settings
    for part in parent:
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        annotation = model_of(fields[part].annotation) if part in fields else None
        if annotation is None:
            return []
        model = annotation
    return sorted(field.alias or name for name, field in model.model_fields.items() if name != "stack")


TOP_LEVEL_KEYS = tuple(known_keys(())) + tuple(SECRET_KEYS) + tuple(OPTIONAL_SECRET_KEYS) + (APP_SECRETS,)

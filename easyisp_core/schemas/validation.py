"""Turn pydantic validation errors into the core's ValidationFailed."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from easyisp_core.errors import ValidationFailed

ModelT = TypeVar("ModelT", bound=BaseModel)


def field_errors(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"])
        key = f"{prefix}.{loc}" if prefix and loc else (prefix or loc or "value")
        errors.setdefault(key, err["msg"].removeprefix("Value error, "))
    return errors


def parse(model: type[ModelT], data: Any, *, field: str = "") -> ModelT:
    """Validate data against model, raising ValidationFailed with per-field messages."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, field)) from exc


def parse_parts(*parts: tuple[type[BaseModel], Any, str]) -> list[BaseModel]:
    """Validate several parts of one form together, so the operator sees every error at once."""
    results: list[BaseModel] = []
    errors: dict[str, str] = {}
    for model, data, field in parts:
        try:
            results.append(model.model_validate(data))
        except ValidationError as exc:
            errors.update(field_errors(exc, field))
    if errors:
        raise ValidationFailed(errors)
    return results

"""Collect every invalid field of a request body, each with its JSON pointer.

msgspec stops at the first error; a client fixing a form wants all of them at once. This walks the
target type field by field and converts each value on its own, so one request yields every error.
"""

from __future__ import annotations

import re
import types
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

import msgspec

from domain.errors import FieldError, ValidationFailed, pointer_join

T = TypeVar("T")

_AT = re.compile(r" - at `\$(.*)`$")


def _code_for(message: str) -> str:
    if message.startswith("Expected `") and ", got `" in message:
        return "wrong_type"
    if "length <=" in message:
        return "too_long"
    if "length >=" in message:
        return "too_short"
    if "matching regex" in message:
        return "invalid_format"
    if (
        message.startswith("Expected `int` >=")
        or message.startswith("Expected `int` <=")
        or ("` >= " in message or "` <= " in message or "` > " in message or "` < " in message)
    ):
        return "out_of_range"
    if message.startswith("Invalid enum value"):
        return "invalid_choice"
    if message.startswith("Object missing required field"):
        return "required"
    if message.startswith("Object contains unknown field"):
        return "unknown_field"
    return "invalid"


def _path_to_pointer(path: str) -> str:
    # msgspec paths look like `.labels.en` or `[2].code` or `["zh-CN"]`
    pointer = ""
    for key, index, quoted in re.findall(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]", path):
        pointer = pointer_join(pointer, key or index or quoted)
    return pointer


def _from_msgspec(exc: msgspec.ValidationError, base: str) -> FieldError:
    text = str(exc)
    match = _AT.search(text)
    message = text[: match.start()] if match else text
    pointer = base + (_path_to_pointer(match.group(1)) if match else "")
    if message.startswith("Object missing required field `"):
        name = message.split("`")[1]
        return FieldError(pointer=pointer_join(pointer, name), code="required", message=f"`{name}` is required.")
    if message.startswith("Object contains unknown field `"):
        name = message.split("`")[1]
        return FieldError(
            pointer=pointer_join(pointer, name), code="unknown_field", message=f"`{name}` is not a field here."
        )
    return FieldError(pointer=pointer, code=_code_for(message), message=message + ".")


def _unwrap(tp: Any) -> Any:
    while get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    return tp


def collect(value: Any, tp: Any, base: str = "", *, strict: bool = True) -> list[FieldError]:
    """Every error converting `value` to `tp`, depth-first, in document order; `strict`: as JSON types
    (no string for a number or a boolean)."""
    try:
        msgspec.convert(value, tp, strict=strict)
        return []
    except msgspec.ValidationError as exc:
        first = exc
    inner = _unwrap(tp)
    origin = get_origin(inner)
    if origin in (Union, types.UnionType):
        members = [a for a in get_args(inner) if a not in (type(None), msgspec.UnsetType)]
        if len(members) == 1 and value is not None:
            return collect(value, members[0], base, strict=strict)
    if isinstance(inner, type) and issubclass(inner, msgspec.Struct) and isinstance(value, dict):
        return _collect_struct(value, inner, base, strict) or [_from_msgspec(first, base)]
    if origin is list and isinstance(value, list):
        errors: list[FieldError] = []
        (item_tp,) = get_args(inner) or (Any,)
        for i, item in enumerate(value):
            errors.extend(collect(item, item_tp, pointer_join(base, i), strict=strict))
        if not errors:
            errors.append(_from_msgspec(first, base))
        return errors
    if origin is dict and isinstance(value, dict):
        errors = []
        key_tp, val_tp = get_args(inner) or (Any, Any)
        for key, item in value.items():
            where = pointer_join(base, key)
            try:
                msgspec.convert(key, key_tp, strict=False)  # (a JSON key is a string)
            except msgspec.ValidationError as exc:
                errors.append(
                    FieldError(
                        pointer=where, code="invalid_key", message=f"Invalid key {key!r}: {str(exc).split(' - at')[0]}."
                    )
                )
            errors.extend(collect(item, val_tp, where, strict=strict))
        if not errors:
            errors.append(_from_msgspec(first, base))
        return errors
    return [_from_msgspec(first, base)]


def _collect_struct(value: dict[str, Any], tp: type[msgspec.Struct], base: str, strict: bool) -> list[FieldError]:
    info = msgspec.inspect.type_info(tp)
    assert isinstance(info, msgspec.inspect.StructType)
    fields = {f.encode_name: f for f in info.fields}
    hints = {f.name: f.type for f in msgspec.structs.fields(tp)}
    errors: list[FieldError] = []
    if tp.__struct_config__.forbid_unknown_fields:
        for key in value:
            if key not in fields:
                errors.append(
                    FieldError(
                        pointer=pointer_join(base, key), code="unknown_field", message=f"`{key}` is not a field here."
                    )
                )
    for name, field in fields.items():
        if name not in value:
            if field.required:
                errors.append(
                    FieldError(pointer=pointer_join(base, name), code="required", message=f"`{name}` is required.")
                )
            continue
        errors.extend(collect(value[name], hints[field.name], pointer_join(base, name), strict=strict))
    return errors


def body_errors(raw: bytes, tp: Any) -> list[FieldError] | None:
    """Errors for a raw JSON body against `tp`; None when the body is not JSON at all."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    return collect(value, tp)


def convert_or_raise(value: Any, tp: type[T], base: str = "") -> T:
    """Convert builtins to `tp`, or raise ValidationFailed listing every invalid field."""
    try:
        return msgspec.convert(value, tp, strict=False)
    except msgspec.ValidationError:
        raise ValidationFailed(collect(value, tp, base, strict=False)) from None


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch: objects merge key by key, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result

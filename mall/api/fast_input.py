"""Validated input without building a serializer, from the serializer's own definition.

A DRF serializer deep-copies its fields when it is built and validates through several layers
of calls: for a nested body such as the quote's that costs about as much as pricing the cart.
``FastInput(SerializerClass)`` reads the serializer's declared fields once and checks the
common, well-formed body in plain Python, giving the same ``validated_data``. The serializer
stays the one definition of the input: the fast path has no rule of its own.

It takes only what it can answer exactly: values of the exact JSON type (``3``, not ``"3"`` or
``3.0``; a string without surrounding white space), fields of the kinds below, and
``validate``/``validate_<field>`` methods that accept the result. Anything else (a value the
serializer would coerce, an error, a field of another kind that the body sends) gives None,
and the caller runs the serializer, which answers exactly as it always does.

Kinds taken: ``IntegerField`` (and ``IdField``), ``BooleanField``, ``ChoiceField``,
``CharField``, ``ListField`` of these, nested serializers and ``many=True`` lists of them.
Other kinds are taken only when the body leaves them out (their default applies).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import (
    MaxLengthValidator,
    MaxValueValidator,
    MinLengthValidator,
    MinValueValidator,
    ProhibitNullCharactersValidator,
)
from rest_framework import fields, serializers
from rest_framework.fields import empty
from rest_framework.validators import ProhibitSurrogateCharactersValidator

# A checker answers the validated value, or SKIP: "not taken here, run the serializer".
SKIP: Any = object()
Checker = Callable[[Any], Any]

_LENGTH_VALIDATORS = (MinLengthValidator, MaxLengthValidator)
_SIZE_VALIDATORS = (MinValueValidator, MaxValueValidator, *_LENGTH_VALIDATORS)
_STRING_VALIDATORS = (ProhibitNullCharactersValidator, ProhibitSurrogateCharactersValidator)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _skip(value: Any) -> Any:
    return SKIP


def _only_known_validators(field: fields.Field, known: tuple[type, ...]) -> bool:
    return all(isinstance(v, known) for v in field.validators)


def _nullable(field: fields.Field, check: Checker) -> Checker:
    if not field.allow_null:
        return check
    return lambda value: None if value is None else check(value)


def _integer(field: fields.IntegerField) -> Checker:
    low = field.min_value
    high = field.max_value

    def check(value: Any) -> Any:
        # ``type() is int``: a bool, a float or a numeric string goes to the serializer.
        if type(value) is not int:
            return SKIP
        if (low is not None and value < low) or (high is not None and value > high):
            return SKIP
        return value

    return check


def _boolean(field: fields.BooleanField) -> Checker:
    return lambda value: value if type(value) is bool else SKIP


def _choice(field: fields.ChoiceField) -> Checker:
    choices = {key: value for key, value in field.choice_strings_to_values.items() if key != ""}
    return lambda value: choices[value] if type(value) is str and value in choices else SKIP


def _char(field: fields.CharField) -> Checker:
    low = field.min_length or 0
    high = field.max_length
    blank_ok = field.allow_blank

    def check(value: Any) -> Any:
        if type(value) is not str:
            return SKIP
        if field.trim_whitespace and value != value.strip():
            return SKIP
        if not value:
            return value if blank_ok else SKIP
        if len(value) < low or (high is not None and len(value) > high):
            return SKIP
        if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
            return SKIP
        return value

    return check


def _sized_list(item: Checker, *, allow_empty: bool, low: int | None, high: int | None) -> Checker:
    def check(value: Any) -> Any:
        if type(value) is not list:
            return SKIP
        size = len(value)
        if (not allow_empty and size == 0) or (low is not None and size < low):
            return SKIP
        if high is not None and size > high:
            return SKIP
        result = []
        for element in value:
            checked = item(element)
            if checked is SKIP:
                return SKIP
            result.append(checked)
        return result

    return check


def _checker(field: fields.Field) -> Checker:
    """The checker of one declared field (``_skip`` for a kind it does not take)."""
    if isinstance(field, serializers.ListSerializer | fields.ListField):
        lengths: tuple[type, ...] = _LENGTH_VALIDATORS
        if isinstance(field, serializers.ListSerializer):
            lengths = ()
        child = field.child
        if child is None or not _only_known_validators(field, lengths):
            return _skip
        return _nullable(
            field,
            _sized_list(
                _checker(child),  # a nested serializer for ``many=True``
                allow_empty=bool(field.allow_empty),
                low=getattr(field, "min_length", None),
                high=getattr(field, "max_length", None),
            ),
        )
    if isinstance(field, serializers.Serializer):
        return _nullable(field, _serializer(field))
    kinds: list[tuple[type, Callable[[Any], Checker], tuple[type, ...]]] = [
        (fields.IntegerField, _integer, _SIZE_VALIDATORS),
        (fields.BooleanField, _boolean, ()),
        (fields.ChoiceField, _choice, ()),
        (fields.CharField, _char, _SIZE_VALIDATORS + _STRING_VALIDATORS),
    ]
    for kind, build, known in kinds:
        # Exact classes (and IdField): a subclass may convert values its own way.
        if type(field) is kind or (kind is fields.IntegerField and isinstance(field, kind)):
            if not _only_known_validators(field, known):
                return _skip
            if kind is fields.IntegerField and type(field).to_internal_value is not (
                fields.IntegerField.to_internal_value
            ):
                return _skip
            return _nullable(field, build(field))
    return _skip


def _serializer(instance: serializers.Serializer) -> Checker:
    """The checker of a (nested) serializer: a dict whose declared fields all check, then its
    ``validate_<field>`` and ``validate`` methods."""
    plan = []
    for name, field in instance.fields.items():
        if field.read_only:
            continue
        if field.source_attrs != [name]:
            return _skip  # a field stored under another name: the serializer's business
        default = field.default
        plan.append(
            (
                name,
                _checker(field),
                field.required,
                default,
                getattr(instance, f"validate_{name}", None),
            )
        )
    custom_validate = (
        instance.validate
        if type(instance).validate is not serializers.Serializer.validate
        else None
    )
    if instance.validators:
        return _skip

    def check(data: Any) -> Any:
        if type(data) is not dict:
            return SKIP
        result: dict[str, Any] = {}
        try:
            for name, field_check, required, default, validate_field in plan:
                if name in data:
                    value = field_check(data[name])
                    if value is SKIP:
                        return SKIP
                elif required:
                    return SKIP
                elif default is empty:
                    continue
                else:
                    value = default() if callable(default) else default
                if validate_field is not None:
                    value = validate_field(value)
                result[name] = value
            if custom_validate is not None:
                result = custom_validate(result)
        except (serializers.ValidationError, DjangoValidationError):
            return SKIP
        return result

    return check


class FastInput:
    """``FastInput(SerializerClass)(data)``: the serializer's ``validated_data`` for ``data``
    when the fast path takes it, else None (run the serializer). Built on first use."""

    def __init__(self, serializer_class: type[serializers.Serializer]) -> None:
        self.serializer_class = serializer_class
        self._check: Checker | None = None

    def __call__(self, data: Any) -> dict[str, Any] | None:
        check = self._check
        if check is None:
            check = self._check = _serializer(self.serializer_class())
        result = check(data)
        return None if result is SKIP else result

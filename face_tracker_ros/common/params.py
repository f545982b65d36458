# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Declarative node parameters: one table per node, validated with clear messages.

Every node lists its parameters as :class:`Param` entries.  The same table
declares them on the node (with a ``ParameterDescriptor`` carrying the
description, the allowed values and the numeric range), validates the values
it received, documents them (the README table and ``config/tracker.yaml`` are
checked against it by the tests) and gives the standalone bring-up its
defaults.  This module imports rclpy lazily so the tables stay ROS-free.
"""

from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional, Sequence


class ParameterError(ValueError):
    """A parameter value is not allowed; the message names it and what is allowed."""


@dataclass(frozen=True)
class Param:
    """One node parameter: name, default (which fixes its type), documentation, limits."""

    name: str
    default: Any
    description: str
    choices: Optional[Sequence[Any]] = None
    min: Optional[float] = None
    max: Optional[float] = None
    min_exclusive: bool = False
    unit: str = ''

    @property
    def type_name(self) -> str:
        """The ROS parameter type name of the default value."""
        return _type_name(self.default)

    def allowed(self) -> str:
        """Describe the allowed values in words (for messages and descriptors)."""
        if self.choices is not None:
            return 'one of ' + ', '.join(repr(c) for c in self.choices)
        parts = []
        if self.min is not None:
            parts.append(('> ' if self.min_exclusive else '>= ') + _fmt(self.min))
        if self.max is not None:
            parts.append('<= ' + _fmt(self.max))
        return ' and '.join(parts) if parts else f'any {self.type_name}'

    def validate(self, value: Any) -> Any:
        """Return ``value`` if it is allowed, else raise :class:`ParameterError`."""
        expected = self.type_name
        got = _type_name(value)
        if got != expected and not (expected == 'double' and got == 'integer'):
            raise ParameterError(
                f"parameter '{self.name}' must be a {expected} ({self.allowed()}), "
                f'got {value!r} ({got})')
        if expected == 'double':
            value = float(value)
        if self.choices is not None and value not in self.choices:
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is not allowed: {self.allowed()}")
        if self.min is not None and (value < self.min or (self.min_exclusive and
                                                          value == self.min)):
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is out of range: must be {self.allowed()}")
        if self.max is not None and value > self.max:
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is out of range: must be {self.allowed()}")
        return value


def _fmt(number: float) -> str:
    return str(number) if isinstance(number, int) else f'{number:g}'


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'integer'
    if isinstance(value, float):
        return 'double'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, str) for v in value):
            return 'string_array'
        if value and all(isinstance(v, float) for v in value):
            return 'double_array'
        if value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            return 'integer_array'
        return 'array'
    return type(value).__name__


def defaults(table: Iterable[Param]) -> Dict[str, Any]:
    """Return ``{name: default}`` of a parameter table."""
    return {p.name: p.default for p in table}


def validate_all(table: Iterable[Param], values: Dict[str, Any]) -> Dict[str, Any]:
    """Validate a full ``{name: value}`` mapping (missing names take their default)."""
    out = {}
    for p in table:
        out[p.name] = p.validate(values.get(p.name, p.default))
    return out


def declare(node, table: Iterable[Param]) -> Dict[str, Any]:
    """Declare every parameter of ``table`` on an rclpy node and return the validated values.

    Raises :class:`ParameterError` for a value of the wrong type or outside
    its allowed values, naming the parameter.
    """
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

    values = {}
    for p in table:
        bounded = p.min is not None and p.max is not None and not p.min_exclusive
        descriptor = ParameterDescriptor(
            name=p.name,
            description=p.description + (f' [{p.unit}]' if p.unit else ''),
            additional_constraints='' if p.allowed().startswith('any ') else p.allowed(),
            read_only=True,
            # Integers in a YAML file ("fps: 30") are accepted for double parameters;
            # validate() checks the type itself.
            dynamic_typing=p.type_name == 'double',
        )
        if bounded and p.type_name == 'double':
            descriptor.floating_point_range = [FloatingPointRange(
                from_value=float(p.min), to_value=float(p.max), step=0.0)]
        elif bounded and p.type_name == 'integer':
            descriptor.integer_range = [IntegerRange(
                from_value=int(p.min), to_value=int(p.max), step=0)]
        try:
            param = node.declare_parameter(p.name, p.default, descriptor)
        except InvalidParameterTypeException:
            raise ParameterError(
                f"parameter '{p.name}' must be a {p.type_name} ({p.allowed()})") from None
        except InvalidParameterValueException:
            raise ParameterError(
                f"parameter '{p.name}' is out of range: must be {p.allowed()}") from None
        values[p.name] = p.validate(param.value)
    return values

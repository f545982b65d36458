# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Declarative node parameters: one table per node, validated with clear messages.

Every node lists its parameters as :class:`Param` entries.  The same table
declares them on the node (with a ``ParameterDescriptor`` carrying the
description, the allowed values and the numeric range), validates the values
it received, documents them (docs/parameters.md and ``config/tracker.yaml`` are
checked against it by the tests) and gives the standalone bring-up its
defaults.  This module is ROS-free; declaring a table on an rclpy node is
:func:`face_tracker_ros.common.ros_params.declare` (importable from here too).

Rules between parameters (:class:`Rule`: one timeout at least another, warn
below error, two channels different) are checked with the single values, at
start and for every change, with the same one-line messages.

**Live tuning**: a parameter marked ``live`` can be changed while the node
runs (``ros2 param set /servo pan.kp 0.8``).  ``declare`` makes it
writable, checks every change by the same rules as at start (refusing it with
the reason) and hands the accepted values to the node's ``apply`` hook at
once.  Every other parameter is read-only; its description says why.  Every
node also has :data:`LOG_LEVEL`, its own log level, live.

Parameters given to a node that its table does not know (a misspelt
``pann.kp``) are named in a WARN with the closest known name.
"""

from dataclasses import dataclass
import difflib
import math
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from face_tracker_ros.common.checks import format_number
from face_tracker_ros.common.status import LOG_LEVEL_NAMES


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
    #: Changeable while the node runs (``ros2 param set``); applied at once.
    live: bool = False
    #: Why a parameter that is not live needs a restart (its read-only description).
    why: str = ''
    #: Values refused here that belong elsewhere, each with where to go: ``(value, hint)``.
    elsewhere: Tuple[Tuple[Any, str], ...] = ()

    @property
    def type_name(self) -> str:
        """The ROS parameter type name of the default value."""
        return type_name_of(self.default)

    def allowed(self) -> str:
        """Describe the allowed values in words (for messages and descriptors)."""
        if self.choices is not None:
            return 'one of ' + ', '.join(repr(c) for c in self.choices)
        parts = []
        if self.min is not None:
            parts.append(('> ' if self.min_exclusive else '>= ') + format_number(self.min))
        if self.max is not None:
            parts.append('<= ' + format_number(self.max))
        return ' and '.join(parts) if parts else f'any {self.type_name}'

    def validate(self, value: Any) -> Any:
        """Return ``value`` if it is allowed, else raise :class:`ParameterError`."""
        expected = self.type_name
        got = type_name_of(value)
        if got != expected and not (expected == 'double' and got == 'integer'):
            raise ParameterError(
                f"parameter '{self.name}' must be a {expected} ({self.allowed()}), "
                f'got {value!r} ({got})')
        if expected == 'double':
            value = float(value)
            if not math.isfinite(value):
                raise ParameterError(
                    f"parameter '{self.name}' = {value!r} is not allowed: must be a finite "
                    f'number ({self.allowed()})')
        if expected == 'double_array' and not all(math.isfinite(v) for v in value):
            raise ParameterError(
                f"parameter '{self.name}' = {list(value)!r} is not allowed: every element "
                'must be a finite number')
        if self.choices is not None and value not in self.choices:
            hint = ''.join(f' ({where})' for known, where in self.elsewhere if known == value)
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is not allowed: {self.allowed()}{hint}")
        if self.min is not None and (value < self.min or (self.min_exclusive and
                                                          value == self.min)):
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is out of range: must be {self.allowed()}")
        if self.max is not None and value > self.max:
            raise ParameterError(
                f"parameter '{self.name}' = {value!r} is out of range: must be {self.allowed()}")
        return value

    def read_only_reason(self) -> str:
        """Return the sentence saying why this parameter cannot change at run time."""
        return f'read-only: {self.why or DEFAULT_WHY}; restart the node to change it'

    def doc(self) -> str:
        """Return the description with the unit and whether it is live or read-only."""
        text = self.description + (f' [{self.unit}]' if self.unit else '')
        if self.live:
            return text + ' (live: a change applies at once)'
        return f'{text} ({self.read_only_reason()})'


#: Why a parameter without its own ``why`` is read-only.
DEFAULT_WHY = 'the node sets itself up with it at start'


#: Every node's own log level, changeable at run time (``ros2 param set /servo log_level
#: debug``); it sets only that node's logger, never the middleware's.
LOG_LEVEL = Param('log_level', '', "This node's own log level, changeable at run time; "
                  "empty = as given by --log-level (launch's log_level, default info)",
                  choices=('',) + LOG_LEVEL_NAMES, live=True)
#: Parameters every node has; each node's table ends with them.
COMMON = (LOG_LEVEL,)

#: Parameters a node may be given that belong to rclpy or a library, not to its table.
FOREIGN_PARAMETERS = ('use_sim_time', 'start_type_description_service')
FOREIGN_PREFIXES = ('qos_overrides.', 'diagnostic_updater.')


@dataclass(frozen=True)
class Rule:
    """A rule between parameters of one table.

    ``problem(values)`` returns the one-line message saying what is wrong with
    ``values`` (a ``{name: value}`` mapping of the whole table), or None.
    """

    names: Tuple[str, ...]
    problem: Callable[[Mapping[str, Any]], Optional[str]]


def _because(why: str) -> str:
    return f' ({why})' if why else ''


def at_least(name: str, other: str, strict: bool = False, why: str = '') -> Rule:
    """Rule: ``name`` >= ``other`` (> with ``strict``)."""
    op = '>' if strict else '>='

    def problem(v: Mapping[str, Any]) -> Optional[str]:
        a, b = v[name], v[other]
        if a > b or (a == b and not strict):
            return None
        return f"parameter '{name}' = {a!r} must be {op} '{other}' = {b!r}{_because(why)}"
    return Rule((name, other), problem)


def at_most(name: str, other: str, strict: bool = False, why: str = '') -> Rule:
    """Rule: ``name`` <= ``other`` (< with ``strict``)."""
    op = '<' if strict else '<='

    def problem(v: Mapping[str, Any]) -> Optional[str]:
        a, b = v[name], v[other]
        if a < b or (a == b and not strict):
            return None
        return f"parameter '{name}' = {a!r} must be {op} '{other}' = {b!r}{_because(why)}"
    return Rule((name, other), problem)


def within(name: str, low: str, high: str, why: str = '') -> Rule:
    """Rule: ``low`` <= ``name`` <= ``high``."""
    def problem(v: Mapping[str, Any]) -> Optional[str]:
        if v[low] <= v[name] <= v[high]:
            return None
        return (f"parameter '{name}' = {v[name]!r} must lie within '{low}' = {v[low]!r} .. "
                f"'{high}' = {v[high]!r}{_because(why)}")
    return Rule((name, low, high), problem)


def differ(name: str, other: str, why: str = '') -> Rule:
    """Rule: ``name`` != ``other``."""
    def problem(v: Mapping[str, Any]) -> Optional[str]:
        if v[name] != v[other]:
            return None
        return f"parameters '{name}' and '{other}' must differ, both are {v[name]!r}" \
            f'{_because(why)}'
    return Rule((name, other), problem)


def required_when(name: str, other: str, values: Sequence[Any], why: str = '') -> Rule:
    """Rule: ``name`` must not be empty while ``other`` is one of ``values``."""
    def problem(v: Mapping[str, Any]) -> Optional[str]:
        if v[other] not in values or v[name]:
            return None
        return f"parameter '{name}' is required when '{other}' is {v[other]!r}{_because(why)}"
    return Rule((name, other), problem)


def check_rules(rules: Iterable[Rule], values: Mapping[str, Any]) -> None:
    """Raise :class:`ParameterError` with the message of the first rule ``values`` break."""
    for rule in rules:
        message = rule.problem(values)
        if message:
            raise ParameterError(message)


def unknown_parameters(given: Iterable[str], table: Iterable[Param]) -> List[str]:
    """Return a WARN line for each name in ``given`` that ``table`` does not know.

    Names that belong to rclpy or a library (:data:`FOREIGN_PARAMETERS`,
    :data:`FOREIGN_PREFIXES`) are not reported.  Each line names the closest
    known parameter when there is one: ``unknown parameter 'pann.kp' ignored:
    did you mean 'pan.kp'?``.
    """
    known = [p.name for p in table]
    lines = []
    for name in sorted(set(given)):
        if name in known or name in FOREIGN_PARAMETERS or name.startswith(FOREIGN_PREFIXES):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
        hint = f"did you mean '{close[0]}'?" if close else 'this node has no such parameter'
        lines.append(f"unknown parameter '{name}' ignored: {hint}")
    return lines


class Tuner:
    """Checks run-time changes of one node's parameters and applies the accepted ones.

    ROS-free: ``ros_params.declare`` connects it to a node's parameter callbacks.
    ``values`` is the node's ``{name: value}`` mapping (updated in place on
    :meth:`commit`), ``apply(changed)`` the node's hook, called with the
    ``{name: new value}`` of the parameters that changed.
    """

    def __init__(self, table: Iterable[Param], values: Dict[str, Any],
                 rules: Iterable[Rule] = (),
                 apply: Optional[Callable[[Dict[str, Any]], None]] = None) -> None:
        """Keep the table, the live values, the rules and the apply hook."""
        self.table = {p.name: p for p in table}
        self.values = values
        self.rules = tuple(rules)
        self.apply = apply

    def check(self, changes: Mapping[str, Any]) -> Tuple[Dict[str, Any], str]:
        """Return ``(validated changes, '')``, or ``({}, reason)`` when one is refused.

        Names outside the table (rclpy's own, a library's) are left out, not refused.
        """
        accepted = {}
        for name, value in changes.items():
            p = self.table.get(name)
            if p is None:
                continue
            if not p.live:
                return {}, f"parameter '{name}' is {p.read_only_reason()}"
            try:
                accepted[name] = p.validate(value)
            except ParameterError as exc:
                return {}, str(exc)
        merged = dict(self.values)
        merged.update(accepted)
        try:
            check_rules(self.rules, merged)
        except ParameterError as exc:
            return {}, str(exc)
        return accepted, ''

    def commit(self, accepted: Mapping[str, Any]) -> Dict[str, Tuple[Any, Any]]:
        """Store checked values, call the apply hook; return ``{name: (old, new)}`` changed."""
        changed = {name: (self.values.get(name), value) for name, value in accepted.items()
                   if self.values.get(name) != value}
        self.values.update(accepted)
        if changed and self.apply is not None:
            self.apply({name: new for name, (_, new) in changed.items()})
        return changed


def type_name_of(value: Any) -> str:
    """Return the ROS parameter type name of a value ('double', 'string_array', ...)."""
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


def validate_all(table: Iterable[Param], values: Dict[str, Any],
                 rules: Iterable[Rule] = ()) -> Dict[str, Any]:
    """Validate a full ``{name: value}`` mapping (missing names take their default).

    Each value is checked alone first, then ``rules`` between them.
    """
    out = {}
    for p in table:
        out[p.name] = p.validate(values.get(p.name, p.default))
    check_rules(rules, out)
    return out


def __getattr__(name: str) -> Any:
    """Keep ``declare`` importable from here: it lives in :mod:`.ros_params` (it needs rclpy)."""
    if name == 'declare':
        from face_tracker_ros.common.ros_params import declare
        return declare
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')

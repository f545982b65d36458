# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Declarative node parameters: one table per node, validated with clear messages.

Every node lists its parameters as :class:`Param` entries.  The same table
declares them on the node (with a ``ParameterDescriptor`` carrying the
description, the allowed values and the numeric range), validates the values
it received, documents them (the README table and ``config/tracker.yaml`` are
checked against it by the tests) and gives the standalone bring-up its
defaults.  This module imports rclpy lazily so the tables stay ROS-free.

Rules between parameters (:class:`Rule`: one timeout at least another, warn
below error, two channels different) are checked with the single values, at
start and for every change, with the same one-line messages.

**Live tuning**: a parameter marked ``live`` can be changed while the node
runs (``ros2 param set /servo pan.kp 0.8``).  :func:`declare` makes it
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

from face_tracker_ros.common.status import LOG_LEVEL_NAMES, LOG_SEVERITIES


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
            if not math.isfinite(value):
                raise ParameterError(
                    f"parameter '{self.name}' = {value!r} is not allowed: must be a finite "
                    f'number ({self.allowed()})')
        if expected == 'double_array' and not all(math.isfinite(v) for v in value):
            raise ParameterError(
                f"parameter '{self.name}' = {list(value)!r} is not allowed: every element "
                'must be a finite number')
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

    ROS-free: :func:`declare` connects it to a node's parameter callbacks.
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


def declare(node, table: Iterable[Param], rules: Iterable[Rule] = (),
            apply: Optional[Callable[[Dict[str, Any]], None]] = None) -> Dict[str, Any]:
    """Declare every parameter of ``table`` on an rclpy node and return the validated values.

    Raises :class:`ParameterError` for a value of the wrong type or outside
    its allowed values, or breaking one of ``rules``, naming the parameter.
    Warns about parameters given to the node that ``table`` does not know.
    Parameters marked ``live`` stay writable: each change is checked like at
    start and, once accepted, stored in the returned mapping (which the node
    keeps) and passed to ``apply`` (see :class:`Tuner`).  ``log_level`` is
    applied here.
    """
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

    table = tuple(table)
    values: Dict[str, Any] = {}
    for p in table:
        bounded = p.min is not None and p.max is not None and not p.min_exclusive
        descriptor = ParameterDescriptor(
            name=p.name,
            description=p.doc(),
            additional_constraints='' if p.allowed().startswith('any ') else p.allowed(),
            read_only=not p.live,
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
    check_rules(rules, values)
    overrides = getattr(node, '_parameter_overrides', None) or {}
    for line in unknown_parameters((n for n in overrides if not node.has_parameter(n)), table):
        node.get_logger().warning(line)
    node.get_logger().debug('parameters in use: ' + ', '.join(
        f'{name}={value!r}' for name, value in values.items()))
    _connect(node, Tuner(table, values, rules, apply))
    return values


def _connect(node, tuner: Tuner) -> None:
    """Connect ``tuner`` to the node's parameter callbacks (after every declaration)."""
    from rcl_interfaces.msg import SetParametersResult
    from rclpy.parameter import Parameter

    logger = node.get_logger()
    initial_level = logger.get_effective_level()

    def set_log_level(name: str) -> None:
        logger.set_level(LOG_SEVERITIES[name] if name else initial_level)

    def commit(accepted: Dict[str, Any]) -> None:
        try:
            changed = tuner.commit(accepted)
        except Exception as exc:  # noqa: BLE001 - a hook failing must not end the node
            logger.error(f'parameter change accepted but not applied: {type(exc).__name__}: '
                         f'{exc}')
            return
        for name, (old, new) in changed.items():
            logger.info(f"parameter '{name}' changed: {old!r} -> {new!r}")
            if name == LOG_LEVEL.name:
                set_log_level(new)

    if tuner.values.get(LOG_LEVEL.name):
        set_log_level(tuner.values[LOG_LEVEL.name])
    post_set = getattr(node, 'add_post_set_parameters_callback', None)

    def on_set(parameters) -> SetParametersResult:
        accepted, reason = tuner.check({p.name: p.value for p in parameters})
        if reason:
            logger.warning(f'parameter change refused: {reason}')
            return SetParametersResult(successful=False, reason=reason)
        if post_set is None and accepted:
            commit(accepted)  # an rclpy without post-set callbacks (Humble)
        return SetParametersResult(successful=True)

    def after_set(parameters) -> None:
        accepted, _ = tuner.check({p.name: p.value for p in parameters})
        if accepted:
            commit(accepted)

    def before_set(parameters):
        # rclpy refuses a read-only parameter itself, before on_set, with a generic
        # reason: say why here, in the node's log.  An integer for a double parameter
        # ("ros2 param set /servo pan.kp 1") is stored as the double it means.
        out = []
        for p in parameters:
            known = tuner.table.get(p.name)
            if known is not None and not known.live:
                logger.warning(f"parameter change refused: parameter '{p.name}' is "
                               f'{known.read_only_reason()}')
            elif known is not None and known.type_name == 'double' and \
                    _type_name(p.value) == 'integer':
                p = Parameter(p.name, Parameter.Type.DOUBLE, float(p.value))
            out.append(p)
        return out

    node.add_on_set_parameters_callback(on_set)
    if post_set is not None:
        post_set(after_set)
    pre_set = getattr(node, 'add_pre_set_parameters_callback', None)
    if pre_set is not None:
        pre_set(before_set)

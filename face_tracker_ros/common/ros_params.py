# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""A node's parameter table on rclpy: declared with descriptors, checked, tuned live.

:func:`declare` declares every :class:`~face_tracker_ros.common.params.Param` of a node's
table with a ``ParameterDescriptor`` (description, allowed values, range, read-only or
not), validates the values the node received and the rules between them, warns about
parameters the table does not know, and connects a
:class:`~face_tracker_ros.common.params.Tuner` to the node's parameter callbacks so a
``live`` parameter changes at run time by the same checks.  The tables and the checks are
ROS-free in :mod:`face_tracker_ros.common.params`; this module imports rclpy when called.
"""

from typing import Any, Callable, Dict, Iterable, Optional

from face_tracker_ros.common.params import (
    check_rules,
    LOG_LEVEL,
    Param,
    ParameterError,
    Rule,
    Tuner,
    type_name_of,
    unknown_parameters,
)
from face_tracker_ros.common.status import LOG_SEVERITIES


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
                    type_name_of(p.value) == 'integer':
                p = Parameter(p.name, Parameter.Type.DOUBLE, float(p.value))
            out.append(p)
        return out

    node.add_on_set_parameters_callback(on_set)
    if post_set is not None:
        post_set(after_set)
    pre_set = getattr(node, 'add_pre_set_parameters_callback', None)
    if pre_set is not None:
        pre_set(before_set)

# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Validators shared by the whole package: one implementation of each check, one wording.

Every check takes the ``name`` of the value (as the caller's user knows it: a parameter, a
keyword argument) and raises ``ValueError('<name> must be <what is allowed>, got <value!r>')``;
on success it returns the value converted (``float`` or ``int``).  Numbers are real numbers:
``int``, ``float`` and NumPy scalars; never a ``bool``, never a string.  This module imports
nothing from ROS (nor NumPy: NumPy's scalar types register as :mod:`numbers` types).
"""

import math
import numbers
from typing import Any, Iterable, Optional


def must_be(name: str, value: Any, allowed: str) -> ValueError:
    """Return the ValueError ``'<name> must be <allowed>, got <value!r>'`` (for ``raise``)."""
    return ValueError(f'{name} must be {allowed}, got {value!r}')


def is_number(value: Any) -> bool:
    """Return True if ``value`` is a real, finite number (int, float, NumPy scalar; no bool)."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def as_float(value: Any, allow_inf: bool = False) -> Optional[float]:
    """Return ``value`` as a float when ``float()`` takes it, else None (never raises).

    For figures read from outside (psutil, a message, a file): numbers and numeric strings
    convert; None, bools and anything else give None, and so do NaN and (unless
    ``allow_inf``) the infinities.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if math.isnan(number) or (math.isinf(number) and not allow_inf):
        return None
    return number


def format_number(number: float) -> str:
    """Return a bound as messages show it: an int as is, a float with ``:g`` (0.5, 1e+06)."""
    return str(number) if isinstance(number, int) else f'{number:g}'


def number_range(low: Optional[float] = None, high: Optional[float] = None,
                 low_open: bool = False, high_open: bool = False) -> str:
    """Describe a range in words: ``'> 0'``, ``'<= 1'``, ``'in [0, 1)'``, ``''`` for none."""
    if low is not None and high is not None:
        return (f"in {'(' if low_open else '['}{format_number(low)}, "
                f"{format_number(high)}{')' if high_open else ']'}")
    if low is not None:
        return f"{'>' if low_open else '>='} {format_number(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {format_number(high)}"
    return ''


def check_number(name: str, value: Any, low: Optional[float] = None,
                 high: Optional[float] = None, low_open: bool = False, high_open: bool = False,
                 unit: str = '') -> float:
    """Return ``value`` as a float if it is a finite number within the range, else raise.

    ``low``/``high`` bound it (inclusive unless ``low_open``/``high_open``); ``unit``
    ('seconds', 'MB') goes into the message: ``window_s must be a finite number of
    seconds > 0, got -1``.
    """
    ok = is_number(value)
    if ok:
        number = float(value)
        ok = (low is None or number > low or (number == low and not low_open)) and \
            (high is None or number < high or (number == high and not high_open))
    if not ok:
        bound = number_range(low, high, low_open, high_open)
        raise must_be(name, value, 'a finite number' + (f' of {unit}' if unit else '') +
                      (f' {bound}' if bound else ''))
    return number


def check_positive(name: str, value: Any, unit: str = '', allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is a finite number > 0 (>= 0 with ``allow_zero``)."""
    return check_number(name, value, low=0.0, low_open=not allow_zero, unit=unit)


def check_int(name: str, value: Any, low: Optional[int] = None,
              high: Optional[int] = None) -> int:
    """Return ``value`` as an int if it is an integer (int, NumPy; no bool) in ``[low, high]``."""
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and \
        (low is None or value >= low) and (high is None or value <= high)
    if not ok:
        bound = number_range(low, high)
        raise must_be(name, value, 'an integer' + (f' {bound}' if bound else ''))
    return int(value)


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> Any:
    """Return ``value`` if it is one of ``allowed``, else raise naming them all."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise must_be(name, value, 'one of ' + ', '.join(str(a) for a in allowed))
    return value

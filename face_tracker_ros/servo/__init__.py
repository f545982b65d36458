# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0

"""Servo: from face targets to pan/tilt pulses on a serial servo controller.

* ``node.py``: the ROS node (plumbing only); ``params.py``: its parameters and their
  typed form (``ServoConfig``); ``status.py``: its status and the refused targets.
* ``control.py``: the control law and the target life cycle; ``calibration.py``:
  angles to pulse widths.
* ``connection.py``: the self-healing link (settings in ``connection_config.py``,
  replies judged in ``replies.py``, events in ``events.py``) over ``link.py`` (pyserial).
* ``protocols.py``: ``make_protocol``; ``wire.py`` (replies, interface),
  ``ascii_protocol.py`` and ``maestro_protocol.py``.
"""

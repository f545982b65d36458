# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""The control law: signs, deadband, anti-windup, slew limit, soft limits, lost faces."""

import math

import pytest

from face_tracker_ros.geometry import offset_to_angle_errors
from face_tracker_ros.servo.control import (
    AxisController,
    AxisGains,
    HOLDING,
    HOME,
    PanTiltController,
    RETURNING,
    TrackerConfig,
    TRACKING,
)

HFOV = math.radians(60.0)
VFOV = 2.0 * math.atan(math.tan(HFOV / 2.0) * 0.75)


def make(**config):
    return PanTiltController(TrackerConfig(hfov=HFOV, vfov=VFOV, **config),
                             AxisGains(), AxisGains(min_angle=-0.7, max_angle=0.7))


def test_face_right_and_below_turns_right_and_down():
    ctl = make()
    ctl.observe_face(0.5, 0.5, stamp=0.0, now=0.01)
    pan, tilt = ctl.observe_face(0.5, 0.5, stamp=0.1, now=0.11)
    # REP-103: pan positive turns left, tilt positive looks down.
    assert pan < 0.0
    assert tilt > 0.0
    assert ctl.state == TRACKING


def test_offset_to_angle_is_the_pinhole_angle():
    pan_err, tilt_err = offset_to_angle_errors(1.0, -1.0, HFOV, VFOV)
    assert pan_err == pytest.approx(-HFOV / 2)
    assert tilt_err == pytest.approx(-VFOV / 2)


def test_deadband_ignores_small_errors_without_a_step_at_its_edge():
    axis = AxisController(AxisGains(kp=4.0, deadband=0.01, ki=0.0))
    axis.update(0.009, 0.1)
    assert axis.position == 0.0
    axis.update(0.011, 0.1)
    assert axis.position == pytest.approx(4.0 * 0.001 * 0.1)


def test_slew_limit_caps_velocity():
    axis = AxisController(AxisGains(kp=100.0, ki=0.0, max_velocity=0.5))
    axis.update(1.0, 0.1)
    assert axis.position == pytest.approx(0.05)


def test_soft_limits_hold_and_integral_does_not_wind_up_at_a_limit():
    axis = AxisController(AxisGains(kp=10.0, ki=5.0, integral_limit=1.0, max_angle=0.2))
    for _ in range(100):
        axis.update(0.5, 0.05)
    assert axis.position == 0.2
    assert axis.saturated
    # The error stayed positive for 5 s, yet the integral stopped at the limit,
    # so reversing the error brings the axis back at once.
    assert axis.integral < 0.5 * 0.2
    axis.update(-0.5, 0.05)
    assert axis.position < 0.2


def test_integral_is_clamped():
    axis = AxisController(AxisGains(kp=0.0, ki=1.0, integral_limit=0.05, max_velocity=10.0))
    for _ in range(50):
        axis.update(0.3, 0.05)
    assert axis.integral == pytest.approx(0.05)


def test_integral_removes_ramp_error():
    # A target moving at constant speed: PI leaves less lag than P alone.
    def lag(ki):
        axis = AxisController(AxisGains(kp=3.0, ki=ki, integral_limit=1.0, deadband=0.0))
        target = 0.0
        for _ in range(300):
            target += 0.1 * 0.033
            axis.update(target - axis.position, 0.033)
        return target - axis.position
    assert abs(lag(2.0)) < 0.5 * abs(lag(0.0))


def test_stale_targets_are_ignored():
    ctl = make(max_target_age=0.2)
    assert ctl.observe_face(0.5, 0.0, stamp=0.0, now=0.5) is None
    assert ctl.stale_targets == 1
    assert ctl.state == HOME


def test_out_of_order_targets_are_ignored():
    ctl = make()
    ctl.observe_face(0.5, 0.0, stamp=1.0, now=1.01)
    assert ctl.observe_face(0.5, 0.0, stamp=0.9, now=1.02) is None


def _track(ctl, t0, frames, now_offset=0.0, period=1 / 30):
    """Feed ``frames`` face targets stamped from ``t0``; return the commands produced."""
    out = []
    for i in range(frames):
        t = t0 + i * period
        out.append(ctl.observe_face(0.4, 0.0, stamp=t, now=t + 0.02 + now_offset))
    return out


def test_one_future_stamp_is_refused_and_tracking_goes_on():
    # Issue 14: one target stamped an hour ahead used to become the newest stamp seen,
    # and every later target (stamped now) fell below it: tracking stopped for good.
    ctl = make()
    T = 1_700_000_000.0
    assert all(c is not None for c in _track(ctl, T, 10))
    assert ctl.observe_face(0.4, 0.0, stamp=T + 3600.0, now=T + 0.35) is None
    assert ctl.refused['future'] == 1
    later = _track(ctl, T + 0.4, 10)
    assert all(c is not None for c in later)
    # A stamp a little ahead (clocks of two computers) is within the tolerance.
    assert ctl.observe_face(0.4, 0.0, stamp=T + 1.5, now=T + 1.0) is not None
    assert ctl.refused == {'stale': 0, 'future': 1, 'out_of_order': 0}


def test_no_face_with_a_future_stamp_does_not_block_faces():
    ctl = make()
    T = 5000.0
    _track(ctl, T, 5)
    ctl.observe_no_face(stamp=T + 3600.0, now=T + 0.2)
    assert all(c is not None for c in _track(ctl, T + 0.25, 5))


def test_a_clock_stepped_back_resumes_tracking_within_a_frame():
    # NTP steps the clock of a computer without an RTC back by an hour: stamps and the
    # receive clock both jump back.  Tracking resumes with the first frame after the step.
    ctl = make()
    T = 1_700_000_000.0
    _track(ctl, T, 30)
    pan_before = ctl.command[0]
    after = _track(ctl, T + 1.0 - 3600.0, 5)
    assert after[0] is not None and all(c is not None for c in after)
    assert ctl.clock_steps == 1 and ctl.last_clock_step == pytest.approx(3600.0, abs=1.0)
    # The head goes on from where it was (no jump), still tracking towards the face.
    assert ctl.command[0] <= pan_before
    assert ctl.state == TRACKING


def test_a_clock_stepped_back_while_idle_is_noticed_by_the_tick():
    ctl = make()
    T = 10_000.0
    _track(ctl, T, 5)
    ctl.tick(T + 0.3)
    ctl.tick(T + 0.35 - 600.0)
    assert ctl.clock_steps == 1
    assert all(c is not None for c in _track(ctl, T + 0.4 - 600.0, 3))
    # The lost-face timing restarted on the new time line: the face is lost on time.
    t = T + 0.5 - 600.0
    while t < T + 3.0 - 600.0:
        ctl.tick(t)
        t += 0.05
    assert ctl.state in (RETURNING, HOME)


def test_the_newest_stamp_ahead_of_the_clock_means_a_step_back():
    # A step shorter than the tick period is not seen in ``now`` going backwards between
    # two calls when nothing ran in between; the high-water mark ahead of now shows it.
    ctl = make(max_lead=1.0)
    T = 10_000.0
    _track(ctl, T, 3)
    ctl._last_now = None  # as if this were the first call after the step
    assert ctl.observe_face(0.4, 0.0, stamp=T - 30.0, now=T - 29.98) is not None
    assert ctl.clock_steps == 1


def test_lost_face_holds_then_returns_home_slowly():
    ctl = make(max_target_age=0.3, lost_hold=1.0, home_speed=0.2)
    t = 0.0
    while t < 2.0:
        ctl.observe_face(0.6, 0.0, stamp=t, now=t + 0.02)
        t += 0.05
    held = ctl.command
    assert held[0] < -0.1
    # Face gone: the head holds still ...
    for _ in range(10):
        t += 0.05
        assert ctl.observe_no_face(stamp=t, now=t + 0.02) is None
    assert ctl.state == HOLDING
    assert ctl.command == held
    # ... then, lost_hold after the last sighting, returns home no faster than home_speed.
    prev = held[0]
    while ctl.state != HOME:
        t += 0.05
        cmd = ctl.tick(t)
        if cmd is not None:
            assert abs(cmd[0] - prev) <= 0.2 * 0.05 + 1e-9
            prev = cmd[0]
        assert t < 10.0
    assert ctl.command == (0.0, 0.0)
    assert ctl.state == HOME


def test_face_seen_again_while_returning_resumes_tracking():
    ctl = make(max_target_age=0.2, lost_hold=0.5)
    ctl.observe_face(0.5, 0.0, stamp=0.0, now=0.01)
    ctl.observe_face(0.5, 0.0, stamp=0.1, now=0.11)
    for k in range(30):
        ctl.tick(0.2 + 0.05 * k)
    assert ctl.state == RETURNING or ctl.state == HOME
    t = 2.0
    assert ctl.observe_face(0.5, 0.0, stamp=t, now=t + 0.01) is not None
    assert ctl.state == TRACKING


@pytest.mark.parametrize('gains, message', [
    (AxisGains(min_angle=0.5, max_angle=-0.5), 'pan.min_angle'),
    (AxisGains(kp=-1.0), 'pan.kp'),
    (AxisGains(max_velocity=0.0), 'pan.max_velocity'),
    (AxisGains(home=2.0), 'pan.home'),
])
def test_bad_gains_name_the_field(gains, message):
    with pytest.raises(ValueError, match=message.replace('.', r'\.')):
        PanTiltController(TrackerConfig(), gains, AxisGains())


def test_bad_tracker_config_names_the_field():
    with pytest.raises(ValueError, match='max_target_age'):
        PanTiltController(TrackerConfig(max_target_age=0.0), AxisGains(), AxisGains())


def test_latency_compensation_counts_moves_made_since_the_capture():
    def run(compensate):
        ctl = PanTiltController(TrackerConfig(hfov=HFOV, vfov=VFOV,
                                              latency_compensation=compensate),
                                AxisGains(ki=0.0), AxisGains(ki=0.0))
        ctl.observe_face(0.5, 0.0, stamp=0.00, now=0.10)
        ctl.observe_face(0.5, 0.0, stamp=0.10, now=0.20)
        first = ctl.command[0]
        # The next image was captured before that command took effect: it shows the
        # same offset, but the head has already turned by `first`.
        ctl.observe_face(0.5, 0.0, stamp=0.15, now=0.25)
        return first, ctl.command[0] - first
    first, step_plain = run(False)
    _, step_compensated = run(True)
    assert first < 0.0
    assert abs(step_compensated) < abs(step_plain)


def test_high_gain_with_long_latency_stays_stable_only_with_compensation():
    from face_tracker_ros.sim.loop import ClosedLoop, LoopConfig

    def final_error(compensate):
        gains = {'kp': 10.0}
        loop = ClosedLoop(LoopConfig(path='still', fps=15.0, latency=0.25,
                                     pan_gains=AxisGains(min_angle=-1.3, max_angle=1.3,
                                                         **gains),
                                     tilt_gains=AxisGains(min_angle=-0.7, max_angle=0.7,
                                                          **gains)))
        c = loop.controller.config
        loop.controller.config = TrackerConfig(hfov=c.hfov, vfov=c.vfov,
                                               latency_compensation=compensate)
        return loop.run(5.0).final_error()
    assert final_error(True) < 0.05
    stable = final_error(False)
    assert math.isnan(stable) or stable > 0.2  # oscillates (or loses the face)


@pytest.mark.parametrize('x, y, z, words', [
    (0.0, 0.0, 1e30, 'face size z 1e+30'), (0.0, 0.0, -0.1, 'face size'),
    (float('nan'), 0.0, 0.2, 'not finite'), (0.0, float('inf'), 0.2, 'not finite'),
    (1.2, 0.0, 0.2, 'offset'), (0.0, -3.0, 0.0, 'offset')])
def test_values_that_are_not_a_target_are_named(x, y, z, words):
    from face_tracker_ros.servo.control import target_problem

    assert words in target_problem(x, y, z)


def test_targets_the_detector_sends_are_fine():
    from face_tracker_ros.servo.control import target_problem

    for x, y, z in ((0.0, 0.0, 0.0), (1.0, -1.0, 0.2), (-1.05, 1.05, 1.0), (0.3, 0.1, 1.4)):
        assert target_problem(x, y, z) is None

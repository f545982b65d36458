# face_tracker_ros: set-up, demo, tests and checks on the standalone path (no ROS 2 distro).
# Every target sets up the project-local virtual environment (.venv) first.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DURATION ?= 30
PYTEST_ARGS ?=

.PHONY: setup demo test test-fast test-distro lint config faults bench eval clean

$(STAMP): requirements.txt requirements-dev.txt setup.py
	@$(PYTHON) -c 'import sys, platform; \
	  ok = (3, 10) <= sys.version_info[:2] <= (3, 13) and platform.machine() == "x86_64"; \
	  sys.exit(0 if ok else "the ROS 2 wheels need CPython 3.10-3.13 on x86_64; set PYTHON=python3.1x")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $(STAMP)

setup: $(STAMP)

## The main job: the tracker in closed-loop simulation for DURATION seconds -> demo-summary.json
demo: $(STAMP)
	$(PY) -m face_tracker_ros.tools.demo --duration $(DURATION)

## The whole test suite: test/unit, test/integration (nodes over real DDS, processes,
## pseudo-terminals, closed loop, fault suite) and the ament lint tests at test/ (about 10 min)
test: $(STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

## The fast subset: test/unit only (ROS-free: no node, no DDS, no child process, no pty; under a minute)
test-fast: $(STAMP)
	$(PY) -m pytest test/unit $(PYTEST_ARGS)

## The distribution lane: Debian's Python and OpenCV, the Kilted wheels and ../shared/ros2-python,
## rosdep, colcon build/test, launch tests under real `ros2 launch` (skips where that is absent)
test-distro:
	@bash .ci/test-distro

## Fault suite: every camera/serial/process fault against the simulation -> fault-results.json
faults: $(STAMP)
	$(PY) -m face_tracker_ros.tools.fault_suite

## Benchmarks, side by side in one run -> bench-results.json
bench: $(STAMP)
	$(PY) -m bench.run

## Detector and target selector on the labelled real footage of ../shared -> eval-results.json/.md
eval: $(STAMP)
	$(PY) -m bench.eval

## Style checks: ruff, and flake8 and pydocstyle with ament_flake8's and ament_pep257's settings (setup.cfg)
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(PY) -m flake8 --config setup.cfg face_tracker_ros launch test bench setup.py
	$(PY) -m pydocstyle --config setup.cfg face_tracker_ros launch test bench setup.py

## Regenerate config/tracker.yaml and the parameter reference (docs/parameters.md) from the nodes' tables
config: $(STAMP)
	$(PY) -m face_tracker_ros.tools.params_doc yaml > config/tracker.yaml
	$(PY) -m face_tracker_ros.tools.params_doc doc docs/parameters.md

clean:
	rm -rf $(VENV) .venv-distro build install log *.egg-info demo-summary.json demo-nodes.log \
	  fault-results.json fault-results.md bench-results.json bench-results.md \
	  eval-results.json eval-results.md

# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Run the benchmarks side by side and write bench-results.json and a markdown table.

``python -m bench.run [--sections transport,detector,pipeline,resources,budget,soak]
[--soak-minutes N] [--output bench-results.json] [--markdown bench-results.md]``

Sections run in the order given above, in one process, one after the other
(``resources`` is sampled during the ``pipeline`` runs, so asking for either
runs both).  Every section records its figures, each target with ``met`` and
the margin, and whether all its targets are met.  A section that fails is
recorded with its error and the others still run.  Exit status: 0 when every
requested section ran and, with ``--fail-on-miss``, every target was met;
1 when a section failed; 2 on a bad argument; 3 for a missed target with
``--fail-on-miss``.
"""

import argparse
import json
import os
from pathlib import Path
import sys
import time
import traceback
from typing import Dict, List, Optional

from bench import report
from bench.common import choose_domain_id, DOMAIN_RANGE, log, machine_info
from face_tracker_ros.common.checks import check_int

SECTIONS = report.SECTIONS
#: A 1-minute load average above this before a section means other work is running.
BUSY_LOAD = 1.0


def _load() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def parse_sections(text: str) -> List[str]:
    """Return the comma-separated section names of ``text`` in run order; ValueError if unknown."""
    names = [part.strip() for part in text.split(',') if part.strip()]
    unknown = [n for n in names if n not in SECTIONS]
    if unknown or not names:
        raise ValueError(f'--sections takes a comma-separated list of {", ".join(SECTIONS)}; '
                         f'got {text!r}')
    return [s for s in SECTIONS if s in names]


def _positive(kind):
    def check(text: str):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or value <= 0:
            raise argparse.ArgumentTypeError(f'must be a positive {kind.__name__}, got {text!r}')
        return value
    return check


def _budget_rows():
    from bench.budget import ROWS
    return ROWS


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser."""
    parser = argparse.ArgumentParser(prog='python -m bench.run',
                                     description=__doc__.split('\n')[0])
    parser.add_argument('--sections', default=','.join(SECTIONS),
                        help='comma-separated sections to run (default: all): '
                        + ', '.join(SECTIONS))
    parser.add_argument('--soak-minutes', type=_positive(float), default=15.0,
                        help='length of the soak run in minutes (default 15; the first 3 '
                        'are warm-up)')
    parser.add_argument('--soak-fps', type=_positive(float), default=60.0,
                        help='camera rate during the soak run (default 60: faster than real '
                        'use, so per-message leaks show sooner)')
    parser.add_argument('--pipeline-seconds', type=_positive(float), default=60.0,
                        help='seconds of each design (nodes, single script) in the pipeline '
                        'section (default 60)')
    parser.add_argument('--pipeline-rounds', type=_positive(int), default=2,
                        help='alternate the two designs this many times (default 2)')
    parser.add_argument('--budget-seconds', type=_positive(float), default=30.0,
                        help='seconds of each row of the budget section (default 30)')
    parser.add_argument('--budget-rows', default='',
                        help='comma-separated rows of the budget section (default: all): '
                        + ', '.join(name for name, _, _ in _budget_rows()).replace('%', '%%'))
    parser.add_argument('--transport-frames', type=_positive(int), default=300,
                        help='frames per transport measurement (default 300)')
    parser.add_argument('--detector-frames', type=_positive(int), default=150,
                        help='simulated frames per detector configuration (default 150)')
    parser.add_argument('--yunet-model', default='/work/shared/models/face_detection_yunet.onnx',
                        help='YuNet ONNX model; the YuNet configurations are skipped without it')
    parser.add_argument('--domain-id', type=int, default=None,
                        help='ROS_DOMAIN_ID for every process (default: $ROS_DOMAIN_ID, else a '
                        'random unused one)')
    parser.add_argument('--sim-port', default='',
                        help='link path of the simulated servo port (default: a private '
                        'temporary path)')
    parser.add_argument('--log-dir', default='',
                        help="directory for the nodes' output (default: discarded)")
    parser.add_argument('--output', default='bench-results.json', help='results file (JSON)')
    parser.add_argument('--markdown', default='bench-results.md',
                        help='markdown table file (docs/benchmarks.md quotes it)')
    parser.add_argument('--fail-on-miss', action='store_true',
                        help='exit 3 when a target is missed')
    return parser


def run_sections(args: argparse.Namespace, sections: List[str],
                 domain_id: int) -> Dict[str, object]:
    """Run the requested sections and return the results dictionary."""
    results: Dict[str, object] = {
        'started': time.strftime('%Y-%m-%d %H:%M:%S %z'),
        'machine': machine_info(),
        'ros_domain_id': domain_id,
        'sections_requested': sections,
    }
    log_dir = args.log_dir or None
    if log_dir:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    def guarded(name: str, func):
        section_start = time.monotonic()
        load_start = _load()
        if load_start is not None and load_start > BUSY_LOAD:
            log(f'warning: load average {load_start:.1f} before {name}: other work is running '
                'on this machine and will inflate the figures')
        try:
            value = func()
        except Exception as exc:  # noqa: BLE001 - one failed section must not lose the rest
            log(f'{name} failed: {exc}')
            value = {'error': f'{type(exc).__name__}: {exc}',
                     'traceback': traceback.format_exc()[-2000:], 'met': False}
        if isinstance(value, dict):
            value.setdefault('section_seconds', round(time.monotonic() - section_start, 1))
            value.setdefault('load_average_1min', [load_start, _load()])
        return value

    if 'transport' in sections:
        from bench import transport
        results['transport'] = guarded('transport', lambda: transport.run(
            domain_id, frames=args.transport_frames))
    if 'detector' in sections:
        from bench import detector
        results['detector'] = guarded('detector', lambda: detector.run(
            frames=args.detector_frames, yunet_model=args.yunet_model))
    if 'pipeline' in sections or 'resources' in sections:
        from bench import pipeline

        both = guarded('pipeline', lambda: dict(zip(('pipeline', 'resources'), pipeline.run(
            args.pipeline_seconds, domain_id, sim_port=args.sim_port,
            rounds=args.pipeline_rounds, log_dir=log_dir))))
        for name in ('pipeline', 'resources'):
            if name in sections:
                section = both if 'error' in both else both[name]
                for key in ('section_seconds', 'load_average_1min'):
                    section.setdefault(key, both.get(key))
                results[name] = section
    if 'budget' in sections:
        from bench import budget
        rows = [r.strip() for r in args.budget_rows.split(',') if r.strip()]
        results['budget'] = guarded('budget', lambda: budget.run(
            args.budget_seconds, domain_id, sim_port=args.sim_port, rows=rows,
            log_dir=log_dir))
    if 'soak' in sections:
        from bench import soak
        log_path = str(Path(log_dir) / 'bench-soak-nodes.log') if log_dir else None
        results['soak'] = guarded('soak', lambda: soak.run(
            args.soak_minutes, domain_id, sim_port=args.sim_port, camera_fps=args.soak_fps,
            log_path=log_path))
    results['duration_s'] = round(time.monotonic() - started, 1)
    try:
        results['load_average_at_end'] = [round(v, 2) for v in os.getloadavg()]
    except OSError:
        pass
    records = [t for s in SECTIONS if isinstance(results.get(s), dict)
               for t in results[s].get('targets', [])]
    results['targets_met'] = sum(1 for t in records if t.get('met'))
    results['targets_total'] = len(records)
    return results


def main(argv: Optional[List[str]] = None) -> int:
    """Parse the arguments, run the sections, write the files and print a summary."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        sections = parse_sections(args.sections)
        known = [name for name, _, _ in _budget_rows()]
        unknown = [r.strip() for r in args.budget_rows.split(',')
                   if r.strip() and r.strip() not in known]
        if unknown:
            raise ValueError(f'--budget-rows takes a comma-separated list of '
                             f'{", ".join(known)}; got {", ".join(unknown)}')
        domain_id = args.domain_id if args.domain_id is not None else choose_domain_id()
        check_int('--domain-id', domain_id, *DOMAIN_RANGE)
    except ValueError as exc:
        parser.error(str(exc))
    os.environ['ROS_DOMAIN_ID'] = str(domain_id)
    os.environ['ROS_AUTOMATIC_DISCOVERY_RANGE'] = 'LOCALHOST'
    log(f'sections {", ".join(sections)}; ROS_DOMAIN_ID {domain_id}')
    results = run_sections(args, sections, domain_id)
    Path(args.output).write_text(json.dumps(results, indent=2) + '\n')
    Path(args.markdown).write_text(report.markdown(results))
    print('\n'.join(report.summary_lines(results)))
    print(f'{results["targets_met"]} of {results["targets_total"]} targets met in '
          f'{results["duration_s"]:.0f} s; results in {Path(args.output).resolve()}, table in '
          f'{Path(args.markdown).resolve()}')
    error = report.first_error(results)
    if error:
        print(f'error: {error}', file=sys.stderr)
        return 1
    if args.fail_on_miss and results['targets_met'] < results['targets_total']:
        return 3
    return 0


if __name__ == '__main__':
    sys.exit(main())

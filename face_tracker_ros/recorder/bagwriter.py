# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Write serialized messages to an MCAP rosbag2 directory, name bags, prune old ones.

Two back ends produce the same layout (a directory ``<name>/`` holding
``metadata.yaml`` and one MCAP file, CDR-serialized messages, one MCAP schema
per message type with its full ``ros2msg`` definition, so ``ros2 bag info``,
``ros2 bag play``, rosbags and Foxglove can decode it without the types):

* ``rosbag2_py`` (the C++ rosbag2 through Python) where it is importable, that
  is in a ROS 2 distribution; it takes the message definitions from the
  installed interface packages and names the file ``<name>_0.mcap``;
* ``rosbags`` (pure Python, on every install path): ``rosbags.rosbag2.Writer``
  with the MCAP storage plugin, file ``<name>.mcap``, metadata version 8 (QoS
  profiles as a YAML string, the form older rosbag2 readers parse too),
  definitions and RIHS01 hashes from the ``Stores.ROS2_KILTED`` typestore.

With ``backend='auto'`` a failing rosbag2_py (Humble without the
``rosbag2_storage_mcap`` plugin) falls back to rosbags where it is installed.

``metadata.yaml`` is written last (atomically by rosbags), so a bag directory
is complete once it exists.  Records that cannot be written (malformed, or a
type the typestore does not know) are skipped and reported, never raised.
"""

from dataclasses import dataclass, field
import datetime
import functools
from pathlib import Path
import re
import shutil
import time
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from face_tracker_ros.common.checks import check_int, check_positive
from face_tracker_ros.recorder.buffer import Record

#: Prefix of every bag directory this module names (and the only ones it prunes).
BAG_PREFIX = 'flight_'
BACKENDS = ('auto', 'rosbags', 'rosbag2_py')
#: Bytes in the "MB" of sizes and limits (as the log file's ``log_max_mb``).
MB = 1024 * 1024
#: rosbag2 metadata version written by the rosbags back end (8: QoS profiles as a YAML
#: string, which Humble's reader also accepts).
METADATA_VERSION = 8

_NAME_RE = re.compile(r'^flight_(\d{8})_(\d{6})_([a-z0-9-]+)(?:_(\d+))?$')
_TYPE_RE = re.compile(r'^[A-Za-z][\w]*/(msg|srv|action)/[A-Za-z][\w]*$')


class BagWriteError(RuntimeError):
    """The storage failed while writing a bag (disk full, permissions, ...)."""


@dataclass
class BagResult:
    """What :func:`write_bag` wrote."""

    path: Path
    backend: str
    messages: int
    topics: Dict[str, int]
    size_bytes: int
    write_s: float
    start_ns: int = 0
    end_ns: int = 0
    #: Records not written, by reason (``'unknown type sensor_msgs/msg/Foo'``, ...).
    skipped: Dict[str, int] = field(default_factory=dict)


def rosbag2_py_available() -> bool:
    """Return True when the C++ rosbag2 Python bindings can be imported."""
    try:
        import rosbag2_py  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_backend(backend: str = 'auto') -> str:
    """Return the back end ``backend`` stands for; ValueError if it is unknown or missing."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == 'auto':
        return 'rosbag2_py' if rosbag2_py_available() else 'rosbags'
    if backend == 'rosbag2_py' and not rosbag2_py_available():
        raise ValueError("backend 'rosbag2_py' is not importable here; use 'rosbags' or 'auto'")
    return backend


@functools.lru_cache(maxsize=1)
def typestore():
    """Return the rosbags typestore used for message definitions (``ROS2_KILTED``)."""
    from rosbags.typesys import get_typestore, Stores

    return get_typestore(Stores.ROS2_KILTED)


def sanitize_reason(reason: str) -> str:
    """Return ``reason`` as a short file-name-safe word: lower case, digits and dashes."""
    text = re.sub(r'[^a-z0-9]+', '-', str(reason).lower()).strip('-')
    return text[:40].strip('-') or 'event'


def bag_name(reason: str, when: Optional[float] = None, index: int = 0) -> str:
    """Return ``flight_YYYYmmdd_HHMMSS_<reason>[_n]`` for wall-clock time ``when`` (local).

    ``index`` 0 gives no suffix; 1, 2, ... give ``_1``, ``_2``, ...
    """
    moment = datetime.datetime.fromtimestamp(time.time() if when is None else when)
    name = f"{BAG_PREFIX}{moment.strftime('%Y%m%d_%H%M%S')}_{sanitize_reason(reason)}"
    return f'{name}_{index}' if index else name


def unique_bag_path(directory, reason: str, when: Optional[float] = None,
                    reserved: Iterable[str] = ()) -> Path:
    """Return a path in ``directory`` named by :func:`bag_name` that does not exist yet.

    Names in ``reserved`` (chosen for bags still to be written) are avoided too.
    """
    directory = Path(directory)
    taken = set(reserved)
    index = 0
    while True:
        name = bag_name(reason, when, index)
        if name not in taken and not (directory / name).exists():
            return directory / name
        index += 1


def is_bag_name(name: str) -> bool:
    """Return True for a directory name made by :func:`bag_name`."""
    return _NAME_RE.match(name) is not None


def _valid(record) -> Optional[str]:
    """Return why ``record`` cannot be written, or None when it can."""
    try:
        topic, type_name, stamp, data = record
    except (TypeError, ValueError):
        return 'malformed record'
    if not isinstance(topic, str) or not topic.startswith('/') or len(topic) < 2:
        return 'malformed topic'
    if not isinstance(type_name, str) or not _TYPE_RE.match(type_name):
        return 'malformed type name'
    if not isinstance(stamp, int) or isinstance(stamp, bool) or stamp < 0:
        return 'malformed timestamp'
    if not isinstance(data, (bytes, bytearray, memoryview)):
        return 'malformed data'
    return None


def _prepare(records: Iterable, topics: Mapping[str, str], known_type) -> Tuple[
        Dict[str, str], List[Record], Dict[str, int]]:
    """Validate records and topics; return (topic -> type, records sorted, skipped)."""
    skipped: Dict[str, int] = {}

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    channels: Dict[str, str] = {}
    for topic, type_name in dict(topics or {}).items():
        problem = _valid((topic, type_name, 0, b''))
        if problem is not None:
            skip(f'{problem} in topics: {topic!r}')
        elif known_type(type_name):  # records of unknown types are counted below
            channels[topic] = type_name
    good: List[Record] = []
    for record in records:
        problem = _valid(record)
        if problem is not None:
            skip(problem)
            continue
        topic, type_name, stamp, data = record
        channel_type = channels.setdefault(topic, type_name) if known_type(type_name) \
            else None
        if channel_type is None:
            skip(f'unknown type {type_name}')
        elif channel_type != type_name:
            skip(f'{topic}: type {type_name} differs from {channel_type}')
        else:
            good.append(Record(topic, type_name, stamp, bytes(data)))
    good.sort(key=lambda r: r.timestamp_ns)
    return channels, good, skipped


def _dir_size(path: Path) -> int:
    total = 0
    for item in path.rglob('*'):
        try:
            if item.is_file():
                total += item.stat().st_size
        except OSError:
            pass
    return total


def write_bag(path, records: Iterable, topics: Optional[Mapping[str, str]] = None,
              backend: str = 'auto', custom_data: Optional[Mapping[str, str]] = None
              ) -> BagResult:
    """Write ``records`` (:class:`Record` or 4-tuples) to a new MCAP rosbag2 at ``path``.

    ``topics`` maps topic names to type names for topics that should appear in
    the bag even without messages; records carry their own type.  Timestamps
    are the bag's receive times (ns since the epoch); messages are written in
    time order.  ``custom_data`` (string pairs) go into ``metadata.yaml`` with
    the rosbags back end.  Raises ValueError for a bad ``backend`` or an
    existing ``path``, :class:`BagWriteError` when the storage fails (the
    partial bag is removed); bad records are skipped and counted in the result.
    """
    path = Path(path)
    chosen = resolve_backend(backend)
    if path.exists():
        raise ValueError(f'bag path {path} exists already: bags are never overwritten')
    records = list(records)
    started = time.monotonic()
    try:
        channels, good, skipped = _write(path, chosen, records, topics, custom_data)
    except BagWriteError:
        # 'auto' chose rosbag2_py, which can lack its MCAP storage plugin (Humble installs
        # rosbag2_storage_mcap separately): rosbags, where installed, still writes the bag.
        if backend != 'auto' or chosen != 'rosbag2_py' or not _rosbags_available():
            raise
        chosen = 'rosbags'  # pragma: no cover - only in a ROS 2 distribution
        channels, good, skipped = _write(path, chosen, records, topics, custom_data)
    counts: Dict[str, int] = dict.fromkeys(channels, 0)
    for record in good:
        counts[record.topic] += 1
    return BagResult(path=path, backend=chosen, messages=len(good), topics=counts,
                     size_bytes=_dir_size(path), write_s=time.monotonic() - started,
                     start_ns=good[0].timestamp_ns if good else 0,
                     end_ns=good[-1].timestamp_ns if good else 0, skipped=skipped)


def _rosbags_available() -> bool:
    try:
        import rosbags.rosbag2  # noqa: F401
    except ImportError:
        return False
    return True


def _write(path: Path, backend: str, records: Sequence, topics, custom_data):
    """Write with one back end; on failure remove the partial bag and raise BagWriteError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if backend == 'rosbag2_py':  # pragma: no cover - only in a ROS 2 distribution
            channels, good, skipped = _prepare(records, topics, lambda t: True)
            _write_rosbag2_py(path, channels, good)
        else:
            store = typestore()
            channels, good, skipped = _prepare(records, topics,
                                               lambda t: t in store.fielddefs)
            _write_rosbags(path, channels, good, custom_data or {})
    except Exception as exc:  # noqa: BLE001 - any storage failure: clean up and report
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)
        raise BagWriteError(f'writing bag {path} with {backend} failed: '
                            f'{type(exc).__name__}: {exc}') from exc
    return channels, good, skipped


def _write_rosbags(path: Path, channels: Mapping[str, str], records: Sequence[Record],
                   custom_data: Mapping[str, str]) -> None:
    from rosbags.rosbag2 import StoragePlugin, Writer

    store = typestore()
    writer = Writer(path, version=METADATA_VERSION, storage_plugin=StoragePlugin.MCAP)
    for key, value in custom_data.items():
        writer.set_custom_data(str(key), str(value))
    writer.open()
    try:
        connections = {topic: writer.add_connection(topic, type_name, typestore=store)
                       for topic, type_name in channels.items()}
        for record in records:
            writer.write(connections[record.topic], record.timestamp_ns, record.data)
    except BaseException:
        writer.abort()
        raise
    writer.close()


def _topic_metadata(rosbag2_py, topic: str, type_name: str):  # pragma: no cover - distro
    """Build a ``TopicMetadata`` across the rosbag2_py signatures of Humble .. Kilted."""
    errors = []
    for kwargs in ({'name': topic, 'type': type_name, 'serialization_format': 'cdr'},
                   {'id': 0, 'name': topic, 'type': type_name,
                    'serialization_format': 'cdr'}):
        try:
            return rosbag2_py.TopicMetadata(**kwargs)
        except TypeError as exc:
            errors.append(str(exc))
    raise RuntimeError('unsupported rosbag2_py.TopicMetadata: ' + ' | '.join(errors))


def _write_rosbag2_py(path: Path, channels: Mapping[str, str],
                      records: Sequence[Record]) -> None:  # pragma: no cover - distro
    import rosbag2_py

    writer = rosbag2_py.SequentialWriter()
    writer.open(rosbag2_py.StorageOptions(uri=str(path), storage_id='mcap'),
                rosbag2_py.ConverterOptions(input_serialization_format='cdr',
                                            output_serialization_format='cdr'))
    for topic, type_name in channels.items():
        writer.create_topic(_topic_metadata(rosbag2_py, topic, type_name))
    for record in records:
        writer.write(record.topic, record.data, record.timestamp_ns)
    close = getattr(writer, 'close', None)
    if close is not None:
        close()
    del writer


def list_bags(directory) -> List[Path]:
    """Return the flight-recorder bag directories in ``directory``, oldest first."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    bags = []
    for item in directory.iterdir():
        if item.is_dir() and is_bag_name(item.name):
            try:
                bags.append((item.stat().st_mtime, item.name, item))
            except OSError:
                continue
    return [item for _, _, item in sorted(bags)]


def prune_bags(directory, max_count: int, max_total_mb: float,
               keep: Iterable = ()) -> List[Path]:
    """Delete the oldest flight-recorder bags beyond ``max_count`` or ``max_total_mb``.

    Deletes oldest first until at most ``max_count`` bags remain and they take
    at most ``max_total_mb`` MB together; returns the deleted paths.  Only
    directories named like :func:`bag_name` are touched.  Bags in ``keep`` (e.g.
    the one just written) are never deleted, even if they alone exceed the size
    limit.
    """
    max_count = check_int('max_count', max_count, low=1)
    max_total_mb = check_positive('max_total_mb', max_total_mb, unit='MB')
    kept = {Path(p).resolve() for p in keep}
    bags = [(bag, _dir_size(bag)) for bag in list_bags(directory)]
    total = sum(size for _, size in bags)
    limit = max_total_mb * MB
    removed = []
    for bag, size in bags:
        if len(bags) - len(removed) <= max_count and total <= limit:
            break
        if bag.resolve() in kept:
            continue
        shutil.rmtree(bag, ignore_errors=True)
        if not bag.exists():
            removed.append(bag)
            total -= size
    return removed

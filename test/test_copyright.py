# Copyright 2026 The face_tracker_ros authors
# SPDX-License-Identifier: Apache-2.0
"""Copyright and licence headers, the check ament_copyright makes in ``colcon test``.

Every source file starts (after a shebang) with the project's two-line
header: ``Copyright <year> The face_tracker_ros authors`` and
``SPDX-License-Identifier: Apache-2.0``, the licence package.xml declares,
whose full text is ``LICENSE``.  ament_copyright is not on PyPI, and the
one in a distribution identifies licences by their full boilerplate
header, not by SPDX identifiers; so this test checks the header itself, in
the main suite and in the distribution lane alike (no skip).
"""

import re
import xml.etree.ElementTree as ElementTree

from conftest import ROOT
import pytest

#: ament_copyright's notice pattern: "Copyright <year or range>[, ...] <holder>".
NOTICE = re.compile(r'^# Copyright (\d{4}(-\d{4})?)(, \d{4}(-\d{4})?)* The face_tracker_ros '
                    r'authors$')
SPDX = '# SPDX-License-Identifier: Apache-2.0'
SOURCES = ('face_tracker_ros', 'launch', 'test', 'bench', '.ci')


def _sources():
    files = [ROOT / 'setup.py']
    for directory in SOURCES:
        for path in sorted((ROOT / directory).rglob('*')):
            if path.is_file() and (path.suffix == '.py' or path.parent.name == '.ci'):
                files.append(path)
    return files


@pytest.mark.copyright
@pytest.mark.linter
def test_copyright():
    wrong = []
    for path in _sources():
        lines = path.read_text().splitlines()
        if lines and lines[0].startswith('#!'):
            lines = lines[1:]
        if len(lines) < 2 or not NOTICE.match(lines[0]) or lines[1] != SPDX:
            wrong.append(str(path.relative_to(ROOT)))
    assert wrong == [], f'files without the copyright and SPDX header: {wrong}'


@pytest.mark.copyright
@pytest.mark.linter
def test_license_file_is_the_declared_licence():
    declared = ElementTree.parse(ROOT / 'package.xml').getroot().findtext('license')
    assert declared == 'Apache-2.0'
    text = ' '.join((ROOT / 'LICENSE').read_text().split())
    assert text.startswith('Apache License Version 2.0, January 2004')
    assert 'TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION' in text
    assert 'END OF TERMS AND CONDITIONS' in text
    assert 'APPENDIX: How to apply the Apache License to your work.' in text

"""Names the scan needs before it knows whether any governance file is present: the rule ids
of the governance detector and the file names of an exceptions register. Kept apart from the
policy models (``lenient``, ``checks``) so a scan of a tree without such files never loads them.
"""

from __future__ import annotations

RULES = frozenset(f"QG-GOV-{n:03d}" for n in range(1, 14))
EXCEPTIONS_FILE_NAMES = frozenset({".qgov-exceptions.yaml", ".qgov-exceptions.yml"})

"""Quantum-vendor security profiles: the profile format, the requirement table, the
assessment of one profile at a workload tier, the comparison of several, and their reports.

- ``profile``       the YAML format (pydantic, frozen, unknown fields refused) and its loader
- ``requirements``  what is asked of a vendor, as a table of rows
- ``assess``        profile + tier + day -> ``Assessment`` (met / gap / not stated per row)
- ``compare``       several assessments -> a verdict per vendor and rows side by side
- ``render``        text, JSON and HTML for ``qgov vendor assess`` and ``qgov vendor compare``
"""

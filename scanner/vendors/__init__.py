"""Quantum-vendor security profiles: the profile format, the requirement table, the
assessment of one profile at a workload tier, the comparison of several, and their reports.

- ``profile``            the YAML format (pydantic, frozen, unknown fields refused)
- ``profile_loader``     reading and validating a profile; ``ProfileError`` names line and field
- ``requirements``       a row of the requirement table (the model), ``Context``, ``Check``, and
                         the thresholds the checks apply
- ``checks``             how each row reads a profile: met, gap or not stated, in one sentence
- ``requirement_table``  what is asked of a vendor: the 27 rows in eight families
- ``assess``             profile + tier + day -> ``Assessment`` (met / gap / not stated per row)
- ``compare``            several assessments -> a verdict per vendor and rows side by side
- ``render``             text, JSON and HTML for ``qgov vendor assess`` and ``qgov vendor compare``
"""

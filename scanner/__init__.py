"""qgov: compliance-as-code scanner and audit-pack generator for quantum cloud workloads."""

__version__ = "0.1.0"

"""Honest control status: what a scan checked, attestations, self-test evidence, and the
per-framework matrix the audit pack renders."""

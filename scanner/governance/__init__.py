"""Governance beyond the job path: the policy sections a scan checks (providers, data-class
regions, access reviews, exceptions, environments) and the checks themselves."""

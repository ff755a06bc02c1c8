"""The status vocabulary: a control's status in a scan, a framework requirement's roll-up."""

from __future__ import annotations

from enum import StrEnum


class ControlStatus(StrEnum):
    FAILING = "failing"
    CONTROL_TEST_FAILED = "control-test-failed"
    ACCEPTED_RISK = "accepted-risk"
    PASSING = "passing"
    CONTROL_TEST_PASSED = "control-test-passed"
    ATTESTED = "attested"
    NOT_APPLICABLE = "not-applicable"
    NOT_ASSESSED = "not-assessed"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")


class RequirementStatus(StrEnum):
    FAILING = "failing"
    NOT_ASSESSED = "not-assessed"
    ACCEPTED_RISK = "accepted-risk"
    ATTESTED = "attested"
    PASSING = "passing"
    NOT_APPLICABLE = "not-applicable"
    NOT_COVERED = "not-covered"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ")

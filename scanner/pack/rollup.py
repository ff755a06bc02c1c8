"""The organisation's status across repositories, and the order repositories are shown in.

A control's organisation status is the worst of its statuses in the repositories, in this
order (worst first):

    failing > control-test-failed > not-assessed > accepted-risk > attested
            > control-test-passed > passing

Repositories where the control does not apply at their tier are left out; when it applies in
none, it is ``not-applicable``. So a control fails for the organisation when it fails in any
repository, and passes only when it passes in every repository it applies to: one
repository where nobody checked it keeps it ``not-assessed`` (a claim about the whole
organisation cannot rest on the repositories that happened to be checked). Attested ranks
below control-test evidence, and that below a rule that ran: the organisation status names the
weakest evidence it rests on.

Each framework requirement's organisation status is then rolled up from the organisation
control statuses exactly as for one repository (``scanner.status.matrix``): the worst of its
covering controls, not-covered when no control covers it.

Repositories are listed worst first: most failing controls, then most critical and high
findings, then most findings, then most controls not assessed, then by name.
"""

from __future__ import annotations

from collections.abc import Sequence

from scanner.catalog import Catalog
from scanner.pack.model import OrgControl, RepositorySection, Rollup
from scanner.status.matrix import framework_matrix
from scanner.status.statuses import ControlStatus

ORG_ORDER = (
    ControlStatus.FAILING,
    ControlStatus.CONTROL_TEST_FAILED,
    ControlStatus.NOT_ASSESSED,
    ControlStatus.ACCEPTED_RISK,
    ControlStatus.ATTESTED,
    ControlStatus.CONTROL_TEST_PASSED,
    ControlStatus.PASSING,
)


def org_status(statuses: Sequence[ControlStatus]) -> ControlStatus:
    present = set(statuses) - {ControlStatus.NOT_APPLICABLE}
    for candidate in ORG_ORDER:
        if candidate in present:
            return candidate
    return ControlStatus.NOT_APPLICABLE


def worst_first(repositories: Sequence[RepositorySection]) -> list[RepositorySection]:
    def key(repository: RepositorySection) -> tuple[int, int, int, int, str]:
        active = repository.active_findings
        severe = sum(1 for f in active if f.severity.rank >= 3)
        not_assessed = repository.status.counts()[ControlStatus.NOT_ASSESSED.value]
        return (-repository.failing_controls, -severe, -len(active), -not_assessed,
                repository.name)

    return sorted(repositories, key=key)


def _reason(status: ControlStatus, by_repo: list[tuple[str, ControlStatus]],
            single_reason: str | None) -> str:
    if single_reason is not None:
        return single_reason
    groups: dict[ControlStatus, list[str]] = {}
    for name, repo_status in by_repo:
        groups.setdefault(repo_status, []).append(name)
    order = [*ORG_ORDER, ControlStatus.NOT_APPLICABLE]
    parts = [f"{s.label} in {', '.join(groups[s])}" for s in order if s in groups]
    return "; ".join(parts) if parts else status.label


def rollup(
    catalog: Catalog, repositories: Sequence[RepositorySection], frameworks: Sequence[str]
) -> Rollup:
    per_repo = [(r.name, r.status.by_id()) for r in repositories]
    controls = []
    for control_id, control in catalog.controls.items():
        by_repo = [(name, results[control_id].status) for name, results in per_repo
                   if control_id in results]
        status = org_status([s for _, s in by_repo])
        single = None
        if len(per_repo) == 1 and control_id in per_repo[0][1]:
            single = per_repo[0][1][control_id].reason
        controls.append(OrgControl(control_id, control.title, status, tuple(by_repo),
                                   _reason(status, by_repo, single)))
    statuses = {c.id: c.status for c in controls}
    wanted = set(frameworks)
    matrices = {m.key: m for m in framework_matrix(catalog, statuses) if m.key in wanted}
    return Rollup(
        controls=tuple(controls),
        frameworks=tuple(matrices[key] for key in frameworks if key in matrices),
    )

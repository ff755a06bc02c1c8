"""The governed quantum job: a job runs on the Aer simulator only through policy, and every
step lands in a tamper-evident ledger.

Modules, in the order a job meets them:
- ``spec``       the job spec (YAML): circuit file, dataset, project, environment, backend
- ``policy``     the org policy (YAML): issuers, identities, roles, tiers, projects, backends;
  ``OrgPolicy`` checks what refers to what, ``policy_sections`` holds each section's model
- ``tokens``     minting short-lived JWTs; the public demo issuer key
- ``identity``   verifying a token (signature, claim types, lifetime, revocations) and binding
  it to a human/workload/service identity; ``token_use`` refuses a replayed token and
  ``revocation`` applies the policy's revocations
- ``authorize``  role, environment, backend, time window, shots, project checks
- ``approvals``  signed just-in-time approvals in the ledger and their checks; ``approve``
  grants one (``qgov job approve``)
- ``datagate``   the dataset registry, classification vs. tier and role; dataset hash
- ``quota``      quotas, budgets and burst alerts computed from the ledger
- ``circuits``   pre-scanning and loading OpenQASM as data; the circuit hash (QASM 3 text)
- ``files``      reading the files a job names safely (regular files, size caps, no FIFOs)
- ``execute``    seeded AerSimulator runs; counts hash
- ``record``     the execution record (JSON)
- ``scrub``      keeping circuits, data rows and tokens out of logs and events
- ``ledger``     append-only, hash-chained JSON Lines with signed checkpoints; verification
  (a package: ``format``, ``writer`` with ``files``, ``witness``, ``verify`` with its
  ``chain``, ``signatures`` and ``report``)
- ``journal``    one job's events into the ledger, each carrying actor, source, policy, job id
- ``siem``       OCSF-shaped events over syslog/UDP
- ``runtime``    per-run plumbing (ledger, scrubbed log, SIEM forwarder, request source)
- ``service``    the end-to-end path: ``run_job``, with ``execution`` (run, record, event)
  and ``export`` (authorised result export)
- ``replay``     re-running a recorded execution and comparing the result hash
- ``world``      a policy world (issuer, policy, approvals, circuits, dataset, job specs)
  that the self-test and the tests build on
- ``selftest``   the control-test scenario behind ``qgov job selftest`` (a package: the
  scenario, the ``@check`` registry, the checks, the runner)
- ``drills``     tabletop incident drills behind ``qgov job drill`` (a package)
- ``ledger_queries`` what the checks ask of ledger events (token uses, approvals, an
  identity's jobs), read-only
Shared helpers: ``canonical`` (canonical JSON, SHA-256), ``decision`` (reason codes ->
control ids), ``errors``, ``timeutil``, ``environment``.
"""

"""Recognisers that read text, not syntax: device ARNs, IBM Cloud CRNs, API endpoints,
provider environment variables, ``pip install`` lines and (for code that does not parse, such
as IPython cells) import statements.

Each yields ``(offset, use)`` pairs, the offset into the text it was given, so a caller can
turn it into a line. Every pattern is bounded and linear-time; the caller decides which text
to feed (a Python string constant, a line of an env file, a notebook cell).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanner.inventory.table import (
    ENDPOINTS,
    ENV_NAME,
    PACKAGES,
    env_provider,
    module_provider,
    normalise_package,
)
from scanner.model import ProviderUse, UseKind

Hit = tuple[int, ProviderUse]

# arn:aws:braket:us-east-1::device/qpu/ionq/Aria-1, arn:aws:braket:::device/quantum-simulator/
# amazon/sv1, and the ARNs of quantum tasks and hybrid jobs (which name a region too).
BRAKET_ARN = re.compile(
    r"arn:aws(?:-[a-z]{1,10}){0,2}:braket:(?P<region>[a-z0-9-]{0,30}):(?P<account>[0-9]{0,12}):"
    r"(?:device/(?P<type>qpu|quantum-simulator)/(?P<vendor>[A-Za-z0-9_-]{1,40})/"
    r"(?P<device>[A-Za-z0-9_.-]{1,60})|(?P<other>quantum-task|job)/)"
)
# crn:v1:bluemix:public:quantum-computing:us-east:a/<account>:<instance>:: (an IBM Quantum
# Platform instance, as QiskitRuntimeService(instance=...) and QISKIT_IBM_INSTANCE name it).
IBM_QUANTUM_CRN = re.compile(
    r"crn:v1:[a-z]{1,20}:[a-z]{1,20}:quantum-computing:(?P<region>[a-z0-9-]{0,30}):"
)
# pip install lines (Dockerfiles, CI scripts, notebook magics): the rest of the line, bounded.
PIP_INSTALL = re.compile(
    r"(?:^|[\s;&|(!%])(?:pip3?|uv\s{1,5}pip|python3?\s{1,5}-m\s{1,5}pip)\s{1,5}install\s"
    r"(?P<args>[^\n#;&|]{1,4000})"
)
_PIP_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,100}")
# Imports in code that does not parse as Python (the fallback; ast is used where it can be).
IMPORT_LINE = re.compile(
    r"^[ \t]{0,40}(?:from[ \t]{1,10}(?P<from>[A-Za-z_][\w.]{0,200})[ \t]{1,10}import\b"
    r"|import[ \t]{1,10}(?P<modules>[\w., \t]{1,200000}))"
)
# An IBM backend named in configuration or a command line (--backend ibm_torino,
# backend: ibm_brisbane, IBM_BACKEND=ibm_fez); IBM's names are distinctive enough to read
# outside code.
IBM_BACKEND_SETTING = re.compile(
    r"(?i:backend)[A-Za-z0-9_-]{0,20}[\"']?[ \t]{0,5}[:= \t][ \t]{0,5}[\"']?"
    r"(?P<name>ibmq?_[a-z][a-z0-9_]{1,40})(?![A-Za-z0-9_])"
)
_DOTTED = re.compile(r"[A-Za-z_][\w.]{0,200}")
_IBM_CHANNELS = frozenset({"ibm_quantum", "ibm_cloud", "ibm_quantum_platform"})
# Managed simulators: still the provider's cloud, but no hardware vendor's device.
_SIMULATOR = "quantum-simulator"


def braket_uses(text: str) -> Iterator[Hit]:
    for match in BRAKET_ARN.finditer(text):
        region = match.group("region") or None
        if match.group("other"):
            what = "quantum task" if match.group("other") == "quantum-task" else "hybrid job"
            yield match.start(), ProviderUse(
                "amazon-braket", UseKind.RESOURCE, f"{what} ARN", region=region
            )
            continue
        vendor = match.group("vendor").lower()
        device = match.group("device")
        simulator = match.group("type") == _SIMULATOR
        yield match.start(), ProviderUse(
            "amazon-braket",
            UseKind.DEVICE,
            f"{vendor} {device}" + (" (managed simulator)" if simulator else ""),
            region=region,
            vendor=vendor,
        )


def crn_uses(text: str) -> Iterator[Hit]:
    for match in IBM_QUANTUM_CRN.finditer(text):
        yield match.start(), ProviderUse(
            "ibm-quantum",
            UseKind.RESOURCE,
            "IBM Cloud quantum-computing instance",
            region=match.group("region") or None,
        )


def endpoint_uses(text: str, kind: UseKind) -> Iterator[Hit]:
    if "https://" not in text:
        return
    for endpoint in ENDPOINTS:
        for match in endpoint.regex.finditer(text):
            groups = match.groupdict()
            device = groups.get("device")
            host = match.group(0).removeprefix("https://")
            yield match.start(), ProviderUse(
                endpoint.provider,
                UseKind.DEVICE if device else kind,
                f"{endpoint.provider} {device}" if device else f"endpoint {host}",
                region=groups.get("region"),
            )


def env_uses(text: str) -> Iterator[Hit]:
    for match in ENV_NAME.finditer(text):
        provider = env_provider(match.group(0))
        if provider is not None:
            yield match.start(), ProviderUse(provider, UseKind.CONFIG, match.group(0))


def pip_uses(text: str) -> Iterator[Hit]:
    for match in PIP_INSTALL.finditer(text):
        for token in _PIP_TOKEN.finditer(match.group("args")):
            provider = PACKAGES.get(normalise_package(token.group(0)))
            if provider is not None:
                yield match.start(), ProviderUse(
                    provider, UseKind.DEPENDENCY, normalise_package(token.group(0))
                )


def import_uses(line: str) -> Iterator[Hit]:
    """The provider modules a line that looks like an import statement names."""
    match = IMPORT_LINE.match(line)
    if match is None:
        return
    if match.group("from"):
        names = [match.group("from")]
    else:
        names = [m.group(0) for m in _DOTTED.finditer(match.group("modules"))]
    for name in names:
        found = module_provider(name)
        if found is not None:
            yield match.start(), ProviderUse(found[1], UseKind.SDK_IMPORT, found[0])


def backend_setting_uses(text: str) -> Iterator[Hit]:
    for match in IBM_BACKEND_SETTING.finditer(text):
        name = match.group("name")
        if name not in _IBM_CHANNELS:
            yield match.start(), ProviderUse("ibm-quantum", UseKind.BACKEND, name)


def string_uses(text: str, kind: UseKind) -> Iterator[Hit]:
    """What any string or line may hold: device ARNs, CRNs, endpoints, variable names."""
    if "arn:" in text:
        yield from braket_uses(text)
    if "crn:" in text:
        yield from crn_uses(text)
    yield from endpoint_uses(text, kind)
    yield from env_uses(text)


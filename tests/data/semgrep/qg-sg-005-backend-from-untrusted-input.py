import argparse
import os
import sys

from braket.aws import AwsDevice
from flask import request

ALLOWED_BACKENDS = frozenset({"ibm_torino", "ibm_fez"})
DEVICES = {"sv1": "arn:aws:braket:::device/quantum-simulator/amazon/sv1"}


def from_argv(service):
    # ruleid: QG-SG-005
    return service.backend(sys.argv[1])


def from_env(service):
    name = os.environ["QGOV_BACKEND"]
    # ruleid: QG-SG-005
    return service.backend(name)


def from_request(provider):
    # ruleid: QG-SG-005
    return provider.get_backend(request.args.get("backend"))


def from_args():
    args = argparse.ArgumentParser().parse_args()
    # ruleid: QG-SG-005
    return AwsDevice(args.device)


def checked(service):
    backend_name = os.environ["QGOV_BACKEND"]
    if backend_name not in ALLOWED_BACKENDS:
        raise SystemExit(f"backend {backend_name} is not approved")
    # ok: QG-SG-005
    return service.backend(backend_name)


def mapped():
    # ok: QG-SG-005
    return AwsDevice(DEVICES[os.environ.get("DEVICE", "sv1")])


def fixed(service):
    # ok: QG-SG-005
    return service.backend("ibm_torino")

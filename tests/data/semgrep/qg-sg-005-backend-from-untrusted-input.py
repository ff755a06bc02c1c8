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


# Amazon Braket Hybrid Jobs set AMZN_BRAKET_* themselves inside the job container (the
# device ARN given to AwsQuantumJob.create, the job name, its directories, the job token):
# they are the job's own configuration, not outside input.
def braket_job_device():
    # ok: QG-SG-005
    return AwsDevice(os.environ["AMZN_BRAKET_DEVICE_ARN"])


def braket_job_device_via_variable():
    device_arn = os.environ.get("AMZN_BRAKET_DEVICE_ARN", "local:none/none")
    # ok: QG-SG-005
    return AwsDevice(device_arn)


def braket_job_device_getenv(provider):
    # ok: QG-SG-005
    return provider.get_device(os.getenv("AMZN_BRAKET_DEVICE_ARN"))


def lookalike_is_still_outside_input():
    # ruleid: QG-SG-005
    return AwsDevice(os.environ["BRAKET_DEVICE_ARN"])


def mixed_keys(service):
    name = os.environ.get("BACKEND", os.environ["AMZN_BRAKET_DEVICE_ARN"])
    # ruleid: QG-SG-005
    return service.backend(name)

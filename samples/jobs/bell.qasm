// Bell pair: the smallest circuit that shows entanglement. OpenQASM 2 so qiskit's
// built-in parser reads it without extra packages.
OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0], q[1];
measure q -> c;

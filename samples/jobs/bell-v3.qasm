// Bell pair in OpenQASM 3 (qiskit reads it with the qiskit-qasm3-import package).
OPENQASM 3.0;
include "stdgates.inc";
qubit[2] q;
bit[2] c;
h q[0];
cx q[0], q[1];
c = measure q;

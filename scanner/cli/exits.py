"""Exit codes, one set for every command.

0: clean (no finding at or above the threshold, job completed, ledger intact, checks pass);
1: the answer is "no" (findings at or above the threshold, a refused or failed job, a
   tampered ledger, a replay mismatch, a failed self-test check);
2: the command could not do its work (usage error, unreadable input, broken config).
Never 1 for an error.
"""

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_ERROR = 2

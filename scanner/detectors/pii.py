"""Personal data in text that should never be stored: emails, SSN-like numbers, phone
numbers and payment card numbers (Luhn-checked so order ids and hashes don't count).

Shared by the notebook detector (stored outputs, QG-NBK-003) and the dataset and log check
(QG-DAT-001). ``strict`` is for data files, where numbers are everywhere: phone numbers
must carry a country code, parentheses or ``-``/``.`` separators and a valid North American
area and exchange code, and card numbers count only when most card-shaped numbers in the
text pass the Luhn check (a column of order ids passes it one time in ten).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
# Documentation domains, package metadata addresses, git's SSH user and machine-local or
# reserved domains are not anyone's personal data.
_NOT_PERSONAL_EMAIL = re.compile(
    r"@(?:example\.(?:com|org|net)|localhost|users\.noreply\.github\.com)$"
    r"|^(?:noreply|no-reply|git)@"
    r"|\.(?:local|localdomain|internal|invalid|test|example|localhost)$",
    re.I,
)
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\d-])"
)
# Not inside a word, a hex digest, a decimal or a dashed id (ORD-4539…, a1b24539…).
_CARD = re.compile(r"(?<![\w.-])(?:\d[ -]?){12,18}\d(?![\w.]|-\d)")
_ISSUER = re.compile(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65|35|30[0-5]|36|38)")

EMAIL = "email address(es)"
SSN = "SSN-like number(s)"
CARD = "payment card number(s)"
PHONE = "phone number(s)"

# strict: below this many card-shaped numbers the Luhn share says nothing.
_CARD_SAMPLE = 4


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_shaped(candidate: str) -> str | None:
    """The digits of a number with a card's length and issuer prefix, else None."""
    digits = re.sub(r"[ -]", "", candidate)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return None
    # Issuer prefixes: Visa, Mastercard, Amex, Discover, JCB, Diners.
    return digits if _ISSUER.match(digits) else None


def _card_like(candidate: str) -> bool:
    digits = _card_shaped(candidate)
    return digits is not None and luhn_valid(digits)


def _plausible_phone(value: str) -> bool:
    """strict: an international number, or a North American one written as one (area and
    exchange codes start 2-9; not digit groups split by spaces alone)."""
    if value.startswith("+"):
        return True
    if "(" not in value and not re.search(r"[.-]", value):
        return False
    digits = re.sub(r"\D", "", value)[-10:]
    return digits[0] in "23456789" and digits[3] in "23456789"


@dataclass
class PersonalData:
    """One kind of personal data found in a text."""

    kind: str
    first_offset: int  # where its first occurrence starts
    values: list[str] = field(default_factory=list)  # distinct, first-seen order
    occurrences: int = 0


class _Found:
    def __init__(self) -> None:
        self.kinds: dict[str, PersonalData] = {}
        self._seen: dict[str, set[str]] = {}

    def add(self, kind: str, value: str, offset: int) -> None:
        entry = self.kinds.get(kind)
        if entry is None:
            entry = self.kinds[kind] = PersonalData(kind, offset)
            self._seen[kind] = set()
        entry.occurrences += 1
        if value not in self._seen[kind]:
            self._seen[kind].add(value)
            entry.values.append(value)


def scan_personal_data(text: str, *, strict: bool = False) -> list[PersonalData]:
    """Each kind of personal data in ``text`` (emails, SSNs, cards, phones, in that order)."""
    found = _Found()
    for match in _EMAIL.finditer(text):
        if not _NOT_PERSONAL_EMAIL.search(match.group(0)):
            found.add(EMAIL, match.group(0), match.start())
    for match in _SSN.finditer(text):
        found.add(SSN, match.group(0), match.start())
    cards: list[tuple[int, int, str]] = []
    shaped = 0
    for match in _CARD.finditer(text):
        digits = _card_shaped(match.group(0))
        if digits is None:
            continue
        shaped += 1
        if luhn_valid(digits):
            cards.append((match.start(), match.end(), match.group(0)))
    if not strict or shaped < _CARD_SAMPLE or 2 * len(cards) >= shaped:
        for start, _end, value in cards:
            found.add(CARD, value, start)
    # A phone-shaped run inside a card number is part of the card, reported or not.
    starts = [start for start, _end, _value in cards]
    for match in _PHONE.finditer(text):
        value = match.group(0)
        index = bisect_right(starts, match.start()) - 1
        if index >= 0 and cards[index][1] >= match.end():
            continue
        if _SSN.fullmatch(value) or (strict and not _plausible_phone(value)):
            continue
        found.add(PHONE, value, match.start())
    return list(found.kinds.values())


def find_personal_data(text: str) -> dict[str, list[str]]:
    """Kind -> distinct values found, in first-seen order."""
    return {entry.kind: entry.values for entry in scan_personal_data(text)}

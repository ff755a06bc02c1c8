"""Personal data in text that should never be stored: emails, SSN-like numbers, phone
numbers and payment card numbers (Luhn-checked so order ids and hashes don't count)."""

from __future__ import annotations

import re

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*"
    r"\.[A-Za-z]{2,24}(?![\w-])"
)
# Documentation domains and package metadata addresses are not anyone's personal data.
_NOT_PERSONAL_EMAIL = re.compile(
    r"@(?:example\.(?:com|org|net)|localhost|users\.noreply\.github\.com)$|^(?:noreply|no-reply)@",
    re.I,
)
_SSN = re.compile(r"(?<![\d-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\d-])")
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\d-])"
)
_CARD = re.compile(r"(?<![\d.])(?:\d[ -]?){12,18}\d(?![\d.])")


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


def _card_like(candidate: str) -> bool:
    digits = re.sub(r"[ -]", "", candidate)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    # Issuer prefixes: Visa, Mastercard, Amex, Discover, JCB, Diners.
    if not re.match(r"^(4|5[1-5]|2[2-7]|3[47]|6011|65|35|30[0-5]|36|38)", digits):
        return False
    return luhn_valid(digits)


def find_personal_data(text: str) -> dict[str, list[str]]:
    """Kind -> distinct values found, in first-seen order."""
    found: dict[str, list[str]] = {}

    def add(kind: str, value: str) -> None:
        values = found.setdefault(kind, [])
        if value not in values:
            values.append(value)

    for match in _EMAIL.finditer(text):
        if not _NOT_PERSONAL_EMAIL.search(match.group(0)):
            add("email address(es)", match.group(0))
    for match in _SSN.finditer(text):
        add("SSN-like number(s)", match.group(0))
    cards = set()
    for match in _CARD.finditer(text):
        if _card_like(match.group(0)):
            add("payment card number(s)", match.group(0))
            cards.add(match.group(0))
    for match in _PHONE.finditer(text):
        value = match.group(0)
        if not any(value in card for card in cards) and not _SSN.fullmatch(value):
            add("phone number(s)", value)
    return found

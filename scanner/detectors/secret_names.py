"""What makes a name (a variable, an environment variable, an attribute) credential-like.

One pair of patterns for every detector: ``SECRET_NAME`` finds the words that mark a
credential, ``NOT_SECRET_NAME`` the shapes of names that merely point at one (an id, a path,
a file, a version, a flag). Environment variables also count a bare ``KEY`` word
(``STRIPE_KEY``); resource attributes do not, since there ``key`` is an object key, a hash
key or a key id.
"""

from __future__ import annotations

import re

SECRET_WORDS = (
    r"token|secret|passw(?:or)?d|passphrase|pwd|credential|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|client[_-]?secret|auth[_-]?key|sas[_-]?key|connection[_-]?string"
)
SECRET_NAME = re.compile(SECRET_WORDS, re.I)
NOT_SECRET_NAME = re.compile(
    r"public|(?:^|_)pub(?:$|_)|gpg|fingerprint|keyring|keyserver|key_?id$|_arn$|_ids?$|_name$"
    r"|_version$|_enabled$|_rotation$|_length$|_lifetime$|_ttl$|_type$|_path$|_file$|_dir$"
    r"|_count$|_policy$|_prefix$|_url$|_uri$|_location$|_key_vault$|_header$|_expiry$"
    r"|^(?:enable|use)_",
    re.I,
)
_KEY_WORD = re.compile(r"(?:^|_)key(?:$|_)", re.I)


def secret_name(name: str, *, key_word: bool = False) -> bool:
    """Whether ``name`` says it holds a credential (``key_word``: a bare KEY counts too)."""
    marked = SECRET_NAME.search(name) or (key_word and _KEY_WORD.search(name))
    return bool(marked) and not NOT_SECRET_NAME.search(name.replace("-", "_"))

"""Password policy (GB/T 22239 level 3) and argon2id hashing."""

from __future__ import annotations

import itertools
import re
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from kepu_common.errors import InvalidArgument

MIN_LENGTH = 10
MAX_LENGTH = 128
HISTORY = 5
MAX_FAILURES = 5
LOCK_MINUTES = 15

# The four character classes; a password needs at least three of them. One regular expression
# (lookaheads only, the same syntax in Python's ``re`` and Java's ``Pattern``) serves both this
# module and Keycloak's ``regexPattern`` password policy, so the two cannot drift.
CHARACTER_CLASSES = ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]")
THREE_OF_FOUR_CLASSES = (
    "(?s)(?:"
    + "|".join(
        "".join(f"(?=.*{c})" for c in combo)
        for combo in itertools.combinations(CHARACTER_CLASSES, 3)
    )
    + ").*"
)
_THREE_OF_FOUR = re.compile(THREE_OF_FOUR_CLASSES)  # used with fullmatch, as Java's matches()

# argon2id with OWASP's minimum (19 MiB, t=2): ~20 ms here, so a province's
# 2,600 accounts hash in under a minute.
_hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def classes(password: str) -> int:
    """How many of ``CHARACTER_CLASSES`` occur in ``password``."""
    return sum(re.search(c, password) is not None for c in CHARACTER_CLASSES)


def check_policy(password: str, username: str) -> None:
    """Raise InvalidArgument with a Chinese explanation when ``password`` breaks the policy."""
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"密码长度至少 {MIN_LENGTH} 位。")
    if len(password) > MAX_LENGTH:
        raise InvalidArgument(f"密码长度不能超过 {MAX_LENGTH} 位。")
    if not _THREE_OF_FOUR.fullmatch(password):
        raise InvalidArgument("密码须包含大写字母、小写字母、数字、特殊字符中的至少三类。")
    if password.lower() == username.lower():
        raise InvalidArgument("密码不能与用户名相同。")


def generate_initial_password() -> str:
    """A random password that meets the policy, without look-alike characters."""
    lower = "abcdefghjkmnpqrstuvwxyz"
    upper = "ABCDEFGHJKMNPQRSTUVWXYZ"
    digits = "23456789"
    symbols = "@#%+=?"
    alphabet = lower + upper + digits + symbols
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(12))
        if classes(pw) == 4 and pw[0] in string.ascii_letters:
            return pw

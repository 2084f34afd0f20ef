"""Password policy (GB/T 22239 level 3) and argon2id hashing."""

from __future__ import annotations

import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from kepu_common.errors import InvalidArgument

MIN_LENGTH = 10
HISTORY = 5
MAX_FAILURES = 5
LOCK_MINUTES = 15

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
    return sum(
        any(pred(c) for c in password)
        for pred in (str.islower, str.isupper, str.isdigit, lambda c: not c.isalnum())
    )


def check_policy(password: str, username: str) -> None:
    """Raise InvalidArgument with a Chinese explanation when ``password`` breaks the policy."""
    if len(password) < MIN_LENGTH:
        raise InvalidArgument(f"密码长度至少 {MIN_LENGTH} 位。")
    if len(password) > 128:
        raise InvalidArgument("密码长度不能超过 128 位。")
    if classes(password) < 3:
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

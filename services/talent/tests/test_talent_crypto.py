"""Personal data sealing with versioned keys and keyed hashes (no database)."""

import base64
import os

import pytest
from kepu_talent.crypto import KeyRing


def key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_old_versions_still_open_after_rotation():
    k1, k2, h = key(), key(), key()
    old = KeyRing.from_config(f"1:{k1}", h)
    sealed = old.seal("13812345678", "talent:a:phone")
    rotated = KeyRing.from_config(f"1:{k1},2:{k2}", h)
    assert rotated.open(sealed, "talent:a:phone") == "13812345678"
    assert rotated.key_version(rotated.seal("x", "c")) == 2


def test_a_ciphertext_moved_to_another_record_does_not_open():
    ring = KeyRing.from_config(f"1:{key()}", key())
    sealed = ring.seal("13812345678", "talent:a:phone")
    assert b"13812345678" not in sealed
    with pytest.raises(ValueError, match="does not belong"):
        ring.open(sealed, "talent:b:phone")


def test_fingerprints_are_keyed():
    a = KeyRing.from_config(f"1:{key()}", key())
    b = KeyRing.from_config(f"1:{key()}", key())
    assert a.fingerprint("np", "张伟|13812345678") == a.fingerprint("np", "张伟|13812345678")
    assert a.fingerprint("np", "张伟|13812345678") != b.fingerprint("np", "张伟|13812345678")

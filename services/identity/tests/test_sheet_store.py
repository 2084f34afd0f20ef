"""Where the install Job keeps the credential sheet: create, or on 409 read and patch."""

from __future__ import annotations

import pytest
from kepu_identity.sheet_store import (
    BATCH_ANNOTATION,
    DirectorySecretStore,
    SecretExists,
    store_sheet,
)

FILES = {"credentials.xlsx": b"sheet", "slips.docx": b"slips"}


class RecordingStore:
    """A SecretStore that keeps Secrets in a dict and records the calls made to it."""

    def __init__(self, existing: dict[str, dict[str, str]] | None = None) -> None:
        self.annotations_of = dict(existing or {})
        self.files_of: dict[str, dict[str, bytes]] = {}
        self.calls: list[str] = []

    def create(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        self.calls.append("create")
        if name in self.annotations_of:
            raise SecretExists(name)
        self.annotations_of[name], self.files_of[name] = annotations, files

    def annotations(self, name: str) -> dict[str, str]:
        self.calls.append("get")
        return self.annotations_of[name]

    def patch(self, name: str, files: dict[str, bytes], annotations: dict[str, str]) -> None:
        self.calls.append("patch")
        self.annotations_of[name] = {**self.annotations_of[name], **annotations}
        self.files_of[name] = files


def test_a_first_run_creates_the_secret() -> None:
    store = RecordingStore()
    assert store_sheet(store, "kepu-credential-sheet", FILES, "b1") == "created"
    assert store.calls == ["create"]
    assert store.annotations_of["kepu-credential-sheet"] == {BATCH_ANNOTATION: "b1"}


def test_an_existing_secret_of_another_batch_is_read_then_patched() -> None:
    store = RecordingStore({"kepu-credential-sheet": {BATCH_ANNOTATION: "b0", "keep": "me"}})
    assert store_sheet(store, "kepu-credential-sheet", FILES, "b1") == "patched"
    assert store.calls == ["create", "get", "patch"]  # the verbs the chart's Role allows
    assert store.annotations_of["kepu-credential-sheet"] == {BATCH_ANNOTATION: "b1", "keep": "me"}
    assert store.files_of["kepu-credential-sheet"] == FILES


def test_a_rerun_of_the_same_batch_leaves_the_secret_alone() -> None:
    store = RecordingStore({"kepu-credential-sheet": {BATCH_ANNOTATION: "b1"}})
    assert store_sheet(store, "kepu-credential-sheet", FILES, "b1") == "unchanged"
    assert store.calls == ["create", "get"]


def test_a_folder_store_behaves_like_the_api(tmp_path) -> None:
    store = DirectorySecretStore(tmp_path)
    assert store_sheet(store, "sheet", FILES, "b1") == "created"
    assert store_sheet(store, "sheet", FILES, "b1") == "unchanged"
    assert store_sheet(store, "sheet", {"credentials.xlsx": b"new"}, "b2") == "patched"
    assert (tmp_path / "sheet" / "credentials.xlsx").read_bytes() == b"new"
    assert (tmp_path / "sheet" / "slips.docx").read_bytes() == b"slips"  # a patch keeps others
    assert store.annotations("sheet") == {BATCH_ANNOTATION: "b2"}
    with pytest.raises(SecretExists):
        store.create("sheet", FILES, {})

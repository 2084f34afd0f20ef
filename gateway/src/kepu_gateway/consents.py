"""Consents 授权 as the public API answers them, from the one message ``kepu.partner.v1.Consent``.

Talent and projects both answer that message, with the subject's id in ``subject_id`` and its
kind in ``subject_type``. The API keeps the answers it always had: a talent's consent names its
``talent_id``, a project's its ``project_id``, and neither carries ``subject_type``; the models
keep their schema names (``TalentConsent``, ``ProjectsListConsentsResponse`` ...), so the
OpenAPI document and the portal's generated types are unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kepu.partner.v1 import consent_pb2 as cpb
from pydantic import create_model

from .messages import ProtoModel, as_dict, model


@dataclass(frozen=True)
class Subject:
    """A kind of subject a consent is given for: its proto type and its key in the API."""

    type: cpb.SubjectType
    key: str  # talent_id | project_id
    schema: str  # the schema names' prefix


TALENT = Subject(cpb.SUBJECT_TYPE_TALENT, "talent_id", "Talent")
PROJECT = Subject(cpb.SUBJECT_TYPE_PROJECT, "project_id", "Projects")


def consent_out(c: cpb.Consent, subject: Subject) -> dict[str, Any]:
    """The consent as the API answers it (``subject_id`` under the subject's key)."""
    body = as_dict(c)
    body.pop("subject_type", None)
    return {subject.key if k == "subject_id" else k: v for k, v in body.items()}


def consents_out(res: cpb.ListConsentsResponse, subject: Subject) -> dict[str, Any]:
    """A page of consents with its total (the tenant-wide list)."""
    return {"consents": [consent_out(c, subject) for c in res.consents], "total": res.total}


def _consent_model(subject: Subject) -> type[ProtoModel]:
    fields: dict[str, Any] = {}
    for name, info in model(cpb.Consent).model_fields.items():
        if name != "subject_type":
            fields[subject.key if name == "subject_id" else name] = (info.annotation, ...)
    return create_model(
        f"{subject.schema}Consent", __base__=ProtoModel, __module__=__name__, **fields
    )


def _list_model(subject: Subject, consent: type[ProtoModel]) -> type[ProtoModel]:
    return create_model(
        f"{subject.schema}ListConsentsResponse",
        __base__=ProtoModel,
        __module__=__name__,
        consents=(list[consent], ...),  # type: ignore[valid-type]
        total=(int, ...),
    )


TalentConsent = _consent_model(TALENT)
ProjectConsent = _consent_model(PROJECT)
TalentConsents = _list_model(TALENT, TalentConsent)
ProjectConsents = _list_model(PROJECT, ProjectConsent)

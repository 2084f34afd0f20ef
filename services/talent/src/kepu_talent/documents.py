"""Files of the talent pool: the 汇总表 export (and its empty template) and the filled
推荐表 .docx; use cases, session first. The import is a job: ``imports.py``."""

from __future__ import annotations

from kepu_common.errors import InvalidArgument
from kepu_common.tenancy import Principal
from sqlalchemy.orm import Session

from . import domain, personal, repository, xlsx
from .docx import DOCX_TYPE, FormData, render_form
from .service import TalentService


class Documents:
    def __init__(self, talents: TalentService) -> None:
        self.talents = talents

    # --- export and the 推荐表 ----------------------------------------------------------

    def export(
        self,
        s: Session,
        principal: Principal,
        tenant_id: str = "",
        layout: str = "",
        status: str = "",
        reveal: bool = False,
        template: bool = False,
    ) -> tuple[str, bytes]:
        """The 汇总表 of a subtree, or with ``template`` the same sheet without rows (the form
        an import is filled in on)."""
        if layout and layout not in xlsx.LAYOUTS:
            raise InvalidArgument("版式应为 county（附表4）或 society（附表5）。")
        if status and status not in {s.value for s in domain.Status}:
            raise InvalidArgument(f"状态“{status}”不正确。")
        root = self.talents.resolve_tenant(s, principal, tenant_id)
        rows = [] if template else repository.talents_for_export(s, root.path, status)
        if reveal and rows:
            personal.audit_reveal(s, principal, list(rows), ("phone",), export_root=root.path)
        labels = root.path.split(".")
        city = repository.tenant_by_path(s, ".".join(labels[:2])) if len(labels) >= 2 else None
        data = []
        for r in rows:
            phone = (
                personal.open_personal(self.talents.keys, r)["phone"] if reveal else r.phone_masked
            )
            data.append(
                {
                    "categories": list(r.categories),
                    "name": r.name,
                    "gender": r.gender,
                    "employer": r.employer,
                    "position": r.position,
                    "phone": phone,
                    "industry": r.industry,
                    "specialty": r.specialty,
                    "plan": r.plan,
                }
            )
        chosen = layout or ("society" if root.kind == "society" else "county")
        city_name = city.name if city is not None and city.kind == "city" else ""
        content = xlsx.write_summary(data, layout=chosen, city_name=city_name, unit_name=root.name)
        code = root.path.split(".")[-1]
        return f"talents-{code}-{xlsx.LAYOUTS[chosen]}.xlsx", content

    def form(self, s: Session, principal: Principal, talent_id: str) -> tuple[str, bytes]:
        """The filled 推荐表; full contact data for admins and reviewers (audit-logged)."""
        row = self.talents.load(s, principal, talent_id)
        reveal = domain.can_reveal(principal)
        if reveal:
            personal.audit_reveal(s, principal, [row])
        v = self.talents.view(s, principal, row, reveal=reveal)
        data = FormData(
            fields=v["fields"],
            age=str(v["age"] or ""),
            recommend_opinion=v["recommend_opinion"],
            city_opinion=v["city_opinion"],
            certificate_no=v["certificate_no"],
        )
        return f"推荐表-{row.name}.docx", render_form(data)


__all__ = ["DOCX_TYPE", "Documents"]

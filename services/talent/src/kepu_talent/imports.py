"""The 汇总表 import as a job (with progress): the file is parsed and the job row committed
in the call, then the rows are validated and written while the caller may poll ``GetImport``
(or in the background with ``wait=False``). A job outlives its call, so ``ImportJobs`` owns
its units of work the way a consumer does: one for the job row, one per progress update and
one that writes the talents with their event. The session-first use case is ``get_import``."""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from kepu.talent.v1 import talent_pb2
from kepu_common import metrics
from kepu_common.db import Database, Scope
from kepu_common.errors import InvalidArgument, NotFound
from kepu_common.tenancy import Principal
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import events, fields, personal, repository, xlsx
from .service import Owner, TalentService, iso, parse_id

log = logging.getLogger(__name__)

MODES = ("all_or_nothing", "valid_only")
MAX_STORED_ERRORS = 1000
PROGRESS_EVERY = 2000


def job_view(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "status": row.status,
        "layout": row.layout,
        "mode": row.mode,
        "total": row.total,
        "processed": row.processed,
        "inserted": row.inserted,
        "error_count": row.error_count,
        "errors": list(row.errors or []),
        "message": row.message,
        "created_at": iso(row.created_at),
        "finished_at": iso(row.finished_at),
        "filename": row.filename,
    }


def get_import(s: Session, principal: Principal, import_id: str) -> dict[str, Any]:
    row = repository.get_import(s, principal.tenant_path, parse_id(import_id, "导入任务"))
    if row is None:
        raise NotFound("导入任务不存在或不在您的管辖范围内。")
    return job_view(row)


class ImportJobs:
    def __init__(self, db: Database, talents: TalentService) -> None:
        self.db = db
        self.talents = talents
        self.settings = talents.settings
        self._executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="talent-import")

    def uow(self, principal: Principal) -> Any:
        return self.db.unit_of_work(Scope.tenant(principal.tenant_path))

    def start_import(
        self,
        principal: Principal,
        content: bytes,
        filename: str,
        mode: str = "",
        tenant_id: str = "",
        wait: bool = True,
    ) -> dict[str, Any]:
        """Parse the file now (a bad file is a 422), then validate and write as a job."""
        mode = mode or "all_or_nothing"
        if mode not in MODES:
            raise InvalidArgument(
                "导入方式应为 all_or_nothing（全部正确才导入）或 valid_only（只导入正确的行）。"
            )
        if filename and not filename.lower().endswith(".xlsx"):
            raise InvalidArgument("文件类型不正确：请上传.xlsx格式的汇总表。")
        with self.uow(principal) as s:
            owner = self.talents.owner_for_write(s, principal, tenant_id)
        sheet = xlsx.read_summary(
            content,
            max_rows=self.settings.import_max_rows,
            max_bytes=self.settings.import_max_bytes,
        )
        job_id = str(uuid.uuid4())
        with self.uow(principal) as s:
            repository.insert_import(
                s,
                {
                    "id": job_id,
                    "tenant_id": owner.id,
                    "tenant_path": owner.path,
                    "filename": (filename or "")[:200],
                    "layout": sheet.layout,
                    "mode": mode,
                    "status": "validating",
                    "total": len(sheet.rows),
                    "processed": 0,
                    "inserted": 0,
                    "error_count": 0,
                    "errors": [],
                    "message": "",
                    "created_by": principal.subject,
                },
            )
        if wait:
            with metrics.timed(metrics.import_duration, kind="talents"):
                self.run_import(principal, owner, job_id, sheet, mode)
        else:
            self._executor.submit(self._run_safely, principal, owner, job_id, sheet, mode)
        with self.uow(principal) as s:
            return get_import(s, principal, job_id)

    def _progress(self, principal: Principal, job_id: str, **values: Any) -> None:
        with self.uow(principal) as s:
            repository.update_import(s, job_id, values)

    def _run_safely(self, *args: Any) -> None:
        principal, _owner, job_id = args[0], args[1], args[2]
        try:
            with metrics.timed(metrics.import_duration, kind="talents"):
                self.run_import(*args)
        except Exception:
            log.exception("import %s failed", job_id)
            self._progress(
                principal,
                job_id,
                status="failed",
                message="导入过程中发生内部错误，未写入任何数据。",
                finished_at=datetime.now(UTC),
            )

    def run_import(
        self, principal: Principal, owner: Owner, job_id: str, sheet: xlsx.SummarySheet, mode: str
    ) -> None:
        province = owner.path.split(".")[0]
        errors: list[xlsx.CellError] = list(sheet.cell_errors)
        bad_rows = {e.row for e in errors}
        good: list[tuple[int, dict[str, Any]]] = []
        first_row_of: dict[str, int] = {}
        for index, (row_number, raw) in enumerate(sheet.rows, start=1):
            record, problems = fields.clean_record(raw)
            for p in problems:
                errors.append(
                    xlsx.CellError(
                        row_number,
                        xlsx.FIELD_COLUMN.get(p.field, ""),
                        xlsx.FIELD_HEADER.get(p.field, p.field),
                        p.message,
                    )
                )
            if record is not None and row_number not in bad_rows:
                talent_id = str(uuid.uuid4())
                cols = personal.sealed_columns(self.talents.keys, talent_id, record)
                earlier = first_row_of.get(cols["name_phone_hash"])
                if earlier is not None:
                    errors.append(
                        xlsx.CellError(
                            row_number,
                            xlsx.FIELD_COLUMN["name"],
                            "姓名",
                            f"与第{earlier}行重复（姓名和联系电话相同）",
                        )
                    )
                else:
                    first_row_of[cols["name_phone_hash"]] = row_number
                    values = personal.plain_values(record)
                    good.append(
                        (
                            row_number,
                            {
                                **values,
                                **cols,
                                "id": talent_id,
                                "tenant_id": owner.id,
                                "tenant_path": owner.path,
                                "province": province,
                                "status": "draft",
                                "source": "import",
                                "import_id": job_id,
                                "created_by": principal.subject,
                            },
                        )
                    )
            if index % PROGRESS_EVERY == 0:
                self._progress(principal, job_id, processed=index)
        with self.uow(principal) as s:
            _ids, taken = repository.existing_fingerprints(
                s, province, [], [v["name_phone_hash"] for _, v in good]
            )
        if taken:
            for row_number, v in good:
                if v["name_phone_hash"] in taken:
                    errors.append(
                        xlsx.CellError(
                            row_number,
                            xlsx.FIELD_COLUMN["name"],
                            "姓名",
                            "全省已有姓名和联系电话都相同的科普人才记录",
                        )
                    )
            good = [(n, v) for n, v in good if v["name_phone_hash"] not in taken]
        errors.sort(key=lambda e: (e.row, e.column))
        names = {row_number: str(raw.get("name") or "") for row_number, raw in sheet.rows}
        stored = [
            {
                "row": e.row,
                "column": e.column,
                "field": e.field,
                "message": e.message,
                "name": names.get(e.row, ""),  # whose row: the clerk finds it by the name
            }
            for e in errors[:MAX_STORED_ERRORS]
        ]
        finished = datetime.now(UTC)
        if errors and (mode == "all_or_nothing" or not good):
            invalid = len({e.row for e in errors})
            self._progress(
                principal,
                job_id,
                status="failed",
                processed=len(sheet.rows),
                error_count=len(errors),
                errors=stored,
                finished_at=finished,
                message=f"共{len(sheet.rows)}行，其中{invalid}行有错误，未导入任何数据。",
            )
            return
        self._progress(principal, job_id, status="writing", processed=len(sheet.rows))
        try:
            with self.uow(principal) as s:
                repository.insert_talents(s, [v for _, v in good])
                s.flush()
                events.record(
                    s,
                    principal,
                    owner.id,
                    owner.path,
                    "talent.imported",
                    talent_pb2.TalentsImported(
                        import_id=job_id,
                        tenant_id=owner.id,
                        tenant_path=owner.path,
                        inserted=len(good),
                        layout=sheet.layout,
                    ),
                )
                status = "partial" if errors else "succeeded"
                message = f"已导入{len(good)}名科普人才（草稿）。"
                if errors:
                    message += f"另有{len({e.row for e in errors})}行有错误，未导入。"
                repository.update_import(
                    s,
                    job_id,
                    {
                        "status": status,
                        "inserted": len(good),
                        "error_count": len(errors),
                        "errors": stored,
                        "message": message,
                        "finished_at": datetime.now(UTC),
                    },
                )
        except IntegrityError:
            self._progress(
                principal,
                job_id,
                status="failed",
                finished_at=datetime.now(UTC),
                message="导入时发现与全省已有记录重复（可能有人同时录入），未导入任何数据，请重试。",
            )

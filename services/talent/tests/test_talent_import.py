"""Import and export of the 汇总表 (附表4/附表5), the 推荐表 .docx, the electronic archive."""

import datetime as dt
import io

import openpyxl
import pytest
from docx import Document
from kepu_common.db import Scope
from kepu_common.errors import InvalidArgument, NotFound, PermissionDenied
from kepu_talent.xlsx import HEADERS, TITLE, SheetRejected
from sqlalchemy import text
from talent_support import LONGTING, NANYANG, PROVINCE, WOLONG, fresh_phone, record, who


def sheet(rows, *, headers=HEADERS, subtitle="南阳 市  卧龙区 县（区）科协") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([TITLE])
    ws.append([subtitle])
    ws.append(list(headers))
    for i, row in enumerate(rows, start=1):
        ws.append([i, *row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def good_row(name="王芳", phone=None):
    return [
        "青少年科普、社区科普",
        name,
        "女",
        "卧龙区第一中学",
        "教师",
        phone or fresh_phone(),
        "教育",
        "天文科普",
        "开展校园天文观测活动",
    ]


def count_of(database, import_id):
    with database.unit_of_work(Scope.system_scope()) as s:
        return s.execute(
            text("SELECT count(*) FROM talents WHERE import_id = :i"), {"i": import_id}
        ).scalar()


def test_a_valid_sheet_is_imported_as_drafts(app, database):
    job = app.documents.start_import(
        who(WOLONG), sheet([good_row(), good_row("刘洋")]), "汇总表.xlsx"
    )
    assert (job["status"], job["inserted"], job["layout"]) == ("succeeded", 2, "county")
    assert count_of(database, job["id"]) == 2
    found = app.talents.search(who(WOLONG), q="刘洋")["talents"][0]
    assert found["source"] == "import" and found["fields"]["categories"] == [
        "青少年科普",
        "社区科普",
    ]


def test_mixed_rows_write_nothing_and_report_row_column_and_message(app, database):
    phone = fresh_phone()
    rows = [
        good_row(),
        ["太空科普", "赵强", "男", "某单位", "", fresh_phone(), "", "", ""],  # bad category
        ["农村科普", "钱多", "男", "某单位", "", "１３８１２３４", "", "", ""],  # short phone
        ["农村科普", "孙丽", "女", "某单位", "", phone, "", "", ""],
        ["农村科普", "孙丽", "女", "某单位", "", phone, "", "", ""],  # duplicate in the file
        ["农村科普", "周杰", "男", "某单位", "", dt.datetime(2020, 1, 1), "", "", ""],  # a date
        ["农村科普", "=A1&B1", "男", "某单位", "", fresh_phone(), "", "", ""],  # a formula
    ]
    job = app.documents.start_import(who(WOLONG), sheet(rows), "汇总表.xlsx")
    assert job["status"] == "failed" and job["inserted"] == 0
    assert count_of(database, job["id"]) == 0
    located = {(e["row"], e["column"]) for e in job["errors"]}
    assert {(5, "B"), (6, "G"), (8, "C"), (9, "G"), (10, "C")} <= located
    dup = next(e for e in job["errors"] if e["row"] == 8)
    assert "第7行" in dup["message"]
    assert all(e["message"] for e in job["errors"])
    # each error names the row's person, so the clerk finds the row without counting
    named = {e["row"]: e["name"] for e in job["errors"]}
    assert (named[5], named[6], named[8]) == ("赵强", "钱多", "孙丽")


def test_valid_only_mode_imports_the_good_rows(app, database):
    rows = [
        good_row(),
        ["农村科普", "吴刚", "不详", "某单位", "", fresh_phone(), "", "", ""],
        good_row("郑爽"),
    ]
    job = app.documents.start_import(who(WOLONG), sheet(rows), "a.xlsx", mode="valid_only")
    assert (job["status"], job["inserted"], job["error_count"]) == ("partial", 2, 1)
    assert job["errors"][0]["row"] == 5 and job["errors"][0]["column"] == "D"
    assert count_of(database, job["id"]) == 2


def test_a_duplicate_against_the_province_is_reported(app):
    phone = fresh_phone()
    app.talents.create(who(LONGTING), record(name="冯硕", phone=phone))
    job = app.documents.start_import(who(WOLONG), sheet([good_row("冯硕", phone)]), "a.xlsx")
    assert job["status"] == "failed"
    assert "全省" in job["errors"][0]["message"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,phone\n", "文件类型不正确"),
        (b"PK\x03\x04broken", "已损坏"),
        (b"", "为空"),
    ],
)
def test_files_that_are_not_xlsx_are_rejected_whole(app, content, message):
    with pytest.raises(SheetRejected, match=message):
        app.documents.start_import(who(WOLONG), content, "a.xlsx")


def test_a_sheet_with_wrong_columns_is_rejected(app):
    headers = list(HEADERS)
    headers[2], headers[3] = headers[3], headers[2]
    with pytest.raises(SheetRejected, match="第C列应为“姓名”") as caught:
        app.documents.start_import(who(WOLONG), sheet([good_row()], headers=headers), "a.xlsx")
    assert caught.value.errors[0].row == 3


def test_too_many_rows_are_rejected_before_anything_is_written(app, database):
    app.settings.import_max_rows, limit = 5, app.settings.import_max_rows
    try:
        with pytest.raises(SheetRejected, match="上限"):
            app.documents.start_import(who(WOLONG), sheet([good_row() for _ in range(6)]), "a.xlsx")
    finally:
        app.settings.import_max_rows = limit


def test_an_asynchronous_import_exposes_progress(app):
    job = app.documents.start_import(
        who(WOLONG), sheet([good_row() for _ in range(30)]), "a.xlsx", wait=False
    )
    assert job["total"] == 30
    import time

    for _ in range(100):
        job = app.documents.get_import(who(WOLONG), job["id"])
        if job["status"] in ("succeeded", "failed", "partial"):
            break
        time.sleep(0.05)
    assert (job["status"], job["processed"], job["inserted"]) == ("succeeded", 30, 30)
    with pytest.raises(NotFound):
        app.documents.get_import(who(LONGTING), job["id"])


def test_an_import_whose_process_died_is_reported_as_failed_not_stuck(app, database):
    from kepu_talent import repository

    job = app.documents.start_import(who(WOLONG), sheet([good_row()]), "a.xlsx")
    with database.unit_of_work(Scope.system_scope()) as s:  # as if the service died mid-import
        s.execute(
            text(
                "UPDATE talent_imports SET status = 'writing', finished_at = NULL,"
                " created_at = now() - interval '2 hours' WHERE id = CAST(:i AS uuid)"
            ),
            {"i": job["id"]},
        )
        fresh = app.documents.start_import(who(WOLONG), sheet([good_row()]), "b.xlsx")["id"]
        s.execute(
            text("UPDATE talent_imports SET status = 'writing' WHERE id = CAST(:i AS uuid)"),
            {"i": fresh},
        )
    with database.unit_of_work(Scope.system_scope()) as s:
        assert repository.fail_stale_imports(s) >= 1
    seen = app.documents.get_import(who(WOLONG), job["id"])
    assert seen["status"] == "failed" and "重新导入" in seen["message"]
    assert app.documents.get_import(who(WOLONG), fresh)["status"] == "writing"  # a live one is left


def test_a_society_sheet_is_recognised(app):
    job = app.documents.start_import(
        who(WOLONG), sheet([good_row()], subtitle="南阳 市  农学会 学会"), "a.xlsx"
    )
    assert job["layout"] == "society"


def test_export_of_a_subtree_in_the_official_layout(app):
    app.talents.create(who(WOLONG), record(name="导出测试"))
    app.talents.create(who(LONGTING), record(name="开封不导出"))
    name, content = app.documents.export(who(NANYANG))
    wb = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][0] == TITLE and "南阳" in rows[1][0]
    assert tuple(rows[2]) == HEADERS
    names = [r[2] for r in rows[3:]]
    assert "导出测试" in names and "开封不导出" not in names
    assert all("****" in r[6] for r in rows[3:])
    # the export round-trips through the import's parser
    from kepu_talent.xlsx import read_summary

    assert len(read_summary(content, max_rows=100000, max_bytes=10**9).rows) == len(rows) - 3


def test_export_with_full_phones_is_audited(app, database):
    phone = fresh_phone()
    app.talents.create(who(WOLONG), record(name="全号导出", phone=phone))
    _, content = app.documents.export(who(WOLONG), reveal=True)
    assert phone.encode() not in content  # zipped, so look inside
    rows = list(openpyxl.load_workbook(io.BytesIO(content)).active.iter_rows(values_only=True))
    assert phone in [r[6] for r in rows]
    with pytest.raises(PermissionDenied):
        app.documents.export(who(WOLONG, "viewer"), reveal=True)


def test_the_recommendation_form_docx(app):
    t = app.talents.create(who(WOLONG), record(name="表格测试", categories=["科普创作"]))
    app.talents.recommend(who(WOLONG), t["id"], "该同志热心科普，同意推荐。")
    name, content = app.documents.form(who(WOLONG), t["id"])
    doc = Document(io.BytesIO(content))
    body = "\n".join(c.text for table in doc.tables for row in table.rows for c in row.cells)
    assert "表格测试" in body and "■科普创作" in body and "□农村科普" in body
    assert "该同志热心科普，同意推荐。" in body
    assert "推 荐 表" in "\n".join(p.text for p in doc.paragraphs)
    with pytest.raises(NotFound):
        app.documents.form(who(LONGTING), t["id"])


def test_the_electronic_archive(app):
    t = app.talents.create(who(WOLONG), record())
    entry = app.archive.add_entry(
        who(WOLONG), t["id"], "training", "科学传播技能培训", "2026-03-01", 8, ""
    )
    assert entry["kind"] == "training" and entry["hours"] == 8
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    att = app.archive.upload(who(WOLONG), t["id"], "活动照片.png", png)
    assert att["content_type"] == "image/png" and att["size"] == len(png)
    meta, data = app.archive.download(who(NANYANG), t["id"], att["id"])
    assert data == png
    with pytest.raises(InvalidArgument, match="不支持"):
        app.archive.upload(who(WOLONG), t["id"], "virus.exe", b"MZ...")
    with pytest.raises(InvalidArgument, match="不符"):
        app.archive.upload(who(WOLONG), t["id"], "fake.png", b"not a png")
    with pytest.raises(PermissionDenied):
        app.archive.add_entry(who(NANYANG), t["id"], "activity", "越权", "", 0, "")
    with pytest.raises(NotFound):
        app.archive.get(who(PROVINCE + ".410200"), t["id"])
    assert len(app.archive.get(who(PROVINCE), t["id"])["attachments"]) == 1

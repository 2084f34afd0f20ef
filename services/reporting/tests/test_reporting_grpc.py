"""The gRPC servicer end to end over a real channel: tokens, status codes with Chinese
details, the .docx, and the outbox relayed to the real broker."""

import io
import time

import grpc
import pytest
from docx import Document
from google.protobuf import struct_pb2
from kafka import KafkaConsumer, TopicPartition
from kepu.events.v1 import envelope_pb2
from kepu.reporting.v1 import reporting_pb2 as pb
from kepu.reporting.v1 import reporting_pb2_grpc
from kepu_common.grpcio import channel, make_server, metadata
from kepu_common.outbox import OutboxRelay
from kepu_devstack.tokens import TestIssuer
from kepu_reporting import repository
from kepu_reporting.clock import FixedClock
from kepu_reporting.grpc_api import ReportingServicer
from reporting_testkit import sh, system


@pytest.fixture(scope="module")
def issuer():
    return TestIssuer()


@pytest.fixture(scope="module")
def grpc_clock():
    return FixedClock(sh(2026, 11, 2, 10))


@pytest.fixture(scope="module")
def stub(db, tree, issuer, grpc_clock):
    server, port = make_server(0)
    reporting_pb2_grpc.add_ReportingServiceServicer_to_server(
        ReportingServicer(issuer.verifier(), db, grpc_clock), server
    )
    server.start()
    ch = channel(f"127.0.0.1:{port}")
    yield reporting_pb2_grpc.ReportingServiceStub(ch)
    ch.close()
    server.stop(0)


def md(issuer, node, roles=("admin",)):
    return metadata(
        issuer.token(
            tenant_id=node.id,
            tenant_path=node.path,
            tenant_kind=node.kind,
            roles=roles,
            username=f"admin{node.code}",
        )
    )


def values(**kw):
    st = struct_pb2.Struct()
    st.update(kw)
    return st


def test_without_a_token_the_call_is_unauthenticated(stub):
    with pytest.raises(grpc.RpcError) as err:
        stub.ListReportTypes(pb.ListReportTypesRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "令牌" in err.value.details()


def test_builtin_types_are_listed(stub, issuer, tree):
    types = stub.ListReportTypes(
        pb.ListReportTypesRequest(), metadata=md(issuer, tree["411303001"])
    )
    assert {"monthly_brief", "quarterly_progress", "annual_plan", "annual_summary"} <= {
        t.code for t in types.types
    }


def test_bad_input_maps_to_invalid_argument_with_a_chinese_detail(stub, issuer, tree):
    m = md(issuer, tree["411303001"])
    for period, vals, needle in [
        ("2026-13", {}, "报告期"),
        ("2026Q5", {}, "报告期"),
        ("2026-10", {"trainees": -1}, "不能为负数"),
        ("2026-10", {"trainees": "很多"}, "必须填写数字"),
    ]:
        with pytest.raises(grpc.RpcError) as err:
            stub.SaveDraft(
                pb.SaveDraftRequest(
                    type_code="monthly_brief", period=period, values=values(**vals)
                ),
                metadata=m,
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert needle in err.value.details()
    with pytest.raises(grpc.RpcError) as err:
        stub.GetReport(
            pb.GetReportRequest(
                type_code="monthly_brief", period="2026-10", tenant_id="not-a-uuid"
            ),
            metadata=m,
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_submit_review_and_the_docx_over_grpc(stub, issuer, tree, grpc_clock):
    t1, wolong = tree["411303001"], tree["411303"]
    rep = stub.Submit(
        pb.SubmitRequest(
            type_code="monthly_brief",
            period="2026-10",
            values=values(trainees=12, narrative="培训"),
        ),
        metadata=md(issuer, t1),
    )
    assert rep.status == "submitted"
    assert rep.on_time
    assert rep.deadline == "2026-11-03"
    with pytest.raises(grpc.RpcError) as err:  # a sibling cannot accept it
        stub.AcceptReport(
            pb.ReviewRequest(type_code="monthly_brief", period="2026-10", tenant_id=t1.id),
            metadata=md(issuer, tree["411303002"]),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:  # returning needs a reason
        stub.ReturnReport(
            pb.ReviewRequest(type_code="monthly_brief", period="2026-10", tenant_id=t1.id),
            metadata=md(issuer, wolong),
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    ok = stub.AcceptReport(
        pb.ReviewRequest(type_code="monthly_brief", period="2026-10", tenant_id=t1.id),
        metadata=md(issuer, wolong),
    )
    assert ok.status == "accepted"
    with pytest.raises(grpc.RpcError) as err:
        stub.Submit(
            pb.SubmitRequest(type_code="monthly_brief", period="2026-10"), metadata=md(issuer, t1)
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    ov = stub.ChildrenOverview(
        pb.ChildrenRequest(type_code="monthly_brief", period="2026-10"), metadata=md(issuer, wolong)
    )
    assert (ov.expected, ov.submitted, ov.on_time) == (3, 1, 1)
    assert {s.key: s.value for s in ov.sums}["trainees"] == 12

    doc = stub.RenderDocument(
        pb.RenderDocumentRequest(type_code="monthly_brief", period="2026-10"),
        metadata=md(issuer, wolong),
    )
    assert doc.filename.endswith(".docx")
    paragraphs = [p.text for p in Document(io.BytesIO(doc.content)).paragraphs]
    assert any("卧龙区科协" in p and "工作简报" in p for p in paragraphs)


def test_activities_over_grpc(stub, issuer, tree):
    t2 = tree["411303002"]
    a = stub.CreateActivity(
        pb.CreateActivityRequest(
            activity=pb.Activity(
                title="科普影片放映",
                date="2026-10-30",
                place="文化广场",
                form="影片放映",
                target="进社区",
                participants=150,
            )
        ),
        metadata=md(issuer, t2),
    )
    assert a.id
    listed = stub.ListActivities(
        pb.ListActivitiesRequest(period="2026-10"), metadata=md(issuer, t2)
    )
    assert [x.title for x in listed.activities] == ["科普影片放映"]
    sibling = stub.ListActivities(
        pb.ListActivitiesRequest(period="2026-10", subtree=True),
        metadata=md(issuer, tree["411303001"]),
    )
    assert sibling.activities == []
    brief = stub.GetReport(
        pb.GetReportRequest(type_code="monthly_brief", period="2026-10"), metadata=md(issuer, t2)
    )
    assert brief.prefilled
    assert brief.values["participants"] == 150


def test_events_reach_the_broker_through_the_outbox(db, kafka_broker, stub, issuer, tree):
    relay = OutboxRelay(
        db, kafka_broker.bootstrap, name="reporting-test", topics=["reporting.events"]
    )
    relay.check_epoch()
    while relay.publish_batch():
        pass
    consumer = KafkaConsumer(bootstrap_servers=kafka_broker.bootstrap, enable_auto_commit=False)
    parts = consumer.partitions_for_topic("reporting.events") or set()
    consumer.assign([TopicPartition("reporting.events", n) for n in parts])
    consumer.seek_to_beginning()
    types = set()
    deadline = time.monotonic() + 30
    wanted = {
        "reporting.report.submitted",
        "reporting.report.accepted",
        "reporting.activity.recorded",
    }
    while time.monotonic() < deadline and not wanted <= types:
        for records in consumer.poll(timeout_ms=1000).values():
            for record in records:
                env = envelope_pb2.EventEnvelope()
                env.ParseFromString(record.value)
                types.add(env.type)
    consumer.close()
    assert {
        "reporting.report.submitted",
        "reporting.report.accepted",
        "reporting.activity.recorded",
    } <= types


def test_a_viewer_reads_the_units_reminders_but_does_not_mark_them_read(db, stub, issuer, tree):
    node = tree["411303001"]
    with system(db) as s:
        repository.add_notification(
            s, recipient=repository.tenant_by_id_system(s, node.id), kind="overdue",
            type_code="monthly_brief", period="2026-10", subject_tenant_id=node.id,
            title="【逾期通知】", body="请尽快报送。", dedupe_key="test:viewer-read",
        )  # fmt: skip
    listed = stub.ListNotifications(
        pb.ListNotificationsRequest(limit=100), metadata=md(issuer, node, roles=("viewer",))
    ).notifications
    note = next(n for n in listed if n.title == "【逾期通知】")
    with pytest.raises(grpc.RpcError) as err:
        stub.MarkNotificationRead(
            pb.MarkNotificationReadRequest(id=note.id),
            metadata=md(issuer, node, roles=("viewer", "offline_access")),
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED and "查看者" in err.value.details()
    read = stub.MarkNotificationRead(
        pb.MarkNotificationReadRequest(id=note.id), metadata=md(issuer, node)
    )
    assert read.read is True

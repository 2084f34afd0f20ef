"""An assessment allocation (任务指标分配, 附表1) of certified talents is the talent quota the
talent pool shows (issue 10): the allocation event sets the children's quotas, once."""

from kepu.assessment.v1 import assessment_pb2
from kepu_common.consumer import handle_once
from kepu_common.outbox import build_envelope
from kepu_talent import consumers
from talent_support import KAIFENG, LONGTING, NANYANG, PROVINCE, TENANT_IDS, who


def allocation(owner, quotas, metric="talents_certified"):
    return build_envelope(
        event_type="assessment.allocation.set",
        tenant_id=TENANT_IDS[owner],
        tenant_path=owner,
        actor="admin",
        payload=assessment_pb2.AllocationSet(
            scheme_id="s1", year=2026, indicator_code="1", metric=metric, parent_quota=1000,
            quotas=[assessment_pb2.Quota(tenant_id=TENANT_IDS[p], quota=q) for p, q in quotas],
        ),
    )  # fmt: skip


def quota(app, viewer, path):
    return next(c for c in app.talents.stats(who(viewer))["children"] if c["path"] == path)["quota"]


def test_the_allocation_is_the_quota(app, database):
    assert quota(app, PROVINCE, KAIFENG) == 1000  # the default until allocated
    event = allocation(PROVINCE, [(KAIFENG, 1200)])
    assert handle_once(database, consumers.QUOTAS_CONSUMER, event, consumers.on_assessment_event)
    assert not handle_once(
        database, consumers.QUOTAS_CONSUMER, event, consumers.on_assessment_event
    )
    assert quota(app, PROVINCE, KAIFENG) == 1200
    # the city allocates further down; an activities allocation is no talent quota
    handle_once(database, consumers.QUOTAS_CONSUMER, allocation(KAIFENG, [(LONGTING, 130.4)]),
                consumers.on_assessment_event)  # fmt: skip
    handle_once(database, consumers.QUOTAS_CONSUMER,
                allocation(KAIFENG, [(LONGTING, 9)], metric="activities"),
                consumers.on_assessment_event)  # fmt: skip
    assert quota(app, KAIFENG, LONGTING) == 130


def test_an_allocation_cannot_set_the_quota_outside_its_owners_children(app, database):
    before = quota(app, PROVINCE, NANYANG)
    # 开封 cannot set 南阳's quota, nor the province a grandchild's
    for owner, target in ((KAIFENG, NANYANG), (PROVINCE, LONGTING)):
        handle_once(database, consumers.QUOTAS_CONSUMER, allocation(owner, [(target, 5)]),
                    consumers.on_assessment_event)  # fmt: skip
    assert quota(app, PROVINCE, NANYANG) == before
    assert quota(app, KAIFENG, LONGTING) != 5

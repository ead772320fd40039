"""The fault soak, short (bench/soak is the long one; both drive soak.py):
texts at ~100/s from many people while the fake Twilio answers 20 % of the
sends 503 or 429 + Retry-After: 1 and a worker child is killed -9 every
1-2 s; every text must get exactly one reply and every outbox row settle.

Half the kills are aimed (soak.Killer): the fake accepts a send and holds
its answer, and the child waiting for it is killed, so Twilio has the
message and the worker never heard so; random kills alone rarely land in
that millisecond window.

Fixtures: fixtures_path.py (assistant_factory), conftest.py (redis_factory)."""

import pytest

import stack

import soak
from soak import KILL_LOG

REDIS_ERR = stack.REDIS_ERR


def plan(**kw):
    kw = dict(dict(texts=300, people=60, rate=100, kill_every=(1.0, 2.0), kill_for=8.0,
                   aim=0.5, settle=200.0, quiet=3.0, seed=5), **kw)
    return soak.Plan(**kw)


def check(res):
    report = res.report()
    # the soak did what it says (else the figures below mean nothing)
    assert res.accepted == res.plan.texts, report
    assert res.killed >= 2 and res.aimed >= 1, report
    if res.plan.faults:
        assert {201, 503, 429} <= set(res.answers), "the faults did not fire\n" + report
        assert not set(res.answers) - {201, 503, 429, 0}, report
    assert not res.misrouted, report
    # what it checks
    assert res.lost == 0, "replies lost\n" + report
    assert res.duplicated == 0, "replies duplicated\n" + report
    assert res.settled, "not settled\n" + report


@pytest.mark.slow
def test_soak_faults_and_kills(assistant_factory):
    a = assistant_factory()
    a.expect_worker(KILL_LOG)
    res = soak.run(soak.Target.from_path(a), plan())
    check(res)


@pytest.mark.slow
def test_soak_with_redis_and_postgres_restarts(assistant_factory, redis_factory):
    redis = redis_factory(extra_args=["--appendonly", "yes", "--appendfsync", "everysec"])
    a = assistant_factory(redis=redis)
    a.apache.expect(REDIS_ERR)
    a.expect_worker(KILL_LOG, r"(?i)redis|connect|refused|reset|EOF")
    res = soak.run(soak.Target.from_path(a), plan(texts=400, redis_restart=True,
                                                  pg_restart=True))
    assert [o[0] for o in res.outages] == ["Redis", "PostgreSQL"], res.report()
    check(res)

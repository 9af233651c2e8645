"""privacy.selectors: what is held about one person, section by section; nothing of anybody else's."""

from __future__ import annotations

import json

from timebank.ledger import services as ledger
from timebank.people import services as people_services
from timebank.privacy.selectors import data_held, data_held_json


def rows(resident, key):
    return next(s.rows for s in data_held(resident) if s.key == key)


def test_relatives_are_listed_once_each_and_proxies_both_ways(make_resident):
    son = make_resident(name="陈儿子", age=40, roles=("volunteer", "proxy"))
    mum = make_resident(name="陈妈妈", age=78, roles=("elder",))
    other = make_resident(name="不相干", age=50)
    people_services.relationship_create(
        actor=None, resident=mum, relative=son, kind="child", is_proxy=True, consent_note="服务站签字"
    )
    mine = rows(son, "relatives")
    assert [r["person"] for r in mine] == ["陈妈妈", "陈妈妈"]  # my mother, and I act for her
    assert {r["proxy"] for r in mine} == {"否", "是"} or {r["proxy"] for r in mine} == {"no", "yes"}
    theirs = rows(mum, "relatives")
    assert [r["person"] for r in theirs] == ["陈儿子"] and "服务站签字" in theirs[0]["consent"]
    assert "不相干" not in json.dumps(data_held_json(son), ensure_ascii=False)
    assert rows(other, "relatives") == []


def test_the_hours_and_the_copy_is_plain_json(make_resident, supervisor):
    person = make_resident(name="算时间", age=30, roles=("volunteer",))
    ledger.adjustment_post(
        key="selector-fund-0001", account=ledger.account_for(person), minutes=75, actor=supervisor, reason="开户"
    )
    hours = rows(person, "ledger")
    assert hours[0]["minutes"] == 75 and hours[0]["balance"] == 75 and hours[1]["minutes"] == 75
    copy = json.loads(json.dumps(data_held_json(person)))
    assert copy["resident_id"] == person.pk and copy["left_on"] is None
    assert set(copy["sections"]) == {
        "profile", "roles", "circumstances", "relatives", "needs", "visits", "ledger", "training", "rewards",
        "notifications", "views", "corrections",
    }  # fmt: skip

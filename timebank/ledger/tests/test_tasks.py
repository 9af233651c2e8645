"""The periodic tasks run the same services (eagerly here, as in the embedded default)."""

from __future__ import annotations

import pytest

from timebank.ledger import services, tasks

pytestmark = pytest.mark.django_db


def test_seal_verify_and_expire_tasks(make_resident):
    v = make_resident("任务志愿", 40)
    services.service_credit(key="task-credit-1", volunteer=v, payer="government", elder=None, minutes=60)
    assert tasks.seal.delay().get() >= 1
    assert tasks.seal.delay().get() == 0
    assert tasks.verify.delay().get() == []
    assert tasks.expire.delay().get() == 0  # expiry is off by default

"""What both stores do alike with page events: batches, a bounded backlog while the store is
down (logged once per outage), and the wake-ups of the live feed."""

from __future__ import annotations

import asyncio
import time

import pytest

from funnelrun.errors import StoreError
from funnelrun.store import recording
from funnelrun.store.recording import (
    RECORD_BATCH,
    RECORD_DELAY_S,
    Feed,
    RecordQueue,
)

pytestmark = pytest.mark.anyio


class Writer:
    """A store's write function that fails while `down`."""

    def __init__(self) -> None:
        self.down = False
        self.written: list[int] = []
        self.calls = 0

    async def __call__(self, records: list[int]) -> None:
        self.calls += 1
        if self.down:
            raise StoreError("the store is down", reason="store_unreachable")
        self.written += records


@pytest.fixture
def fast_retry(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setattr(recording, "RECORD_RETRY_S", 0.05)
    return 0.05


async def test_records_are_written_together_soon_or_when_a_batch_is_full() -> None:
    writer = Writer()
    queue: RecordQueue[int] = RecordQueue(writer, where="test")
    for n in range(3):
        await queue.add(n)
    assert writer.written == []
    await asyncio.sleep(RECORD_DELAY_S * 3)
    assert (writer.written, writer.calls) == ([0, 1, 2], 1)
    for n in range(RECORD_BATCH):
        await queue.add(n)
    assert len(writer.written) == 3 + RECORD_BATCH  # written at once, no timer
    await queue.add(99)
    await queue.close()
    assert writer.written[-1] == 99


async def test_records_wait_while_the_store_is_down_and_are_written_when_it_is_back(
    fast_retry: float, caplog: pytest.LogCaptureFixture
) -> None:
    writer = Writer()
    writer.down = True
    queue: RecordQueue[int] = RecordQueue(writer, where="the test store")
    for n in range(RECORD_BATCH + 5):
        await queue.add(n)
    await asyncio.sleep(fast_retry * 4)
    assert writer.calls >= 2 and writer.written == []  # tried again, kept
    writer.down = False
    await asyncio.sleep(fast_retry * 4)
    assert writer.written == list(range(RECORD_BATCH + 5))
    messages = [record.getMessage() for record in caplog.records]
    assert sum("cannot be written to the test store" in m for m in messages) == 1
    assert sum("written again to the test store" in m for m in messages) == 1
    await queue.close()


async def test_the_backlog_keeps_the_newest_records(
    monkeypatch: pytest.MonkeyPatch, fast_retry: float, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(recording, "RECORD_BACKLOG", 100)
    writer = Writer()
    writer.down = True
    queue: RecordQueue[int] = RecordQueue(writer, where="test")
    for n in range(250):
        await queue.add(n)
    assert len(queue) == 100
    writer.down = False
    await queue.flush()
    assert writer.written == list(range(150, 250))
    assert any("150 dropped" in record.getMessage() for record in caplog.records)


async def test_a_read_raises_while_the_store_is_down_and_keeps_the_records() -> None:
    writer = Writer()
    queue: RecordQueue[int] = RecordQueue(writer, where="test")
    await queue.add(1)
    writer.down = True
    with pytest.raises(StoreError):
        await queue.flush()
    assert len(queue) == 1
    writer.down = False
    await queue.close()
    assert writer.written == [1]


async def test_close_gives_up_on_a_store_that_is_down(caplog: pytest.LogCaptureFixture) -> None:
    writer = Writer()
    writer.down = True
    queue: RecordQueue[int] = RecordQueue(writer, where="test")
    await queue.add(1)
    await queue.close()
    assert len(queue) == 0
    assert any("not recorded" in record.getMessage() for record in caplog.records)


async def test_the_feed_wakes_its_waiters_when_records_are_written() -> None:
    feed = Feed()
    writer = Writer()
    queue: RecordQueue[int] = RecordQueue(writer, where="test", feed=feed)
    waiting = asyncio.ensure_future(feed.wait(10))
    await asyncio.sleep(0)
    started = time.monotonic()
    await queue.add(1)
    await queue.flush()
    await asyncio.wait_for(waiting, 1)
    assert time.monotonic() - started < 0.5
    started = time.monotonic()
    await feed.wait(0.05)  # nothing new: the timeout
    assert time.monotonic() - started >= 0.04

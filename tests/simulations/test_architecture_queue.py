"""The priority queue on the real Redis: order, reservations, acknowledgement, redelivery."""

from __future__ import annotations

import pytest

from simulations.architecture.queue import ReliableQueue
from simulations.redis_server import client


@pytest.fixture
def queue(real_redis_url, redis_namespace):
    connection = client(real_redis_url)
    q = ReliableQueue(connection, redis_namespace, visibility_timeout_s=30.0)
    yield q
    q.drop()
    connection.close()


def test_priority_order_then_fifo_within_a_priority(queue):
    for task, priority in (("1", "low"), ("2", "normal"), ("3", "high"), ("4", "low"), ("5", "high")):
        queue.enqueue(task, priority)
    fetched = queue.fetch(0.0, 5)
    assert [d.task_id for d in fetched.deliveries] == ["3", "5", "2", "1", "4"]
    assert fetched.depths == {"high": 0, "normal": 0, "low": 0}


def test_depths_by_priority_come_back_with_every_call(queue):
    assert queue.enqueue("1", "high") == {"high": 1, "normal": 0, "low": 0}
    assert queue.enqueue("2", "low") == {"high": 1, "normal": 0, "low": 1}
    assert queue.fetch(0.0, 1).depths == {"high": 0, "normal": 0, "low": 1}


def test_an_acknowledged_task_is_never_delivered_again(queue):
    queue.enqueue("1", "normal")
    delivery = queue.fetch(0.0, 1).deliveries[0]
    queue.ack(5.0, [delivery])
    assert queue.fetch(100.0, 10).deliveries == []  # long past the visibility timeout


def test_an_unacknowledged_task_comes_back_after_the_visibility_timeout(queue):
    queue.enqueue("1", "normal")
    first = queue.fetch(0.0, 1).deliveries[0]
    assert queue.fetch(29.9, 1).deliveries == []  # still reserved
    again = queue.fetch(30.0, 1)
    assert again.restored == 1 and [d.task_id for d in again.deliveries] == ["1"]
    assert (first.number, again.deliveries[0].number) == (1, 2)
    # The first worker finishing late acks its own delivery, not the second one.
    queue.ack(31.0, [first])
    assert queue.state()["reserved"] == 1


def test_a_restored_task_goes_to_the_head_of_its_queue(queue):
    queue.enqueue("1", "low")
    queue.fetch(0.0, 1)
    queue.enqueue("2", "low")
    assert [d.task_id for d in queue.fetch(30.0, 2).deliveries] == ["1", "2"]


def test_a_retry_waits_for_its_back_off(queue):
    queue.enqueue("1", "high")
    delivery = queue.fetch(0.0, 1).deliveries[0]
    queue.retry(delivery, due_s=60.0)
    assert queue.fetch(59.0, 1).deliveries == []
    assert [d.task_id for d in queue.fetch(60.0, 1).deliveries] == ["1"]


def test_publish_and_fetch_in_one_call_is_publish_then_fetch(queue):
    queue.enqueue("1", "low")
    fetched = queue.fetch(0.0, 1, publish=("2", "high"))
    assert [d.task_id for d in fetched.deliveries] == ["2"]
    assert fetched.depths["low"] == 1


def test_a_graceful_stop_hands_reserved_tasks_back_in_order(queue):
    for task in "123":
        queue.enqueue(task, "normal")
    reserved = queue.fetch(0.0, 3).deliveries
    queue.requeue(reserved)
    assert [d.task_id for d in queue.fetch(1.0, 3).deliveries] == ["1", "2", "3"]


def test_the_queue_knows_its_keys(queue):
    queue.enqueue("1", "high")
    queue.fetch(0.0, 1)
    queue.drop()
    assert not any(queue.client.exists(key) for key in queue.keys())



def _script(queue, publish):
    """The same calls on a queue, publishing with ``publish``; every answer, in order."""
    answers = []

    def fetched(reply):
        answers.append(([d.tag for d in reply.deliveries], reply.depths, reply.promoted, reply.restored))
        return reply.deliveries

    for task, priority in (("1", "low"), ("2", "high"), ("3", "normal")):
        answers.append(publish(task, priority))
    answers.append(queue.client.llen(queue.keys()[1]))  # what Redis holds before the next call
    fetched(queue.fetch(0.0, 1))  # 2, reserved until 10: never acknowledged
    answers.append(publish("4", "high"))
    answers.append(queue.retry(fetched(queue.fetch(1.0, 1))[0], due_s=5.0))  # 4 again at 5
    answers.append(publish("5", "low"))
    held = fetched(queue.fetch(2.0, 1))
    answers.append(publish("6", "normal"))
    answers.append(queue.requeue(held))
    for t in (3.0, 6.0, 12.0):
        fetched(queue.fetch(t, 2))
    answers.append(publish("7", "high"))
    answers.append(queue.state())
    return answers


def test_publishing_later_answers_and_delivers_exactly_as_publishing_now(real_redis_url, redis_namespace):
    """Tasks handed over with the next call: same depths, deliveries, retries, restores, hand-backs."""
    connection = client(real_redis_url)
    now_q = ReliableQueue(connection, redis_namespace + ":now", visibility_timeout_s=10.0)
    later_q = ReliableQueue(connection, redis_namespace + ":later", visibility_timeout_s=10.0)
    try:
        now, later = _script(now_q, now_q.enqueue), _script(later_q, later_q.publish_later)
        assert (now[3], later[3]) == (1, 0)  # published now vs still waiting for the next call
        del now[3], later[3]
        assert later == now
        delivered = [tag for a in now if isinstance(a, tuple) for tag in a[0]]
        assert delivered == ["2#1", "4#1", "3#1", "3#2", "6#1", "4#2", "1#1", "2#2", "5#1"]  # retried, restored
    finally:
        now_q.drop()
        later_q.drop()
        connection.close()

"""The service graph of 32.1: which route needs which service, and what a failure does.

Seven services: the API gateway, the chat, RAG and agent services, the memory
service, the LLM orchestrator (whose workers take tasks from the queue) and the
shared storage (Redis, PostgreSQL, the vector database).  A route calls its
services in order; a *hard* dependency that is down fails the request, a *soft*
one (memory) lets it through degraded: an answer without the conversation history.

In a monolith the same functions run in one process: a call between them costs
no network hop, and a crash in any of them takes the whole process, every route
with it, down.  The storage is a service of its own either way.
"""

from __future__ import annotations

from dataclasses import dataclass

SERVICES = ("gateway", "chat", "rag", "agent", "memory", "llm", "storage")
MONOLITH = "monolith"
# What a monolith runs in its one process; the storage (Redis, PostgreSQL, vectors) stays outside.
IN_PROCESS = ("gateway", "chat", "rag", "agent", "memory", "llm")


@dataclass(frozen=True)
class Service:
    name: str
    replicas: int  # the chapter's split (32.1.2); the LLM orchestrator's are the autoscaler's
    latency_ms: float  # its own work per request, network hop not included


# The chapter's replica counts: chat 3, RAG 5, agent 2, memory 2, LLM orchestrator 4.
CATALOGUE: dict[str, Service] = {s.name: s for s in (
    Service("gateway", 2, 4.0),
    Service("chat", 3, 6.0),
    Service("rag", 5, 120.0),  # embedding the question and a vector search
    Service("agent", 2, 40.0),  # tool routing and parsing, besides its model calls
    Service("memory", 2, 5.0),
    Service("llm", 4, 3.0),
    Service("storage", 1, 4.0),
)}


@dataclass(frozen=True)
class Hop:
    service: str
    hard: bool = True  # False: the route goes on without it, degraded


# Each route's calls before the model's answer, in order; every route ends at the LLM orchestrator.
ROUTES: dict[str, tuple[Hop, ...]] = {
    "chat": (Hop("gateway"), Hop("chat"), Hop("memory", hard=False), Hop("llm")),
    "rag": (Hop("gateway"), Hop("rag"), Hop("storage"), Hop("llm")),
    "agent": (Hop("gateway"), Hop("agent"), Hop("memory", hard=False), Hop("llm")),
}
# Memory keeps its sessions in the shared storage: storage down means memory down.
DEPENDS_ON: dict[str, tuple[str, ...]] = {"memory": ("storage",)}


def down_services(failed: str, architecture: str) -> set[str]:
    """Every service unavailable when ``failed`` is down ('none': nothing)."""
    if failed == "none":
        return set()
    if architecture == MONOLITH and failed in IN_PROCESS:
        return set(IN_PROCESS)  # one process: one crash stops every function in it
    down = {failed}
    for service, needs in DEPENDS_ON.items():
        if down & set(needs):
            down.add(service)
    return down


def outcome(route: str, down: set[str]) -> str:
    """``ok``, ``degraded`` (a soft dependency missing) or ``failed``: the route before the model."""
    result = "ok"
    for hop in ROUTES[route]:
        if hop.service in down:
            if hop.hard:
                return "failed"
            result = "degraded"
    return result


def path_latency_ms(route: str, down: set[str], hop_ms: float) -> float:
    """Time spent before the task reaches the queue: each service's own work plus a network hop.

    In a monolith ``hop_ms`` is 0: the calls are function calls in one process.
    """
    total = 0.0
    for hop in ROUTES[route][:-1]:
        if hop.service in down:
            total += hop_ms  # a soft dependency that is down answers its failure fast
            continue
        total += CATALOGUE[hop.service].latency_ms + hop_ms
    return total + hop_ms  # the hop to the queue


def edges(route: str, down: set[str]) -> list[tuple[str, str]]:
    """The calls one request of ``route`` makes, as (caller, callee), until a hard failure stops it."""
    service = ROUTES[route][1].service
    calls = [("client", "gateway")]
    if "gateway" in down:
        return calls
    calls.append(("gateway", service))
    if service in down:
        return calls
    for hop in ROUTES[route][2:-1]:
        calls.append((service, hop.service))
        if hop.hard and hop.service in down:
            return calls
    calls += [(service, "queue"), ("queue", "llm")]
    return calls

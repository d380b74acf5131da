"""The async half of langchain's cache interface, done without threads."""

from __future__ import annotations

from typing import Any

from langchain_core.caches import RETURN_VAL_TYPE, BaseCache


class DirectAsyncCache(BaseCache):
    """A :class:`BaseCache` whose async methods call the sync ones directly.

    langchain's default runs them in a thread pool.  Our stores answer in
    microseconds, and a thread would make the virtual clock wait for real time,
    so a direct call is both faster and keeps simulated time exact.
    """

    async def alookup(self, prompt: str, llm_string: str) -> RETURN_VAL_TYPE | None:
        return self.lookup(prompt, llm_string)

    async def aupdate(self, prompt: str, llm_string: str, return_val: RETURN_VAL_TYPE) -> None:
        self.update(prompt, llm_string, return_val)

    async def aclear(self, **kwargs: Any) -> None:
        self.clear(**kwargs)

"""Every registered component, imported once so each module registers itself."""

from . import batching  # noqa: F401
from . import caching  # noqa: F401

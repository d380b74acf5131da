"""Run every benchmark and print its figures: `python -m bench` (or `make bench`)."""

from . import engine_overhead, route_tool, slider_latency

if __name__ == "__main__":
    engine_overhead.main()
    print()
    slider_latency.main()
    print()
    route_tool.main()

"""Run every benchmark and print its figures: `python -m bench` (or `make bench`).

`python -m bench classroom --students 50 100 300` runs only the classroom broadcast.
"""

import sys

from . import classroom, engine_overhead, route_tool, slider_latency

if __name__ == "__main__":
    if sys.argv[1:2] == ["classroom"]:
        classroom.main(sys.argv[2:])
    else:
        engine_overhead.main()
        print()
        slider_latency.main()
        print()
        route_tool.main()
        print()
        classroom.main([])

"""Run every benchmark and print its figures: `python -m bench` (or `make bench`).

`python -m bench classroom --students 50 100 300` runs only the classroom broadcast;
`python -m bench load` only a class dragging sliders (bench/class_load.py), and
`python -m bench throughput` only fresh runs per second by layout (bench/throughput.py).
"""

import sys

from . import class_load, classroom, engine_overhead, route_tool, slider_latency, throughput

if __name__ == "__main__":
    if sys.argv[1:2] == ["classroom"]:
        classroom.main(sys.argv[2:])
    elif sys.argv[1:2] == ["load"]:
        class_load.main(sys.argv[2:])
    elif sys.argv[1:2] == ["throughput"]:
        throughput.main(sys.argv[2:])
    else:
        engine_overhead.main()
        print()
        slider_latency.main()
        print()
        route_tool.main()
        print()
        classroom.main([])
        print()
        class_load.main([])

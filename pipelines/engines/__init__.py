"""Engines that answer a task's main request faster than the torch model on a CPU, chosen by measurement
(bench/engines.py, bench/results/engines.md). An engine is a loading option of the task's loader, not a second
set of task modules: the loader puts it in `bundle.extras[FAST]` beside the torch model, which stays for what
reads inside the model (Look inside, the explainers), and the family's run function hands the request to it.

Each engine converts the checkpoint once into the cache (`built.build_once`: a half-written conversion is never
used), is optional (the app falls back to torch where its package is missing or the architecture unsupported),
and reports `engine_name`, `label` and `nbytes` (the memory budget counts it).
"""

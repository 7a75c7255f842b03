"""Side-by-side performance measurements; `benchmarks/*.py` and `gameon bench` run them."""

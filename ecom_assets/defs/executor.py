"""How the code location's runs execute (``dagster dev``, schedules, sensors): each run in one process."""

import dagster as dg

# The graph's steps mostly follow one another, and a process per step pays Python's and Dagster's start-up
# with this code location each time (about 5 s) and loses the parse that bronze/events leaves for the
# rejects and silver/events (defs/medallion/parses.py): a 10-day medallion run of 54,000 events took 25 s
# with a process per step and 3.5 s in one, on two cores. `ecom materialize` runs in one process too.
defs = dg.Definitions(executor=dg.in_process_executor)

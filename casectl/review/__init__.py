"""The review engine: what the caseload needs, today or on any day.

- `index` — the summary of each case kept between runs, so a warm `list`/`review` reads no YAML
- `worklist` — the dated facts of a case and the review of a whole caseload on one day
- `caseload` — the caseload as `list` and `review` see it, and the filters they share
- `report` — the caseload report (`casectl report`)

Everything here reads a case's derived state (casectl.state); nothing here writes a case.
"""

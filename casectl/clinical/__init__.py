"""Published clinical instruments, blood pressure and growth references: pure functions, sources cited.

Nothing here reads or writes case files or knows about the command line: each function takes
measurements or answers and returns a frozen result (with `to_dict()` for JSON), or raises
`errors.ClinicalInputError` with one sentence a case manager can act on.

- `bp.classify_bp` — blood-pressure category (AAP 2017, ACC/AHA 2017)
- `growth.growth`, `growth.lms_z`, `growth.lms_value` — CDC 2000 growth percentiles, BMI category
- `instruments.score`, `instruments.get_instrument`, `instruments.INSTRUMENTS` — screening tools

Import from the modules themselves; this package re-exports nothing, so `casectl.clinical.growth`
is always the module and importing the package costs nothing.
"""

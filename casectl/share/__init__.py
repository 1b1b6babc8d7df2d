"""Cases leaving and entering casectl: the family's care plan, FHIR R4, CSV import, de-identification.

- `familyplan` — the plan in plain language for the family, in their language (`i18n`)
- `document` — the small document model both plan formats are written from, and its renderers
- `fhir` — a case as a FHIR R4 Bundle (`case_to_bundle`) and back (`bundle_to_case`)
- `fhir_import` — FHIR R4 from other systems (Bundles, NDJSON) mapped onto a case, or merged into one
- `importing` — moving in: CSV rows and FHIR files checked, then written as new or merged cases
- `valuesets` — the FHIR codes casectl writes, checked against their value sets
- `redaction` — what a de-identified export leaves out

Import the modules themselves: this package re-exports nothing, so `casectl --help` never
loads Babel or fhir.resources.
"""

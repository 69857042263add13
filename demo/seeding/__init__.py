"""Demo data (`seed_demo`) and the synthetic cohort (`seed_cohort`).

plans.py      plain values for a patient's whole record
course.py     one patient's course laid on the calendar (docs/clinical-rules.md's schedule)
sampling.py   draws realistic courses from a seeded random generator
demo_roster.py, demo.py   the demo sites, logins and patients
cohort.py     the synthetic cohort in its own sites
writer.py     bulk inserts of plans, outbox rows for final studies
"""

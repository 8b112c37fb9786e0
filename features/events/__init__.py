"""Event sign-ups (spec §3.2), NoneBot-free: managers create events in an owner
group, members sign up (waitlisted when full), the day before everyone signed up
is reminded, attendance and no-shows are recorded, and the list exports to a
spreadsheet. Each use case is one desk transaction and returns data; the chat
front (bot/plugins/events) parses the words and formats the results.

- models.py: the tables (migration desk/migrations/versions/0007_events.py)
- config.py: config/events.toml
- errors.py: the refusals, typed, with their data
- core.py: the context (`Events`), shared steps inside a transaction (seats, waitlist)
- manage.py: create, close, cancel an event, mark attendance
- signups.py: sign up, cancel a sign-up, my sign-ups
- reports.py: open events, statistics; export.py: the sign-up sheet
- jobs.py: the scheduled reminder and no-shows, personal data (desk.privacy)
"""

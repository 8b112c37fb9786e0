"""Owner-group activities (spec §3.1), NoneBot-free: check-ins and points
(checkin.py), topics now or on a schedule (plans.py, topics.py), joins and
leaves (members.py), message counts (counter.py, counting.py), group
statistics (stats.py), WeCom customer-group mass sends (mass_send.py), personal
data (privacy.py). Tables in models.py (migration 0006), rules as data in
config/activities.toml (config.py). Each use case is one `desk.write` /
`desk.read` and returns data; the chat front is bot/plugins/activities."""

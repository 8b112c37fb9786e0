"""荐友购车 (spec §3.3), NoneBot-free: owners refer friends by phone, by a personal
code or by inviting them into an owner group; the friend becomes a lead with the
owner as referrer; visits and deals earn points and rewards.

- codes.py: the codes' shape, finding one, handing one out, its WeCom QR
- attribution.py: a friend becomes a referred lead (command, code, invite, WeCom)
- rewards.py: rewards following the desk, the reconcile job, voiding on leaving
- reports.py: 我的推荐, 推荐榜; ledger.py: 奖励台账 and handing a reward out
- privacy.py: personal data; people.py: handles, `Referrals`, `Wording`

Use cases take a `Referrals` (the desk, the config, the wording of the texts they
write to the desk), run one transaction each and return data; refusals are the
typed errors of errors.py. The chat front is bot/plugins/referral.
"""

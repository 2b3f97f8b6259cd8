"""The whole journey through the four services, as plain steps over HTTP.

`demo.journey` holds the steps (admit a provider, refer a child, offer,
close and assess, award, start, attendance, review, end, reports, a block
mini-competition, a placement off the DPS, the sixth-day report, the AP
census); `python -m demo` runs them against `make run` and narrates what
happens. The end-to-end tests run the same steps against the system the
test harness starts.
"""

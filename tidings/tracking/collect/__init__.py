"""The collect endpoints: parse a hit, decide what may be recorded, spool it durably, persist it in batches.

payload.py    strict parsing of /t/collect, /t/p.gif and Mautic's /mtc/event and /mtracking.gif
agents.py     user agent -> bot or (device, os, browser); networks.py: IP reduction, exclusions, country
decide.py     may this hit be profiled (consent mode, GPC/DNT, the visitor's consent)
spool.py      the append-only spool of reduced hits (one file per process), read back by the flusher
persist.py    the batch write: receipts (idempotency), visitors, sessions, page.hit events, traffic counts
flusher.py    the thread that drains a process's spool every second, and recovery of orphaned spools
front.py      the lean WSGI application in front of Django that serves the tracking paths itself
seams.py      the functions of the other tracking parts this package calls (one place to connect them)
"""

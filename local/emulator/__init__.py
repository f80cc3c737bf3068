"""The local AWS: moto for S3, IAM, STS, Logs and Step Functions, this project's local Personalize,
the virtual clock, fault injection and the HTTP server (`World` in world.py is the entry point).

world.py (the World), clock.py, faults.py, server.py; moto_internals.py (every moto and botocore
internal used, pinned and checked); policy.py (IAM policy evaluation); personalize/ (the local
Personalize, mapped in its own docstring). Imports nothing of local.runner, cli, recs or stacks.
"""

"""The local Personalize: control plane, runtime and events on top of moto (see local.emulator.world.World).

backend.py holds state and rules, protocol.py the wire formats, durations.py the time model,
access.py the S3/IAM check of import jobs; data.py, training.py and filters.py the datasets, the
recipes' algorithms and the filter language.
"""

"""IAM in the local world: policy evaluation as the IAM User Guide defines it, and who is asking.

    conditions.py  condition operators (String*, Arn*, Numeric*, Date*, Bool, Null, IpAddress,
                   IfExists, ForAnyValue/ForAllValues)
    evaluation.py  statements, principals, compiled (cached) documents, and the decision
                   (explicit deny > allow; identity-or-resource within one account; KMS key
                   policies and trust policies must allow the principal)
    requests.py    which actions, resources and condition keys an API request needs
    authority.py   the caller from its credentials, its role's policies from moto's IAM, the
                   resource policies (bucket, key), and Denied

This module re-exports the small document API moto_internals and older callers use; import
authority.py by its own name (it reads moto's state through moto_internals).
"""

from local.emulator.policy.evaluation import Request, as_list, evaluate, load_document

__all__ = ["Request", "as_list", "evaluate", "load_document"]

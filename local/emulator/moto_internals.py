"""Every moto and botocore internal the local world patches or reads, in one place, pinned.

The local world stands on moto's in-process mock, and in a few places it needs more than moto's
public API (`mock_aws`, boto3 clients): it routes Personalize requests through moto's stubber,
corrects moto's bucket-policy check, makes botocore's retry sleeps follow a virtual clock, keeps
moto's module-global state per World, reads S3 objects and IAM roles the way the service would
with a role, and pickles moto's KMS keys; the runner sets bucket logging past moto's check, drops
moto's synchronous access-log deliveries, and runs Step Functions executions moto only records.
Each such place is one entry of `INTERNALS`: the dotted name, what the local world does with it,
why, and a check that the name is still there and shaped as the code here expects.

The entries were written against the versions below: moto as pinned in requirements-dev.txt,
botocore as boto3 (requirements.txt) installs it. tests/local/test_moto_internals.py fails, naming
the entry, when the installed versions differ from these or an entry's check fails; and every
function below checks its entry before its first use in a process, so a changed moto fails loudly,
naming the entry, at the first World, not with an AttributeError deep in a request. After
upgrading moto or botocore: read each entry's target in the new source, adjust the code here,
then bump the version constants.

Nothing else in local/ imports moto's internals: the World, the server, the local Personalize and
the runner (bucket logging, access-log deliveries, Step Functions executions) call the functions
below.
"""

from __future__ import annotations

import contextlib
import copyreg
import importlib
import inspect
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from local.emulator.policy.evaluation import Request, evaluate, load_document

#: The versions every entry below was read against.
MOTO_VERSION = "5.2.5"
BOTOCORE_VERSION = "1.44.8"

#: A World's copy of moto's state: (module, global name of a BackendDict) -> its contents.
MotoState = dict[tuple[str, str], dict[str, Any]]
#: What a routed request answers: moto's (status, headers, body), or None to let botocore send it.
Answer = Any
Route = Callable[[Any, Callable[[Any], Answer]], Answer]


class MotoDrift(RuntimeError):
    """moto or botocore no longer has an internal the local world relies on, in the shape it
    expects: the message names the entry of INTERNALS and what changed."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"{name}: {detail} (local/emulator/moto_internals.py was written for moto "
                         f"{MOTO_VERSION} and botocore {BOTOCORE_VERSION}; re-read this entry's target "
                         "in the installed version and adjust the code that uses it)")
        self.name = name
        self.detail = detail


@dataclass(frozen=True)
class Internal:
    """One internal the local world patches, replaces or reads."""

    name: str
    #: "wraps", "replaces", "reads", "writes" or "registers"
    use: str
    what: str
    why: str
    probe: Callable[[Internal], None]

    def check(self) -> None:
        """Raise MotoDrift naming this entry when its target is missing or shaped differently."""
        try:
            self.probe(self)
        except MotoDrift:
            raise
        except (ImportError, AttributeError, TypeError, ValueError) as error:
            raise MotoDrift(self.name, f"{type(error).__name__}: {error}") from error

    def fail(self, detail: str) -> MotoDrift:
        return MotoDrift(self.name, detail)

    def require(self) -> None:
        """`check()` once per process, before the first use of the target."""
        if self.name not in _verified:
            self.check()
            _verified.add(self.name)


#: the entries checked in this process (their targets do not change while it runs)
_verified: set[str] = set()


# --------------------------------------------------------------------------------------------------
# shape checks
# --------------------------------------------------------------------------------------------------
def _parameters(entry: Internal, function: Any, expected: Iterable[str], where: str,
                exact: bool = False) -> None:
    """`function`'s parameters are `expected` (self included), in order: exactly, for what is
    wrapped or replaced (moto calls it, with these); else followed only by parameters with a
    default, for what the local world calls (positionally, with these)."""
    if not callable(function):
        raise entry.fail(f"{where} is not callable any more")
    parameters = list(inspect.signature(function).parameters.values())
    names = [p.name for p in parameters]
    wanted = list(expected)
    rest = parameters[len(wanted):]
    if names[: len(wanted)] != wanted or (exact and rest) or any(
            p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            for p in rest):
        shape = "" if exact else " followed by optional parameters only"
        raise entry.fail(f"{where} takes ({', '.join(names)}), expected ({', '.join(wanted)}){shape}")


def _source(function: Any) -> str | None:
    """The source of a moto or botocore function; None when the installation ships none, and then
    the checks that read source are skipped (the signature checks still run)."""
    try:
        return inspect.getsource(function)
    except OSError:
        return None


def _sets(entry: Internal, cls: type, *attributes: str) -> None:
    """`cls.__init__` assigns each of `attributes` on the instance."""
    init = vars(cls).get("__init__")
    if init is None:
        raise entry.fail(f"{cls.__module__}.{cls.__qualname__} no longer defines __init__")
    source = _source(init)
    if source is None:
        return
    missing = [a for a in attributes if f"self.{a}" not in source]
    if missing:
        raise entry.fail(f"{cls.__module__}.{cls.__qualname__}.__init__ no longer sets "
                         f"{', '.join('self.' + a for a in missing)}")


def _calls(entry: Internal, function: Any, text: str, where: str) -> None:
    """`function` still makes the call the patch relies on."""
    source = _source(function)
    if source is not None and text not in source:
        raise entry.fail(f"{where} no longer calls {text.rstrip('(')}")


# --------------------------------------------------------------------------------------------------
# 1. moto's stubber answers Personalize from the active World
# --------------------------------------------------------------------------------------------------
def _probe_stubber(entry: Internal) -> None:
    from botocore.handlers import BUILTIN_HANDLERS
    from moto.core import models
    from moto.core.botocore_stubber import BotocoreStubber

    stubber = models.botocore_stubber
    if not isinstance(stubber, BotocoreStubber):
        raise entry.fail("moto.core.models.botocore_stubber is not a BotocoreStubber")
    if ("before-send", stubber) not in BUILTIN_HANDLERS:
        raise entry.fail("moto no longer registers botocore_stubber as botocore's before-send handler")
    _parameters(entry, BotocoreStubber.process_request, ("self", "request"),
                "BotocoreStubber.process_request", exact=True)
    _calls(entry, BotocoreStubber.__call__, "self.process_request(", "BotocoreStubber.__call__")


_routed = False


def route_requests(route: Route) -> None:
    """Wrap moto's stubber once: every request botocore sends under a mock goes to
    `route(request, moto)`, which answers (status, headers, body) or passes it on with
    `moto(request)`. Idempotent: the first route stays."""
    global _routed
    if _routed:
        return
    STUBBER.require()
    from moto.core import models

    stubber = models.botocore_stubber
    moto = stubber.process_request

    def process_request(request: Any) -> Answer:
        return route(request, moto)

    stubber.process_request = process_request  # type: ignore[method-assign]
    _routed = True


# --------------------------------------------------------------------------------------------------
# 2. S3 bucket policies evaluated as IAM does
# --------------------------------------------------------------------------------------------------
def _probe_bucket_permission(entry: Internal) -> None:
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    _parameters(entry, FakeBucket.get_permission, ("self", "action", "resource"),
                "FakeBucket.get_permission", exact=True)
    missing = {"PERMITTED", "DENIED", "NEUTRAL"} - set(PermissionResult.__members__)
    if missing:
        raise entry.fail(f"moto.iam.access_control.PermissionResult lost {sorted(missing)}")
    _sets(entry, FakeBucket, "policy", "account_id")


_bucket_policy_fixed = False


def fix_bucket_policy() -> None:
    """Replace moto's bucket-policy check with local.emulator.policy (idempotent). Requests are
    TLS and come from the bucket's own account; only an explicit Deny that applies denies."""
    global _bucket_policy_fixed
    if _bucket_policy_fixed:
        return
    BUCKET_PERMISSION.require()
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    def get_permission(self: Any, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        account = self.account_id
        context = {"aws:SecureTransport": "true", "aws:PrincipalAccount": account}
        result = evaluate([load_document(self.policy)], Request(action, resource), context,
                          {f"arn:aws:iam::{account}:root", account})
        return {"deny": PermissionResult.DENIED, "allow": PermissionResult.PERMITTED}.get(
            result, PermissionResult.NEUTRAL)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]
    _bucket_policy_fixed = True


# --------------------------------------------------------------------------------------------------
# 3. botocore's retry sleeps
# --------------------------------------------------------------------------------------------------
def _probe_retry_time(entry: Internal) -> None:
    import botocore.endpoint

    if not hasattr(botocore.endpoint, "time"):
        raise entry.fail("botocore.endpoint no longer imports time")
    _calls(entry, botocore.endpoint.Endpoint._needs_retry, "time.sleep(", "Endpoint._needs_retry")


def swap_retry_time(replacement: Any) -> Any:
    """Put `replacement` where botocore.endpoint looks up `time` (its retry sleeps call
    `time.sleep`); returns what was there, for `restore_retry_time`."""
    RETRY_TIME.require()
    import botocore.endpoint

    previous = botocore.endpoint.time
    botocore.endpoint.time = replacement
    return previous


def restore_retry_time(previous: Any) -> None:
    import botocore.endpoint

    botocore.endpoint.time = previous


# --------------------------------------------------------------------------------------------------
# 4. moto's module-global state, kept per World
# --------------------------------------------------------------------------------------------------
#: What BackendDict.__init__ sets: the dict's identity, not state (everything else is state).
_BASE_ATTRS = {"backend", "service_name", "_use_boto3_regions", "_additional_regions", "_id"}


def _probe_backend_dicts(entry: Internal) -> None:
    from moto.core.base_backend import BackendDict, BaseBackend
    from moto.s3 import models as s3_models

    if not issubclass(BackendDict, dict):
        raise entry.fail("BackendDict is no longer a dict")
    if not isinstance(getattr(BackendDict, "_instances", None), list):
        raise entry.fail("BackendDict._instances (moto's registry of BackendDicts in use) is not a list")
    own = set(vars(BackendDict(BaseBackend, "probe")))
    if own != _BASE_ATTRS:
        raise entry.fail(f"a new BackendDict sets {sorted(own)}, expected {sorted(_BASE_ATTRS)}")
    if not isinstance(getattr(s3_models, "s3_backends", None), BackendDict):
        raise entry.fail("moto.s3.models.s3_backends is not a module-level BackendDict")


def _instances() -> list[Any]:
    from moto.core.base_backend import BackendDict

    registry: list[Any] = BackendDict._instances  # type: ignore[misc]
    return registry


def _location(backend_dict: Any) -> tuple[str, str] | None:
    """The (module, global name) that holds a BackendDict: where a saved World puts it back."""
    module = sys.modules.get(backend_dict.backend.__module__)
    candidates = [module] if module else []
    candidates += [m for n, m in list(sys.modules.items()) if n.startswith("moto.") and m is not module]
    for mod in candidates:
        for name, value in vars(mod).items():
            if value is backend_dict:
                return mod.__name__, name
    return None


def capture_backends(detach: bool) -> MotoState:
    """The contents of every BackendDict in use; with detach, take them out of moto's globals."""
    BACKEND_DICTS.require()
    state: MotoState = {}
    for backend_dict in list(_instances()):
        location = _location(backend_dict)
        if location is None:
            continue
        extra = {k: v for k, v in vars(backend_dict).items() if k not in _BASE_ATTRS}
        state[location] = {"accounts": dict(backend_dict), "extra": extra}
        if detach:
            dict.clear(backend_dict)
            for key, value in extra.items():
                try:
                    fresh = type(value)()
                except TypeError:
                    fresh = None
                setattr(backend_dict, key, fresh)
    if detach:
        _instances().clear()
    return state


def restore_backends(state: MotoState) -> None:
    """Put a captured state back into moto's globals."""
    BACKEND_DICTS.require()
    for (module_name, attr), saved in state.items():
        backend_dict = getattr(importlib.import_module(module_name), attr)
        dict.clear(backend_dict)
        dict.update(backend_dict, saved["accounts"])
        for key, value in saved["extra"].items():
            setattr(backend_dict, key, value)
        if backend_dict not in _instances():
            _instances().append(backend_dict)


# --------------------------------------------------------------------------------------------------
# 5. S3 object buffers
# --------------------------------------------------------------------------------------------------
def _probe_dispose(entry: Internal) -> None:
    from moto.s3.models import FakeBucket, FakeKey, S3Backend

    _parameters(entry, FakeKey.dispose, ("self",), "FakeKey.dispose")
    _sets(entry, S3Backend, "buckets")
    _sets(entry, FakeBucket, "keys")


def dispose_s3_objects(state: MotoState) -> None:
    """Release the temporary files moto keeps S3 object bodies in, for a state that is dropped."""
    DISPOSE.require()
    from moto.s3.models import FakeKey

    for (module_name, _), saved in state.items():
        if module_name != "moto.s3.models":
            continue
        for account in saved["accounts"].values():
            for backend in account.values():
                for bucket in backend.buckets.values():
                    for key in bucket.keys.values():
                        if isinstance(key, FakeKey):
                            key.dispose()


# --------------------------------------------------------------------------------------------------
# 6. S3 as the Personalize service reads and writes it
# --------------------------------------------------------------------------------------------------
def _probe_s3(entry: Internal) -> None:
    from moto.s3.models import FakeBucket, FakeKey, S3Backend, s3_backends

    _parameters(entry, S3Backend.get_bucket, ("self", "bucket_name"), "S3Backend.get_bucket")
    _parameters(entry, S3Backend.get_object, ("self", "bucket_name", "key_name"), "S3Backend.get_object")
    _parameters(entry, S3Backend.put_object, ("self", "bucket_name", "key_name", "value"),
                "S3Backend.put_object")
    if not isinstance(inspect.getattr_static(FakeKey, "value", None), property):
        raise entry.fail("FakeKey.value is no longer a property holding the object's bytes")
    _sets(entry, FakeKey, "encryption", "kms_key_id", "bucket_key_enabled")
    _sets(entry, FakeBucket, "keys", "policy", "encryption")
    if "aws" not in (getattr(s3_backends, "_additional_regions", None) or []):
        raise entry.fail("s3_backends no longer keys its backends by partition ('aws')")


def _s3(account: str) -> Any:
    S3_OBJECTS.require()
    from moto.s3.models import s3_backends

    return s3_backends[account]["aws"]


def bucket_keys(account: str, bucket: str) -> list[str]:
    """The object keys of a bucket; LookupError when the bucket does not exist."""
    try:
        found = _s3(account).get_bucket(bucket)
    except Exception:
        raise LookupError(bucket) from None
    return list(found.keys)


def bucket_policy(account: str, bucket: str) -> dict[str, Any] | None:
    """A bucket's policy document, None without one; LookupError when the bucket does not exist."""
    try:
        found = _s3(account).get_bucket(bucket)
    except Exception:
        raise LookupError(bucket) from None
    return load_document(found.policy) if found.policy else None


def read_object(account: str, bucket: str, key: str) -> bytes:
    obj = _s3(account).get_object(bucket, key)
    assert obj is not None
    value: bytes = obj.value
    return value


def write_object(account: str, bucket: str, key: str, body: bytes) -> None:
    _s3(account).put_object(bucket, key, body)


@dataclass(frozen=True)
class Encryption:
    """Server-side encryption of an object, or a bucket's default for new objects."""

    algorithm: str | None  # "aws:kms", "aws:kms:dsse", "AES256" or None
    key_id: str | None  # the KMS key (id or ARN) for aws:kms; None: the AWS managed key aws/s3
    bucket_key: bool

    @property
    def kms(self) -> bool:
        return bool(self.algorithm and self.algorithm.startswith("aws:kms"))


def object_encryption(account: str, bucket: str, key: str) -> Encryption | None:
    """How an object is encrypted (moto applies the bucket's default when it is written); None when
    the bucket or the object does not exist."""
    try:
        found = _s3(account).get_object(bucket, key)
    except Exception:
        return None
    if found is None:
        return None
    return Encryption(found.encryption, found.kms_key_id, bool(found.bucket_key_enabled))


def bucket_encryption(account: str, bucket: str) -> Encryption | None:
    """A bucket's default encryption for new objects; None without one or without the bucket."""
    try:
        rule = (_s3(account).get_bucket(bucket).encryption or {}).get("Rule") or {}
    except Exception:
        return None
    default = rule.get("ApplyServerSideEncryptionByDefault") or {}
    if not default:
        return None
    enabled = str(rule.get("BucketKeyEnabled", False)).lower() == "true"
    return Encryption(default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), enabled)


# --------------------------------------------------------------------------------------------------
# 7. IAM roles as a service assuming them sees them
# --------------------------------------------------------------------------------------------------
def _probe_iam(entry: Internal) -> None:
    from moto.iam.models import IAMBackend, PolicyVersion, Role, iam_backends

    _parameters(entry, IAMBackend.get_roles, ("self",), "IAMBackend.get_roles")
    _sets(entry, Role, "assume_role_policy_document", "policies", "managed_policies")
    if not isinstance(inspect.getattr_static(Role, "arn", None), property):
        raise entry.fail("Role.arn is no longer a property")
    _sets(entry, PolicyVersion, "document", "is_default")
    if "aws" not in (getattr(iam_backends, "_additional_regions", None) or []):
        raise entry.fail("iam_backends no longer keys its backends by partition ('aws')")


@dataclass(frozen=True)
class RoleDocuments:
    """A role's policies as IAM stores them (texts, so that callers can cache what they compile):
    the trust policy, and (name, text) for each inline and attached managed policy."""

    trust: str
    identity: tuple[tuple[str, str], ...]


def role_documents(account: str, role_arn: str) -> RoleDocuments | None:
    """The policy texts of the role with this ARN, None when it does not exist."""
    IAM_ROLES.require()
    from moto.iam.models import iam_backends

    role = next((r for r in iam_backends[account]["aws"].get_roles() if r.arn == role_arn), None)
    if role is None:
        return None
    texts = [(f"inline policy {name}", _text(doc)) for name, doc in role.policies.items()]
    for arn, policy in role.managed_policies.items():
        document = getattr(policy, "document", None)
        if document is None:
            version = next((v for v in policy.versions if v.is_default), None)
            document = version.document if version else None
        if document is not None:
            texts.append((f"managed policy {arn}", _text(document)))
    return RoleDocuments(_text(role.assume_role_policy_document), tuple(texts))


def _text(document: Any) -> str:
    import json

    return document if isinstance(document, str) else json.dumps(document)


# --------------------------------------------------------------------------------------------------
# 7b. who signed a request: the assumed-role sessions moto's STS handed out
# --------------------------------------------------------------------------------------------------
def _probe_sts(entry: Internal) -> None:
    from moto.sts.models import AssumedRole, STSBackend, sts_backends

    _sets(entry, STSBackend, "assumed_roles")
    _sets(entry, AssumedRole, "access_key_id", "role_arn", "session_name", "account_id")
    if "aws" not in (getattr(sts_backends, "_additional_regions", None) or []):
        raise entry.fail("sts_backends no longer keys its backends by partition ('aws')")


@dataclass(frozen=True)
class Session:
    """An assumed-role session: its role, session name and account."""

    role_arn: str
    session_name: str
    account: str


def assumed_role(access_key_id: str) -> Session | None:
    """The session whose temporary credentials carry this access key id (None: not a session)."""
    STS_SESSIONS.require()
    from moto.sts.models import sts_backends

    for account, partitions in list(sts_backends.items()):
        backend = partitions.get("aws") if hasattr(partitions, "get") else None
        for role in getattr(backend, "assumed_roles", []):
            if role.access_key_id == access_key_id:
                return Session(role.role_arn, role.session_name, str(account))
    return None


# --------------------------------------------------------------------------------------------------
# 7c. KMS keys and their key policies
# --------------------------------------------------------------------------------------------------
def _probe_kms(entry: Internal) -> None:
    from moto.kms.models import Key, KmsBackend, kms_backends

    _parameters(entry, KmsBackend.any_id_to_key_id, ("self", "key_id"), "KmsBackend.any_id_to_key_id")
    _sets(entry, KmsBackend, "keys")
    _sets(entry, Key, "policy", "arn", "enabled")
    if not isinstance(kms_backends, dict):
        raise entry.fail("kms_backends is not a BackendDict")


@dataclass(frozen=True)
class KmsKey:
    arn: str
    policy: str
    enabled: bool


def kms_key(account: str, region: str, key_id: str) -> KmsKey | None:
    """The key a key id, key ARN, alias or alias ARN names (its region from the ARN when given),
    None when there is none."""
    KMS_KEYS.require()
    from moto.kms.models import kms_backends

    if key_id.startswith("arn:"):
        region = key_id.split(":")[3] or region
        account = key_id.split(":")[4] or account
    try:
        backend = kms_backends[account][region]
        found = backend.keys.get(backend.any_id_to_key_id(key_id))
    except Exception:
        return None
    if found is None:
        return None
    return KmsKey(str(found.arn), str(found.policy), bool(found.enabled))


# --------------------------------------------------------------------------------------------------
# 8. moto's server
# --------------------------------------------------------------------------------------------------
def _probe_server(entry: Internal) -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    _parameters(entry, DomainDispatcherApplication.__init__, ("self", "create_app"),
                "DomainDispatcherApplication")
    _parameters(entry, create_backend_app, ("service",), "create_backend_app")


def server_app() -> Callable[..., Iterable[bytes]]:
    """moto's own WSGI app (every service, dispatched by host and signature)."""
    SERVER.require()
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app: Callable[..., Iterable[bytes]] = DomainDispatcherApplication(create_backend_app)
    return app


# --------------------------------------------------------------------------------------------------
# 9. moto's KMS keys in a pickled World
# --------------------------------------------------------------------------------------------------
_KEY_CLASSES = (("rsa", "RSAPrivateKey"), ("ec", "ECPrivateKey"), ("ed25519", "Ed25519PrivateKey"))


def _probe_key_classes(entry: Internal) -> None:
    from cryptography.hazmat.bindings._rust import openssl as rust_openssl

    missing = [f"{module}.{name}" for module, name in _KEY_CLASSES
               if getattr(getattr(rust_openssl, module, None), name, None) is None]
    if missing:
        raise entry.fail(f"cryptography's Rust bindings no longer define {', '.join(missing)}")


def load_private_key(pem: bytes) -> Any:
    """Unpickle a private key (a module-level function: cryptography's own loader is a Rust
    builtin). Saved worlds name it by this module's path."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, None)


def _reduce_private_key(key: Any) -> tuple[Any, tuple[bytes]]:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return load_private_key, (pem,)


_keys_registered = False


def register_key_pickling() -> None:
    """Let `cryptography` private keys pickle through PKCS#8 PEM (idempotent; a no-op when
    `cryptography` is not installed)."""
    global _keys_registered
    if _keys_registered:
        return
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl
    except ImportError:
        return
    KEY_PICKLING.require()
    for module, name in _KEY_CLASSES:
        cls = getattr(getattr(rust_openssl, module, None), name, None)
        if cls is not None:
            copyreg.pickle(cls, _reduce_private_key)
    _keys_registered = True


# --------------------------------------------------------------------------------------------------
# 10. S3 server access logs, delivered later than a stack operation (the runner)
# --------------------------------------------------------------------------------------------------
def _probe_access_logs(entry: Internal) -> None:
    from moto.s3.models import S3Backend

    _parameters(entry, S3Backend.log_incoming_request, ("self", "request", "bucket_name"),
                "S3Backend.log_incoming_request", exact=True)


@contextlib.contextmanager
def access_logs_dropped() -> Iterator[None]:
    """While inside, moto writes no server access log records (it writes them synchronously, into
    the target bucket, on every request to a bucket with logging)."""
    ACCESS_LOGS.require()
    from moto.s3.models import S3Backend

    original = S3Backend.log_incoming_request
    S3Backend.log_incoming_request = lambda self, request, bucket_name: None  # type: ignore[method-assign]
    try:
        yield
    finally:
        S3Backend.log_incoming_request = original  # type: ignore[method-assign]


# --------------------------------------------------------------------------------------------------
# 11. S3 bucket logging set without moto's target-permission check (the runner)
# --------------------------------------------------------------------------------------------------
def _probe_bucket_logging(entry: Internal) -> None:
    from moto.s3.models import FakeBucket, S3Backend, s3_backends

    _parameters(entry, S3Backend.get_bucket, ("self", "bucket_name"), "S3Backend.get_bucket")
    _sets(entry, FakeBucket, "logging")
    if "aws" not in (getattr(s3_backends, "_additional_regions", None) or []):
        raise entry.fail("s3_backends no longer keys its backends by partition ('aws')")


def set_bucket_logging(account: str, partition: str, bucket: str, logging: dict[str, Any]) -> None:
    """A bucket's LoggingEnabled configuration, as PutBucketLogging stores it."""
    BUCKET_LOGGING.require()
    from moto.s3.models import s3_backends

    s3_backends[account][partition].get_bucket(bucket).logging = dict(logging)


# --------------------------------------------------------------------------------------------------
# 12. Step Functions executions, run by the runner (moto records them and runs nothing)
# --------------------------------------------------------------------------------------------------
def _probe_executions(entry: Internal) -> None:
    from moto.stepfunctions.models import Execution, StateMachineInstance, StepFunctionBackend

    _sets(entry, StepFunctionBackend, "state_machines")
    _sets(entry, StateMachineInstance, "arn", "definition", "executions")
    _sets(entry, Execution, "execution_arn", "name", "execution_input", "status", "stop_date", "output",
          "error", "cause")


@dataclass(frozen=True)
class RunningExecution:
    """A RUNNING execution as StartExecution left it in moto."""

    execution_arn: str
    name: str
    input: str | None
    machine_arn: str
    definition: str
    #: moto's execution object, for `finish_execution`
    handle: Any
    #: the state machine's role (its Tasks are called with it)
    role_arn: str = ""


def running_executions(account: str, region: str) -> list[RunningExecution]:
    """Every RUNNING execution of every state machine in the region, in creation order."""
    EXECUTIONS.require()
    from moto.stepfunctions.models import stepfunctions_backends

    backend = stepfunctions_backends[account][region]
    return [
        RunningExecution(execution.execution_arn, execution.name, execution.execution_input, machine.arn,
                         machine.definition, execution, str(getattr(machine, "roleArn", "") or ""))
        for machine in list(backend.state_machines)
        for execution in list(machine.executions)
        if execution.status == "RUNNING"
    ]


def finish_execution(execution: RunningExecution, status: str, stopped: datetime, output: str | None,
                     error: str | None, cause: str | None) -> None:
    """Record an execution's outcome where DescribeExecution reads it."""
    handle = execution.handle
    handle.status, handle.stop_date, handle.output = status, stopped, output
    handle.error, handle.cause = error, cause


# --------------------------------------------------------------------------------------------------
# CloudWatch metrics a service publishes with its role (metric attribution)
# --------------------------------------------------------------------------------------------------
def _probe_cloudwatch(entry: Internal) -> None:
    from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends

    _parameters(entry, CloudWatchBackend.put_metric_data, ("self", "namespace", "metric_data"),
                "CloudWatchBackend.put_metric_data")
    if cloudwatch_backends is None:
        raise entry.fail("moto.cloudwatch.models.cloudwatch_backends is gone")


def put_metric_data(account: str, region: str, namespace: str, data: list[dict[str, Any]]) -> None:
    """PutMetricData as the service does it for a customer's account (after the caller checked the
    role it acts with): `data` as the API's MetricData (MetricName, Dimensions [{Name, Value}],
    Value, Timestamp as an aware datetime, Unit). moto keeps timestamps as naive UTC datetimes (its
    utcnow(), and what its query parser gives get_metric_statistics), so they are stored that way."""
    CLOUDWATCH_METRICS.require()
    from datetime import UTC

    from moto.cloudwatch.models import cloudwatch_backends

    naive = [dict(d, Timestamp=d["Timestamp"].astimezone(UTC).replace(tzinfo=None)) if d.get("Timestamp")
             else d for d in data]
    cloudwatch_backends[account][region].put_metric_data(namespace, naive)


# --------------------------------------------------------------------------------------------------
# the list
# --------------------------------------------------------------------------------------------------
STUBBER = Internal(
    "moto.core.models.botocore_stubber.process_request", "wraps",
    "route_requests(): the stubber's process_request is wrapped; while a World is active a request to "
    "personalize, personalize-runtime or personalize-events is answered by the World, any other goes to "
    "moto as before",
    "moto's Personalize has only the schema calls; the stubber is the one before-send handler every "
    "client gets under mock_aws, so clients made before or after a World's activation behave the same",
    _probe_stubber)
BUCKET_PERMISSION = Internal(
    "moto.s3.models.FakeBucket.get_permission", "replaces",
    "fix_bucket_policy(): evaluated with local.emulator.policy (requests are TLS, the caller is the "
    "bucket's account; only an applicable explicit Deny denies)",
    "moto 5.2.5 answers DENIED for any statement whose condition does not hold, so the stack's TLS-only "
    "Deny (aws:SecureTransport false) would block every request",
    _probe_bucket_permission)
RETRY_TIME = Internal(
    "botocore.endpoint.time", "replaces",
    "swap_retry_time(): while a World is active, a proxy whose sleep follows the World's clock",
    "botocore sleeps between retries with time.sleep in botocore.endpoint; under a virtual clock a "
    "throttled call must cost virtual seconds, not real ones",
    _probe_retry_time)
BACKEND_DICTS = Internal(
    "moto.core.base_backend.BackendDict._instances", "reads",
    "capture_backends()/restore_backends(): the contents of every BackendDict in use (found by scanning "
    "moto's modules for the global holding each one) are taken out and put back per World",
    "moto keeps its state in module globals; a World keeps its own copy so that several Worlds exist in "
    "one process and a World pickles with its moto state",
    _probe_backend_dicts)
DISPOSE = Internal(
    "moto.s3.models.FakeKey.dispose", "reads",
    "dispose_s3_objects(): called for every key of a World that is closed",
    "moto keeps S3 object bodies in temporary files and warns when a key is collected undisposed",
    _probe_dispose)
S3_OBJECTS = Internal(
    "moto.s3.models.s3_backends", "reads",
    "bucket_keys(), bucket_policy(), read_object(), write_object(), object_encryption(), "
    "bucket_encryption(): S3Backend.get_bucket, get_object, put_object; FakeBucket.keys, .policy and "
    ".encryption; FakeKey.value, .encryption, .kms_key_id and .bucket_key_enabled",
    "the local Personalize reads import CSVs and batch inputs and writes batch outputs as the service "
    "does, with its role, not through a client that would sign as the caller; an SSE-KMS object's "
    "key is evaluated on every read and write (kms:Decrypt, kms:GenerateDataKey)",
    _probe_s3)
IAM_ROLES = Internal(
    "moto.iam.models.iam_backends", "reads",
    "role_documents(): IAMBackend.get_roles; Role.assume_role_policy_document, .policies, "
    ".managed_policies; PolicyVersion.document, .is_default",
    "the local Personalize checks the service role's trust and identity policies as the service does",
    _probe_iam)
STS_SESSIONS = Internal(
    "moto.sts.models.sts_backends", "reads",
    "assumed_role(): STSBackend.assumed_roles; AssumedRole.access_key_id, .role_arn, .session_name, "
    ".account_id",
    "the local world tells which role signed a request (a Lambda's execution role session) from the "
    "access key id, as AWS does, to evaluate that role's policies on the call",
    _probe_sts)
KMS_KEYS = Internal(
    "moto.kms.models.kms_backends", "reads",
    "kms_key(): KmsBackend.keys and .any_id_to_key_id; Key.policy, .arn, .enabled",
    "KMS key policies are evaluated (a key policy must allow the caller or delegate to the account) "
    "when a role uses a key directly, through S3, or through Personalize",
    _probe_kms)
SERVER = Internal(
    "moto.moto_server.werkzeug_app.DomainDispatcherApplication", "reads",
    "server_app(): the server puts its Personalize app in front of moto's own WSGI app",
    "`serve` answers S3, IAM, STS and the rest of moto on the same port as the local Personalize",
    _probe_server)
KEY_PICKLING = Internal(
    "cryptography.hazmat.bindings._rust.openssl.*PrivateKey", "registers",
    "register_key_pickling(): a copyreg reducer through PKCS#8 PEM for RSA, EC and Ed25519 keys",
    "moto's KMS keeps a cryptography private key object per key (symmetric keys too), and those do "
    "not pickle: World.save would fail once a stack has an AWS::KMS::Key",
    _probe_key_classes)

ACCESS_LOGS = Internal(
    "moto.s3.models.S3Backend.log_incoming_request", "replaces",
    "access_logs_dropped(): the runner drops every server access log delivery during a stack operation",
    "S3 delivers access logs best-effort, typically hours later; moto writes them at once, which would "
    "refill an access-log bucket between its auto-delete and its deletion (a DELETE_FAILED that real "
    "CloudFormation does not see)",
    _probe_access_logs)
BUCKET_LOGGING = Internal(
    "moto.s3.models.FakeBucket.logging", "writes",
    "set_bucket_logging(): the runner stores a bucket's LoggingEnabled configuration directly, when "
    "PutBucketLogging is refused by moto's target check only",
    "moto checks the target's log-delivery permission at PutBucketLogging; S3 does not, and CDK's "
    "target bucket policy names the logged bucket's ARN, so it is created after that bucket",
    _probe_bucket_logging)
EXECUTIONS = Internal(
    "moto.stepfunctions.models.stepfunctions_backends", "writes",
    "running_executions()/finish_execution(): the runner reads RUNNING executions (state machine "
    "definition and ARN, execution input) and writes status, stop date, output, error and cause back",
    "moto's Step Functions records StartExecution and runs nothing; the runner interprets the "
    "Provider framework's waiter state machine on the virtual clock",
    _probe_executions)
CLOUDWATCH_METRICS = Internal(
    "moto.cloudwatch.models.cloudwatch_backends", "writes",
    "put_metric_data(): CloudWatchBackend.put_metric_data(namespace, metric_data)",
    "the local Personalize publishes metric attribution metrics to the account's CloudWatch as the "
    "service does, with its service role (checked first), not through a client signing as the caller",
    _probe_cloudwatch)

INTERNALS: tuple[Internal, ...] = (STUBBER, BUCKET_PERMISSION, RETRY_TIME, BACKEND_DICTS, DISPOSE,
                                   S3_OBJECTS, IAM_ROLES, STS_SESSIONS, KMS_KEYS, SERVER, KEY_PICKLING,
                                   ACCESS_LOGS, BUCKET_LOGGING, EXECUTIONS, CLOUDWATCH_METRICS)


def installed_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {"moto": version("moto"), "botocore": version("botocore")}


def version_problems(installed: dict[str, str] | None = None) -> list[str]:
    """How the installed moto and botocore differ from the versions the entries were read against."""
    found = installed if installed is not None else installed_versions()
    expected = {"moto": MOTO_VERSION, "botocore": BOTOCORE_VERSION}
    return [f"{name} {found.get(name)} is installed; every entry of local/emulator/moto_internals.py was "
            f"written for {name} {want}: re-check each entry, then update {name.upper()}_VERSION"
            for name, want in expected.items() if found.get(name) != want]


def drift() -> list[MotoDrift]:
    """Every entry whose check fails (empty when moto and botocore are as expected)."""
    problems = []
    for entry in INTERNALS:
        try:
            entry.check()
        except MotoDrift as error:
            problems.append(error)
    return problems

"""Let a World holding KMS keys be saved: moto's KMS keeps a `cryptography` private key object per
key (even for symmetric keys), and those objects do not pickle. Registering a reducer that goes
through PKCS#8 PEM makes `World.save` work once the stack has an AWS::KMS::Key.

`World.save` registers it, so every process that saves a world can (`pz serve`
included, which never imports the runner's engine). The module stays here: saved worlds name
`local.emulator.picklefix.load_private_key`, and unpickling imports it by that path.
"""

from __future__ import annotations

import copyreg
from typing import Any

_done = False


def load_private_key(pem: bytes) -> Any:
    """Unpickle: a module-level function (cryptography's own loader is a Rust builtin)."""
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(pem, None)


def _reduce(key: Any) -> tuple[Any, tuple[bytes]]:
    from cryptography.hazmat.primitives import serialization

    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return load_private_key, (pem,)


def register() -> None:
    """Idempotent; a no-op when `cryptography` is not installed."""
    global _done
    if _done:
        return
    try:
        from cryptography.hazmat.bindings._rust import openssl as rust_openssl
    except ImportError:
        return
    for module, name in (("rsa", "RSAPrivateKey"), ("ec", "ECPrivateKey"), ("ed25519", "Ed25519PrivateKey")):
        cls = getattr(getattr(rust_openssl, module, None), name, None)
        if cls is not None:
            copyreg.pickle(cls, _reduce)
    _done = True

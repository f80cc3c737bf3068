"""Small text helpers the CLI commands share."""

from __future__ import annotations


def show_left(left: dict[str, list[str]], env: str) -> str:
    if not any(left.values()):
        return f"Left in the local world for {env}: nothing."
    lines = [f"Left in the local world for {env}:"]
    for kind, items in left.items():
        for item in items:
            lines.append(f"  {kind}: {item}")
    return "\n".join(lines)

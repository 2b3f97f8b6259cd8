"""The verifier docs/webhooks.md gives providers, loaded from that page: tests run the very code a provider
copies, so the page cannot drift from what referrals sends."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

PAGE = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"


def documented_verifier() -> SimpleNamespace:
    """`verify`, `InvalidWebhook` and `TOLERANCE_SECONDS` from the page's Python example."""
    [code] = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.S)
    namespace: dict = {"__name__": "webhooks_md"}
    exec(compile(code, str(PAGE), "exec"), namespace)  # noqa: S102 - our own documentation, under test
    return SimpleNamespace(verify=namespace["verify"], InvalidWebhook=namespace["InvalidWebhook"],
                           TOLERANCE_SECONDS=namespace["TOLERANCE_SECONDS"])

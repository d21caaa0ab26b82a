"""Where the session's model-API recorder (`promptster proxy`) listens, for the tools' setup.

`start --proxy` picks the port and writes `.promptster/proxy.json` before the AI tools are set
up, so each tool's `setup` can point its base URL at the recorder (Claude Code's workspace
settings, the `promptster codex` launcher). The file is the proxy's configuration too: the
upstream base URL per provider and the budget. Stdlib only: `status`, `doctor`, the recorder
and the tools' setup read it without the HTTP stack.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from promptster.paths import session_dir

CONFIG_FILE = "proxy.json"  # what start chose: port, upstreams, budget
INFO_FILE = "proxy-info.json"  # the running proxy: pid, url; left behind by a crash
LOCK_FILE = "proxy.lock"  # held while a proxy serves the session
LOG_FILE = "proxy.log"
HOST = "127.0.0.1"
DEFAULT_PORT = 47821
PROVIDERS = ("anthropic", "openai")
DEFAULT_UPSTREAMS = {"anthropic": "https://api.anthropic.com", "openai": "https://api.openai.com"}
UPSTREAM_ENV = {
    "anthropic": "PROMPTSTER_UPSTREAM_ANTHROPIC",
    "openai": "PROMPTSTER_UPSTREAM_OPENAI",
}


@dataclass(frozen=True)
class ProxyConfig:
    port: int
    upstreams: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_UPSTREAMS))
    budget_usd: float | None = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "port": self.port,
            "url": self.url,
            "upstreams": dict(self.upstreams),
            "budgetUsd": self.budget_usd,
        }


def upstreams_from(pairs: list[str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """Defaults, then the environment (PROMPTSTER_UPSTREAM_*), then `provider=URL` pairs.

    Raises ValueError naming the bad pair."""
    env = os.environ if environ is None else environ
    chosen = dict(DEFAULT_UPSTREAMS)
    for provider, name in UPSTREAM_ENV.items():
        if env.get(name):
            chosen[provider] = env[name]
    for pair in pairs:
        provider, sep, url = pair.partition("=")
        provider = provider.strip().lower()
        if not sep or provider not in PROVIDERS:
            raise ValueError(f"--upstream takes PROVIDER=URL with PROVIDER one of {PROVIDERS}")
        chosen[provider] = url.strip()
    for provider, url in chosen.items():
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"the {provider} upstream is not an http(s) URL: {url!r}")
        chosen[provider] = url.rstrip("/")
    return chosen


def config_path(session_folder: Path) -> Path:
    return session_folder / CONFIG_FILE


def write_config(session_folder: Path, config: ProxyConfig) -> None:
    path = config_path(session_folder)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(config.to_json(), indent=2) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def read_config(session_folder: Path) -> ProxyConfig | None:
    """The proxy configuration of a session, None when the session has no proxy."""
    try:
        body = json.loads(config_path(session_folder).read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or not isinstance(body.get("port"), int):
        return None
    upstreams = body.get("upstreams")
    budget = body.get("budgetUsd")
    return ProxyConfig(
        port=body["port"],
        upstreams=(
            {str(k): str(v) for k, v in upstreams.items()}
            if isinstance(upstreams, dict)
            else dict(DEFAULT_UPSTREAMS)
        ),
        budget_usd=float(budget) if isinstance(budget, int | float) else None,
    )


def wired_url(workspace: Path) -> str | None:
    """The URL the tools of this workspace are pointed at, None without `start --proxy`."""
    config = read_config(session_dir(workspace))
    return config.url if config is not None else None

"""`promptster proxy`: run the session's model-API recorder in the foreground."""

from __future__ import annotations

import click
from rich.markup import escape

from promptster.cli.output import err_console
from promptster.errors import EnvironmentProblem, StateError


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Listen on this port of 127.0.0.1 (another one when it is taken; default: the port "
    "`start --proxy` chose, else 47821).",
)
@click.option(
    "--upstream",
    "upstreams",
    multiple=True,
    metavar="PROVIDER=URL",
    help="Forward this provider's requests to URL (anthropic=URL, openai=URL; repeatable). "
    "Default: the session's choice, $PROMPTSTER_UPSTREAM_ANTHROPIC / _OPENAI, or the "
    "providers' own APIs.",
)
@click.option(
    "--budget-usd",
    type=click.FloatRange(min=0),
    default=None,
    help="Refuse model requests once the replies that passed cost this much (default: the "
    "assessment's tokenBudgetUsd, if any).",
)
def proxy(port: int | None, upstreams: tuple[str, ...], budget_usd: float | None) -> None:
    """Record every model request of the tools pointed at 127.0.0.1:PORT (until ^C or the
    session ends). Anthropic Messages at /v1/messages; OpenAI Chat Completions and Responses
    at /v1/chat/completions and /v1/responses."""
    from dataclasses import replace

    from promptster.cli.current import current_session
    from promptster.integrations import apiproxy
    from promptster.record.proxy import control
    from promptster.record.proxy.main import ProxyBusy, save_config, serve

    paths, state = current_session()
    if not state.active:
        raise StateError(f"the session is {state.status}; there is nothing to record")
    if control.running(paths.root):
        url = (control.info(paths.root) or {}).get("url", "?")
        raise EnvironmentProblem(
            f"the session's API recorder already runs at {url}",
            "point your tool at that URL; `promptster status` shows which tools are wired",
        )
    config = apiproxy.read_config(paths.root)
    try:
        chosen = apiproxy.upstreams_from(list(upstreams))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--upstream") from exc
    if config is None:
        config = apiproxy.ProxyConfig(apiproxy.DEFAULT_PORT, chosen)
    elif upstreams:
        config = replace(config, upstreams={**config.upstreams, **chosen})
    if port is not None:
        config = replace(config, port=port)
    if budget_usd is not None:
        config = replace(config, budget_usd=budget_usd)
    config = replace(config, port=control.pick_port(config.port))
    save_config(paths.root, config)  # `status` shows it; a `start --proxy` autostart stays
    err_console().print(
        f"API recorder on [bold]{escape(config.url)}[/] (^C stops it); "
        f"Anthropic → {escape(config.upstreams['anthropic'])}, "
        f"OpenAI → {escape(config.upstreams['openai'])}"
    )
    try:
        serve(paths.root, config)
    except ProxyBusy as exc:
        raise EnvironmentProblem(str(exc)) from exc

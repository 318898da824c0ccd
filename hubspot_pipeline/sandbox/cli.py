"""`hubspot-pipeline sandbox`: serve the local HubSpot on a port, for the demo and for manual poking."""

from __future__ import annotations

import click

from hubspot_pipeline.sandbox.options import RATE_LIMIT_PROFILES


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8765, show_default=True, type=int)
@click.option("--private-app-token", default="pat-local-demo", show_default=True)
@click.option("--hub-id", default=1234567, show_default=True, type=int)
@click.option(
    "--extra-portals",
    default=0,
    show_default=True,
    type=int,
    help="more portals, hub ids counting up from --hub-id, tokens pat-na1-sandbox-<hub id>",
)
@click.option(
    "--rate-limit-profile",
    type=click.Choice(sorted(RATE_LIMIT_PROFILES)),
    default="free",
    show_default=True,
    help="private-app burst limit per 10 s: free/starter 100, pro/enterprise 190",
)
@click.option("--ten-second-limit", type=int, default=None, help="override the profile's burst limit")
@click.option("--no-rate-limits", is_flag=True, help="never answer 429 for budget reasons")
@click.option("--retry-after", type=float, default=None, help="send Retry-After (seconds) on 429s")
@click.option(
    "--index-lag", type=float, default=0.0, show_default=True, help="seconds a write is invisible to search"
)
@click.option("--latency-ms", type=float, default=0.0, show_default=True)
@click.option("--jitter-ms", type=float, default=0.0, show_default=True)
@click.option("--fault-429", type=float, default=0.0, show_default=True, help="probability per request")
@click.option("--fault-500", type=float, default=0.0, show_default=True)
@click.option("--fault-502", type=float, default=0.0, show_default=True)
@click.option("--fault-503", type=float, default=0.0, show_default=True)
@click.option("--fault-timeout", type=float, default=0.0, show_default=True)
@click.option(
    "--fault-drop", type=float, default=0.0, show_default=True, help="close the connection mid-response"
)
@click.option("--daily-limit", type=int, default=None, help="override the profile's daily cap")
@click.option(
    "--access-token-ttl", type=int, default=1800, show_default=True, help="OAuth access token seconds"
)
@click.option(
    "--webhook-duplicates",
    type=float,
    default=0.0,
    show_default=True,
    help="probability that a webhook event is delivered twice",
)
@click.option(
    "--webhook-out-of-order", is_flag=True, help="shuffle webhook events within and across requests"
)
@click.option(
    "--clock-scale", type=float, default=1.0, show_default=True, help="sandbox seconds per real second"
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="seeds faults, jitter and webhook retries"
)
def command(
    host: str,
    port: int,
    private_app_token: str,
    hub_id: int,
    extra_portals: int,
    rate_limit_profile: str,
    ten_second_limit: int | None,
    no_rate_limits: bool,
    retry_after: float | None,
    index_lag: float,
    latency_ms: float,
    jitter_ms: float,
    fault_429: float,
    fault_500: float,
    fault_502: float,
    fault_503: float,
    fault_timeout: float,
    fault_drop: float,
    daily_limit: int | None,
    access_token_ttl: int,
    webhook_duplicates: float,
    webhook_out_of_order: bool,
    clock_scale: float,
    seed: int,
) -> None:
    """Serve the HubSpot sandbox: HubSpot's API, OAuth and webhooks on a local port."""
    import uvicorn

    from hubspot_pipeline.sandbox.app import create_app
    from hubspot_pipeline.sandbox.options import FaultOptions, SandboxOptions, WebhookOptions

    options = SandboxOptions(
        private_app_token=private_app_token,
        hub_id=hub_id,
        rate_limit_profile=rate_limit_profile,  # type: ignore[arg-type]
        ten_second_limit=ten_second_limit,
        rate_limits_enabled=not no_rate_limits,
        retry_after_seconds=retry_after,
        index_lag_seconds=index_lag,
        clock_scale=clock_scale,
        seed=seed,
        daily_limit=daily_limit,
        access_token_ttl_seconds=access_token_ttl,
        webhooks=WebhookOptions(duplicate_probability=webhook_duplicates, out_of_order=webhook_out_of_order),
        faults=FaultOptions(
            latency_ms=latency_ms,
            jitter_ms=jitter_ms,
            rate_limit_429=fault_429,
            error_500=fault_500,
            error_502=fault_502,
            error_503=fault_503,
            timeout=fault_timeout,
            drop_connection=fault_drop,
        ),
    )
    app = create_app(options)
    for index in range(extra_portals):
        app.sandbox.add_portal(hub_id + index + 1)
    click.echo(f"HubSpot sandbox on http://{host}:{port}  hub {hub_id}  token {private_app_token}")
    for portal in list(app.sandbox.portals.values())[1:]:
        click.echo(f"  also hub {portal.hub_id}  token {next(iter(portal.private_app_tokens))}")
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False, date_header=False)

"""`migrate sandbox --synthetic N`: both emulators over a generated tenant of N channel messages.

The Graph side is a `LazyGraphEmulator` (lazy_routes.py): the tenant is generated on demand
from (N, seed), so the emulator's memory stays small at N = 10,000,000. The Slack side holds a
workspace with ~90% of the tenant's users (matched by email, as `synthetic.synthetic_workspace`
does for in-memory tenants), built from a generator so that only the Slack emulator's own
state holds them (compact user objects: ~0.5 KB each).
"""

from __future__ import annotations

from collections.abc import Iterator

from migrate.sandbox.lazy_routes import LazyGraphEmulator
from migrate.sandbox.lazy_skeleton import hash_of
from migrate.sandbox.lazy_tenant import LazyTenant
from migrate.sandbox.runner import RunningSandbox, _listen
from migrate.sandbox.slack_emulator import SlackEmulator
from migrate.sandbox.tenant import Json, Sandbox, SlackWorkspace

MATCHED_PER_MILLE = 900


class _SlackUsers:
    """The Slack users of a generated tenant, built as they are iterated (the Slack emulator
    copies them into its state once)."""

    def __init__(self, tenant: LazyTenant) -> None:
        self.tenant = tenant

    def __iter__(self) -> Iterator[Json]:
        yield {"id": "U0BOT", "team_id": "T0SYNTH", "name": "migrator", "real_name": "migrator",
               "deleted": False, "is_bot": True, "is_app_user": False,
               "profile": {"real_name": "migrator"}}
        gen = self.tenant
        for i in range(gen.users_count):
            if hash_of(gen.salt, 0x51AC, i) % 1000 >= MATCHED_PER_MILLE:
                continue
            given, family = gen.user_name(i)
            name = f"{given} {family}"
            yield {"id": f"U{i:08d}", "team_id": "T0SYNTH", "name": f"user{i:07d}",
                   "real_name": name, "deleted": False, "is_bot": False,
                   "profile": {"email": f"user{i:07d}@example.test", "real_name": name,
                               "display_name": name}}

    def __len__(self) -> int:
        return 1 + sum(1 for i in range(self.tenant.users_count)
                       if hash_of(self.tenant.salt, 0x51AC, i) % 1000 < MATCHED_PER_MILLE)


def synthetic_slack_workspace(tenant: LazyTenant) -> SlackWorkspace:
    return SlackWorkspace(team={"id": "T0SYNTH", "name": "Synthetic", "domain": "synthetic"},
                          bot={"user_id": "U0BOT", "bot_id": "B0BOT", "app_id": "A0BOT"},
                          users=_SlackUsers(tenant), channels=[])  # type: ignore[arg-type]


def start_synthetic_sandbox(messages: int, *, seed: int = 1, rate_scale: float = 1.0,
                            graph_port: int = 0, slack_port: int = 0,
                            throttle: bool = True, people: int | None = None) -> RunningSandbox:
    """Start the Graph emulator over a generated tenant of `messages` channel messages and
    the Slack emulator with ~90% of its users; `.env()` points `migrate` at them, `.stop()`
    stops both. The tenant is read-only (control changes answer 400)."""
    tenant = LazyTenant(messages, seed=seed, people=people)
    workspace = synthetic_slack_workspace(tenant)
    graph = _listen("Graph", graph_port, "--graph-port", lambda: LazyGraphEmulator(
        tenant, rate_scale=rate_scale, seed=seed, port=graph_port, throttle=throttle))
    try:
        slack = _listen("Slack", slack_port, "--slack-port", lambda: SlackEmulator(
            workspace, rate_scale=rate_scale, seed=seed, port=slack_port, throttle=throttle))
    except BaseException:
        graph.stop()
        raise
    return RunningSandbox(Sandbox(tenant, workspace), graph, slack, rate_scale)  # type: ignore[arg-type]

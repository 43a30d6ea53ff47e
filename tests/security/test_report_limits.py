"""The portal's "download my report" issues and renders a PDF on every press: it shares
the report bucket per address (``BONAFIDES_REPORT_RATE_PER_MINUTE``). Both stores."""

from __future__ import annotations

from bonafides.security.roles import Role
from bonafides.settings import Settings
from tests import factories
from tests.security.test_portal_pages import _sign_in
from tests.security.world import World, api


def test_the_portal_report_download_is_rate_limited(world: World, settings: Settings) -> None:
    firm = factories.org()
    world.account("firm", Role.SUBJECT, subject=firm)
    world.penalty(firm)
    limited = settings.model_copy(update={"report_rate_per_minute": 2})
    with api(limited, world) as client:
        csrf = _sign_in(client, "firm")
        answers = [
            client.post("/me/report", data={"csrf": csrf}, follow_redirects=False) for _ in range(3)
        ]
        assert [a.status_code for a in answers] == [303, 303, 429]
        assert int(answers[-1].headers["Retry-After"]) >= 1

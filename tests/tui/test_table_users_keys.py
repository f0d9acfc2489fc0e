"""The admin's users table takes the ticket table's keys: j/k and g/G move the cursor."""

from __future__ import annotations

from lesbillets_tui.screens.admin import AdminScreen
from tests.support import ADMIN, ServerHarness
from tests.tui.helpers import running_app, until


async def test_j_k_g_and_shift_g_move_through_the_users(server: ServerHarness) -> None:
    """j and k go down and up a user, G to the last, g back to the first, as in the ticket table."""
    async with running_app(server, ADMIN) as (app, pilot, _):
        await pilot.press("U")
        await until(pilot, lambda: isinstance(app.screen, AdminScreen) and len(app.screen.accounts) >= 3, "the users")
        users = app.screen
        assert isinstance(users, AdminScreen)
        last = len(users.accounts) - 1
        rows = []
        for key in ("j", "j", "k", "G", "g"):
            await pilot.press(key)
            rows.append(users.table.cursor_row)
        assert rows == [1, 2, 1, last, 0]
        assert users.selected == users.accounts[0]

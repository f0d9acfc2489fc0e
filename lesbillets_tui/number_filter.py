"""The filter's ``#1042``, sans I/O: a lone number is a jump to that ticket; a number no ticket has is said so.

While it is typed, ``#1042`` filters like any other part (the table shows just that ticket, the cursor on it).
On enter, a filter that is one number and nothing else is taken as "go to": the filter is cleared and the cursor
stays on the ticket, among its neighbours, which is what an agent who types a number a customer quoted expects;
a table left filtered to one row would be a dead end to escape from. A number among other parts (``#1042 #1043``,
``status:open #1042``) is a filter and stays one.
"""

from __future__ import annotations

from lesbillets_tui.query import Filter, parse_query
from lesbillets_tui.table_model import TableModel


def jump_number(query: str) -> int | None:
    """The number when the filter's text is a single ``#n`` and nothing else; None otherwise."""
    parsed = parse_query(query)
    numbers = parsed.filter.numbers
    if parsed.errors or len(numbers) != 1 or parsed.filter != Filter(numbers=numbers):
        return None
    return next(iter(numbers))


def number_notes(model: TableModel) -> tuple[str, ...]:
    """Sentences about the filter's numbers that show no ticket: none has that number (or none loaded so far), or
    the rest of the filter hides it."""
    wanted = model.filter.numbers
    if not wanted:
        return ()
    # The filter keeps only tickets with these numbers, so at most len(wanted) rows are shown.
    shown = {row.number for row in model.rows(0, len(wanted))}
    notes = []
    for number in sorted(wanted - shown):
        if model.with_number(number) is not None:
            notes.append(f"#{number} does not match the rest of the filter.")
        elif model.loaded:
            notes.append(f"No ticket has the number #{number}.")
        else:
            notes.append(f"No ticket numbered #{number} has loaded yet.")
    return tuple(notes)

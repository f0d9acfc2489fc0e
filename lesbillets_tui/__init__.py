"""Les Billets for agents: a Textual app over the `protocol` client.

app.py          the App, and the one link worker that reads from the server
screens/        login, tickets (the live table), editor, ticket view, help, confirm
widgets/        ticket_table (virtualised), ticket_preview, status_bar, filter_bar
table_model.py  the table's rows, sort and filter, sans I/O (query.py parses the filter, number_filter.py its
                #1042); table_layout.py its columns by width; gcpause.py for its loads
messages.py     the Textual messages between the link worker, the app and the screens
cli.py          `lesbillets`; demo.py is `make run`; perf.py times the table headless
launch.py       local server processes for the launchers (`make run`, `make cluster`)
"""

"""The app's screens: login, the ticket table, the editor, ticket view, help and a yes/no question."""

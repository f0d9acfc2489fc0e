from lesbillets_server.cli import app

app(prog_name="lesbillets-server")

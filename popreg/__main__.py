from popreg.cli import app

app()

"""One thin router module per service; ``app.create_app`` includes every module here."""

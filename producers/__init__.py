"""In: commune systems and collaborators' apps publish vital events (SDK, CLI, HTTP gateway)."""

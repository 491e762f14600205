"""Commands that work on the site: build/publish, new-thread."""

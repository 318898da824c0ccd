"""Demo data and the `demo` command."""

"""The Starlette app: settings, GraphQL over HTTP, metrics, health, and the CLI."""

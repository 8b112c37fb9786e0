"""The web desk's pages: one module each, each with its `router` (web.core.DeskRoute)."""

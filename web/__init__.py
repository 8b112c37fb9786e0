"""The web desk (spec §6, issue #12): server-rendered pages under /desk/ in the
bot's own FastAPI app. Routes are thin: the session and role (web.core), a desk
or features use case, a Jinja2 template. Every asset is served from web/static.
"""

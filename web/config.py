"""The web desk's settings (env / .env), validated at start with the bot's others."""

from __future__ import annotations

from pydantic import BaseModel, Field, field_validator


class WebConfig(BaseModel):
    """DESK_PUBLIC_URL, WEB_LOGIN_LINK_MINUTES, WEB_SESSION_HOURS, WEB_LOGIN_ATTEMPTS_PER_MINUTE,
    WEB_IMPORT_MAX_BYTES, WEB_IMPORT_DIR."""

    desk_public_url: str = Field(
        default="",
        description="the address staff open, e.g. http://192.168.1.20:8080 (login links start with it)",
    )
    web_login_link_minutes: int = Field(default=10, ge=1, le=60)
    web_session_hours: int = Field(default=12, ge=1, le=24 * 7)
    web_login_attempts_per_minute: int = Field(default=10, ge=1, le=600)
    web_import_max_bytes: int = Field(
        default=20 * 1024 * 1024,
        ge=64 * 1024,
        le=200 * 1024 * 1024,
        description="the largest file 导入 accepts (the body limit of its upload route alone)",
    )
    web_import_dir: str = Field(
        default="",
        description="where uploaded import files wait (a private folder); default: "
        "imports/ beside the SQLite database, else data/imports",
    )

    @field_validator("desk_public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    def base_url(self, host: str, port: int) -> str:
        """Where login links point: DESK_PUBLIC_URL, else the bot's own HOST:PORT."""
        if self.desk_public_url:
            return self.desk_public_url
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        return f"http://{shown}:{port}"

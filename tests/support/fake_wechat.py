"""A fake WeChat API (WeCom + Official Account) on 127.0.0.1, over real HTTP.

Tokens are issued per credential and checked per endpoint the way WeChat does:
an unknown or revoked token gets 40014, another credential's token 48002
(api forbidden) - so a test sees whether the adapter used the right secret.
Every request is recorded (`calls`); `delays[path]` slows an endpoint down,
`hold(path)` keeps its answers back until `release(path)` (a timeout test),
`user_errors[touser]` makes sends to that user fail with that code,
`group_chats[chat_id]` is the `group_chat` groupchat/get answers for that chat
(e.g. members with the `state` of the join way they came through).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

CORP_ID = "wwcorp0001"
AGENT_ID = 1000002
WECOM_SECRET = "wecom-app-secret-0001"
CONTACT_SECRET = "wecom-contact-secret-0001"
OA_APP_ID = "wx1234567890abcdef"
OA_SECRET = "oa-secret-0001"

# endpoint -> the credential whose token it takes
ENDPOINTS = {
    "/cgi-bin/message/send": "wecom_app",
    "/cgi-bin/externalcontact/groupchat/get": "wecom_contact",
    "/cgi-bin/externalcontact/add_contact_way": "wecom_contact",
    "/cgi-bin/externalcontact/add_msg_template": "wecom_contact",
    "/cgi-bin/message/custom/send": "oa",
}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    at: float = field(default_factory=time.monotonic)


class FakeWeChat:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.tokens: dict[str, str] = {}  # token -> credential
        self.delays: dict[str, float] = {}
        self.held: dict[str, threading.Event] = {}
        self.user_errors: dict[str, int] = {}
        self.group_chats: dict[str, dict[str, Any]] = {}
        self.expires_in = 7200
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeWeChat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeWeChat:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what tests look at ----------------------------------------------------

    def requests_to(self, path: str, since: int = 0) -> list[Call]:
        with self._lock:
            return [c for c in self.calls[since:] if c.path == path]

    def mark(self) -> int:
        with self._lock:
            return len(self.calls)

    def revoke_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def hold(self, path: str) -> None:
        with self._lock:
            self.held[path] = threading.Event()

    def release(self, path: str) -> None:
        with self._lock:
            held = self.held.pop(path, None)
        if held is not None:
            held.set()

    def reset(self) -> None:
        for path in list(self.held):
            self.release(path)
        with self._lock:
            self.calls.clear()
            self.delays.clear()
            self.user_errors.clear()
            self.group_chats.clear()
            self.expires_in = 7200

    # -- the API -----------------------------------------------------------------

    def _issue(self, credential: str | None) -> dict[str, Any]:
        if credential is None:
            return {"errcode": 40001, "errmsg": "invalid credential"}
        token = f"{credential}-token-{next(self._ids)}"
        with self._lock:
            self.tokens[token] = credential
        return {"errcode": 0, "access_token": token, "expires_in": self.expires_in}

    def answer(self, call: Call) -> dict[str, Any]:
        q = call.query
        if call.path == "/cgi-bin/gettoken":
            secrets = {WECOM_SECRET: "wecom_app", CONTACT_SECRET: "wecom_contact"}
            ok = q.get("corpid") == CORP_ID
            return self._issue(secrets.get(q.get("corpsecret", "")) if ok else None)
        if call.path == "/cgi-bin/token":
            ok = q.get("appid") == OA_APP_ID and q.get("secret") == OA_SECRET
            return self._issue("oa" if ok and q.get("grant_type") == "client_credential" else None)
        wanted = ENDPOINTS.get(call.path)
        if wanted is None:
            return {"errcode": 404, "errmsg": "no such api"}
        with self._lock:
            credential = self.tokens.get(q.get("access_token", ""))
        if credential is None:
            return {"errcode": 40014, "errmsg": "invalid access_token"}
        if credential != wanted:
            return {"errcode": 48002, "errmsg": "api forbidden"}
        body = call.body or {}
        if call.path in ("/cgi-bin/message/send", "/cgi-bin/message/custom/send"):
            code = self.user_errors.get(str(body.get("touser")))
            if code:
                return {"errcode": code, "errmsg": "user error"}
            return {"errcode": 0, "errmsg": "ok", "invaliduser": ""}
        if call.path.endswith("/groupchat/get"):
            with self._lock:
                chat = self.group_chats.get(str(body.get("chat_id")))
            if chat is not None:
                return {"errcode": 0, "group_chat": chat}
            return {
                "errcode": 0,
                "group_chat": {
                    "chat_id": body.get("chat_id"),
                    "name": "车主群",
                    "owner": "wangguwen",
                    "member_list": [
                        {"userid": "wangguwen", "type": 1, "join_scene": 1},
                        {"userid": "wmEXTERNAL01", "type": 2, "join_scene": 3},
                    ],
                },
            }
        if call.path.endswith("/add_contact_way"):
            return {
                "errcode": 0,
                "config_id": f"cfg-{body.get('state')}",
                "qr_code": "https://qr/x",
            }
        return {"errcode": 0, "fail_list": [], "msgid": "msg-template-1"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                body = None
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    raw = self.rfile.read(length)
                    try:
                        body = json.loads(raw.decode("utf-8"))
                    except ValueError:
                        body = {"_raw": raw.decode("utf-8", "replace")}
                call = Call(method, parts.path, query, body)
                with fake._lock:
                    fake.calls.append(call)
                    delay = fake.delays.get(parts.path, 0.0)
                    held = fake.held.get(parts.path)
                if delay:
                    time.sleep(delay)
                if held is not None:
                    held.wait(60)
                data = json.dumps(fake.answer(call), ensure_ascii=False).encode("utf-8")
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        return Handler

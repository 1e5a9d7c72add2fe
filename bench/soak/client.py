"""HTTP as the load drivers speak it (Client), and the record of every answer (Record)."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from http.cookies import SimpleCookie

from .config import PASSWORD


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes
    seconds: float

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass
class Sample:
    who: str  # terminal, erp, planner, supervisor
    what: str
    status: int  # 0: no answer (connection refused / reset)
    seconds: float
    at: float  # monotonic


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.notes: list[str] = []  # unexpected answers, for the report
        self.counts: Counter = Counter()

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def note(self, text: str) -> None:
        with self.lock:
            self.notes.append(text)

    def count(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.counts[name] += n


class Client:
    """One keep-alive connection; cookies and CSRF for session logins; every answered
    attempt is recorded. `call` retries refused connections (the gunicorn restart) with the
    same request (same key, same registration_uuid), as a terminal or the ERP would."""

    def __init__(self, port: int, who: str, record: Record, token: str | None = None) -> None:
        self.port = port
        self.who = who
        self.record = record
        self.token = token
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def once(self, method: str, path: str, body: bytes | None, headers: dict) -> Answer:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = dict(headers)
        if self.token:
            headers["Authorization"] = f"Token {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body, headers)
            response = self.conn.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        seconds = time.perf_counter() - started
        if response.will_close:
            self.close()
        for raw in response.msg.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return Answer(response.status, response.msg, data, seconds)

    def call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict | None = None,
        what: str = "",
        patience: float = 90.0,
    ) -> Answer | None:
        deadline = time.monotonic() + patience
        kept_connection_retry = True
        while True:
            at = time.monotonic()
            try:
                answer = self.once(method, path, body, headers or {})
            except (OSError, http.client.HTTPException):
                if kept_connection_retry:  # the server may have closed a kept connection
                    kept_connection_retry = False
                    continue
                self.record.add(Sample(self.who, what or path, 0, 0.0, at))
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.5)
                continue
            self.record.add(Sample(self.who, what or path, answer.status, answer.seconds, at))
            if answer.status >= 500 and time.monotonic() < deadline:
                time.sleep(0.5)  # counted; retried like a refused connection
                continue
            return answer

    def post_json(self, path: str, payload: dict, key: str | None = None, what: str = ""):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = key
        return self.call("POST", path, json.dumps(payload).encode(), headers, what)

    def login(self, username: str) -> bool:
        page = self.call("GET", "/accounts/login/", what="login page")
        if page is None or page.status != 200:
            return False
        token = self.cookies.get("csrftoken", "")
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": token,
                "next": "/",
            }
        ).encode()
        answer = self.call(
            "POST",
            "/accounts/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded"},
            what="login",
        )
        return answer is not None and answer.status == 302 and "sessionid" in self.cookies

    def post_form(self, path: str, fields: dict, what: str) -> Answer | None:
        fields = {**fields, "csrfmiddlewaretoken": self.cookies.get("csrftoken", "")}
        return self.call(
            "POST",
            path,
            urllib.parse.urlencode(fields).encode(),
            {
                "Content-Type": "application/x-www-form-urlencoded",
                "X-CSRFToken": self.cookies.get("csrftoken", ""),
            },
            what=what,
        )

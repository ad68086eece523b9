"""Who is looking, and what they may see.

A login form posts a user name and password (the password generated into the data
dir's secrets by `popreg up`); the answer is a session cookie signed with HMAC-SHA256
under a key of the same secrets directory, so the server keeps no session table and a
restart of the portal keeps everyone logged in. A province's viewer sees that province
and its communes; the nation's viewer sees everything; anything else is 403.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from functools import cache

from schemas import admin_units
from schemas.settings import Settings

COOKIE = "popreg_portal"


@dataclass(frozen=True)
class Viewer:
    user: str
    province: str | None  # None: the whole nation

    @property
    def scope(self) -> str:
        return "nation" if self.province is None else f"province {self.province}"


class Sessions:
    """Passwords and the signing key, read from the secrets directory once."""

    def __init__(self, settings: Settings) -> None:
        secrets = settings.resolved_data_dir / "secrets"
        self.key = (secrets / "portal-session.key").read_text().strip().encode()
        self.users = settings.portal.users
        self.passwords = {
            user: settings.portal_password_file(user).read_text().strip() for user in self.users
        }
        self.lifetime_s = settings.portal.session_hours * 3600

    def login(self, user: str, password: str) -> Viewer | None:
        expected = self.passwords.get(user)
        if expected is None or not hmac.compare_digest(expected.encode(), password.encode()):
            return None
        return Viewer(user, self.users[user].province)

    def cookie(self, viewer: Viewer) -> str:
        body = json.dumps({"u": viewer.user, "exp": int(time.time() + self.lifetime_s)})
        payload = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def viewer(self, cookie: str | None) -> Viewer | None:
        """The viewer a cookie names, if it is ours, unexpired and its user still exists."""
        if not cookie or "." not in cookie:
            return None
        payload, signature = cookie.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            user, expires = str(body["u"]), float(body["exp"])
        except (ValueError, KeyError, TypeError):
            return None
        if expires < time.time() or user not in self.users:
            return None
        return Viewer(user, self.users[user].province)

    def _sign(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()


@cache
def _units() -> admin_units.AdminUnits:
    return admin_units.load()


@cache
def provinces_seen(province: str) -> frozenset[str]:
    """A province and the former provinces merged into it on 2025-07-01 (each of whose
    former communes went into it): Cà Mau (96) and Bạc Liêu (95). Its viewer sees their
    figures as they were, which are its own today."""
    units = _units()
    by_former: dict[str, set[str]] = {}
    for commune in units.before.values():
        went = by_former.setdefault(commune.province_code, set())
        for link in units.successors(commune.code):
            if (successor := units.after.get(link.new_code)) is not None:
                went.add(successor.province_code)
    merged = {former for former, into in by_former.items() if into == {province}}
    return frozenset({province, *merged})


def province_of_commune(code: str) -> set[str]:
    """The provinces a commune code belongs to: today's, and before the 2025 reform
    (an old commune's own province, and its successors')."""
    units = _units()
    found = set()
    if (now := units.after.get(code)) is not None:
        found.add(now.province_code)
    if (then := units.before.get(code)) is not None:
        found.add(then.province_code)
        for link in units.successors(code):
            if (successor := units.after.get(link.new_code)) is not None:
                found.add(successor.province_code)
    return found


def may_see(viewer: Viewer, level: str, code: str) -> bool:
    if viewer.province is None:
        return True
    if level == "province":
        return code in provinces_seen(viewer.province)
    if level == "commune":
        return viewer.province in province_of_commune(code)
    return False

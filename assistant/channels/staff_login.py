"""Signing staff in and out of the staff page: a plain form at /staff/login that sets an HttpOnly,
SameSite=Strict session cookie (Secure behind HTTPS) for one working day, and /staff/logout that ends it.

Wrong names and wrong passwords get the same answer; an account locks after repeated wrong passwords
(services/accounts.py) and each browser address is rate-limited like the rest of the API.
"""

from __future__ import annotations

import html

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from assistant.channels.staff_api import COOKIE
from assistant.channels.web import browser_lang
from assistant.core.prompts import render
from assistant.services import accounts, audit


def login_page(lang: str, note: str = "") -> str:
    """The sign-in form, in the browser's language, with `note` (an error) above it."""
    t = lambda key: html.escape(render(key, lang, file="web"))  # noqa: E731
    shown = f'<p id="cd-login-error" role="alert">{html.escape(note)}</p>' if note else ""
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{t('login_title')}</title><style>body{{font-family:'Noto Sans CJK SC',sans-serif;max-width:420px;"
            "margin:3rem auto;padding:0 1rem;font-size:17px}label{display:block;margin-top:1rem}"
            "input{width:100%;padding:.6rem;font-size:1rem;box-sizing:border-box}button{margin-top:1.2rem;"
            "width:100%;min-height:44px;font-size:1rem}#cd-login-error{color:#8a1c1c;font-weight:600}</style></head>"
            f"<body><h1>{t('login_title')}</h1>{shown}"
            '<form method="post" action="/staff/login" autocomplete="on">'
            f'<label for="cd-login-name">{t("login_name")}</label>'
            '<input id="cd-login-name" name="name" autocomplete="username" required maxlength="64">'
            f'<label for="cd-login-password">{t("login_password")}</label>'
            '<input id="cd-login-password" name="password" type="password" autocomplete="current-password" required '
            'maxlength="200">'
            f'<button id="cd-login-submit" type="submit">{t("staff_sign_in")}</button></form></body></html>')


def add_login_routes(app: FastAPI, assistant, limiter) -> None:
    @app.get("/staff/login", include_in_schema=False)
    def show(request: Request):
        return HTMLResponse(login_page(browser_lang(request)))

    @app.post("/staff/login", include_in_schema=False)
    def sign_in(request: Request, name: str = Form(""), password: str = Form("")):
        lang = browser_lang(request)
        client = request.client.host if request.client else ""
        if limiter.allow("staff-login:" + client):
            return HTMLResponse(login_page(lang, render("staff_too_fast", lang, file="web")), status_code=429)
        try:
            secret = accounts.sign_in(assistant.sessions, name[:64], password[:200], client=client)
        except accounts.AccountError as exc:
            key = "login_locked" if str(exc) == "locked" else "login_wrong"
            return HTMLResponse(login_page(lang, render(key, lang, file="web")), status_code=401)
        response = RedirectResponse("/staff/", status_code=303)
        secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"
        response.set_cookie(COOKIE, secret, max_age=accounts.SESSION_SECONDS, httponly=True, samesite="strict",
                            secure=secure, path="/")
        return response

    @app.post("/staff/logout", include_in_schema=False)
    def sign_out(request: Request):
        secret = request.cookies.get(COOKIE, "")
        found = accounts.resolve(assistant.sessions, secret, "session")
        accounts.sign_out(assistant.sessions, secret)
        if found is not None:
            audit.record(assistant.sessions, actor=found.name, action="sign_out",
                         client=request.client.host if request.client else "")
        response = RedirectResponse("/staff/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

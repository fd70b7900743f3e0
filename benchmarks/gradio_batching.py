"""Gradio's own batching (`batch=True`, `max_batch_size`) against the chat's batcher (`ui.batcher`).

    python benchmarks/gradio_batching.py                 # 8 clients x 4 questions, each server twice

Serves one real assistant (the packaged embedder, the shipped reader, an index of the first
SQuAD v1.1 dev articles) three ways in this process, on loopback, and has `--clients` clients ask
their questions at once through `/ask`, one after another each:

- "batcher": the chat app as `qa serve` builds it (`ui.app.build_app`, questions that arrive
  together read in one `Assistant.ask_many`, at most 8);
- "gradio-batch": a Gradio event with `batch=True, max_batch_size=8` whose function calls
  `Assistant.ask_many` on the batch Gradio hands it;
- "one-by-one": the chat app with `max_batch=1`, for reference.

The three are interleaved (each runs `--rounds` times) because the machine may be shared. Prints a
table (answers per second, median and 95th percentile latency) and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT / ".." / "shared" / "data" / "squad" / "dev-v1.1.json"


def build_assistant(work: Path, articles_n: int):
    from qa import Assistant, Settings, load_squad

    articles, questions = load_squad(SQUAD)
    chosen = articles[:articles_n]
    ids = {a.id for a in chosen}
    index = work / f"index-{articles_n}"
    assistant = Assistant.build(chosen, index, Settings(index_dir=index))
    assistant.warm_up()
    return assistant, [q.question for q in questions if q.article_id in ids]


def gradio_batch_app(assistant, max_batch: int):
    import gradio as gr

    from ui.handlers import public_result

    def ask_batch(questions: list[str]):
        results = assistant.ask_many([(q, None) for q in questions])
        return [[public_result(r) for r in results]]

    with gr.Blocks(analytics_enabled=False) as app:
        question = gr.Textbox(visible=False)
        answer = gr.JSON(visible=False)
        button = gr.Button(visible=False)
        button.click(ask_batch, inputs=question, outputs=answer, batch=True, max_batch_size=max_batch,
                     api_name="ask", concurrency_limit=1)
    app.queue(default_concurrency_limit=max_batch, api_open=False)
    return app


def launch(app) -> tuple[str, object]:
    app.launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True, quiet=True,
               show_error=False, ssr_mode=False)
    return app.local_url, app


def run(url: str, clients: int, per_client: int, questions: list[str], offset: int) -> dict:
    from gradio_client import Client

    users = [Client(url, verbose=False) for _ in range(clients)]
    latencies: list[float] = []
    lock = threading.Lock()
    start_gate = threading.Barrier(clients + 1)

    def user(i: int) -> None:
        start_gate.wait()
        for j in range(per_client):
            q = questions[(offset + i * per_client + j) % len(questions)]
            t = time.perf_counter()
            out = users[i].predict(q, api_name="/ask")
            assert isinstance(out, dict) and out["question"], out
            with lock:
                latencies.append(time.perf_counter() - t)

    threads = [threading.Thread(target=user, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    start_gate.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"answers": len(latencies), "wall_s": round(wall, 2), "answers_per_s": round(len(latencies) / wall, 3),
            "p50_s": round(statistics.median(latencies), 3),
            "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--questions", type=int, default=4, help="asked by each client, one after another")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--articles", type=int, default=3, help="first SQuAD dev articles indexed")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsqa-gradio-batching"))
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "gradio_batching.json")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from ui.app import build_app

    assistant, questions = build_assistant(args.work, args.articles)
    servers = {"batcher": launch(build_app(assistant, max_batch=8))[0],
               "gradio-batch": launch(gradio_batch_app(assistant, 8))[0],
               "one-by-one": launch(build_app(assistant, max_batch=1))[0]}
    for name, url in servers.items():  # warm each server's path once
        run(url, 2, 1, questions, 0)
    results: dict[str, list[dict]] = {name: [] for name in servers}
    offset = 0
    for _ in range(args.rounds):
        for name, url in servers.items():
            offset += args.clients * args.questions
            results[name].append(run(url, args.clients, args.questions, questions, offset))
            print(name, results[name][-1], file=sys.stderr, flush=True)
    print(f"{'server':14} {'answers/s':>10} {'p50 s':>7} {'p95 s':>7}   ({args.clients} clients x "
          f"{args.questions} questions, {args.rounds} interleaved rounds; mean over rounds)")
    summary = {}
    for name, runs in results.items():
        summary[name] = {k: round(statistics.mean(r[k] for r in runs), 3) for k in ("answers_per_s", "p50_s", "p95_s")}
        s = summary[name]
        print(f"{name:14} {s['answers_per_s']:>10.2f} {s['p50_s']:>7.2f} {s['p95_s']:>7.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"clients": args.clients, "questions_per_client": args.questions,
                                    "rounds": args.rounds, "articles": args.articles, "runs": results,
                                    "mean": summary}, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()

"""Load the chat server with many clients at once, against `Assistant.ask` alone in the same run.

    python benchmarks/server_load.py                          # 20 clients x 10 questions, then 100 x 2
    python benchmarks/server_load.py --scenarios 20x50        # 1,000 questions: does RSS stay flat?
    python benchmarks/server_load.py --max-batch 1            # the server reading one question at a time
    python benchmarks/server_load.py --scenarios 20x10 --login both   # without, then with login (one user each)

Builds (once, in --work) an index of the first SQuAD v1.1 dev articles, about 600 passages, and
asks their questions. Times `Assistant.ask` one question after another in this process (before
and between the scenarios: the machine may be shared), then serves the index on 127.0.0.1 at a free
port, exactly as `qa serve` does, and runs each scenario: every client connects with
`gradio_client`, all start together, and each asks its questions one after another through
`/ask`. `Assistant.ask` alone is timed again between scenarios and at the end, and each scenario
is compared with the mean of the two timings around it. A question turned away with "busy, try again" (QueueError) counts as busy, not as
answered; a failure is any other error, a wrong reply or no reply within --timeout. The server's
RSS is read when it is idle: after warm-up and after each scenario. On a shared machine wall
time depends on what else runs, so the CPU time spent per answer (the server process's, the
timing loop's) is reported too. Everything is bounded by
--max-seconds; traffic stays on loopback. Prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import deque
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SQUAD = ROOT / ".." / "shared" / "data" / "squad" / "dev-v1.1.json"
HOST = "127.0.0.1"


# ---- the corpus --------------------------------------------------------------------------
def corpus(work: Path, squad: Path, passages: int) -> tuple[Path, list[str]]:
    """An index of the first SQuAD dev articles holding at least `passages` paragraphs, and their questions."""
    from index.store import is_index
    from qa import Assistant, Settings, load_squad

    articles, questions = load_squad(squad)
    chosen, count = [], 0
    for article in articles:
        if count >= passages:
            break
        chosen.append(article)
        count += article.text.count("\n\n") + 1
    index = work / f"index-{len(chosen)}"
    if not is_index(index):
        print(f"building the index of {len(chosen)} articles in {index}…", file=sys.stderr, flush=True)
        Assistant.build(chosen, index, Settings(index_dir=index))
    ids = {a.id for a in chosen}
    asked = [q.question for q in questions if q.article_id in ids]
    random.Random(0).shuffle(asked)  # the timing alone and the clients draw from the same mix of articles
    return index, asked


# ---- Assistant.ask alone -----------------------------------------------------------------
def baseline(assistant, questions: list[str]) -> tuple[float, float]:
    """(answers per second, CPU seconds per answer) of `Assistant.ask`, one question after another."""
    started, cpu = time.perf_counter(), time.process_time()
    for question in questions:
        assistant.ask(question)
    return len(questions) / (time.perf_counter() - started), (time.process_time() - cpu) / len(questions)


# ---- the server --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def serve(index: Path, port: int, max_batch: int, users: Path | None = None) -> None:
    """What `qa serve --index` does, with the batch size as a knob (run in a child process).

    `users`: with login, as `qa serve --users` (no limit on questions: this measures the load)."""
    from qa import Assistant, Settings
    from ui.app import build_app, launch_app

    assistant = Assistant.load(index, Settings(index_dir=index))
    assistant.warm_up()
    # an older checkout's server (run this script from there) has no batches to size
    options = {"max_batch": max_batch} if max_batch is not None else {}
    if users is not None:
        from qa.users import ServerAccess
        from ui.auth import Access

        options["access"] = Access(ServerAccess(users_file=users, questions_per_minute=None))
    launch_app(build_app(assistant, **options), HOST, port, block=True)


class Server:
    def __init__(self, index: Path, max_batch: int, start_timeout_s: float, users: Path | None = None):
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}/"
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(index), "--port", str(self.port),
             *(["--max-batch", str(max_batch)] if max_batch else []),
             *(["--users", str(users)] if users is not None else [])],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.log: deque[str] = deque(maxlen=200)
        ready = threading.Event()

        def drain() -> None:  # a full pipe would stall the server
            for line in self.process.stdout:
                self.log.append(line)
                if "Running on local URL" in line:
                    ready.set()

        threading.Thread(target=drain, daemon=True).start()
        waited_until = time.monotonic() + start_timeout_s
        while not ready.wait(0.5) and self.process.poll() is None and time.monotonic() < waited_until:
            pass
        if not ready.is_set() or self.process.poll() is not None:
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.log))

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_s(self) -> float:
        """CPU seconds the server process has used (user + system, all threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def idle_rss_mb(self) -> float:
        time.sleep(2)  # the last batch's memory is handed back after its answers
        return round(self.rss_mb(), 1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ---- clients -----------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def run_scenario(url: str, clients: int, per_client: int, questions: list[str], offset: int,
                 timeout_s: float, deadline: float, login: bool = False) -> dict:
    """`clients` users connect (each logging in as its own user when `login`), start together,
    and each asks `per_client` questions in turn."""
    from gradio_client import Client
    from gradio_client.utils import QueueError

    outcomes: list[tuple[str, float]] = []  # (answered | busy | timeout | error | connect, seconds)
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    finished_at: list[float] = []

    def record(kind: str, seconds: float, detail: str = "") -> None:
        with lock:
            outcomes.append((kind, seconds))
            if detail and len(errors) < 20:
                errors.append(detail)

    def user(i: int) -> None:
        try:
            client = Client(url, verbose=False, analytics_enabled=False, download_files=False,
                            **({"auth": user_login(i)} if login else {}))
        except Exception as e:  # noqa: BLE001 - every failure to connect is a result here
            client = None
            record("connect", 0.0, f"connect: {type(e).__name__}: {e}")
        try:
            start.wait(timeout=max(1.0, deadline - time.monotonic()))
        except threading.BrokenBarrierError:
            return
        if client is None:
            return
        for j in range(per_client):
            if time.monotonic() > deadline:
                break
            question = questions[(offset + i * per_client + j) % len(questions)]
            asked = time.monotonic()
            job = client.submit(question, api_name="/ask")
            try:
                result = job.result(timeout=timeout_s)
            except QueueError:
                record("busy", time.monotonic() - asked)
                continue
            except FutureTimeout:
                job.cancel()
                record("timeout", time.monotonic() - asked, f"no reply within {timeout_s:.0f} s")
                continue
            except Exception as e:  # noqa: BLE001
                record("error", time.monotonic() - asked, f"{type(e).__name__}: {e}")
                continue
            if not isinstance(result, dict) or result.get("question") != " ".join(question.split()):
                record("error", time.monotonic() - asked, f"wrong reply to {question!r}")
            else:
                record("answered", time.monotonic() - asked)
        with lock:
            finished_at.append(time.monotonic())
        client.close()

    cpu = time.process_time()  # what the clients cost this process, which shares the machine with the server
    threads = [threading.Thread(target=user, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    try:
        start.wait(timeout=max(1.0, deadline - time.monotonic()))
    except threading.BrokenBarrierError:
        pass
    began = time.monotonic()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + timeout_s)
    wall = (max(finished_at) if finished_at else time.monotonic()) - began
    kinds = [k for k, _ in outcomes]
    answered = [s for k, s in outcomes if k == "answered"]
    return {
        "clients": clients, "questions_per_client": per_client, "login": login, "wall_s": round(wall, 1),
        "answered": len(answered), "busy": kinds.count("busy"), "timeouts": kinds.count("timeout"),
        "errors": kinds.count("error") + kinds.count("connect"), "not_asked": clients * per_client - len(outcomes),
        "p50_s": _round(percentile(answered, 0.5)), "p95_s": _round(percentile(answered, 0.95)),
        "busy_p95_s": _round(percentile([s for k, s in outcomes if k == "busy"], 0.95)),
        "answers_per_s": round(len(answered) / wall, 3) if wall > 0 else None,
        "clients_cpu_s_per_answer": round((time.process_time() - cpu) / len(answered), 3) if answered else None,
        "error_samples": errors,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


# ---- main --------------------------------------------------------------------------------
def user_login(i: int) -> tuple[str, str]:
    return f"reader-{i}", f"load-test-password-{i}"


def make_users(work: Path, n: int) -> Path:
    """A users file with `n` readers (made once; argon2 takes a moment per user)."""
    from qa.users import UsersFile

    path = work / f"users-{n}.toml"
    if not path.exists():
        users = UsersFile(work / f"users-{n}.toml.partial")
        for i in range(n):
            name, password = user_login(i)
            users.add(name, "reader", password)
        users.path.rename(path)
    return path


def run_server_scenarios(server, args, scenarios, questions, asked, deadline, result, login, time_alone) -> int:
    """Warm `server` up, then run each scenario on it; returns how many questions were asked so far."""
    warm = run_scenario(server.url, min(args.warm_up, 20), max(1, args.warm_up // 20), questions, asked,
                        args.timeout, deadline, login)
    result.setdefault("warm_up", {k: 0 for k in ("answered", "busy", "errors")})
    for k in ("answered", "busy", "errors"):
        result["warm_up"][k] += warm[k]
    rss_warm = server.idle_rss_mb()
    result.setdefault("rss_after_warm_up_mb", rss_warm)
    asked += args.warm_up
    for clients, per_client in scenarios:
        if time.monotonic() > deadline:
            break
        print(f"{clients} clients x {per_client}{' with login' if login else ''}…", file=sys.stderr, flush=True)
        cpu = server.cpu_s()
        scenario = run_scenario(server.url, clients, per_client, questions, asked, args.timeout, deadline, login)
        if scenario["answered"]:
            scenario["server_cpu_s_per_answer"] = round((server.cpu_s() - cpu) / scenario["answered"], 3)
        asked += clients * per_client
        scenario["rss_after_mb"] = server.idle_rss_mb()
        scenario["rss_growth_pct"] = round(100 * (scenario["rss_after_mb"] / rss_warm - 1), 1)
        scenario["questions_answered_so_far"] = result["warm_up"]["answered"] + sum(
            s["answered"] for s in result["scenarios"]) + scenario["answered"]
        scenario["load_average_after"] = load_average()
        result["scenarios"].append(scenario)
        time_alone()  # the server is idle meanwhile
    return asked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scenarios", default="20x10,100x2", help="clients x questions each, comma-separated")
    parser.add_argument("--passages", type=int, default=560, help="index at least this many SQuAD paragraphs")
    parser.add_argument("--baseline-questions", type=int, default=32, help="asked one by one before, between, after")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--warm-up", type=int, default=40, help="questions asked through the server before measuring")
    parser.add_argument("--max-batch", type=int, default=None, help="the server's batch size (default: ui.batcher's)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds a client waits for one answer")
    parser.add_argument("--max-seconds", type=float, default=540.0, help="the whole run stops asking after this")
    parser.add_argument("--work", type=Path, default=Path("/tmp/newsqa-server-load"))
    parser.add_argument("--squad", type=Path, default=SQUAD)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "server_load.json")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--login", choices=["off", "on", "both"], default="off",
                        help="serve without login, with it (each client its own reader), or both in turn")
    parser.add_argument("--users", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    sys.path.insert(0, str(ROOT))
    try:
        from ui.batcher import MAX_BATCH
    except ImportError:  # an older checkout, from before the server read questions in batches
        MAX_BATCH = None

    max_batch = args.max_batch or MAX_BATCH
    if args.serve:
        serve(args.serve, args.port, max_batch, args.users)
        return

    started = time.monotonic()
    deadline = started + args.max_seconds
    scenarios = [tuple(int(n) for n in s.lower().split("x")) for s in args.scenarios.split(",")]
    args.work.mkdir(parents=True, exist_ok=True)
    index, questions = corpus(args.work, args.squad, args.passages)
    result = {"index": str(index), "questions_available": len(questions), "max_batch": max_batch,
              "load_average_start": load_average(), "scenarios": []}
    import torch

    from qa import Assistant, Settings

    result["torch_threads"] = torch.get_num_threads()
    baseline_qs = questions[-args.baseline_questions:]  # a sample like the clients', not among their first
    assistant = None
    alone: list[float] = []  # Assistant.ask alone, answers/s: before, between and after the scenarios
    alone_cpu: list[float] = []  # and its CPU seconds per answer

    def time_alone() -> None:
        if assistant is not None:
            per_s, cpu_per_answer = baseline(assistant, baseline_qs)
            alone.append(round(per_s, 3))
            alone_cpu.append(round(cpu_per_answer, 3))
            print(f"Assistant.ask alone: {per_s:.2f} answers/s, {cpu_per_answer:.2f} CPU s each",
                  file=sys.stderr, flush=True)

    if not args.skip_baseline:
        assistant = Assistant.load(index, Settings(index_dir=index))
        assistant.warm_up()
        for question in baseline_qs[:3]:
            assistant.ask(question)
        time_alone()

    logins = {"off": [False], "on": [True], "both": [False, True]}[args.login]
    users = make_users(args.work, max(c for c, _ in scenarios)) if True in logins else None
    asked = 0
    for login in logins:
        server = Server(index, max_batch, start_timeout_s=300, users=users if login else None)
        try:
            asked = run_server_scenarios(server, args, scenarios, questions, asked, deadline, result, login, time_alone)
        finally:
            server.stop()
    if alone:
        result["ask_alone_per_s"], result["ask_alone_cpu_s_per_answer"] = alone, alone_cpu
        for n, scenario in enumerate(result["scenarios"]):
            around = statistics.mean(alone[n:n + 2])
            scenario["ask_alone_around_per_s"] = round(around, 3)
            scenario["ratio_to_ask_alone"] = round(scenario["answers_per_s"] / around, 3)
            if "server_cpu_s_per_answer" in scenario:
                # above 1: the server spends less CPU per answer than Assistant.ask alone
                scenario["cpu_ratio_to_ask_alone"] = round(
                    statistics.mean(alone_cpu[n:n + 2]) / scenario["server_cpu_s_per_answer"], 3)
    plain = {(x["clients"], x["questions_per_client"]): x for x in result["scenarios"] if not x["login"]}
    for scenario in result["scenarios"]:
        other = plain.get((scenario["clients"], scenario["questions_per_client"]))
        if scenario["login"] and other and other["answers_per_s"] and scenario["answers_per_s"]:
            scenario["answers_per_s_vs_without_login"] = round(scenario["answers_per_s"] / other["answers_per_s"], 3)
    result["load_average_end"] = load_average()
    result["seconds"] = round(time.monotonic() - started)
    report(result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


def report(result: dict) -> None:
    print(f"server load over {result['index']} (max batch {result['max_batch']}, "
          f"{result['torch_threads']} torch threads; load average {result['load_average_start']} at the start, "
          f"{result['load_average_end']} at the end)")
    if "ask_alone_per_s" in result:
        print("Assistant.ask alone, answers/s, before/between/after the scenarios: "
              + ", ".join(f"{v:.2f}" for v in result["ask_alone_per_s"])
              + "; CPU s per answer: " + ", ".join(f"{v:.2f}" for v in result["ask_alone_cpu_s_per_answer"]))
    print(f"server RSS after warm-up: {result['rss_after_warm_up_mb']:.0f} MB")
    print("ask/s: Assistant.ask alone around the scenario; ratio: answers/s over ask/s; CPU s: the server's\n"
          "CPU seconds per answer, and ask alone's over it; RSS: the server's when idle after the scenario,\n"
          "and its growth since warm-up")
    header = f"{'login':>6}{'clients':>8}{'each':>6}{'answered':>10}{'busy':>6}{'errors':>8}{'timeouts':>10}" \
             f"{'p50 s':>8}{'p95 s':>8}{'answers/s':>11}{'ask/s':>7}{'ratio':>7}{'CPU s':>7}{'ratio':>7}{'RSS MB':>8}{'growth':>8}"
    print(header)
    for s in result["scenarios"]:
        ratio = s.get("ratio_to_ask_alone")
        print(f"{'on' if s.get('login') else 'off':>6}{s['clients']:>8}{s['questions_per_client']:>6}{s['answered']:>10}{s['busy']:>6}{s['errors']:>8}"
              f"{s['timeouts']:>10}{_fmt(s['p50_s']):>8}{_fmt(s['p95_s']):>8}{_fmt(s['answers_per_s']):>11}"
              f"{_fmt(s.get('ask_alone_around_per_s')):>7}{_fmt(ratio):>7}{_fmt(s.get('server_cpu_s_per_answer')):>7}{_fmt(s.get('cpu_ratio_to_ask_alone')):>7}{s['rss_after_mb']:>8.0f}{s['rss_growth_pct']:>+7.1f}%")
        if "answers_per_s_vs_without_login" in s:
            print(f"    with login: {s['answers_per_s_vs_without_login']:.3f}x the answers/s without")
        for sample in s["error_samples"][:3]:
            print(f"    {sample}")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


if __name__ == "__main__":
    main()

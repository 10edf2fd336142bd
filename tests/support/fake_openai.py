"""A small OpenAI-compatible HTTP server for tests and benchmarks (chat, files, batches).

The fake judge follows a known rule: it prefers the *longer* of the two shown outputs (the
prompt's second and third ``<<< ... >>>`` blocks; instruction first). Prompts in AlpacaEval's
format (the three texts in triple quotes) get AlpacaEval-shaped answers with a position bias
(see :func:`alpaca_rule`). Faults can be injected:
``inject("429", retry_after=1)``, ``inject("500")``, ``inject("slow", seconds=5)`` and
``inject("nonsense")`` apply to the next chat requests in arrival order; instructions containing
``nonsense_marker`` always get a nonsense answer. Batches report ``request_counts`` progressively
while ``in_progress`` (one share per poll, done after ``batch_polls`` polls); batch requests whose
instruction contains ``batch_fail_marker`` fail (HTTP 500 lines in the batch's error file). Run as a process with
``python -m tests.support.fake_openai --delay 0.2`` (prints ``PORT <n>``; ``GET /_fake/stats``).
"""

from __future__ import annotations

import argparse
import collections
import email.parser
import json
import math
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_BLOCK_RE = re.compile(r"<<<\n(.*?)\n>>>", re.DOTALL)
_TRIPLE_RE = re.compile(r'"""(.*?)"""', re.DOTALL)
#: Log-odds bonus of the output shown first in the AlpacaEval-style judge (its position bias).
POSITION_BIAS = 0.7


def alpaca_rule(body: dict[str, Any]) -> tuple[float, str] | None:
    """(P(first shown is better), instruction) for an AlpacaEval-style prompt, else None.

    AlpacaEval's templates quote the instruction and the two outputs in triple quotes. The fake
    judge prefers the longer output, smoothly, plus a bias towards the output shown first, so
    swapping the order changes the answer (as with real judges).
    """
    text = "\n".join(m["content"] for m in body["messages"] if isinstance(m.get("content"), str))
    blocks = _TRIPLE_RE.findall(text)
    if len(blocks) != 3:
        return None
    instruction, first, second = blocks
    score = (len(first) - len(second)) / (len(first) + len(second) + 1) + POSITION_BIAS
    return 1.0 / (1.0 + math.exp(-score)), instruction


def alpaca_completion(fake: FakeOpenAI, body: dict[str, Any], p_first: float, instruction: str,
                      nonsense: bool) -> dict[str, Any]:
    """An AlpacaEval-style answer: logprobs over m/M, a ranking tool call, or a ranking text.

    Instructions whose length is a multiple of 3 add a " M" token (with a leading space) to the
    top logprobs: AlpacaEval matches tokens exactly, so it must not count as "M".
    """
    message: dict[str, Any] = {"role": "assistant", "content": None}
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "message": message, "logprobs": None}
    first_wins = p_first >= 0.5
    if body.get("logprobs"):
        if nonsense:
            top = [("I", -0.1), ("The", -2.5), ("Sure", -3.0)]
        else:
            top = sorted([("m", math.log(p_first)), ("M", math.log(1 - p_first)), ("The", -9.0)],
                         key=lambda t: -t[1])  # fmt: skip
            if len(instruction) % 3 == 0:
                top.insert(1, (" M", math.log(0.3 * (1 - p_first) + 1e-6)))
        message["content"] = top[0][0]
        content = [{"token": top[0][0], "logprob": top[0][1], "bytes": None,
                    "top_logprobs": [{"token": t, "logprob": lp, "bytes": None} for t, lp in top]}]  # fmt: skip
        choice["logprobs"] = {"content": content, "refusal": None}
    elif body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        ranks = [{"model": "m", "rank": 1 if first_wins else 2}, {"model": "M", "rank": 2 if first_wins else 1}]
        answer: dict[str, Any] = {"ordered_models": ranks}
        if "concise_explanation" in json.dumps(body["tools"]):  # the chain-of-thought schema
            answer = {"concise_explanation": f"Output {'m' if first_wins else 'M'} is better.", **answer}
        args = "not json at all" if nonsense else json.dumps(answer)
        message["tool_calls"] = [{"id": fake.new_id("call"), "type": "function",
                                  "function": {"name": name, "arguments": args}}]  # fmt: skip
        choice["finish_reason"] = "tool_calls"
    else:
        ranks = [{"model": "model_1", "rank": 1 if first_wins else 2},
                 {"model": "model_2", "rank": 2 if first_wins else 1}]  # fmt: skip
        message["content"] = "I cannot rank these." if nonsense else repr(ranks)
    prompt = sum(len(m["content"]) for m in body["messages"]) // 4
    out = 1 if body.get("logprobs") else 20
    return {"id": fake.new_id("chatcmpl"), "object": "chat.completion", "created": 1700000000,
            "model": body.get("model", "fake"), "choices": [choice],
            "usage": {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}}  # fmt: skip


def judge_rule(body: dict[str, Any]) -> tuple[int, str, str]:
    """(winner 1/2 in shown order, instruction, first shown) by the longer-output rule."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    blocks = _BLOCK_RE.findall(user)
    if len(blocks) != 3:
        raise ValueError(f"fake judge: expected 3 <<< >>> blocks, found {len(blocks)}")
    instruction, first, second = blocks
    return (1 if len(first) >= len(second) else 2), instruction, first


class FakeOpenAI:
    """The server: start(), base_url, counts, inject(...), stop(); usable as a context manager."""

    def __init__(self, *, delay: float = 0.0, logprobs: bool = True,
                 nonsense_marker: str = "NONSENSE", batch_polls: int = 2,
                 batch_fail_marker: str = "BATCHFAIL") -> None:  # fmt: skip
        self.delay = delay
        self.logprobs = logprobs
        self.tools = True  # False: reject tool calls with HTTP 400, like some local servers
        self.nonsense_marker = nonsense_marker
        self.batch_polls = batch_polls
        self.batch_fail_marker = batch_fail_marker
        self.counts: collections.Counter[str] = collections.Counter()
        self.faults: collections.deque[dict[str, Any]] = collections.deque()
        self.files: dict[str, dict[str, Any]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.lose_batch_answers = 0  # > 0: create the next batch(es) but answer HTTP 500
        self.delay_batch_create = 0.0  # seconds between creating a batch and answering
        self.seen_auth: set[str] = set()
        self.bodies: list[dict[str, Any]] = []  # every chat request body answered, in order
        self.lock = threading.Lock()
        self._ids = 0
        self._httpd: ThreadingHTTPServer | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._httpd = _Server(("127.0.0.1", port), handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_requests(self) -> int:
        return self.counts["POST /v1/chat/completions"]

    def inject(self, kind: str, *, times: int = 1, **params: Any) -> None:
        """Queue a fault for the next ``times`` chat requests: 429, 500, slow, nonsense."""
        for _ in range(times):
            self.faults.append({"kind": kind, **params})

    def new_id(self, prefix: str) -> str:
        with self.lock:
            self._ids += 1
            return f"{prefix}-{self._ids}"

    # -- the fake judge -------------------------------------------------------------------
    def completion(self, body: dict[str, Any], nonsense: bool = False) -> dict[str, Any]:
        self.bodies.append(body)
        alpaca = alpaca_rule(body)
        if alpaca is not None:
            nonsense = nonsense or self.nonsense_marker in alpaca[1]
            return alpaca_completion(self, body, alpaca[0], alpaca[1], nonsense)
        winner, instruction, _ = judge_rule(body)
        nonsense = nonsense or self.nonsense_marker in instruction
        message: dict[str, Any] = {"role": "assistant", "content": None}
        choice: dict[str, Any] = {"index": 0, "finish_reason": "stop", "message": message}
        if body.get("logprobs"):
            label = "m" if winner == 1 else "M"
            if nonsense:
                top = [("I", -0.1), ("The", -2.5), ("Sure", -3.0)]
            else:
                top = [(label, math.log(0.8)), ("m" if label == "M" else "M", math.log(0.2)),
                       ("The", -6.0)]  # fmt: skip
            message["content"] = top[0][0]
            if self.logprobs:
                content = [{"token": top[0][0], "logprob": top[0][1], "bytes": None,
                            "top_logprobs": [{"token": t, "logprob": lp, "bytes": None}
                                             for t, lp in top]}]  # fmt: skip
                choice["logprobs"] = {"content": content, "refusal": None}
        elif body.get("tools") and not nonsense:
            args = json.dumps({"better": winner, "explanation": f"Answer {winner} is longer."})
            message["tool_calls"] = [{"id": self.new_id("call"), "type": "function",
                                      "function": {"name": "submit_verdict", "arguments": args}}]  # fmt: skip
            choice["finish_reason"] = "tool_calls"
        else:
            message["content"] = "I cannot decide, both are lovely." if nonsense else json.dumps(
                {"better": winner, "explanation": "longer"})  # fmt: skip
        prompt = sum(len(m["content"]) for m in body["messages"]) // 4
        out = 1 if body.get("logprobs") else 12
        return {"id": self.new_id("chatcmpl"), "object": "chat.completion", "created": int(time.time()),
                "model": body.get("model", "fake"), "choices": [choice],
                "usage": {"prompt_tokens": prompt, "completion_tokens": out,
                          "total_tokens": prompt + out}}  # fmt: skip

    def batch_requests(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """The request lines of a batch's input file."""
        lines = self.files[batch["input_file_id"]]["content"].decode().splitlines()
        return [json.loads(line) for line in filter(None, lines)]

    def fails_in_batch(self, req: dict[str, Any]) -> bool:
        """Whether a batch request fails (its instruction carries ``batch_fail_marker``)."""
        try:
            return self.batch_fail_marker in judge_rule(req["body"])[1]
        except (ValueError, KeyError, StopIteration):  # not a judge prompt: answered (with a 400 body)
            return False

    def batch_counts(self, batch: dict[str, Any], share: float) -> dict[str, int]:
        """``request_counts`` after ``share`` (0..1) of the batch's requests were processed."""
        reqs = self.batch_requests(batch)
        n_fail = sum(self.fails_in_batch(r) for r in reqs)
        return {"total": len(reqs), "completed": int((len(reqs) - n_fail) * share),
                "failed": int(n_fail * share)}  # fmt: skip

    def run_batch(self, batch: dict[str, Any]) -> None:
        out, errors = [], []
        for req in self.batch_requests(batch):
            if self.fails_in_batch(req):
                error = {"error": {"message": "The server had an error", "type": "server_error"}}
                errors.append(json.dumps({"id": self.new_id("resp"), "custom_id": req["custom_id"],
                                          "response": {"status_code": 500, "request_id": "r", "body": error},
                                          "error": None}))  # fmt: skip
                continue
            body = self.completion(req["body"])
            out.append(json.dumps({"id": self.new_id("resp"), "custom_id": req["custom_id"],
                                   "response": {"status_code": 200, "request_id": "r", "body": body},
                                   "error": None}))  # fmt: skip
        file_id = self.new_id("file")
        self.files[file_id] = {"content": ("\n".join(out) + "\n").encode(), "purpose": "batch_output",
                               "filename": "output.jsonl"}  # fmt: skip
        if errors:
            error_id = self.new_id("file")
            self.files[error_id] = {"content": ("\n".join(errors) + "\n").encode(), "purpose": "batch_output",
                                    "filename": "errors.jsonl"}  # fmt: skip
            batch["error_file_id"] = error_id
        batch.update(status="completed", output_file_id=file_id, completed_at=int(time.time()),
                     request_counts=self.batch_counts(batch, 1.0))  # fmt: skip


def _file_object(file_id: str, f: dict[str, Any]) -> dict[str, Any]:
    return {"id": file_id, "object": "file", "bytes": len(f["content"]), "created_at": int(time.time()),
            "filename": f["filename"], "purpose": f["purpose"], "status": "processed"}  # fmt: skip


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # the default backlog (5) resets connections under concurrency


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else header and body writes wait ~40 ms for delayed ACKs
    fake: FakeOpenAI

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:  # fmt: skip
        data = raw if raw is not None else json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if raw is None else "application/octet-stream")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout or cancel)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:
        fake, path = self.fake, self.path.split("?")[0]
        fake.counts[f"GET {re.sub(r'/[a-z]+-[0-9]+', '/ID', path)}"] += 1
        if path == "/_fake/stats":
            return self._send(200, dict(fake.counts))
        m = re.fullmatch(r"/v1/files/([\w-]+)(/content)?", path)
        if m and m.group(1) in fake.files:
            f = fake.files[m.group(1)]
            return self._send(200, None, raw=f["content"]) if m.group(2) else self._send(
                200, _file_object(m.group(1), f))  # fmt: skip
        if path == "/v1/batches":  # list, newest first (the SDK's cursor page)
            data = [{k: v for k, v in b.items() if not k.startswith("_")} for b in reversed(fake.batches.values())]
            return self._send(200, {"object": "list", "data": data, "has_more": False,
                                    "first_id": data[0]["id"] if data else None,
                                    "last_id": data[-1]["id"] if data else None})  # fmt: skip
        m = re.fullmatch(r"/v1/batches/([\w-]+)", path)
        if m and m.group(1) in fake.batches:
            batch = fake.batches[m.group(1)]
            batch["_polls"] += 1
            if batch["status"] == "validating":
                batch["status"] = "in_progress"
            elif batch["status"] == "in_progress" and batch["_polls"] >= fake.batch_polls:
                fake.run_batch(batch)
            elif batch["status"] == "in_progress":  # progress: one share of the requests per poll
                share = (batch["_polls"] - 1) / max(fake.batch_polls - 1, 1)
                batch["request_counts"] = fake.batch_counts(batch, share)
            return self._send(200, {k: v for k, v in batch.items() if not k.startswith("_")})
        self._send(404, {"error": {"message": f"no such resource {path}", "type": "not_found"}})

    def do_POST(self) -> None:
        fake, path, raw = self.fake, self.path.split("?")[0], self._body()
        fake.counts[f"POST {path}"] += 1
        fake.seen_auth.add(self.headers.get("Authorization", ""))
        if path == "/v1/chat/completions":
            return self._chat(json.loads(raw))
        if path == "/v1/files":
            return self._upload(raw)
        if path == "/v1/batches":
            req = json.loads(raw)
            if req.get("input_file_id") not in fake.files:
                return self._send(400, {"error": {"message": "unknown input_file_id"}})
            batch_id = fake.new_id("batch")
            fake.batches[batch_id] = {
                "id": batch_id, "object": "batch", "endpoint": req["endpoint"], "errors": None,
                "input_file_id": req["input_file_id"], "completion_window": req["completion_window"],
                "status": "validating", "output_file_id": None, "error_file_id": None,
                "created_at": int(time.time()), "_polls": 0, "metadata": req.get("metadata"),
                "request_counts": {"total": 0, "completed": 0, "failed": 0},
            }  # fmt: skip
            fake.batches[batch_id]["request_counts"] = fake.batch_counts(fake.batches[batch_id], 0.0)
            time.sleep(fake.delay_batch_create)
            if fake.lose_batch_answers > 0:  # created, but the answer never reaches the client
                fake.lose_batch_answers -= 1
                self.close_connection = True
                return self._send(500, {"error": {"message": "connection lost", "type": "server_error"}})
            return self._send(200, {k: v for k, v in fake.batches[batch_id].items() if k[0] != "_"})
        self._send(404, {"error": {"message": f"no such route {path}", "type": "not_found"}})

    def _chat(self, body: dict[str, Any]) -> None:
        fake = self.fake
        with fake.lock:
            fault = fake.faults.popleft() if fake.faults else {"kind": None}
        kind = fault["kind"]
        if kind == "429":
            headers = {"Retry-After": str(fault.get("retry_after", 0))}
            return self._send(429, {"error": {"message": "Rate limit reached", "type": "rate_limit"}}, headers)
        if kind == "500":
            return self._send(500, {"error": {"message": "The server had an error", "type": "server_error"}})
        if kind == "401":
            token = self.headers.get("Authorization", "").removeprefix("Bearer ")
            message = f"Incorrect API key provided: {token}."  # echoes the key, as a hostile test
            return self._send(401, {"error": {"message": message, "type": "invalid_request_error"}})
        if body.get("tools") and not fake.tools:
            return self._send(400, {"error": {"message": "tools are not supported by this model"}})
        time.sleep(fault.get("seconds", fake.delay) if kind == "slow" else fake.delay)
        try:
            payload = fake.completion(body, nonsense=kind == "nonsense")
        except (ValueError, KeyError, StopIteration) as exc:
            return self._send(400, {"error": {"message": str(exc), "type": "invalid_request_error"}})
        self._send(200, payload)

    def _upload(self, raw: bytes) -> None:
        header = f"Content-Type: {self.headers['Content-Type']}\r\n\r\n".encode()
        msg = email.parser.BytesParser().parsebytes(header + raw)
        fields = {part.get_param("name", header="content-disposition"): part for part in msg.get_payload()}
        file_part = fields["file"]
        file_id = self.fake.new_id("file")
        self.fake.files[file_id] = {
            "content": file_part.get_payload(decode=True), "filename": file_part.get_filename() or "upload",
            "purpose": fields["purpose"].get_payload(decode=True).decode(),
        }  # fmt: skip
        self._send(200, _file_object(file_id, self.fake.files[file_id]))


def main() -> None:
    """Serve until killed; prints ``PORT <n>`` once listening."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeOpenAI(delay=args.delay).start(args.port)
    print(f"PORT {server.port}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()

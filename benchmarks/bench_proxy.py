"""Benchmark: what the model-API recorder adds to a streamed reply's first and last byte.

    python benchmarks/bench_proxy.py                # 200 streamed replies each way
    python benchmarks/bench_proxy.py --replies 50   # quick

A local stand-in provider (its own process, aiohttp) streams an Anthropic-shaped reply of
`--events` server-sent events, 1 ms apart. The same client (this process, one keep-alive
connection per path) asks it directly and through the recorder of a real session
(`start --proxy`: its own process, recording every exchange into the session's journal),
alternating, and times from sending the request to the first and to the last byte of the
body. Printed side by side: p50 and p99 of each, and what the recorder adds. Budget
(docs/performance.md): ≤ 2 ms added at p50, ≤ 10 ms at p99.

Plain script: prints results, asserts only that every reply arrived whole and identical.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

EVENT = (
    b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 0, '
    b'"delta": {"type": "text_delta", "text": "some words of the reply, streamed"}}\n\n'
)
START = (
    b'event: message_start\ndata: {"type": "message_start", "message": {"model": '
    b'"claude-sonnet-4-5", "usage": {"input_tokens": 1000, "output_tokens": 1}}}\n\n'
)
STOP = (
    b'event: message_delta\ndata: {"type": "message_delta", "delta": {"stop_reason": '
    b'"end_turn"}, "usage": {"output_tokens": 200}}\n\n'
    b'event: message_stop\ndata: {"type": "message_stop"}\n\n'
)


def _provider(port_out: multiprocessing.connection.Connection, events: int) -> None:
    from aiohttp import web

    async def reply(request: web.Request) -> web.StreamResponse:
        await request.read()
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        await response.write(START)
        for _ in range(events):
            await asyncio.sleep(0.001)
            await response.write(EVENT)
        await response.write(STOP)
        await response.write_eof()
        return response

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/v1/messages", reply)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port_out.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        await asyncio.Event().wait()

    asyncio.run(main())


def _relay(port_out: multiprocessing.connection.Connection, target: int) -> None:
    """The floor: a bare TCP relay (asyncio, its own process) that only copies bytes."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
        writer.close()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
        for stream in (writer, up_writer):
            stream.transport.get_extra_info("socket").setsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY, 1
            )
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def main() -> None:
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port_out.send(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


def _timed(conn: http.client.HTTPConnection, body: bytes) -> tuple[float, float, bytes]:
    started = time.perf_counter()
    conn.request("POST", "/v1/messages", body, {"content-type": "application/json"})
    reply = conn.getresponse()
    first = reply.read1(65536)
    first_at = time.perf_counter()
    rest = reply.read()
    return first_at - started, time.perf_counter() - started, first + rest


def _cpu_ms(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), in ms."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--events", type=int, default=20, help="SSE events per reply")
    args, _ = parser.parse_known_args()

    receive, send = multiprocessing.Pipe(duplex=False)
    provider = multiprocessing.Process(target=_provider, args=(send, args.events), daemon=True)
    provider.start()
    upstream_port = receive.recv()
    upstream = f"http://127.0.0.1:{upstream_port}"
    receive, send = multiprocessing.Pipe(duplex=False)
    relay = multiprocessing.Process(target=_relay, args=(send, upstream_port), daemon=True)
    relay.start()
    relay_port = receive.recv()

    with tempfile.TemporaryDirectory(prefix="bench-proxy-") as tmp:
        os.environ["PROMPTSTER_HOME"] = str(Path(tmp) / "home")
        os.environ["XDG_RUNTIME_DIR"] = tmp
        from promptster.record.control import end_session
        from promptster.record.lifecycle import StartOptions, start_session
        from promptster.record.proxy import control
        from promptster.record.proxy.control import ProxyRequest

        upstreams = {"anthropic": upstream, "openai": upstream}
        started = start_session(
            StartOptions(Path(tmp) / "ws", proxy=ProxyRequest(port=0, upstreams=upstreams))
        )
        status = control.status(started.paths.root, started.state.workspace_path)
        assert status is not None and status["running"], "the recorder did not start"
        proxy_port = int(status["url"].rsplit(":", 1)[1])
        body = json.dumps(
            {
                "model": "claude-sonnet-4-5",
                "stream": True,
                "max_tokens": 1024,
                "messages": [{"role": "user", "content": "a prompt of a few words " * 40}],
            }
        ).encode()
        direct = http.client.HTTPConnection("127.0.0.1", upstream_port)
        proxied = http.client.HTTPConnection("127.0.0.1", proxy_port)
        relayed = http.client.HTTPConnection("127.0.0.1", relay_port)
        timings: dict[str, tuple[list[float], list[float]]] = {
            "direct": ([], []),
            "bare TCP relay": ([], []),
            "recorder": ([], []),
        }
        paths = (("direct", direct), ("bare TCP relay", relayed), ("recorder", proxied))
        expected = START + EVENT * args.events + STOP
        for _ in range(10):  # warm both paths (connections, imports, the journal)
            for _, conn in paths:
                _timed(conn, body)
        proxy_pid = int(status["pid"])
        recorder_pid = json.loads(started.paths.recorder_info.read_text())["pid"]
        cpu_before = (_cpu_ms(proxy_pid), _cpu_ms(recorder_pid))
        for _ in range(args.replies):
            for name, conn in paths:
                first, last, got = _timed(conn, body)
                assert got == expected, f"{name}: the reply differs"
                timings[name][0].append(first)
                timings[name][1].append(last)
        cpu = (
            (_cpu_ms(proxy_pid) - cpu_before[0]) / args.replies,
            (_cpu_ms(recorder_pid) - cpu_before[1]) / args.replies,
        )
        end_session(started.paths, "abort")
        recorded = sum(
            1
            for line in started.paths.journal.read_text().splitlines()
            if '"channel":"proxy"' in line and '"ai_response"' in line
        )
    provider.terminate()
    relay.terminate()

    print(f"{args.replies} streamed replies of {args.events + 3} events each, 1 ms apart")
    print(f"{'':<22}{'first byte p50':>16}{'p99':>10}{'last byte p50':>16}{'p99':>10}")
    rows = {name: [_pct(v, p) for v in pair for p in (50, 99)] for name, pair in timings.items()}
    for name, (f50, f99, l50, l99) in rows.items():
        print(f"{name:<22}{f50:>13.2f} ms{f99:>7.2f} ms{l50:>13.2f} ms{l99:>7.2f} ms")
    added = [r - d for r, d in zip(rows["recorder"], rows["direct"], strict=True)]
    floor = [r - d for r, d in zip(rows["bare TCP relay"], rows["direct"], strict=True)]
    for label, values in (("added by the recorder", added), ("added by a bare relay", floor)):
        print(f"{label:<22}" + "".join(
            f"{v:>13.2f} ms" if i % 2 == 0 else f"{v:>7.2f} ms" for i, v in enumerate(values)
        ))  # fmt: skip
    print(
        f"budget: ≤ 2 ms added at p50, ≤ 10 ms at p99 (first byte: {added[0]:.2f} / "
        f"{added[1]:.2f} ms; last byte: {added[2]:.2f} / {added[3]:.2f} ms)"
    )
    print(f"exchanges recorded in the journal: {recorded} (of {args.replies + 10} proxied)")
    print(
        f"CPU per proxied reply: recorder proxy {cpu[0]:.2f} ms, session recorder (journal) "
        f"{cpu[1]:.2f} ms; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    print(f"mean direct last byte {statistics.mean(timings['direct'][1]) * 1000:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

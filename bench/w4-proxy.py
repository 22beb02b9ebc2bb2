#!/usr/bin/env python3
"""Counting HTTP/1.1 proxy for bench/scale.sh W4: python3 bench/w4-proxy.py LISTEN_PORT TARGET_PORT

Sits between dataprep (--endpoint-url http://127.0.0.1:LISTEN_PORT) and the S3 server on TARGET_PORT, forwards
every byte unchanged and counts requests by S3 operation with their body bytes up (request) and down (response).
`GET /__counts` answers the counts so far as JSON and resets them (one snapshot per step); `GET /__counts?mark=TEXT`
also writes "# TEXT" into the optional request log (third argument: one line per request).
Each client connection gets its own upstream connection; two pumps (requests up, responses down) keep
`Expect: 100-continue` working.
"""
import asyncio, json, sys
from urllib.parse import urlsplit, parse_qs

LISTEN, TARGET = int(sys.argv[1]), int(sys.argv[2])
LOG = open(sys.argv[3], "a", buffering=1) if len(sys.argv) > 3 else None  # optional: one line per request
counts = {}  # operation -> [requests, bytes up, bytes down]

def op_of(method, target, headers):
    url = urlsplit(target)
    q = parse_qs(url.query, keep_blank_values=True)
    if method == "GET":
        if "uploads" in q or "list-type" in q or "prefix" in q or "delimiter" in q or url.path.strip("/").count("/") == 0:
            return "LIST"
        return "GET"
    if method == "PUT":
        if "x-amz-copy-source" in headers: return "COPY part" if "partNumber" in q else "COPY"
        return "PUT part" if "partNumber" in q else "PUT"
    if method == "POST":
        return "DELETE multi" if "delete" in q else "POST"  # POST: initiate / complete multipart upload
    return method  # HEAD, DELETE

async def head_of(reader):
    raw = await reader.readuntil(b"\r\n\r\n")
    lines = raw.decode("latin1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return raw, lines[0].split(" "), headers

async def copy(reader, writer, n, tally):
    left = n
    while left > 0:
        chunk = await reader.read(min(left, 1 << 20))
        if not chunk: raise ConnectionError("unexpected end of stream")
        writer.write(chunk)
        left -= len(chunk)
        await writer.drain()
        tally(len(chunk))

async def body(reader, writer, headers, until_eof, tally):
    """Forwards one message body, counting its bytes (chunk payloads when chunked) as they pass: an aborted
    response counts what reached the client."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            line = await reader.readuntil(b"\r\n"); writer.write(line)
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while (t := await reader.readuntil(b"\r\n")) != b"\r\n": writer.write(t)
                writer.write(b"\r\n"); await writer.drain()
                return
            await copy(reader, writer, size, tally)
            writer.write(await reader.readexactly(2))
    elif "content-length" in headers:
        await copy(reader, writer, int(headers["content-length"]), tally)
    elif until_eof:
        while chunk := await reader.read(1 << 20):
            writer.write(chunk); await writer.drain(); tally(len(chunk))

def tally_of(entry, record, i):
    def tally(n):
        entry[i] += n
        record[i + 2] += n
    return tally

async def up(creader, uwriter, pending, first):
    while True:
        if first is not None:
            (raw, line, headers), first = first, None
        else:
            try:
                raw, line, headers = await head_of(creader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
        op = op_of(line[0], line[1], headers)
        entry = counts.setdefault(op, [0, 0, 0])
        entry[0] += 1
        record = [op, line[1], headers.get("range", "-"), 0, 0]
        await pending.put((line[0], entry, record))
        uwriter.write(raw)
        await body(creader, uwriter, headers, False, tally_of(entry, record, 1))
        await uwriter.drain()

async def down(ureader, cwriter, pending):
    while True:
        try:
            raw, first, headers = await head_of(ureader)
        except (asyncio.IncompleteReadError, ConnectionError):
            break
        cwriter.write(raw)
        status = int(first[1])
        if 100 <= status < 200:  # 100 Continue: the request's answer is still to come
            await cwriter.drain(); continue
        method, entry, record = await pending.get()
        if method != "HEAD" and status not in (204, 304):
            try:
                await body(ureader, cwriter, headers, True, tally_of(entry, record, 2))
            except Exception:
                if LOG: LOG.write(f"{status} {record[0]} {record[1]} {record[2]} {record[3]} {record[4]} aborted\n")
                raise
        if LOG: LOG.write(f"{status} {record[0]} {record[1]} {record[2]} {record[3]} {record[4]}\n")
        await cwriter.drain()
        if headers.get("connection", "").lower() == "close": break
    cwriter.close()

async def client(creader, cwriter):
    try:
        first = await head_of(creader)
    except (asyncio.IncompleteReadError, ConnectionError):
        cwriter.close(); return
    if first[1][1].startswith("/__counts"):
        if LOG and "mark=" in first[1][1]: LOG.write("# " + first[1][1].split("mark=", 1)[1] + "\n")
        out = json.dumps({k: {"requests": v[0], "up": v[1], "down": v[2]} for k, v in sorted(counts.items()) if any(v)}).encode()
        for v in counts.values(): v[:] = [0, 0, 0]  # in place: a request still in flight keeps counting
        cwriter.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(out) + out)
        await cwriter.drain(); cwriter.close(); return
    ureader, uwriter = await asyncio.open_connection("127.0.0.1", TARGET, limit=1 << 20)
    pending = asyncio.Queue()
    tasks = [asyncio.create_task(up(creader, uwriter, pending, first)), asyncio.create_task(down(ureader, cwriter, pending))]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for t in tasks: t.cancel()
    for w in (uwriter, cwriter): w.close()

async def main():
    server = await asyncio.start_server(client, "127.0.0.1", LISTEN, limit=1 << 20)
    async with server: await server.serve_forever()

asyncio.run(main())

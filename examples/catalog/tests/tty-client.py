#!/usr/bin/env python3
"""`catalog serve --stdio` with a controlling terminal (a pseudo-terminal) while MCP runs over
pipes, as when a user starts a local client from a shell: the client here does not declare the
elicitation capability, so the server asks the user on the terminal. The script deletes a
catalog entity, answers the terminal's question with ANSWER, then reads the entity back.

    tty-client.py BINARY ANSWER   # prints {"terminal": …, "deleted": …, "after": …} as JSON

ANSWER `-`: the server's stderr is not the terminal (as when a client captures its log), so
nothing is asked there and the terminal is not read.

Every wait is bounded (30 s in all); the server is killed if it has not exited by then.
"""

import json
import os
import pty
import select
import sys
import time

ENTITY = "component:default/website"


def main() -> int:
    binary, answer = sys.argv[1], sys.argv[2]
    to_server_r, to_server_w = os.pipe()
    from_server_r, from_server_w = os.pipe()
    pid, master = pty.fork()
    if pid == 0:
        # The child: the pty stays its controlling terminal (/dev/tty) and its stderr (the log
        # is shown there, as when a user runs the server by hand); stdin and stdout carry the
        # protocol.
        os.dup2(to_server_r, 0)
        os.dup2(from_server_w, 1)
        if answer == "-":
            os.dup2(os.open(os.devnull, os.O_WRONLY), 2)
        for fd in (to_server_r, to_server_w, from_server_r, from_server_w):
            os.close(fd)
        os.execv(binary, [binary, "serve", "--stdio", "--subject", "catalog-admin"])
    os.close(to_server_r)
    os.close(from_server_w)
    deadline = time.monotonic() + 30
    received = b""
    terminal = b""

    def wait_for(fd):
        remaining = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(remaining, 0))
        if not ready:
            raise TimeoutError("the server did not answer in time")
        return os.read(fd, 65536)

    def send(message):
        os.write(to_server_w, (json.dumps(message) + "\n").encode())

    def answer_to(request_id):
        nonlocal received
        while True:
            while b"\n" in received:
                line, received = received.split(b"\n", 1)
                message = json.loads(line)
                if message.get("id") == request_id:
                    return message
            chunk = wait_for(from_server_r)
            if not chunk:
                raise EOFError("the server closed stdout")
            received += chunk

    def call(request_id, tool, arguments):
        send({"jsonrpc": "2.0", "id": request_id, "method": "tools/call",
              "params": {"name": tool, "arguments": arguments}})

    try:
        send({"jsonrpc": "2.0", "id": 1, "method": "initialize",
              "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                         "clientInfo": {"name": "tty-client", "version": "0"}}})
        answer_to(1)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        send({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
        tools = [t["name"] for t in answer_to(2)["result"]["tools"]]
        delete = next(t for t in tools if t.endswith("delete_catalog_entity"))
        get = next(t for t in tools if t.endswith("get_catalog_entity"))
        call(3, delete, {"entity_ref": ENTITY})
        while answer != "-" and b"[y/N]" not in terminal:
            chunk = wait_for(master)
            if not chunk:
                raise EOFError("the terminal closed before the question")
            terminal += chunk
        if answer != "-":
            os.write(master, answer.encode() + b"\n")
        deleted = answer_to(3)["result"]
        call(4, get, {"entity_ref": ENTITY})
        after = answer_to(4)["result"]
    finally:
        os.close(to_server_w)  # end of input: the server stops
        exited = False
        while not exited and time.monotonic() < deadline:
            exited = os.waitpid(pid, os.WNOHANG) != (0, 0)
            time.sleep(0.01)
        if not exited:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
    print(json.dumps({"terminal": terminal.decode(errors="replace"), "deleted": deleted,
                      "after": after}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Runs README.md's marked code blocks, in order, the way a newcomer pastes them.

Only blocks whose fence line directly follows a marker comment are used, so that prose examples
(a client's JSON, `benches/run.sh`, the test command that runs this very script) are not run:

    <!-- readme-test -->                       a sh block: run it with bash, in the checkout
    <!-- readme-test: dir=work -->             a sh block: run it in the work folder (below)
    <!-- readme-test: file=my-actions/X -->    a toml/rust block: write it to work/my-actions/X
    <!-- readme-test: output -->               a text block: must appear in the output of the
                                               sh block run just before it
    <!-- readme-test: banner -->               a text block: must equal what `cargo run -p
                                               greet-user` prints on stderr (token aside)

The work folder is a new temporary folder holding `mcp-actions`, a symbolic link to this
checkout, next to the quick start's `my-actions`: the layout the README tells a newcomer to make.

Each sh block runs under `bash -e -o pipefail` in a session of its own, with a timeout; whatever
it leaves running is killed with its process group, and counts as a failure (a block must stop
the server it starts). A failing block is printed with its output. Only loopback is used: the
blocks serve on 127.0.0.1:7007, which must be free.

Usage: run.py [--readme README.md] [--only N]   (N: the 1-based index of a marked block; the
                                                 file blocks are written, and an output block
                                                 right after N is checked, all the same)
Environment: CARGO_TARGET_DIR is passed on to the blocks, so that they reuse a warm build;
README_TEST_TIMEOUT bounds each block, in seconds (default 900).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"^<!--\s*readme-test(?::\s*(?P<args>.*?))?\s*-->\s*$")
FENCE = re.compile(r"^(?P<fence>```+)(?P<lang>[\w,+-]*)\s*$")
TIMEOUT = float(os.environ.get("README_TEST_TIMEOUT", "900"))
PORT = 7007
# Variables a newcomer's shell would not have set: the blocks set what they need themselves.
UNSET = ["MCP_TOKEN", "CATALOG_READER_TOKEN", "CATALOG_ADMIN_TOKEN", "PORT", "RUST_LOG"]
BANNER_END = "The token changes on every start"


class Block:
    def __init__(self, line, lang, args, text):
        self.line, self.lang, self.text = line, lang, text
        self.args = dict(
            (a.split("=", 1) + [""])[:2] for a in (args or "").split() if a
        )

    def __str__(self):
        return f"README.md:{self.line} ({self.lang}, {' '.join(f'{k}={v}' if v else k for k, v in self.args.items()) or 'run'})"


def marked_blocks(readme):
    lines = readme.read_text().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = MARKER.match(lines[i])
        if m and i + 1 < len(lines) and FENCE.match(lines[i + 1]):
            fence = FENCE.match(lines[i + 1])
            end = i + 2
            while end < len(lines) and lines[end].strip() != fence["fence"]:
                end += 1
            if end == len(lines):
                sys.exit(f"README.md:{i + 2}: unclosed code block")
            blocks.append(Block(i + 2, fence["lang"], m["args"], "\n".join(lines[i + 2 : end]) + "\n"))
            i = end
        elif m:
            sys.exit(f"README.md:{i + 1}: a readme-test marker must be directly followed by a code block")
        i += 1
    return blocks


def env():
    e = {k: v for k, v in os.environ.items() if k not in UNSET}
    e["CARGO_TERM_COLOR"] = "never"
    return e


def kill_group(pgid):
    """Kills what is left of the group; True when something was left."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    os.killpg(pgid, signal.SIGKILL)
    return True


def leftovers(pgid, grace=5.0):
    """True when processes of the group outlive the block (after a short grace to exit)."""
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        time.sleep(0.1)
    return kill_group(pgid)


def port_free():
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", PORT))
            return True
        except OSError:
            return False


def run_sh(block, cwd):
    """Runs the block; returns (error or None, its output: stdout and stderr together)."""
    if not port_free():
        return f"127.0.0.1:{PORT} is in use before the block runs (the README's blocks serve there)", ""
    proc = subprocess.Popen(
        ["bash", "-e", "-o", "pipefail", "-c", block.text],
        cwd=cwd, env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    # Read in a thread and wait for bash itself: a server the block left running would hold
    # the pipe open, and reading to its end would wait out the timeout.
    chunks = []
    reader = threading.Thread(target=lambda: chunks.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        proc.wait(timeout=TIMEOUT)
        timed_out = False
    except subprocess.TimeoutExpired:
        timed_out = True
    left = kill_group(proc.pid) if timed_out else leftovers(proc.pid)
    proc.wait()
    reader.join(timeout=10)
    out = "".join(chunks)
    if timed_out:
        return f"timed out after {TIMEOUT:.0f} s\n{out}", out
    if left:
        return f"exited {proc.returncode} but left processes running (a block must stop what it starts)\n{out}", out
    if proc.returncode != 0:
        return f"exited {proc.returncode}\n{out}", out
    return None, out


def check_banner(block):
    """Starts `cargo run -p greet-user` without MCP_TOKEN or config, reads its stderr up to the
    end of the token notice, stops it, and compares with the block (tokens aside)."""
    if not port_free():
        return f"127.0.0.1:{PORT} is in use"
    proc = subprocess.Popen(
        ["cargo", "run", "--quiet", "-p", "greet-user"],
        cwd=ROOT, env=env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    lines, done = [], threading.Event()

    def read():  # a thread, so that the wait below is bounded however the program behaves
        for line in proc.stderr:
            lines.append(line)
            if line.startswith(BANNER_END):
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        if not done.wait(TIMEOUT):
            return "timed out waiting for the token notice\n" + "".join(lines)
    finally:
        kill_group(proc.pid)
        proc.wait()
    actual = "".join(lines)
    if BANNER_END not in actual:
        return "the program ended before printing the token notice\n" + actual
    token = re.compile(r"Bearer [A-Za-z0-9_-]+")
    readme_tokens = token.findall(block.text)
    if not readme_tokens:
        return "the transcript shows no `Bearer <token>`"
    # The README shows one run's token; the program prints a new one on every start.
    actual = token.sub(readme_tokens[0], actual)
    # The notice starts with an empty line, which the transcript leaves out.
    if actual.strip("\n") != block.text.strip("\n"):
        import difflib

        diff = difflib.unified_diff(
            block.text.strip("\n").splitlines(), actual.strip("\n").splitlines(),
            "README.md", "cargo run -p greet-user (stderr)", lineterm="",
        )
        return "the transcript differs from the program's output:\n" + "\n".join(diff)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--readme", type=Path, default=ROOT / "README.md")
    ap.add_argument("--only", type=int)
    args = ap.parse_args()

    blocks = marked_blocks(args.readme)
    if not blocks:
        sys.exit("no <!-- readme-test --> blocks in README.md")
    work = Path(tempfile.mkdtemp(prefix="readme-test-"))
    try:
        (work / "mcp-actions").symlink_to(ROOT)
        failures, last_output = 0, None
        for n, block in enumerate(blocks, 1):
            wanted = args.only in (None, n) or (n == args.only + 1 and "output" in block.args)
            if not wanted and "file" not in block.args:
                continue
            started = time.monotonic()
            if "file" in block.args:
                path = work / block.args["file"]
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(block.text)
                error = None
            elif "output" in block.args:
                if last_output is None:
                    error = "an output block must follow a sh block that ran"
                elif block.text.strip("\n") not in last_output:
                    error = f"the block run before did not print this; it printed:\n{last_output}"
                else:
                    error = None
            elif "banner" in block.args:
                error = check_banner(block)
            elif block.lang in ("sh", "bash"):
                cwd = work if block.args.get("dir") == "work" else ROOT
                error, last_output = run_sh(block, cwd)
            else:
                error = f"don't know how to test a `{block.lang}` block with these arguments"
            took = time.monotonic() - started
            if error:
                failures += 1
                print(f"FAILED [{n}] {block} after {took:.1f} s\n--- block\n{block.text}--- why\n{error}\n", flush=True)
                break  # the blocks build on each other: the next ones would fail for this reason
            print(f"ok [{n}] {block} ({took:.1f} s)", flush=True)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

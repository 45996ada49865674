#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its prompts, for programs that insist on a
terminal (age reads plugin PINs from /dev/tty).

  pty-run.py [--timeout SECS] [--expect REGEX --send TEXT [--after PATH]]... -- COMMAND [ARGS...]

Each --expect/--send pair is handled in order: when REGEX appears in the output, TEXT and a
carriage return are typed; with --after, only once PATH exists (a caller that watches the
transcript for the prompt acts, e.g. plugs a device in, then creates PATH). Answers are read from the environment variables PTY_SEND_1, PTY_SEND_2…
when --send is '@env' (so secrets stay out of argv). The terminal transcript goes to stdout; the
exit status is the command's (124 on timeout).
"""
import os
import pty
import re
import select
import sys
import time


def main():
    args = sys.argv[1:]
    timeout = 30.0
    steps = []
    while args and args[0] != "--":
        flag = args.pop(0)
        if flag == "--timeout":
            timeout = float(args.pop(0))
        elif flag == "--expect":
            steps.append([re.compile(args.pop(0)), None, None])
        elif flag == "--send":
            value = args.pop(0)
            if value == "@env":
                value = os.environ.get("PTY_SEND_%d" % len(steps), "")
            steps[-1][1] = value
        elif flag == "--after":
            steps[-1][2] = args.pop(0)
        else:
            sys.exit("pty-run: unknown option %s" % flag)
    if not args:
        sys.exit("pty-run: missing -- COMMAND")
    cmd = args[1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    out = b""
    seen = 0
    pending = None
    deadline = time.time() + timeout
    status = None
    while True:
        if time.time() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.stdout.flush()
            sys.exit(124)
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                break
            out += data
            # the transcript goes out as it arrives, so a caller can wait for a prompt
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        if steps and pending is None:
            text = out[seen:].decode("utf-8", "replace")
            m = steps[0][0].search(text)
            if m:
                seen += len(text[: m.end()].encode("utf-8"))
                _, answer, after = steps.pop(0)
                pending = (answer, after)
        if pending is not None and (pending[1] is None or os.path.exists(pending[1])):
            time.sleep(0.05)
            os.write(fd, (pending[0] or "").encode() + b"\r")
            pending = None
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            # drain what is left
            while True:
                r, _, _ = select.select([fd], [], [], 0.05)
                if not r:
                    break
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    break
                if not data:
                    break
                out += data
                sys.stdout.buffer.write(data)
            break
    if status is None:
        _, status = os.waitpid(pid, 0)
    sys.stdout.flush()
    sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs a command on a pseudo-terminal and answers its prompts, for programs that insist on a
terminal (age reads plugin PINs from /dev/tty).

  pty-run.py [--timeout SECS] [--expect REGEX --send TEXT]... -- COMMAND [ARGS...]

Each --expect/--send pair is handled in order: when REGEX appears in the output, TEXT and a
carriage return are typed. Answers are read from the environment variables PTY_SEND_1, PTY_SEND_2…
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
            steps.append([re.compile(args.pop(0)), None])
        elif flag == "--send":
            value = args.pop(0)
            if value == "@env":
                value = os.environ.get("PTY_SEND_%d" % len(steps), "")
            steps[-1][1] = value
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
        if steps:
            text = out[seen:].decode("utf-8", "replace")
            m = steps[0][0].search(text)
            if m:
                seen += len(text[: m.end()].encode("utf-8"))
                _, answer = steps.pop(0)
                time.sleep(0.05)
                os.write(fd, (answer or "").encode() + b"\r")
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

#!/usr/bin/env python3
"""Prints an isokin live stream: the hello, then the peak torque of each repetition as the
analyser publishes it (docs/stream-protocol.md). Standard library only.

    isokin run knee-60-180-300 --stream 5555 &
    python3 examples/stream_client.py --port 5555
"""
import argparse
import json
import socket
import struct
import sys
import time

FRAME_HEADER = struct.Struct("<IB")  # payload length, frame type
JSON_FRAME, SAMPLE_FRAME = 1, 2
BLOCK_HEADER = struct.Struct("<iIQ")  # set index, sample count, first sequence number
SAMPLE = struct.Struct("<ddddI")  # time s, torque N·m, angle °, velocity °/s, status bits


def read_exact(sock, n):
    data = bytearray()
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def frames(sock):
    while True:
        header = read_exact(sock, FRAME_HEADER.size)
        if header is None:
            return
        length, kind = FRAME_HEADER.unpack(header)
        payload = read_exact(sock, length)
        if payload is None:
            return
        yield kind, payload


def connect(host, port, wait_s):
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return socket.create_connection((host, port), timeout=10)
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--wait", type=float, default=10.0,
                        help="seconds to keep trying to connect (the server may start later)")
    args = parser.parse_args()

    try:
        sock = connect(args.host, args.port, args.wait)
    except OSError as e:
        print(f"cannot connect to {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    sock.settimeout(None)
    # Large receive buffer: a client that reads too slowly is disconnected by the server.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    samples = 0
    for kind, payload in frames(sock):
        if kind == SAMPLE_FRAME:
            _set_index, count, _sequence = BLOCK_HEADER.unpack_from(payload)
            samples += count
            continue
        if kind != JSON_FRAME:
            print(f"unknown frame type {kind}: skipped", file=sys.stderr)
            continue
        message = json.loads(payload)
        kind = message.get("type")
        if kind == "hello":
            print("hello:", json.dumps(message, ensure_ascii=False))
        elif kind == "set-start":
            s = message["set"]
            print(f"set {s['index'] + 1} start: {s['side']} {s['label']}")
        elif kind == "repetition":
            print(f"set {message['set_index'] + 1} rep {message['repetition']} "
                  f"{message['movement']}: peak torque {message['peak_torque']:.1f} N·m "
                  f"at {message['angle_at_peak']:.0f}°"
                  + ("" if message["counted"] else " (cut off: not counted)"))
        elif kind == "set-end":
            print(f"set {message['set_index'] + 1} end: {message['samples_streamed']} samples")
        elif kind == "error":
            print("server error:", message["message"], file=sys.stderr)
        elif kind == "bye":
            break
    print(f"stream ended: {samples} samples received")
    return 0


if __name__ == "__main__":
    sys.exit(main())

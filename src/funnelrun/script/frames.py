"""Length-prefixed JSON frames between the server and its executor processes."""

from __future__ import annotations

import json
import os
from typing import Any

HEADER_BYTES = 4
MAX_FRAME_BYTES = 64 * 1024 * 1024  # a run's records are bounded by its memory limit
# Built once: json.dumps with options builds an encoder on every call.
_encode = json.JSONEncoder(separators=(",", ":")).encode


class FrameError(Exception):
    """The other side sent something that is not a frame, or too big a one."""


def pack(payload: bytes) -> bytes:
    return len(payload).to_bytes(HEADER_BYTES, "big") + payload


def dump(message: dict[str, Any], *texts: str) -> bytes:
    """A message as one frame. `texts` follow the JSON line raw, their UTF-8 lengths in the
    message's "texts" list: big strings (a bundle's code) are never escaped and unescaped."""
    data = [text.encode() for text in texts]
    if texts:
        message = {**message, "texts": [len(item) for item in data]}
    head = _encode(message).encode()
    return pack(b"\n".join([head, *data]) if texts else head)


def load(payload: bytes) -> dict[str, Any]:
    """A frame's message, with any raw texts in its "texts" list."""
    head, _, rest = payload.partition(b"\n")
    try:
        message = json.loads(head.decode())  # ASCII: json.dumps escapes the rest
    except RecursionError as exc:  # only a broken or hostile peer nests a message this deep
        raise FrameError("a frame's message is nested too deep") from exc
    if not isinstance(message, dict):
        raise FrameError("a frame must hold a JSON object")
    sizes = message.get("texts")
    if sizes:
        texts, at = [], 0
        for size in sizes:
            texts.append(rest[at:at + size].decode())
            at += size + 1
        message["texts"] = texts
    return message


# -- the executor's side: blocking, on raw file descriptors --------------------------------------


def read_fd(fd: int) -> dict[str, Any] | None:
    """The next message from `fd`, or None at end of input."""
    header = _read_exactly(fd, HEADER_BYTES)
    if header is None:
        return None
    payload = _read_exactly(fd, int.from_bytes(header, "big"))
    return None if payload is None else load(payload)


def write_fd(fd: int, frame: bytes) -> None:
    view = memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks: list[bytes] = []
    while size:
        chunk = os.read(fd, size)
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


# -- the server's side: bytes as the event loop reads them --------------------------------------


class FrameBuffer:
    """Cuts whole frames out of the bytes read from an executor, however they arrive."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        self._data += data

    def complete(self) -> bool:
        """Whether a whole frame (or a header announcing too big a one) is buffered."""
        data = self._data
        if len(data) < HEADER_BYTES:
            return False
        size = int.from_bytes(data[:HEADER_BYTES], "big")
        return size > MAX_FRAME_BYTES or len(data) >= HEADER_BYTES + size

    def next_message(self) -> dict[str, Any] | None:
        """The next whole message, or None until more bytes arrive; FrameError on garbage."""
        data = self._data
        if len(data) < HEADER_BYTES:
            return None
        size = int.from_bytes(data[:HEADER_BYTES], "big")
        if size > MAX_FRAME_BYTES:
            raise FrameError(f"a frame of {size} bytes is over the limit")
        end = HEADER_BYTES + size
        if len(data) < end:
            return None
        payload = bytes(data[HEADER_BYTES:end])
        del data[:end]
        try:
            return load(payload)
        except (ValueError, TypeError) as exc:
            raise FrameError("a frame is not a JSON message") from exc

"""One websocket connection: read frames, decode, dispatch, send the reply."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import msgspec
from websockets.asyncio.server import ServerConnection, broadcast
from websockets.exceptions import ConnectionClosed

from lesbillets_server.dispatch import Dispatcher, Peer
from lesbillets_server.errors import Rejected
from lesbillets_server.ratelimit import TokenBucket, Verdict
from lesbillets_server.row_snapshots import RowsTaken
from lesbillets_server.snapshots import Snapshots
from protocol.codec import codec_for, describe_decode_error
from protocol.messages import AllTickets, CloseCode, Error, ErrorCode, Reply

log = logging.getLogger(__name__)


class ConnectionHandler:
    def __init__(
        self,
        dispatcher: Dispatcher,
        snapshots: Snapshots,
        *,
        rate_per_s: float,
        rate_burst: int,
        login_timeout_s: float,
        login_backoff_s: float = 0.5,
    ) -> None:
        self.dispatcher = dispatcher
        self.snapshots = snapshots
        self._rate_per_s = rate_per_s
        self._rate_burst = rate_burst
        self._login_timeout_s = login_timeout_s
        self._login_backoff_s = login_backoff_s

    async def __call__(self, ws: ServerConnection) -> None:
        peer = Peer(ws=ws, codec=codec_for(ws.subprotocol))
        loop = asyncio.get_running_loop()
        bucket = TokenBucket(self._rate_per_s, self._rate_burst, loop.time())
        logged_out_since: float | None = loop.time()
        try:
            while True:
                if peer.session is not None:
                    logged_out_since = None
                elif logged_out_since is None:
                    logged_out_since = loop.time()
                deadline = None if logged_out_since is None else logged_out_since + self._login_timeout_s
                try:
                    if deadline is not None and loop.time() >= deadline:
                        raise TimeoutError  # frames sent ahead do not buy time: the deadline holds for them too
                    async with asyncio.timeout_at(deadline):
                        frame = await ws.recv()
                except TimeoutError:
                    log.debug("closing %s: not logged in within %g s", ws.id, self._login_timeout_s)
                    await ws.close(CloseCode.LOGIN_TIMEOUT, f"log in within {self._login_timeout_s:g} s")
                    break
                verdict = bucket.take(loop.time())
                if verdict is Verdict.CLOSE:
                    log.warning("closing %s: kept flooding after rate_limited", ws.id)
                    await ws.close(CloseCode.POLICY_VIOLATION, "too many requests")
                    break
                reply = await self._reply_to(peer, frame, verdict)
                after, peer.after_reply = peer.after_reply, None
                if isinstance(reply, AllTickets):
                    # queued in the loop iteration its snapshot was taken in, so events keep their order around it
                    self.snapshots.send(ws, peer.codec, reply)
                elif isinstance(reply, RowsTaken):
                    self.snapshots.send_rows(ws, peer.codec, reply)  # likewise, for every page
                elif after is not None:
                    # frame the reply now, so that what `after` frames (a Welcome's replay) follows it
                    broadcast([ws], peer.codec.encode(reply), text=peer.codec.text)
                    after()
                else:
                    await ws.send(peer.codec.encode(reply), text=peer.codec.text)
                if peer.login_refused:
                    # a tarpit: a connection that keeps sending logins the server refuses is read at most
                    # `login_backoff_s` apart, so a login flood costs the server next to nothing (its frames
                    # wait in the kernel); a person who mistyped a password does not notice
                    peer.login_refused = False
                    await asyncio.sleep(self._login_backoff_s)
        except ConnectionClosed:
            pass
        except _HandlerFailed as failed:
            log.error("connection %s failed", ws.id, exc_info=failed.__cause__)
            # the request still gets its one reply, so a client can tell which request failed
            internal = Error(rid=failed.rid, code=ErrorCode.INTERNAL, message="The server failed; nothing changed.")
            with contextlib.suppress(ConnectionClosed):
                await ws.send(peer.codec.encode(internal), text=peer.codec.text)
            await ws.close(CloseCode.INTERNAL_ERROR, "internal error")
        except Exception:
            log.error("connection %s failed", ws.id, exc_info=True)
            await ws.close(CloseCode.INTERNAL_ERROR, "internal error")
        finally:
            self.dispatcher.sign_out(peer)

    async def _reply_to(self, peer: Peer, frame: str | bytes, verdict: Verdict) -> Reply | RowsTaken:
        codec = peer.codec
        if verdict is Verdict.REFUSE:
            return Error(
                rid=codec.peek_rid(frame),
                code=ErrorCode.RATE_LIMITED,
                message="Too many requests; slow down.",
            )
        try:
            message = codec.decode_client_frame(frame)
        except msgspec.DecodeError as exc:
            text, path = describe_decode_error(exc)
            # the client's mistake, answered in the reply: at most a debug line here, never a traceback
            log.debug("bad frame on %s: %.300r", peer.ws.id, text)
            return Error(rid=codec.peek_rid(frame), code=ErrorCode.BAD_REQUEST, message=text, detail=path)
        try:
            return await self.dispatcher.handle(peer, message)
        except Rejected as rejected:
            return rejected.reply(message.rid)
        except Exception as exc:
            raise _HandlerFailed(message.rid) from exc


class _HandlerFailed(Exception):
    """An unexpected failure while handling the request with this rid."""

    def __init__(self, rid: int) -> None:
        super().__init__(rid)
        self.rid = rid

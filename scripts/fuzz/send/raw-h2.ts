import * as net from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { RawRequest } from "../case.js";
import { Flag, FrameType, frame, readFrames, statusOf } from "../h2-frames.js";
import type { Limits, RawH2Outcome } from "../outcome.js";

const probe = Buffer.from("fuzzping");

/**
 * Writes raw HTTP/2 bytes on a new connection and reads frames until every
 * stream the case expects an answer on has one (response HEADERS or
 * RST_STREAM), the server sends GOAWAY or closes, or the deadline. SETTINGS
 * and PING from the server are acknowledged, as a client must. When the
 * server stays silent for `quietMs`, the client sends a PING: an ACK shows
 * the connection is served (streams it ignores are its right to ignore);
 * more silence and the client closes its side, and the server must then end
 * the connection within the deadline.
 */
export function sendRawH2(port: number, request: RawRequest, limits: Limits): Promise<RawH2Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer: Buffer = Buffer.alloc(0);
    let settled = false;
    let halfClosed = false;
    const statuses: number[] = [];
    let undecodedStatuses = 0;
    const resets: Array<{ stream: number; code: number }> = [];
    let goaway: RawH2Outcome["goaway"];
    const answered = new Set<number>();
    /** The server acknowledged our PING after a silence: it is reading the connection, just not answering. */
    let alive = false;
    /** Header blocks being assembled from HEADERS + CONTINUATION, by stream. */
    const blocks = new Map<number, Buffer[]>();
    const finish = (closedByServer: boolean, timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      clearInterval(quietCheck);
      socket.destroy();
      resolve({
        kind: "raw-h2",
        statuses,
        undecodedStatuses,
        resets,
        goaway,
        unanswered: request.streamIds.filter((id) => !answered.has(id)),
        pingAnswered: alive,
        closedByServer,
        timedOut,
        ms: performance.now() - started,
      });
    };
    const deadline = setTimeout(() => finish(false, true), limits.deadlineMs);
    let lastActivity = performance.now();
    // Silence: first ask with a PING whether the server still reads the connection (it may be
    // ignoring streams it considers closed, which is its right); silence again: close our side.
    let pinged = false;
    const quietCheck = setInterval(
      () => {
        if (halfClosed || performance.now() - lastActivity < limits.quietMs) return;
        lastActivity = performance.now();
        if (!pinged) {
          pinged = true;
          write(frame(FrameType.PING, 0, 0, probe));
        } else {
          halfClosed = true;
          socket.end();
        }
      },
      Math.max(10, limits.quietMs / 4),
    );

    const headerBlockDone = (streamId: number, block: Buffer) => {
      const status = statusOf(block);
      if (status === undefined) undecodedStatuses++;
      else statuses.push(status);
      // 1xx answers are informational: the final one is still to come.
      if (status === undefined || status >= 200) answered.add(streamId);
    };

    socket.on("data", (chunk: Buffer) => {
      lastActivity = performance.now();
      const { frames, rest } = readFrames(Buffer.concat([buffer, chunk]));
      buffer = rest;
      for (const f of frames) {
        if (f.type === FrameType.SETTINGS && (f.flags & Flag.ACK) === 0) write(frame(FrameType.SETTINGS, Flag.ACK, 0));
        else if (f.type === FrameType.PING && (f.flags & Flag.ACK) === 0) write(frame(FrameType.PING, Flag.ACK, 0, f.payload));
        else if (f.type === FrameType.PING && f.payload.equals(probe)) alive = true;
        else if (f.type === FrameType.HEADERS) {
          let payload = f.payload;
          let offset = 0;
          if (f.flags & Flag.PADDED) {
            offset = 1;
            payload = payload.subarray(0, payload.length - (payload[0] ?? 0));
          }
          if (f.flags & Flag.PRIORITY) offset += 5;
          const fragment = payload.subarray(offset);
          if (f.flags & Flag.END_HEADERS) headerBlockDone(f.streamId, fragment);
          else blocks.set(f.streamId, [fragment]);
        } else if (f.type === FrameType.CONTINUATION) {
          const parts = blocks.get(f.streamId);
          if (parts !== undefined) {
            parts.push(f.payload);
            if (f.flags & Flag.END_HEADERS) {
              blocks.delete(f.streamId);
              headerBlockDone(f.streamId, Buffer.concat(parts));
            }
          }
        } else if (f.type === FrameType.RST_STREAM) {
          resets.push({ stream: f.streamId, code: f.payload.length >= 4 ? f.payload.readUInt32BE(0) : -1 });
          answered.add(f.streamId);
        } else if (f.type === FrameType.GOAWAY) {
          goaway = {
            lastStream: f.payload.length >= 4 ? f.payload.readUInt32BE(0) & 0x7fffffff : -1,
            code: f.payload.length >= 8 ? f.payload.readUInt32BE(4) : -1,
            debug: f.payload.subarray(8, 88).toString("latin1"),
          };
        }
      }
      if (goaway !== undefined || alive) finish(false, false);
      else if (request.streamIds.length > 0 && request.streamIds.every((id) => answered.has(id))) finish(false, false);
    });
    const write = (bytes: Buffer) => {
      if (!socket.destroyed && !socket.writableEnded) socket.write(bytes);
    };
    socket.on("end", () => finish(true, false));
    socket.on("close", () => finish(true, false));
    socket.on("error", () => finish(true, false));
    socket.once("connect", async () => {
      for (const [i, chunk] of request.chunks.entries()) {
        if (socket.destroyed) return;
        write(chunk);
        if (i < request.chunks.length - 1) await sleep(1);
      }
      lastActivity = performance.now();
      if (request.endAfterWrite && !socket.destroyed) {
        halfClosed = true;
        socket.end();
      }
    });
  });
}

import { describe, expect, it, vi } from 'vitest';
import { Signalling } from './signalling';
import type { SocketLike } from './signalling';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closed: number | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close(code = 1000) { this.closed = code; this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.({}); }
  frame(m: unknown) { this.onmessage?.({ data: typeof m === 'string' ? m : JSON.stringify(m) }); }
  serverClose(code: number, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
}

const me = { participant_id: 'par_1', identity: 'agent-1', role: 'agent', muted: false };

describe('Signalling', () => {
  it('joins when the socket opens and reports the room', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const states: string[] = [];
    s.on('state', (st) => states.push(st));
    const joined = vi.fn();
    s.on('joined', joined);
    expect(s.send({ type: 'ping' })).toBe(false);
    ws.open();
    expect(ws.sent).toEqual([{ type: 'join', v: 1 }]);
    ws.frame({ type: 'joined', v: 1, room: 'r1', participant: me, participants: [] });
    expect(s.state).toBe('joined');
    expect(joined).toHaveBeenCalledWith({ room: 'r1', participant: me, participants: [] });
    expect(states).toEqual(['joining', 'joined']);
  });

  it('drops malformed frames without acting on them', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const seen = vi.fn();
    s.on('message', seen);
    ws.open();
    for (const bad of ['nope', '[]', '{"type":7}', { type: 'joined', v: 1 }, { type: 'mute', participant_id: 'p', muted: 'yes' },
      { type: 'payment', payment: { id: 'pay_1' } }, { type: 'surprise' }]) ws.frame(bad);
    expect(seen).not.toHaveBeenCalled();
    expect(s.dropped).toBe(7);
    expect(s.state).toBe('joining');
  });

  it('ignores a joined frame that comes twice or too early', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const joined = vi.fn();
    s.on('joined', joined);
    ws.frame({ type: 'joined', v: 1, room: 'r1', participant: me, participants: [] });
    expect(joined).not.toHaveBeenCalled();
    ws.open();
    ws.frame({ type: 'joined', v: 1, room: 'r1', participant: me, participants: [] });
    ws.frame({ type: 'joined', v: 1, room: 'r2', participant: me, participants: [] });
    expect(joined).toHaveBeenCalledTimes(1);
  });

  it('reports fatal errors and closes with their message', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const errors: unknown[] = [];
    const closed = vi.fn();
    s.on('error', (e) => errors.push(e));
    s.on('closed', closed);
    ws.open();
    ws.frame({ type: 'error', code: 'rate_limited', message: 'slow down' });
    ws.frame({ type: 'error', code: 'role_taken', message: 'the room already has a patient' });
    ws.serverClose(1000, 'bye');
    expect(errors).toEqual([
      { code: 'rate_limited', message: 'slow down', fatal: false },
      { code: 'role_taken', message: 'the room already has a patient', fatal: true },
    ]);
    expect(closed).toHaveBeenCalledWith({ code: 1000, reason: 'the room already has a patient' });
    expect(s.state).toBe('closed');
    expect(s.send({ type: 'ping' })).toBe(false);
  });

  it('treats room_ended (a token issued before the room ended) as fatal', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const errors: unknown[] = [];
    s.on('error', (e) => errors.push(e));
    ws.open();
    ws.frame({ type: 'error', code: 'room_ended', message: 'ask for a new token' });
    expect(errors).toEqual([{ code: 'room_ended', message: 'ask for a new token', fatal: true }]);
  });

  it('pings to stay alive and stops when closed', () => {
    vi.useFakeTimers();
    try {
      const ws = new FakeSocket();
      const s = new Signalling(ws, 1000);
      ws.open();
      vi.advanceTimersByTime(2500);
      expect(ws.sent.filter((m) => (m as { type: string }).type === 'ping')).toHaveLength(2);
      s.leave();
      expect(ws.sent[ws.sent.length - 1]).toEqual({ type: 'leave' });
      expect(ws.closed).toBe(1000);
      vi.advanceTimersByTime(5000);
      expect(ws.sent.filter((m) => (m as { type: string }).type === 'ping')).toHaveLength(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

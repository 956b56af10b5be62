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
    expect(joined).toHaveBeenCalledWith({ room: 'r1', participant: me, participants: [], iceServers: [] });
    expect(states).toEqual(['joining', 'joined']);
  });

  it('follows a cluster redirect to the node holding the room, on a new socket', () => {
    const first = new FakeSocket();
    const second = new FakeSocket();
    const opened: string[] = [];
    const s = new Signalling(first, 20_000, (url) => { opened.push(url); return second; });
    const states: string[] = [];
    s.on('state', (st) => states.push(st));
    const closed = vi.fn();
    s.on('closed', closed);
    first.open();
    first.frame({ type: 'redirect', url: 'https://node-2.example', node: 'node-2' });
    expect(opened).toEqual(['https://node-2.example']);
    expect(first.closed).toBe(1000);
    // The old socket's close is not the session's.
    first.serverClose(4302, 'redirect');
    expect(closed).not.toHaveBeenCalled();
    expect(s.state).toBe('connecting');
    second.open();
    expect(second.sent).toEqual([{ type: 'join', v: 1 }]);
    second.frame({ type: 'joined', v: 1, room: 'r1', participant: me, participants: [] });
    expect(s.state).toBe('joined');
    expect(states).toEqual(['joining', 'connecting', 'joining', 'joined']);
  });

  it('refuses redirect loops, hostile redirect URLs and redirects it cannot follow', () => {
    // Past the limit the session closes with redirect_failed.
    const sockets: [FakeSocket, FakeSocket, FakeSocket, FakeSocket] = [new FakeSocket(), new FakeSocket(), new FakeSocket(), new FakeSocket()];
    let i = 0;
    const next = (): FakeSocket => sockets[++i] ?? sockets[3];
    const s = new Signalling(sockets[0], 20_000, next);
    const closed = vi.fn();
    s.on('closed', closed);
    for (const ws of sockets) {
      ws.open();
      ws.frame({ type: 'redirect', url: 'http://loop.example', node: 'n' });
    }
    expect(i).toBe(3);
    sockets[3].serverClose(4302, 'redirect');
    expect(closed).toHaveBeenCalledWith({ code: 4302, reason: 'The call could not reach the gateway that holds the room.' });
    // A non-http(s) URL is not a redirect at all (dropped as malformed).
    const ws = new FakeSocket();
    const reopen = vi.fn();
    const t = new Signalling(ws, 20_000, reopen);
    ws.open();
    ws.frame({ type: 'redirect', url: 'javascript:alert(1)', node: 'n' });
    expect(reopen).not.toHaveBeenCalled();
    expect(t.dropped).toBe(1);
    // Without a reopen function the session does not follow.
    const plain = new FakeSocket();
    const u = new Signalling(plain);
    plain.open();
    plain.frame({ type: 'redirect', url: 'https://node-2.example', node: 'node-2' });
    expect(u.state).toBe('joining');
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

  it('warns before the token expires, refreshes it, and reports the answer', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const expiring = vi.fn();
    const refreshed = vi.fn();
    const refused = vi.fn();
    const errors: unknown[] = [];
    s.on('tokenExpiring', expiring);
    s.on('tokenRefreshed', refreshed);
    s.on('refreshRefused', refused);
    s.on('error', (e) => errors.push(e));
    expect(s.refresh('a.b.c')).toBe(false);
    ws.open();
    ws.frame({ type: 'token_expiring', exp: 100, expires_in: 60 });
    expect(expiring).toHaveBeenCalledWith({ exp: 100, expiresIn: 60 });
    expect(s.refresh('a.b.c')).toBe(true);
    expect(ws.sent[ws.sent.length - 1]).toEqual({ type: 'refresh', token: 'a.b.c' });
    expect(s.refreshing).toBe(true);
    ws.frame({ type: 'token_refreshed', exp: 700 });
    expect(refreshed).toHaveBeenCalledWith({ exp: 700 });
    expect(s.refreshing).toBe(false);
    // A refused refresh is not fatal, even with a code that ends a session elsewhere.
    s.refresh('x.y.z');
    ws.frame({ type: 'error', code: 'token_revoked', message: 'revoked' });
    expect(refused).toHaveBeenCalledWith({ code: 'token_revoked', message: 'revoked' });
    expect(errors).toEqual([{ code: 'token_revoked', message: 'revoked', fatal: false }]);
    expect(s.state).toBe('joining');
  });

  it('closes with the expiry as its reason when the token expires', () => {
    const ws = new FakeSocket();
    const s = new Signalling(ws);
    const closed = vi.fn();
    s.on('closed', closed);
    ws.open();
    ws.frame({ type: 'token_expired', exp: 100 });
    ws.serverClose(4401, 'token expired');
    expect(closed).toHaveBeenCalledWith({ code: 4401, reason: 'The access token expired.' });
    const revoked = new FakeSocket();
    const r = new Signalling(revoked);
    const errors: unknown[] = [];
    r.on('error', (e) => errors.push(e));
    revoked.open();
    revoked.frame({ type: 'error', code: 'token_revoked', message: 'the API key was revoked' });
    expect(errors).toEqual([{ code: 'token_revoked', message: 'the API key was revoked', fatal: true }]);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { AgentSession } from './agent-session';
import type { AgentSessionOptions } from './agent-session';
import { Call, CallError } from './call';
import type { CallOptions } from './call';
import type { SocketLike } from './signalling';

class FakeSocket implements SocketLike {
  readyState = 0;
  sent: { type: string; [k: string]: unknown }[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string) { this.sent.push(JSON.parse(data)); }
  close() { this.readyState = 3; }
  open() { this.readyState = 1; this.onopen?.({}); }
  frame(m: unknown) { this.onmessage?.({ data: JSON.stringify(m) }); }
  serverClose(code: number, reason = '') { this.readyState = 3; this.onclose?.({ code, reason }); }
  last() { return this.sent[this.sent.length - 1]; }
}

/** A call without the WebRTC half: the signalling over a fake socket is all these tests need. */
class TestCall extends Call {
  static make(options: Omit<CallOptions, 'url' | 'token'>): TestCall {
    return new TestCall({ url: 'https://pay.example', token: 'old.token.jwt', ...options });
  }
}

class TestAgent extends AgentSession {
  static make(options: Omit<AgentSessionOptions, 'url' | 'token'>): TestAgent {
    return new TestAgent({ url: 'https://pay.example', token: 'old.token.jwt', ...options });
  }
}

const flush = () => new Promise((r) => setTimeout(r, 0));

afterEach(() => vi.unstubAllGlobals());

describe('Call token refresh', () => {
  it('refreshToken sends the fresh token and resolves with the new exp', async () => {
    const ws = new FakeSocket();
    const call = TestCall.make({ socket: () => ws });
    ws.open();
    const refreshed = vi.fn();
    call.on('tokenRefreshed', refreshed);
    const done = call.refreshToken('new.token.jwt');
    expect(ws.last()).toEqual({ type: 'refresh', token: 'new.token.jwt' });
    await expect(call.refreshToken('other.token.jwt')).rejects.toMatchObject({ code: 'refresh_pending' });
    ws.frame({ type: 'token_refreshed', exp: 1234 });
    await expect(done).resolves.toBe(1234);
    expect(refreshed).toHaveBeenCalledWith({ exp: 1234 });
  });

  it('a refused refresh rejects with the server code and the call goes on', async () => {
    const ws = new FakeSocket();
    const call = TestCall.make({ socket: () => ws });
    ws.open();
    const closed = vi.fn();
    call.on('closed', closed);
    const done = call.refreshToken('other.room.jwt');
    ws.frame({ type: 'error', code: 'wrong_room', message: 'the token is for another room' });
    const err = await done.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CallError);
    expect(err).toMatchObject({ code: 'wrong_room' });
    expect(closed).not.toHaveBeenCalled();
    expect(call.signalling.state).toBe('joining');
  });

  it('refreshToken before the socket opens rejects', async () => {
    const call = TestCall.make({ socket: () => new FakeSocket() });
    await expect(call.refreshToken('a.b.c')).rejects.toMatchObject({ code: 'not_connected' });
  });

  it('with a refreshToken callback, tokenExpiring fetches a fresh token and refreshes by itself', async () => {
    const ws = new FakeSocket();
    const fetchToken = vi.fn(async () => 'fresh.token.jwt');
    const call = TestCall.make({ socket: () => ws, refreshToken: fetchToken });
    const expiring = vi.fn();
    call.on('tokenExpiring', expiring);
    ws.open();
    ws.frame({ type: 'token_expiring', exp: 100, expires_in: 60 });
    expect(expiring).toHaveBeenCalledWith({ exp: 100, expiresIn: 60 });
    await flush();
    expect(fetchToken).toHaveBeenCalledTimes(1);
    expect(ws.last()).toEqual({ type: 'refresh', token: 'fresh.token.jwt' });
  });

  it('a failing refreshToken callback is reported as a non-fatal error', async () => {
    const ws = new FakeSocket();
    const call = TestCall.make({ socket: () => ws, refreshToken: async () => { throw new Error('backend down'); } });
    const errors: unknown[] = [];
    call.on('error', (e) => errors.push(e));
    ws.open();
    ws.frame({ type: 'token_expiring', exp: 100, expires_in: 60 });
    await flush();
    expect(errors).toEqual([{ code: 'refresh_failed', message: 'The session could not be extended: backend down', fatal: false }]);
  });

  it('an agent session uses the refreshed token for its payment commands', async () => {
    const ws = new FakeSocket();
    const seen: string[] = [];
    vi.stubGlobal('fetch', vi.fn(async (_url: string, init: RequestInit) => {
      seen.push((init.headers as Record<string, string>).Authorization ?? '');
      return new Response(JSON.stringify({ error: { code: 'not_found', message: 'no such payment' } }), { status: 404, headers: { 'content-type': 'application/json' } });
    }));
    const agent = TestAgent.make({ socket: () => ws });
    ws.open();
    await agent.client.show('pay_1').catch(() => {});
    const done = agent.refreshToken('new.token.jwt');
    ws.frame({ type: 'token_refreshed', exp: 99 });
    await done;
    await agent.client.show('pay_1').catch(() => {});
    expect(seen).toEqual(['Bearer old.token.jwt', 'Bearer new.token.jwt']);
  });
});

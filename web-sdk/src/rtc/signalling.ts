/**
 * The signalling state machine of one participant on `GET /v1/rtc` (protocol v1):
 *
 *   connecting ──open──▶ joining ──joined──▶ joined ──close / room_closed / fatal error──▶ closed
 *
 * It sends `join` when the socket opens, keeps the session alive with `ping` (the server
 * closes an idle socket after 60 s), parses every frame strictly (malformed ones are dropped
 * and counted), and reports what happened as events. The session lives as long as its token:
 * the server warns (`tokenExpiring`) before `exp`, `refresh(token)` sends a fresh token (the
 * next `token_refreshed` or `error` frame is its answer: the server answers frames in order),
 * and at `exp` the server sends `token_expired` and closes with 4401. It knows nothing of WebRTC: `Call`
 * drives the peer connection from its events. The socket is injected, so tests use a fake.
 *
 * A gateway cluster may answer `join` with `redirect` (the room is on another node): with a
 * `reopen` function the session follows it, at most {@link MAX_REDIRECTS} times, back to
 * `connecting` on a socket to the named node, without the application noticing; without one,
 * or past the limit, the session closes with `redirect_failed`.
 */
import { Emitter } from '../card/emitter';
import { PROTOCOL_VERSION, parseServerMessage } from './messages';
import type { ClientMessage, IceServer, ParticipantInfo, ServerMessage } from './messages';

/** The part of `WebSocket` used here. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}

export type SignallingState = 'connecting' | 'joining' | 'joined' | 'closed';

/** Redirects followed during one join. */
export const MAX_REDIRECTS = 3;

/** Error codes after which the server closes the session (docs/protocol.md). */
const FATAL = new Set(['missing_token', 'unsupported_version', 'room_full', 'too_many_rooms', 'role_taken', 'room_closed', 'room_ended', 'idle_timeout', 'token_revoked', 'token_unbound']);

export interface SignallingEvents extends Record<string, unknown> {
  state: SignallingState;
  /** `iceServers`: TURN servers with this participant's credentials (empty without TURN). */
  joined: { room: string; participant: ParticipantInfo; participants: ParticipantInfo[]; iceServers: IceServer[] };
  /** Every valid frame, after the state machine saw it. */
  message: ServerMessage;
  /** An `error` frame; `fatal` when the server ends the session with it. */
  error: { code: string; message: string; fatal: boolean };
  closed: { code: number; reason: string };
  /** The token expires soon (`exp` unix seconds, `expiresIn` seconds left): refresh it. */
  tokenExpiring: { exp: number; expiresIn: number };
  /** A `refresh` was accepted: the session now ends at `exp` (`iceServers`: fresh TURN
   * credentials, when the gateway has TURN). */
  tokenRefreshed: { exp: number; iceServers?: IceServer[] };
  /** A `refresh` was refused (the session goes on until the old `exp`). */
  refreshRefused: { code: string; message: string };
}

export class Signalling {
  private readonly events = new Emitter<SignallingEvents>();
  private current: SignallingState = 'connecting';
  private pinger: ReturnType<typeof setInterval> | undefined;
  private nonce = 0;
  /** Frames that did not parse (dropped). */
  dropped = 0;
  private lastError: { code: string; message: string } | null = null;
  private refreshPending = false;
  private socket: SocketLike;
  private redirects = 0;

  /**
   * `reopen(url)` opens a socket to the gateway whose public base URL is `url` (a `redirect`);
   * without it redirects are not followed.
   */
  constructor(socket: SocketLike, private readonly pingMs = 20_000, private readonly reopen?: (url: string) => SocketLike) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: SocketLike): void {
    socket.onopen = () => this.onOpen();
    socket.onmessage = (ev) => this.onFrame(ev.data);
    socket.onclose = (ev) => this.onClose(ev.code, this.lastError?.message ?? ev.reason);
    socket.onerror = () => {};
  }

  /** Leaves the current socket for one to `url` (a `redirect` during `joining`). */
  private follow(url: string): void {
    const old = this.socket;
    old.onopen = null;
    old.onmessage = null;
    old.onclose = null;
    old.onerror = null;
    old.close(1000, 'redirect');
    clearInterval(this.pinger);
    this.pinger = undefined;
    this.redirects++;
    this.setState('connecting');
    this.socket = this.reopen!(url);
    this.attach(this.socket);
  }

  on<K extends keyof SignallingEvents>(event: K, handler: (payload: SignallingEvents[K]) => void): () => void {
    return this.events.on(event, handler);
  }

  get state(): SignallingState {
    return this.current;
  }

  /** Sends a frame if the socket is open; `false` otherwise. */
  send(message: ClientMessage): boolean {
    if (this.current === 'closed' || this.socket.readyState !== 1) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Sends a fresh token for this session; `false` if the socket is not open. */
  refresh(token: string): boolean {
    if (!this.send({ type: 'refresh', token })) return false;
    this.refreshPending = true;
    return true;
  }

  /** True while a `refresh` waits for its answer. */
  get refreshing(): boolean {
    return this.refreshPending;
  }

  /** Leaves the room and closes the socket. */
  leave(): void {
    this.send({ type: 'leave' });
    this.socket.close(1000, 'leave');
    this.onClose(1000, 'left');
  }

  private setState(s: SignallingState): void {
    if (this.current === s) return;
    this.current = s;
    this.events.emit('state', s);
  }

  private onOpen(): void {
    if (this.current !== 'connecting') return;
    this.setState('joining');
    this.send({ type: 'join', v: PROTOCOL_VERSION });
    this.pinger = setInterval(() => this.send({ type: 'ping', nonce: ++this.nonce }), this.pingMs);
  }

  private onFrame(data: unknown): void {
    if (this.current === 'closed') return;
    const msg = parseServerMessage(data);
    if (!msg) {
      this.dropped++;
      return;
    }
    switch (msg.type) {
      case 'joined':
        if (this.current !== 'joining') break;
        this.setState('joined');
        this.events.emit('joined', { room: msg.room, participant: msg.participant, participants: msg.participants, iceServers: msg.iceServers ?? [] });
        break;
      case 'error': {
        if (this.refreshPending) {
          // The answer to the refresh: the session goes on.
          this.refreshPending = false;
          this.events.emit('refreshRefused', { code: msg.code, message: msg.message });
          this.events.emit('error', { code: msg.code, message: msg.message, fatal: false });
          break;
        }
        const fatal = FATAL.has(msg.code);
        if (fatal) this.lastError = { code: msg.code, message: msg.message };
        this.events.emit('error', { code: msg.code, message: msg.message, fatal });
        break;
      }
      case 'room_closed':
        this.lastError = { code: 'room_closed', message: `The call ended (${msg.reason}).` };
        break;
      case 'token_expiring':
        this.events.emit('tokenExpiring', { exp: msg.exp, expiresIn: msg.expires_in });
        break;
      case 'token_refreshed':
        this.refreshPending = false;
        this.events.emit('tokenRefreshed', msg.iceServers ? { exp: msg.exp, iceServers: msg.iceServers } : { exp: msg.exp });
        break;
      case 'token_expired':
        this.lastError = { code: 'token_expired', message: 'The access token expired.' };
        break;
      case 'redirect':
        if (this.current === 'joining' && this.reopen && this.redirects < MAX_REDIRECTS) {
          this.events.emit('message', msg);
          this.follow(msg.url);
          return;
        }
        this.lastError = { code: 'redirect_failed', message: 'The call could not reach the gateway that holds the room.' };
        break;
      default:
        break;
    }
    this.events.emit('message', msg);
  }

  private onClose(code: number, reason: string): void {
    if (this.current === 'closed') return;
    clearInterval(this.pinger);
    if (this.refreshPending) {
      this.refreshPending = false;
      this.events.emit('refreshRefused', { code: 'closed', message: 'The session closed before the refresh was answered.' });
    }
    this.setState('closed');
    this.events.emit('closed', { code, reason });
  }
}

/**
 * A spare shim: started ahead of time (Node started, the bundle loaded, the addon open), it waits
 * on its spare socket for one Claim, which makes it the shim of a container exactly as `serve`
 * would have (packages/shim/README.md, "Spare shims"). It never serves two containers.
 *
 *   | from     | to       | on                                                          |
 *   |----------|----------|-------------------------------------------------------------|
 *   | waiting  | claiming | Claim                                                       |
 *   | claiming | claimed  | the Task API serves on the container's socket               |
 *   | claiming | retiring | the claim failed (files may be half-written: never reused)  |
 *   | waiting  | retiring | Retire, SIGTERM, its spare socket removed, its owner gone   |
 *
 * Any other event is refused: a second Claim, or a Retire once claimed (FailedPrecondition).
 */
import type * as grpc from '@grpc/grpc-js';
import type { ClaimRequest, IClaimResponse, IRetireResponse, SpareServer } from '@berth/api/berth/shim/v1';
import { ShimError, toStatus } from './errors.js';

export type SpareState = 'waiting' | 'claiming' | 'claimed' | 'retiring';

export interface Claim {
  namespace: string;
  id: string;
  bundle: string;
  socket: string;
  runtime: string;
  debug: boolean;
}

export interface SpareOptions {
  /** Becomes the container's shim: serves Task on claim.socket; throws if it cannot. */
  become: (claim: Claim) => Promise<IClaimResponse>;
  /** Ends the spare (stops serving Spare, removes the spare socket, exits). */
  retire: (why: string) => void;
  /** Stops serving Spare and removes the spare socket, once claimed. */
  release: () => void;
}

export class SpareControl {
  private current: SpareState = 'waiting';

  constructor(private readonly o: SpareOptions) {}

  get state(): SpareState {
    return this.current;
  }

  async claim(req: Pick<ClaimRequest, keyof Claim>): Promise<IClaimResponse> {
    if (this.current !== 'waiting') throw ShimError.precondition(`this spare is ${this.current}: it cannot be claimed`);
    if (!req.namespace || !req.id || !req.bundle || !req.socket) throw ShimError.invalid('claim: namespace, id, bundle and socket are required');
    this.current = 'claiming';
    try {
      const res = await this.o.become({
        namespace: req.namespace, id: req.id, bundle: req.bundle, socket: req.socket, runtime: req.runtime || 'berth-runc', debug: Boolean(req.debug),
      });
      this.current = 'claimed';
      this.o.release();
      return res;
    } catch (err) {
      this.to('retiring', `claim of ${req.namespace}/${req.id} failed: ${(err as Error).message}`);
      throw err;
    }
  }

  /** Retire (the RPC, or the spare's own watch): only while waiting. */
  retire(why: string): IRetireResponse {
    if (this.current === 'retiring') return { shimPid: process.pid };
    if (this.current !== 'waiting') throw ShimError.precondition(`this spare is ${this.current}: it cannot retire`);
    this.to('retiring', why);
    return { shimPid: process.pid };
  }

  private to(state: 'retiring', why: string): void {
    this.current = state;
    this.o.retire(why);
  }

  handlers(): SpareServer {
    const unary =
      <Req, Res>(fn: (req: Req) => Promise<Res> | Res): grpc.handleUnaryCall<Req, Res> =>
      (call, cb) => {
        Promise.resolve()
          .then(() => fn(call.request))
          .then(
            (res) => cb(null, res),
            (err) => {
              const s = toStatus(err);
              cb({ code: s.code, details: s.details });
            },
          );
      };
    return {
      claim: unary((req: ClaimRequest) => this.claim(req)),
      retire: unary(() => this.retire('asked to retire')),
    };
  }
}

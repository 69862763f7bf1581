import { describe, expect, it } from 'vitest';
import { AttachHub, MAX_PENDING_MESSAGES, type AttachCall } from './attach.js';

/** A stand-in for a grpc-js server stream: records writes; `stuck` ones never drain. */
function fakeCall(stuck = false) {
  const c = {
    written: [] as unknown[],
    ended: false,
    destroyed: undefined as Error | undefined,
    get writableLength() {
      return stuck ? this.written.length : 0;
    },
    write(m: unknown) {
      this.written.push(m);
      return true;
    },
    end() {
      this.ended = true;
    },
    destroy(e: Error) {
      this.destroyed = e;
    },
  };
  return c as typeof c & AttachCall;
}

describe('AttachHub', () => {
  it('fans output out to each client from when it attached, by stream, and ends every stream with the exit', () => {
    const hub = new AttachHub();
    const a = fakeCall();
    hub.add(a, { stdout: true, stderr: false });
    hub.output('stdout', Buffer.from('one'));
    const b = fakeCall();
    hub.add(b, { stdout: true, stderr: true });
    hub.output('stderr', Buffer.from('two'));
    hub.output('stdout', Buffer.from('three'));
    hub.finish({ exitStatus: 3 });
    expect(a.written).toEqual([{ stdout: Buffer.from('one') }, { stdout: Buffer.from('three') }, { exit: { exitStatus: 3 } }]);
    expect(b.written).toEqual([{ stderr: Buffer.from('two') }, { stdout: Buffer.from('three') }, { exit: { exitStatus: 3 } }]);
    expect(a.ended && b.ended).toBe(true);
    // Attaching after the end gets the exit at once.
    const c = fakeCall();
    hub.add(c, { stdout: true, stderr: true });
    expect(c.written).toEqual([{ exit: { exitStatus: 3 } }]);
    expect(c.ended).toBe(true);
  });

  it('drops a client that falls behind; the others get everything', () => {
    const hub = new AttachHub();
    const slow = fakeCall(true);
    const fast = fakeCall();
    hub.add(slow, { stdout: true, stderr: true });
    hub.add(fast, { stdout: true, stderr: true });
    for (let i = 0; i < MAX_PENDING_MESSAGES + 10; i++) hub.output('stdout', Buffer.from(String(i)));
    expect(slow.destroyed?.message).toMatch(/too slow/);
    expect(slow.written.length).toBe(MAX_PENDING_MESSAGES + 1);
    expect(fast.written.length).toBe(MAX_PENDING_MESSAGES + 10);
  });

  it('a client that detaches gets nothing more', () => {
    const hub = new AttachHub();
    const a = fakeCall();
    const detach = hub.add(a, { stdout: true, stderr: true });
    hub.output('stdout', Buffer.from('x'));
    detach();
    hub.output('stdout', Buffer.from('y'));
    hub.finish({ exitStatus: 0 });
    expect(a.written).toEqual([{ stdout: Buffer.from('x') }]);
  });
});

import { EventEmitter } from 'node:events';

/**
 * Cancels an upstream call. Node's AbortController is an EventTarget, which costs several
 * microseconds to create and to listen to; the gateway makes one per request, so it uses this
 * EventEmitter instead (undici accepts either as a request's `signal`).
 */
export class AbortHandle extends EventEmitter {
  aborted = false;

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
  }
}

/** Anything that says whether a call was cancelled. */
export interface Cancellation {
  readonly aborted: boolean;
}

/** Waits `ms`, or less if `handle` aborts first. Never rejects. */
export function sleep(ms: number, handle: AbortHandle): Promise<void> {
  if (handle.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      handle.off('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    handle.once('abort', done);
  });
}

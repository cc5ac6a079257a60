/**
 * A serialport binding wrapper that can "pull the cable" of a port: reads on an open port fail
 * with a disconnect error (what the native binding reports when a USB adapter vanishes) and
 * opening fails until the port is plugged back. The demo's `--attack unplug` and the tests use it
 * around the simulated boards' binding, so SerialLink's real reconnect path runs.
 */
import type { BindingInterface, BindingPortInterface, OpenOptions } from '@serialport/bindings-cpp';

/** Wraps `inner`; `unplug(path)` / `replug(path)` control one port. */
export class UnpluggableBinding {
  private readonly unplugged = new Set<string>();
  private readonly cuts = new Map<string, Set<(err: Error) => void>>();
  /** The binding to hand to SerialLink. */
  readonly binding: BindingInterface;

  constructor(inner: BindingInterface) {
    const unplugged = this.unplugged;
    const cuts = this.cuts;
    this.binding = {
      list: () => inner.list(),
      async open(options: OpenOptions): Promise<BindingPortInterface> {
        if (unplugged.has(options.path)) throw new Error(`cannot open ${options.path}: no such device (unplugged)`);
        const port = await inner.open(options);
        const read = port.read.bind(port);
        port.read = (buffer, offset, length) =>
          new Promise((resolve, reject) => {
            const cut = (err: Error): void => reject(err);
            const set = cuts.get(options.path) ?? new Set();
            cuts.set(options.path, set);
            set.add(cut);
            read(buffer, offset, length).then(
              (r) => {
                set.delete(cut);
                resolve(r);
              },
              (e: unknown) => {
                set.delete(cut);
                reject(e);
              },
            );
          });
        return port;
      },
    } as BindingInterface;
  }

  /** Pulls the cable: pending reads fail as disconnected; opens fail. */
  unplug(path: string): void {
    this.unplugged.add(path);
    const err = Object.assign(new Error(`${path}: device disconnected (cable pulled)`), { disconnected: true });
    for (const cut of this.cuts.get(path) ?? []) cut(err);
    this.cuts.delete(path);
  }

  /** Plugs the cable back in. */
  replug(path: string): void {
    this.unplugged.delete(path);
  }
}

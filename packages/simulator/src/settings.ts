/**
 * The few settings a test may change while the simulator runs (`POST /__sim/config`), starting from
 * the resolved options. Routes read them per request, so a switch takes effect on the next reply
 * without a restart; `options` on the Simulator keeps showing what it was started with. Settings that
 * something else must act on (the clock's `tickMs`) reach it through `onChange`.
 */
import { MAX_TICK_MS, isV3CommitShape } from './options.js';
import type { ResolvedOptions, V3CommitShape } from './options.js';
import type { ParamValue, Params } from './query.js';

export interface SettingsSnapshot {
  readonly v3CommitShape: V3CommitShape;
  /** Honour `Range` on job logs. */
  readonly traceRange: boolean;
  /** ms between clock ticks. */
  readonly tickMs: number;
}

type SettingKey = keyof SettingsSnapshot;

/** One parser per setting: the value from a JSON or form body (always text), or undefined when invalid. */
const PARSERS: { readonly [K in SettingKey]: (value: ParamValue) => SettingsSnapshot[K] | undefined } = {
  v3CommitShape: (value) => (isV3CommitShape(value) ? value : undefined),
  traceRange: (value) => (value === 'true' ? true : value === 'false' ? false : undefined),
  tickMs: (value) => {
    if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) return undefined;
    const ms = Number(value);
    return ms >= 1 && ms <= MAX_TICK_MS ? ms : undefined;
  },
};

const isSettingKey = (key: string): key is SettingKey => Object.hasOwn(PARSERS, key);

export class LiveSettings {
  v3CommitShape: V3CommitShape;
  traceRange: boolean;
  tickMs: number;
  readonly #listeners: ((settings: SettingsSnapshot) => void)[] = [];

  constructor(options: Pick<ResolvedOptions, SettingKey>) {
    this.v3CommitShape = options.v3CommitShape;
    this.traceRange = options.traceRange;
    this.tickMs = options.tickMs;
  }

  snapshot(): SettingsSnapshot {
    return { v3CommitShape: this.v3CommitShape, traceRange: this.traceRange, tickMs: this.tickMs };
  }

  /** Calls `listener` with the new settings after every successful `apply`. */
  onChange(listener: (settings: SettingsSnapshot) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Applies every known key of `params`, or none: checks all of them first.
   * @returns the name of the first unknown or invalid key, or undefined when all were applied
   */
  apply(params: Params): string | undefined {
    const next: Record<string, unknown> = { ...this.snapshot() };
    for (const [key, value] of Object.entries(params)) {
      if (!isSettingKey(key)) return key;
      const parsed = PARSERS[key](value);
      if (parsed === undefined) return key;
      next[key] = parsed;
    }
    const settings = next as unknown as SettingsSnapshot;
    this.v3CommitShape = settings.v3CommitShape;
    this.traceRange = settings.traceRange;
    this.tickMs = settings.tickMs;
    for (const listener of this.#listeners) listener(this.snapshot());
    return undefined;
  }
}

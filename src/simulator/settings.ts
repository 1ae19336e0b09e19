/**
 * The few settings a test may change while the simulator runs (`POST /__sim/config`), starting from
 * the resolved options. Routes read them per request, so a switch takes effect on the next reply
 * without a restart; `options` on the Simulator keeps showing what it was started with.
 */
import { isV3CommitShape } from './options.js';
import type { ResolvedOptions, V3CommitShape } from './options.js';
import type { Params } from './query.js';

export interface SettingsSnapshot {
  readonly v3CommitShape: V3CommitShape;
}

export class LiveSettings {
  v3CommitShape: V3CommitShape;

  constructor(options: Pick<ResolvedOptions, 'v3CommitShape'>) {
    this.v3CommitShape = options.v3CommitShape;
  }

  snapshot(): SettingsSnapshot {
    return { v3CommitShape: this.v3CommitShape };
  }

  /**
   * Applies every known key of `params`, or none: checks all of them first.
   * @returns the name of the first unknown or invalid key, or undefined when all were applied
   */
  apply(params: Params): string | undefined {
    for (const [key, value] of Object.entries(params)) {
      if (key !== 'v3CommitShape' || !isV3CommitShape(value)) return key;
    }
    const shape = params.v3CommitShape;
    if (isV3CommitShape(shape)) this.v3CommitShape = shape;
    return undefined;
  }
}

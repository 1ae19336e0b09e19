/** Every upstream kind buildgate speaks, by its config name. A new kind is one file here and one line below. */
import type { UpstreamKind } from '../../model.js';
import { bkciApigwKind } from './bkci-apigw.js';
import type { AdapterSettings, UpstreamKindDescriptor } from './descriptor.js';
import { gitlabV3Kind } from './gitlab-v3.js';
import { gitlabV4Kind } from './gitlab-v4.js';

export type { AdapterSettings, BuildOperation, TokenHeader, UpstreamCapabilities, UpstreamKindDescriptor } from './descriptor.js';
export { TOKEN_HEADERS } from './descriptor.js';

export const KINDS: Readonly<Record<UpstreamKind, UpstreamKindDescriptor>> = {
  'gitlab-v4': gitlabV4Kind,
  'gitlab-v3': gitlabV3Kind,
  'bkci-apigw': bkciApigwKind,
};

/** The kind names, for the config schema's enum. */
export const KIND_NAMES = Object.keys(KINDS) as [UpstreamKind, ...UpstreamKind[]];

export function descriptorOf(kind: UpstreamKind): UpstreamKindDescriptor {
  return KINDS[kind];
}

/** The kinds a kind-specific setting applies to. */
export function kindsWith(setting: keyof AdapterSettings): UpstreamKind[] {
  return KIND_NAMES.filter((kind) => KINDS[kind].settings.includes(setting));
}

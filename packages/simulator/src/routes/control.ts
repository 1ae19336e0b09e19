/**
 * The simulator's own endpoints under `/__sim` (never counted in stats): health, request stats and
 * their reset, a manual clock tick so tests advance builds without sleeping, and the live settings
 * (`/config`, e.g. the v3 commit shape).
 */
import { empty, invalidParam, invalidValue, json } from '../http.js';
import type { Clock } from '../runner.js';
import type { LiveSettings } from '../settings.js';
import type { Stats } from '../stats.js';
import type { RequestContext, RouteModule } from './context.js';

export interface ControlDeps {
  readonly stats: Stats;
  readonly clock: Clock;
  readonly settings: LiveSettings;
}

export function controlRoutes({ stats, clock, settings }: ControlDeps): RouteModule {
  return {
    mount: '/__sim',
    routes: [
      { method: 'GET', path: '/health', handler: () => json(200, { status: 'ok' }) },
      { method: 'GET', path: '/stats', handler: () => json(200, stats.snapshot()) },
      {
        method: 'POST',
        path: '/stats/reset',
        handler: () => {
          stats.reset();
          return json(200, stats.snapshot());
        },
      },
      {
        method: 'POST',
        path: '/tick',
        /** `?count=N` advances N ticks (default 1). */
        handler: (ctx: RequestContext) => {
          const raw = ctx.query.count ?? ctx.body.count ?? '1';
          const count = typeof raw === 'string' ? Number(raw) : NaN;
          if (!Number.isInteger(count) || count < 1 || count > 10_000) return invalidParam('count');
          for (let i = 0; i < count; i++) clock.tick();
          return empty(204);
        },
      },
      { method: 'GET', path: '/config', handler: () => json(200, settings.snapshot()) },
      {
        method: 'POST',
        path: '/config',
        /** A JSON or form body of settings, e.g. `{"v3CommitShape":"ci-commit"}`; all or nothing. */
        handler: (ctx: RequestContext) => {
          const bad = settings.apply(ctx.body);
          return bad === undefined ? json(200, settings.snapshot()) : invalidValue(bad);
        },
      },
    ],
  };
}

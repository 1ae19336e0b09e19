/**
 * `/__sim/faults`: the run-time switch of the fault table (faults.ts). Rules are added, listed with how
 * often each fired, and cleared here; which requests they hit is decided in the pipeline, never by a
 * route. A bad rule answers 400 `{"error": "<field> does not have a valid value", "expected": …}`
 * (field `[i].<field>` in an array) and adds nothing: a list is all or nothing.
 */
import { parseFaultRule } from '../faults.js';
import type { FaultRule, FaultRuleError, FaultTable } from '../faults.js';
import { empty, json } from '../http.js';
import type { Reply } from '../http.js';
import type { RequestContext, RouteModule } from './context.js';

const FAULT_NOT_FOUND: Reply = Object.freeze(json(404, { message: '404 Fault Not Found' }));
/** More than enough for any test; a bound keeps a runaway script from growing the table without end. */
export const MAX_FAULT_RULES = 1000;

function refused(error: FaultRuleError, index?: number): Reply {
  const field = index === undefined ? error.field : `[${index}].${error.field}`;
  return json(400, { error: `${field} does not have a valid value`, expected: error.expected });
}

export function controlFaultRoutes(faults: FaultTable): RouteModule {
  /** A rule → 201 `{"id": N}`; an array of rules → 201 `{"ids": [N, …]}`. */
  function add(ctx: RequestContext): Reply {
    const many = Array.isArray(ctx.json);
    const values: unknown[] = many ? (ctx.json as unknown[]) : [ctx.json];
    if (many && (values.length === 0 || values.length > MAX_FAULT_RULES)) {
      return json(400, { error: 'rules does not have a valid value', expected: `from 1 to ${MAX_FAULT_RULES} rules` });
    }
    if (faults.size + values.length > MAX_FAULT_RULES) {
      return json(409, { message: `409 Conflict - at most ${MAX_FAULT_RULES} fault rules; DELETE /__sim/faults first` });
    }
    const rules: FaultRule[] = [];
    for (const [i, value] of values.entries()) {
      const parsed = parseFaultRule(value);
      const index = many ? i : undefined;
      if ('error' in parsed) return refused(parsed.error, index);
      if (!faults.knows(parsed.rule)) return refused({ field: 'route', expected: 'a route as /__sim/stats names it, or "*"', value: parsed.rule.route }, index);
      rules.push(parsed.rule);
    }
    const ids = faults.add(rules);
    return json(201, many ? { ids } : { id: ids[0] });
  }

  return {
    mount: '/__sim',
    routes: [
      { method: 'POST', path: '/faults', handler: add },
      { method: 'GET', path: '/faults', handler: () => json(200, faults.list()) },
      {
        method: 'DELETE',
        path: '/faults',
        handler: () => {
          faults.clear();
          return empty(204);
        },
      },
      { method: 'DELETE', path: '/faults/:id(int)', handler: (ctx) => (faults.remove(Number(ctx.params.id)) ? empty(204) : FAULT_NOT_FOUND) },
    ],
  };
}

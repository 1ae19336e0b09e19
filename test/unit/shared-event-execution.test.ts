/**
 * useSharedEventExecution alone, on a small yoga: subscribers of a shared root field that receive the
 * same event objects get one execution and one result per (event, document, variables); any other
 * subscription runs each event with a fresh per-event context.
 */
import { describe, expect, it } from 'vitest';
import type { ExecutionResult } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { sharedJson, useSharedEventExecution } from '../../src/plugins/use-shared-event-execution.js';

/** The same event objects for every subscriber, as the trace hub hands them out. */
const EVENTS = [{ value: 1 }, { value: 2 }, { value: 3 }];

function gateway() {
  const counts = { executions: 0, scopes: 0 };
  const events = async function* () {
    yield* EVENTS;
  };
  const schema = createSchema<{ scope?: number }>({
    typeDefs: /* GraphQL */ `
      type Query { ok: Boolean }
      type Tick { value: Int! scope: Int }
      type Subscription { tick(label: String): Tick! status: Tick! }
    `,
    resolvers: {
      Subscription: {
        tick: { subscribe: () => events(), resolve: (event: unknown) => event },
        status: { subscribe: () => events(), resolve: (event: unknown) => event },
      },
      Tick: {
        value: (event: { value: number }) => {
          counts.executions += 1;
          return event.value;
        },
        scope: (_event: unknown, _args: unknown, context: { scope?: number }) => context.scope ?? null,
      },
    },
  });
  const yoga = createYoga({
    schema,
    plugins: [useSharedEventExecution<{ scope?: number }>({ sharedFields: new Set(['tick']), eventContext: () => ({ scope: ++counts.scopes }) })],
  });
  async function run(query: string, variables?: Record<string, unknown>): Promise<ExecutionResult[]> {
    const enveloped = yoga.getEnveloped({ request: new Request('http://yoga/graphql') });
    const document = enveloped.parse(query);
    const stream = (await enveloped.subscribe({ schema: enveloped.schema, document, variableValues: variables, contextValue: await enveloped.contextFactory() })) as AsyncIterable<ExecutionResult>;
    const results: ExecutionResult[] = [];
    for await (const result of stream) results.push(result);
    return results;
  }
  return { counts, run };
}

describe('useSharedEventExecution', () => {
  it('executes an event of a shared field once for every subscriber with the same document and variables, and serializes it once', async () => {
    const { counts, run } = gateway();
    const query = 'subscription($label: String) { tick(label: $label) { value } }';
    const [first, second] = await Promise.all([run(query, { label: 'a' }), run(query, { label: 'a' })]);
    expect(first.map((result) => result.data)).toEqual(EVENTS.map((event) => ({ tick: { value: event.value } })));
    for (let i = 0; i < EVENTS.length; i++) {
      expect(second[i]).toBe(first[i]);
      expect(sharedJson(first[i])).toBe(JSON.stringify(first[i]));
    }
    expect(counts.executions).toBe(EVENTS.length);
    // Other variables are another key: executed again.
    await run(query, { label: 'b' });
    expect(counts.executions).toBe(2 * EVENTS.length);
  });

  it('runs each event of any other field for its subscriber alone, with a fresh per-event context', async () => {
    const { counts, run } = gateway();
    const query = 'subscription { status { value scope } }';
    const [first, second] = await Promise.all([run(query), run(query)]);
    expect(counts.executions).toBe(2 * EVENTS.length);
    const scopes = [...first, ...second].map((result) => (result.data as { status: { scope: number } }).status.scope);
    expect(new Set(scopes).size).toBe(2 * EVENTS.length);
    expect(sharedJson(first[0])).toBeUndefined();
  });
});

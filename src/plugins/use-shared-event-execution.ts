/**
 * Runs each subscription event, and replaces `@envelop/execute-subscription-event` (which gave every
 * event of every subscriber a fresh scope and its own execution). Two kinds of operation:
 *
 * - Operations whose root field is in `sharedFields` (`buildTrace`: a TraceChunk and everything under it
 *   is computed from the chunk alone, nothing is loaded with the subscriber's context) are executed once
 *   per (event, document, operation name, variables), and every subscriber of that key gets the same
 *   ExecutionResult, serialized once (`sharedJson`). The trace hub hands every subscriber at one offset
 *   the same chunk object (trace/follow-tail.ts `chunkOf`), so 10,000 watchers of a build cost one execution per
 *   piece of log. It shares nothing across access rules: a subscriber only ever gets the result of an
 *   event its own stream yielded, i.e. after its own access check and rechecks; the key holds the event
 *   itself, never a credential's view of it.
 * - Any other operation (`buildStatus`, whose Build has fields that load more, `pipelineStatus`) runs each
 *   event for its subscriber alone with `eventContext(context)` merged in: fresh loaders per event, or a
 *   status event would answer nested fields from the first event's cache.
 *
 * A shared operation's stream is also a `SharedStream`, which its transport may read shared results from
 * directly (`sharedFeed`), under the layers envelop and yoga wrap around every stream (error masking's
 * per-event hook, the subscribe-error hooks, yoga's own error mapping): at 10,000 watchers those layers
 * allocated ~7 KB per delivered chunk. They only act on errors, which a shared result never has; anything
 * else the stream yields (a result with errors, a thrown error, its end) is held and handed to the
 * transport's next read of the wrapped stream, so it goes through every layer as before.
 */
import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  Kind,
  type SelectionSetNode,
  createSourceEventStream,
  execute,
  getOperationAST,
} from 'graphql';
import { type Plugin, isAsyncIterable, makeSubscribe, mapAsyncIterator } from 'graphql-yoga';
import { SharedStream } from './shared-stream.js';

export { SharedStream } from './shared-stream.js';


export interface SharedEventExecutionOptions<TContext> {
  /** Subscription root fields whose events' results depend on the event, the document and the variables alone. */
  sharedFields: ReadonlySet<string>;
  /** What each event of an unshared subscription gets in place of its context's fields (a fresh scope). */
  eventContext: (context: TContext) => Partial<TContext>;
}

/**
 * The last event of one (document, operation name, variables) and its result, which the next event
 * replaces; kept while a subscription of that key runs (`users`).
 */
interface Slot {
  users: number;
  event?: object;
  result?: ExecutionResult | Promise<ExecutionResult>;
}

/**
 * What a shared result carries, under a symbol and not enumerable (no copy or serialization of the result
 * sees it): its JSON and its SSE message, each made the first time a transport asks. Strong references on
 * the result itself, not weak maps: they die with it, at the first scavenge after the next event.
 */
const FORMS = Symbol('buildgate.sharedForms');
interface Forms {
  json?: string;
  bytes?: Buffer;
  message?: Uint8Array;
}

function formsOf(result: unknown): Forms | undefined {
  return typeof result === 'object' && result !== null ? (result as { [FORMS]?: Forms })[FORMS] : undefined;
}

const isShared = (result: ExecutionResult): boolean => formsOf(result) !== undefined;

/** The HTTP requests whose subscription's events are shared (use-shared-sse.ts answers them). */
const sharedRequests = new WeakSet<Request>();
/** Each such request's stream, once its subscription has one. */
const feeds = new WeakMap<Request, SharedStream>();

/** The shared stream of the subscription `request` runs, to read shared results from directly. */
export function sharedFeed(request: Request | undefined): SharedStream | undefined {
  return request && feeds.get(request);
}

/** Whether `request` runs a subscription whose events are shared, i.e. results `sharedJson` knows. */
export function isSharedSubscription(request: Request): boolean {
  return sharedRequests.has(request);
}

/**
 * The JSON of a shared result (undefined for any other): one string for every subscriber that gets it.
 * graphql-ws' transport sends it as the payload; yoga's SSE asks through the result's `stringify`.
 */
export function sharedJson(result: unknown): string | undefined {
  const forms = formsOf(result);
  if (!forms) return undefined;
  return (forms.json ??= JSON.stringify(result));
}

/** A shared result's JSON as UTF-8 bytes, made once (undefined for any other result). */
export function sharedBytes(result: unknown): Buffer | undefined {
  const forms = formsOf(result);
  if (!forms) return undefined;
  return (forms.bytes ??= Buffer.from(sharedJson(result)!));
}

/** A shared result's whole SSE message, made once by `make` from its JSON (undefined for any other result). */
export function sharedMessage(result: unknown, make: (json: string) => Uint8Array): Uint8Array | undefined {
  const forms = formsOf(result);
  if (!forms) return undefined;
  return (forms.message ??= make(sharedJson(result)!));
}

/** Marks a result shared. Only results without errors: the transports rewrite errors per subscriber (codes, offsets). */
function share(result: ExecutionResult): ExecutionResult {
  if (result.errors?.length || isAsyncIterable(result)) return result;
  Object.defineProperty(result, FORMS, { value: {} satisfies Forms });
  // Yoga serializes a result with its `stringify` when it has one (graphql-jit's hook); not enumerable,
  // so no copy of the result (`{...result}`) carries it to a different value.
  Object.defineProperty(result, 'stringify', {
    value: (value: unknown) => (value === result ? sharedJson(result)! : JSON.stringify(value)),
  });
  return result;
}

/** Names of the operation's root fields, through fragments. */
function rootFields(document: DocumentNode, selectionSet: SelectionSetNode, into: Set<string>, seen = new Set<string>()): Set<string> {
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) into.add(selection.name.value);
    else if (selection.kind === Kind.INLINE_FRAGMENT) rootFields(document, selection.selectionSet, into, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
      if (fragment?.kind === Kind.FRAGMENT_DEFINITION) rootFields(document, fragment.selectionSet, into, seen);
    }
  }
  return into;
}

export function useSharedEventExecution<TContext extends object>(options: SharedEventExecutionOptions<TContext>): Plugin {
  // One slot per (document, operation name, variables) being watched: every watcher of a build at one
  // offset asks for the same event within one tick. A slot goes with the last subscription of its key.
  const slots = new WeakMap<DocumentNode, Map<string, Slot>>();

  function join(document: DocumentNode, key: string): { slot: Slot; leave: () => void } {
    let byKey = slots.get(document);
    if (!byKey) slots.set(document, (byKey = new Map()));
    let slot = byKey.get(key);
    if (!slot) byKey.set(key, (slot = { users: 0 }));
    slot.users += 1;
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      slot.users -= 1;
      if (slot.users === 0 && byKey.get(key) === slot) byKey.delete(key);
    };
    return { slot, leave };
  }
  // Yoga hands the same DocumentNode for the same text: one walk per document and operation.
  const shareable = new WeakMap<DocumentNode, Map<string, boolean>>();

  function isShareable(document: DocumentNode, operationName: string | null | undefined): boolean {
    let byName = shareable.get(document);
    if (!byName) shareable.set(document, (byName = new Map()));
    let answer = byName.get(operationName ?? '');
    if (answer === undefined) {
      const operation = getOperationAST(document, operationName);
      const fields = operation ? rootFields(document, operation.selectionSet, new Set()) : new Set<string>();
      answer = fields.size > 0 && [...fields].every((name) => options.sharedFields.has(name));
      byName.set(operationName ?? '', answer);
    }
    return answer;
  }

  /** The event's result for the slot's key, executed by the first subscriber to ask. */
  function sharedResult(args: ExecutionArgs, payload: unknown, slot: Slot): ExecutionResult | Promise<ExecutionResult> {
    if (typeof payload !== 'object' || payload === null) return execute({ ...args, rootValue: payload });
    if (slot.event === payload) return slot.result!;
    const executed = execute({ ...args, rootValue: payload });
    slot.event = payload;
    slot.result = executed instanceof Promise ? executed.then(share) : share(executed as ExecutionResult);
    return slot.result;
  }

  const subscribe = makeSubscribe((args: ExecutionArgs) => {
    const stream = createSourceEventStream(
      args.schema,
      args.document,
      args.rootValue,
      args.contextValue,
      args.variableValues ?? undefined,
      args.operationName,
      args.subscribeFieldResolver,
    );
    const mapStream = (source: Awaited<typeof stream>) => {
      if (!isAsyncIterable(source)) return source;
      if (isShareable(args.document, args.operationName)) {
        const { slot, leave } = join(args.document, JSON.stringify([args.operationName ?? null, args.variableValues ?? null]));
        const shared = new SharedStream(source, (payload: unknown) => sharedResult(args, payload, slot), isShared, leave);
        const request = (args.contextValue as { request?: Request }).request;
        // Over a source that cannot be read without waiting, the transports read the wrapped stream only.
        if (request && shared.synchronous) feeds.set(request, shared);
        return shared;
      }
      const context = args.contextValue as TContext;
      return mapAsyncIterator(source, (payload: unknown) =>
        execute({ ...args, rootValue: payload, contextValue: { ...context, ...options.eventContext(context) } }),
      );
    };
    return stream instanceof Promise ? stream.then(mapStream) : mapStream(stream);
  });

  return {
    onSubscribe({ args, setSubscribeFn }) {
      const request = (args.contextValue as { request?: Request }).request;
      if (request && isShareable(args.document, args.operationName)) sharedRequests.add(request);
      setSubscribeFn(subscribe as never);
    },
  };
}


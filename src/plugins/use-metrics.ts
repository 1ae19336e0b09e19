/**
 * `/metrics` for Prometheus, and the duration and outcome of every GraphQL operation. An operation's
 * name is chosen by the client, so it becomes a label only when the operator lists it
 * (`metrics.operationNames`); any other name counts as `other`, and no name as `anonymous`: 300 random
 * names must not add 300 series.
 */
import { type DocumentNode, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayMetrics } from '../metrics.js';

export interface MetricsOptions {
  /** Operation names that get their own label. @default [] */
  operationNames?: readonly string[];
  /** @default '/metrics' */
  endpoint?: string;
}

interface OperationLabels {
  ok: Record<'operation' | 'type' | 'outcome', string>;
  error: Record<'operation' | 'type' | 'outcome', string>;
}

export function useMetrics(metrics: GatewayMetrics, { operationNames = [], endpoint = '/metrics' }: MetricsOptions = {}): Plugin {
  const listed = new Set(operationNames);
  const labelOf = (name: string | undefined) => (name === undefined ? 'anonymous' : listed.has(name) ? name : 'other');
  // Yoga hands the same DocumentNode for the same text: its operation is found, and its label sets made, once.
  const byDocument = new WeakMap<DocumentNode, Map<string | undefined, OperationLabels>>();
  const labelsOf = (document: DocumentNode, operationName: string | undefined): OperationLabels => {
    let byName = byDocument.get(document);
    if (!byName) byDocument.set(document, (byName = new Map()));
    let labels = byName.get(operationName);
    if (!labels) {
      const operation = getOperationAST(document, operationName);
      const base = { operation: labelOf(operation?.name?.value), type: operation?.operation ?? 'unknown' };
      labels = { ok: { ...base, outcome: 'ok' }, error: { ...base, outcome: 'error' } };
      // A document has few operations, but a client may name any number that are not in it.
      if (byName.size < 16) byName.set(operationName, labels);
    }
    return labels;
  };
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint || request.method !== 'GET') return;
      return metrics.registry.metrics().then((body) => {
        endResponse(new fetchAPI.Response(body, { status: 200, headers: { 'content-type': metrics.registry.contentType } }));
      });
    },
    onExecute({ args }) {
      const started = performance.now();
      const labels = labelsOf(args.document, args.operationName ?? undefined);
      return {
        onExecuteDone({ result }) {
          const failed = 'errors' in result && (result.errors?.length ?? 0) > 0;
          metrics.operations.observe(failed ? labels.error : labels.ok, (performance.now() - started) / 1000);
        },
      };
    },
  };
}

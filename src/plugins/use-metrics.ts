/**
 * `/metrics` for Prometheus, and the duration and outcome of every GraphQL operation. An operation's
 * name is chosen by the client, so it becomes a label only when the operator lists it
 * (`metrics.operationNames`); any other name counts as `other`, and no name as `anonymous`: 300 random
 * names must not add 300 series.
 */
import { getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayMetrics } from '../metrics.js';

export interface MetricsOptions {
  /** Operation names that get their own label. @default [] */
  operationNames?: readonly string[];
  /** @default '/metrics' */
  endpoint?: string;
}

export function useMetrics(metrics: GatewayMetrics, { operationNames = [], endpoint = '/metrics' }: MetricsOptions = {}): Plugin {
  const listed = new Set(operationNames);
  const labelOf = (name: string | undefined) => (name === undefined ? 'anonymous' : listed.has(name) ? name : 'other');
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint || request.method !== 'GET') return;
      return metrics.registry.metrics().then((body) => {
        endResponse(new fetchAPI.Response(body, { status: 200, headers: { 'content-type': metrics.registry.contentType } }));
      });
    },
    onExecute({ args }) {
      const started = performance.now();
      const operation = getOperationAST(args.document, args.operationName);
      const labels = { operation: labelOf(operation?.name?.value), type: operation?.operation ?? 'unknown' };
      return {
        onExecuteDone({ result }) {
          const failed = 'errors' in result && (result.errors?.length ?? 0) > 0;
          metrics.operations.observe({ ...labels, outcome: failed ? 'error' : 'ok' }, (performance.now() - started) / 1000);
        },
      };
    },
  };
}

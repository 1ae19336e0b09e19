import type { MockAgent } from 'undici';

export interface ConstantAnswer {
  statusCode: number;
  data: string;
  responseOptions: { headers: Record<string, string> };
}
export function constantAnswer(apiRoot: string, method: string, path: string): ConstantAnswer;
export function constantDispatcher(apiRoot: string): MockAgent;

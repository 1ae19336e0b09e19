/**
 * The executable schema: the SDL files in schema/ (the contract) with the resolvers. Built once at startup.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSchema } from 'graphql-yoga';
import type { GatewayContext } from './context.js';
import { resolvers } from './resolvers/index.js';

/** schema/ sits beside src/ and dist/, so the same relative path works compiled or not. */
export const SCHEMA_DIR = fileURLToPath(new URL('../schema/', import.meta.url));

export function readTypeDefs(dir = SCHEMA_DIR): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.graphql'))
    .sort()
    .map((file) => readFileSync(`${dir}/${file}`, 'utf8'));
}

export function buildSchema() {
  return createSchema<GatewayContext>({ typeDefs: readTypeDefs(), resolvers: resolvers as never });
}

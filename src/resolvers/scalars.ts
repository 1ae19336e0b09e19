import { DateTimeResolver, URLResolver } from 'graphql-scalars';

export const scalars = { DateTime: DateTimeResolver, URL: URLResolver };

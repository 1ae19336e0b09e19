/**
 * The events of a `text/event-stream` response, as its chunks arrive: one parser for every bench worker
 * that reads SSE by hand (a client library would cost the load generator more than the gateway).
 */

/** Calls `onEvent(event, data)` for each complete event of `response` (already `setEncoding('utf8')`). */
export function onSseEvents(response, onEvent) {
  let buffer = '';
  let searchFrom = 0;
  response.on('data', (text) => {
    buffer += text;
    for (;;) {
      const end = buffer.indexOf('\n\n', searchFrom);
      if (end < 0) {
        searchFrom = Math.max(0, buffer.length - 1);
        break;
      }
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      searchFrom = 0;
      let event;
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(line[5] === ' ' ? 6 : 5));
      }
      if (data.length) onEvent(event, data.join('\n'));
    }
  });
}

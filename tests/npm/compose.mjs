// Composes federation subgraphs with @apollo/composition (what rover and the gateway use) and prints one JSON
// object: {"errors": [{message, code}], "hints": [{message, code}], "supergraphSdl": string | null}.
//
// Subgraphs come either on argv, as triples:   node compose.mjs NAME URL SDL_FILE [NAME URL SDL_FILE ...]
// or, with no arguments, as JSON on stdin:      [{"name": ..., "url": ..., "sdl": ...}, ...]
// Exit status: 0 when composed, 1 on composition errors, 2 on bad input.
import { readFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

function readSubgraphs() {
  const args = process.argv.slice(2);
  if (args.length > 0) {
    if (args.length % 3 !== 0) throw new Error('expected NAME URL SDL_FILE triples');
    const subgraphs = [];
    for (let i = 0; i < args.length; i += 3) {
      subgraphs.push({ name: args[i], url: args[i + 1], sdl: readFileSync(args[i + 2], 'utf8') });
    }
    return subgraphs;
  }
  const input = JSON.parse(readFileSync(0, 'utf8'));
  return Array.isArray(input) ? input : input.subgraphs;
}

const describe = (e) => ({ message: e.message, code: e.extensions?.code ?? e.code ?? null });

let subgraphs;
try {
  subgraphs = readSubgraphs().map((s) => ({ name: s.name, url: s.url, typeDefs: parse(s.sdl) }));
} catch (e) {
  console.log(JSON.stringify({ errors: [{ message: String(e.message ?? e), code: 'BAD_INPUT' }], hints: [], supergraphSdl: null }));
  process.exitCode = 2;
}

if (subgraphs) {
  const result = composeServices(subgraphs);
  console.log(
    JSON.stringify({
      errors: (result.errors ?? []).map(describe),
      hints: (result.hints ?? []).map((h) => ({ message: h.message, code: h.definition?.code ?? null })),
      supergraphSdl: result.supergraphSdl ?? null,
    }),
  );
  // exitCode, not exit(): a pipe is written asynchronously and exit() would cut the JSON short
  process.exitCode = result.errors?.length ? 1 : 0;
}

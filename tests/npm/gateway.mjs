// An Apollo Gateway over running subgraphs, for the federation gateway test.
//
//   node gateway.mjs PORT NAME=URL [NAME=URL ...]
//
// Composes the subgraphs at start-up by introspection (IntrospectAndCompose: each one's `_service { sdl }`),
// forwards the caller's `Authorization` header to every subgraph fetch (entity fetches included), and serves
// the supergraph with @apollo/server on 127.0.0.1:PORT (0: any free port). Prints "READY <url>" on stdout once
// it answers. With ZHIYUAN_GATEWAY_SECRET set, fetches to the subgraph named "zhiyuan" also carry
// X-Zhiyuan-Gateway (Zhiyuan exempts the gateway's own `_entities` queries from trusted documents).
import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const [portArg, ...subgraphArgs] = process.argv.slice(2);
const port = Number(portArg);
if (!Number.isInteger(port) || subgraphArgs.length === 0) {
  console.error('usage: node gateway.mjs PORT NAME=URL [NAME=URL ...]');
  process.exit(2);
}
const subgraphs = subgraphArgs.map((arg) => {
  const at = arg.indexOf('=');
  return { name: arg.slice(0, at), url: arg.slice(at + 1) };
});
const gatewaySecret = process.env.ZHIYUAN_GATEWAY_SECRET;

class ForwardingDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    if (context?.authorization) request.http.headers.set('authorization', context.authorization);
    if (gatewaySecret && this.name === 'zhiyuan') request.http.headers.set('x-zhiyuan-gateway', gatewaySecret);
  }
}

const gateway = new ApolloGateway({
  supergraphSdl: new IntrospectAndCompose({ subgraphs }),
  buildService: ({ name, url }) => Object.assign(new ForwardingDataSource({ url }), { name }),
});

const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port },
  context: async ({ req }) => ({ authorization: req.headers.authorization }),
});
console.log(`READY ${url}`);

const stop = async () => {
  await server.stop().catch(() => {});
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

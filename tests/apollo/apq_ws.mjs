// Apollo Client's persisted-queries link over GraphQLWsLink (graphql-ws, the
// graphql-transport-ws subprotocol) against a live Apollonia server.
// Usage: node apq_ws.mjs <ws url of /graphql> <bearer token> <track id>
// Runs the same query from two fresh clients (as two app launches would) and prints
// JSON: each run's data and the `subscribe` messages the link sent (whether the document
// text was in them, the hash sent, and the extensions.code of any error in the answers).
// (Over a socket Apollo's link always sends the document beside its hash: it only
// leaves the document out through HttpLink.)
import { createHash } from "node:crypto";
import { ApolloClient, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions/index.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, trackId] = process.argv.slice(2);
const sent = [];
const answers = new Map();

// A WebSocket that records what goes out and what comes back.
class RecordingSocket extends WebSocket {
  send(data, ...rest) {
    const message = JSON.parse(String(data));
    if (message.type === "subscribe") {
      const extensions = message.payload.extensions || {};
      sent.push({
        id: message.id,
        sentDocument: typeof message.payload.query === "string",
        hash: (extensions.persistedQuery && extensions.persistedQuery.sha256Hash) || null,
      });
    }
    return super.send(data, ...rest);
  }
  constructor(...args) {
    super(...args);
    this.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "next" || message.type === "error") {
        const payload = message.type === "next" ? message.payload.errors || [] : message.payload;
        answers.set(message.id, payload.map((e) => e.extensions && e.extensions.code));
      }
    });
  }
}

function client() {
  const ws = createClient({
    url,
    webSocketImpl: RecordingSocket,
    connectionParams: { authorization: "Bearer " + token },
    lazy: true,
  });
  const link = createPersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
  }).concat(new GraphQLWsLink(ws));
  return { apollo: new ApolloClient({ link, cache: new InMemoryCache() }), ws };
}

const TRACK = gql`
  query TrackOverSocket($id: ID!) {
    track(id: $id) { id title artists { name } }
  }
`;

async function run() {
  const { apollo, ws } = client();
  const start = sent.length;
  try {
    const result = await apollo.query({ query: TRACK, variables: { id: trackId } });
    return { data: result.data, messages: sent.slice(start) };
  } finally {
    await ws.dispose();
  }
}

const first = await run();
const second = await run();
for (const list of [first.messages, second.messages]) {
  for (const message of list) message.codes = answers.get(message.id) || [];
}
console.log(JSON.stringify({ first, second }));

// Apollo Client's persisted-queries link against a live Apollonia server.
// Usage: node apq.mjs <graphql url> <track id>
// Runs the same query from two fresh clients (as two app launches would) and prints
// JSON: each run's data and the HTTP requests the link made (method, whether the
// document text was sent, and the extensions.code of any error).
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client/core/index.js";
import { createPersistedQueryLink } from "@apollo/client/link/persisted-queries/index.js";

const [url, trackId] = process.argv.slice(2);
const requests = [];

async function recordingFetch(input, init) {
  const method = (init && init.method) || "GET";
  const target = String(input);
  const sent = method === "GET" ? decodeURIComponent(target) : String(init.body);
  const response = await fetch(input, init);
  const body = await response.clone().json();
  requests.push({
    method,
    sentDocument: /"query"|[?&]query=/.test(sent),
    status: response.status,
    codes: (body.errors || []).map((e) => e.extensions && e.extensions.code),
  });
  return response;
}

const TRACK = gql`
  query Track($id: ID!) {
    track(id: $id) { id title artists { name } }
  }
`;

async function run() {
  const link = createPersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: true,
  }).concat(new HttpLink({ uri: url, fetch: recordingFetch }));
  const client = new ApolloClient({ link, cache: new InMemoryCache() });
  const start = requests.length;
  const result = await client.query({ query: TRACK, variables: { id: trackId } });
  return { data: result.data, requests: requests.slice(start) };
}

const first = await run();
const second = await run();
console.log(JSON.stringify({ first, second }));

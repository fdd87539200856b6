// subscriptions-transport-ws's SubscriptionClient (Apollo's legacy WebSocket client, the
// graphql-ws subprotocol) against a live Apollonia server.
// Usage: node legacy_ws.mjs <ws url of /graphql> <bearer token> <track id>
// Sends two queries on one socket, one valid and one with a bad id, and prints JSON: per
// query the data, the errors' extensions.code and whether the operation completed (the
// client's observer `complete`) within 5 s of being sent.
import pkg from "subscriptions-transport-ws";
import WebSocket from "ws";

const { SubscriptionClient } = pkg;
const [url, token, trackId] = process.argv.slice(2);
const client = new SubscriptionClient(
  url,
  { connectionParams: { authorization: "Bearer " + token }, reconnect: false },
  WebSocket,
);

const QUERY = "query OverLegacy($id: ID!) { track(id: $id) { id title } }";

function run(id) {
  return new Promise((resolve) => {
    const out = { data: null, codes: [], completed: false };
    const timer = setTimeout(() => resolve(out), 5000);
    client.request({ query: QUERY, variables: { id } }).subscribe({
      next(result) {
        out.data = result.data || null;
        out.codes = (result.errors || []).map((e) => e.extensions && e.extensions.code);
      },
      error(e) {
        out.codes.push("client error: " + String((e && e.message) || e));
        clearTimeout(timer);
        resolve(out);
      },
      complete() {
        out.completed = true;
        clearTimeout(timer);
        resolve(out);
      },
    });
  });
}

const found = await run(trackId);
const refused = await run("not an id");
client.close();
console.log(JSON.stringify({ found, refused }));

/* Apollonia /explore: search a track, draw its similarity neighbourhood with cytoscape,
 * re-centre on click, show the sonic path between two picked tracks, and redraw when
 * the centre's SIMILAR_TO edges change (the `similarityUpdated` subscription). The
 * centre track plays in the <audio> player, and a sonic path plays in order (each
 * track's signed `streamUrl`). Where the server allows anonymous reads, the page opens
 * without signing in.
 *
 * Everything it loads comes from this server: /graphql over fetch and WebSocket, and
 * the vendored cytoscape build. `window.explore` exposes the page's state for tests. */
(function () {
  "use strict";

  const NEIGHBOURHOOD = `
    query Around($id: ID!) {
      neighborhood(trackId: $id, depth: 2, first: 40) {
        nodes { distance track { ...T } }
        edges { source target score }
      }
    }
    fragment T on Track { id title streamUrl artists { name } audioFeatures { camelot energy tempo } }`;
  const SEARCH = `
    query Search($q: String!) {
      search(query: $q, first: 10, types: [TRACK], mode: HYBRID) {
        node { ... on Track { id title artists { name } } }
      }
    }`;
  const SUGGEST = `
    query Suggest($p: String!) { suggest(prefix: $p, field: TITLE, first: 8) { text } }`;
  const PATH = `
    query Path($from: ID!, $to: ID!) {
      sonicPath(fromId: $from, toId: $to, steps: 6) {
        tracks { id title streamUrl artists { name } audioFeatures { camelot energy tempo } }
      }
    }`;
  const PROBE = 'query Probe { track(id: "trk_00000000000000000000000000") { id } }';
  const SIMILARITY = `
    subscription Similar($id: ID!) { similarityUpdated(trackId: $id) { trackId timestamp } }`;

  const $ = (id) => document.getElementById(id);
  const state = {
    ready: false, signedIn: false, anonymous: false, playing: null, canplay: null, queue: [],
    centre: null, nodeCount: 0, edgeCount: 0,
    nodes: [], results: [], picked: [], path: [], pathTracks: null, updates: 0, error: null, cy: null,
  };
  window.explore = state;
  // What a live similarityUpdated does, callable by tests and the console.
  state.refresh = () => (state.centre ? centreOn(state.centre, true) : Promise.resolve());

  // --- credentials and GraphQL -------------------------------------------------------

  let credential = null; // {kind: "token" | "key", value}

  function authHeaders() {
    if (!credential) return {};
    return credential.kind === "key"
      ? { "X-API-Key": credential.value }
      : { Authorization: "Bearer " + credential.value };
  }

  class GraphQLError extends Error {
    constructor(message, code) { super(message); this.code = code; }
  }

  async function gql(query, variables) {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json", ...authHeaders() },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
    const body = await response.json().catch(() => ({}));
    if (body.errors && body.errors.length) {
      const e = body.errors[0];
      throw new GraphQLError(e.message, (e.extensions || {}).code);
    }
    if (!response.ok) throw new GraphQLError("HTTP " + response.status, String(response.status));
    return body.data;
  }

  function status(text) { $("status").textContent = text; }

  function fail(error) {
    state.error = String(error.message || error);
    if (error.code === "UNAUTHENTICATED") return signOut("Your session ended: sign in again.");
    status(state.error);
  }

  // --- signing in ------------------------------------------------------------------

  async function signIn(kind, value) {
    credential = { kind, value };
    try {
      const data = await gql("query { me { username } }");
      if (kind === "token" || data.me) {
        sessionStorage.setItem("apollonia.explore", JSON.stringify(credential));
      }
      state.signedIn = true;
      state.anonymous = false;
      $("show-login").hidden = true;
      if (socket) socket.close();
      showExplorer(data.me ? "Signed in as " + data.me.username : "Signed in with an API key");
    } catch (error) {
      credential = null;
      $("login-error").textContent = "That did not work: " + (error.message || error);
    }
  }

  function showExplorer(message) {
    $("login").hidden = true;
    $("explorer").hidden = false;
    status(message);
    connectSocket();
    $("search").focus();
  }

  async function browseAnonymously() {
    // `track` needs read:media, which anonymous guests hold where the server allows
    // them; it is nullable, so a refusal is an error beside data (HTTP 200, nothing
    // for the console to report).
    const response = await fetch("/graphql", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ query: PROBE }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || (body.errors && body.errors.length)) return; // sign-in form stays
    state.anonymous = true;
    $("show-login").hidden = false;
    showExplorer("Browsing without signing in");
  }

  $("show-login").addEventListener("click", () => {
    $("login").hidden = false;
    $("explorer").hidden = true;
    $("show-login").hidden = true;
  });

  function signOut(message) {
    credential = null;
    sessionStorage.removeItem("apollonia.explore");
    state.signedIn = false;
    if (socket) socket.close();
    $("explorer").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
  }

  $("login-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    try {
      const data = await gql(
        "mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }",
        { input: { login: $("login-name").value, password: $("login-password").value } },
      );
      await signIn("token", data.login.accessToken);
    } catch (error) {
      $("login-error").textContent = error.message || String(error);
    }
  });

  $("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    $("login-error").textContent = "";
    signIn("key", $("api-key").value.trim());
  });

  // --- search ----------------------------------------------------------------------

  function artists(track) { return (track.artists || []).map((a) => a.name).join(", "); }

  $("search-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = $("search").value.trim();
    if (!q) return;
    try {
      const data = await gql(SEARCH, { q });
      const tracks = data.search.map((hit) => hit.node);
      state.results = tracks.map((t) => t.id);
      const list = $("results");
      list.replaceChildren();
      for (const track of tracks) {
        const item = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "result";
        button.dataset.id = track.id;
        button.textContent = track.title + (artists(track) ? " — " + artists(track) : "");
        button.addEventListener("click", () => centreOn(track.id));
        item.append(button);
        list.append(item);
      }
      status(tracks.length ? tracks.length + " tracks" : "Nothing found");
    } catch (error) { fail(error); }
  });

  let suggestTimer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(suggestTimer);
    const p = $("search").value.trim();
    if (!p) return;
    suggestTimer = setTimeout(async () => {
      try {
        const data = await gql(SUGGEST, { p });
        $("suggestions").replaceChildren(...data.suggest.map((s) => new Option(s.text)));
      } catch (error) { /* suggestions are a nicety */ }
    }, 150);
  });

  // --- drawing ---------------------------------------------------------------------

  // Camelot 1–12 round the wheel as hue; A (minor) darker, B (major) lighter.
  function keyColour(camelot) {
    const m = /^(\d{1,2})([AB])$/.exec(camelot || "");
    if (!m) return "#9a9aa6";
    const hue = ((Number(m[1]) - 1) * 30) % 360;
    return `hsl(${hue}, 70%, ${m[2] === "A" ? 40 : 62}%)`;
  }

  function energySize(energy) {
    return typeof energy === "number" ? 18 + 42 * Math.max(0, Math.min(1, energy)) : 22;
  }

  function nodeData(track, distance) {
    const features = track.audioFeatures || {};
    return {
      id: track.id, label: track.title, artists: artists(track), distance,
      camelot: features.camelot || null, energy: features.energy ?? null,
      tempo: features.tempo ?? null,
      colour: keyColour(features.camelot), size: energySize(features.energy),
      stream: track.streamUrl || null,
    };
  }

  const cy = cytoscape({
    container: $("graph"),
    wheelSensitivity: 0.3,
    style: [
      { selector: "node", style: {
        "background-color": "data(colour)", width: "data(size)", height: "data(size)",
        label: "data(label)", "font-size": 9, "text-valign": "bottom", "text-margin-y": 3,
        color: "#333", "border-width": 1, "border-color": "#fff",
      } },
      { selector: "node.centre", style: { "border-width": 4, "border-color": "#1d1d24" } },
      { selector: "node.picked", style: { "border-width": 4, "border-color": "#e0a000" } },
      { selector: "node.on-path", style: { "border-width": 3, "border-color": "#d02670" } },
      { selector: "edge", style: {
        width: "mapData(score, 0, 1, 0.5, 4)", "line-color": "#b8b8c6", opacity: 0.8,
        "curve-style": "haystack",
      } },
      { selector: "edge.on-path", style: { "line-color": "#d02670", width: 4, opacity: 1 } },
    ],
  });
  state.cy = cy;

  function render(data, centreId) {
    cy.batch(() => {
      cy.elements().remove();
      for (const node of data.nodes) {
        cy.add({ group: "nodes", data: nodeData(node.track, node.distance) });
      }
      for (const edge of data.edges) {
        cy.add({ group: "edges", data: {
          id: edge.source + ">" + edge.target, source: edge.source, target: edge.target,
          score: edge.score,
        } });
      }
      cy.getElementById(centreId).addClass("centre");
    });
    cy.layout({
      name: "concentric", animate: false, minNodeSpacing: 30,
      concentric: (n) => 10 - n.data("distance"), levelWidth: () => 1,
    }).run();
    cy.fit(undefined, 30);
    state.nodes = cy.nodes().map((n) => n.id());
    state.nodeCount = cy.nodes().length;
    state.edgeCount = cy.edges().length;
  }

  // A live update (refresh) redraws the neighbourhood but keeps what the listener
  // chose: the sonic path shown stays highlighted and the music keeps playing.
  async function centreOn(trackId, refresh = false) {
    try {
      const data = await gql(NEIGHBOURHOOD, { id: trackId });
      const keep = refresh && state.centre === trackId ? state.pathTracks : null;
      state.centre = trackId;
      render(data.neighborhood, trackId);
      const centre = cy.getElementById(trackId);
      showSelected(centre);
      if (keep) {
        highlightPath(keep);
      } else if (!refresh) {
        state.path = [];
        state.pathTracks = null;
        $("path-panel").hidden = true;
        playQueue([{ id: trackId, title: centre.data("label"), streamUrl: centre.data("stream") }]);
      }
      status(`${state.nodeCount} tracks around “${centre.data("label")}”`);
      if (!refresh) subscribeTo(trackId);
    } catch (error) { fail(error); }
  }

  function showSelected(node) {
    const d = node.data();
    $("selected").textContent =
      `${d.label}${d.artists ? " — " + d.artists : ""} · key ${d.camelot || "?"}` +
      ` · energy ${d.energy == null ? "?" : d.energy.toFixed(2)}` +
      ` · ${d.tempo == null ? "?" : Math.round(d.tempo)} BPM`;
  }

  cy.on("tap", "node", (event) => {
    const node = event.target;
    if ($("path-mode").checked) pick(node);
    else centreOn(node.id());
  });

  // --- sonic path ------------------------------------------------------------------

  async function pick(node) {
    if (state.picked.length === 2) {
      cy.nodes().removeClass("picked");
      state.picked = [];
    }
    state.picked.push(node.id());
    node.addClass("picked");
    showSelected(node);
    if (state.picked.length < 2) {
      status("Pick the track to go to");
      return;
    }
    const [from, to] = state.picked;
    try {
      const data = await gql(PATH, { from, to });
      drawPath(data.sonicPath.tracks);
    } catch (error) { fail(error); }
  }

  function highlightPath(tracks) {
    cy.elements().removeClass("on-path");
    cy.batch(() => {
      tracks.forEach((track, i) => {
        if (cy.getElementById(track.id).empty()) {
          const near = cy.getElementById(tracks[Math.max(0, i - 1)].id).position() || { x: 0, y: 0 };
          cy.add({ group: "nodes", data: nodeData(track, 9), position: { x: near.x + 40, y: near.y + 40 } });
        }
        cy.getElementById(track.id).addClass("on-path");
        if (i > 0) {
          const a = tracks[i - 1].id, b = track.id;
          let edge = cy.edges(`[source = "${a}"][target = "${b}"], [source = "${b}"][target = "${a}"]`);
          if (edge.empty()) {
            edge = cy.add({ group: "edges", data: { id: a + ">" + b + ":path", source: a, target: b, score: 1 } });
          }
          edge.addClass("on-path");
        }
      });
    });
    state.path = tracks.map((t) => t.id);
    state.pathTracks = tracks;
    state.nodeCount = cy.nodes().length;
  }

  function drawPath(tracks) {
    highlightPath(tracks);
    const list = $("path");
    list.replaceChildren(...tracks.map((t) => {
      const item = document.createElement("li");
      item.textContent = t.title + (artists(t) ? " — " + artists(t) : "");
      return item;
    }));
    $("path-panel").hidden = false;
    status(`A sonic path of ${tracks.length} tracks`);
    playQueue(tracks);
  }

  // --- playing ---------------------------------------------------------------------

  const player = $("player");

  function playQueue(tracks) {
    state.queue = tracks.filter((t) => t.streamUrl);
    playNext();
  }

  function playNext() {
    const track = state.queue.shift();
    if (!track) return;
    state.playing = track.id;
    state.canplay = null;
    $("now-playing").textContent = "Playing: " + track.title;
    player.src = track.streamUrl;
    // Browsers may refuse to start sound before a click on the page: it then waits.
    player.play().catch(() => {});
  }

  player.addEventListener("canplay", () => { state.canplay = state.playing; });
  player.addEventListener("ended", playNext);

  // --- live updates (graphql-transport-ws) -----------------------------------------

  let socket = null;
  let acked = false;
  let subscriptionId = null;
  let wanted = null; // the track whose updates we want
  let counter = 0;

  function connectSocket() {
    const url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/graphql";
    socket = new WebSocket(url, "graphql-transport-ws");
    acked = false;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({
        type: "connection_init",
        payload: credential ? { authorization: "Bearer " + credential.value } : {},
      }));
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") {
        acked = true;
        state.ready = true;
        if (wanted) subscribeTo(wanted);
      } else if (message.type === "ping") {
        socket.send(JSON.stringify({ type: "pong" }));
      } else if (message.type === "next" && message.id === subscriptionId) {
        state.updates += 1;
        status("The neighbourhood changed: redrawing");
        if (state.centre) centreOn(state.centre, true);
      }
    });
    socket.addEventListener("close", (event) => {
      acked = false;
      subscriptionId = null;
      if (event.code === 4403) return signOut("Your session ended: sign in again.");
      if (state.signedIn || state.anonymous) setTimeout(connectSocket, 2000);
    });
  }

  function subscribeTo(trackId) {
    wanted = trackId;
    if (!socket || !acked) return;
    if (subscriptionId) {
      socket.send(JSON.stringify({ id: subscriptionId, type: "complete" }));
    }
    subscriptionId = "s" + ++counter;
    socket.send(JSON.stringify({
      id: subscriptionId, type: "subscribe",
      payload: { query: SIMILARITY, variables: { id: trackId } },
    }));
    state.subscribedTo = trackId;
  }

  // --- start -----------------------------------------------------------------------

  const saved = sessionStorage.getItem("apollonia.explore");
  if (saved) {
    try {
      const { kind, value } = JSON.parse(saved);
      signIn(kind, value);
    } catch (error) { sessionStorage.removeItem("apollonia.explore"); }
  } else {
    browseAnonymously();
  }
  state.loaded = true;
})();

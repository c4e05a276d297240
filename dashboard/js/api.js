// The dashboard's read-only HTTP API: JSON documents and a Server-Sent Events stream.

/**
 * A dashboard on a non-loopback address prints its URL with `#token=...`: the fragment
 * never leaves the browser. Keep the token in a same-site cookie, which fetch and
 * EventSource then send with every request, and take it out of the address bar.
 */
function adoptTokenFromFragment() {
  const match = /(?:^#|&)token=([^&]+)/.exec(window.location.hash);
  if (!match) return;
  document.cookie = `chia_dashboard_token=${match[1]}; path=/; SameSite=Strict`;
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

adoptTokenFromFragment();

/** GET a JSON document from the server. */
export async function getJSON(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/**
 * Open the live stream from cursor `after`, at most `tail` events per message (the newest).
 * `handlers.events(doc)` gets `{cursor, events}`; `handlers.status(doc)` the status view;
 * `handlers.connection(state)` is told "live" or "reconnecting". EventSource reconnects
 * on its own and resends the last cursor as Last-Event-ID, so nothing is fetched twice.
 */
export function openStream(after, tail, handlers) {
  const source = new EventSource(`/api/stream?after=${after}&tail=${tail}`);
  source.addEventListener("events", (msg) => handlers.events(JSON.parse(msg.data)));
  source.addEventListener("status", (msg) => handlers.status(JSON.parse(msg.data)));
  source.onopen = () => handlers.connection("live");
  source.onerror = () => handlers.connection("reconnecting");
  return source;
}

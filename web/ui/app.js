// The wallet's single-page app: plain ES modules, no build step. Every page
// is a function that renders into <main>; the router follows links marked
// data-link with the History API. Money is BigInt base units everywhere;
// decimals exist only in the fields people read and type.
import { parsePoints, amountAt, amountReverse, parseDecimal, formatDecimal } from "/curve.js";
import { settingsPage, resetPasswordPage, adminUsersPage, adminInvitesPage, adminPeersPage, adminWithdrawalsPage } from "/pages.js";
import { adminSettlementsPage, adminSettlementMethodsPage } from "/settlements.js";

const state = {
  user: null, // the signed-in user (with balance), or null
  csrf: "",
  config: null, // GET /api/config
  payments: [], // newest first
  events: null, // the EventSource while signed in
  cleanup: [], // what the current page must stop when it is left
};

const $ = (sel, root = document) => root.querySelector(sel);

// h builds an element: h("p", {class: "x"}, "text", child...).
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

class APIError extends Error {
  constructor(status, id, message) {
    super(message);
    this.status = status;
    this.id = id;
  }
}

// api calls the REST API with the session cookie and the CSRF token. A
// body is sent as JSON, except a Blob (a file), sent as it is.
async function api(method, path, body, signal) {
  const headers = {};
  const raw = body instanceof Blob;
  if (raw) headers["Content-Type"] = body.type || "application/octet-stream";
  else if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  let res;
  try {
    res = await fetch(path, {
      method, headers, signal, credentials: "same-origin",
      body: body === undefined || raw ? body : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new APIError(0, "NetworkError", "The kit cannot be reached; check your connection");
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch { /* not JSON */ }
  if (!res.ok) {
    throw new APIError(res.status, data?.id ?? "Error", data?.message ?? `The kit answered ${res.status}`);
  }
  return data;
}

function currency() {
  return { code: state.config?.currencyCode ?? "", scale: state.config?.currencyScale ?? 0 };
}

function money(amount, code, scale) {
  return `${formatDecimal(BigInt(amount), scale)} ${code}`;
}

// ---- session and events

function signedIn(user, csrf) {
  state.user = user;
  if (csrf) state.csrf = csrf;
  if (!state.events) startEvents();
}

function signedOut() {
  state.user = null;
  state.csrf = "";
  state.payments = [];
  if (state.events) state.events.close();
  state.events = null;
}

// startEvents follows /api/events: the balance and payments change on every
// page without a reload. EventSource reconnects by itself.
function startEvents() {
  const es = new EventSource("/api/events");
  state.events = es;
  es.addEventListener("balance", (ev) => {
    const { balance } = JSON.parse(ev.data);
    if (state.user) state.user.balance = balance;
    const el = $("#balance");
    if (el) el.textContent = money(balance, currency().code, currency().scale);
  });
  es.addEventListener("payment", (ev) => {
    const p = JSON.parse(ev.data);
    const i = state.payments.findIndex((q) => q.id === p.id);
    if (i >= 0) state.payments[i] = p; else state.payments.unshift(p);
    const list = $("#activity");
    if (list) renderActivity(list);
  });
}

// A page left for another (also one kept in the back/forward cache) must
// not keep its event stream open: a browser allows only a few connections
// per host, and streams left open would soon block every request.
window.addEventListener("pagehide", () => {
  if (state.events) state.events.close();
  state.events = null;
});
window.addEventListener("pageshow", (ev) => {
  if (ev.persisted && state.user && !state.events) startEvents();
});

// ---- router

const routes = {
  "/": { page: homePage, auth: true, title: "Home" },
  "/send": { page: sendPage, auth: true, title: "Send" },
  "/login": { page: loginPage, title: "Sign in" },
  "/register": { page: registerPage, title: "Register" },
  "/settings": { page: settingsPage, auth: true, title: "Settings" },
  "/admin": { page: adminUsersPage, auth: true, admin: true, title: "Admin: users" },
  "/admin/invites": { page: adminInvitesPage, auth: true, admin: true, title: "Admin: invites" },
  "/admin/peers": { page: adminPeersPage, auth: true, admin: true, title: "Admin: peers" },
  "/admin/withdrawals": { page: adminWithdrawalsPage, auth: true, admin: true, title: "Admin: withdrawals" },
  "/admin/settlements": { page: adminSettlementsPage, auth: true, admin: true, title: "Admin: settlements" },
  "/admin/settlement-methods": { page: adminSettlementMethodsPage, auth: true, admin: true, title: "Admin: settlement methods" },
};

function navigate(path, replace = false) {
  if (replace) history.replaceState(null, "", path); else history.pushState(null, "", path);
  render();
}

function render() {
  for (const stop of state.cleanup.splice(0)) stop();
  const route = routes[location.pathname] ??
    (location.pathname.startsWith("/change-password/") ? { page: resetPasswordPage, title: "Set a new password" } : null) ??
    { page: notFoundPage, title: "Not found" };
  if (route.auth && !state.user) {
    navigate("/login", true);
    return;
  }
  // The admin pages are the admin's alone: anyone else goes home.
  if (route.admin && !state.user.isAdmin) {
    navigate("/", true);
    return;
  }
  if ((location.pathname === "/login" || location.pathname === "/register") && state.user) {
    navigate("/", true);
    return;
  }
  renderNav();
  const main = $("#main");
  main.replaceChildren();
  document.title = `${route.title} · ILP Kit`;
  route.page(main);
  // Move focus to the page's heading, so keyboard and screen-reader users
  // start at the new content.
  const h1 = $("h1", main);
  if (h1) {
    h1.tabIndex = -1;
    h1.focus();
  }
}

function link(href, text, attrs = {}) {
  return h("a", { href, "data-link": true, ...attrs }, text);
}

function renderNav() {
  const nav = $("#nav");
  nav.replaceChildren();
  const here = (p) => (location.pathname === p ? "page" : null);
  if (state.user) {
    nav.append(...[
      link("/", "Home", { "aria-current": here("/") }),
      link("/send", "Send", { "aria-current": here("/send") }),
      link("/settings", "Settings", { "aria-current": here("/settings") }),
      state.user.isAdmin ? link("/admin", "Admin", { "aria-current": location.pathname.startsWith("/admin") ? "page" : null }) : null,
      h("button", { type: "button", class: "linklike", id: "signout", onclick: signOut }, "Sign out"),
    ].filter(Boolean));
  } else {
    nav.append(
      link("/login", "Sign in", { "aria-current": here("/login") }),
      link("/register", "Register", { "aria-current": here("/register") }),
    );
  }
}

async function signOut() {
  try { await api("POST", "/api/auth/logout"); } catch { /* signed out anyway */ }
  signedOut();
  navigate("/login");
}

document.addEventListener("click", (ev) => {
  const a = ev.target.closest("a[data-link]");
  if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  ev.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", render);

// ---- forms

// field is a labelled input with its error message next to it.
function field(id, label, attrs = {}) {
  const msg = h("p", { id: `${id}-msg`, class: "msg", "aria-live": "polite" });
  const input = h("input", { id, name: id, "aria-describedby": `${id}-msg`, ...attrs });
  return h("div", { class: "field" }, h("label", { for: id }, label), input, msg);
}

function setError(id, text) {
  const input = document.getElementById(id);
  const msg = document.getElementById(`${id}-msg`);
  if (msg) {
    msg.textContent = text || "";
    msg.classList.toggle("error", !!text);
  }
  if (input) input.setAttribute("aria-invalid", text ? "true" : "false");
}

function clearErrors(form) {
  for (const input of form.querySelectorAll("input, select")) setError(input.id, "");
  const msg = $(".form-msg", form);
  if (msg) msg.textContent = "";
}

// busy marks a form as waiting for the kit without blocking the page.
function busy(form, on, text) {
  const btn = $("button[type=submit]", form);
  if (!btn) return;
  if (on) {
    btn.dataset.label = btn.textContent;
    btn.textContent = text;
    btn.setAttribute("aria-disabled", "true");
  } else {
    btn.textContent = btn.dataset.label || btn.textContent;
    btn.removeAttribute("aria-disabled");
  }
}

// ---- pages

function loginPage(main) {
  const form = h("form", { id: "login-form", novalidate: true },
    field("username", "User name", { autocomplete: "username", required: true, autocapitalize: "none" }),
    field("password", "Password", { type: "password", autocomplete: "current-password", required: true }),
    h("p", { class: "form-msg error", role: "alert" }),
    h("button", { type: "submit" }, "Sign in"));
  main.append(h("h1", {}, "Sign in"), form,
    h("p", {}, "No account yet? ", link("/register", "Register")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    clearErrors(form);
    const username = form.username.value.trim(), password = form.password.value;
    if (!username) return fieldError("username", "Enter your user name");
    if (!password) return fieldError("password", "Enter your password");
    form.dataset.busy = "1";
    busy(form, true, "Signing in…");
    try {
      const r = await api("POST", "/api/auth/login", { username, password });
      signedIn(r.user, r.csrfToken);
      navigate("/");
    } catch (e) {
      if (e.status === 401 || e.id === "UnauthorizedError") fieldError("password", "Wrong user name or password");
      else if (e.id === "TooManyRequestsError") fieldError("password", e.message);
      else $(".form-msg", form).textContent = e.message;
    } finally {
      delete form.dataset.busy;
      busy(form, false);
    }
  });
}

function fieldError(id, text) {
  setError(id, text);
  document.getElementById(id)?.focus();
}

const registerErrors = {
  InvalidUsernameError: "username", UsernameTakenError: "username",
  InvalidPasswordError: "password", EmailTakenError: "email",
  InvalidProfileError: "name", InvalidInviteError: "invite", RegistrationClosedError: "invite",
};

function registerPage(main) {
  const invite = new URLSearchParams(location.search).get("invite") ?? "";
  const form = h("form", { id: "register-form", novalidate: true },
    field("username", "User name", { autocomplete: "username", required: true, autocapitalize: "none" }),
    field("password", "Password", { type: "password", autocomplete: "new-password", required: true }),
    field("name", "Your name (optional)", { autocomplete: "name" }),
    field("email", "Email (optional)", { type: "email", autocomplete: "email" }),
    field("invite", "Invite code", { autocomplete: "off", value: invite }),
    h("p", { class: "form-msg error", role: "alert" }),
    h("button", { type: "submit" }, "Register"));
  main.append(h("h1", {}, "Register"), form,
    h("p", {}, "Already registered? ", link("/login", "Sign in")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    clearErrors(form);
    const username = form.username.value.trim(), password = form.password.value;
    if (!username) return fieldError("username", "Choose a user name");
    if (!password) return fieldError("password", "Choose a password");
    const body = { password };
    for (const [k, id] of [["name", "name"], ["email", "email"], ["inviteCode", "invite"]]) {
      const v = form[id].value.trim();
      if (v) body[k] = v;
    }
    form.dataset.busy = "1";
    busy(form, true, "Registering…");
    try {
      await api("POST", `/api/users/${encodeURIComponent(username)}`, body);
      const r = await api("POST", "/api/auth/login", { username, password });
      signedIn(r.user, r.csrfToken);
      navigate("/");
    } catch (e) {
      const id = registerErrors[e.id];
      if (id) fieldError(id, e.message);
      else $(".form-msg", form).textContent = e.message;
    } finally {
      delete form.dataset.busy;
      busy(form, false);
    }
  });
}

function homePage(main) {
  const { code, scale } = currency();
  const u = state.user;
  main.append(
    h("h1", {}, `Hello, ${u.name || u.username}`),
    h("section", { "aria-labelledby": "balance-h", class: "card" },
      h("h2", { id: "balance-h" }, "Balance"),
      h("p", { id: "balance", class: "balance", "aria-live": "polite" }, money(u.balance ?? "0", code, scale)),
      link("/send", "Send money", { class: "button" })),
    h("section", { "aria-labelledby": "activity-h" },
      h("h2", { id: "activity-h" }, "Activity"),
      h("ul", { id: "activity", class: "activity", "aria-live": "polite" })),
  );
  renderActivity($("#activity"));
  const ctl = new AbortController();
  state.cleanup.push(() => ctl.abort());
  api("GET", "/api/payments?limit=20", undefined, ctl.signal).then((r) => {
    // Events that arrived meanwhile are newer than the page fetched.
    const seen = new Set(state.payments.map((p) => p.id));
    state.payments = state.payments.concat(r.payments.filter((p) => !seen.has(p.id)));
    const list = $("#activity");
    if (list) renderActivity(list);
  }).catch((e) => {
    if (e.name === "AbortError") return;
    const list = $("#activity");
    if (list) list.replaceChildren(h("li", { class: "error" }, e.message));
  });
}

const stateNames = { success: "", pending: " (under way)", failed: " (failed)" };

function renderActivity(list) {
  if (state.payments.length === 0) {
    list.replaceChildren(h("li", { class: "muted" }, "No payments yet."));
    return;
  }
  list.replaceChildren(...state.payments.map((p) => {
    const out = p.direction === "outgoing";
    const amount = out
      ? money(p.sourceAmount, p.sourceCurrencyCode, p.sourceCurrencyScale)
      : money(p.destinationAmount, p.destinationCurrencyCode, p.destinationCurrencyScale);
    const who = p.counterpartyName ? `${p.counterpartyName} (${p.counterparty})` : p.counterparty;
    // Money in or out of the kit itself (a settlement the admin recorded,
    // a withdrawal and its refund) is named, not sent to someone.
    const kit = p.counterparty === "withdrawal" || String(p.counterparty ?? "").startsWith("settlement:");
    const what = kit ? (p.counterpartyName || p.counterparty) : out ? `Sent to ${who}` : `Received from ${who}`;
    const when = new Date(p.createdAt);
    return h("li", { class: `payment ${p.direction} ${p.state}${kit ? " kit" : ""}`, "data-id": p.id },
      h("span", { class: "what" }, what,
        stateNames[p.state] ?? ` (${p.state})`, p.message ? h("span", { class: "muted" }, ` — ${p.message}`) : null),
      h("span", { class: "amount" }, `${out ? "−" : "+"}${amount}`),
      h("time", { datetime: p.createdAt, class: "muted" }, when.toLocaleString()));
  }));
}

// sendPage: the destination resolves, one liquidity curve is fetched, and
// the two amounts are computed from it locally as the user types (no
// request per keystroke); the curve is refetched before it expires, and
// the payment names it, so the kit charges exactly what was shown.
function sendPage(main) {
  const form = h("form", { id: "send-form", novalidate: true },
    field("destination", "To (user name, user@host or SPSP URL)", {
      autocomplete: "off", autocapitalize: "none", spellcheck: "false", required: true,
      placeholder: "bob, bob@wallet.example or https://…",
    }),
    h("div", { id: "recipient", class: "recipient", hidden: true },
      h("img", { id: "recipient-img", alt: "", width: "40", height: "40" }),
      h("div", {}, h("strong", { id: "recipient-name" }), h("br"), h("span", { id: "recipient-detail", class: "muted" }))),
    h("div", { class: "amounts" },
      field("source", "You send", { inputmode: "decimal", autocomplete: "off" }),
      field("dest", "They receive", { inputmode: "decimal", autocomplete: "off" })),
    h("p", { id: "quote-status", class: "muted" }),
    field("message", "Message (optional)", { autocomplete: "off", maxlength: "500" }),
    h("button", { type: "submit", id: "send-button" }, "Send"),
    h("p", { id: "send-result", role: "status" }));
  main.append(h("h1", {}, "Send"), form);

  let curve = null; // {id, points, expiresAt, src, dst, min, max, destination}
  let edited = "source"; // the field the user typed in last
  let amounts = null; // {source, dest} BigInt when both are valid
  let resolveCtl = null, debounce = 0, refreshTimer = 0, generation = 0;
  let attempt = null; // {key, id}: the payment being sent, until it is answered
  const tick = setInterval(showValidity, 1000);
  state.cleanup.push(() => {
    clearInterval(tick);
    clearTimeout(debounce);
    clearTimeout(refreshTimer);
    resolveCtl?.abort();
  });

  const destInput = form.destination, srcInput = form.source, dstInput = form.dest;
  const status = $("#quote-status");

  function labels() {
    const src = curve ? curve.srcCode : currency().code;
    $("label[for=source]").textContent = `You send${src ? ` (${src})` : ""}`;
    $("label[for=dest]").textContent = `They receive${curve ? ` (${curve.dstCode})` : ""}`;
  }
  labels();

  destInput.addEventListener("input", () => {
    generation++;
    curve = null;
    clearTimeout(debounce);
    clearTimeout(refreshTimer);
    resolveCtl?.abort();
    setError("destination", "");
    $("#recipient").hidden = true;
    labels();
    showValidity();
    const dest = destInput.value.trim();
    if (!dest) return;
    debounce = setTimeout(() => resolve(dest, generation), 300);
  });

  async function resolve(dest, gen) {
    resolveCtl = new AbortController();
    const signal = resolveCtl.signal;
    status.textContent = "Looking up the receiver…";
    try {
      const r = await api("GET", `/api/parse/destination?destination=${encodeURIComponent(dest)}`, undefined, signal);
      if (gen !== generation) return;
      $("#recipient-name").textContent = r.name || r.identifier;
      $("#recipient-detail").textContent = `${r.identifier} · ${r.currencyCode}`;
      const img = $("#recipient-img");
      if (r.imageUrl) img.src = r.imageUrl; else img.removeAttribute("src");
      $("#recipient").hidden = false;
      await fetchCurve(dest, gen, signal);
    } catch (e) {
      if (e.name === "AbortError" || gen !== generation) return;
      status.textContent = "";
      setError("destination", e.message);
    }
  }

  async function fetchCurve(dest, gen, signal) {
    status.textContent = curve ? status.textContent : "Getting a quote…";
    const q = await api("GET", `/api/payments/curve?destination=${encodeURIComponent(dest)}`, undefined, signal);
    if (gen !== generation) return;
    curve = {
      id: q.id, destination: dest, points: parsePoints(q.points ?? []),
      expiresAt: Date.parse(q.expiresAt),
      srcCode: q.sourceCurrencyCode, srcScale: q.sourceCurrencyScale,
      dstCode: q.destinationCurrencyCode, dstScale: q.destinationCurrencyScale,
      min: BigInt(q.minDestinationAmount ?? "0"), max: BigInt(q.maxDestinationAmount ?? "18446744073709551615"),
    };
    form.dataset.curve = q.id;
    labels();
    recompute();
    showValidity();
    scheduleRefresh(gen);
  }

  // Refetch a little before the curve expires: a fifth of its life, at
  // least 2 s and at most 10 s, before. A failed refresh retries.
  function scheduleRefresh(gen) {
    clearTimeout(refreshTimer);
    const left = curve.expiresAt - Date.now();
    const margin = Math.min(10000, Math.max(2000, left / 5));
    refreshTimer = setTimeout(async () => {
      if (gen !== generation) return;
      try {
        await fetchCurve(curve.destination, gen);
      } catch (e) {
        if (gen !== generation) return;
        status.textContent = `The quote could not be refreshed: ${e.message}`;
        refreshTimer = setTimeout(() => scheduleRefresh(gen), 2000);
      }
    }, Math.max(0, left - margin));
  }

  function showValidity() {
    if (!curve) {
      if (!destInput.value.trim()) status.textContent = "Enter who to pay to get a quote.";
      return;
    }
    const s = Math.floor((curve.expiresAt - Date.now()) / 1000);
    status.textContent = s > 0 ? `Quote valid for ${s} s; it refreshes by itself.` : "The quote has expired; refreshing…";
  }

  srcInput.addEventListener("input", () => { edited = "source"; recompute(); });
  dstInput.addEventListener("input", () => { edited = "dest"; recompute(); });

  // recompute fills the other amount field from the curve, synchronously:
  // no request, no waiting for a frame.
  function recompute() {
    amounts = null;
    setError("source", "");
    setError("dest", "");
    if (!curve) return;
    const p = curve.points;
    const last = p.length ? p[p.length - 1] : [0n, 0n];
    if (edited === "source") {
      const text = srcInput.value;
      if (!text.trim()) { dstInput.value = ""; return; }
      let x;
      try { x = parseDecimal(text, curve.srcScale); } catch (e) { dstInput.value = ""; return setError("source", e.message); }
      if (p.length === 0) return setError("source", "There is no route to this receiver right now.");
      if (x > last[0]) {
        dstInput.value = "";
        return setError("source", `That is more than the available liquidity: you can send at most ${formatDecimal(last[0], curve.srcScale)} ${curve.srcCode}.`);
      }
      const y = amountAt(p, x);
      dstInput.value = formatDecimal(y, curve.dstScale);
      if (y === 0n || x === 0n) return setError("dest", "That is too little to deliver anything.");
      if (y < curve.min) return setError("dest", `The receiver accepts at least ${formatDecimal(curve.min, curve.dstScale)} ${curve.dstCode}.`);
      if (y > curve.max) return setError("dest", `The receiver accepts at most ${formatDecimal(curve.max, curve.dstScale)} ${curve.dstCode}.`);
      amounts = { source: x, dest: y };
    } else {
      const text = dstInput.value;
      if (!text.trim()) { srcInput.value = ""; return; }
      let y;
      try { y = parseDecimal(text, curve.dstScale); } catch (e) { srcInput.value = ""; return setError("dest", e.message); }
      if (y === 0n) { srcInput.value = ""; return setError("dest", "Enter an amount above zero."); }
      const x = amountReverse(p, y);
      if (x === null) {
        srcInput.value = "";
        return setError("dest", `That is more than the available liquidity: they can receive at most ${formatDecimal(last[1], curve.dstScale)} ${curve.dstCode}.`);
      }
      srcInput.value = formatDecimal(x, curve.srcScale);
      if (x === 0n) return setError("source", "That is too little to send.");
      if (y < curve.min) return setError("dest", `The receiver accepts at least ${formatDecimal(curve.min, curve.dstScale)} ${curve.dstCode}.`);
      if (y > curve.max) return setError("dest", `The receiver accepts at most ${formatDecimal(curve.max, curve.dstScale)} ${curve.dstCode}.`);
      amounts = { source: x, dest: y };
    }
  }

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    const result = $("#send-result");
    result.textContent = "";
    result.className = "";
    if (!destInput.value.trim()) return fieldError("destination", "Enter who to pay");
    if (!curve) return fieldError("destination", "Wait for the receiver to be found");
    if (curve.expiresAt <= Date.now()) {
      result.textContent = "The quote has expired; a new one is on its way. Press Send again when it is shown.";
      return;
    }
    if (!amounts) {
      if (!srcInput.value.trim() && !dstInput.value.trim()) return fieldError("source", "Enter an amount");
      return (edited === "source" ? srcInput : dstInput).focus();
    }
    // What is shown is what is paid: the amounts and the curve they came from.
    const body = {
      quoteId: curve.id, sourceAmount: amounts.source.toString(), destinationAmount: amounts.dest.toString(),
    };
    const message = form.message.value.trim();
    if (message) body.message = message;
    const shown = { ...amounts, srcCode: curve.srcCode, srcScale: curve.srcScale, dstCode: curve.dstCode, dstScale: curve.dstScale };
    // A retry of the same payment (after a network error) reuses its id,
    // so the kit pays it once.
    const key = JSON.stringify(body);
    if (!attempt || attempt.key !== key) attempt = { key, id: crypto.randomUUID() };
    form.dataset.busy = "1";
    busy(form, true, "Sending…");
    try {
      const p = await api("PUT", `/api/payments/${attempt.id}`, body);
      attempt = null;
      result.className = "ok";
      result.textContent = p.state === "success"
        ? `Sent ${formatDecimal(shown.source, shown.srcScale)} ${shown.srcCode}; ${$("#recipient-name").textContent} received ${formatDecimal(shown.dest, shown.dstScale)} ${shown.dstCode}.`
        : "The payment is under way; your activity will show when it completes.";
      form.dataset.sent = body.sourceAmount;
      // Clear the amounts: pressing Send again must not pay twice by accident.
      srcInput.value = "";
      dstInput.value = "";
      form.message.value = "";
      amounts = null;
    } catch (e) {
      result.className = "error";
      result.textContent = e.message;
      if (e.status !== 0) attempt = null; // the kit answered: a new try is a new payment
      if (e.id === "QuoteExpiredError" || e.id === "QuoteNotFoundError") {
        clearTimeout(refreshTimer);
        fetchCurve(curve.destination, generation).catch(() => {});
      }
    } finally {
      delete form.dataset.busy;
      busy(form, false);
    }
  });
  showValidity();
}

export { state, $, h, api, currency, money, link, field, setError, clearErrors, busy, fieldError, signedIn };

function notFoundPage(main) {
  main.append(h("h1", {}, "Page not found"), h("p", {}, link("/", "Go home")));
}

// ---- start

async function start() {
  try {
    state.config = await api("GET", "/api/config");
  } catch { state.config = null; }
  try {
    const r = await api("GET", "/api/auth/load");
    signedIn(r.user, r.csrfToken);
  } catch { signedOut(); }
  render();
  document.body.dataset.ready = "1";
}

start();

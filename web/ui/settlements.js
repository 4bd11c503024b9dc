// The admin's settlement pages: record money that reached the kit outside
// the ledger (from a user or a peer), list the settlements, and manage the
// settlement methods the kit offers. Same conventions as pages.js.
import { $, h, api, currency, field } from "/app.js";
import { submitter, fieldErr, formMsg, units, fmt, loader, when, table, adminHeader } from "/pages.js";

// ---- settlements

export function adminSettlementsPage(main) {
  adminHeader(main, "Settlements");
  const done = h("p", { id: "settlement-result", role: "status", class: "ok" });
  const content = h("div", { id: "settlements" });
  main.append(done, content);
  const reload = loader(content,
    ["/api/users", "/api/peers", "/api/settlement_methods?all=true", "/api/settlements"],
    ([users, peers, methods, settlements]) => {
      content.replaceChildren(settlementForm(users, peers, methods, done, reload),
        h("h2", { id: "settlement-list-h" }, "Recorded settlements"),
        settlementList(settlements, peers));
    });
}

// settlementForm records a settlement of a user (the kit credits the user)
// or of a peer (a record only: the trustline balance stays as it is).
function settlementForm(users, peers, methods, done, reload) {
  const peerByKey = new Map(peers.map((p) => [`peer:${p.id}`, p]));
  const who = h("select", { id: "settlement-who", name: "settlement-who", "aria-describedby": "settlement-who-hint settlement-who-msg" },
    h("option", { value: "", selected: true }, "Choose who paid…"),
    h("optgroup", { label: "Users" }, users.map((u) =>
      h("option", { value: `user:${u.username}` }, u.name ? `${u.name} (${u.username})` : u.username))),
    peers.length ? h("optgroup", { label: "Peers" }, peers.map((p) =>
      h("option", { value: `peer:${p.id}` }, `${p.hostname} (peer)`))) : null);
  const hint = h("p", { id: "settlement-who-hint", class: "muted hint" });
  const method = h("select", { id: "settlement-method", name: "settlement-method", "aria-describedby": "settlement-method-msg" },
    h("option", { value: "" }, "manual"),
    methods.map((m) => h("option", { value: m.id }, m.enabled ? m.name : `${m.name} (disabled)`)));
  const form = h("form", { id: "settlement-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "settlement-who" }, "Who paid"), hint, who,
      h("p", { id: "settlement-who-msg", class: "msg", "aria-live": "polite" })),
    field("settlement-amount", "Amount", { inputmode: "decimal", autocomplete: "off", required: true }),
    h("div", { class: "field" }, h("label", { for: "settlement-method" }, "Method"), method,
      h("p", { id: "settlement-method-msg", class: "msg", "aria-live": "polite" })),
    field("settlement-note", "Note (optional)", { autocomplete: "off", maxlength: "500" }),
    formMsg(),
    h("button", { type: "submit" }, "Record settlement"));

  // The amount is in the currency of whoever settled.
  const target = () => {
    const p = peerByKey.get(who.value);
    return p ? { peer: p, code: p.currencyCode, scale: p.currencyScale } : { code: currency().code, scale: currency().scale };
  };
  const describe = () => {
    const t = target();
    $("label[for=settlement-amount]", form).textContent = `Amount (${t.code})`;
    hint.textContent = t.peer
      ? "A peer's settlement is a record only: the trustline balance does not change."
      : who.value ? "The kit credits the user the amount at once."
        : "A user's settlement credits the user; a peer's is a record only.";
  };
  who.addEventListener("change", describe);
  describe();

  submitter(form, "Recording…", async () => {
    done.textContent = "";
    if (!who.value) throw fieldErr("settlement-who", "Choose who paid");
    const t = target();
    const body = { amount: units("settlement-amount", { scale: t.scale }) };
    if (method.value) body.method = method.value;
    const note = form["settlement-note"].value.trim();
    if (note) body.note = note;
    const [kind, id] = [who.value.slice(0, who.value.indexOf(":")), who.value.slice(who.value.indexOf(":") + 1)];
    let st;
    try {
      st = await api("POST", `/api/settlements/${kind}/${encodeURIComponent(id)}`, body);
    } catch (e) {
      if (e.id === "InvalidAmountError") throw fieldErr("settlement-amount", e.message);
      if (e.id === "InvalidSettlementError" && /note/i.test(e.message)) throw fieldErr("settlement-note", e.message);
      if (e.id === "InvalidSettlementError" && /method/i.test(e.message)) throw fieldErr("settlement-method", e.message);
      if (e.status === 404) throw fieldErr("settlement-who", e.message);
      throw e;
    }
    done.textContent = `Recorded: ${st.username ?? st.hostname} paid ${fmt(st.amount, st.currency, t.scale)} (${st.method}).`;
    reload();
  });
  return h("section", { "aria-labelledby": "new-settlement-h", class: "card" },
    h("h2", { id: "new-settlement-h" }, "Record a settlement"),
    h("p", { class: "muted" }, "Money a user or a peer paid the kit outside the ledger."),
    form);
}

function settlementList(settlements, peers) {
  const scales = new Map(peers.map((p) => [p.id, p.currencyScale]));
  const amount = (s) => {
    if (!s.peerId) return fmt(s.amount, s.currency);
    // A peer's amount is in its trustline's currency and scale.
    const scale = scales.get(s.peerId);
    return scale == null ? `${s.amount} ${s.currency} (base units)` : fmt(s.amount, s.currency, scale);
  };
  return table("settlement-list", "Recorded settlements, newest first", ["When", "Who", "Amount", "Method", "Note"],
    settlements.map((s) => ({
      key: s.id,
      cells: [when(s.createdAt), s.username ?? `${s.hostname} (peer)`, amount(s), s.method, s.note || "—"],
    })), "No settlements yet.");
}

// ---- settlement methods

const methodTypes = ["paypal", "cash", "bitcoin", "ethereum", "ripple", "custom"];

export function adminSettlementMethodsPage(main) {
  adminHeader(main, "Settlement methods");
  const list = h("div", { id: "methods" });
  const form = h("form", { id: "method-form", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "method-type" }, "Type"),
      h("select", { id: "method-type", name: "method-type", "aria-describedby": "method-type-msg" },
        methodTypes.map((t) => h("option", { value: t, selected: t === "custom" }, t))),
      h("p", { id: "method-type-msg", class: "msg", "aria-live": "polite" })),
    field("method-name", "Name (empty: the type)", { autocomplete: "off", maxlength: "100" }),
    field("method-description", "Description (optional)", { autocomplete: "off" }),
    field("method-uri", "Link for payers (optional, https://…)", { type: "url", inputmode: "url", autocomplete: "off" }),
    field("method-logo", "Logo URL (optional)", { type: "url", inputmode: "url", autocomplete: "off" }),
    formMsg(),
    h("button", { type: "submit" }, "Add method"));
  main.append(h("p", { class: "muted" }, "The enabled methods are what the kit tells peers that ask how to settle with it."),
    h("section", { "aria-labelledby": "new-method-h", class: "card" }, h("h2", { id: "new-method-h" }, "Add a method"), form),
    h("h2", {}, "Methods"), list);

  const reload = loader(list, "/api/settlement_methods?all=true", (methods) => {
    list.replaceChildren(methods.length === 0 ? h("p", { class: "muted", id: "method-list" }, "No settlement methods yet.")
      : h("ul", { class: "cards", id: "method-list" }, methods.map((m) => {
        const status = h("p", { role: "status" });
        const act = (label, text, run) => {
          const btn = h("button", { type: "button", class: "secondary", "aria-label": `${label} ${m.name}`, onclick: async () => {
            if (btn.getAttribute("aria-disabled")) return;
            btn.setAttribute("aria-disabled", "true");
            try {
              await run();
              reload();
            } catch (e) {
              btn.removeAttribute("aria-disabled");
              status.className = "error";
              status.textContent = e.message;
            }
          } }, text);
          return btn;
        };
        return h("li", { class: "card", "data-method": m.name },
          h("h2", {}, m.name, " ", h("span", { class: m.enabled ? "ok" : "muted" }, m.enabled ? "· enabled" : "· disabled")),
          h("p", { class: "muted" }, m.type, m.description ? ` · ${m.description}` : ""),
          m.uri ? h("p", {}, h("a", { href: m.uri, rel: "noopener noreferrer" }, m.uri)) : null,
          h("div", { class: "actions" },
            act(m.enabled ? "Disable" : "Enable", m.enabled ? "Disable" : "Enable",
              () => api("PUT", `/api/settlement_methods/${encodeURIComponent(m.id)}`, { enabled: !m.enabled })),
            act("Delete", "Delete", async () => {
              if (!confirm(`Delete the settlement method ${m.name}? Settlements that named it keep its name.`)) return;
              await api("DELETE", `/api/settlement_methods/${encodeURIComponent(m.id)}`);
            })),
          status);
      })));
  });

  submitter(form, "Adding…", async () => {
    const body = { type: form["method-type"].value };
    for (const [k, id] of [["name", "method-name"], ["description", "method-description"], ["uri", "method-uri"], ["logo", "method-logo"]]) {
      const v = form[id].value.trim();
      if (v) body[k] = v;
    }
    for (const id of ["method-uri", "method-logo"]) {
      const v = form[id].value.trim();
      if (v && !/^https?:\/\/\S+$/i.test(v)) throw fieldErr(id, "Enter an http(s) URL, such as https://pay.example/kit");
    }
    try {
      await api("POST", "/api/settlement_methods", body);
    } catch (e) {
      if (e.id === "InvalidSettlementMethodError") {
        if (/type/i.test(e.message)) throw fieldErr("method-type", e.message);
        if (/name/i.test(e.message)) throw fieldErr("method-name", e.message);
        if (/description/i.test(e.message)) throw fieldErr("method-description", e.message);
        if (/uri|logo|url/i.test(e.message)) throw fieldErr(body.logo && !body.uri ? "method-logo" : "method-uri", e.message);
      }
      throw e;
    }
    form.reset();
    reload();
  });
}

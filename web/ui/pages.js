// Settings and admin pages: same conventions as app.js (labelled fields,
// errors next to the field, nothing blocks while the kit answers).
import { state, $, h, api, currency, money, link, field, setError, clearErrors, busy, fieldError, signedIn } from "/app.js";
import { parseDecimal, formatDecimal } from "/curve.js";

// submitter wires a form: prevents double submits, shows busy, reports
// errors via onError(e) or in the form's .form-msg.
export function submitter(form, busyText, run, onError) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (form.dataset.busy) return;
    clearErrors(form);
    form.dataset.busy = "1";
    busy(form, true, busyText);
    try {
      await run();
    } catch (e) {
      if (e && e.fieldId) fieldError(e.fieldId, e.message);
      else if (!onError || !onError(e)) $(".form-msg", form).textContent = e.message;
    } finally {
      delete form.dataset.busy;
      busy(form, false);
    }
  });
}

export function fieldErr(id, message) {
  const e = new Error(message);
  e.fieldId = id;
  return e;
}

export function formMsg() {
  return h("p", { class: "form-msg error", role: "alert" });
}

// amountField reads a decimal field as base units, or throws next to it.
export function units(id, { allowNegative = false, optional = false, scale = currency().scale } = {}) {
  const text = document.getElementById(id).value.trim();
  if (!text) {
    if (optional) return null;
    throw fieldErr(id, "Enter an amount");
  }
  const neg = allowNegative && text.startsWith("-");
  try {
    const v = parseDecimal(neg ? text.slice(1) : text, scale);
    return (neg ? -v : v).toString();
  } catch (e) {
    throw fieldErr(id, e.message);
  }
}

export function fmt(units, code = currency().code, scale = currency().scale) {
  if (units == null) return "—";
  const neg = String(units).startsWith("-");
  const abs = neg ? String(units).slice(1) : String(units);
  return `${neg ? "−" : ""}${money(abs, code, scale)}`;
}

function decimalValue(units) {
  if (units == null) return "";
  const s = String(units), neg = s.startsWith("-");
  return (neg ? "-" : "") + formatDecimal(BigInt(neg ? s.slice(1) : s), currency().scale);
}

// loader fetches data for a section and renders it; failures are shown in
// its place. It returns a reload function.
// path may be a list of paths: renderFn then gets a list of answers.
export function loader(container, path, renderFn) {
  const ctl = new AbortController();
  state.cleanup.push(() => ctl.abort());
  const reload = async () => {
    try {
      const data = Array.isArray(path)
        ? await Promise.all(path.map((p) => api("GET", p, undefined, ctl.signal)))
        : await api("GET", path, undefined, ctl.signal);
      renderFn(data, reload);
      container.removeAttribute("aria-busy");
    } catch (e) {
      if (e.name === "AbortError") return;
      container.replaceChildren(h("p", { class: "error" }, e.message));
    }
  };
  container.setAttribute("aria-busy", "true");
  container.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  reload();
  return reload;
}

export function when(t) {
  return t ? h("time", { datetime: t }, new Date(t).toLocaleString()) : "—";
}

// table renders rows as a responsive list of cards (no horizontal scroll).
export function table(id, caption, headers, rows, empty) {
  if (rows.length === 0) return h("p", { id, class: "muted" }, empty);
  return h("table", { id, class: "list" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x || h("span", { class: "visually-hidden" }, "Actions"))))),
    h("tbody", {}, rows.map((r) => h("tr", { "data-key": r.key },
      r.cells.map((c, i) => h("td", { "data-label": headers[i] }, c))))));
}

// ---- settings

// maxPicture is the API's bound on a profile picture.
const maxPicture = 1 << 20;

export function settingsPage(main) {
  const u = state.user;
  const profile = h("form", { id: "profile-form", novalidate: true },
    field("name", "Name", { autocomplete: "name", value: u.name ?? "" }),
    field("email", "Email", { type: "email", autocomplete: "email", value: u.email ?? "" }),
    formMsg(),
    h("button", { type: "submit" }, "Save profile"),
    h("p", { id: "profile-result", role: "status", class: "ok" }));
  submitter(profile, "Saving…", async () => {
    $("#profile-result").textContent = "";
    const name = profile.name.value.trim(), email = profile.email.value.trim();
    if (email && !email.includes("@")) throw fieldErr("email", "Enter an email address such as you@example.com");
    try {
      const r = await api("PUT", `/api/users/${encodeURIComponent(u.username)}`, { name, email });
      Object.assign(state.user, r.user, { balance: state.user.balance });
      $("#profile-result").textContent = "Profile saved.";
    } catch (e) {
      if (e.id === "EmailTakenError") throw fieldErr("email", e.message);
      if (e.id === "InvalidProfileError") throw fieldErr(/mail/i.test(e.message) ? "email" : "name", e.message);
      throw e;
    }
  });

  // The profile picture: what people paying this user see next to the name.
  const pictureURL = () => `/api/users/${encodeURIComponent(u.username)}/profilepic?v=${Date.now()}`;
  const picture = h("img", { id: "picture-preview", class: "avatar", src: pictureURL(), alt: "Your profile picture", width: "64", height: "64" });
  const pic = h("form", { id: "picture-form", novalidate: true },
    field("picture", "Choose a picture", {
      type: "file", accept: "image/png,image/jpeg,image/gif,image/webp",
      "aria-describedby": "picture-hint picture-msg",
    }),
    formMsg(),
    h("button", { type: "submit" }, "Upload picture"),
    h("p", { id: "picture-result", role: "status", class: "ok" }));
  $(".field", pic).insertBefore(h("p", { id: "picture-hint", class: "muted hint" }, "PNG, JPEG, GIF or WebP, at most 1 MiB."), $("input", pic));
  submitter(pic, "Uploading…", async () => {
    $("#picture-result").textContent = "";
    const file = pic.picture.files[0];
    if (!file) throw fieldErr("picture", "Choose a picture first");
    if (file.size > maxPicture) throw fieldErr("picture", "That picture is larger than 1 MiB; choose a smaller one");
    try {
      await api("POST", `/api/users/${encodeURIComponent(u.username)}/profilepic`, file);
    } catch (e) {
      if (e.id === "InvalidImageError" || e.id === "BodyTooLargeError") throw fieldErr("picture", e.message);
      throw e;
    }
    pic.reset();
    picture.src = pictureURL();
    $("#picture-result").textContent = "Picture saved.";
  });

  const pw = h("form", { id: "password-form", novalidate: true },
    field("current-password", "Current password", { type: "password", autocomplete: "current-password", required: true }),
    field("new-password", "New password", { type: "password", autocomplete: "new-password", required: true }),
    formMsg(),
    h("button", { type: "submit" }, "Change password"),
    h("p", { id: "password-result", role: "status", class: "ok" }));
  submitter(pw, "Changing…", async () => {
    $("#password-result").textContent = "";
    const cur = pw["current-password"].value, next = pw["new-password"].value;
    if (!cur) throw fieldErr("current-password", "Enter your current password");
    if (!next) throw fieldErr("new-password", "Choose a new password");
    try {
      const r = await api("PUT", `/api/users/${encodeURIComponent(u.username)}`, { password: cur, newPassword: next });
      if (r.csrfToken) signedIn(state.user, r.csrfToken);
      pw.reset();
      $("#password-result").textContent = "Password changed. Your other sessions were signed out.";
    } catch (e) {
      if (e.id === "InvalidPasswordError") throw fieldErr("new-password", e.message);
      if (e.status === 401 || e.status === 403 || e.id === "TooManyRequestsError") {
        throw fieldErr("current-password", e.status === 429 ? e.message : "That is not your current password");
      }
      throw e;
    }
  });

  const tokenList = h("div", { id: "tokens" });
  const created = h("div", { id: "token-created", role: "status" });
  const tokenForm = h("form", { id: "token-form", novalidate: true },
    field("token-name", "Token name", { autocomplete: "off", required: true }),
    formMsg(),
    h("button", { type: "submit" }, "Create token"));
  const reload = loader(tokenList, "/api/tokens", (tokens) => {
    tokenList.replaceChildren(table("token-list", "Your tokens", ["Name", "Created", "Last used", ""],
      tokens.map((t) => ({
        key: t.id,
        cells: [t.name, when(t.createdAt), when(t.lastUsedAt),
          h("button", { type: "button", class: "secondary", "aria-label": `Revoke ${t.name}`, onclick: async (ev) => {
            ev.target.setAttribute("aria-disabled", "true");
            try {
              await api("DELETE", `/api/tokens/${t.id}`);
              reload();
            } catch (e) {
              ev.target.removeAttribute("aria-disabled");
              created.replaceChildren(h("p", { class: "error" }, e.message));
            }
          } }, "Revoke")],
      })), "No tokens yet."));
  });
  submitter(tokenForm, "Creating…", async () => {
    const name = tokenForm["token-name"].value.trim();
    if (!name) throw fieldErr("token-name", "Name the token, for example after the device that uses it");
    const t = await api("POST", "/api/tokens", { name });
    tokenForm.reset();
    created.replaceChildren(
      h("p", {}, `Token "${t.name}" created. Copy it now: it is shown only once.`),
      h("code", { id: "token-value", class: "secret" }, t.token));
    reload();
  });

  main.append(h("h1", {}, "Settings"),
    h("section", { "aria-labelledby": "profile-h", class: "card" }, h("h2", { id: "profile-h" }, "Profile"), profile),
    h("section", { "aria-labelledby": "picture-h", class: "card" }, h("h2", { id: "picture-h" }, "Profile picture"),
      h("p", { class: "muted" }, "People who pay you see it next to your name."), picture, pic),
    h("section", { "aria-labelledby": "password-h", class: "card" }, h("h2", { id: "password-h" }, "Password"), pw),
    h("section", { "aria-labelledby": "tokens-h", class: "card" }, h("h2", { id: "tokens-h" }, "Tokens"),
      h("p", { class: "muted" }, "Tokens let programs (such as ilpkit client) use your account."),
      tokenList, created, tokenForm));
}

// resetPasswordPage: /change-password/{username}/{code}, the link the
// admin gives a user who forgot the password.
export function resetPasswordPage(main) {
  const [, , rawName = "", rawCode = ""] = location.pathname.split("/");
  let username = "", code = "";
  try { username = decodeURIComponent(rawName); code = decodeURIComponent(rawCode); } catch { /* shown below */ }
  main.append(h("h1", {}, "Set a new password"));
  if (!username || !code) {
    main.append(h("p", { class: "error" }, "This link is incomplete; ask the admin for a new one."));
    return;
  }
  const form = h("form", { id: "reset-form", novalidate: true },
    h("input", { type: "text", name: "username", value: username, autocomplete: "username", hidden: true, "aria-hidden": "true", tabindex: "-1" }),
    field("reset-password", `New password for ${username}`, { type: "password", autocomplete: "new-password", required: true }),
    formMsg(),
    h("button", { type: "submit" }, "Set password"),
    h("p", { id: "reset-result", role: "status", class: "ok" }));
  main.append(form);
  submitter(form, "Saving…", async () => {
    const password = form["reset-password"].value;
    if (!password) throw fieldErr("reset-password", "Choose a new password");
    try {
      await api("POST", "/api/auth/reset", { username, code, password });
    } catch (e) {
      if (e.id === "InvalidPasswordError" || e.id === "TooManyRequestsError") throw fieldErr("reset-password", e.message);
      if (e.id === "InvalidCodeError") throw new Error("This link is no longer valid; ask the admin for a new one.");
      throw e;
    }
    form.replaceChildren(h("p", { id: "reset-result", role: "status", class: "ok" }, "Your password is set. ", link("/login", "Sign in")));
  });
}

// ---- admin

function adminNav() {
  const items = [["/admin", "Users"], ["/admin/invites", "Invites"], ["/admin/peers", "Peers"], ["/admin/withdrawals", "Withdrawals"],
    ["/admin/settlements", "Settlements"], ["/admin/settlement-methods", "Settlement methods"]];
  return h("nav", { "aria-label": "Admin", class: "subnav" },
    items.map(([href, text]) => link(href, text, { "aria-current": location.pathname === href ? "page" : null })));
}

export function adminHeader(main, title) {
  main.append(h("h1", {}, title), adminNav());
}

// limitText shows a limit: "unlimited" for a maximum without one.
function limitText(v, isMax) {
  return v == null ? (isMax ? "unlimited" : fmt("0")) : fmt(v);
}

// adminUsersPage: the kit's default limits, and every user with their own.
// A limit field left empty means the kit's default (shown next to it), so
// saving a user on the defaults without a change keeps them on the
// defaults, and later changes of the defaults still apply to them.
export function adminUsersPage(main) {
  adminHeader(main, "Users");
  const list = h("div", { id: "users" });
  main.append(list);
  const reload = loader(list, ["/api/users", "/api/admin/limits"], ([users, defaults]) => {
    const dmin = limitText(defaults.minBalance, false), dmax = limitText(defaults.maxBalance, true);
    const defaultsForm = h("form", { id: "default-limits-form", novalidate: true },
      field("default-min", "Minimum balance (negative: credit; empty: 0)", { inputmode: "decimal", autocomplete: "off", value: decimalValue(defaults.minBalance) }),
      field("default-max", "Maximum balance (empty: unlimited)", { inputmode: "decimal", autocomplete: "off", value: decimalValue(defaults.maxBalance) }),
      formMsg(),
      h("button", { type: "submit" }, "Save default limits"));
    submitter(defaultsForm, "Saving…", async () => {
      const body = { minBalance: units("default-min", { allowNegative: true, optional: true }), maxBalance: units("default-max", { optional: true }) };
      try {
        await api("PUT", "/api/admin/limits", body);
      } catch (e) {
        if (e.id === "InvalidLimitsError" || e.id === "InvalidAmountError") throw fieldErr("default-min", e.message);
        throw e;
      }
      reload();
    });
    const userCards = users.map((u) => {
      const idp = `limits-${u.id}`;
      const hint = h("p", { id: `${idp}-hint`, class: "muted hint" }, `Leave a field empty for the kit's default (minimum ${dmin}, maximum ${dmax}).`);
      const limitField = (which, label, own, isMax) => field(`${idp}-${which}`, label, {
        inputmode: "decimal", autocomplete: "off",
        value: own ? decimalValue(isMax ? u.maxBalance : u.minBalance) : "",
        placeholder: own ? null : `Default: ${isMax ? dmax : dmin}`,
        "data-default": own ? null : "true",
        "aria-describedby": `${idp}-hint ${idp}-${which}-msg`,
      });
      const form = h("form", { class: "limits", novalidate: true, "data-user": u.username },
        hint,
        limitField("min", "Minimum balance (negative: credit)", u.customMinBalance, false),
        limitField("max", "Maximum balance", u.customMaxBalance, true),
        formMsg(),
        h("button", { type: "submit" }, "Save limits"));
      submitter(form, "Saving…", async () => {
        const body = { minBalance: units(`${idp}-min`, { allowNegative: true, optional: true }), maxBalance: units(`${idp}-max`, { optional: true }) };
        try {
          await api("PUT", `/api/users/${encodeURIComponent(u.username)}/limits`, body);
        } catch (e) {
          if (e.id === "InvalidLimitsError" || e.id === "InvalidAmountError") throw fieldErr(`${idp}-min`, e.message);
          throw e;
        }
        reload();
      });
      const mark = (own) => (own ? "" : " (default)");
      const limits = u.customLimits
        ? `${limitText(u.minBalance, false)}${mark(u.customMinBalance)} to ${limitText(u.maxBalance, true)}${mark(u.customMaxBalance)}`
        : `${limitText(u.minBalance, false)} to ${limitText(u.maxBalance, true)} (default)`;
      return h("li", { class: "card", "data-user": u.username },
        h("h2", {}, u.name ? `${u.name} (${u.username})` : u.username, u.isAdmin ? " · admin" : "", u.disabled ? " · disabled" : ""),
        h("p", {}, "Balance: ", h("strong", { class: "user-balance" }, fmt(u.balance ?? "0")),
          h("span", { class: "muted user-limits" }, ` · limits ${limits}`)),
        form,
        h("button", { type: "button", class: "secondary", "aria-label": `Password reset link for ${u.username}`, onclick: async (ev) => {
          const out = ev.target.nextElementSibling;
          try {
            const r = await api("POST", `/api/users/${encodeURIComponent(u.username)}/reset-link`);
            out.className = "reset-link";
            const how = r.emailed ? "Emailed to the user; the same link (valid 24 hours, once): "
              : "Give this link to the user (valid 24 hours, once): ";
            out.replaceChildren(how, h("a", { href: r.link }, r.link));
          } catch (e) {
            out.className = "error";
            out.textContent = e.message;
          }
        } }, "Password reset link"),
        h("p", { role: "status" }));
    });
    list.replaceChildren(
      h("section", { "aria-labelledby": "default-limits-h", class: "card" },
        h("h2", { id: "default-limits-h" }, "Default limits"),
        h("p", { class: "muted" }, "For every user without limits of their own, and for new users."),
        defaultsForm),
      h("h2", {}, "Users and their limits"),
      h("ul", { class: "cards", id: "user-list" }, userCards));
  });
}

export function adminInvitesPage(main) {
  adminHeader(main, "Invites");
  const list = h("div", { id: "invites" });
  const createdMsg = h("p", { id: "invite-created", role: "status", class: "ok" });
  const form = h("form", { id: "invite-form", novalidate: true },
    field("invite-amount", `Amount for the new user (${currency().code})`, { inputmode: "decimal", autocomplete: "off", value: "0" }),
    formMsg(),
    h("button", { type: "submit" }, "Create invite"));
  main.append(h("section", { "aria-labelledby": "new-invite-h", class: "card" },
    h("h2", { id: "new-invite-h" }, "New invite"), form, createdMsg), h("h2", {}, "Invites"), list);
  const reload = loader(list, "/api/invites", (invites) => {
    list.replaceChildren(table("invite-list", "Invites", ["Code", "Amount", "State", ""],
      invites.map((i) => ({
        key: i.code,
        cells: [h("code", { class: "invite-code" }, i.code), fmt(i.amount), i.claimed ? "claimed" : "open",
          h("button", { type: "button", class: "secondary", "aria-label": `Delete invite ${i.code}`, onclick: async (ev) => {
            ev.target.setAttribute("aria-disabled", "true");
            try {
              await api("DELETE", `/api/invites/${encodeURIComponent(i.code)}`);
              reload();
            } catch (e) {
              ev.target.removeAttribute("aria-disabled");
              createdMsg.textContent = e.message;
            }
          } }, "Delete")],
      })), "No invites yet."));
  });
  submitter(form, "Creating…", async () => {
    const amount = units("invite-amount");
    const inv = await api("POST", "/api/invites", { amount });
    const url = `${location.origin}/register?invite=${encodeURIComponent(inv.code)}`;
    createdMsg.replaceChildren(`Invite ${inv.code} created. Registration link: `, h("a", { href: url, id: "invite-link" }, url));
    reload();
  });
}

export function adminPeersPage(main) {
  adminHeader(main, "Peers");
  const list = h("div", { id: "peers" });
  const form = h("form", { id: "peer-form", novalidate: true },
    field("peer-host", "Hostname of the other kit", { autocomplete: "off", autocapitalize: "none", spellcheck: "false", required: true }),
    field("peer-limit", `Credit limit (${currency().code})`, { inputmode: "decimal", autocomplete: "off" }),
    formMsg(),
    h("button", { type: "submit" }, "Add peer"));
  main.append(h("section", { "aria-labelledby": "new-peer-h", class: "card" },
    h("h2", { id: "new-peer-h" }, "Add a peer"), form), h("h2", {}, "Peers"), list);
  const reload = loader(list, "/api/peers", (peers) => {
    list.replaceChildren(peers.length === 0 ? h("p", { class: "muted", id: "peer-list" }, "No peers yet.")
      : h("ul", { class: "cards", id: "peer-list" }, peers.map((p) => {
        const idp = `peer-${p.id}`;
        const limitForm = h("form", { class: "inline", novalidate: true },
          field(`${idp}-limit`, "Limit", { inputmode: "decimal", autocomplete: "off", value: formatDecimal(BigInt(p.limit ?? "0"), p.currencyScale) }),
          formMsg(),
          h("button", { type: "submit" }, "Save limit"));
        submitter(limitForm, "Saving…", async () => {
          const text = document.getElementById(`${idp}-limit`).value.trim();
          let limit;
          try { limit = parseDecimal(text, p.currencyScale).toString(); } catch (e) { throw fieldErr(`${idp}-limit`, e.message); }
          await api("PUT", `/api/peers/${encodeURIComponent(p.id)}`, { limit });
          reload();
        });
        const remove = h("button", { type: "button", class: "secondary", "aria-label": `Remove peer ${p.hostname}`, onclick: async () => {
          if (!confirm(`Remove the peer ${p.hostname}?`)) return;
          remove.setAttribute("aria-disabled", "true");
          try {
            await api("DELETE", `/api/peers/${encodeURIComponent(p.id)}`);
            reload();
          } catch (e) {
            remove.removeAttribute("aria-disabled");
            $(".form-msg", limitForm).textContent = e.message;
          }
        } }, "Remove");
        return h("li", { class: "card", "data-peer": p.hostname },
          h("h2", {}, p.hostname, " ", h("span", { class: p.online ? "ok" : "error" }, p.online ? "● online" : "○ offline")),
          h("p", {}, "Balance (owed to the kit): ", h("strong", {}, fmt(p.balance, p.currencyCode, p.currencyScale)),
            h("br"), h("span", { class: "muted" }, `Limit ${fmt(p.limit ?? "0", p.currencyCode, p.currencyScale)} · ${p.prefix}`)),
          limitForm, remove);
      })));
  });
  submitter(form, "Adding…", async () => {
    const hostname = form["peer-host"].value.trim();
    if (!hostname) throw fieldErr("peer-host", "Enter the other kit's hostname, such as wallet.example");
    const limit = units("peer-limit");
    try {
      await api("POST", "/api/peers", { hostname, limit });
    } catch (e) {
      if (e.id === "PeerUnreachableError" || /host/i.test(e.message)) throw fieldErr("peer-host", e.message);
      throw e;
    }
    form.reset();
    reload();
  });
}

const statuses = ["pending", "processing", "completed", "rejected"];

export function adminWithdrawalsPage(main) {
  adminHeader(main, "Withdrawals");
  const list = h("div", { id: "withdrawals" });
  main.append(list);
  const reload = loader(list, "/api/withdrawals", (ws) => {
    list.replaceChildren(ws.length === 0 ? h("p", { class: "muted", id: "withdrawal-list" }, "No withdrawals.")
      : h("ul", { class: "cards", id: "withdrawal-list" }, ws.map((w) => {
        const id = `wd-${w.id}`;
        const final = w.status === "completed" || w.status === "rejected";
        const form = h("form", { class: "inline", novalidate: true },
          h("div", { class: "field" }, h("label", { for: id }, "Status"),
            h("select", { id, name: id, disabled: final, "aria-describedby": `${id}-msg` },
              statuses.map((s) => h("option", { value: s, selected: s === w.status }, s))),
            h("p", { id: `${id}-msg`, class: "msg", "aria-live": "polite" })),
          formMsg(),
          final ? h("p", { class: "muted" }, "This status is final.") : h("button", { type: "submit" }, "Set status"));
        submitter(form, "Saving…", async () => {
          try {
            await api("PUT", `/api/withdrawals/${encodeURIComponent(w.id)}`, { status: document.getElementById(id).value });
          } catch (e) {
            throw fieldErr(id, e.message);
          }
          reload();
        });
        return h("li", { class: "card", "data-withdrawal": w.id },
          h("h2", {}, `${w.username}: ${fmt(w.amount)}`),
          h("p", { class: "muted" }, `${w.status} · requested `, when(w.createdAt)),
          form);
      })));
  });
}

// Shared by every page: the language switch, small DOM helpers, calls to the hub's API with
// errors said in words, and the live event stream.
"use strict";

const JH = (() => {
  const root = document.documentElement;
  const stored = (() => { try { return localStorage.getItem("jh-lang"); } catch (_) { return null; } })();
  if (stored === "en") root.classList.add("lang-en");

  function setLang(lang) {
    root.classList.toggle("lang-en", lang === "en");
    root.lang = lang === "en" ? "en" : "zh-CN";
    try { localStorage.setItem("jh-lang", lang); } catch (_) { /* private mode */ }
  }
  function lang() { return root.classList.contains("lang-en") ? "en" : "zh"; }
  root.lang = lang() === "en" ? "en" : "zh-CN";

  document.addEventListener("click", (event) => {
    const button = event.target.closest("[data-action=lang]");
    if (button) setLang(lang() === "en" ? "zh" : "en");
  });

  /** An element: el("div", {class: "x", onclick: f}, child, "text", …). */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Both languages of a text; the page shows the one chosen. */
  function t(zh, en) {
    const fragment = document.createDocumentFragment();
    fragment.append(el("span", { class: "zh" }, zh), el("span", { class: "en" }, en));
    return fragment;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }
  function $(selector) { return document.querySelector(selector); }

  // Errors in words: what happened and what to do, never a status or a code.
  const WORDS = {
    not_paired: ["这台评价器尚未配对，请输入管理员给出的配对码。", "This rating pad is not paired: type the code the admin gives you."],
    unknown_code: ["配对码不正确或已过期，请管理员重新生成。", "The pairing code is wrong or expired: ask the admin for a new one."],
    rating_ended: ["评价期已过（可在办结后下一个工作日结束前评价）。", "The time to rate has ended (until the end of the next working day)."],
    standby: ["本机是备用中心机，只读，请到主中心机操作。", "This is the standby hub, read-only: use the primary."],
    fenced: ["本机已被接替，不再接受操作，请到新的主中心机操作。", "This hub was taken over: use the new primary."],
    window_closed: ["窗口尚未开放，请先点“开窗”。", "The window is closed: open it first."],
    window_paused: ["窗口已暂停，请先点“恢复”。", "The window is paused: resume it first."],
    window_not_serving: ["当前没有正在办理的号。", "No ticket is being served at this window."],
    window_serving: ["请先完成、转移或过号当前的号。", "Finish, transfer or mark the current ticket as no-show first."],
    window_already_open: ["窗口已经开放。", "The window is open already."],
    window_already_closed: ["窗口已经关闭。", "The window is closed already."],
    window_not_paused: ["窗口没有暂停。", "The window is not paused."],
    unknown_ticket: ["今天没有这个号，请核对号码。", "There is no such ticket today: check the number."],
    ticket_not_waiting: ["这个号不在等候中（可能已叫过或已办结）。", "This ticket is not waiting (already called or done)."],
    not_assigned: ["本窗口不办理该业务。", "This window does not serve that service."],
    transfer_to_self: ["不能转移到当前的业务或窗口。", "A ticket cannot be transferred to where it already is."],
    already_rated: ["本次服务已经评价过了，谢谢您。", "This service has been rated already. Thank you."],
    not_ratable: ["评价时间已过，或这不是本窗口刚办结的号。", "The time to rate is over, or this is not the ticket just finished here."],
    csrf: ["页面已过期，请刷新页面后重试。", "The page is out of date: reload it and try again."],
    unauthorized: ["登录已过期，请重新登录。", "Your session has ended: please sign in again."],
    forbidden: ["您没有权限进行此操作。", "You may not do this."],
    storage_unavailable: ["系统暂时无法保存，请稍后再试。", "The hub cannot save right now: try again shortly."],
    shutting_down: ["系统正在重启，请稍后再试。", "The hub is restarting: try again in a moment."],
    user_exists: ["该用户名已存在，请换一个。", "That user name exists already: choose another."],
    service_in_use: ["该业务仍分配给窗口或今天有号票，不能删除。", "The service is still assigned to a window or has tickets today."],
    prefix_taken: ["该号码字母已被其他业务使用。", "Another service uses that letter."],
    own_account: ["不能停用您正在使用的账户。", "You cannot disable the account you are signed in with."],
  };

  function words(body, status) {
    const code = body && body.code;
    if (code && WORDS[code]) return WORDS[code];
    const detail = (body && body.error) || "";
    if (code === "invalid") return ["输入有误：" + detail, "Please check the input: " + detail];
    if (status === 404) return ["找不到要操作的对象：" + detail, "Not found: " + detail];
    if (status === 409) return ["现在不能这样操作：" + detail, "Not possible now: " + detail];
    return ["操作没有成功，请稍后再试。" + detail, "That did not work; please try again. " + detail];
  }

  let csrf = null;
  function setCsrf(token) { csrf = token; }

  /** Calls the API; resolves to {ok, status, data, message: [zh, en]}. Never throws. */
  async function api(method, path, body) {
    const headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (csrf && method !== "GET") headers["X-CSRF-Token"] = csrf;
    let response;
    try {
      response = await fetch(path, {
        method, headers, credentials: "same-origin",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      return { ok: false, status: 0, data: null,
        message: ["网络连接中断，请检查网络后重试。", "The network connection is down: check it and try again."] };
    }
    let data = null;
    const type = response.headers.get("Content-Type") || "";
    if (response.status !== 204 && type.includes("json")) {
      try { data = await response.json(); } catch (_) { data = null; }
    }
    if (response.ok) return { ok: true, status: response.status, data };
    if (response.status === 401 && !path.startsWith("/api/windows/") && !path.startsWith("/api/rating-pad")) {
      // Signed out (expired): back to the sign-in form, then here again. (A rating pad is
      // nobody's session: it pairs on its own page instead.)
      const next = location.pathname + location.hash;
      setTimeout(() => { location.href = "/login?next=" + encodeURIComponent(next); }, 1500);
    }
    return { ok: false, status: response.status, data, message: words(data, response.status) };
  }

  /** A message at the top of the page for a few seconds. */
  function toast(message, kind) {
    let box = $(".toasts");
    if (!box) { box = el("div", { class: "toasts", "aria-live": "polite" }); document.body.append(box); }
    const item = el("div", { class: "notice " + (kind || "ok"), role: kind === "error" ? "alert" : "status" },
      t(message[0], message[1]));
    box.append(item);
    setTimeout(() => item.remove(), kind === "error" ? 7000 : 3500);
  }

  /** The live stream: `onHall(view)` after the snapshot and every batch, `onChange(name, data)`
   *  for each change. Shows a banner while the connection is down. */
  function live(onHall, onChange) {
    const names = ["ticket_issued", "ticket_called", "ticket_finished", "ticket_no_show",
      "ticket_transferred", "window_changed", "service_changed", "day_started", "hall_configured"];
    let banner = null;
    const source = new EventSource("/api/events");
    const up = () => {
      if (banner) { banner.remove(); banner = null; }
      document.querySelectorAll(".live-dot").forEach((d) => d.classList.remove("down"));
    };
    source.addEventListener("open", up);
    source.addEventListener("error", () => {
      document.querySelectorAll(".live-dot").forEach((d) => d.classList.add("down"));
      if (!banner) {
        banner = el("div", { class: "offline", role: "alert" },
          t("实时连接中断，正在重新连接…", "Live connection lost, reconnecting…"));
        document.body.prepend(banner);
      }
    });
    for (const name of ["snapshot", "hall_changed"]) {
      source.addEventListener(name, (event) => {
        up();
        let view = null;
        try { view = JSON.parse(event.data); } catch (_) { return; /* a damaged message: wait for the next */ }
        if (view && view.clock) clock.sync(view.clock.now, view.clock.speed);
        onHall(view);
      });
    }
    for (const name of names) {
      source.addEventListener(name, (event) => {
        let data = null;
        try { data = JSON.parse(event.data); } catch (_) { return; }
        if (onChange) onChange(name, data);
      });
    }
    return source;
  }

  /** Runs `f` at most once per `ms`, and once more after the last call. */
  function debounce(f, ms) {
    let timer = null;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => f(...args), ms); };
  }

  function hhmm(iso) { return iso ? iso.slice(11, 16) : ""; }

  /** The hall's clock (the hub's, which runs `speed` times faster on a simulated day):
   *  `sync(iso, speed)` when an answer says what time it is there (the stream's snapshot
   *  carries `clock: {now, speed}`); `now()` extrapolates from the last reading. */
  const clock = {
    at: null, received: 0, speed: 1,
    sync(iso, speed) {
      const at = Date.parse(iso);
      if (isNaN(at)) return;
      this.at = at;
      this.received = Date.now();
      if (typeof speed === "number" && isFinite(speed) && speed >= 0) this.speed = speed;
    },
    now() { return this.at === null ? Date.now() : this.at + (Date.now() - this.received) * this.speed; },
  };

  function mmss(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const m = Math.floor(s / 60);
    return String(m).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }

  async function logout() {
    await api("POST", "/logout");
    location.href = "/login";
  }
  document.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=logout]")) logout();
  });

  /** The signed-in person, or a trip to the sign-in form. */
  async function me(next) {
    const answer = await api("GET", "/api/me");
    if (!answer.ok) {
      location.href = "/login?next=" + encodeURIComponent(next || location.pathname);
      return null;
    }
    setCsrf(answer.data.csrf_token);
    return answer.data;
  }

  const ROLES = {
    admin: ["管理员", "Administrator"], supervisor: ["值班长", "Supervisor"], clerk: ["窗口人员", "Clerk"],
    kiosk: ["取号机", "Kiosk"], display: ["显示屏", "Display"],
    replica: ["备用中心机", "Standby hub"], ingest: ["市局汇总", "City ingest"],
  };
  // The classes of a reason for a pause or a close, in the order the counter offers them.
  const PAUSE = {
    break: ["休息", "Break"], meeting: ["会议", "Meeting"], system_fault: ["故障", "Fault"],
    training: ["培训", "Training"], off_duty: ["下班", "Off duty"], other: ["其他", "Other"],
  };
  const RATINGS = {
    very_satisfied: ["非常满意", "Very satisfied"], satisfied: ["满意", "Satisfied"], basic: ["基本满意", "Fairly satisfied"],
    dissatisfied: ["不满意", "Dissatisfied"], very_dissatisfied: ["非常不满意", "Very dissatisfied"],
  };
  const REASONS = {
    attitude: ["服务态度", "Attitude"], waiting: ["等候时间长", "Long wait"],
    requirements_unclear: ["办事要求不清楚", "Requirements unclear"], other: ["其他", "Other"],
  };
  // How a visit ended (办理结果), in the order the counter offers them.
  const OUTCOMES = [
    ["done", "办结", "Done"], ["documents_missing", "补正（缺材料）", "Documents missing"],
    ["refused", "不予受理", "Refused"], ["referred", "转办", "Referred elsewhere"],
  ];
  const STATES = {
    closed: ["未开放", "Closed"], open: ["空闲", "Open, idle"], paused: ["暂停服务", "Paused"], serving: ["办理中", "Serving"],
  };

  return { el, t, clear, $, api, toast, live, debounce, hhmm, clock, mmss, me, setCsrf, lang, setLang,
    ROLES, PAUSE, RATINGS, REASONS, OUTCOMES, STATES, words };
})();

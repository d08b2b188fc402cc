// The admin console: the live hall, services, windows and their assignment, notices, users and
// device tokens, reports and the audit trail. Supervisors see everything and edit notices only.
"use strict";

(() => {
  const { el, t, clear, $, api, toast, live, debounce, hhmm } = JH;
  let me = null;
  let hall = null;
  let todayReport = null;
  let advice = null;
  let current = "live";
  const drafts = {}; // window number → service codes being edited
  const admin = () => me && me.role === "admin";

  const KINDS = {
    day_started: ["新的一天", "Day started"], hall_configured: ["大厅设置变更", "Hall settings changed"],
    service_defined: ["业务设置变更", "Service defined"], service_removed: ["删除业务", "Service removed"],
    window_defined: ["窗口设置或分配变更", "Window or assignment changed"], window_removed: ["删除窗口", "Window removed"],
    ticket_issued: ["取号", "Ticket issued"], ticket_called: ["叫号", "Called"], ticket_finished: ["办结", "Finished"],
    ticket_no_show: ["过号", "No-show"], ticket_transferred: ["转移", "Transferred"], window_opened: ["开窗", "Window opened"],
    window_closed: ["关窗", "Window closed"], window_paused: ["暂停", "Paused"], window_resumed: ["恢复", "Resumed"],
    ticket_rated: ["群众评价", "Citizen rating"],
    case_opened: ["差评工单生成", "Case opened"], case_called_back: ["工单回访", "Case called back"],
    case_fixed: ["工单整改", "Case fixed"], case_closed: ["工单办结", "Case closed"],
    user_created: ["新增用户", "User created"], user_disabled: ["停用用户", "User disabled"],
    token_created: ["新增设备令牌", "Token created"], token_revoked: ["吊销设备令牌", "Token revoked"],
  };

  const PROBLEM_KINDS = { printer: ["打印机", "Printer"], display: ["显示", "Display"], audio: ["音响", "Audio"], other: ["其他", "Other"] };

  const svcName = (code) => {
    const s = hall && hall.services.find((x) => x.code === code);
    return s ? t(s.name_zh, s.name_en) : code;
  };
  const pair = (a) => t(a[0], a[1]);
  const fmt = (x, unit) => (x === null || x === undefined) ? "—" : String(x) + (unit || "");

  function actorLabel(actor) {
    const m = /^([a-z]+):(.*?)(?:@(\d+))?(?:#(\d+))?$/.exec(actor || "");
    if (!m) {
      if (actor === "clock") return t("系统时钟", "clock");
      if (actor === "hall-file") return t("大厅配置文件", "hall file");
      if (/^citizen@\d+$/.test(actor)) return t("群众（" + actor.slice(8) + "号窗口评价器）", "citizen (window " + actor.slice(8) + " tablet)");
      return actor;
    }
    const role = JH.ROLES[m[1]] || [m[1], m[1]];
    const frag = document.createDocumentFragment();
    frag.append(m[2], " ");
    const extra = [role[0], role[1]];
    if (m[3]) { extra[0] += "，" + m[3] + "号窗口"; extra[1] += ", window " + m[3]; }
    if (m[4]) { extra[0] += "，令牌#" + m[4]; extra[1] += ", token #" + m[4]; }
    frag.append(el("span", { class: "muted" }, "（", t(extra[0], extra[1]), "）"));
    return frag;
  }

  // ----- tabs -----
  function show(tab) {
    current = tab;
    document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.getAttribute("data-tab") === tab));
    document.querySelectorAll("main > section").forEach((s) => { s.hidden = s.id !== "tab-" + tab; });
    if (location.hash !== "#" + tab) history.replaceState(null, "", "#" + tab);
    if (tab === "live") syncClock();
    ({ live: renderLive, services: renderServices, windows: renderWindows, notices: renderNotices, calendar: renderCalendar, bookings: renderBookings,
      people: renderPeople, cases: renderCases, reports: renderReports, audit: renderAudit })[tab]();
  }
  document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => show(b.getAttribute("data-tab"))));

  async function start() {
    me = await JH.me("/admin");
    if (!me) return;
    const role = JH.ROLES[me.role] || [me.role, me.role];
    clear($("#who")).append(me.name, " · ", pair(role));
    const answer = await api("GET", "/api/hall");
    if (answer.ok) hall = answer.data;
    await refreshAdviceNow();
    live((view) => {
      hall = view;
      refreshAdvice();
      if (current === "live") renderLive();
      if (current === "windows") renderWindows(true);
    }, (name) => { if (name === "ticket_finished" || name === "window_changed") refreshToday(); });
    await refreshTodayNow();
    await refreshHubState();
    const tab = location.hash.slice(1);
    show(["live", "services", "windows", "notices", "calendar", "bookings", "people", "cases", "reports", "audit"].includes(tab) ? tab : "live");
  }

  // Two hubs in a hall: say when this hub is a standby (read-only), was taken over, or runs
  // alone because no standby acknowledges its changes (GET /api/health).
  async function refreshHubState() {
    const answer = await api("GET", "/api/health");
    const box = $("#hubstate");
    if (!answer.ok || !box) return;
    const h = answer.data;
    let words = null;
    if (h.role === "standby") {
      words = t("本机是备用中心机，只读；主中心机：" + h.primary + "，落后 " + fmt(h.lag) + " 条记录",
        "This is the standby hub, read-only; primary: " + h.primary + ", " + fmt(h.lag) + " records behind");
    } else if (h.role === "fenced") {
      words = t("本机已被接替，不再接受操作；请按说明把它重新加入为备用中心机",
        "This hub was taken over and takes no changes; rejoin it as a standby (see the README)");
    } else if (h.alone) {
      words = t("备用中心机未确认：本机单独运行，主机磁盘损坏会丢失最近的号票",
        "No standby acknowledges: this hub runs alone; losing its disk would lose the latest tickets");
    }
    box.hidden = !words;
    clear(box);
    if (words) box.append(words);
  }
  setInterval(refreshHubState, 10000);
  // The hall's time, read again when the live hall is shown (it judges handling times).
  async function syncClock() {
    const answer = await api("GET", "/api/hall");
    if (!answer.ok) return;
    hall = answer.data;
    if (answer.data.clock) JH.clock.sync(answer.data.clock.now, answer.data.clock.speed);
    if (current === "live") renderLive();
  }

  async function refreshTodayNow() {
    const answer = await api("GET", "/api/reports");
    if (answer.ok) todayReport = answer.data;
    if (current === "live") renderLive();
  }
  const refreshToday = debounce(refreshTodayNow, 2000);
  setInterval(refreshTodayNow, 60000);

  // The load-balancing advice (GET /api/advice): asked again when the hall changes, at most
  // every few seconds, and every half minute as the projection moves with the clock.
  async function refreshAdviceNow() {
    const answer = await api("GET", "/api/advice");
    advice = answer.ok ? answer.data : null;
    if (current === "live") renderLive();
  }
  const refreshAdvice = debounce(refreshAdviceNow, 3000);
  setInterval(refreshAdviceNow, 30000);

  async function applyAdvice(s, button) {
    const w = hall && hall.windows.find((x) => x.number === s.window);
    if (!w) return;
    if (w.services.includes(s.add_service)) { refreshAdviceNow(); return; }
    button.disabled = true;
    // The suggestion says the whole new list, primary first (it may drop a service when the
    // window would serve more than the advice allows).
    const services = s.services_after;
    const answer = await api("PUT", "/api/windows/" + w.number + "/services", { services });
    if (answer.ok) {
      toast([w.number + "号窗口已增办" + s.service_name_zh, "Window " + w.number + " now also takes " + s.service_name_en]);
      delete drafts[w.number];
    } else {
      button.disabled = false;
    }
    await refreshAdviceNow();
  }

  function renderAdvice() {
    const suggestions = (advice && advice.suggestions) || [];
    const body = suggestions.length === 0
      ? el("p", { class: "muted", id: "advice-none" }, t("各业务预计等待均在时限内，暂无调度建议。", "Every service's projected wait is within its target: no advice."))
      : el("ul", { class: "advice-list" }, suggestions.map((s) => {
        const apply = el("button", { class: "btn", type: "button", "data-window": s.window, "data-service": s.add_service },
          t("一键采纳", "Apply"));
        apply.addEventListener("click", () => applyAdvice(s, apply));
        return el("li", { class: "advice", "data-window": s.window, "data-service": s.add_service },
          el("span", {}, t(s.text_zh, s.text_en)), " ", admin() ? apply : null);
      }));
    return el("div", { class: "card", id: "advice" }, el("h2", {}, t("调度建议", "Advice")), body);
  }

  // ----- live hall -----
  function heat(s) {
    if (!s.waiting) return ["cold", ["空闲", "Idle"]];
    if (s.estimated_wait_min === null) return ["hot", ["无窗口办理", "No window serving"]];
    const ratio = s.estimated_wait_min / s.wait_target_min;
    if (ratio >= 1) return ["hot", ["超过时限", "Over target"]];
    if (ratio >= 0.7) return ["warm", ["接近时限", "Near target"]];
    return ["", ["正常", "Normal"]];
  }

  function renderLive() {
    const box = clear($("#tab-live"));
    if (!hall) return;
    const services = el("table", { id: "live-services" },
      el("thead", {}, el("tr", {},
        el("th", {}, t("业务", "Service")), el("th", { class: "n" }, t("等候人数", "Waiting")),
        el("th", { class: "n" }, t("新号预计等待", "Projected wait")), el("th", { class: "n" }, t("等候时限", "Wait target")),
        el("th", { class: "n" }, t("今日取号", "Issued today")), el("th", {}, t("状态", "State")))),
      el("tbody", {}, hall.services.map((s) => {
        const [level, words] = heat(s);
        return el("tr", { class: "heat " + level, "data-service": s.code },
          el("td", {}, el("strong", {}, s.prefix), " ", t(s.name_zh, s.name_en)),
          el("td", { class: "n num" }, s.waiting),
          el("td", { class: "n num" }, s.estimated_wait_min === null ? "—" : t(s.estimated_wait_min + " 分钟", s.estimated_wait_min + " min")),
          el("td", { class: "n" }, t(s.wait_target_min + " 分钟", s.wait_target_min + " min")),
          el("td", { class: "n num" }, s.issued_today),
          el("td", {}, el("span", { class: "badge " + (level === "hot" ? "red" : level === "warm" ? "amber" : level === "cold" ? "grey" : "blue") }, pair(words)),
            s.available ? null : el("span", { class: "badge grey" }, t("停止取号", "Not issuing"))));
      })));
    const busy = {};
    for (const row of (todayReport ? todayReport.windows : [])) busy[row.key] = row;
    const windows = el("div", { class: "windows-grid", id: "live-windows" }, hall.windows.map((w) => {
      const state = JH.STATES[w.state] || [w.state, w.state];
      const share = busy[String(w.number)];
      return el("div", { class: "wcard " + w.state, "data-window": w.number },
        el("div", { class: "wname" }, t(w.name_zh, w.name_en)),
        el("div", {}, pair(state), w.pause_reason ? el("span", { class: "muted" }, "（", pair(JH.PAUSE[w.pause_reason] || [w.pause_reason, w.pause_reason]), "）") : null),
        el("div", { class: "num" }, w.current_ticket ? w.current_ticket : "—"),
        el("div", { class: "muted" }, t("可叫 " + w.waiting + " 人", w.waiting + " can be called")),
        el("div", { class: "muted" }, t("今日忙碌 ", "Busy today "), share && share.busy_pct !== null ? share.busy_pct + "%" : "—"));
    }));
    box.append(el("div", { class: "card" }, el("h2", {}, t("各业务等候（冷热）", "Waiting per service (hot and cold)")), services));
    // The advice sits right under the queues it is about.
    if (advice) box.append(renderAdvice());
    box.append(el("div", { class: "card" }, el("h2", {}, t("各窗口状态", "Windows")), windows));
    box.append(renderOverLimit());
  }

  // The tickets being handled longer than their service's time limit (限时办结) right now.
  function renderOverLimit() {
    const now = JH.clock.now();
    const rows = hall.windows.filter((w) => w.state === "serving" && w.current_service).map((w) => {
      const s = hall.services.find((x) => x.code === w.current_service);
      const minutes = Math.floor((now - Date.parse(w.state_since)) / 60000);
      return { w, s, minutes };
    }).filter((r) => r.s && r.minutes >= r.s.handling_target_min);
    return el("div", { class: "card", id: "over-limit" }, el("h2", {}, t("超时办理（当前）", "Over the time limit now")),
      rows.length
        ? el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, t("窗口", "Window")), el("th", {}, t("号码", "Number")),
            el("th", {}, t("业务", "Service")), el("th", { class: "n" }, t("已办理", "Handling")), el("th", { class: "n" }, t("时限", "Limit")))),
          el("tbody", {}, rows.map((r) => el("tr", { "data-window": r.w.number },
            el("td", {}, t(r.w.name_zh, r.w.name_en)), el("td", { class: "num" }, r.w.current_ticket),
            el("td", {}, t(r.s.name_zh, r.s.name_en)),
            el("td", { class: "n num" }, el("span", { class: "badge red" }, t(r.minutes + " 分钟", r.minutes + " min"))),
            el("td", { class: "n" }, t(r.s.handling_target_min + " 分钟", r.s.handling_target_min + " min"))))))
        : el("p", { class: "muted" }, t("目前没有超时办理的号。", "No ticket is over its time limit now.")));
  }

  // ----- services -----
  function renderServices() {
    const box = clear($("#tab-services"));
    if (!hall) return;
    const table = el("table", {}, el("thead", {}, el("tr", {},
      el("th", {}, t("字母", "Prefix")), el("th", {}, t("代码", "Code")), el("th", {}, t("名称", "Name")),
      el("th", { class: "n" }, t("等候时限", "Wait target")), el("th", { class: "n" }, t("办结时限", "Handling target")),
      el("th", { class: "n" }, t("每日限号", "Daily cap")), el("th", {}, t("取号时间", "Hours")),
      el("th", {}, t("启用", "Enabled")), el("th", {}, t("身份证", "ID")), el("th", {}))),
      el("tbody", {}, hall.services.map((s) => el("tr", {},
        el("td", { class: "num" }, s.prefix), el("td", {}, s.code), el("td", {}, t(s.name_zh, s.name_en)),
        el("td", { class: "n" }, s.wait_target_min), el("td", { class: "n" }, s.handling_target_min),
        el("td", { class: "n" }, fmt(s.daily_cap)), el("td", {}, s.hours ? s.hours.join("–") : t("全天", "all day")),
        el("td", {}, s.enabled ? t("是", "yes") : el("span", { class: "badge red" }, t("停用", "disabled"))),
        el("td", { "data-identity": s.code }, s.identity === "required" ? el("span", { class: "badge blue" }, t("必须", "required")) : "—"),
        el("td", {}, admin() ? el("button", { class: "btn small secondary", type: "button", onclick: () => editService(s) }, t("编辑", "Edit")) : null)))));
    box.append(el("div", { class: "card" }, el("h2", {}, t("业务", "Services")), table,
      admin() ? el("p", {}, el("button", { class: "btn", type: "button", onclick: () => editService(null) }, t("新增业务", "Add a service"))) : null),
      el("div", { id: "service-editor" }));
  }

  function field(id, labelZh, labelEn, input, cls) {
    input.id = id;
    return el("div", { class: cls || "" }, el("label", { for: id }, t(labelZh, labelEn)), input);
  }

  function editService(s) {
    const v = s || { code: "", name_zh: "", name_en: "", prefix: "", wait_target_min: 20, handling_target_min: 15,
      handling_estimate_min: 8, daily_cap: null, hours: null, documents_zh: [], documents_en: [], fee_note_zh: "", fee_note_en: "", enabled: true };
    const input = (value, attrs) => el("input", Object.assign({ value: value === null ? "" : value }, attrs || {}));
    const f = {
      code: input(v.code, s ? { readonly: true } : { required: true, pattern: "[a-z][a-z0-9_]*" }),
      prefix: input(v.prefix, { required: true, maxlength: 1 }),
      name_zh: input(v.name_zh, { required: true }), name_en: input(v.name_en, { required: true }),
      wait: input(v.wait_target_min, { type: "number", min: 1, max: 1440 }),
      handling: input(v.handling_target_min, { type: "number", min: 1, max: 1440 }),
      estimate: input(v.handling_estimate_min, { type: "number", min: 1, max: 1440 }),
      cap: input(v.daily_cap, { type: "number", min: 1 }),
      opens: input(v.hours ? v.hours[0] : "", { type: "time" }), closes: input(v.hours ? v.hours[1] : "", { type: "time" }),
      docs_zh: el("textarea", { rows: 5 }, v.documents_zh.join("\n")), docs_en: el("textarea", { rows: 5 }, v.documents_en.join("\n")),
      fee_zh: input(v.fee_note_zh), fee_en: input(v.fee_note_en),
      enabled: el("select", {}, el("option", { value: "true" }, "启用 enabled"), el("option", { value: "false" }, "停用 disabled")),
      identity: el("input", { type: "checkbox", checked: v.identity === "required" }),
    };
    f.enabled.value = String(v.enabled);
    const lines = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
    const form = el("form", { class: "card" },
      el("h2", {}, s ? t("编辑业务 " + s.name_zh, "Edit " + s.name_en) : t("新增业务", "Add a service")),
      el("div", { class: "form-grid" },
        field("svc-code", "代码（英文小写）", "Code (a–z, 0–9, _)", f.code), field("svc-prefix", "号码字母", "Ticket letter", f.prefix),
        field("svc-name-zh", "中文名称", "Chinese name", f.name_zh), field("svc-name-en", "英文名称", "English name", f.name_en),
        field("svc-wait", "等候时限（分钟）", "Wait target (min)", f.wait), field("svc-handling", "办结时限（分钟）", "Handling target (min)", f.handling),
        field("svc-estimate", "预计办理（分钟）", "Expected handling (min)", f.estimate), field("svc-cap", "每日限号（空为不限）", "Daily cap (empty: none)", f.cap),
        field("svc-opens", "开始取号", "Issuing from", f.opens), field("svc-closes", "停止取号", "Issuing until", f.closes),
        field("svc-enabled", "状态", "State", f.enabled),
        field("svc-identity", "必须身份证（每人每天每项业务一号）", "ID required (one ticket per person a day)", f.identity, "check"),
        field("svc-docs-zh", "所需材料（中文，每行一项）", "Documents (Chinese, one a line)", f.docs_zh, "wide"),
        field("svc-docs-en", "所需材料（英文，每行一项）", "Documents (English, one a line)", f.docs_en, "wide"),
        field("svc-fee-zh", "收费说明（中文）", "Fee note (Chinese)", f.fee_zh, "wide"), field("svc-fee-en", "收费说明（英文）", "Fee note (English)", f.fee_en, "wide")),
      el("p", {}, el("button", { class: "btn", type: "submit" }, t("保存", "Save"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        code: f.code.value.trim(), name_zh: f.name_zh.value.trim(), name_en: f.name_en.value.trim(), prefix: f.prefix.value.trim().toUpperCase(),
        wait_target_min: Number(f.wait.value), handling_target_min: Number(f.handling.value), handling_estimate_min: Number(f.estimate.value),
        daily_cap: f.cap.value ? Number(f.cap.value) : null,
        hours: f.opens.value && f.closes.value ? [f.opens.value, f.closes.value] : null,
        documents_zh: lines(f.docs_zh.value), documents_en: lines(f.docs_en.value),
        fee_note_zh: f.fee_zh.value, fee_note_en: f.fee_en.value, enabled: f.enabled.value === "true",
        identity: f.identity.checked ? "required" : "none",
      };
      const answer = s ? await api("PUT", "/api/services/" + s.code, body) : await api("POST", "/api/services", body);
      if (!answer.ok) return toast(answer.message, "error");
      toast(["业务已保存。", "Service saved."]);
      setTimeout(async () => {
        const fresh = await api("GET", "/api/hall");
        if (fresh.ok) hall = fresh.data;
        renderServices();
      }, 300);
    });
    clear($("#service-editor")).append(form);
    f.name_zh.focus();
  }

  // ----- windows and the assignment editor -----
  let lastChanges = {};
  async function loadChanges() {
    const answer = await api("GET", "/api/audit?flagged=true&limit=500");
    lastChanges = {};
    if (answer.ok) for (const e of answer.data.entries) {
      if (e.kind === "window_defined" && e.window && !lastChanges[e.window]) lastChanges[e.window] = e;
    }
  }

  // Rating pads (评价器): a one-time code per window, typed on the tablet's /rate page.
  let pads = [];
  const codes = {}; // window number → the code shown
  async function loadPads() {
    const answer = admin() ? await api("GET", "/api/rating-pads") : null;
    pads = answer && answer.ok ? answer.data : [];
  }
  async function pairingCode(w) {
    const answer = await api("POST", "/api/windows/" + w.number + "/pairing");
    if (!answer.ok) return toast(answer.message, "error");
    codes[w.number] = answer.data;
    renderWindows(true);
  }
  async function unpair(pad) {
    const answer = await api("DELETE", "/api/rating-pads/" + pad.id);
    if (!answer.ok) return toast(answer.message, "error");
    toast(["已解除配对：" + pad.name, "Unpaired: " + pad.name]);
    await loadPads();
    renderWindows(true);
  }
  function padsCard() {
    const rows = hall.windows.map((w) => {
      const code = codes[w.number];
      const mine = pads.filter((p) => p.window === w.number);
      return el("tr", { "data-window": w.number },
        el("td", {}, el("strong", {}, t(w.name_zh, w.name_en))),
        el("td", {}, mine.length ? mine.map((p) => el("div", { class: "pad", "data-pad": p.id },
          p.name, " ", el("span", { class: "muted" }, p.created_at.slice(0, 16).replace("T", " ")), " ",
          el("button", { class: "btn small secondary", type: "button", "data-unpair": p.id, onclick: () => unpair(p) }, t("解除配对", "Unpair"))))
          : el("span", { class: "muted" }, t("未配对", "not paired"))),
        el("td", {}, el("button", { class: "btn small", type: "button", id: "pair-" + w.number, onclick: () => pairingCode(w) }, t("生成配对码", "Pairing code")),
          code ? el("div", { class: "pairing-code", id: "pairing-code-" + w.number },
            el("strong", { class: "code" }, code.code), " ",
            el("span", { class: "muted" }, t("在评价器上打开 /rate 输入，" + hhmm(code.expires_at) + " 前有效",
              "open /rate on the tablet and type it; valid until " + hhmm(code.expires_at)))) : null));
    });
    return el("div", { class: "card", id: "rating-pads" },
      el("h2", {}, t("评价器配对", "Rating pads")),
      el("p", { class: "muted" }, t("每台评价器只为一个窗口评价：生成配对码后在平板的 /rate 页面输入（10 分钟内有效，只能用一次）。未配对的页面不能评价。",
        "Each rating pad rates for one window: make a code and type it on the tablet's /rate page (valid 10 minutes, once). An unpaired page cannot rate.")),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, t("窗口", "Window")), el("th", {}, t("已配对的评价器", "Paired pads")), el("th", {}, ""))),
        el("tbody", {}, rows)));
  }

  async function renderWindows(live) {
    const box = $("#tab-windows");
    if (!hall) return;
    if (!live) await Promise.all([loadChanges(), loadPads()]);
    if (live && box.querySelector(".editing")) return; // do not disturb an edit in progress
    clear(box);
    const rows = hall.windows.map((w) => {
      const draft = drafts[w.number] || w.services.slice();
      const changed = JSON.stringify(draft) !== JSON.stringify(w.services);
      const chips = el("div", { class: "chips", id: "chips-" + w.number }, draft.map((code, i) => el("span", { class: "chip" + (i === 0 ? " primary" : ""), "data-service": code },
        i === 0 ? t("主 ", "primary ") : null, svcName(code),
        admin() && i > 0 ? el("button", { type: "button", title: "上移 Move up", onclick: () => { move(w, i, -1); } }, "↑") : null,
        admin() && i < draft.length - 1 ? el("button", { type: "button", title: "下移 Move down", onclick: () => { move(w, i, 1); } }, "↓") : null,
        admin() ? el("button", { type: "button", title: "移除 Remove", onclick: () => { edit(w, draft.filter((c) => c !== code)); } }, "✕") : null)));
      const add = el("select", { id: "add-" + w.number }, el("option", { value: "" }, "＋ 添加业务 · add a service"),
        hall.services.filter((s) => !draft.includes(s.code)).map((s) => el("option", { value: s.code }, s.name_zh + " · " + s.name_en)));
      add.addEventListener("change", () => { if (add.value) edit(w, draft.concat([add.value])); });
      const last = lastChanges[w.number];
      const state = JH.STATES[w.state] || [w.state, w.state];
      return el("tr", { class: changed ? "editing" : "", "data-window": w.number },
        el("td", {}, el("strong", {}, t(w.name_zh, w.name_en))),
        el("td", {}, pair(state)),
        el("td", {}, chips, admin() ? el("div", { class: "toolbar" }, add,
          el("button", { class: "btn small", type: "button", id: "save-" + w.number, disabled: !changed, onclick: () => saveAssignment(w) }, t("保存", "Save")),
          changed ? el("button", { class: "btn small secondary", type: "button", onclick: () => { delete drafts[w.number]; renderWindows(); } }, t("撤销", "Undo")) : null) : null),
        el("td", { class: "muted" }, last ? [hhmm(last.at), " ", actorLabel(last.actor)] : "—"));
    });
    box.append(el("div", { class: "card" },
      el("h2", {}, t("窗口与业务分配", "Windows and their services")),
      el("p", { class: "muted" }, t("第一项为主办业务。修改在该窗口下一次叫号时生效，无需重启；每次修改都记录操作人和时间。",
        "The first service is the window's primary one. A change applies to the window's next call without a restart, and is recorded with who and when.")),
      el("table", {}, el("thead", {}, el("tr", {}, el("th", {}, t("窗口", "Window")), el("th", {}, t("状态", "State")),
        el("th", {}, t("办理业务（主办在前）", "Services (primary first)")), el("th", {}, t("最近修改", "Last change")))),
      el("tbody", {}, rows))));
    if (admin()) box.append(padsCard());
  }

  function edit(w, services) { drafts[w.number] = services; renderWindows(); }
  function move(w, i, by) {
    const list = (drafts[w.number] || w.services).slice();
    const [item] = list.splice(i, 1);
    list.splice(i + by, 0, item);
    edit(w, list);
  }
  async function saveAssignment(w) {
    const answer = await api("PUT", "/api/windows/" + w.number + "/services", { services: drafts[w.number] || w.services });
    if (!answer.ok) return toast(answer.message, "error");
    delete drafts[w.number];
    const i = hall.windows.findIndex((x) => x.number === w.number);
    if (i >= 0) hall.windows[i] = answer.data;
    toast(["已保存，" + w.number + " 号窗口下一次叫号起生效。", "Saved: window " + w.number + " calls by it from its next call."]);
    renderWindows();
  }

  // ----- notices -----
  function renderNotices() {
    const box = clear($("#tab-notices"));
    if (!hall) return;
    const zh = el("textarea", { id: "notices-zh", rows: 8 }, hall.notices_zh.join("\n"));
    const en = el("textarea", { id: "notices-en", rows: 8 }, hall.notices_en.join("\n"));
    const form = el("form", { class: "card" },
      el("h2", {}, t("警务公开（综合屏公告）", "Public notices (wall display)")),
      el("p", { class: "muted" }, t("每行一条：服务热线、收费标准、办公时间等。", "One notice a line: hotline, fees, opening hours, …")),
      el("div", { class: "grid2" }, field("nz", "中文公告", "Chinese notices", zh), field("ne", "英文公告", "English notices", en)),
      el("p", {}, el("button", { class: "btn", type: "submit", id: "save-notices" }, t("保存公告", "Save notices"))));
    const lines = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const answer = await api("PUT", "/api/hall/notices", { notices_zh: lines(zh.value), notices_en: lines(en.value) });
      if (!answer.ok) return toast(answer.message, "error");
      toast(["公告已保存，综合屏将立即显示。", "Notices saved; the wall display shows them now."]);
    });
    box.append(form);
  }

  // ----- the hall calendar (工作日历) -----
  const WEEKDAYS = [["monday", "星期一", "Monday"], ["tuesday", "星期二", "Tuesday"], ["wednesday", "星期三", "Wednesday"],
    ["thursday", "星期四", "Thursday"], ["friday", "星期五", "Friday"], ["saturday", "星期六", "Saturday"], ["sunday", "星期日", "Sunday"]];
  async function renderCalendar() {
    const box = clear($("#tab-calendar"));
    const answer = await api("GET", "/api/calendar");
    if (!answer.ok) return toast(answer.message, "error");
    const calendar = answer.data;
    const days = WEEKDAYS.map(([key, zh, en]) => {
      const input = el("input", { type: "checkbox", id: "weekday-" + key, checked: calendar.working_weekdays.includes(key) });
      return { key, input, label: el("label", { class: "check" }, input, " ", t(zh, en)) };
    });
    const holidays = el("textarea", { id: "calendar-holidays", rows: 10 }, calendar.holidays.join("\n"));
    const working = el("textarea", { id: "calendar-working-days", rows: 10 }, calendar.working_days.join("\n"));
    const today = hall && !hall.open_today
      ? el("p", { class: "notice error" }, t("今日不办公", "The hall is closed today"),
          hall.next_opening ? [" · ", t("下次办公：", "Next opening: "), hall.next_opening.date, " ", hall.next_opening.time] : [])
      : null;
    const form = el("form", { class: "card" },
      el("h2", {}, t("工作日历", "Hall calendar")),
      el("p", { class: "muted" }, t("办公日不办公的日子不取号。法定节假日不办公；调休上班日即使是周末也照常办公。日期每行一个，格式 2026-10-01。",
        "No tickets are issued on a closed day. Public holidays are closed; working days that replace them (调休) are open even on a weekend. One date a line, as 2026-10-01.")),
      today,
      el("fieldset", {}, el("legend", {}, t("每周办公日", "Working weekdays")), days.map((d) => d.label)),
      el("div", { class: "grid2" },
        field("calendar-holidays", "法定节假日（不办公）", "Public holidays (closed)", holidays),
        field("calendar-working-days", "调休上班日（照常办公）", "Working days instead (open)", working)),
      el("p", {}, el("button", { class: "btn", type: "submit", id: "save-calendar" }, t("保存工作日历", "Save the calendar"))));
    const lines = (text) => text.split("\n").map((x) => x.trim()).filter(Boolean);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = {
        working_weekdays: days.filter((d) => d.input.checked).map((d) => d.key),
        holidays: lines(holidays.value),
        working_days: lines(working.value),
      };
      const saved = await api("PUT", "/api/calendar", body);
      if (!saved.ok) return toast(saved.message, "error");
      toast(["工作日历已保存，取号机与综合屏立即按新日历显示。", "Calendar saved; the kiosks and displays follow it now."]);
      renderCalendar();
    });
    box.append(form);
    box.append(await renderRota());
  }

  // The rota (排班): per window and weekday, the times the window is expected open, written
  // as "08:30-12:00, 13:30-17:30"; it applies on the calendar's open days.
  async function renderRota() {
    const answer = await api("GET", "/api/rota");
    if (!answer.ok) return el("p", { class: "muted" }, answer.message);
    const cells = {};
    for (const s of answer.data.shifts) {
      const key = s.window + "-" + s.weekday;
      cells[key] = (cells[key] ? cells[key] + ", " : "") + s.from + "-" + s.to;
    }
    const inputs = [];
    const rows = (hall ? hall.windows : []).map((w) => el("tr", { "data-window": w.number },
      el("td", {}, t(w.name_zh, w.name_en)),
      WEEKDAYS.map(([key]) => {
        const input = el("input", { id: "rota-" + w.number + "-" + key, class: "rota-cell", value: cells[w.number + "-" + key] || "",
          placeholder: "—", autocomplete: "off", disabled: !admin() });
        inputs.push({ window: w.number, weekday: key, input });
        return el("td", {}, input);
      })));
    const form = el("form", { class: "card", id: "rota" },
      el("h2", {}, t("排班", "Rota")),
      el("p", { class: "muted" }, t("每个窗口每个工作日应开窗的时段，如 08:30-12:00, 13:30-17:30；按工作日历的办公日执行（调休上班日无排班时按周一）。报表据此统计迟开、早关和无正当理由的离岗时间。",
        "When each window is expected open on each weekday, such as 08:30-12:00, 13:30-17:30; applies on the calendar's open days (a 调休 working day without its own shifts takes Monday's). Reports count late openings, early closings and unexplained absences against it.")),
      el("div", { class: "scroll" }, el("table", { id: "rota-table" },
        el("thead", {}, el("tr", {}, el("th", {}, t("窗口", "Window")), WEEKDAYS.map(([, zh, en]) => el("th", {}, t(zh, en))))),
        el("tbody", {}, rows))),
      admin() ? el("p", {}, el("button", { class: "btn", type: "submit", id: "save-rota" }, t("保存排班", "Save the rota"))) : null);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const shifts = [];
      for (const { window, weekday, input } of inputs) {
        for (const part of input.value.split(/[,，;；\s]+/).filter(Boolean)) {
          const m = part.match(/^(\d{1,2}:\d{2})[-–~～](\d{1,2}:\d{2})$/);
          if (!m) return toast(["无法识别的时段：" + part + "（格式 08:30-12:00）", "Cannot read the times: " + part + " (as 08:30-12:00)"], "error");
          const pad = (x) => x.padStart(5, "0");
          shifts.push({ window, weekday, from: pad(m[1]), to: pad(m[2]) });
        }
      }
      const saved = await api("PUT", "/api/rota", { shifts });
      if (!saved.ok) return toast(saved.message, "error");
      toast(["排班已保存。", "Rota saved."]);
      renderCalendar();
    });
    return form;
  }

  // ----- bookings (预约): settings per service and a day's bookings -----
  const BOOKING_STATES = {
    booked: ["待验证", "Not verified"], lapsed: ["已失效", "Lapsed"], verified: ["已预约", "Booked"],
    cancelled: ["已取消", "Cancelled"], checked_in: ["已签到", "Checked in"], served: ["已办结", "Served"], no_show: ["未到", "No-show"],
  };
  let bookingDate = null;

  /** The slots of a service's day: `slot` minutes from its opening, as the hub counts them. */
  function slotStarts(service, slot) {
    if (!service.hours) return [];
    const minutes = (text) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
    const starts = [];
    for (let start = minutes(service.hours[0]); start + slot <= minutes(service.hours[1]); start += slot) {
      starts.push(String(Math.floor(start / 60)).padStart(2, "0") + ":" + String(start % 60).padStart(2, "0"));
    }
    return starts;
  }

  /** `share` per cent of the daily cap spread evenly over `count` slots, earlier slots taking the remainder (as the hub does). */
  function byShare(cap, share, count) {
    const booked = Math.floor(cap * Math.min(share, 100) / 100);
    return Array.from({ length: count }, (_, i) => Math.floor(booked / count) + (i < booked % count ? 1 : 0));
  }

  /** The editor of one service's booking settings: every setting, the places per slot as a grid. */
  function editBooking(service, settings, defaultShare) {
    const number = (id, value, min, max) => el("input", { type: "number", id, min: String(min), max: String(max), value: String(value) });
    const current = settings || { slot_min: 30, capacities: null, days_ahead: 5, cancel_before_min: 120, check_in_before_min: 30, check_in_after_min: 15 };
    const slot = el("select", { id: "bk-slot" },
      el("option", { value: "30", selected: current.slot_min === 30 }, "30 分钟 min"),
      el("option", { value: "60", selected: current.slot_min === 60 }, "60 分钟 min"));
    const days = number("bk-days", current.days_ahead, 1, 5);
    const cancel = number("bk-cancel", current.cancel_before_min, 0, 1440);
    const before = number("bk-checkin-before", current.check_in_before_min, 0, 1440);
    const after = number("bk-checkin-after", current.check_in_after_min, 0, 1440);
    const share = number("bk-share", defaultShare, 0, 100);
    const grid = el("div", { class: "capacity-grid", id: "bk-grid" });
    const total = el("p", { class: "muted", id: "bk-total" });
    const cap = service.daily_cap;
    const places = () => Array.from(grid.querySelectorAll("input")).map((x) => Number(x.value) || 0);
    const showTotal = () => {
      const sum = places().reduce((a, b) => a + b, 0);
      clear(total).append(t("预约名额合计 " + sum + "，每日上限 " + fmt(cap) + "，现场取号 " + (cap ? Math.max(cap - sum, 0) : "不限"),
        "Booked places " + sum + " of a daily cap of " + fmt(cap) + "; walk-ins get " + (cap ? Math.max(cap - sum, 0) : "the rest")));
    };
    const fill = (capacities) => {
      clear(grid);
      slotStarts(service, Number(slot.value)).forEach((start, i) => {
        const input = el("input", { type: "number", min: "0", max: "10000", value: String(capacities[i] || 0), "data-slot": start,
          id: "bk-cap-" + i, "aria-label": start });
        input.addEventListener("input", showTotal);
        grid.append(el("div", {}, el("label", { for: input.id, class: "num" }, start), input));
      });
      showTotal();
    };
    const fillByShare = () => fill(byShare(cap || 0, Number(share.value) || 0, slotStarts(service, Number(slot.value)).length));
    if (current.capacities && current.capacities.length === slotStarts(service, current.slot_min).length) fill(current.capacities);
    else fillByShare();
    slot.addEventListener("change", fillByShare);
    const form = el("form", { class: "card", id: "booking-form", "data-service": service.code },
      el("h2", {}, t("预约设置：" + service.name_zh, "Booking settings: " + service.name_en)),
      el("div", { class: "form-grid" },
        field("bk-slot", "时段长度", "Slot length", slot), field("bk-days", "可提前预约（工作日）", "Book ahead (working days)", days),
        field("bk-cancel", "开始前多少分钟停止取消", "Cancelling closes (min before)", cancel), el("div"),
        field("bk-checkin-before", "签到开放（开始前分钟）", "Check-in opens (min before start)", before),
        field("bk-checkin-after", "签到截止（开始后分钟）", "Check-in closes (min after start)", after)),
      el("h3", {}, t("每个时段的预约名额", "Places per slot")),
      el("div", {}, el("label", { for: "bk-share" }, t("按每日上限的百分比分配", "Share of the daily cap (%)")),
        el("div", { class: "inline-row" }, share,
          el("button", { class: "btn small secondary", type: "button", id: "bk-fill", onclick: fillByShare, disabled: !cap },
            t("按比例填入", "Fill by share")))),
      grid, total,
      el("p", {}, el("button", { class: "btn", type: "submit", id: "bk-save" }, t("保存", "Save")), " ",
        el("button", { class: "btn secondary", type: "button", onclick: () => clear($("#booking-editor")) }, t("取消", "Cancel"))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      // The whole settings, so nothing the admin did not touch changes.
      const body = { slot_min: Number(slot.value), capacities: places(), days_ahead: Number(days.value),
        cancel_before_min: Number(cancel.value), check_in_before_min: Number(before.value), check_in_after_min: Number(after.value) };
      const answer = await api("PUT", "/api/services/" + encodeURIComponent(service.code) + "/booking", body);
      if (!answer.ok) return toast(answer.message, "error");
      toast(["预约设置已保存。", "Booking settings saved."]);
      renderBookings();
    });
    clear($("#booking-editor")).append(form);
    form.scrollIntoView();
  }

  /** The hall's default booked share: the places of a service switched on without its own. */
  function bookingShareCard(settings, isAdmin) {
    const value = settings && settings.booking_share_pct !== undefined && settings.booking_share_pct !== null ? settings.booking_share_pct : 50;
    const share = el("input", { type: "number", id: "booking-share", min: "0", max: "100", style: "width:6em", value: String(value), disabled: !isAdmin });
    const save = isAdmin ? el("button", { class: "btn small", type: "button", id: "booking-share-save", onclick: async () => {
      const now = await api("GET", "/api/hall/settings");
      if (!now.ok) return toast(now.message, "error");
      const answer = await api("PUT", "/api/hall/settings", Object.assign(now.data, { booking_share_pct: Number(share.value) }));
      if (!answer.ok) return toast(answer.message, "error");
      toast(["默认预约比例已保存，对此后开通预约的业务生效。", "Saved; it applies to services opened for bookings from now on."]);
      renderBookings();
    } }, t("保存", "Save")) : null;
    return el("div", {}, el("label", { for: "booking-share" }, t("默认预约比例（每日上限的百分比）", "Default booked share (% of the daily cap)")),
      el("div", { class: "inline-row" }, share, save));
  }

  let bookingsShown = 0; // the latest rendering of the tab: an older one still loading draws nothing
  async function renderBookings() {
    const mine = ++bookingsShown;
    const [services, hallSettings] = await Promise.all([api("GET", "/api/services"), api("GET", "/api/hall/settings")]);
    if (!services.ok) return toast(services.message, "error");
    const defaultShare = hallSettings.ok && hallSettings.data.booking_share_pct !== undefined ? hallSettings.data.booking_share_pct : 50;
    const rows = [];
    for (const service of services.data) {
      const answer = await api("GET", "/api/services/" + encodeURIComponent(service.code) + "/booking");
      rows.push({ service, settings: answer.ok ? answer.data : null });
    }
    const people = await api("GET", "/api/bookings/no-shows");
    if (mine !== bookingsShown) return;
    const box = clear($("#tab-bookings"));
    const isAdmin = me && me.role === "admin";
    const settingsTable = el("table", { id: "booking-settings" },
      el("thead", {}, el("tr", {}, el("th", {}, t("业务", "Service")), el("th", {}, t("时段", "Slot")),
        el("th", { class: "n" }, t("每日预约名额", "Booked places a day")), el("th", { class: "n" }, t("每日上限", "Daily cap")),
        el("th", {}, t("可预约天数", "Days ahead")), el("th", {}, t("取消截止", "Cancel until")),
        el("th", {}, t("签到时间", "Check-in")), el("th", {}, ""))),
      el("tbody", {}, rows.map(({ service, settings }) => {
        const edit = el("button", { class: "btn small", type: "button", "data-book-service": service.code,
          onclick: () => editBooking(service, settings, defaultShare) }, settings ? t("编辑", "Edit") : t("开通预约", "Take bookings"));
        const stop = settings ? el("button", { class: "btn danger small", type: "button", "data-stop-booking": service.code, onclick: async () => {
          const answer = await api("DELETE", "/api/services/" + encodeURIComponent(service.code) + "/booking");
          if (!answer.ok) return toast(answer.message, "error");
          renderBookings();
        } }, t("停止预约", "Stop bookings")) : null;
        const booked = settings ? settings.capacities.reduce((a, b) => a + b, 0) : 0;
        return el("tr", { "data-service": service.code },
          el("td", {}, t(service.name_zh, service.name_en)),
          el("td", {}, settings ? settings.slot_min + " min" : t("不接受预约", "No bookings")),
          el("td", { class: "n" }, settings ? String(booked) : "—"),
          el("td", { class: "n" }, service.daily_cap === null || service.daily_cap === undefined ? "—" : String(service.daily_cap)),
          el("td", {}, settings ? String(settings.days_ahead) : "—"),
          el("td", {}, settings ? t("开始前 " + settings.cancel_before_min + " 分钟", settings.cancel_before_min + " min before") : "—"),
          el("td", { class: "checkin" }, settings ? t("开始前 " + settings.check_in_before_min + " 分钟至开始后 " + settings.check_in_after_min + " 分钟",
            settings.check_in_before_min + " min before to " + settings.check_in_after_min + " min after the start") : "—"),
          el("td", {}, isAdmin && service.hours && service.daily_cap ? [edit, " ", stop] : null));
      })));
    const csv = el("a", { class: "btn secondary", id: "booking-csv", href: "#" }, t("导出 CSV", "Export CSV"));
    const date = el("input", { type: "date", id: "booking-date", value: bookingDate || (hall && hall.date) || "" });
    const list = el("div", { class: "scroll" });
    const load = async () => {
      bookingDate = date.value;
      csv.setAttribute("href", "/api/bookings.csv?date=" + encodeURIComponent(date.value));
      const answer = await api("GET", "/api/bookings?date=" + encodeURIComponent(date.value));
      clear(list);
      if (!answer.ok) return list.append(el("div", { class: "notice error" }, t(answer.message[0], answer.message[1])));
      const names = Object.fromEntries(services.data.map((s) => [s.code, [s.name_zh, s.name_en]]));
      const missed = answer.data.filter((b) => b.status === "no_show").length;
      list.append(
        el("p", { class: "muted" }, t("共 " + answer.data.length + " 个预约，未到 " + missed + " 个。",
          answer.data.length + " bookings, " + missed + " no-shows.")),
        el("table", { id: "booking-list" },
          el("thead", {}, el("tr", {}, ["预约号|Code", "业务|Service", "时段|Slot", "状态|Status", "身份证号|ID number", "号票|Ticket"]
            .map((h) => el("th", {}, t(h.split("|")[0], h.split("|")[1]))))),
          el("tbody", {}, answer.data.map((b) => {
            const state = BOOKING_STATES[b.status] || [b.status, b.status];
            const name = names[b.service] || [b.service, b.service];
            return el("tr", {}, el("td", { class: "num" }, b.code), el("td", {}, t(name[0], name[1])),
              el("td", { class: "num" }, b.start + "–" + b.end),
              el("td", {}, el("span", { class: "badge " + (b.status === "no_show" ? "red" : b.status === "verified" ? "blue" : "grey") }, t(state[0], state[1]))),
              el("td", { class: "num" }, b.masked_id), el("td", { class: "num" }, b.ticket || "—"));
          }))));
    };
    date.addEventListener("change", load);
    // The no-show list: who missed verified bookings within the hall's window, the barred first.
    const rules = await bookingRules();
    const within = rules.miss_window_days;
    const noShows = el("div", { class: "scroll", id: "no-shows" });
    if (!people.ok) noShows.append(el("div", { class: "notice error" }, t(people.message[0], people.message[1])));
    else if (!people.data.length) noShows.append(el("p", { class: "muted" }, t(within + " 天内没有预约未到的人。", "Nobody missed a booking in the last " + within + " days.")));
    else noShows.append(el("table", { id: "no-show-list" },
      el("thead", {}, el("tr", {}, ["身份证号|ID number", within + " 天内未到|Missed in " + within + " days", "最近未到|Last missed", "限制预约至|Barred until"]
        .map((h, i) => el("th", { class: i === 1 ? "n" : "" }, t(h.split("|")[0], h.split("|")[1]))))),
      el("tbody", {}, people.data.map((p) => el("tr", { "data-barred": p.barred_until ? "yes" : "no" },
        el("td", { class: "num" }, p.masked_id), el("td", { class: "n num" }, p.misses), el("td", { class: "num" }, p.last_missed),
        el("td", {}, p.barred_until ? el("span", { class: "badge red" }, p.barred_until) : "—"))))));
    box.append(
      el("div", { class: "card" }, el("h2", {}, t("预约设置", "Booking settings")),
        el("p", { class: "muted" }, t("预约名额从业务的每日上限中划出，其余留给现场取号。需先为业务设置办理时间和每日上限。开通预约时按默认比例计算各时段名额，之后可逐个时段修改。",
          "Booked places come out of the service's daily cap; walk-ins get the rest. A service needs hours and a daily cap first. Taking bookings fills the slots by the default share; each slot's places can then be edited.")),
        bookingShareCard(hallSettings.ok ? hallSettings.data : null, isAdmin),
        settingsTable),
      el("div", { id: "booking-editor" }),
      el("div", { class: "card" }, el("h2", {}, t("当日预约", "Bookings of a day")),
        el("div", { class: "toolbar" }, el("div", {}, el("label", { for: "booking-date" }, t("日期", "Date")), date), csv),
        list),
      el("div", { class: "card" }, el("h2", {}, t("未到名单", "No-show list")),
        el("p", { class: "muted", id: "no-show-rule" }, t("已验证的预约未签到即为未到；" + within + " 天内未到 " + rules.misses_to_bar + " 次，" + rules.bar_days + " 天内不能预约（仍可现场取号）。",
          "A verified booking not checked in is missed; " + rules.misses_to_bar + " misses within " + within + " days bar booking for " + rules.bar_days + " days (walking in stays possible).")),
        noShows),
      bookingRulesCard(rules, isAdmin));
    if (date.value) load();
  }

  /** The hall's booking rules as the settings hold them (the defaults if they cannot be read). */
  async function bookingRules() {
    const current = await api("GET", "/api/hall/settings");
    const defaults = { lapse_min: 10, misses_to_bar: 3, miss_window_days: 180, bar_days: 30 };
    return current.ok && current.data.booking_rules ? current.data.booking_rules : defaults;
  }

  /** The local booking rules (预约规则): shown to all, changed by an admin. */
  function bookingRulesCard(rules, isAdmin) {
    const RULES = [["lapse_min", "未验证预约保留（分钟）", "Unverified bookings hold their place (minutes)", 60],
      ["misses_to_bar", "未到几次限制预约", "Misses that bar booking", 10],
      ["miss_window_days", "未到计数天数", "Misses count within (days)", 365],
      ["bar_days", "限制预约天数", "Bar lasts (days)", 365]];
    const inputs = {};
    const fields = RULES.map(([key, zh, en, max]) => {
      inputs[key] = el("input", { type: "number", id: "booking-rule-" + key, min: "1", max: String(max), style: "width:6em",
        value: String(rules[key]), disabled: !isAdmin });
      return el("div", {}, el("label", { for: "booking-rule-" + key }, t(zh, en)), inputs[key]);
    });
    const save = isAdmin ? el("button", { class: "btn small", type: "button", id: "booking-rules-save", onclick: async () => {
      const now = await api("GET", "/api/hall/settings");
      if (!now.ok) return toast(now.message, "error");
      const changed = Object.fromEntries(RULES.map(([key]) => [key, Number(inputs[key].value)]));
      const answer = await api("PUT", "/api/hall/settings", Object.assign(now.data, { booking_rules: changed }));
      if (!answer.ok) return toast(answer.message, "error");
      toast(["预约规则已保存，立即生效。", "Booking rules saved; they apply from now on."]);
      renderBookings();
    } }, t("保存", "Save")) : null;
    return el("div", { class: "card", id: "booking-rules" }, el("h2", {}, t("预约规则", "Booking rules")),
      el("p", { class: "muted" }, t("短信验证码有效期内未验证的预约自动失效；已验证的预约未到达一定次数后暂停预约。",
        "A booking not verified in time lapses; enough missed verified bookings bar a person from booking for a while.")),
      el("div", { class: "toolbar" }, fields, save));
  }

  // ----- users and device tokens -----
  async function renderPeople() {
    const box = clear($("#tab-people"));
    const [users, tokens, problems] = await Promise.all([api("GET", "/api/users"), api("GET", "/api/tokens"),
      api("GET", "/api/devices/problems")]);
    const userTable = el("table", { id: "users" }, el("thead", {}, el("tr", {},
      el("th", {}, t("用户名", "User name")), el("th", {}, t("角色", "Role")), el("th", {}, t("状态", "State")), el("th", {}))),
      el("tbody", {}, (users.ok ? users.data : []).map((u) => el("tr", {},
        el("td", {}, u.username), el("td", {}, pair(JH.ROLES[u.role] || [u.role, u.role])),
        el("td", {}, u.disabled ? el("span", { class: "badge grey" }, t("已停用", "disabled"))
          : u.locked_until ? el("span", { class: "badge red" }, t("锁定至 " + hhmm(u.locked_until), "locked until " + hhmm(u.locked_until)))
            : el("span", { class: "badge blue" }, t("正常", "active"))),
        el("td", {}, admin() && !u.disabled ? el("button", { class: "btn small danger", type: "button", onclick: async () => {
          if (!confirm("停用 " + u.username + "？ Disable " + u.username + "?")) return;
          const a = await api("DELETE", "/api/users/" + u.id);
          if (!a.ok) return toast(a.message, "error");
          renderPeople();
        } }, t("停用", "Disable")) : null)))));
    box.append(el("div", { class: "card" }, el("h2", {}, t("工作人员", "Staff")), userTable, admin() ? userForm() : null));
    const tokenTable = el("table", { id: "tokens" }, el("thead", {}, el("tr", {},
      el("th", {}, "#"), el("th", {}, t("名称", "Name")), el("th", {}, t("角色", "Role")), el("th", {}, t("窗口", "Window")),
      el("th", {}, t("创建时间", "Created")), el("th", {}, t("状态", "State")), el("th", {}))),
      el("tbody", {}, (tokens.ok ? tokens.data : []).map((k) => el("tr", {},
        el("td", { class: "num" }, k.id), el("td", {}, k.name), el("td", {}, pair(JH.ROLES[k.role] || [k.role, k.role])),
        el("td", {}, fmt(k.window)), el("td", {}, k.created_at.slice(0, 16).replace("T", " ")),
        el("td", {}, k.revoked ? el("span", { class: "badge grey" }, t("已吊销", "revoked")) : el("span", { class: "badge blue" }, t("有效", "live"))),
        el("td", {}, admin() && !k.revoked ? el("button", { class: "btn small danger", type: "button", onclick: async () => {
          if (!confirm("吊销令牌 " + k.name + "？ Revoke " + k.name + "?")) return;
          const a = await api("DELETE", "/api/tokens/" + k.id);
          if (!a.ok) return toast(a.message, "error");
          renderPeople();
        } }, t("吊销", "Revoke")) : null)))));
    box.append(el("div", { class: "card" }, el("h2", {}, t("设备令牌（取号机、显示屏等）", "Device tokens (kiosks, displays, …)")), tokenTable, admin() ? tokenForm() : null));
    box.append(problemCard(problems.ok ? problems.data : []));
  }

  // The latest problems devices reported (a kiosk's printer fault, …), newest first.
  function problemCard(problems) {
    const latest = problems.slice(0, 10);
    const body = latest.length ? el("table", { id: "device-problems" }, el("thead", {}, el("tr", {},
      el("th", {}, t("时间", "Time")), el("th", {}, t("设备", "Device")), el("th", {}, t("类别", "Kind")), el("th", {}, t("情况", "What happened")))),
      el("tbody", {}, latest.map((p) => el("tr", {},
        el("td", { class: "num" }, p.at.slice(0, 16).replace("T", " ")), el("td", {}, actorLabel(p.device)),
        el("td", {}, el("span", { class: "badge amber" }, pair(PROBLEM_KINDS[p.kind] || [p.kind, p.kind]))), el("td", {}, p.message)))))
      : el("p", { class: "muted" }, t("暂无设备故障。", "No device problems reported."));
    return el("div", { class: "card", id: "problems" }, el("h2", {}, t("设备故障", "Device problems")), body);
  }

  function userForm() {
    const username = el("input", { required: true, autocomplete: "off" });
    const role = el("select", {}, ["clerk", "supervisor", "admin"].map((r) => el("option", { value: r }, JH.ROLES[r][0] + " · " + JH.ROLES[r][1])));
    const password = el("input", { type: "password", required: true, minlength: 8, autocomplete: "new-password" });
    const form = el("form", {}, el("h3", {}, t("新增工作人员", "Add a person")),
      el("div", { class: "form-grid" }, field("new-username", "用户名（小写字母、数字）", "User name (a–z, 0–9)", username),
        field("new-role", "角色", "Role", role), field("new-password", "初始密码（至少 8 位）", "Password (8 or more)", password),
        el("div", {}, el("label", {}, " "), el("button", { class: "btn", type: "submit" }, t("添加", "Add")))));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const a = await api("POST", "/api/users", { username: username.value.trim(), role: role.value, password: password.value });
      if (!a.ok) return toast(a.message, "error");
      toast(["已添加 " + a.data.username, "Added " + a.data.username]);
      renderPeople();
    });
    return form;
  }

  function tokenForm() {
    const name = el("input", { required: true, maxlength: 100 });
    const role = el("select", {}, ["kiosk", "display", "clerk", "admin", "replica", "ingest"].map((r) => el("option", { value: r }, JH.ROLES[r][0] + " · " + JH.ROLES[r][1])));
    const windowInput = el("input", { type: "number", min: 1, max: 999 });
    const out = el("div");
    const form = el("form", {}, el("h3", {}, t("新建设备令牌", "Create a device token")),
      el("div", { class: "form-grid" }, field("token-name", "名称", "Name", name), field("token-role", "角色", "Role", role),
        field("token-window", "窗口（仅窗口令牌）", "Window (clerk tokens)", windowInput),
        el("div", {}, el("label", {}, " "), el("button", { class: "btn", type: "submit" }, t("创建", "Create")))), out);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const a = await api("POST", "/api/tokens", { name: name.value.trim(), role: role.value,
        window: role.value === "clerk" && windowInput.value ? Number(windowInput.value) : null });
      if (!a.ok) return toast(a.message, "error");
      await renderPeople();
      $("#tab-people").append(el("div", { class: "card" },
        el("h3", {}, t("请立即复制此令牌，它只显示这一次：", "Copy this token now; it is shown only once:")),
        el("div", { class: "secret" }, a.data.token)));
    });
    return form;
  }

  // ----- 差评 cases -----
  const CASE_STATES = {
    open: ["待回访", "Open"], called_back: ["已回访", "Called back"], fixed: ["已整改", "Fixed"], closed: ["已办结", "Closed"],
  };
  let caseFilter = "";
  let caseOpen = null; // the id of the case shown in detail

  /** The state of a case as a badge, and overdue in words as well as in red. */
  function caseBadges(c) {
    const state = CASE_STATES[c.state] || [c.state, c.state];
    return [el("span", { class: "badge " + (c.state === "closed" ? "grey" : c.state === "open" ? "amber" : "blue") }, pair(state)),
      c.overdue ? [" ", el("span", { class: "badge red", "data-overdue": "1" }, t("已超期", "Overdue"))] : null];
  }

  async function renderCases() {
    const box = clear($("#tab-cases"));
    const filter = el("select", { id: "case-filter", "aria-label": "state" },
      [["", "全部", "All"], ["open", "待回访", "Open"], ["called_back", "已回访", "Called back"], ["fixed", "已整改", "Fixed"],
        ["closed", "已办结", "Closed"], ["overdue", "已超期", "Overdue"]]
        .map(([value, zh, en]) => el("option", { value, selected: value === caseFilter }, zh + " · " + en)));
    filter.addEventListener("change", () => { caseFilter = filter.value; renderCases(); });
    const list = el("div", { class: "scroll" });
    const detail = el("div", { id: "case-detail" });
    box.append(el("div", { class: "card" }, el("h2", {}, t("差评工单", "Cases of bad ratings")),
      el("p", { class: "muted" }, t("每条差评自动生成工单：回访群众、记录整改、办结，须在整改时限（工作日）内整改。",
        "Every bad rating opens a case: call the citizen back, record the fix, close it; the fix is due within the set working days.")),
      el("div", { class: "toolbar" }, el("div", {}, el("label", { for: "case-filter" }, t("状态", "State")), filter)), list), detail);
    if (admin()) box.prepend(await caseDaysCard());
    const answer = await api("GET", "/api/cases" + (caseFilter ? "?state=" + caseFilter : ""));
    if (!answer.ok) return list.append(el("div", { class: "notice error" }, pair(answer.message)));
    const cases = answer.data.cases;
    if (!cases.length) list.append(el("p", { class: "muted" }, t("没有工单。", "No cases.")));
    else list.append(el("table", { id: "case-list" },
      el("thead", {}, el("tr", {}, ["号票|Ticket", "业务|Service", "窗口|Window", "经办人|Clerk", "评价|Rating", "原因|Reason", "评价日期|Rated on",
        "整改时限|Due", "状态|State", "回访电话|Callback phone", "|"].map((h) => el("th", {}, t(h.split("|")[0], h.split("|")[1]))))),
      el("tbody", {}, cases.map((c) => el("tr", { "data-case": c.id, class: c.overdue ? "flag-overdue" : "" },
        el("td", { class: "num" }, c.number), el("td", {}, t(c.service_name_zh, c.service_name_en)), el("td", { class: "n" }, c.window),
        el("td", { class: "case-clerk" }, c.clerk || "—"),
        el("td", {}, pair(JH.RATINGS[c.rating] || [c.rating, c.rating])),
        el("td", {}, c.reason ? pair(JH.REASONS[c.reason] || [c.reason, c.reason]) : "—"),
        el("td", { class: "num" }, c.date), el("td", { class: "num" }, c.due), el("td", {}, caseBadges(c)),
        el("td", { class: "num" }, c.callback_phone || "—"),
        el("td", {}, el("button", { class: "btn small", type: "button", "data-open-case": c.id,
          onclick: () => { caseOpen = c.id; showCase(detail, c); } }, t("查看处理", "Open"))))))));
    const shown = cases.find((c) => c.id === caseOpen);
    if (shown) showCase(detail, shown);
  }

  /** The admin's setting: how many working days a case has from its rating to its fix. */
  async function caseDaysCard() {
    const current = await api("GET", "/api/hall/settings");
    const days = el("input", { type: "number", id: "case-days", min: "1", max: "60", style: "width:6em",
      value: current.ok ? current.data.case_due_working_days || 5 : 5 });
    const save = el("button", { class: "btn small", type: "button", id: "case-days-save", onclick: async () => {
      const now = await api("GET", "/api/hall/settings");
      if (!now.ok) return toast(now.message, "error");
      const answer = await api("PUT", "/api/hall/settings", Object.assign(now.data, { case_due_working_days: Number(days.value) }));
      if (!answer.ok) return toast(answer.message, "error");
      toast(["整改时限已保存，对此后的差评生效。", "Saved; it applies to bad ratings from now on."]);
    } }, t("保存", "Save"));
    return el("div", { class: "card toolbar" },
      el("div", {}, el("label", { for: "case-days" }, t("整改时限（工作日，按工作日历）", "Fix due within (working days, by the calendar)")), days), save);
  }

  function showCase(box, c) {
    clear(box);
    const step = (zh, en, s) => el("div", { class: "case-step" }, el("h3", {}, t(zh, en)),
      s ? [el("p", {}, s.text || ""), el("p", { class: "muted" }, s.by + " · " + s.at.slice(0, 10) + " " + s.at.slice(11, 16))]
        : el("p", { class: "muted" }, t("尚未进行", "Not yet")));
    const act = async (what, body) => {
      const answer = await api("POST", "/api/cases/" + c.id + "/" + what, body);
      if (!answer.ok) return toast(answer.message, "error");
      toast(["工单已更新。", "Case updated."]);
      renderCases();
    };
    const text = el("textarea", { id: "case-text", rows: 3, style: "width:100%" });
    let form = null;
    if (c.state === "open") {
      form = [el("label", { for: "case-text" }, t("回访记录", "Callback note")), text,
        el("button", { class: "btn", type: "button", id: "case-callback", onclick: () => act("callback", { note: text.value }) }, t("记录回访", "Record callback"))];
    } else if (c.state === "called_back") {
      form = [el("label", { for: "case-text" }, t("整改情况", "Fix")), text,
        el("button", { class: "btn", type: "button", id: "case-fix", onclick: () => act("fix", { fix: text.value }) }, t("记录整改", "Record fix"))];
    } else if (c.state === "fixed") {
      form = el("button", { class: "btn", type: "button", id: "case-close", onclick: () => act("close", {}) }, t("办结工单", "Close case"));
    }
    box.append(el("div", { class: "card", "data-case": c.id },
      el("h2", {}, t("工单 " + c.number, "Case " + c.number), " ", caseBadges(c)),
      el("p", {}, t(c.service_name_zh, c.service_name_en), " · ", t(c.window + "号窗口", "window " + c.window), " · ",
        pair(JH.RATINGS[c.rating] || [c.rating, c.rating]), c.reason ? ["：", pair(JH.REASONS[c.reason] || [c.reason, c.reason])] : null),
      el("p", {}, t("评价时间 ", "Rated at "), c.opened_at.slice(0, 10) + " " + c.opened_at.slice(11, 16), " · ",
        t("整改时限 ", "Fix due "), c.due, c.overdue ? [" ", el("strong", { class: "warn" }, t("（已超期）", "(overdue)"))] : null),
      el("p", {}, t("回访电话：", "Callback phone: "), c.callback_phone || t("群众未留电话", "none left")),
      el("div", { class: "grid2" }, step("回访", "Callback", c.called_back), step("整改", "Fix", c.fixed)),
      step("办结", "Closed", c.closed),
      form ? el("div", { class: "case-form" }, form) : null));
  }

  // ----- reports -----
  function day() { return (hall && hall.date) || new Date().toISOString().slice(0, 10); }

  async function renderReports() {
    const box = clear($("#tab-reports"));
    const from = el("input", { type: "date", id: "report-from", value: day() });
    const to = el("input", { type: "date", id: "report-to", value: day() });
    const csv = el("a", { class: "btn secondary", id: "report-csv", href: "#" }, t("导出 CSV", "Export CSV"));
    const out = el("div", { id: "report" });
    const run = async () => {
      const query = "?from=" + from.value + "&to=" + (to.value || from.value);
      csv.setAttribute("href", "/api/reports/csv" + query);
      const a = await api("GET", "/api/reports" + query);
      clear(out);
      if (!a.ok) return out.append(el("div", { class: "notice error" }, pair(a.message)));
      showReport(out, a.data);
    };
    box.append(el("div", { class: "card toolbar" },
      el("div", {}, el("label", { for: "report-from" }, t("从", "From")), from),
      el("div", {}, el("label", { for: "report-to" }, t("到", "To")), to),
      el("button", { class: "btn", type: "button", id: "report-run", onclick: run }, t("查询", "Show")),
      el("button", { class: "btn secondary", type: "button", id: "report-month", onclick: () => {
        // This month so far: the period of the monthly ranking.
        from.value = day().slice(0, 8) + "01";
        to.value = day();
        run();
      } }, t("本月", "This month")), csv), out);
    run();
  }

  const COLUMNS = [
    ["issued", "取号", "Issued"], ["called", "叫号", "Called"], ["served", "办结", "Served"], ["no_shows", "过号", "No-shows"],
    ["transfers", "转移", "Transfers"], ["mean_wait_min", "平均等候(分)", "Mean wait (min)"], ["p90_wait_min", "90%等候(分)", "p90 wait (min)"],
    ["mean_handling_min", "平均办理(分)", "Mean handling (min)"], ["within_target_pct", "等候达标%", "% within target"],
    ["ratings", "评价 满意/不满意", "Ratings good/bad"], ["rating_mean", "评价均分", "Mean rating"],
    ["pause", "暂停(分) 休息/会议/故障/培训/下班/其他", "Paused (min) break/meeting/fault/training/off duty/other"],
    ["closes", "关窗 休息/会议/故障/培训/下班/其他/未说明", "Closes break/meeting/fault/training/off duty/other/none"], ["out_of_order", "选号", "Out of order"],
    ["busy_pct", "忙碌%", "Busy %"],
    ["done_pct", "一次办结率%", "Done first time %"], ["outcomes", "补正/不予受理/转办", "Missing/refused/referred"],
    ["first_visit_done_pct", "首次到场办结%(实名)", "Done on first visit % (known people)"],
    ["within_limit_pct", "限时办结%", "% within time limit"], ["over_limit", "超时办理", "Over limit"],
    ["off_rota", "离岗(分) 迟开/早关/缺岗", "Off rota (min) late/early/absent"],
  ];

  function cell(row, key) {
    if (key === "ratings") {
      const r = row.ratings;
      const good = r.very_satisfied + r.satisfied + r.basic;
      const bad = r.dissatisfied + r.very_dissatisfied;
      return el("td", { class: "n", title: JSON.stringify(r) }, good + " / ", bad ? el("span", { class: "badge red" }, bad) : "0");
    }
    if (key === "pause") {
      const p = row.pause_min;
      return el("td", { class: "n" }, [p.break, p.meeting, p.system_fault, p.training, p.off_duty, p.other].join(" / "));
    }
    if (key === "off_rota") {
      const o = row.off_rota_min;
      const total = o.late_open + o.early_close + o.absent;
      return el("td", { class: "n" }, total ? el("span", { class: "badge amber" }, [o.late_open, o.early_close, o.absent].join(" / ")) : "0 / 0 / 0");
    }
    if (key === "closes") {
      const c = row.closes;
      return el("td", { class: "n" }, [c.break, c.meeting, c.system_fault, c.training, c.off_duty, c.other].join(" / "), " / ",
        c.none ? el("span", { class: "badge amber" }, c.none) : "0");
    }
    if (key === "outcomes") {
      const o = row.outcomes;
      return el("td", { class: "n" }, [o.documents_missing, o.refused, o.referred].join(" / "));
    }
    if (key === "over_limit") return el("td", { class: "n" }, row.over_limit ? el("span", { class: "badge red" }, row.over_limit) : "0");
    if (key === "out_of_order") return el("td", { class: "n" }, row.out_of_order ? el("span", { class: "badge amber" }, row.out_of_order) : "0");
    return el("td", { class: "n num" }, fmt(row[key]));
  }

  function table(id, titleZh, titleEn, rows, nameOf) {
    return el("div", { class: "card scroll" }, el("h3", {}, t(titleZh, titleEn)),
      el("table", { id }, el("thead", {}, el("tr", {}, el("th", {}, t("名称", "Name")), COLUMNS.map((c) => el("th", { class: "n" }, t(c[1], c[2]))))),
        el("tbody", {}, rows.map((row) => el("tr", { "data-key": row.key }, el("td", {}, nameOf(row)), COLUMNS.map((c) => cell(row, c[0])))))));
  }

  function showReport(out, report) {
    const total = report.total;
    const figure = (value, zh, en) => el("div", { class: "figure" }, el("div", { class: "v num" }, value), el("div", { class: "k" }, t(zh, en)));
    const r = total.ratings;
    const rated = r.very_satisfied + r.satisfied + r.basic + r.dissatisfied + r.very_dissatisfied;
    out.append(el("div", { class: "figures", id: "report-figures" },
      figure(fmt(total.issued), "取号", "Issued"), figure(total.served, "办结", "Served"), figure(total.no_shows, "过号", "No-shows"),
      figure(fmt(total.mean_wait_min), "平均等候（分钟）", "Mean wait (min)"), figure(fmt(total.within_target_pct, "%"), "等候达标率", "Within wait target"),
      figure(rated ? (total.rating_mean + " / 5") : "—", "评价均分（" + rated + " 条）", "Mean rating (" + rated + ")"),
      figure(fmt(total.done_pct, "%"), "一次办结率", "Done first time"), figure(fmt(total.within_limit_pct, "%"), "限时办结率", "Within time limit")));
    const hours = report.hours.filter((h) => h.hour >= 7 && h.hour <= 19);
    out.append(el("div", { class: "grid2" },
      el("div", { class: "card" }, el("h3", {}, t("各时段取号人数", "Arrivals by hour")), bars(hours.map((h) => [h.hour, h.arrivals]), "#0B4EA2", "")),
      el("div", { class: "card" }, el("h3", {}, t("各时段平均等候（分钟）", "Mean wait by hour of arrival (min)")), bars(hours.map((h) => [h.hour, h.mean_wait_min || 0]), "#5B7FB0", ""))));
    // Booked and walk-in tickets apart, and how many verified bookings were missed.
    const attendance = report.bookings || { verified: 0, no_shows: 0, no_show_pct: null };
    const arrivals = report.arrivals || [];
    out.append(el("div", { class: "card scroll" }, el("h3", {}, t("预约与现场取号", "Booked and walk-in")),
      el("table", { id: "report-arrivals" },
        el("thead", {}, el("tr", {}, el("th", {}, ""), el("th", { class: "n" }, t("叫号", "Called")),
          el("th", { class: "n" }, t("平均等候(分)", "Mean wait (min)")), el("th", { class: "n" }, t("90%等候(分)", "p90 wait (min)")))),
        el("tbody", {}, arrivals.map((row) => el("tr", { "data-key": row.key }, el("td", {}, t(row.name_zh, row.name_en)),
          el("td", { class: "n num" }, row.called), el("td", { class: "n num" }, fmt(row.mean_wait_min)), el("td", { class: "n num" }, fmt(row.p90_wait_min)))))),
      el("p", { id: "report-booking-no-show" }, t("预约未到率 ", "Booking no-shows "),
        el("strong", { class: "num" }, fmt(attendance.no_show_pct, "%")),
        t("（已验证 " + attendance.verified + " 个，未到 " + attendance.no_shows + " 个）",
          " (" + attendance.no_shows + " of " + attendance.verified + " verified)")),
      el("p", { class: "muted" }, t("预约的等候从时段开始与签到时间中较晚者算起。", "A booking's wait counts from the later of its slot's start and its check-in."))));
    out.append(table("report-services", "按业务", "By service", report.services, (row) => t(row.name_zh, row.name_en)));
    out.append(table("report-windows", "按窗口", "By window", report.windows, (row) => t(row.name_zh, row.name_en)));
    out.append(table("report-clerks", "按工作人员", "By clerk", report.clerks, (row) => actorLabel(row.key)));
    out.append(table("report-total", "全厅合计", "Whole hall", [total], () => t("全厅", "Whole hall")));
    out.append(el("div", { class: "card scroll" }, el("h3", {}, t("窗口满意率排名", "Windows ranked by satisfaction")),
      report.window_ranking.length
        ? el("table", { id: "report-ranking" },
          el("thead", {}, el("tr", {}, el("th", { class: "n" }, t("名次", "Rank")), el("th", {}, t("窗口", "Window")),
            el("th", { class: "n" }, t("满意率", "Satisfied")), el("th", { class: "n" }, t("评价数", "Ratings")))),
          el("tbody", {}, report.window_ranking.map((w) => el("tr", { "data-window": w.window },
            el("td", { class: "n num" }, w.rank), el("td", {}, t(w.name_zh, w.name_en)),
            el("td", { class: "n num" }, w.satisfied_pct + "%"), el("td", { class: "n num" }, w.rated)))))
        : el("p", { class: "muted" }, t("此期间没有评价。", "No ratings in this period."))));
    const cases = report.cases || [];
    const windowName = (n) => {
      const row = report.windows.find((w) => w.key === String(n));
      return row ? t(row.name_zh, row.name_en) : t(n + "号窗口", "Window " + n);
    };
    out.append(el("div", { class: "card scroll" }, el("h3", {}, t("差评工单：回访率与按期整改率", "Cases: callback and fixed-in-time rates")),
      cases.length
        ? el("table", { id: "report-cases" },
          el("thead", {}, el("tr", {}, ["月份|Month", "窗口|Window", "差评数|Bad ratings", "已回访|Called back", "回访率|Callback rate",
            "按期整改|Fixed in time", "按期整改率|Fixed-in-time rate", "超期未整改|Overdue"]
            .map((h, i) => el("th", { class: i > 1 ? "n" : "" }, t(h.split("|")[0], h.split("|")[1]))))),
          el("tbody", {}, cases.map((c) => el("tr", { "data-month": c.month, "data-window": c.window === null ? "all" : c.window },
            el("td", { class: "num" }, c.month), el("td", {}, c.window === null ? el("strong", {}, t("全厅", "Whole hall")) : windowName(c.window)),
            el("td", { class: "n num" }, c.cases), el("td", { class: "n num" }, c.called_back), el("td", { class: "n num" }, fmt(c.callback_pct, "%")),
            el("td", { class: "n num" }, c.fixed_in_time), el("td", { class: "n num" }, fmt(c.fixed_in_time_pct, "%")),
            el("td", { class: "n" }, c.overdue ? el("span", { class: "badge red" }, c.overdue + " " + t("件超期", "overdue")) : "0")))))
        : el("p", { class: "muted" }, t("此期间没有差评。", "No bad ratings in this period."))));
    const names = {};
    for (const row of report.services) names[row.key] = row;
    out.append(el("div", { class: "card scroll" }, el("h3", {}, t("补正：最常缺少的材料", "Documents most often missing")),
      report.missing_documents.length
        ? el("table", { id: "report-missing" },
          el("thead", {}, el("tr", {}, el("th", {}, t("业务", "Service")), el("th", {}, t("材料", "Document")), el("th", { class: "n" }, t("次数", "Times")))),
          el("tbody", {}, report.missing_documents.map((m) => el("tr", { "data-service": m.service },
            el("td", {}, names[m.service] ? t(names[m.service].name_zh, names[m.service].name_en) : m.service),
            el("td", {}, m.document), el("td", { class: "n num" }, m.count)))))
        : el("p", { class: "muted" }, t("没有登记补正。", "No documents recorded as missing."))));
  }

  /** A bar chart in SVG: [[hour, value], …]. */
  function bars(data, colour) {
    const NS = "http://www.w3.org/2000/svg";
    const w = 760, h = 220, left = 40, bottom = 28, top = 16;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + h);
    svg.setAttribute("class", "chart");
    svg.setAttribute("role", "img");
    const max = Math.max(1, ...data.map((d) => d[1]));
    const step = (w - left - 10) / Math.max(1, data.length);
    const add = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
      if (text !== undefined) node.textContent = text;
      svg.append(node);
    };
    add("line", { x1: left, y1: h - bottom, x2: w - 10, y2: h - bottom, stroke: "#8D99A8" });
    add("text", { x: left - 6, y: top + 4, "text-anchor": "end", "font-size": 12, fill: "#44505E" }, String(Math.round(max * 10) / 10));
    add("text", { x: left - 6, y: h - bottom, "text-anchor": "end", "font-size": 12, fill: "#44505E" }, "0");
    data.forEach(([hour, value], i) => {
      const barH = (h - bottom - top) * value / max;
      const x = left + i * step + step * 0.15;
      add("rect", { x, y: h - bottom - barH, width: step * 0.7, height: barH, fill: colour, rx: 2 });
      if (value) add("text", { x: x + step * 0.35, y: h - bottom - barH - 4, "text-anchor": "middle", "font-size": 12, fill: "#16202C" }, String(Math.round(value * 10) / 10));
      add("text", { x: x + step * 0.35, y: h - 8, "text-anchor": "middle", "font-size": 12, fill: "#44505E" }, String(hour).padStart(2, "0"));
    });
    return svg;
  }

  // ----- audit -----
  async function renderAudit() {
    const box = clear($("#tab-audit"));
    const from = el("input", { type: "date", id: "audit-from", value: day() });
    const to = el("input", { type: "date", id: "audit-to", value: day() });
    const number = el("input", { id: "audit-number", placeholder: "B001", size: 8 });
    const flagged = el("input", { type: "checkbox", id: "audit-flagged" });
    const out = el("div", { id: "audit" });
    const run = async () => {
      let query = "?from=" + from.value + "&to=" + (to.value || from.value);
      if (number.value.trim()) query += "&number=" + encodeURIComponent(number.value.trim().toUpperCase());
      if (flagged.checked) query += "&flagged=true";
      const a = await api("GET", "/api/audit" + query);
      clear(out);
      if (!a.ok) return out.append(el("div", { class: "notice error" }, pair(a.message)));
      out.append(auditTable(a.data));
    };
    const form = el("form", { class: "card toolbar" },
      el("div", {}, el("label", { for: "audit-from" }, t("从", "From")), from),
      el("div", {}, el("label", { for: "audit-to" }, t("到", "To")), to),
      el("div", {}, el("label", { for: "audit-number" }, t("号码", "Ticket number")), number),
      el("div", {}, el("label", { for: "audit-flagged" }, flagged, " ", t("只看选号和配置变更", "Out-of-order calls and configuration only"))),
      el("button", { class: "btn", type: "submit", id: "audit-run" }, t("查询", "Search")));
    form.addEventListener("submit", (event) => { event.preventDefault(); run(); });
    box.append(form, out);
    run();
  }

  function auditTable(page) {
    const rows = page.entries.map((e) => {
      const kind = KINDS[e.kind] || [e.kind, e.kind];
      let detail = e.detail;
      if (e.kind === "window_paused" && JH.PAUSE[e.detail]) detail = pair(JH.PAUSE[e.detail]);
      if (e.kind === "window_defined" && e.detail.startsWith("services: ")) {
        const codes = e.detail.slice(10).split(", ").filter(Boolean);
        detail = [t("办理业务：", "Services: "), codes.map((code, i) => [i ? "、" : "", svcName(code)])];
      }
      if (e.kind === "ticket_transferred") {
        const m = /^to (service|window) (.+)$/.exec(e.detail);
        if (m) detail = m[1] === "service" ? [t("转到业务 ", "to "), svcName(m[2])] : t("转到 " + m[2] + " 号窗口", "to window " + m[2]);
      }
      if (e.kind === "ticket_called" && e.detail === "recall") detail = t("重呼", "recall");
      if (e.kind === "ticket_rated") {
        const [rating, reason] = e.detail.replace(")", "").split(" (");
        detail = [pair(JH.RATINGS[rating] || [rating, rating]), reason ? ["：", pair(JH.REASONS[reason] || [reason, reason])] : null];
      }
      return el("tr", { class: e.out_of_order ? "flag-ooo" : e.configuration ? "flag-config" : "", "data-kind": e.kind },
        el("td", { class: "num" }, e.at.slice(0, 10) + " " + e.at.slice(11, 19)),
        el("td", {}, actorLabel(e.actor)),
        el("td", {}, pair(kind), e.out_of_order ? el("span", { class: "badge amber" }, t("选号", "out of order")) : null,
          e.configuration ? el("span", { class: "badge blue" }, t("配置", "configuration")) : null),
        el("td", { class: "num" }, e.number || ""),
        el("td", {}, e.service ? svcName(e.service) : ""),
        el("td", { class: "n" }, e.window || ""),
        el("td", {}, detail));
    });
    return el("div", { class: "card scroll" },
      page.truncated ? el("div", { class: "notice" }, t("结果太多，只显示最新的部分；请缩小日期范围。", "Too many entries: only the newest are shown; narrow the dates.")) : null,
      el("table", { id: "audit-table" }, el("thead", {}, el("tr", {}, el("th", {}, t("时间", "Time")), el("th", {}, t("操作人", "Who")),
        el("th", {}, t("事件", "Event")), el("th", {}, t("号码", "Ticket")), el("th", {}, t("业务", "Service")),
        el("th", { class: "n" }, t("窗口", "Window")), el("th", {}, t("说明", "Details")))),
        el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 7, class: "muted" }, t("没有符合条件的记录。", "Nothing matches."))))));
  }

  start();
})();

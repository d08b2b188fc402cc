// The counter page: one clerk at one window, all day. Big buttons, number-key shortcuts, the
// current ticket with its documents and a handling timer, and the tickets this window may call.
"use strict";

(() => {
  const { el, t, clear, $, api, toast, live, debounce, clock, mmss, hhmm } = JH;
  let me = null;
  let hall = null;
  let queue = null;
  let busy = false;

  const service = (code) => hall && hall.services.find((s) => s.code === code);
  const windowStatus = () => hall && me && hall.windows.find((w) => w.number === me.window);
  const name = (s, code) => s ? t(s.name_zh, s.name_en) : code;

  async function start() {
    me = await JH.me("/counter");
    if (!me) return;
    renderWho();
    live((view) => { hall = view; render(); refresh(); }, () => refresh());
    const answer = await api("GET", "/api/hall");
    if (answer.ok) hall = answer.data;
    if (!me.window) return showPicker();
    showCounter();
  }

  function renderWho() {
    const role = JH.ROLES[me.role] || [me.role, me.role];
    const who = clear($("#who"));
    who.append(me.name, " · ", t(role[0], role[1]));
    if (me.window) who.append(" · ", t(me.window + " 号窗口", "Window " + me.window));
    $("#change-window").hidden = !me.window;
  }

  function showPicker() {
    $("#counter").hidden = true;
    $("#picker").hidden = false;
    const list = clear($("#picker-list"));
    for (const w of (hall ? hall.windows : [])) {
      list.append(el("button", { class: "btn secondary", type: "button", "data-window": w.number,
        onclick: () => choose(w.number) }, t(w.name_zh, w.name_en)));
    }
  }

  async function choose(number) {
    const answer = await api("PUT", "/api/me/window", { window: number });
    if (!answer.ok) return toast(answer.message, "error");
    me = answer.data;
    renderWho();
    showCounter();
  }

  function showCounter() {
    $("#picker").hidden = true;
    $("#counter").hidden = false;
    render();
    refresh();
  }

  const refresh = debounce(async () => {
    if (!me || !me.window) return;
    const answer = await api("GET", "/api/windows/" + me.window + "/queue");
    if (!answer.ok) return;
    queue = answer.data;
    clock.sync(queue.now);
    render();
  }, 120);

  function render() {
    if (!me || !me.window || $("#counter").hidden) return;
    const w = windowStatus();
    const state = (queue && queue.state) || (w && w.state) || "closed";
    const names = JH.STATES[state] || [state, state];
    const stateNode = clear($("#state"));
    stateNode.className = "state " + state;
    stateNode.append(t(names[0], names[1]));
    if (state === "paused" && w && w.pause_reason) {
      const reason = JH.PAUSE[w.pause_reason] || [w.pause_reason, w.pause_reason];
      stateNode.append("（", t(reason[0], reason[1]), w.pause_note ? "：" + w.pause_note : "", "）");
    }
    clear($("#state-since")).append(w ? t("自 " + hhmm(w.state_since), "since " + hhmm(w.state_since)) : "");
    if (w) {
      const serves = clear($("#serves"));
      serves.append(t("办理业务：", "Serves: "));
      w.services.forEach((code, i) => {
        const s = service(code);
        serves.append(i ? "、" : "", s ? t(s.name_zh, s.name_en) : code);
        if (i === 0) serves.append(t("（主）", " (primary)"));
      });
    }
    renderCurrent();
    renderQueue();
    const serving = state === "serving";
    $("#call-next").disabled = !(state === "open" || serving);
    $("#call-specific").disabled = !(state === "open" || serving);
    for (const id of ["#recall", "#no-show", "#finish", "#transfer"]) $(id).disabled = !serving;
    $("#pause").disabled = !(state === "open" || state === "paused");
    clear($("#pause-zh")).append(state === "paused" ? "恢复" : "暂停");
    clear($("#pause-en")).append(state === "paused" ? "Resume" : "Pause");
    $("#open").disabled = state !== "closed";
    $("#close").disabled = !(state === "open" || state === "paused");
  }

  function renderCurrent() {
    const box = clear($("#current"));
    const ticket = queue && queue.serving;
    if (!ticket) {
      box.append(el("div", { class: "empty" }, t("—  请点“叫号”", "—  Press “Call next”")));
      return;
    }
    const s = service(ticket.service);
    box.append(
      el("div", { class: "bignum num", id: "current-number" }, ticket.number),
      el("div", { class: "service" }, name(s, ticket.service),
        ticket.green_channel ? el("span", { class: "badge blue" }, t("绿色通道", "Green channel")) : null,
        ticket.transfers ? el("span", { class: "badge grey" }, t("转来", "Transferred")) : null),
      el("div", {}, el("span", { class: "timer-label" }, t("办理用时", "Handling time")),
        el("span", { class: "timer num", id: "timer", title: "分:秒 min:s" }, "00:00"), " ",
        el("span", { class: "muted", id: "timer-target" })),
    );
    if (s && s.documents_zh.length) {
      box.append(el("div", { class: "label" }, t("请核对材料（一次性告知）", "Check the documents (told once)")),
        el("ul", { class: "docs" }, s.documents_zh.map((doc, i) =>
          el("li", {}, t(doc, s.documents_en[i] || doc)))));
    }
    tick();
  }

  function renderQueue() {
    const body = clear($("#queue"));
    const list = (queue && queue.waiting) || [];
    clear($("#waiting-count")).append("(" + list.length + ")");
    if (!list.length) {
      body.append(el("tr", {}, el("td", { colspan: 4, class: "muted" }, t("没有等候的号", "No one is waiting"))));
    }
    for (const ticket of list) {
      const s = service(ticket.service);
      body.append(el("tr", { class: ticket.next ? "next" : "", "data-number": ticket.number },
        el("td", { class: "num" }, ticket.number),
        el("td", {}, name(s, ticket.service)),
        el("td", { class: "n wait", "data-issued": ticket.issued_at }, waited(ticket.issued_at)),
        el("td", {},
          ticket.next ? el("span", { class: "badge blue" }, t("下一位", "Next")) : null,
          ticket.green_channel ? el("span", { class: "badge green" }, t("绿色通道", "Green")) : null,
          ticket.booked ? el("span", { class: "badge amber" }, t("预约", "Booked")) : null,
          ticket.pinned ? el("span", { class: "badge grey" }, t("转本窗口", "To this window")) : null)));
    }
  }

  function waited(issuedAt) {
    const minutes = Math.max(0, Math.floor((clock.now() - Date.parse(issuedAt)) / 60000));
    return minutes + (JH.lang() === "en" ? " min" : " 分钟");
  }

  // The handling timer: amber from 80 % of the service's time target (限时办结), red past it.
  function tick() {
    const ticket = queue && queue.serving;
    const timer = $("#timer");
    if (ticket && timer && ticket.called_at) {
      const ms = clock.now() - Date.parse(ticket.called_at);
      const s = service(ticket.service);
      const target = s ? s.handling_target_min * 60000 : 0;
      timer.textContent = mmss(ms);
      timer.className = "timer num" + (target && ms >= target ? " red" : target && ms >= 0.8 * target ? " amber" : "");
      if (s) clear($("#timer-target")).append(t("限时 " + s.handling_target_min + " 分钟", "target " + s.handling_target_min + " min"));
    }
    document.querySelectorAll("#queue td.wait").forEach((cell) => {
      cell.textContent = waited(cell.getAttribute("data-issued"));
    });
  }
  setInterval(tick, 1000);

  async function act(path, body, done) {
    if (busy) return;
    busy = true;
    const answer = await api("POST", "/api/windows/" + me.window + "/" + path, body);
    busy = false;
    if (!answer.ok) { toast(answer.message, "error"); return; }
    if (done) done(answer);
    refresh();
  }

  const actions = {
    "call-next": () => act("call-next", undefined, (answer) => {
      if (answer.status === 204) toast(["目前没有等候的号。", "No one is waiting."]);
      else toast(["已叫号 " + answer.data.number, "Called " + answer.data.number]);
    }),
    "recall": () => act("recall", undefined, (a) => toast(["已重呼 " + a.data.number, "Called " + a.data.number + " again"])),
    "no-show": () => act("no-show", undefined, (a) => toast(["已过号 " + a.data.number, a.data.number + " marked as no-show"])),
    "finish": () => finishDialog(),
    "transfer": () => transferDialog(),
    "pause": () => {
      const w = windowStatus();
      if ((queue && queue.state) === "paused" || (w && w.state === "paused")) {
        act("resume", undefined, () => toast(["已恢复服务", "Resumed"]));
      } else pauseDialog();
    },
    "call-specific": () => callDialog(),
  };
  for (const id of Object.keys(actions)) $("#" + id).addEventListener("click", () => actions[id]());
  $("#open").addEventListener("click", () => act("open", undefined, () => toast(["窗口已开放", "Window open"])));
  $("#close").addEventListener("click", () => reasonDialog("close", t("关窗的原因", "Why close the window?"), ["窗口已关闭", "Window closed"]));
  $("#change-window").addEventListener("click", () => { queue = null; showPicker(); });

  // Dialogs: one at a time; Esc closes.
  let dialog = null;
  function open(title, content, onSubmit) {
    close();
    const form = el("form", { class: "dialog", role: "dialog", "aria-modal": "true" },
      el("h2", {}, title), content,
      el("div", { class: "row" },
        el("button", { class: "btn secondary", type: "button", onclick: close }, t("取消", "Cancel")),
        onSubmit ? el("button", { class: "btn", type: "submit", id: "dialog-ok" }, t("确定", "OK")) : null));
    form.addEventListener("submit", (event) => { event.preventDefault(); if (onSubmit) onSubmit(form); });
    dialog = el("div", { class: "overlay", onclick: (e) => { if (e.target === dialog) close(); } }, form);
    document.body.append(dialog);
    const first = form.querySelector("input, select, .choices button");
    if (first) first.focus();
  }
  function close() { if (dialog) { dialog.remove(); dialog = null; } }

  // A pause or a close asks why: one key for the class (1–6), optional words beside it.
  function reasonDialog(path, title, words) {
    const note = el("input", { id: "reason-note", maxlength: 200, autocomplete: "off" });
    const choices = el("div", { class: "choices" }, Object.entries(JH.PAUSE).map(([code, names], i) =>
      el("button", { class: "btn secondary", type: "button", "data-reason": code, "data-key": String(i + 1),
        onclick: () => {
          const body = { reason: code };
          if (note.value.trim()) body.note = note.value.trim();
          close();
          act(path, body, () => toast(words));
        } },
        el("span", { class: "key" }, String(i + 1)), t(names[0], names[1]))));
    open(title, el("div", {}, choices,
      el("label", { for: "reason-note" }, t("说明（可选，先填写再选原因）", "Note (optional; type it before choosing)")), note), null);
  }

  function pauseDialog() {
    reasonDialog("pause", t("暂停服务的原因", "Why pause?"), ["已暂停服务", "Paused"]);
  }

  // How the visit ended (办理结果): one keypress after 4 — 1 办结 (or Enter), 2 补正, 3 不予受理,
  // 4 转办; the last three ask for the missing documents, the reason or the office.
  function finishDialog() {
    const current = queue && queue.serving;
    const number = current ? current.number : "";
    const choices = el("div", { class: "choices outcomes" }, JH.OUTCOMES.map(([code, zh, en], i) =>
      el("button", { class: "btn secondary", type: "button", "data-outcome": code, "data-key": String(i + 1),
        onclick: () => chooseOutcome(code, number) },
        el("span", { class: "key" }, String(i + 1)), t(zh, en))));
    open(t("办理结果 " + number, "Outcome of " + number),
      el("div", {}, el("p", { class: "muted" }, t("按数字键选择；办结也可按 Enter。", "Press a number key; Enter for done.")), choices),
      null);
  }

  function finished(body, words) {
    act("finish", body, (a) => toast([words[0] + " " + a.data.number, a.data.number + " " + words[1]]));
  }

  function chooseOutcome(code, number) {
    close();
    if (code === "done") return finished({ outcome: "done" }, ["已办结", "done"]);
    if (code === "documents_missing") {
      const current = queue && queue.serving;
      const s = current && service(current.service);
      const docs = (s && s.documents_zh) || [];
      if (!docs.length) return toast(["本业务没有列出需携带的材料，无法登记补正。", "This service lists no documents to name as missing."], "error");
      const list = el("div", { class: "doc-picks" }, docs.map((doc, i) =>
        el("label", { class: "check" },
          el("input", { type: "checkbox", value: doc, "data-doc": String(i + 1) }),
          " ", t(doc, s.documents_en[i] || doc))));
      return open(t("补正：缺少哪些材料 " + number, "Documents missing for " + number),
        el("div", {}, el("p", { class: "muted" }, t("一次性告知：勾选群众下次需补齐的全部材料。", "Told once: tick every document the citizen must bring next time.")), list),
        (form) => {
          const documents = [...form.querySelectorAll("input[type=checkbox]:checked")].map((box) => box.value);
          if (!documents.length) return toast(["请至少勾选一项缺少的材料。", "Tick at least one missing document."], "error");
          close();
          finished({ outcome: "documents_missing", documents }, ["已登记补正", "documents missing recorded"]);
        });
    }
    const refused = code === "refused";
    const input = el("input", { id: "outcome-text", required: true, maxlength: 200, autocomplete: "off" });
    open(refused ? t("不予受理的原因 " + number, "Why refused: " + number) : t("转办到哪个单位 " + number, "Referred to which office: " + number),
      el("div", {},
        el("label", { for: "outcome-text" }, refused ? t("原因（必填）", "Reason (required)") : t("单位（必填）", "Office (required)")), input),
      () => {
        const text = input.value.trim();
        if (!text) return toast(refused ? ["请填写不予受理的原因。", "Please give the reason."] : ["请填写转办单位。", "Please name the office."], "error");
        close();
        if (refused) finished({ outcome: "refused", reason: text }, ["已登记不予受理", "refused"]);
        else finished({ outcome: "referred", office: text }, ["已登记转办", "referred"]);
      });
  }

  function transferDialog() {
    const current = queue && queue.serving;
    const services = (hall ? hall.services : []).filter((s) => !current || s.code !== current.service);
    const windows = (hall ? hall.windows : []).filter((w) => w.number !== me.window);
    const toService = el("select", { id: "to-service" }, el("option", { value: "" }, "—"),
      services.map((s) => el("option", { value: s.code }, s.name_zh + " · " + s.name_en)));
    const toWindow = el("select", { id: "to-window" }, el("option", { value: "" }, "—"),
      windows.map((w) => el("option", { value: w.number }, w.name_zh + " · " + w.name_en)));
    open(t("转移 " + (current ? current.number : ""), "Transfer " + (current ? current.number : "")),
      el("div", {},
        el("p", { class: "muted" }, t("转移后号票保留原来的排队位置。二选一：", "The ticket keeps its place in the queue. Choose one:")),
        el("label", { for: "to-service" }, t("转到业务", "To a service")), toService,
        el("label", { for: "to-window" }, t("或转到窗口", "Or to a window")), toWindow),
      () => {
        const body = toService.value ? { to_service: toService.value }
          : toWindow.value ? { to_window: Number(toWindow.value) } : null;
        if (!body) return toast(["请选择要转到的业务或窗口。", "Choose a service or a window."], "error");
        close();
        act("transfer", body, (a) => toast(["已转移 " + a.data.number, a.data.number + " transferred"]));
      });
  }

  function callDialog() {
    const number = el("input", { id: "call-number", placeholder: "B012", autocomplete: "off", required: true });
    const reason = el("input", { id: "call-reason", required: true, maxlength: 200 });
    open(t("选号（不按顺序叫号）", "Call a number out of order"),
      el("div", {},
        el("p", { class: "muted" }, t("不按顺序叫号会记录在审计日志中，必须填写原因。", "An out-of-order call is recorded in the audit log and needs a reason.")),
        el("label", { for: "call-number" }, t("号码", "Number")), number,
        el("label", { for: "call-reason" }, t("原因（必填）", "Reason (required)")), reason),
      () => {
        const text = reason.value.trim();
        if (!text) return toast(["请填写选号的原因。", "Please give a reason."], "error");
        close();
        act("call", { number: number.value.trim().toUpperCase(), reason: text },
          (a) => toast(["已叫号 " + a.data.number, "Called " + a.data.number]));
      });
  }

  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") { close(); return; }
    if (event.ctrlKey || event.altKey || event.metaKey) return;
    if (event.target.closest && event.target.closest("input[type=text], input:not([type]), select, textarea")) return;
    if (dialog) {
      const choice = dialog.querySelector("button[data-key='" + event.key + "']");
      if (choice) { event.preventDefault(); choice.click(); }
      return;
    }
    const button = document.querySelector(".action[data-key='" + event.key + "']");
    if (button && !button.disabled && !$("#counter").hidden) {
      event.preventDefault();
      button.click();
    }
  });

  start();
})();

/* ContactHub web chat widget. One script tag:
 *   <script src="https://HOST/widget.js" data-queue="general"></script>
 * No framework; everything lives in a shadow root; all text is set with
 * textContent. Protocol: contact/chat/protocol.go. */
(function () {
  "use strict";
  var CFG = /*CONFIG*/ {};
  var script = document.currentScript;
  if (!script || window.__contacthubChat) return;
  window.__contacthubChat = true;
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var queue = script.getAttribute("data-queue") || "";
  var KEY = "contacthub.chat.v1";

  var T = {
    en: {
      open: "Chat with us", close: "Close chat", title: "Chat with us",
      intro: "Tell us who you are and an agent will be with you shortly.",
      name: "Name", email: "Email", phone: "Phone", optional: "optional", required: "required",
      start: "Start chat", starting: "Starting…", placeholder: "Type a message…", send: "Send",
      end: "End chat", waiting: "Waiting for an agent…", position: "You are number {n} in the queue",
      eta: "about {m} min", etaSoon: "less than a minute", joined: "{name} joined the chat",
      agent: "Agent", you: "You", typing: "{name} is typing…", connecting: "Reconnecting…",
      endedAgent: "The agent ended the chat.", endedYou: "You ended the chat.",
      rate: "How was your chat?", star: "{n} of 5 stars", comment: "Comment (optional)",
      submit: "Send rating", thanks: "Thank you for your feedback!", transcript: "Email me the transcript",
      transcriptSent: "Transcript sent.", newChat: "Start a new chat", sending: "Sending…", sent: "Sent",
      read: "Read", failed: "Not sent", retry: "Retry",
      err: { rate_limited: "You are sending messages too fast. Please wait a moment.", too_large: "That message is too long.",
        ended: "This chat has ended.", unavailable: "Something went wrong. Please try again.",
        invalid: "That did not work.", bad_form: "Please check the form." }
    },
    zh: {
      open: "在线咨询", close: "关闭聊天", title: "在线咨询",
      intro: "请留下您的信息，客服马上为您服务。",
      name: "姓名", email: "邮箱", phone: "电话", optional: "选填", required: "必填",
      start: "开始咨询", starting: "正在连接…", placeholder: "请输入消息…", send: "发送",
      end: "结束会话", waiting: "正在为您接通客服…", position: "您前面还有 {n} 位",
      eta: "预计等待约 {m} 分钟", etaSoon: "预计不到一分钟", joined: "客服 {name} 已加入会话",
      agent: "客服", you: "我", typing: "{name} 正在输入…", connecting: "正在重新连接…",
      endedAgent: "客服已结束会话。", endedYou: "您已结束会话。",
      rate: "请为本次服务评分", star: "{n} 星（满分 5 星）", comment: "留言（选填）",
      submit: "提交评价", thanks: "感谢您的评价！", transcript: "将聊天记录发送到我的邮箱",
      transcriptSent: "聊天记录已发送。", newChat: "开始新的咨询", sending: "发送中…", sent: "已发送",
      read: "已读", failed: "发送失败", retry: "重试",
      err: { rate_limited: "您发送得太快了，请稍候再试。", too_large: "消息太长了。",
        ended: "会话已结束。", unavailable: "出了点问题，请重试。",
        invalid: "操作无效。", bad_form: "请检查填写的信息。" }
    }
  };
  var langPref = script.getAttribute("data-lang") || document.documentElement.lang || navigator.language || "en";
  var L = /^zh/i.test(langPref) ? T.zh : T.en;
  function fmt(s, v) { return s.replace(/\{(\w+)\}/g, function (_, k) { return v[k] == null ? "" : String(v[k]); }); }

  // ---- storage (may be unavailable: private mode, blocked storage) ----
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { return {}; } }
  function save() { try { localStorage.setItem(KEY, JSON.stringify(store)); } catch (e) {} }
  var store = load();

  // ---- DOM helpers: never innerHTML ----
  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
      else e.setAttribute(k, attrs[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function icon(path) {
    var NS = "http://www.w3.org/2000/svg";
    var s = document.createElementNS(NS, "svg");
    s.setAttribute("viewBox", "0 0 24 24"); s.setAttribute("aria-hidden", "true"); s.setAttribute("focusable", "false");
    var p = document.createElementNS(NS, "path"); p.setAttribute("d", path); s.appendChild(p);
    return s;
  }
  var ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z";
  var ICON_CLOSE = "M6 6l12 12M18 6L6 18";

  var CSS = [
    ":host{all:initial;position:fixed;right:20px;bottom:20px;z-index:2147483000;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#1f2937}",
    "*{box-sizing:border-box;font:inherit}",
    "button{cursor:pointer;border:0;border-radius:8px;padding:8px 14px;background:#2563eb;color:#fff;font-weight:600}",
    "button:hover{background:#1d4ed8}button:disabled{opacity:.6;cursor:default}",
    "button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #93c5fd;outline-offset:2px}",
    ".launcher{width:60px;height:60px;border-radius:50%;padding:0;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(0,0,0,.25);margin-left:auto}",
    ".launcher svg{width:28px;height:28px;fill:#fff}",
    ".panel{position:absolute;right:0;bottom:76px;width:360px;height:520px;max-height:calc(100vh - 110px);background:#fff;border-radius:14px;box-shadow:0 12px 40px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{background:#2563eb;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    "header h2{margin:0;font-size:16px;font-weight:700;flex:1}",
    ".status{font-size:12px;opacity:.9;display:block;font-weight:400}",
    "header button{background:rgba(255,255,255,.18);padding:6px 10px;font-size:12px}",
    "header .x{width:32px;height:32px;padding:0;display:flex;align-items:center;justify-content:center}",
    "header .x svg{width:18px;height:18px;stroke:#fff;stroke-width:2.5;fill:none}",
    ".view{flex:1;display:flex;flex-direction:column;min-height:0}",
    ".view[hidden]{display:none}",
    "form{padding:16px;display:flex;flex-direction:column;gap:10px;overflow:auto}",
    "label{display:flex;flex-direction:column;gap:4px;font-weight:600;font-size:13px}",
    "label small{font-weight:400;color:#6b7280}",
    "input,textarea{border:1px solid #d1d5db;border-radius:8px;padding:8px 10px;font-weight:400;width:100%;color:#111827;background:#fff}",
    ".intro{margin:0;color:#4b5563}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f9fafb}",
    ".msg{max-width:80%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".msg.in{align-self:flex-end;background:#2563eb;color:#fff;border-bottom-right-radius:4px}",
    ".msg.out{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}",
    ".meta{display:block;font-size:11px;opacity:.75;margin-top:2px}",
    ".sys{align-self:center;font-size:12px;color:#6b7280;text-align:center}",
    ".err{color:#b91c1c;font-size:12px;padding:4px 12px;margin:0;background:#f9fafb}.err:empty{display:none}",
    "form .err{background:none;padding:0}",
    ".typing{font-size:12px;color:#6b7280;padding:0 12px;min-height:18px;background:#f9fafb}",
    ".composer{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}",
    ".composer textarea{resize:none;height:42px;flex:1}",
    ".rate{padding:20px;display:flex;flex-direction:column;gap:12px;align-items:stretch;overflow:auto}",
    ".rate h3{margin:0;font-size:16px}",
    ".stars{display:flex;gap:6px}",
    ".star{background:#fff;color:#d1d5db;font-size:28px;line-height:1;padding:4px 6px;border:1px solid #e5e7eb}",
    ".star:hover{background:#f3f4f6}.star.on{color:#f59e0b}",
    ".secondary{background:#e5e7eb;color:#111827}.secondary:hover{background:#d1d5db}",
    "@media (max-width:480px){:host{right:12px;bottom:12px}.panel{position:fixed;inset:0;width:auto;height:auto;max-height:none;border-radius:0}}"
  ].join("\n");

  // ---- build ----
  var host = el("div", { id: "contacthub-chat" });
  var root = host.attachShadow({ mode: "open" });
  root.appendChild(el("style", { text: CSS }));
  var launcher = el("button", { class: "launcher", id: "ch-launcher", type: "button", "aria-label": L.open, "aria-expanded": "false", "aria-controls": "ch-panel" }, [icon(ICON_CHAT)]);
  var statusEl = el("span", { class: "status", id: "ch-status", "aria-live": "polite" });
  var endBtn = el("button", { type: "button", id: "ch-end", hidden: "" , text: L.end });
  var closeBtn = el("button", { type: "button", class: "x", "aria-label": L.close }, [icon(ICON_CLOSE)]);
  var title = el("h2", { id: "ch-title", text: L.title }, [statusEl]);

  function field(id, label, type, req, auto) {
    var input = el("input", { id: id, name: id, type: type, autocomplete: auto });
    if (req) input.required = true;
    return { input: input, label: el("label", { for: id }, [el("span", {}, [document.createTextNode(label + " "), el("small", { text: "(" + (req ? L.required : L.optional) + ")" })]), input]) };
  }
  var fName = field("ch-name", L.name, "text", true, "name");
  var fEmail = field("ch-email", L.email, "email", !!CFG.require_email, "email");
  var fPhone = field("ch-phone", L.phone, "tel", !!CFG.require_phone, "tel");
  var formErr = el("p", { class: "err", role: "alert" });
  var startBtn = el("button", { type: "submit", id: "ch-start", text: L.start });
  var form = el("form", { id: "ch-form", novalidate: "" }, [el("p", { class: "intro", text: L.intro }), fName.label, fEmail.label, fPhone.label, formErr, startBtn]);
  var formView = el("div", { class: "view" }, [form]);

  var log = el("div", { class: "log", id: "ch-log", role: "log", "aria-live": "polite", "aria-label": L.title, tabindex: "0" });
  var typingEl = el("div", { class: "typing", id: "ch-typing", "aria-live": "polite" });
  var chatErr = el("div", { class: "err", role: "alert", id: "ch-error" });
  var input = el("textarea", { id: "ch-input", "aria-label": L.placeholder, placeholder: L.placeholder, maxlength: String(CFG.max_message_bytes || 4096) });
  var sendBtn = el("button", { type: "button", id: "ch-send", text: L.send });
  var chatView = el("div", { class: "view", hidden: "" }, [log, typingEl, chatErr, el("div", { class: "composer" }, [input, sendBtn])]);

  var stars = [];
  var rating = 0;
  var starsBox = el("div", { class: "stars", role: "group", "aria-label": L.rate });
  for (var i = 1; i <= 5; i++) {
    (function (n) {
      var b = el("button", { type: "button", class: "star", "data-v": String(n), "aria-label": fmt(L.star, { n: n }), "aria-pressed": "false", text: "★" });
      b.addEventListener("click", function () { setRating(n); });
      stars.push(b); starsBox.appendChild(b);
    })(i);
  }
  var endedNote = el("p", { class: "sys", id: "ch-ended" });
  var comment = el("textarea", { id: "ch-comment", maxlength: "2000" });
  var rateBtn = el("button", { type: "button", id: "ch-rate-submit", text: L.submit, disabled: "" });
  var rateErr = el("p", { class: "err", role: "alert" });
  var rateView = el("div", { class: "view", hidden: "" }, [el("div", { class: "rate" }, [endedNote, el("h3", { text: L.rate }), starsBox,
    el("label", { for: "ch-comment" }, [document.createTextNode(L.comment), comment]), rateErr, rateBtn])]);

  var transcriptBtn = el("button", { type: "button", class: "secondary", id: "ch-transcript", text: L.transcript, hidden: "" });
  var transcriptNote = el("p", { class: "sys", "aria-live": "polite" });
  var newBtn = el("button", { type: "button", id: "ch-new", text: L.newChat });
  var thanksView = el("div", { class: "view", hidden: "" }, [el("div", { class: "rate", id: "ch-thanks" }, [el("h3", { text: L.thanks }), transcriptBtn, transcriptNote, newBtn])]);

  var panel = el("section", { class: "panel", id: "ch-panel", role: "dialog", "aria-labelledby": "ch-title", hidden: "" }, [
    el("header", {}, [title, endBtn, closeBtn]), formView, chatView, rateView, thanksView]);
  root.appendChild(panel);
  root.appendChild(launcher);
  (document.body || document.documentElement).appendChild(host);

  // ---- state ----
  var ws = null, authed = false, retry = 0, timer = null, lastId = 0, agentName = "", typingTimer = null, lastTypingSent = 0;
  var rendered = {};     // message id -> element
  var outbox = [];       // {client_id, body, el} not yet acknowledged
  var maxAgentId = 0, readSent = 0, canTranscript = false;

  function show(v) {
    [formView, chatView, rateView, thanksView].forEach(function (x) { x.hidden = x !== v; });
    endBtn.hidden = v !== chatView;
  }
  function isOpen() { return !panel.hidden; }
  function open() {
    panel.hidden = false; launcher.setAttribute("aria-expanded", "true");
    var f = !formView.hidden ? fName.input : !chatView.hidden ? input : !rateView.hidden ? stars[0] : newBtn;
    setTimeout(function () { f.focus(); }, 0);
    markRead();
  }
  function close() { panel.hidden = true; launcher.setAttribute("aria-expanded", "false"); launcher.focus(); }
  launcher.addEventListener("click", function () { isOpen() ? close() : open(); });
  closeBtn.addEventListener("click", close);
  root.addEventListener("keydown", function (e) { if (e.key === "Escape" && isOpen()) { e.preventDefault(); close(); } });

  // ---- pre-chat form ----
  fName.input.value = store.name || ""; fEmail.input.value = store.email || ""; fPhone.input.value = store.phone || "";
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    formErr.textContent = "";
    var body = { visitor_id: store.visitor_id || "", name: fName.input.value.trim(), email: fEmail.input.value.trim(),
      phone: fPhone.input.value.trim(), queue: queue, page: location.href.slice(0, 512) };
    if (!body.name || (CFG.require_email && !body.email) || (CFG.require_phone && !body.phone)) { formErr.textContent = L.err.bad_form; return; }
    startBtn.disabled = true; startBtn.textContent = L.starting;
    fetch(origin + "/chat/session", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), credentials: "omit" })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) throw new Error(res.j && res.j.error || L.err.unavailable);
        store = { visitor_id: res.j.visitor_id, token: res.j.token, contact_id: res.j.contact_id, exp: res.j.expires_at,
          name: body.name, email: body.email, phone: body.phone };
        save();
        begin();
      })
      .catch(function (err) { formErr.textContent = err.message || L.err.unavailable; })
      .then(function () { startBtn.disabled = false; startBtn.textContent = L.start; });
  });

  function begin() {
    log.textContent = ""; rendered = {}; lastId = 0; maxAgentId = 0; readSent = 0; outbox = [];
    show(chatView); statusEl.textContent = L.waiting;
    connect();
    setTimeout(function () { if (isOpen()) input.focus(); }, 0);
  }

  // ---- socket ----
  function connect() {
    clearTimeout(timer);
    if (!store.token) return;
    var u = new URL("/ws/chat", origin);
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    authed = false;
    // The token goes in the first frame, not the URL, so it stays out of access logs.
    try { ws = new WebSocket(u.href); } catch (e) { return reconnect(); }
    ws.onopen = function () { ws.send(JSON.stringify({ type: "auth", data: { token: store.token, after: lastId } })); };
    ws.onmessage = function (ev) { var f; try { f = JSON.parse(ev.data); } catch (e) { return; } onFrame(f.type, f.data || {}); };
    ws.onclose = function (ev) {
      ws = null;
      if (ev.code === 4401 || (store.exp && Date.parse(store.exp) < Date.now())) { forget(); return; }
      if (store.token) reconnect();
    };
  }
  function reconnect() {
    if (authed || retry > 0) statusEl.textContent = L.connecting;
    authed = false;
    retry++;
    // An unusable token (server restarted with a new secret) fails before welcome: give up after a few tries.
    if (retry > 6 && !lastId) { forget(); return; }
    var d = Math.min(15000, 500 * Math.pow(2, Math.min(retry, 5))) * (0.7 + Math.random() * 0.6);
    timer = setTimeout(connect, d);
  }
  function send(type, data) {
    if (ws && ws.readyState === 1 && authed) { ws.send(JSON.stringify({ type: type, data: data || {} })); return true; }
    return false;
  }
  function forget() {
    delete store.token; delete store.contact_id; delete store.exp; save();
    if (ws) { try { ws.close(); } catch (e) {} }
    show(formView); statusEl.textContent = "";
  }

  function onFrame(type, d) {
    switch (type) {
      case "welcome":
        authed = true; retry = 0; chatErr.textContent = ""; canTranscript = !!d.transcript;
        agentName = d.agent || "";
        if (d.state === "ended") { ended(null, d.rated); }
        else { show(chatView); statusEl.textContent = d.state === "active" ? (agentName || L.agent) : L.waiting; }
        // Resend what was typed while offline: the client_id makes it idempotent.
        outbox.forEach(function (m) { send("message", { client_id: m.client_id, body: m.body }); });
        break;
      case "message": addMessage(d); break;
      case "ack": {
        var m = null;
        outbox = outbox.filter(function (x) { if (x.client_id === d.client_id) { m = x; return false; } return true; });
        if (m) { placed(m.el, d.id); meta(m.el, L.sent); }
        break;
      }
      case "agent_joined":
        agentName = d.name || L.agent;
        statusEl.textContent = agentName;
        sys(fmt(L.joined, { name: agentName }));
        break;
      case "typing":
        typingEl.textContent = fmt(L.typing, { name: agentName || L.agent });
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingEl.textContent = ""; }, 4000);
        break;
      case "receipt":
        Object.keys(rendered).forEach(function (id) {
          var e = rendered[id];
          if (+id <= d.message_id && e.classList.contains("in")) meta(e, L.read);
        });
        break;
      case "queue": {
        var s = fmt(L.position, { n: d.position });
        s += " · " + (d.eta_seconds < 60 ? L.etaSoon : fmt(L.eta, { m: Math.round(d.eta_seconds / 60) }));
        if (!agentName) statusEl.textContent = s;
        break;
      }
      case "ended": ended(d.by, false); break;
      case "feedback_ok": thanks(); break;
      case "transcript_sent": transcriptNote.textContent = L.transcriptSent; break;
      case "error": {
        var text = L.err[d.code] || d.message || L.err.unavailable;
        if (d.client_id) {
          var f = null;
          outbox = outbox.filter(function (x) { if (x.client_id === d.client_id) { f = x; return false; } return true; });
          if (f) { meta(f.el, L.failed); f.el.setAttribute("data-failed", d.code); }
        }
        (rateView.hidden ? chatErr : rateErr).textContent = text;
        if (d.code === "ended") ended(null, false);
        break;
      }
    }
  }

  function meta(e, s) {
    var m = e.querySelector(".meta");
    if (!m) { m = el("span", { class: "meta" }); e.appendChild(m); }
    m.textContent = s;
  }
  // placed files a bubble under its stored id, keeping the log in id order.
  function placed(e, id) {
    e.setAttribute("data-id", String(id));
    rendered[id] = e;
    lastId = Math.max(lastId, id);
  }
  function insertSorted(e, id) {
    var kids = log.querySelectorAll(".msg[data-id]");
    for (var i = 0; i < kids.length; i++) {
      if (+kids[i].getAttribute("data-id") > id) { log.insertBefore(e, kids[i]); return; }
    }
    log.appendChild(e);
  }
  function addMessage(d) {
    if (rendered[d.id]) return;
    var mine = d.direction === "inbound";
    var e = el("div", { class: "msg " + (mine ? "in" : "out"), "data-dir": mine ? "in" : "out" });
    e.appendChild(document.createTextNode(d.body)); // text, never HTML
    insertSorted(e, d.id);
    placed(e, d.id);
    if (!mine) {
      if (d.agent) agentName = d.agent;
      typingEl.textContent = "";
      maxAgentId = Math.max(maxAgentId, d.id);
      markRead();
    }
    log.scrollTop = log.scrollHeight;
  }
  function sys(s) { log.appendChild(el("div", { class: "sys", text: s })); log.scrollTop = log.scrollHeight; }
  function markRead() {
    if (maxAgentId <= readSent) return;
    var seen = isOpen() && !chatView.hidden && document.visibilityState === "visible";
    if (send(seen ? "read" : "delivered", { message_id: maxAgentId }) && seen) readSent = maxAgentId;
  }
  document.addEventListener("visibilitychange", markRead);

  // ---- composer ----
  function sendMessage() {
    var body = input.value.trim();
    if (!body) return;
    chatErr.textContent = "";
    var cid = "c" + Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
    var e = el("div", { class: "msg in", "data-dir": "in", "data-client-id": cid });
    e.appendChild(document.createTextNode(body));
    log.appendChild(e); meta(e, L.sending);
    log.scrollTop = log.scrollHeight;
    outbox.push({ client_id: cid, body: body, el: e });
    input.value = "";
    setTimeout(function () { if (!input.value.trim()) input.value = ""; }, 0);
    send("message", { client_id: cid, body: body });
  }
  sendBtn.addEventListener("click", sendMessage);
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
  });
  input.addEventListener("input", function () {
    if (Date.now() - lastTypingSent > 1500 && send("typing", {})) lastTypingSent = Date.now();
  });
  endBtn.addEventListener("click", function () { send("end", {}); });

  // ---- end, rating, transcript ----
  function ended(by, rated) {
    statusEl.textContent = "";
    typingEl.textContent = "";
    if (by) sys(by === "agent" ? L.endedAgent : L.endedYou);
    endedNote.textContent = by === "customer" ? L.endedYou : L.endedAgent;
    if (rated) { thanks(); return; }
    show(rateView);
    if (isOpen()) setTimeout(function () { stars[0].focus(); }, 0);
  }
  function setRating(n) {
    rating = n;
    stars.forEach(function (b, i) { b.classList.toggle("on", i < n); b.setAttribute("aria-pressed", i < n ? "true" : "false"); });
    rateBtn.disabled = false;
  }
  rateBtn.addEventListener("click", function () {
    if (!rating) return;
    rateErr.textContent = "";
    if (!send("feedback", { csat: rating, comment: comment.value.trim() })) rateErr.textContent = L.err.unavailable;
  });
  function thanks() {
    show(thanksView);
    transcriptBtn.hidden = !canTranscript;
  }
  transcriptBtn.addEventListener("click", function () { send("transcript", {}); transcriptBtn.disabled = true; });
  newBtn.addEventListener("click", function () {
    var keep = { visitor_id: store.visitor_id, name: store.name, email: store.email, phone: store.phone };
    if (ws) { var w = ws; ws = null; w.onclose = null; w.close(); }
    store = keep; save();
    rating = 0; comment.value = ""; setRating(0); rateBtn.disabled = true;
    show(formView); fName.input.focus();
  });

  // ---- start ----
  if (store.token && !(store.exp && Date.parse(store.exp) < Date.now())) { show(chatView); statusEl.textContent = L.connecting; connect(); }
  else show(formView);
})();

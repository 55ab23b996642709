/* Deflect widget: help-article suggestions for a search box and an inquiry form. Plain ES2017, no build step.
 * <script src="https://deflect.example/widget.js" data-key="pk_..." data-locale="ja" defer></script>
 * Deflect.attachSearch(input, options), Deflect.attachForm(form, {subject, body, handoff}) (CSS selectors),
 * or markup: <input data-deflect-search>, <form data-deflect-form data-deflect-subject=... data-deflect-body=...
 * data-deflect-handoff=...>. */
(() => {
  "use strict";
  if (window.Deflect) return;

  const script = document.currentScript;
  const data = (script && script.dataset) || {};
  const scriptUrl = script && script.src ? new URL(script.src, location.href) : null;
  const TEXT = {
    ja: {
      search: "ヘルプセンターを検索",
      results: (n) => `${n}件の記事が見つかりました。上下キーで選び、Enterで開きます。`,
      none: "該当する記事が見つかりませんでした。",
      list: "おすすめの記事",
      fallback: "他言語の記事",
      heading: "お問い合わせの前に、こちらの記事で解決するかもしれません",
      solved: "この記事で解決しました",
      thanks: "解決してよかったです。お問い合わせの送信は不要です。",
    },
    en: {
      search: "Search the help center",
      results: (n) => `${n} articles found. Use the up and down keys to choose, Enter to open.`,
      none: "No matching articles.",
      list: "Suggested articles",
      fallback: "Other language",
      heading: "Before you send this, one of these articles may answer your question",
      solved: "This solved my problem",
      thanks: "Glad that helped. You do not need to send this inquiry.",
    },
  };
  let uid = 0;

  function settings(options) {
    const o = options || {};
    // A locale given by the page's author is one of the help center's own (ko, pt-br, ...), sent as given. The
    // page's language only chooses between ja and en: the API refuses a locale the help center does not have.
    const given = (o.locale || data.locale || "").toLowerCase();
    const locale = given || ((document.documentElement.lang || "").toLowerCase().startsWith("ja") ? "ja" : "en");
    const endpoint = o.endpoint || data.endpoint || (scriptUrl ? scriptUrl.origin : location.origin);
    const t = TEXT[locale.split("-")[0]] || TEXT.en;
    return { endpoint: endpoint.replace(/\/+$/, ""), key: o.key || data.key || "", locale, t };
  }

  function clientId() {
    const id = () =>
      crypto.randomUUID
        ? crypto.randomUUID()
        : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    try {
      let value = localStorage.getItem("deflect_client_id");
      if (!value) localStorage.setItem("deflect_client_id", (value = id()));
      return value;
    } catch (e) {
      // Storage disabled: a per-page id still ties a page's events together.
      return (clientId.memo = clientId.memo || id());
    }
  }

  async function call(cfg, method, path, body, extra) {
    const headers = { Accept: "application/json" };
    if (cfg.key) headers.Authorization = "Bearer " + cfg.key;
    if (body) headers["Content-Type"] = "application/json";
    const init = Object.assign({ method, headers, credentials: "omit" }, extra);
    if (body) init.body = JSON.stringify(body);
    const response = await fetch(cfg.endpoint + path, init);
    if (!response.ok) throw new Error(`Deflect: ${method} ${path} answered ${response.status}`);
    return response.json();
  }

  // keepalive: an event sent as the page navigates away (a clicked link, a submitted form) still arrives.
  function track(cfg, set, action, result, position) {
    const event = { query_id: set.query_id, client_id: clientId(), action };
    if (result) Object.assign(event, { article_id: result.article_id, position });
    event.idempotency_key = `${set.query_id}:${action}:${result ? result.article_id : ""}`;
    return call(cfg, "POST", "/v1/events", event, { keepalive: true });
  }

  const quietly = (promise) => promise.catch(() => undefined);
  const within = (promise, ms) => Promise.race([quietly(promise), new Promise((done) => setTimeout(done, ms))]);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(url, location.href);
      return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch (e) {
      return null;
    }
  }

  // Title (text), fallback badge, and the server's escaped snippet: the only HTML the widget inserts.
  function fillResult(node, result, t, titleNode) {
    const title = titleNode || el("span", "deflect-title");
    title.textContent = result.title;
    node.appendChild(title);
    if (result.fallback) node.appendChild(el("span", "deflect-badge", t.fallback));
    const snippet = el("span", "deflect-snippet");
    snippet.innerHTML = result.snippet_html;
    node.appendChild(snippet);
  }

  function injectCss() {
    if (document.querySelector("link[data-deflect-css]")) return;
    const link = el("link");
    link.rel = "stylesheet";
    link.href = scriptUrl ? new URL("widget.css", scriptUrl).href : settings().endpoint + "/widget.css";
    link.setAttribute("data-deflect-css", "");
    document.head.appendChild(link);
  }

  // Listens for typing on the fields, never during an IME composition; calls run() once the typing settles.
  function whenSettled(fields, delay, run) {
    let composing = false;
    let timer = 0;
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(run, delay);
    };
    for (const field of fields) {
      field.addEventListener("compositionstart", () => {
        composing = true;
        clearTimeout(timer);
      });
      field.addEventListener("compositionend", () => {
        composing = false;
        schedule();
      });
      field.addEventListener("input", (event) => {
        if (!composing && !event.isComposing) schedule();
      });
    }
    return { composing: () => composing, flush: () => (clearTimeout(timer), run()) };
  }

  function attachSearch(input, options) {
    if (!input || input.deflect) return input && input.deflect;
    const cfg = settings(options);
    const opts = options || {};
    injectCss();
    const listId = `deflect-list-${++uid}`;
    const list = el("ul", "deflect-listbox");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", cfg.t.list);
    list.hidden = true;
    const status = el("div", "deflect-sr-only");
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", listId);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");
    if (!(input.labels && input.labels.length) && !input.getAttribute("aria-label")) input.setAttribute("aria-label", cfg.t.search);

    let set = null;
    let active = -1;
    let asked = "";
    let controller = null;

    const close = () => {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    };
    const move = (index) => {
      const options = list.children;
      if (!options.length) return;
      active = (index + options.length) % options.length;
      Array.from(options).forEach((option, i) => option.setAttribute("aria-selected", String(i === active)));
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    };
    const open = (index) => {
      const result = set && set.results[index];
      if (!result) return;
      quietly(track(cfg, set, "click", result, index + 1));
      close();
      if (opts.onOpen) opts.onOpen(result);
      else if (safeUrl(result.url)) location.assign(safeUrl(result.url));
    };
    const show = (answer) => {
      set = answer;
      list.textContent = "";
      answer.results.forEach((result, i) => {
        const option = el("li", "deflect-option");
        option.id = `${listId}-${i}`;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        fillResult(option, result, cfg.t);
        option.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus in the input
        option.addEventListener("click", () => open(i));
        list.appendChild(option);
      });
      if (!answer.results.length) {
        close();
        status.textContent = cfg.t.none;
        return;
      }
      list.style.left = input.offsetLeft + "px";
      list.style.top = input.offsetTop + input.offsetHeight + "px";
      list.style.minWidth = input.offsetWidth + "px";
      list.hidden = false;
      active = -1;
      input.setAttribute("aria-expanded", "true");
      input.removeAttribute("aria-activedescendant");
      status.textContent = cfg.t.results(answer.results.length);
      quietly(track(cfg, answer, "impression"));
    };
    const typing = whenSettled([input], opts.delay || 250, async () => {
      const text = input.value.trim();
      if (text === asked) return;
      asked = text;
      if (controller) controller.abort();
      if (text.length < 2) return close();
      controller = new AbortController();
      const query = new URLSearchParams({ q: text, locale: cfg.locale, channel: "search", client_id: clientId() });
      if (opts.limit) query.set("limit", String(opts.limit));
      try {
        show(await call(cfg, "GET", "/v1/suggest?" + query, null, { signal: controller.signal }));
      } catch (e) {
        if (e.name !== "AbortError") close();
      }
    });
    input.addEventListener("keydown", (event) => {
      // Keys that confirm or move inside an IME conversion belong to the IME.
      if (event.isComposing || typing.composing() || event.keyCode === 229) return;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!set || !set.results.length) return;
        event.preventDefault();
        if (list.hidden) {
          list.hidden = false;
          input.setAttribute("aria-expanded", "true");
        }
        move(active + (event.key === "ArrowDown" ? 1 : active < 0 ? 0 : -1));
      } else if (event.key === "Enter" && !list.hidden && active >= 0) {
        event.preventDefault();
        open(active);
      } else if (event.key === "Escape" && !list.hidden) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
    input.deflect = { close, refresh: typing.flush };
    return input.deflect;
  }

  function attachForm(form, options) {
    if (!form || form.deflect) return form && form.deflect;
    const opts = options || {};
    const cfg = settings(opts);
    const find = (selector) => (selector ? form.querySelector(selector) || document.querySelector(selector) : null);
    const subject = find(opts.subject);
    const body = find(opts.body);
    const handoff = find(opts.handoff);
    const fields = [subject, body].filter(Boolean);
    if (!fields.length) throw new Error("Deflect.attachForm: neither the subject nor the body field was found");
    injectCss();
    const region = el("div", "deflect-form-suggestions");
    region.setAttribute("aria-live", "polite");
    const submit = form.querySelector("[type=submit], button:not([type])");
    if (submit) submit.insertAdjacentElement("beforebegin", region);
    else form.appendChild(region);

    let set = null;
    let asked = "";
    let pending = null;
    const question = () => fields.map((field) => field.value).join("\n").trim();

    const show = (answer) => {
      set = answer;
      region.textContent = "";
      if (!answer.results.length) return;
      region.appendChild(el("p", "deflect-heading", cfg.t.heading));
      const list = el("ul", "deflect-form-list");
      answer.results.forEach((result, i) => {
        const item = el("li", "deflect-form-item");
        const link = el("a", "deflect-title");
        link.href = safeUrl(result.url) || "#";
        link.target = "_blank"; // a new tab keeps what the customer has typed
        link.rel = "noopener";
        link.addEventListener("click", () => quietly(track(cfg, answer, "click", result, i + 1)));
        fillResult(item, result, cfg.t, link);
        const solved = el("button", "deflect-solved", cfg.t.solved);
        solved.type = "button";
        solved.addEventListener("click", () => {
          quietly(track(cfg, answer, "solved", result, i + 1));
          region.textContent = "";
          region.appendChild(el("p", "deflect-thanks", cfg.t.thanks));
        });
        item.appendChild(solved);
        list.appendChild(item);
      });
      region.appendChild(list);
      quietly(track(cfg, answer, "impression"));
    };
    const ask = (text) =>
      call(cfg, "POST", "/v1/suggest", {
        text,
        locale: cfg.locale,
        channel: "form",
        client_id: clientId(),
        limit: opts.limit || 3,
        confident_only: true,
      }).then((answer) => {
        if (text === asked) show(answer);
        return answer;
      });
    const typing = whenSettled(fields, opts.delay || 600, () => {
      const text = question();
      if (text === asked || text.length < 2) return;
      asked = text;
      pending = quietly(ask(text));
    });

    // The suggestion set for what is typed now: the last one, or a new one when the text has moved on.
    const current = async () => {
      typing.flush();
      const answer = await pending;
      return answer && asked === question() ? answer : set;
    };
    let intercepted = false;
    form.addEventListener("submit", (event) => {
      if (intercepted || event.defaultPrevented) return;
      intercepted = true;
      event.preventDefault();
      (async () => {
        const answer = await within(current(), 1500);
        if (answer) {
          const receipt = await within(track(cfg, answer, "ticket_submitted"), 1500);
          if (receipt && receipt.handoff && handoff) handoff.value = receipt.handoff.text;
        }
      })()
        .catch(() => undefined)
        .then(() => HTMLFormElement.prototype.submit.call(form));
    });
    form.deflect = { refresh: typing.flush };
    return form.deflect;
  }

  function autoAttach() {
    document.querySelectorAll("[data-deflect-search]").forEach((input) => attachSearch(input));
    document.querySelectorAll("form[data-deflect-form]").forEach((form) => {
      const { deflectSubject: subject, deflectBody: body, deflectHandoff: handoff } = form.dataset;
      try {
        attachForm(form, { subject, body, handoff });
      } catch (e) {
        console.warn(e.message);
      }
    });
  }

  window.Deflect = { attachSearch, attachForm };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", autoAttach);
  else autoAttach();
})();

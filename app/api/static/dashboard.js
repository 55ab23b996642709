/* Deflect dashboard: the deflection and gap reports for the content team, read with a secret key (or none,
 * on a service that runs open). Everything from the API is written with textContent; nothing from it is parsed
 * as HTML. */
(() => {
  "use strict";
  const STORE = "deflect_secret_key";
  // Set by the server: no keys are configured, so the reports answer without one.
  const OPEN = document.body.dataset.access === "open";
  const $ = (id) => document.getElementById(id);
  const charts = {};
  const tables = {};
  const COLORS = {
    explicit: "#1a7f37",
    implicit: "#6fdd8b",
    not: "#cf222e",
    pending: "#afb8c1",
    ctr: "#0969da",
    fails: "#bf8700",
  };

  class KeyRefused extends Error {}

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }
  const pct = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`);
  const day = (date) => date.toISOString().slice(0, 10);
  const key = () => sessionStorage.getItem(STORE) || "";
  const period = () => ({ from: $("from").value, to: $("to").value });
  // Deflection over time for one channel, or all: the channel chart always compares them side by side.
  const channelFilter = () => ($("channel").value ? { channel: $("channel").value } : {});

  function say(message, isError) {
    $("status").textContent = message;
    $("status").classList.toggle("dash-error", Boolean(isError));
  }

  async function request(path, params) {
    const response = await fetch(`${path}?${new URLSearchParams(params)}`, {
      headers: key() ? { Authorization: `Bearer ${key()}` } : {},
      credentials: "omit",
    });
    if (response.status === 401 || response.status === 403) throw new KeyRefused("The key was refused.");
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      throw new Error(body.message || `The server answered ${response.status}.`);
    }
    return response;
  }
  const json = async (path, params) => (await request(path, params)).json();

  function save(blob, name) {
    const link = el("a");
    link.href = URL.createObjectURL(blob);
    link.download = name;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 1000);
  }

  // Spreadsheet-safe CSV, as the server writes it: a cell a spreadsheet would run as a formula is quoted.
  function csv(rows) {
    const cell = (value) => {
      let text = value === null || value === undefined ? "" : String(value);
      if (/^[=+\-@\t\r]/.test(text)) text = "'" + text;
      return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    };
    return rows.map((row) => row.map(cell).join(",")).join("\r\n") + "\r\n";
  }

  const DOWNLOADS = {
    days: () => ["/v1/reports/deflection", Object.assign({ group_by: "day" }, channelFilter()), "deflection-by-day"],
    channels: () => ["/v1/reports/deflection", { group_by: "channel" }, "deflection-by-channel"],
    gaps: () => ["/v1/reports/gaps", {}, "gap-topics"],
    questions: () => ["/v1/reports/questions", {}, "unanswered-questions"],
    failing: () => [
      null,
      [
        ["article_id", "title", "shown", "ctr", "deflection_rate", "not_helpful"],
        ...(tables.failing || []).map((a) => [a.article_id, a.title, a.shown, a.ctr, a.deflection_rate, a.not_helpful]),
      ],
      "articles-shown-but-failing",
    ],
    never: () => [
      null,
      [
        ["article_id", "title", "locale", "category", "url"],
        ...(tables.never || []).map((a) => [a.article_id, a.title, a.locale, a.category, a.url]),
      ],
      "articles-never-shown",
    ],
  };

  async function download(which) {
    const [path, what, name] = DOWNLOADS[which]();
    const { from, to } = period();
    const filename = `${name}_${from}_${to}.csv`;
    try {
      if (path === null) save(new Blob([csv(what)], { type: "text/csv;charset=utf-8" }), filename);
      else save(await (await request(path, Object.assign({ from, to, format: "csv" }, what))).blob(), filename);
    } catch (error) {
      say(error.message, true);
    }
  }

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    if (!window.Chart) return say("The chart library did not load; figures are shown without charts.", true);
    // No animation: the charts are read, not watched, and a screenshot shows them whole.
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options);
    charts[id] = new window.Chart($(id), config);
  }
  const percentAxis = { beginAtZero: true, suggestedMax: 1, ticks: { callback: (v) => `${Math.round(v * 100)}%` } };

  function drawDays(groups) {
    const byDay = new Map(groups.map((g) => [g.key, g]));
    const days = [];
    const end = new Date(`${period().to}T00:00:00Z`);
    for (let d = new Date(`${period().from}T00:00:00Z`); d <= end; d.setUTCDate(d.getUTCDate() + 1)) days.push(day(d));
    const series = (field) => days.map((d) => (byDay.get(d) || {})[field] || 0);
    // order 1: the bars are drawn beneath the rate line.
    const bar = (label, field, color) => ({ label, data: series(field), backgroundColor: color, stack: "sets", order: 1 });
    draw("chart-days", {
      type: "bar",
      data: {
        labels: days.map((d) => d.slice(5)),
        datasets: [
          bar("Explicitly deflected", "explicit_deflected", COLORS.explicit),
          bar("Implicitly deflected", "implicit_deflected", COLORS.implicit),
          bar("Not deflected", "not_deflected", COLORS.not),
          bar("Pending", "pending", COLORS.pending),
          {
            type: "line",
            label: "Deflection rate",
            data: days.map((d) => (byDay.has(d) ? byDay.get(d).deflection_rate : null)),
            borderColor: COLORS.ctr,
            backgroundColor: COLORS.ctr,
            yAxisID: "rate",
            spanGaps: true,
          },
        ],
      },
      options: {
        scales: {
          x: { stacked: true },
          y: { stacked: true, beginAtZero: true, title: { display: true, text: "suggestion sets" } },
          rate: Object.assign({ position: "right", grid: { drawOnChartArea: false } }, percentAxis),
        },
      },
    });
  }

  function drawChannels(groups) {
    const bar = (label, field, color) => ({ label, data: groups.map((g) => g[field]), backgroundColor: color });
    draw("chart-channels", {
      type: "bar",
      data: {
        labels: groups.map((g) => `${g.key} (${g.suggestion_sets})`),
        datasets: [
          bar("Explicit deflection", "explicit_deflection_rate", COLORS.explicit),
          bar("Implicit deflection", "implicit_deflection_rate", COLORS.implicit),
          bar("Net deflection", "net_deflection_rate", "#116329"),
          bar("CTR", "ctr", COLORS.ctr),
        ],
      },
      options: { scales: { y: percentAxis } },
    });
  }

  // A topic as the team reads it first: a customer's own question (long ones cut for a chart), else its key terms.
  function topicName(topic, chars = 60) {
    const name = topic.representative_question || topic.label;
    return name.length > chars ? `${name.slice(0, chars - 1)}…` : name;
  }

  // The topics the table ranks, as the content team reads them first: what to write or fix, and how it moves.
  function drawTopics(topics) {
    const top = topics.slice(0, 10);
    $("topics-box").hidden = !top.length;
    if (!top.length) return;
    $("topics-box").style.height = `${5 + 2.5 * top.length}rem`; // a bar's height whatever the number of topics
    const verdictColor = (t) => (t.verdict === "missing_article" ? COLORS.not : COLORS.fails);
    draw("chart-topics", {
      type: "bar",
      data: {
        labels: top.map((t, i) => `${i + 1}. ${topicName(t)}`),
        datasets: [
          { label: "This period", data: top.map((t) => t.volume), backgroundColor: top.map(verdictColor) },
          { label: "Period before", data: top.map((t) => (t.trend || {}).previous_volume || 0), backgroundColor: COLORS.pending },
        ],
      },
      options: {
        indexAxis: "y",
        scales: { x: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "failing inquiries" } } },
        plugins: {
          legend: { labels: { generateLabels: topicLegend } },
          tooltip: { callbacks: { afterLabel: (item) => (item.datasetIndex ? "" : verdictName(top[item.dataIndex])) } },
        },
      },
    });
  }
  const verdictName = (t) => (t.verdict === "missing_article" ? "Missing article" : "Article fails");
  const topicLegend = () => [
    { text: "Missing article (this period)", fillStyle: COLORS.not, strokeStyle: COLORS.not, lineWidth: 0 },
    { text: "Article fails (this period)", fillStyle: COLORS.fails, strokeStyle: COLORS.fails, lineWidth: 0 },
    { text: "Period before", fillStyle: COLORS.pending, strokeStyle: COLORS.pending, lineWidth: 0 },
  ];

  function showTotals(totals) {
    document.querySelectorAll("[data-kpi]").forEach((node) => {
      node.textContent = pct(totals[node.dataset.kpi]);
    });
    const notes = {
      explicit: `${totals.explicit_deflected} of ${totals.shown} shown`,
      implicit: `${totals.implicit_deflected} of ${totals.shown} shown, ${totals.pending} pending`,
      net: `${totals.net_deflected} not back within the re-contact window`,
      ctr: `${totals.clicked} clicked of ${totals.shown} shown`,
      no_result: `${totals.no_result} of ${totals.suggestion_sets} suggestion sets`,
      low_confidence: `${totals.low_confidence} of ${totals.suggestion_sets} suggestion sets`,
    };
    document.querySelectorAll("[data-note]").forEach((node) => {
      node.textContent = notes[node.dataset.note];
    });
  }

  function row(cells) {
    const tr = el("tr");
    for (const cell of cells) {
      const td = el("td");
      td.append(cell instanceof Node ? cell : document.createTextNode(cell === null ? "–" : String(cell)));
      tr.appendChild(td);
    }
    return tr;
  }

  function emptyRow(tbody, columns, text) {
    const td = el("td", text, "empty");
    td.colSpan = columns;
    tbody.appendChild(el("tr")).appendChild(td);
  }

  function trend(t) {
    if (!t || !t.previous_volume) return el("span", "new", "trend trend-new");
    const up = t.change > 0;
    return el("span", `${up ? "▲" : t.change < 0 ? "▼" : "■"} ${pct(t.change)} (was ${t.previous_volume})`, up ? "trend trend-up" : "trend");
  }

  const SIGNAL_NAMES = {
    no_result: "no result",
    low_confidence: "low confidence",
    ticket_after_suggestions: "ticket after suggestions",
    not_helpful: "not helpful",
    imported_ticket: "imported ticket",
  };

  function showGaps(report) {
    const tbody = $("gaps-table").tBodies[0];
    tbody.textContent = "";
    $("gaps-summary").textContent =
      `${report.failing_inquiries} failing inquiries; ${report.clustered} of them fall into the topics below.`;
    report.topics.forEach((topic, i) => {
      const label = el("div");
      // What a customer asked first, in the team's language; the key terms under it.
      label.append(el("strong", topicName(topic, Infinity)));
      if (topic.representative_question) label.append(el("div", `Key terms: ${topic.label}`, "muted"));
      const failed = Object.entries(topic.signals || {}).map(([signal, n]) => `${n} ${SIGNAL_NAMES[signal] || signal}`).join(", ");
      if (failed) label.append(el("div", `How they failed: ${failed}`, "muted"));
      const locales = Object.entries(topic.locales || {}).map(([loc, n]) => `${loc} ${n}`).join(", ");
      if (locales) label.append(el("div", locales, "muted"));
      const tickets = (topic.signals || {}).imported_ticket || 0;
      if (tickets) label.append(el("div", `${tickets} imported helpdesk ${tickets === 1 ? "ticket" : "tickets"}`, "muted"));
      if (topic.new_inquiries) label.append(el("div", `+${topic.new_inquiries} new since this report`, "new-inquiries"));
      const missing = topic.verdict === "missing_article";
      const verdict = el("span", missing ? "Missing article" : "Article fails", `badge ${missing ? "badge-missing" : "badge-fails"}`);
      const closest = topic.closest_article || {};
      const near = closest.article_id ? `${closest.article_id} (${Number(closest.similarity).toFixed(2)})` : "–";
      const examples = el("ul", undefined, "examples");
      (topic.examples || []).slice(0, 5).forEach((text) => examples.appendChild(el("li", text)));
      const tr = row([String(i + 1), label, verdict, String(topic.volume), pct(topic.failure_rate), trend(topic.trend), near, examples]);
      tr.className = "gap-topic";
      tbody.appendChild(tr);
    });
    if (!report.topics.length) emptyRow(tbody, 8, "No topics of failing questions in this period.");
    drawTopics(report.topics);

    tables.failing = report.articles_shown_but_failing || [];
    const failing = $("failing-table").tBodies[0];
    failing.textContent = "";
    for (const a of tables.failing) {
      const name = el("div");
      name.append(el("div", a.title || a.article_id), el("code", a.article_id, "muted"));
      failing.appendChild(row([name, String(a.shown), pct(a.ctr), pct(a.deflection_rate), String(a.not_helpful)]));
    }
    if (!tables.failing.length) emptyRow(failing, 5, "No article is shown often and failing.");

    tables.never = report.articles_never_shown_detail || [];
    const never = $("never-list");
    never.textContent = "";
    tables.never.forEach((a) => {
      const item = never.appendChild(el("li", undefined));
      item.append(el("span", a.title || a.article_id), " ", el("code", a.article_id, "muted"));
    });
    if (!tables.never.length) never.appendChild(el("li", "Every public article was shown at least once.", "empty"));
  }

  function showQuestions(report) {
    const tbody = $("questions-table").tBodies[0];
    tbody.textContent = "";
    for (const q of report.questions) {
      const label = q.label === "no_answer" ? "No answer" : "Low confidence";
      const tr = row([q.text, el("span", label, `badge ${q.label === "no_answer" ? "badge-missing" : "badge-fails"}`),
        String(q.asked), q.last_seen.replace("T", " ").slice(0, 16)]);
      tr.className = "unanswered-question";
      tbody.appendChild(tr);
    }
    if (!report.questions.length) emptyRow(tbody, 4, "Every question in this period got a confident answer.");
  }

  async function load() {
    if (!key() && !OPEN) return;
    const { from, to } = period();
    say("Loading…");
    try {
      const [days, channels, gaps, questions] = await Promise.all([
        json("/v1/reports/deflection", Object.assign({ from, to, group_by: "day" }, channelFilter())),
        json("/v1/reports/deflection", { from, to, group_by: "channel" }),
        json("/v1/reports/gaps", { from, to }),
        json("/v1/reports/questions", { from, to }),
      ]);
      $("report").hidden = false;
      showTotals(days.totals);
      drawDays(days.groups);
      drawChannels(channels.groups);
      showGaps(gaps);
      showQuestions(questions);
      say(`${from} to ${to}: ${days.totals.suggestion_sets} suggestion sets.`);
    } catch (error) {
      if (error instanceof KeyRefused) {
        sessionStorage.removeItem(STORE);
        showKeyState();
        $("report").hidden = true;
      }
      say(error.message, true);
    }
  }

  function showKeyState() {
    $("forget-key").hidden = !key();
    $("key").placeholder = key() ? "key saved for this tab" : "sk_…";
  }

  function start() {
    const today = new Date();
    $("to").value = day(today);
    $("from").value = day(new Date(today.getTime() - 29 * 86400000));
    $("key-form").addEventListener("submit", (event) => {
      event.preventDefault();
      sessionStorage.setItem(STORE, $("key").value.trim());
      $("key").value = "";
      showKeyState();
      load();
    });
    $("forget-key").addEventListener("click", () => {
      sessionStorage.removeItem(STORE);
      showKeyState();
      $("report").hidden = true;
      say("The key is forgotten.");
    });
    $("range-form").addEventListener("submit", (event) => {
      event.preventDefault();
      if ($("from").value > $("to").value) return say("'From' must not be after 'To'.", true);
      load();
    });
    document.querySelectorAll("[data-csv]").forEach((button) => {
      button.addEventListener("click", () => download(button.dataset.csv));
    });
    showKeyState();
    if (key() || OPEN) load();
    else say("Enter a secret key to see the reports.");
  }

  start();
})();

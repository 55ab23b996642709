/* Demo pages only: ?key=pk_... is handed to the widget (a real site writes data-key into its script tag). */
(() => {
  "use strict";
  const key = new URLSearchParams(location.search).get("key");
  const widget = document.querySelector("script[data-deflect-widget]");
  if (!key || !widget) return;
  widget.dataset.key = key;
  // Keep the key on the links between the demo pages.
  document.querySelectorAll("a[data-demo-link]").forEach((link) => {
    const url = new URL(link.href);
    url.searchParams.set("key", key);
    link.href = url.href;
  });
})();
